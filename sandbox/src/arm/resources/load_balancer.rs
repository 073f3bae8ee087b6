//! Microsoft.Network/loadBalancers and networkSecurityGroups as AKS's cloud provider keeps them
//! in the node resource group (`kubernetes`, `kubernetes-internal`, `aks-agentpool-<n>-nsg`):
//! read-only through ARM, written by the emulator's cloud-controller loop.

use serde_json::Value;

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
#[allow(dead_code)] // used by the cloud-controller loop
pub fn security_group_name(cluster_id: &str) -> String {
    let mut hash: u32 = 2166136261;
    for byte in cluster_id.to_ascii_lowercase().bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(16777619);
    }
    format!("aks-agentpool-{:08}-nsg", hash % 100_000_000)
}
