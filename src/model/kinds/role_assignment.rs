//! Role assignments (Microsoft.Authorization/roleAssignments) a cluster's identity needs on
//! what it uses outside its node resource group. AKS's cloud provider acts as the cluster: it
//! joins its load balancers' frontends to subnets and public IPs, and a kubenet cluster writes
//! its routes into the route table of its subnet. Without a role there, a LoadBalancer
//! Service stays pending (`LinkedAuthorizationFailed`). The stack never writes these: they
//! are derived from its clusters, subnets, route tables and Services ([`derive`]), each
//! planned before the Services that need it.

use super::AttributeType as T;
use super::{Brief, Flatten, KindSpec, Provider, attribute, flat};
use crate::diag::Span;
use crate::model::{Address, AttributeRef, Kind, LoadBalancer, Resource, ServiceType, Stack, Value};

/// The role given: the narrowest built-in role with the join actions AKS needs.
pub const NETWORK_CONTRIBUTOR: &str = "Network Contributor";

/// What the cluster's cloud provider does with a scope of `kind`, as actions: what an
/// assignment made outside the stack must grant for this one not to be needed.
pub fn actions_needed_on(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Subnet => {
            &["Microsoft.Network/virtualNetworks/subnets/read", "Microsoft.Network/virtualNetworks/subnets/join/action"]
        }
        Kind::RouteTable => &[
            "Microsoft.Network/routeTables/read",
            "Microsoft.Network/routeTables/write",
            "Microsoft.Network/routeTables/routes/read",
            "Microsoft.Network/routeTables/routes/write",
            "Microsoft.Network/routeTables/routes/delete",
        ],
        Kind::PublicIp => {
            &["Microsoft.Network/publicIPAddresses/read", "Microsoft.Network/publicIPAddresses/join/action"]
        }
        _ => &["Microsoft.Network/*"],
    }
}

#[derive(Debug, Clone)]
pub struct RoleAssignment {
    pub address: Address,
    /// The cluster's block: where the need comes from.
    pub span: Span,
    pub cluster: Address,
    /// What the role is on: a subnet, a route table or a public IP.
    pub scope: Address,
    pub role: &'static str,
    /// The assignment's name: a GUID derived from the cluster and the scope, the same on
    /// every plan.
    pub name: String,
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "role_assignment",
    noun: "role assignment",
    parent: Some(Kind::Cluster),
    provider: Provider::Arm,
    attributes: &[
        attribute("name", T::Text).referable().forces("a role assignment's name is fixed"),
        attribute("scope", T::Address).placement("a role assignment's scope cannot change"),
        attribute("role", T::Text).forces("a role assignment's role cannot change"),
        attribute("principal_id", T::Text).forces("a role assignment's principal cannot change"),
    ],
    in_use_refusal: None,
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    vec![b.show("role"), b.show("scope").map(|s| format!("on {s}"))]
}

impl Flatten for RoleAssignment {
    fn resource(&self) -> Resource {
        let principal = AttributeRef { address: self.cluster.clone(), attribute: "principal_id".to_string() };
        flat(
            Kind::RoleAssignment,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name)),
                ("scope", Value::str(self.scope.to_string())),
                ("role", Value::str(self.role)),
                ("principal_id", Value::Ref(Box::new(principal))),
            ],
            vec![self.cluster.clone(), self.scope.clone()],
        )
    }
}

/// The role assignments the stack's clusters need, each with the Services that need it, and
/// those Services made to wait for them. A cluster with a user-assigned identity is left out:
/// its identity, and what it may do, are its owner's to grant.
pub(crate) fn derive(stack: &mut Stack) {
    let mut made: Vec<RoleAssignment> = Vec::new();
    let mut waits: Vec<(usize, Address)> = Vec::new();
    for cluster in stack.clusters.iter().filter(|c| c.identity == "SystemAssigned") {
        let node_group = cluster.node_resource_group.to_ascii_lowercase();
        let outside = |group: &str| group.to_ascii_lowercase() != node_group;
        let mut scopes: Vec<Address> = Vec::new();
        let mut subnets: Vec<&Address> = cluster.network.subnet.iter().map(|s| &s.value).collect();
        subnets.extend(
            stack
                .node_pools
                .iter()
                .filter(|p| p.cluster == cluster.address)
                .flat_map(|p| p.subnet.iter().chain(&p.pod_subnet).map(|s| &s.value)),
        );
        let add = |scopes: &mut Vec<Address>, scope: &Address| {
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        };
        for subnet in subnets {
            let Some(found) = stack.subnets.iter().find(|s| &s.address == subnet) else { continue };
            let Some(vnet) = stack.vnets.iter().find(|v| v.address == found.vnet) else { continue };
            if outside(&vnet.resource_group) {
                add(&mut scopes, subnet);
            }
            if let Some(table) = &found.route_table
                && stack.route_tables.iter().any(|t| t.address == table.value && outside(&t.resource_group))
            {
                add(&mut scopes, &table.value);
            }
        }
        let first_service_scope = scopes.len();
        for (index, service) in stack.services.iter().enumerate().filter(|(_, s)| s.cluster == cluster.address) {
            let ServiceType::LoadBalancer(LoadBalancer { public_ip, subnet, .. }) = &service.service_type.value else {
                continue;
            };
            let mut needs = Vec::new();
            if let Some(ip) = public_ip
                && stack.public_ips.iter().any(|p| p.address == ip.value && outside(&p.resource_group))
            {
                needs.push(ip.value.clone());
            }
            if let Some(subnet) = subnet
                && let Some(found) = stack.subnets.iter().find(|s| s.address == subnet.value)
                && stack.vnets.iter().any(|v| v.address == found.vnet && outside(&v.resource_group))
            {
                needs.push(subnet.value.clone());
            }
            // Every LoadBalancer Service waits for the cluster's roles on its subnets too:
            // its frontends are joined to them.
            needs.extend(scopes[..first_service_scope].iter().cloned());
            for scope in needs {
                add(&mut scopes, &scope);
                waits.push((index, cluster.address.child(Kind::RoleAssignment, scope.to_string())));
            }
        }
        for scope in scopes {
            let address = cluster.address.child(Kind::RoleAssignment, scope.to_string());
            let key = format!("{}/{}:{scope}:{NETWORK_CONTRIBUTOR}", cluster.resource_group, cluster.name);
            let name = guid(&key);
            made.push(RoleAssignment {
                address,
                span: cluster.span,
                cluster: cluster.address.clone(),
                scope,
                role: NETWORK_CONTRIBUTOR,
                name,
            });
        }
    }
    for (index, assignment) in waits {
        let service = &mut stack.services[index];
        if !service.waits_for.contains(&assignment) {
            service.waits_for.push(assignment);
        }
    }
    stack.role_assignments = made;
}

/// A GUID that is the same for the same text: an assignment's name is known at plan, and a
/// second plan names the same one.
fn guid(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}
