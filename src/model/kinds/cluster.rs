//! AKS clusters (Microsoft.ContainerService/managedClusters) and their network model; which
//! network changes AKS carries out in place (its one-way IPAM migrations) and which it refuses.

use std::net::Ipv4Addr;

use ipnet::{IpNet, Ipv4Net};

use super::AttributeType as T;
use super::{
    ARM_GROUP_ATTRIBUTE, ARM_NAME_ATTRIBUTE, Attributes, Brief, Flatten, KindSpec, Labels, Provider, Spanned,
    TAGS_ATTRIBUTE, Verdict, attribute, flat, labels_value,
};
use crate::diag::Span;
use crate::model::{Address, Kind, Resource, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkPlugin {
    Kubenet,
    /// Azure CNI with pods on the node subnet (or a pod subnet).
    AzureCni,
    AzureCniOverlay,
}

impl NetworkPlugin {
    pub fn keyword(self) -> &'static str {
        match self {
            NetworkPlugin::Kubenet => "kubenet",
            NetworkPlugin::AzureCni => "azure_cni",
            NetworkPlugin::AzureCniOverlay => "azure_cni overlay",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Network {
    pub span: Span,
    pub plugin: NetworkPlugin,
    /// The node subnet (required for Azure CNI without overlay; optional otherwise).
    pub subnet: Option<Spanned<Address>>,
    pub pod_subnet: Option<Spanned<Address>>,
    /// Pod CIDR (kubenet and overlay; `None` for Azure CNI where pods take subnet IPs).
    pub pod_cidr: Option<Spanned<Ipv4Net>>,
    pub service_cidr: Spanned<Ipv4Net>,
    pub dns_service_ip: Spanned<Ipv4Addr>,
    pub outbound_type: String,
    pub load_balancer_sku: String,
    pub network_policy: String,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub address: Address,
    pub span: Span,
    pub name: String,
    pub resource_group: String,
    pub resource_group_address: Address,
    pub location: String,
    pub kubernetes_version: Option<String>,
    pub dns_prefix: Spanned<String>,
    pub sku_tier: String,
    pub identity: String,
    pub node_resource_group: String,
    pub network: Network,
    pub allow_replace: bool,
    /// The application routing add-on (`web_app_routing = true`): a managed NGINX ingress
    /// controller that serves the Ingress class [`WEB_APP_ROUTING_CLASS`].
    pub web_app_routing: bool,
    pub tags: Labels,
}

/// The Ingress class of AKS's application routing add-on.
pub const WEB_APP_ROUTING_CLASS: &str = "webapprouting.kubernetes.azure.com";

pub const NETWORK_PLUGIN: &str = "changing property 'networkProfile.networkPlugin' is not allowed";
pub const NETWORK_PLUGIN_MODE: &str = "changing property 'networkProfile.networkPluginMode' is not allowed";
pub const OVERLAY_POD_CIDR: &str = "an overlay pod CIDR can only be expanded";
pub const OTHER_POD_CIDR: &str = "the pod CIDR can change only on an Azure CNI Overlay cluster, by expanding it";

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "cluster",
    noun: "cluster",
    parent: None,
    provider: Provider::Arm,
    attributes: &[
        attribute("node_resource_group", T::Text).referable().forces("the node resource group is fixed at creation"),
        attribute("fqdn", T::Text).computed().referable(),
        attribute("principal_id", T::Text).computed().referable(),
        ARM_NAME_ATTRIBUTE,
        ARM_GROUP_ATTRIBUTE,
        attribute("location", T::Text).forces("a cluster's location is fixed at creation"),
        attribute("kubernetes_version", T::Text),
        attribute("dns_prefix", T::Text).forces("dnsPrefix cannot be updated"),
        attribute("sku_tier", T::Text),
        attribute("identity", T::Text),
        attribute("network_plugin", T::Text).forces_unless(NETWORK_PLUGIN, network_plugin),
        attribute("network_plugin_mode", T::Text).forces_unless(NETWORK_PLUGIN_MODE, network_plugin_mode),
        attribute("network_policy", T::Text),
        attribute("pod_cidr", T::Cidr).forces_unless(OVERLAY_POD_CIDR, pod_cidr),
        attribute("service_cidr", T::Cidr).forces("the service CIDR cannot change after creation"),
        attribute("dns_service_ip", T::IpAddress).forces("the DNS service IP cannot change after creation"),
        attribute("outbound_type", T::Text),
        attribute("load_balancer_sku", T::Text),
        attribute("web_app_routing", T::Boolean),
        TAGS_ATTRIBUTE,
    ],
    in_use_refusal: None,
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    let network = match (b.show("network_plugin"), b.show("network_plugin_mode")) {
        (Some(plugin), Some(mode)) => Some(format!("{plugin} {mode}")),
        (plugin, _) => plugin,
    };
    vec![b.show("kubernetes_version").map(|v| format!("Kubernetes {v}")), network, b.show("location")]
}

impl Flatten for Cluster {
    fn resource(&self) -> Resource {
        let n = &self.network;
        let (plugin, mode) = match n.plugin {
            NetworkPlugin::Kubenet => ("kubenet", Value::Null),
            NetworkPlugin::AzureCni => ("azure", Value::Null),
            NetworkPlugin::AzureCniOverlay => ("azure", Value::str("overlay")),
        };
        let mut depends_on = vec![self.resource_group_address.clone()];
        depends_on.extend(n.subnet.iter().chain(&n.pod_subnet).map(|s| s.value.clone()));
        let mut r = flat(
            Kind::Cluster,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name)),
                ("resource_group", Value::str(&self.resource_group)),
                ("location", Value::str(&self.location)),
                ("kubernetes_version", Value::opt_str(self.kubernetes_version.clone())),
                ("dns_prefix", Value::str(&self.dns_prefix.value)),
                ("sku_tier", Value::str(&self.sku_tier)),
                ("identity", Value::str(&self.identity)),
                ("node_resource_group", Value::str(&self.node_resource_group)),
                ("network_plugin", Value::str(plugin)),
                ("network_plugin_mode", mode),
                ("network_policy", Value::str(&n.network_policy)),
                ("pod_cidr", Value::opt_str(n.pod_cidr.as_ref().map(|c| c.value.to_string()))),
                ("service_cidr", Value::str(n.service_cidr.value.to_string())),
                ("dns_service_ip", Value::str(n.dns_service_ip.value.to_string())),
                ("outbound_type", Value::str(&n.outbound_type)),
                ("load_balancer_sku", Value::str(&n.load_balancer_sku)),
                ("web_app_routing", self.web_app_routing.into()),
                ("tags", labels_value(&self.tags)),
            ],
            depends_on,
        );
        r.allow_replace = self.allow_replace;
        r
    }
}

fn text<'a>(attributes: &'a Attributes, field: &str) -> Option<&'a str> {
    attributes.get(field).and_then(Value::as_str)
}

fn is_overlay(attributes: &Attributes) -> bool {
    text(attributes, "network_plugin") == Some("azure") && text(attributes, "network_plugin_mode") == Some("overlay")
}

/// kubenet → Azure CNI Overlay is AKS's supported, one-way IPAM migration.
fn network_plugin(recorded: &Attributes, desired: &Attributes) -> Verdict {
    if text(recorded, "network_plugin") == Some("kubenet") && is_overlay(desired) {
        Verdict::InPlace
    } else {
        Verdict::Replace(NETWORK_PLUGIN)
    }
}

/// Turning overlay on (from kubenet or from Azure CNI on the node subnet) migrates in place;
/// turning it off does not.
fn network_plugin_mode(recorded: &Attributes, desired: &Attributes) -> Verdict {
    let was_unset = recorded.get("network_plugin_mode").is_none_or(|mode| *mode == Value::Null);
    if was_unset && is_overlay(desired) { Verdict::InPlace } else { Verdict::Replace(NETWORK_PLUGIN_MODE) }
}

fn pod_cidr(recorded: &Attributes, desired: &Attributes) -> Verdict {
    if !is_overlay(desired) {
        return Verdict::Replace(OTHER_POD_CIDR);
    }
    let old = match recorded.get("pod_cidr") {
        None | Some(Value::Null) => return Verdict::InPlace,
        Some(old) => old.as_str().and_then(|s| s.parse::<IpNet>().ok()),
    };
    let new = text(desired, "pod_cidr").and_then(|s| s.parse::<IpNet>().ok());
    match (old, new) {
        (Some(old), Some(new)) if new.contains(&old) => Verdict::InPlace,
        _ => Verdict::Replace(OVERLAY_POD_CIDR),
    }
}
