//! The fields Azure or Kubernetes cannot change in place, per resource kind, with the reason a
//! plan shows for each, and the one-way migrations AKS does carry out in place.

use std::collections::BTreeMap;

use ipnet::IpNet;

use crate::model::{Kind, Value};

/// A resource's attributes, recorded or desired.
pub type Attributes = BTreeMap<String, Value>;

/// How a change to a conditionally immutable field is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    InPlace,
    Replace(&'static str),
}

/// A field whose change forces the resource to be deleted and created again.
#[derive(Debug, Clone, Copy)]
pub struct ImmutableField {
    pub field: &'static str,
    /// Shown after `# forces replacement:`.
    pub reason: &'static str,
    /// For fields some changes of which are made in place: decides a change from the recorded
    /// attributes to the desired ones. `None`: every change forces replacement.
    pub condition: Option<fn(&Attributes, &Attributes) -> Verdict>,
    /// The field names the resource this one lives in or hangs on (its resource group,
    /// cluster, namespace, subnet, zone, remote network): deleting that resource deletes or
    /// detaches this one, so replacing it replaces this one too.
    pub placement: bool,
}

const fn always(field: &'static str, reason: &'static str) -> ImmutableField {
    ImmutableField { field, reason, condition: None, placement: false }
}

const fn unless(
    field: &'static str,
    reason: &'static str,
    condition: fn(&Attributes, &Attributes) -> Verdict,
) -> ImmutableField {
    ImmutableField { field, reason, condition: Some(condition), placement: false }
}

const fn placement(field: &'static str, reason: &'static str) -> ImmutableField {
    ImmutableField { field, reason, condition: None, placement: true }
}

const ARM_NAME: &str = "the name is part of the Azure resource id";
const ARM_GROUP: &str = "the resource group is part of the Azure resource id";
const KUBE_NAME: &str = "a Kubernetes object cannot be renamed";
const KUBE_NAMESPACE: &str = "a Kubernetes object cannot move to another namespace";
const KUBE_CLUSTER: &str = "a Kubernetes object cannot move to another cluster";

pub const NETWORK_PLUGIN: &str = "changing property 'networkProfile.networkPlugin' is not allowed";
pub const NETWORK_PLUGIN_MODE: &str = "changing property 'networkProfile.networkPluginMode' is not allowed";
pub const OVERLAY_POD_CIDR: &str = "an overlay pod CIDR can only be expanded";
pub const OTHER_POD_CIDR: &str = "the pod CIDR can change only on an Azure CNI Overlay cluster, by expanding it";

const RESOURCE_GROUP: &[ImmutableField] =
    &[always("location", "a resource group's location cannot change"), always("name", ARM_NAME)];

const VNET: &[ImmutableField] = &[
    always("location", "a virtual network's location is fixed at creation"),
    always("name", ARM_NAME),
    placement("resource_group", ARM_GROUP),
];

const SUBNET: &[ImmutableField] = &[always("name", ARM_NAME)];

const PEERING: &[ImmutableField] = &[
    always("name", ARM_NAME),
    placement("remote_vnet", "a peering's remote virtual network cannot change; add a new peering"),
];

const PUBLIC_IP: &[ImmutableField] = &[
    always("location", "a public IP's location is fixed at creation"),
    always("name", ARM_NAME),
    placement("resource_group", ARM_GROUP),
    always("sku", "the SKU of a public IP cannot change in place"),
    always("version", "the IP version of a public IP is fixed at creation"),
    always("zones", "zones of a public IP are fixed at creation"),
];

const CLUSTER: &[ImmutableField] = &[
    always("dns_prefix", "dnsPrefix cannot be updated"),
    always("dns_service_ip", "the DNS service IP cannot change after creation"),
    always("location", "a cluster's location is fixed at creation"),
    always("name", ARM_NAME),
    unless("network_plugin", NETWORK_PLUGIN, network_plugin),
    unless("network_plugin_mode", NETWORK_PLUGIN_MODE, network_plugin_mode),
    always("node_resource_group", "the node resource group is fixed at creation"),
    unless("pod_cidr", OVERLAY_POD_CIDR, pod_cidr),
    placement("resource_group", ARM_GROUP),
    always("service_cidr", "the service CIDR cannot change after creation"),
];

const NODE_POOL: &[ImmutableField] = &[
    always("max_pods", "maxPods is fixed when a node pool is created"),
    always("name", ARM_NAME),
    always("os_type", "a node pool's OS type is fixed at creation"),
    placement("pod_subnet", "a node pool's pod subnet cannot change; add a pool on the new subnet"),
    placement("subnet", "a node pool's subnet cannot change; add a pool on the new subnet"),
    always("vm_size", "a node pool's VM size is fixed at creation; add a pool with the new size"),
    always("zones", "a node pool's availability zones are fixed at creation"),
];

const NAMESPACE: &[ImmutableField] = &[placement("cluster", KUBE_CLUSTER), always("name", KUBE_NAME)];

const SERVICE: &[ImmutableField] = &[
    placement("cluster", KUBE_CLUSTER),
    always("cluster_ip", "spec.clusterIP is immutable"),
    always("name", KUBE_NAME),
    placement("namespace", KUBE_NAMESPACE),
];

const INGRESS: &[ImmutableField] =
    &[placement("cluster", KUBE_CLUSTER), always("name", KUBE_NAME), placement("namespace", KUBE_NAMESPACE)];

const DNS_ZONE: &[ImmutableField] = &[always("name", ARM_NAME), placement("resource_group", ARM_GROUP)];

const DNS_RECORD: &[ImmutableField] = &[
    always("name", ARM_NAME),
    always("type", "a record set's type is part of its Azure resource id"),
    placement("zone", "a record set cannot move to another zone"),
];

/// The fields of a kind that cannot (always) change in place.
pub fn immutable_fields(kind: Kind) -> &'static [ImmutableField] {
    match kind {
        Kind::ResourceGroup => RESOURCE_GROUP,
        Kind::Vnet => VNET,
        Kind::Subnet => SUBNET,
        Kind::Peering => PEERING,
        Kind::PublicIp => PUBLIC_IP,
        Kind::Cluster => CLUSTER,
        Kind::NodePool => NODE_POOL,
        Kind::Namespace => NAMESPACE,
        Kind::Service => SERVICE,
        Kind::Ingress => INGRESS,
        Kind::DnsZone => DNS_ZONE,
        Kind::DnsRecord => DNS_RECORD,
    }
}

/// The fields of a kind that name where the resource lives (see [`ImmutableField::placement`]).
pub fn placement_fields(kind: Kind) -> impl Iterator<Item = &'static str> {
    immutable_fields(kind).iter().filter(|f| f.placement).map(|f| f.field)
}

/// Why changing `field` from the recorded attributes to the desired ones forces replacement,
/// or `None` when the change is made in place. Call it only for a field that differs.
pub fn replace_reason(kind: Kind, field: &str, recorded: &Attributes, desired: &Attributes) -> Option<&'static str> {
    let rule = immutable_fields(kind).iter().find(|rule| rule.field == field)?;
    match rule.condition {
        None => Some(rule.reason),
        Some(condition) => match condition(recorded, desired) {
            Verdict::InPlace => None,
            Verdict::Replace(reason) => Some(reason),
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, Value)]) -> Attributes {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn cluster(plugin: &str, mode: Option<&str>, pod_cidr: Option<&str>) -> Attributes {
        attrs(&[
            ("network_plugin", Value::str(plugin)),
            ("network_plugin_mode", Value::opt_str(mode)),
            ("pod_cidr", Value::opt_str(pod_cidr)),
        ])
    }

    #[test]
    fn tables_are_sorted_and_name_known_kinds_only_once() {
        for kind in Kind::ALL {
            let fields: Vec<&str> = immutable_fields(kind).iter().map(|f| f.field).collect();
            let mut sorted = fields.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(fields, sorted, "{kind}");
            assert!(fields.contains(&"name"), "{kind} must force replacement on a rename");
        }
    }

    #[test]
    fn plain_fields_always_force_replacement() {
        let empty = Attributes::new();
        assert_eq!(
            replace_reason(Kind::NodePool, "max_pods", &empty, &empty),
            Some("maxPods is fixed when a node pool is created")
        );
        assert_eq!(
            replace_reason(Kind::PublicIp, "zones", &empty, &empty),
            Some("zones of a public IP are fixed at creation")
        );
        assert_eq!(replace_reason(Kind::Service, "cluster_ip", &empty, &empty), Some("spec.clusterIP is immutable"));
        assert_eq!(replace_reason(Kind::NodePool, "count", &empty, &empty), None);
        assert_eq!(replace_reason(Kind::ResourceGroup, "tags", &empty, &empty), None);
    }

    #[test]
    fn kubenet_to_overlay_migrates_in_place_but_not_back() {
        let kubenet = cluster("kubenet", None, Some("10.244.0.0/16"));
        let overlay = cluster("azure", Some("overlay"), Some("10.244.0.0/16"));
        assert_eq!(replace_reason(Kind::Cluster, "network_plugin", &kubenet, &overlay), None);
        assert_eq!(replace_reason(Kind::Cluster, "network_plugin_mode", &kubenet, &overlay), None);
        assert_eq!(replace_reason(Kind::Cluster, "network_plugin", &overlay, &kubenet), Some(NETWORK_PLUGIN));
        assert_eq!(replace_reason(Kind::Cluster, "network_plugin_mode", &overlay, &kubenet), Some(NETWORK_PLUGIN_MODE));
    }

    #[test]
    fn kubenet_to_azure_on_the_node_subnet_is_not_a_migration() {
        let kubenet = cluster("kubenet", None, Some("10.244.0.0/16"));
        let node_subnet = cluster("azure", None, None);
        assert_eq!(replace_reason(Kind::Cluster, "network_plugin", &kubenet, &node_subnet), Some(NETWORK_PLUGIN));
    }

    #[test]
    fn azure_cni_turns_overlay_on_in_place_but_not_off() {
        let node_subnet = cluster("azure", None, None);
        let overlay = cluster("azure", Some("overlay"), Some("192.168.0.0/16"));
        assert_eq!(replace_reason(Kind::Cluster, "network_plugin_mode", &node_subnet, &overlay), None);
        assert_eq!(replace_reason(Kind::Cluster, "pod_cidr", &node_subnet, &overlay), None);
        assert_eq!(
            replace_reason(Kind::Cluster, "network_plugin_mode", &overlay, &node_subnet),
            Some(NETWORK_PLUGIN_MODE)
        );
    }

    #[test]
    fn overlay_pod_cidr_can_only_grow() {
        let small = cluster("azure", Some("overlay"), Some("10.244.0.0/16"));
        let larger = cluster("azure", Some("overlay"), Some("10.240.0.0/12"));
        let elsewhere = cluster("azure", Some("overlay"), Some("172.16.0.0/12"));
        assert_eq!(replace_reason(Kind::Cluster, "pod_cidr", &small, &larger), None);
        assert_eq!(replace_reason(Kind::Cluster, "pod_cidr", &larger, &small), Some(OVERLAY_POD_CIDR));
        assert_eq!(replace_reason(Kind::Cluster, "pod_cidr", &small, &elsewhere), Some(OVERLAY_POD_CIDR));
    }

    #[test]
    fn kubenet_pod_cidr_cannot_change() {
        let before = cluster("kubenet", None, Some("10.244.0.0/16"));
        let after = cluster("kubenet", None, Some("10.240.0.0/12"));
        assert_eq!(replace_reason(Kind::Cluster, "pod_cidr", &before, &after), Some(OTHER_POD_CIDR));
    }

    #[test]
    fn unknown_values_in_conditional_fields_force_replacement() {
        let before = cluster("kubenet", None, Some("10.244.0.0/16"));
        let mut after = cluster("azure", Some("overlay"), None);
        after.insert("pod_cidr".into(), Value::Unknown);
        assert_eq!(replace_reason(Kind::Cluster, "pod_cidr", &before, &after), Some(OVERLAY_POD_CIDR));
        after.insert("network_plugin".into(), Value::Unknown);
        assert_eq!(replace_reason(Kind::Cluster, "network_plugin", &before, &after), Some(NETWORK_PLUGIN));
    }
}
