//! The whole stack, resolved: its settings and its resources of every kind, typed, and their
//! generic form for the planner and the state.

use super::kinds::*;
use super::resource::Resource;
use crate::diag::Span;

/// The whole stack, resolved.
#[derive(Debug, Clone, Default)]
pub struct Stack {
    pub name: String,
    /// The `stack` block, when there is one.
    pub span: Option<Span>,
    /// `None` when it comes from an environment variable that is not set (apply needs it).
    pub subscription: Option<String>,
    pub location: String,
    /// Local state path given in the stack (`state = local { path = "..." }`), relative to the stack folder.
    pub state_path: Option<String>,
    pub resource_groups: Vec<ResourceGroup>,
    pub vnets: Vec<Vnet>,
    pub subnets: Vec<Subnet>,
    pub peerings: Vec<Peering>,
    pub route_tables: Vec<RouteTable>,
    pub public_ips: Vec<PublicIp>,
    pub clusters: Vec<Cluster>,
    pub node_pools: Vec<NodePool>,
    pub namespaces: Vec<Namespace>,
    pub services: Vec<Service>,
    pub ingresses: Vec<Ingress>,
    pub dns_zones: Vec<DnsZone>,
    pub dns_records: Vec<DnsRecord>,
}

/// Flattens one kind's resources into `out`; a large kind (Services and Ingresses are nearly
/// all of a large stack) on every core.
fn flatten<T: Flatten + Sync>(resources: &[T], out: &mut Vec<Resource>) {
    const ON_ONE_THREAD: usize = 256;
    if resources.len() <= ON_ONE_THREAD {
        out.extend(resources.iter().map(Flatten::resource));
        return;
    }
    for part in crate::parallel::map_chunks(resources, |part| part.iter().map(Flatten::resource).collect()) {
        out.extend::<Vec<Resource>>(part);
    }
}

impl Stack {
    /// Applies `visit` to the resources of `kind`: the one place that maps a kind to its
    /// vector, so that a kind left out is a compile error.
    fn with_kind<R>(&self, kind: Kind, visit: &mut dyn FnMut(&dyn KindVector) -> R) -> R {
        match kind {
            Kind::ResourceGroup => visit(&self.resource_groups),
            Kind::Vnet => visit(&self.vnets),
            Kind::Subnet => visit(&self.subnets),
            Kind::Peering => visit(&self.peerings),
            Kind::RouteTable => visit(&self.route_tables),
            Kind::PublicIp => visit(&self.public_ips),
            Kind::Cluster => visit(&self.clusters),
            Kind::NodePool => visit(&self.node_pools),
            Kind::Namespace => visit(&self.namespaces),
            Kind::Service => visit(&self.services),
            Kind::Ingress => visit(&self.ingresses),
            Kind::DnsZone => visit(&self.dns_zones),
            Kind::DnsRecord => visit(&self.dns_records),
        }
    }

    /// How many resources of `kind` the stack declares.
    pub fn count(&self, kind: Kind) -> usize {
        self.with_kind(kind, &mut |v| v.len())
    }

    /// Every resource in the generic form the planner and the state use, kind by kind.
    pub fn resources(&self) -> Vec<Resource> {
        // Sized once: growing a vector this large frees the old buffer each time.
        let mut out = Vec::with_capacity(Kind::ALL.into_iter().map(|k| self.count(k)).sum());
        for kind in Kind::ALL {
            self.with_kind(kind, &mut |v| v.flatten_into(&mut out));
        }
        out
    }
}

/// The resources of one kind, whatever their type.
trait KindVector {
    fn len(&self) -> usize;
    fn flatten_into(&self, out: &mut Vec<Resource>);
}

impl<T: Flatten + Sync> KindVector for Vec<T> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn flatten_into(&self, out: &mut Vec<Resource>) {
        flatten(self, out);
    }
}
