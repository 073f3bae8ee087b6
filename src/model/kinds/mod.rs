//! The resource kinds, each described once: its keyword, noun, parent, provider and
//! attributes (type, computed, referable, what forces its replacement and why), its one-line
//! brief in a plan, and beside the description the typed struct and its flattening into the
//! generic [`Resource`]. The model, the planner, the renderers and the providers read these
//! descriptions; the list in [`kinds!`] is the only place a kind is enumerated.

pub(crate) mod cluster;
mod dns_record;
mod dns_zone;
mod ingress;
mod namespace;
mod nat_gateway;
mod node_pool;
mod peering;
mod public_ip;
mod resource_group;
mod role_assignment;
mod route_table;
mod service;
mod subnet;
mod vnet;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

pub use cluster::{Cluster, Network, NetworkPlugin, WEB_APP_ROUTING_CLASS};
pub use dns_record::{DnsRecord, RecordData, RecordValue};
pub use dns_zone::DnsZone;
pub use ingress::{Backend, Ingress, IngressPath, IngressRule, IngressTls, PathType, PortRef};
pub use namespace::Namespace;
pub use nat_gateway::NatGateway;
pub(crate) use nat_gateway::lower as lower_nat_gateway;
pub use node_pool::{NodeCount, NodePool};
pub use peering::Peering;
pub use public_ip::{Allocation, PublicIp, PublicIpSku};
pub use resource_group::ResourceGroup;
pub(crate) use role_assignment::derive as derive_role_assignments;
pub use role_assignment::{NETWORK_CONTRIBUTOR, RoleAssignment, actions_needed_on};
pub(crate) use route_table::lower as lower_route_table;
pub use route_table::{NextHop, Route, RouteTable};
pub use service::{LoadBalancer, Protocol, Service, ServicePort, ServiceType, TargetPort};
pub use subnet::Subnet;
pub use vnet::Vnet;

use super::address::Address;
use super::resource::Resource;
use super::value::Value;
use crate::diag::Span;

/// The one list of kinds, handed to `$callback`: each kind's variant, the module that
/// describes it (struct, flattening, [`KindSpec`]), its typed struct and the field of
/// [`crate::model::Stack`] that holds its resources. The order is the order of addresses (and
/// so of plans and states): a new kind goes where it sorts.
macro_rules! for_each_kind {
    ($callback:ident) => {
        $callback! {
            ResourceGroup => resource_group: ResourceGroup, resource_groups;
            Vnet => vnet: Vnet, vnets;
            Subnet => subnet: Subnet, subnets;
            Peering => peering: Peering, peerings;
            RouteTable => route_table: RouteTable, route_tables;
            PublicIp => public_ip: PublicIp, public_ips;
            NatGateway => nat_gateway: NatGateway, nat_gateways;
            Cluster => cluster: Cluster, clusters;
            NodePool => node_pool: NodePool, node_pools;
            RoleAssignment => role_assignment: RoleAssignment, role_assignments;
            Namespace => namespace: Namespace, namespaces;
            Service => service: Service, services;
            Ingress => ingress: Ingress, ingresses;
            DnsZone => dns_zone: DnsZone, dns_zones;
            DnsRecord => dns_record: DnsRecord, dns_records;
        }
    };
}
pub(crate) use for_each_kind;

/// Declares the [`Kind`] enum, [`Kind::ALL`] and the description of each kind.
macro_rules! declare_kinds {
    ($($variant:ident => $module:ident: $type:ident, $field:ident;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $($variant),*
        }

        impl Kind {
            pub const COUNT: usize = [$(stringify!($variant)),*].len();
            pub const ALL: [Kind; Kind::COUNT] = [$(Kind::$variant),*];

            /// The description of the kind.
            pub fn spec(self) -> &'static KindSpec {
                match self {
                    $(Kind::$variant => &$module::SPEC),*
                }
            }
        }
    };
}

for_each_kind!(declare_kinds);

/// Which API a kind's resources are written through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Azure Resource Manager.
    Arm,
    /// The Kubernetes API of a cluster in the stack.
    Kubernetes,
}

/// The shape of an attribute's value in the generic [`Resource`] form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    Text,
    Integer,
    Boolean,
    /// An IPv4 CIDR block, as text.
    Cidr,
    /// An IPv4 address, as text.
    IpAddress,
    /// Another resource's address, as text (`vnet.hub`).
    Address,
    TextList,
    CidrList,
    IpList,
    /// A map of strings (tags, labels, selectors).
    TextMap,
    /// A structure of its own (a Service's load balancer, an Ingress's backend).
    Object,
    /// A list of structures (a Service's ports, an Ingress's rules).
    ObjectList,
    /// A list of values given in the stack or taken from other resources (record values).
    ValueList,
}

/// How a change to a conditionally immutable field is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    InPlace,
    Replace(&'static str),
}

/// A resource's attributes, recorded or desired.
pub type Attributes = BTreeMap<String, Value>;

/// Why a change to an attribute forces the resource to be deleted and created again.
#[derive(Debug, Clone, Copy)]
pub struct Replacement {
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

/// One attribute of a kind.
#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: AttributeType,
    /// Set by Azure or Kubernetes when the resource is applied (known after apply).
    pub computed: bool,
    /// Other resources may refer to it (`public_ip.web.address`).
    pub referable: bool,
    pub replace: Option<Replacement>,
}

/// An attribute that changes in place; the builders below say more.
pub(crate) const fn attribute(name: &'static str, ty: AttributeType) -> Attribute {
    Attribute { name, ty, computed: false, referable: false, replace: None }
}

impl Attribute {
    pub(crate) const fn computed(self) -> Attribute {
        Attribute { computed: true, ..self }
    }

    pub(crate) const fn referable(self) -> Attribute {
        Attribute { referable: true, ..self }
    }

    /// Every change forces replacement.
    pub(crate) const fn forces(self, reason: &'static str) -> Attribute {
        Attribute { replace: Some(Replacement { reason, condition: None, placement: false }), ..self }
    }

    /// Changes force replacement unless `condition` says the change is made in place.
    pub(crate) const fn forces_unless(
        self,
        reason: &'static str,
        condition: fn(&Attributes, &Attributes) -> Verdict,
    ) -> Attribute {
        Attribute { replace: Some(Replacement { reason, condition: Some(condition), placement: false }), ..self }
    }

    /// The attribute names where the resource lives (see [`Replacement::placement`]).
    pub(crate) const fn placement(self, reason: &'static str) -> Attribute {
        Attribute { replace: Some(Replacement { reason, condition: None, placement: true }), ..self }
    }
}

/// The reasons several kinds share.
pub(crate) const ARM_NAME: &str = "the name is part of the Azure resource id";
pub(crate) const ARM_GROUP: &str = "the resource group is part of the Azure resource id";
pub(crate) const KUBE_NAME: &str = "a Kubernetes object cannot be renamed";
pub(crate) const KUBE_NAMESPACE: &str = "a Kubernetes object cannot move to another namespace";
pub(crate) const KUBE_CLUSTER: &str = "a Kubernetes object cannot move to another cluster";

/// The attributes many kinds share.
pub(crate) const ARM_NAME_ATTRIBUTE: Attribute = attribute("name", AttributeType::Text).referable().forces(ARM_NAME);
pub(crate) const ARM_GROUP_ATTRIBUTE: Attribute = attribute("resource_group", AttributeType::Text).placement(ARM_GROUP);
pub(crate) const TAGS_ATTRIBUTE: Attribute = attribute("tags", AttributeType::TextMap);
pub(crate) const KUBE_NAME_ATTRIBUTE: Attribute = attribute("name", AttributeType::Text).referable().forces(KUBE_NAME);
pub(crate) const KUBE_NAMESPACE_ATTRIBUTE: Attribute =
    attribute("namespace", AttributeType::Text).placement(KUBE_NAMESPACE);
pub(crate) const KUBE_CLUSTER_ATTRIBUTE: Attribute =
    attribute("cluster", AttributeType::Address).placement(KUBE_CLUSTER);

/// The description of a kind.
#[derive(Debug)]
pub struct KindSpec {
    /// The keyword of the kind in the language and in addresses.
    pub keyword: &'static str,
    /// A readable name for messages ("virtual network", "node pool").
    pub noun: &'static str,
    /// The kind this one's blocks live in (`subnet` in `vnet`), if it is a child.
    pub parent: Option<Kind>,
    pub provider: Provider,
    /// Every attribute of the generic form, computed ones included.
    pub attributes: &'static [Attribute],
    /// The error code with which the provider refuses to delete a resource of the kind while
    /// another uses it (a route table on a subnet), if it refuses.
    pub in_use_refusal: Option<&'static str>,
    /// The parts of the one-line summary of a resource being created (`Standard_D4s_v5 × 3`).
    pub brief: fn(&Brief<'_>) -> Vec<Option<String>>,
}

/// The attributes a brief is made of: null ones read as absent, values shown plainly.
pub struct Brief<'a>(pub &'a Attributes);

impl Brief<'_> {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| **v != Value::Null)
    }

    pub fn show(&self, name: &str) -> Option<String> {
        self.get(name).map(Value::plain)
    }

    /// How many items the list `name` has, `None` when it is absent or not a list.
    pub fn len(&self, name: &str) -> Option<usize> {
        match self.get(name) {
            Some(Value::List(items)) => Some(items.len()),
            _ => None,
        }
    }
}

/// `1 port`, `3 ports`.
pub(crate) fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// No brief: the kind's address says it all.
fn no_brief(_: &Brief<'_>) -> Vec<Option<String>> {
    Vec::new()
}

impl Kind {
    pub fn keyword(self) -> &'static str {
        self.spec().keyword
    }

    pub fn from_keyword(word: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.keyword() == word)
    }

    pub fn parent(self) -> Option<Kind> {
        self.spec().parent
    }

    /// The kinds whose blocks live in this one's.
    pub fn children(self) -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(move |k| k.parent() == Some(self))
    }

    pub fn is_top_level(self) -> bool {
        self.parent().is_none()
    }

    /// Objects inside a Kubernetes cluster rather than in Azure Resource Manager.
    pub fn is_kubernetes(self) -> bool {
        self.spec().provider == Provider::Kubernetes
    }

    pub fn noun(self) -> &'static str {
        self.spec().noun
    }

    pub fn attribute(self, name: &str) -> Option<&'static Attribute> {
        self.spec().attributes.iter().find(|a| a.name == name)
    }

    /// Attributes other resources may reference, `name` first as every kind has it.
    pub fn referable_attributes(self) -> impl Iterator<Item = &'static Attribute> {
        self.spec().attributes.iter().filter(|a| a.referable)
    }

    /// The names of the attributes known only after apply.
    pub fn computed(self) -> &'static [&'static str] {
        static COMPUTED: OnceLock<Vec<Vec<&'static str>>> = OnceLock::new();
        let all = COMPUTED.get_or_init(|| {
            Kind::ALL
                .into_iter()
                .map(|kind| kind.spec().attributes.iter().filter(|a| a.computed).map(|a| a.name).collect())
                .collect()
        });
        &all[self as usize]
    }

    /// The attributes whose change (always or sometimes) forces replacement.
    pub fn immutable_attributes(self) -> impl Iterator<Item = (&'static str, &'static Replacement)> {
        self.spec().attributes.iter().filter_map(|a| a.replace.as_ref().map(|r| (a.name, r)))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// A value with the place it was written (or, for a default, the block it belongs to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

pub type Labels = BTreeMap<String, String>;

pub(crate) fn labels_value(labels: &Labels) -> Value {
    Value::map(labels.iter().map(|(k, v)| (k.clone(), Value::str(v.clone()))))
}

/// A typed resource of one kind, which the planner and the state see in the generic form.
pub trait Flatten {
    fn resource(&self) -> Resource;
}

/// The generic form of a resource of `kind`, with the kind's computed attributes.
pub(crate) fn flat(
    kind: Kind,
    address: &Address,
    span: Span,
    attributes: Vec<(&str, Value)>,
    mut depends_on: Vec<Address>,
) -> Resource {
    debug_assert_eq!(address.kind, kind);
    depends_on.sort();
    depends_on.dedup();
    Resource {
        address: address.clone(),
        attributes: attributes.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        computed: kind.computed(),
        depends_on,
        span,
        allow_replace: false,
        existing: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_names_its_attributes_once_and_forces_replacement_on_a_rename() {
        for kind in Kind::ALL {
            let names: Vec<&str> = kind.spec().attributes.iter().map(|a| a.name).collect();
            let mut unique = names.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(names.len(), unique.len(), "{kind} names an attribute twice");
            assert!(
                kind.immutable_attributes().any(|(name, _)| name == "name"),
                "{kind} must force replacement on a rename"
            );
            assert!(kind.referable_attributes().any(|a| a.name == "name"), "{kind} must be referable by name");
        }
    }

    #[test]
    fn keywords_are_unique_and_parents_are_top_level() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_keyword(kind.keyword()), Some(kind));
            if let Some(parent) = kind.parent() {
                assert!(parent.is_top_level(), "{kind} lives in {parent}, itself a child");
                assert!(parent.children().any(|c| c == kind));
            }
        }
    }

    #[test]
    fn kinds_list_in_address_order() {
        let mut sorted = Kind::ALL;
        sorted.sort();
        assert_eq!(sorted, Kind::ALL);
        assert_eq!(Kind::ALL.iter().enumerate().find(|(i, k)| **k as usize != *i), None);
    }
}
