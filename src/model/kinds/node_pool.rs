//! Node pools of a cluster (Microsoft.ContainerService/managedClusters/agentPools).

use super::AttributeType as T;
use super::{ARM_NAME_ATTRIBUTE, Brief, Flatten, KindSpec, Labels, Provider, Spanned, attribute, flat, labels_value};
use crate::diag::Span;
use crate::model::{Address, Kind, Resource, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeCount {
    Fixed(u32),
    Autoscale { min: u32, max: u32 },
}

impl NodeCount {
    /// The most nodes the pool can have (autoscale counted at its maximum).
    pub fn max(&self) -> u32 {
        match self {
            NodeCount::Fixed(n) => *n,
            NodeCount::Autoscale { max, .. } => *max,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NodePool {
    pub address: Address,
    pub span: Span,
    pub cluster: Address,
    pub name: String,
    pub vm_size: String,
    pub count: Spanned<NodeCount>,
    pub max_pods: Spanned<u32>,
    /// True when `max_pods` was not written and the network model's default applies.
    pub max_pods_default: bool,
    pub system: bool,
    pub windows: bool,
    /// The pool's node subnet: its own `subnet`, else the cluster's network subnet.
    pub subnet: Option<Spanned<Address>>,
    pub pod_subnet: Option<Spanned<Address>>,
    pub zones: Vec<String>,
    /// Extra nodes during upgrades (`max_surge`): a count, or a percentage of the pool.
    pub max_surge: String,
    pub labels: Labels,
    pub taints: Vec<String>,
}

impl NodePool {
    /// Surge nodes at the pool's maximum size (a percentage rounds up, as AKS does).
    pub fn surge_nodes(&self) -> u32 {
        let nodes = self.count.value.max();
        match self.max_surge.strip_suffix('%') {
            Some(percent) => percent.parse::<u32>().map_or(1, |p| (nodes * p).div_ceil(100)),
            None => self.max_surge.parse().unwrap_or(1),
        }
    }
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "node_pool",
    noun: "node pool",
    parent: Some(Kind::Cluster),
    provider: Provider::Arm,
    attributes: &[
        ARM_NAME_ATTRIBUTE,
        attribute("vm_size", T::Text)
            .forces("a node pool's VM size is fixed at creation; add a pool with the new size"),
        attribute("count", T::Integer),
        attribute("autoscale", T::Boolean),
        attribute("min_count", T::Integer),
        attribute("max_count", T::Integer),
        attribute("max_pods", T::Integer).forces("maxPods is fixed when a node pool is created"),
        attribute("mode", T::Text),
        attribute("os_type", T::Text).forces("a node pool's OS type is fixed at creation"),
        attribute("subnet", T::Address).placement("a node pool's subnet cannot change; add a pool on the new subnet"),
        attribute("pod_subnet", T::Address)
            .placement("a node pool's pod subnet cannot change; add a pool on the new subnet"),
        attribute("zones", T::TextList).forces("a node pool's availability zones are fixed at creation"),
        attribute("max_surge", T::Text),
        attribute("labels", T::TextMap),
        attribute("taints", T::TextList),
    ],
    in_use_refusal: None,
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    let size = b.show("vm_size").unwrap_or_default();
    let autoscale = b.get("autoscale") == Some(&Value::Bool(true));
    let count = match (autoscale, b.show("min_count"), b.show("max_count"), b.show("count")) {
        (true, Some(min), Some(max), _) => Some(format!("{min}..{max}")),
        (_, _, _, count) => count,
    };
    vec![Some(match count {
        Some(count) => format!("{size} × {count}"),
        None => size,
    })]
}

impl Flatten for NodePool {
    fn resource(&self) -> Resource {
        let (autoscale, count, min, max) = match self.count.value {
            NodeCount::Fixed(n) => (false, Value::from(n), Value::Null, Value::Null),
            NodeCount::Autoscale { min, max } => (true, Value::Null, Value::from(min), Value::from(max)),
        };
        let mut depends_on = vec![self.cluster.clone()];
        depends_on.extend(self.subnet.iter().chain(&self.pod_subnet).map(|s| s.value.clone()));
        flat(
            Kind::NodePool,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name)),
                ("vm_size", Value::str(&self.vm_size)),
                ("count", count),
                ("autoscale", autoscale.into()),
                ("min_count", min),
                ("max_count", max),
                ("max_pods", self.max_pods.value.into()),
                ("mode", Value::str(if self.system { "System" } else { "User" })),
                ("os_type", Value::str(if self.windows { "Windows" } else { "Linux" })),
                ("subnet", Value::opt_str(self.subnet.as_ref().map(|s| s.value.to_string()))),
                ("pod_subnet", Value::opt_str(self.pod_subnet.as_ref().map(|s| s.value.to_string()))),
                ("zones", Value::list(self.zones.iter().cloned())),
                ("max_surge", Value::str(&self.max_surge)),
                ("labels", labels_value(&self.labels)),
                ("taints", Value::list(self.taints.iter().cloned())),
            ],
            depends_on,
        )
    }
}
