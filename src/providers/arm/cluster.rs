//! Managed clusters (Microsoft.ContainerService/managedClusters): identity, DNS prefix,
//! version, SKU tier, node resource group and the network profile of each network model
//! (kubenet, Azure CNI, Azure CNI Overlay), and the application routing add-on
//! (`ingressProfile.webAppRouting`). AKS needs a System pool at create, so the create
//! body carries the stack's node pools of the cluster as `agentPoolProfiles`. Also the
//! cluster's kubeconfig (listClusterUserCredential / listClusterAdminCredential).

use serde_json::{Map, Value as Json, json};

use super::arm_json::{
    CONTAINER_SERVICE_API, bool_at, named, opt_str, read_tags, resource_group_of, same_or_live, str_at, tags,
};
use super::arm_type::{ArmType, BodyRequest, Identity, Place};
use super::client::ArmClient;
use super::error::ArmError;
use super::node_pool;
use super::resolver::Resolver;
use crate::model::Value;
use crate::providers::attributes::Reader;
use crate::providers::{Attributes, ProviderError};

pub(crate) struct Cluster;

impl ArmType for Cluster {
    fn identity(&self) -> &'static Identity {
        &Identity {
            type_name: "Microsoft.ContainerService/managedClusters",
            api_version: CONTAINER_SERVICE_API,
            place: Place::ResourceGroup,
        }
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        // `creating`: the first PUT, which must carry the node pools.
        let BodyRequest { fields, address, resolver, creating } = *request;
        let identity = match fields.required_str("identity")? {
            id if id.starts_with("UserAssigned:") => {
                let resource = id.trim_start_matches("UserAssigned:");
                json!({ "type": "UserAssigned", "userAssignedIdentities": { resource: {} } })
            }
            other => json!({ "type": other }),
        };
        let mut network = Map::new();
        network.insert("networkPlugin".into(), json!(fields.required_str("network_plugin")?));
        if let Some(mode) = fields.str("network_plugin_mode")? {
            network.insert("networkPluginMode".into(), json!(mode));
        }
        network.insert("networkPolicy".into(), json!(fields.str("network_policy")?.unwrap_or("none")));
        if let Some(pod_cidr) = fields.str("pod_cidr")? {
            network.insert("podCidr".into(), json!(pod_cidr));
        }
        network.insert("serviceCidr".into(), json!(fields.required_str("service_cidr")?));
        network.insert("dnsServiceIP".into(), json!(fields.required_str("dns_service_ip")?));
        network.insert("outboundType".into(), json!(fields.str("outbound_type")?.unwrap_or("loadBalancer")));
        network.insert("loadBalancerSku".into(), json!(fields.str("load_balancer_sku")?.unwrap_or("standard")));

        let mut properties = Map::new();
        if let Some(version) = fields.str("kubernetes_version")? {
            properties.insert("kubernetesVersion".into(), json!(version));
        }
        properties.insert("dnsPrefix".into(), json!(fields.required_str("dns_prefix")?));
        properties.insert("nodeResourceGroup".into(), json!(fields.required_str("node_resource_group")?));
        properties.insert("networkProfile".into(), Json::Object(network));
        // Sent either way: a PUT without it would leave the add-on as it is.
        let web_app_routing = fields.bool("web_app_routing")?.unwrap_or(false);
        properties.insert("ingressProfile".into(), json!({ "webAppRouting": { "enabled": web_app_routing } }));
        if creating {
            let mut pools = Vec::new();
            for pool in resolver.pools_of(address) {
                let attributes = resolver.attributes(pool)?;
                pools.push(node_pool::profile(&Reader::new(pool).top(attributes), pool, resolver)?);
            }
            properties.insert("agentPoolProfiles".into(), Json::Array(pools));
        }
        Ok(json!({
            "location": fields.required_str("location")?,
            "tags": tags(fields, address, resolver)?,
            "sku": { "name": "Base", "tier": fields.str("sku_tier")?.unwrap_or("Free") },
            "identity": identity,
            "properties": properties,
        }))
    }

    fn observed(&self, live: &Json, recorded: &Attributes, _resolver: &Resolver) -> Attributes {
        let mut out = named(live, recorded);
        let p = |name: &str| format!("/properties/{name}");
        let n = |name: &str| format!("/properties/networkProfile/{name}");
        let id = str_at(live, "/id").unwrap_or_default();
        out.insert("resource_group".into(), same_or_live(resource_group_of(id), recorded.get("resource_group")));
        out.insert("location".into(), same_or_live(str_at(live, "/location"), recorded.get("location")));
        // AKS fills in a version when none is asked for; the stack then leaves it to AKS.
        let version =
            match (recorded.get("kubernetes_version").and_then(Value::as_str), str_at(live, &p("kubernetesVersion"))) {
                (None, _) => Value::Null,
                (Some(asked), Some(live)) if live.starts_with(&format!("{asked}.")) => Value::str(asked),
                (Some(_), live) => Value::opt_str(live),
            };
        out.insert("kubernetes_version".into(), version);
        out.insert("dns_prefix".into(), opt_str(live, &p("dnsPrefix")));
        out.insert("sku_tier".into(), same_or_live(str_at(live, "/sku/tier"), recorded.get("sku_tier")));
        let identity = match str_at(live, "/identity/type") {
            Some(t) if t.eq_ignore_ascii_case("UserAssigned") => {
                let first = live
                    .pointer("/identity/userAssignedIdentities")
                    .and_then(Json::as_object)
                    .and_then(|m| m.keys().next());
                same_or_live(first.map(|id| format!("UserAssigned:{id}")).as_deref(), recorded.get("identity"))
            }
            other => same_or_live(other, recorded.get("identity")),
        };
        out.insert("identity".into(), identity);
        out.insert(
            "node_resource_group".into(),
            same_or_live(str_at(live, &p("nodeResourceGroup")), recorded.get("node_resource_group")),
        );
        let plugin = str_at(live, &n("networkPlugin"));
        let mode = str_at(live, &n("networkPluginMode"));
        out.insert("network_plugin".into(), same_or_live(plugin, recorded.get("network_plugin")));
        out.insert("network_plugin_mode".into(), Value::opt_str(mode));
        out.insert("network_policy".into(), Value::str(str_at(live, &n("networkPolicy")).unwrap_or("none")));
        // Azure CNI on the node subnet has no pod CIDR of its own, whatever AKS shows.
        let pod_cidr = if plugin == Some("azure")
            && mode.is_none()
            && recorded.get("pod_cidr").is_none_or(|v| *v == Value::Null)
        {
            Value::Null
        } else {
            opt_str(live, &n("podCidr"))
        };
        out.insert("pod_cidr".into(), pod_cidr);
        out.insert("service_cidr".into(), opt_str(live, &n("serviceCidr")));
        out.insert("dns_service_ip".into(), opt_str(live, &n("dnsServiceIP")));
        out.insert(
            "outbound_type".into(),
            same_or_live(str_at(live, &n("outboundType")), recorded.get("outbound_type")),
        );
        out.insert(
            "load_balancer_sku".into(),
            same_or_live(str_at(live, &n("loadBalancerSku")), recorded.get("load_balancer_sku")),
        );
        out.insert("web_app_routing".into(), bool_at(live, &p("ingressProfile/webAppRouting/enabled")).into());
        out.insert("tags".into(), read_tags(live));
        out.extend(self.computed(live));
        out
    }

    /// The version it runs, for a block written from it (`aksform generate`).
    fn facts(&self, live: &Json) -> Attributes {
        [("kubernetes_version".to_string(), opt_str(live, "/properties/kubernetesVersion"))].into()
    }

    fn computed(&self, live: &Json) -> Attributes {
        [
            ("fqdn".to_string(), opt_str(live, "/properties/fqdn")),
            // The system-assigned identity, which the role assignments AKS needs are for.
            ("principal_id".to_string(), opt_str(live, "/identity/principalId")),
        ]
        .into()
    }
}

/// The cluster's kubeconfig (YAML). Held only in memory: it carries credentials.
pub async fn kubeconfig(client: &ArmClient, cluster_path: &str, admin: bool) -> Result<String, ArmError> {
    let action = if admin { "listClusterAdminCredential" } else { "listClusterUserCredential" };
    let path = format!("{cluster_path}/{action}");
    let doing = format!("POST {path}");
    let answer = client.post(&path, Cluster.api_version()).await?;
    let value = answer
        .pointer("/kubeconfigs/0/value")
        .and_then(Json::as_str)
        .ok_or_else(|| client.local_error("NoKubeconfig", "the answer holds no kubeconfig".into(), &doing))?;
    let bytes = azure_core::base64::decode(value)
        .map_err(|_| client.local_error("InvalidKubeconfig", "the kubeconfig is not valid base64".into(), &doing))?;
    String::from_utf8(bytes)
        .map_err(|_| client.local_error("InvalidKubeconfig", "the kubeconfig is not UTF-8 text".into(), &doing))
}
