//! Which changes force a resource to be replaced, and why: read from each kind's description
//! (`crate::model::kinds`), where the fields Azure or Kubernetes cannot change in place are
//! named with the reason a plan shows, beside the one-way migrations AKS carries out in place.

use crate::model::{Kind, Verdict};

pub use crate::model::Attributes;

/// The fields of a kind that name where the resource lives (see
/// [`crate::model::Replacement::placement`]).
pub fn placement_fields(kind: Kind) -> impl Iterator<Item = &'static str> {
    kind.immutable_attributes().filter(|(_, rule)| rule.placement).map(|(field, _)| field)
}

/// Why changing `field` from the recorded attributes to the desired ones forces replacement,
/// or `None` when the change is made in place. Call it only for a field that differs.
pub fn replace_reason(kind: Kind, field: &str, recorded: &Attributes, desired: &Attributes) -> Option<&'static str> {
    let rule = kind.attribute(field)?.replace.as_ref()?;
    match rule.condition {
        None => Some(rule.reason),
        Some(condition) => match condition(recorded, desired) {
            Verdict::InPlace => None,
            Verdict::Replace(reason) => Some(reason),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Value;
    use crate::model::kinds::cluster::{NETWORK_PLUGIN, NETWORK_PLUGIN_MODE, OTHER_POD_CIDR, OVERLAY_POD_CIDR};

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
    fn every_kind_is_replaced_on_a_rename() {
        let empty = Attributes::new();
        for kind in Kind::ALL {
            assert!(
                replace_reason(kind, "name", &empty, &empty).is_some(),
                "{kind} must force replacement on a rename"
            );
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
