//! Microsoft.Network/networkSecurityGroups as AKS's cloud provider keeps the node security
//! group (`aks-agentpool-<n>-nsg`): read-only through ARM, written when a cluster is created and
//! by the emulator's cloud-controller loop.

use serde_json::{Value, json};

use super::CloudProviderOwned;
use super::load_balancer::FrontendPlan;
use crate::arm::address::Address;
use crate::arm::identity::TypeIdentity;

/// Network security groups.
pub static NETWORK_SECURITY_GROUP: CloudProviderOwned = CloudProviderOwned {
    identity: TypeIdentity::network(&["networkSecurityGroups"]),
};

/// The name AKS gives the node security group: `aks-agentpool-<8 digits>-nsg`, the digits
/// derived from the cluster's id so that they stay the same for a cluster.
pub fn security_group_name(cluster_id: &str) -> String {
    let mut hash: u32 = 2166136261;
    for byte in cluster_id.to_ascii_lowercase().bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(16777619);
    }
    format!("aks-agentpool-{:08}-nsg", hash % 100_000_000)
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
