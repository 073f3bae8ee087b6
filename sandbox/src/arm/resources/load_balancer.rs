//! Microsoft.Network/loadBalancers and networkSecurityGroups as AKS's cloud provider keeps them
//! in the node resource group (`kubernetes`, `kubernetes-internal`, `aks-agentpool-<n>-nsg`):
//! read-only through ARM, written by the emulator's cloud-controller loop.

use serde_json::{Value, json};

use super::{Prepared, PutContext, ResourceType, read_only_type};
use crate::arm::address::{Address, Kind};
use crate::arm::errors::ArmError;
use crate::arm::schema::Schema;
use crate::arm::store::{Resource, Store};

/// Load balancers and network security groups: the clusters' cloud provider writes them,
/// clients only read them.
pub struct CloudProviderOwned;

impl ResourceType for CloudProviderOwned {
    fn schema(&self) -> Schema {
        Schema::new("ReadOnlyResource", &[])
    }

    fn prepare(&self, context: &PutContext<'_>, _body: Value) -> Result<Prepared, ArmError> {
        Err(read_only_type(context.address))
    }

    fn writable(&self) -> bool {
        false
    }

    fn check_delete(&self, _store: &Store, resource: &Resource) -> Result<(), ArmError> {
        Err(read_only_type(&resource.address))
    }
}

/// One frontend IP configuration of a load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancerFrontend {
    pub id: String,
    pub name: String,
    pub public_ip_id: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip: Option<String>,
}

/// The frontends of a stored load balancer.
pub fn frontends(body: &Value) -> Vec<LoadBalancerFrontend> {
    let Some(list) = body.pointer("/properties/frontendIPConfigurations").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .map(|frontend| {
            let text = |pointer: &str| frontend.pointer(pointer).and_then(Value::as_str).map(str::to_string);
            LoadBalancerFrontend {
                id: text("/id").unwrap_or_default(),
                name: text("/name").unwrap_or_default(),
                public_ip_id: text("/properties/publicIPAddress/id"),
                subnet_id: text("/properties/subnet/id"),
                private_ip: text("/properties/privateIPAddress"),
            }
        })
        .collect()
}

/// The name AKS gives the node security group: `aks-agentpool-<8 digits>-nsg`, the digits
/// derived from the cluster's id so that they stay the same for a cluster.
pub fn security_group_name(cluster_id: &str) -> String {
    let mut hash: u32 = 2166136261;
    for byte in cluster_id.to_ascii_lowercase().bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(16777619);
    }
    format!("aks-agentpool-{:08}-nsg", hash % 100_000_000)
}

/// One Service port on a load balancer: a rule and a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRule {
    /// `Tcp` or `Udp`.
    pub protocol: String,
    pub port: u16,
    /// The probe's port: the node port when the Service has one.
    pub probe_port: u16,
    pub idle_timeout_minutes: u64,
}

/// A frontend the cloud-controller loop wants, with its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontendPlan {
    /// `a` + the Service's uid without dashes, as AKS names it.
    pub name: String,
    pub public_ip_id: Option<String>,
    pub subnet_id: Option<String>,
    /// For an internal frontend, the address; for an external one, the public IP's.
    pub address: String,
    /// Whether the address was asked for (Static) or picked (Dynamic).
    pub requested: bool,
    pub rules: Vec<PortRule>,
}

fn sub_resource(balancer: &Address, collection: &str, name: &str) -> String {
    format!("{}/{collection}/{name}", balancer.id())
}

/// A load balancer as AKS's cloud provider writes it: one backend pool `kubernetes`, and per
/// frontend port a rule and a TCP probe.
pub fn build(balancer: &Address, location: &str, frontends: &[FrontendPlan], resource_guid: &str) -> Value {
    let etag = format!("W/\"{}\"", uuid::Uuid::new_v4());
    let pool_id = sub_resource(balancer, "backendAddressPools", "kubernetes");
    let mut frontend_values = Vec::new();
    let mut rules = Vec::new();
    let mut probes = Vec::new();
    let mut pool_rules = Vec::new();
    for frontend in frontends {
        let frontend_id = sub_resource(balancer, "frontendIPConfigurations", &frontend.name);
        let mut frontend_rules = Vec::new();
        for rule in &frontend.rules {
            let rule_name = format!("{}-{}-{}", frontend.name, rule.protocol.to_ascii_uppercase(), rule.port);
            let probe_name = format!("{}-{}-{}", frontend.name, rule.protocol.to_ascii_uppercase(), rule.probe_port);
            let rule_id = sub_resource(balancer, "loadBalancingRules", &rule_name);
            let probe_id = sub_resource(balancer, "probes", &probe_name);
            frontend_rules.push(json!({ "id": rule_id }));
            pool_rules.push(json!({ "id": rule_id }));
            rules.push(json!({
                "name": rule_name, "id": rule_id, "etag": etag, "type": "Microsoft.Network/loadBalancers/loadBalancingRules",
                "properties": {
                    "provisioningState": "Succeeded",
                    "frontendIPConfiguration": { "id": frontend_id },
                    "backendAddressPool": { "id": pool_id },
                    "backendAddressPools": [{ "id": pool_id }],
                    "probe": { "id": probe_id },
                    "protocol": rule.protocol, "frontendPort": rule.port, "backendPort": rule.port,
                    "idleTimeoutInMinutes": rule.idle_timeout_minutes, "enableFloatingIP": false,
                    "enableTcpReset": true, "disableOutboundSnat": frontend.public_ip_id.is_some(),
                    "loadDistribution": "Default"
                }
            }));
            if !probes.iter().any(|probe: &Value| probe["name"] == json!(probe_name)) {
                probes.push(json!({
                    "name": probe_name, "id": probe_id, "etag": etag, "type": "Microsoft.Network/loadBalancers/probes",
                    "properties": {
                        "provisioningState": "Succeeded", "protocol": "Tcp", "port": rule.probe_port,
                        "intervalInSeconds": 5, "numberOfProbes": 2, "probeThreshold": 1,
                        "loadBalancingRules": [{ "id": rule_id }]
                    }
                }));
            }
        }
        let mut properties = json!({ "provisioningState": "Succeeded", "loadBalancingRules": frontend_rules });
        match (&frontend.public_ip_id, &frontend.subnet_id) {
            (Some(pip), _) => properties["publicIPAddress"] = json!({ "id": pip }),
            (None, Some(subnet)) => {
                properties["subnet"] = json!({ "id": subnet });
                properties["privateIPAddress"] = json!(frontend.address);
                properties["privateIPAllocationMethod"] = json!(if frontend.requested { "Static" } else { "Dynamic" });
                properties["privateIPAddressVersion"] = json!("IPv4");
            }
            (None, None) => {}
        }
        frontend_values.push(json!({
            "name": frontend.name, "id": frontend_id, "etag": etag,
            "type": "Microsoft.Network/loadBalancers/frontendIPConfigurations", "properties": properties
        }));
    }
    json!({
        "name": balancer.name(), "id": balancer.id(), "etag": etag, "type": "Microsoft.Network/loadBalancers",
        "location": location, "sku": { "name": "Standard", "tier": "Regional" },
        "properties": {
            "provisioningState": "Succeeded", "resourceGuid": resource_guid,
            "frontendIPConfigurations": frontend_values,
            "backendAddressPools": [{
                "name": "kubernetes", "id": pool_id, "etag": etag, "type": "Microsoft.Network/loadBalancers/backendAddressPools",
                "properties": { "provisioningState": "Succeeded", "loadBalancingRules": pool_rules }
            }],
            "loadBalancingRules": rules, "probes": probes,
            "inboundNatRules": [], "outboundRules": [], "inboundNatPools": []
        }
    })
}

/// The rules Azure puts in every network security group.
fn default_security_rules(group: &Address) -> Value {
    let rule = |name: &str,
                description: &str,
                source: &str,
                destination: &str,
                access: &str,
                priority: u32,
                direction: &str| {
        json!({
            "name": name, "id": format!("{}/defaultSecurityRules/{name}", group.id()),
            "properties": {
                "provisioningState": "Succeeded", "description": description, "protocol": "*",
                "sourcePortRange": "*", "destinationPortRange": "*", "sourceAddressPrefix": source,
                "destinationAddressPrefix": destination, "access": access, "priority": priority, "direction": direction
            }
        })
    };
    json!([
        rule(
            "AllowVnetInBound",
            "Allow inbound traffic from all VMs in VNET",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow",
            65000,
            "Inbound"
        ),
        rule(
            "AllowAzureLoadBalancerInBound",
            "Allow inbound traffic from azure load balancer",
            "AzureLoadBalancer",
            "*",
            "Allow",
            65001,
            "Inbound"
        ),
        rule("DenyAllInBound", "Deny all inbound traffic", "*", "*", "Deny", 65500, "Inbound"),
        rule(
            "AllowVnetOutBound",
            "Allow outbound traffic from all VMs to all VMs in VNET",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow",
            65000,
            "Outbound"
        ),
        rule(
            "AllowInternetOutBound",
            "Allow outbound traffic from all VMs to Internet",
            "*",
            "Internet",
            "Allow",
            65001,
            "Outbound"
        ),
        rule("DenyAllOutBound", "Deny all outbound traffic", "*", "*", "Deny", 65500, "Outbound"),
    ])
}

/// The node security group with an Allow rule per frontend port, from priority 500 up, as AKS
/// opens Service ports (`Internet` for public frontends, the VNet for internal ones).
pub fn build_security_group(group: &Address, location: &str, frontends: &[FrontendPlan], resource_guid: &str) -> Value {
    let mut rules = Vec::new();
    let mut priority = 500;
    for frontend in frontends {
        let source = if frontend.public_ip_id.is_some() { "Internet" } else { "VirtualNetwork" };
        for rule in &frontend.rules {
            let name = format!("{}-{}-{}-{source}", frontend.name, rule.protocol.to_ascii_uppercase(), rule.port);
            rules.push(json!({
                "name": name, "id": format!("{}/securityRules/{name}", group.id()),
                "etag": format!("W/\"{}\"", uuid::Uuid::new_v4()), "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                "properties": {
                    "provisioningState": "Succeeded", "protocol": rule.protocol, "sourcePortRange": "*",
                    "destinationPortRange": rule.port.to_string(), "sourceAddressPrefix": source,
                    "destinationAddressPrefix": frontend.address, "access": "Allow", "priority": priority, "direction": "Inbound"
                }
            }));
            priority += 1;
        }
    }
    json!({
        "name": group.name(), "id": group.id(), "etag": format!("W/\"{}\"", uuid::Uuid::new_v4()),
        "type": "Microsoft.Network/networkSecurityGroups", "location": location,
        "properties": {
            "provisioningState": "Succeeded", "resourceGuid": resource_guid,
            "securityRules": rules, "defaultSecurityRules": default_security_rules(group)
        }
    })
}

/// The address of a load balancer or security group in a node resource group.
pub fn in_node_group(node_group: &Address, kind: Kind, name: &str) -> Address {
    Address::new(kind, &node_group.subscription, &node_group.resource_group, &[name])
}
