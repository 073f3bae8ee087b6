//! Microsoft.Network/loadBalancers as AKS's cloud provider keeps them in the node resource group
//! (`kubernetes`, `kubernetes-internal`): read-only through ARM, written by the emulator's
//! cloud-controller loop.

use serde_json::{Value, json};

use super::CloudProviderOwned;
use crate::arm::address::{Address, Kind};
use crate::arm::identity::TypeIdentity;

/// Load balancers.
pub static LOAD_BALANCER: CloudProviderOwned = CloudProviderOwned {
    identity: TypeIdentity::network(&["loadBalancers"]),
};

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

/// The address of a load balancer or security group in a node resource group.
pub fn in_node_group(node_group: &Address, kind: Kind, name: &str) -> Address {
    Address::new(kind, &node_group.subscription, &node_group.resource_group, &[name])
}
