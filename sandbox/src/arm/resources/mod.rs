//! The resource types, one file each, listed once in `resource_types!`: for each, its identity
//! (path, api-version, long-running writes), the members a PUT may carry, the checks its
//! resource provider makes, the read-only values it fills in, and what a GET adds.

mod cluster_network;
mod dns_record_set;
mod ingress_profile;

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::address::Address;
use super::errors::ArmError;
use super::identity::TypeIdentity;
use super::schema::Schema;
use super::store::{Resource, Store};

pub use ingress_profile::enabled as web_app_routing_enabled;
pub use load_balancer::{FrontendPlan, PortRule, build as build_load_balancer, frontends, in_node_group};
pub use managed_cluster::{default_subnet, node_resource_group, removed_clusters};
pub use network_security_group::{build_security_group, security_group_name};
pub use public_ip::allocate_address;
pub use subnet::{first_v4, users as subnet_users};

/// What a PUT handler works with: the store as it is, the resource's address (in canonical
/// casing) and the resource if it exists.
pub struct PutContext<'a> {
    pub store: &'a Store,
    pub address: &'a Address,
    pub existing: Option<&'a Resource>,
}

/// The resource as it will be stored, and other resources written with it (the node resource
/// group of a cluster, the agent pools of its profiles).
pub struct Prepared {
    pub body: Value,
    pub also: Vec<(Address, Value)>,
    /// Resources the write removes (the subnets a VNet's `subnets` list leaves out).
    pub remove: Vec<Address>,
}

impl Prepared {
    pub(crate) fn alone(body: Value) -> Prepared {
        Prepared { body, also: Vec::new(), remove: Vec::new() }
    }
}

/// One resource type the emulator serves: what a PUT may carry, the checks its resource
/// provider makes, and what a GET, a delete and a finished operation add or change.
pub trait ResourceType: Sync {
    /// What identifies the type to ARM: namespace, type segments, api-version and the rest.
    fn identity(&self) -> &TypeIdentity;

    /// The request-body schema (built once, see [`schema`]).
    fn schema(&self) -> Schema;

    /// Checks a PUT body (already schema-checked) against the provider's rules and builds the
    /// resource to store. The caller sets `provisioningState`.
    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError>;

    /// Another resource whose running operation blocks writes to this one, if one is running
    /// (a pool's cluster, a cluster's pools).
    fn busy_neighbour(&self, _store: &Store, _address: &Address) -> Option<Address> {
        None
    }

    /// Whether its resources run a Kubernetes control plane, started while a create or update
    /// runs and stopped when the resource goes (managed clusters).
    fn has_control_plane(&self) -> bool {
        false
    }

    /// Whether clients may write it (load balancers and security groups are the clusters'
    /// cloud provider's).
    fn writable(&self) -> bool {
        true
    }

    /// Why the resource may not be deleted now, if it may not.
    fn check_delete(&self, _store: &Store, _resource: &Resource) -> Result<(), ArmError> {
        Ok(())
    }

    /// Fills in what a GET shows beyond the stored body (children, back-references).
    fn render(&self, _store: &Store, _resource: &Resource, _body: &mut Value) {}

    /// What its long-running operation does when it succeeds, beyond `provisioningState`.
    fn on_succeeded(&self, _store: &mut Store, _address: &Address, _state: &str) {}

    /// What a write changes beyond the resource itself.
    fn after_put(&self, _store: &mut Store, _address: &Address) {}

    /// What removing the resource changes in the ones left.
    fn after_remove(&self, _store: &mut Store, _removed: &Resource) {}
}

/// Declares the resource types: each line is a [`Kind`], the file that serves it and the
/// implementation there. From the list come `Kind` (in this order, which `kind as usize` and
/// [`Kind::ALL`] follow), the files' `mod` items and [`resource_type`].
macro_rules! resource_types {
    ($($kind:ident => $module:ident::$implementation:ident),+ $(,)?) => {
        $(mod $module;)+

        /// Every resource type the emulator knows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $($kind),+
        }

        impl Kind {
            /// Every kind, in declaration order.
            pub const ALL: [Kind; [$(Kind::$kind),+].len()] = [$(Kind::$kind),+];
        }

        /// The implementation of each type.
        pub fn resource_type(kind: Kind) -> &'static dyn ResourceType {
            match kind {
                $(Kind::$kind => &$module::$implementation),+
            }
        }
    };
}

// The one registry: a new type is its file and one line here.
resource_types! {
    ResourceGroup => resource_group::ResourceGroup,
    VirtualNetwork => virtual_network::VirtualNetwork,
    Subnet => subnet::Subnet,
    VirtualNetworkPeering => peering::VirtualNetworkPeering,
    PublicIpAddress => public_ip::PublicIpAddress,
    NatGateway => nat_gateway::NatGateway,
    NetworkInterface => network_interface::NetworkInterface,
    RouteTable => route_table::RouteTable,
    LoadBalancer => load_balancer::LOAD_BALANCER,
    NetworkSecurityGroup => network_security_group::NETWORK_SECURITY_GROUP,
    DnsZone => dns_zone::DnsZone,
    DnsARecord => dns_a_record::A_RECORD_SET,
    DnsCnameRecord => dns_cname_record::CNAME_RECORD_SET,
    ManagedCluster => managed_cluster::ManagedCluster,
    AgentPool => agent_pool::AgentPool,
}

/// The request-body schema of a type, built on first use.
pub fn schema(kind: Kind) -> &'static Schema {
    // One cell per kind, in declaration order (`kind as usize`).
    static SCHEMAS: [OnceLock<Schema>; Kind::ALL.len()] = [const { OnceLock::new() }; Kind::ALL.len()];
    SCHEMAS[kind as usize].get_or_init(|| resource_type(kind).schema())
}

/// See [`ResourceType::prepare`].
pub fn prepare(context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
    resource_type(context.address.kind).prepare(context, body)
}

/// See [`ResourceType::check_delete`].
pub fn check_delete(store: &Store, resource: &Resource) -> Result<(), ArmError> {
    resource_type(resource.address.kind).check_delete(store, resource)
}

/// The resource as a GET shows it, with its children and back-references filled in.
pub fn render(store: &Store, resource: &Resource) -> Value {
    let mut body = resource.body.clone();
    resource_type(resource.address.kind).render(store, resource, &mut body);
    body
}

/// See [`ResourceType::on_succeeded`] (the managed cluster's pools follow their cluster).
pub fn on_succeeded(store: &mut Store, address: &Address, state: &str) {
    resource_type(address.kind).on_succeeded(store, address, state);
}

/// See [`ResourceType::after_put`] (a peering that finds its way back connects both sides).
pub fn after_put(store: &mut Store, address: &Address) {
    resource_type(address.kind).after_put(store, address);
}

/// What removing resources changes in the ones left: peerings to a removed VNet, or whose
/// remote side was removed, are `Disconnected`.
pub fn after_remove(store: &mut Store, removed: &[Resource]) {
    for resource in removed {
        resource_type(resource.address.kind).after_remove(store, resource);
    }
}

/// See [`ResourceType::busy_neighbour`].
pub fn busy_neighbour(store: &Store, address: &Address) -> Option<Address> {
    resource_type(address.kind).busy_neighbour(store, address)
}

/// See [`ResourceType::has_control_plane`].
pub fn has_control_plane(kind: Kind) -> bool {
    resource_type(kind).has_control_plane()
}

/// Refuses writes to the types only the cloud-controller loop writes.
pub fn check_writable(address: &Address) -> Result<(), ArmError> {
    if resource_type(address.kind).writable() { Ok(()) } else { Err(read_only_type(address)) }
}

/// Load balancers and network security groups: the clusters' cloud provider writes them,
/// clients only read them.
pub struct CloudProviderOwned {
    pub identity: TypeIdentity,
}

impl ResourceType for CloudProviderOwned {
    fn identity(&self) -> &TypeIdentity {
        &self.identity
    }

    fn schema(&self) -> Schema {
        Schema::new("ReadOnlyResource", &[])
    }

    fn prepare(&self, context: &PutContext<'_>, _body: Value) -> Result<Prepared, ArmError> {
        Err(read_only_type(context.address))
    }

    fn writable(&self) -> bool {
        false
    }

    fn check_delete(&self, _store: &Store, resource: &Resource) -> Result<(), ArmError> {
        Err(read_only_type(&resource.address))
    }
}

fn read_only_type(address: &Address) -> ArmError {
    ArmError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("'{}' is managed by the cluster's cloud provider; it can be read but not written.", address.id()),
    )
}

/// The fields every resource shows: id, name, type; `location` in ARM's normalized form
/// (`East US` → `eastus`), and a `properties` object.
fn base(address: &Address, mut body: Value) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("id".into(), Value::String(address.id()));
    out.insert("name".into(), Value::String(address.name().to_string()));
    out.insert("type".into(), Value::String(address.kind.response_type()));
    if let Some(members) = body.as_object_mut() {
        if let Some(Value::String(location)) = members.remove("location") {
            out.insert("location".into(), Value::String(normalize_location(&location)));
        }
        for (key, value) in std::mem::take(members) {
            out.insert(key, value);
        }
    }
    if !out.get("properties").is_some_and(Value::is_object) {
        out.insert("properties".into(), json!({}));
    }
    out
}

pub fn normalize_location(location: &str) -> String {
    location.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
}

/// ARM's answer to a tracked resource without a location.
fn require_location(body: &Value) -> Result<String, ArmError> {
    match body.get("location").and_then(Value::as_str) {
        Some(location) if !location.trim().is_empty() => Ok(normalize_location(location)),
        _ => Err(ArmError::bad_request("LocationRequired", "The location property is required for this definition.")
            .with_target("location")),
    }
}

/// A tracked resource keeps its location: ARM refuses to move it with a PUT.
fn keep_location(context: &PutContext<'_>, location: &str) -> Result<(), ArmError> {
    let Some(existing) = context.existing.and_then(|resource| resource.str_property("/location")) else {
        return Ok(());
    };
    if existing != location {
        return Err(ArmError::new(
            axum::http::StatusCode::CONFLICT,
            "InvalidResourceLocation",
            format!(
                "The resource '{}' already exists in location '{existing}' in resource group '{}'. A resource with the same name cannot be created in location '{location}'. Please select a new resource name.",
                context.address.name(),
                context.address.resource_group
            ),
        ));
    }
    Ok(())
}

/// A network-style weak etag, new on every write.
fn weak_etag() -> Value {
    Value::String(format!("W/\"{}\"", uuid::Uuid::new_v4()))
}

fn new_guid() -> Value {
    Value::String(uuid::Uuid::new_v4().to_string())
}

/// A reference in a resource (`referrer`, by id) must name an existing resource of `kind`.
fn check_reference(store: &Store, referrer: &str, id: &str, kind: Kind) -> Result<(), ArmError> {
    match Address::parse_id(id).filter(|a| a.kind == kind).and_then(|a| store.get(&a)) {
        Some(_) => Ok(()),
        None => Err(ArmError::reference_not_found("InvalidResourceReference", id, referrer)),
    }
}

/// A property that may not change once the resource exists.
fn immutable(context: &PutContext<'_>, pointer: &str, name: &str, new: Option<&Value>) -> Result<(), ArmError> {
    let Some(existing) = context.existing else { return Ok(()) };
    let old = existing.property(pointer);
    if let (Some(old), Some(new)) = (old, new)
        && !same_value(old, new)
    {
        return Err(ArmError::property_change_not_allowed(name, &display(old), &display(new)));
    }
    Ok(())
}

/// Strings compare case-insensitively, as the providers compare enum values and ids.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
        _ => a == b,
    }
}

fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn properties_mut(body: &mut Map<String, Value>) -> &mut Map<String, Value> {
    if !body.get("properties").is_some_and(Value::is_object) {
        body.insert("properties".into(), json!({}));
    }
    match body.get_mut("properties") {
        Some(Value::Object(properties)) => properties,
        _ => unreachable!("properties was just made an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_schema_cell() {
        for (index, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, index, "{kind:?}: Kind::ALL is in declaration order");
            assert!(std::ptr::eq(schema(kind), schema(kind)), "{kind:?}");
        }
    }

    #[test]
    fn only_the_cloud_providers_types_are_read_only() {
        for kind in Kind::ALL {
            let read_only = matches!(kind, Kind::LoadBalancer | Kind::NetworkSecurityGroup);
            assert_eq!(resource_type(kind).writable(), !read_only, "{kind:?}");
        }
    }
}
