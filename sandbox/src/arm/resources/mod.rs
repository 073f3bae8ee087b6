//! The resource types: for each, the members a PUT may carry, the checks its resource provider
//! makes, the read-only values it fills in, and what a GET adds (children, references).

mod agent_pool;
mod cluster_network;
mod dns;
mod ingress_profile;
mod load_balancer;
mod managed_cluster;
mod peering;
mod public_ip;
mod resource_group;
mod subnet;
mod virtual_network;

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::address::{Address, Kind};
use super::errors::ArmError;
use super::schema::Schema;
use super::store::{Resource, Store};

pub use ingress_profile::enabled as web_app_routing_enabled;
pub use load_balancer::{
    FrontendPlan, PortRule, build as build_load_balancer, build_security_group, frontends, in_node_group,
    security_group_name,
};
pub use managed_cluster::{default_subnet, node_resource_group, removed_clusters};
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
    fn alone(body: Value) -> Prepared {
        Prepared { body, also: Vec::new(), remove: Vec::new() }
    }
}

/// The request-body schema of a type.
pub fn schema(kind: Kind) -> &'static Schema {
    static SCHEMAS: OnceLock<Vec<Schema>> = OnceLock::new();
    let schemas = SCHEMAS.get_or_init(|| {
        Kind::ALL
            .into_iter()
            .map(|kind| match kind {
                Kind::ResourceGroup => resource_group::schema(),
                Kind::VirtualNetwork => virtual_network::schema(),
                Kind::Subnet => subnet::schema(),
                Kind::VirtualNetworkPeering => peering::schema(),
                Kind::PublicIpAddress => public_ip::schema(),
                Kind::LoadBalancer | Kind::NetworkSecurityGroup => Schema::new("ReadOnlyResource", &[]),
                Kind::DnsZone => dns::zone_schema(),
                Kind::DnsARecord => dns::a_record_schema(),
                Kind::DnsCnameRecord => dns::cname_record_schema(),
                Kind::ManagedCluster => managed_cluster::schema(),
                Kind::AgentPool => agent_pool::schema(),
            })
            .collect()
    });
    let index = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    &schemas[index]
}

/// Checks a PUT body (already schema-checked) against the provider's rules and builds the
/// resource to store. The caller sets `provisioningState`.
pub fn prepare(context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
    match context.address.kind {
        Kind::ResourceGroup => resource_group::prepare(context, body).map(Prepared::alone),
        Kind::VirtualNetwork => virtual_network::prepare(context, body),
        Kind::Subnet => subnet::prepare(context, body).map(Prepared::alone),
        Kind::VirtualNetworkPeering => peering::prepare(context, body).map(Prepared::alone),
        Kind::PublicIpAddress => public_ip::prepare(context, body).map(Prepared::alone),
        Kind::DnsZone => dns::prepare_zone(context, body).map(Prepared::alone),
        Kind::DnsARecord | Kind::DnsCnameRecord => dns::prepare_record(context, body).map(Prepared::alone),
        Kind::ManagedCluster => managed_cluster::prepare(context, body),
        Kind::AgentPool => agent_pool::prepare(context, body).map(Prepared::alone),
        Kind::LoadBalancer | Kind::NetworkSecurityGroup => Err(read_only_type(context.address)),
    }
}

/// Why a resource may not be deleted now, if it may not.
pub fn check_delete(store: &Store, resource: &Resource) -> Result<(), ArmError> {
    match resource.address.kind {
        Kind::Subnet => subnet::check_delete(store, resource),
        Kind::VirtualNetwork => virtual_network::check_delete(store, resource),
        Kind::PublicIpAddress => public_ip::check_delete(store, resource),
        Kind::DnsZone | Kind::ResourceGroup | Kind::ManagedCluster => Ok(()),
        Kind::AgentPool => agent_pool::check_delete(store, resource),
        Kind::LoadBalancer | Kind::NetworkSecurityGroup => Err(read_only_type(&resource.address)),
        _ => Ok(()),
    }
}

/// The resource as a GET shows it, with its children and back-references filled in.
pub fn render(store: &Store, resource: &Resource) -> Value {
    let mut body = resource.body.clone();
    match resource.address.kind {
        Kind::VirtualNetwork => virtual_network::render(store, resource, &mut body),
        Kind::Subnet => subnet::render(store, resource, &mut body),
        Kind::ManagedCluster => managed_cluster::render(store, resource, &mut body),
        Kind::DnsZone => dns::render_zone(store, resource, &mut body),
        Kind::PublicIpAddress => public_ip::render(store, resource, &mut body),
        _ => {}
    }
    body
}

/// What a resource's long-running operation does when it succeeds, beyond setting
/// `provisioningState` (the managed cluster's pools follow their cluster).
pub fn on_succeeded(store: &mut Store, address: &Address, state: &str) {
    if address.kind == Kind::ManagedCluster {
        managed_cluster::set_pools_state(store, address, state);
    }
}

/// What a write changes beyond the resource itself: a peering that finds its way back
/// connects both sides.
pub fn after_put(store: &mut Store, address: &Address) {
    if address.kind == Kind::VirtualNetworkPeering {
        peering::connect_back(store, address);
    }
}

/// What removing resources changes in the ones left: peerings to a removed VNet, or whose
/// remote side was removed, are `Disconnected`.
pub fn after_remove(store: &mut Store, removed: &[Resource]) {
    for resource in removed {
        match resource.address.kind {
            Kind::VirtualNetworkPeering => peering::disconnect_back(store, resource),
            Kind::VirtualNetwork => peering::disconnect_all_to(store, &resource.address),
            _ => {}
        }
    }
}

/// Refuses writes to the types only the cloud-controller loop writes.
pub fn check_writable(address: &Address) -> Result<(), ArmError> {
    match address.kind {
        Kind::LoadBalancer | Kind::NetworkSecurityGroup => Err(read_only_type(address)),
        _ => Ok(()),
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
