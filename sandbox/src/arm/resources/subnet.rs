//! Microsoft.Network/virtualNetworks/subnets: inside the VNet's address space, no overlap with
//! sibling subnets, and, once nodes or load-balancer frontends use it, neither shrunk nor
//! deleted. Also counts what each user of a subnet takes from it.

use ipnet::IpNet;
use serde_json::{Value, json};

use super::{Prepared, ResourceType};
use super::{PutContext, base, properties_mut, weak_etag};
use crate::arm::address::{Address, Kind};
use crate::arm::cidr::{self, as_v4, overlaps, parse_prefix, usable_addresses, within};
use crate::arm::errors::ArmError;
use crate::arm::identity::TypeIdentity;
use crate::arm::schema::Schema;
use crate::arm::store::{Resource, Store};

/// Subnets of a virtual network.
pub struct Subnet;

static IDENTITY: TypeIdentity =
    TypeIdentity::network(&["virtualNetworks", "subnets"]).in_parent(Kind::VirtualNetwork);

impl ResourceType for Subnet {
    fn identity(&self) -> &TypeIdentity {
        &IDENTITY
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        prepare(context, body).map(Prepared::alone)
    }

    fn check_delete(&self, store: &Store, subnet: &Resource) -> Result<(), ArmError> {
        match users(store, &subnet.address).first() {
            Some(user) => Err(in_use(&subnet.address, &user.by)),
            None => Ok(()),
        }
    }

    fn render(&self, store: &Store, subnet: &Resource, body: &mut Value) {
        let configurations: Vec<Value> = users(store, &subnet.address)
            .into_iter()
            .filter_map(|user| user.ip_configuration)
            .map(|id| json!({ "id": id }))
            .collect();
        if !configurations.is_empty()
            && let Some(properties) = body.get_mut("properties").and_then(Value::as_object_mut)
        {
            properties.insert("ipConfigurations".into(), Value::Array(configurations));
        }
    }
}

/// The members of a subnet, under `properties.` (shared with the VNet's inline `subnets`).
pub const PROPERTY_PATHS: &[&str] = &[
    "properties.addressPrefix",
    "properties.addressPrefixes[]",
    "properties.networkSecurityGroup.id",
    "properties.routeTable.id",
    "properties.natGateway.id",
    "properties.serviceEndpoints[].service",
    "properties.serviceEndpoints[].locations[]",
    "properties.serviceEndpoints[].provisioningState!",
    "properties.serviceEndpointPolicies[].id",
    "properties.delegations[].name",
    "properties.delegations[].properties.serviceName",
    "properties.delegations[].properties.actions!",
    "properties.delegations[].properties.provisioningState!",
    "properties.delegations[].id!",
    "properties.delegations[].etag!",
    "properties.delegations[].type!",
    "properties.privateEndpointNetworkPolicies",
    "properties.privateLinkServiceNetworkPolicies",
    "properties.defaultOutboundAccess",
    "properties.sharingScope",
    "properties.ipAllocations[].id",
    "properties.applicationGatewayIPConfigurations~",
    "properties.provisioningState!",
    "properties.ipConfigurations!",
    "properties.ipConfigurationProfiles!",
    "properties.privateEndpoints!",
    "properties.resourceNavigationLinks!",
    "properties.serviceAssociationLinks!",
    "properties.purpose!",
];

pub fn schema() -> Schema {
    let mut paths = vec!["id!", "name!", "type!", "etag!"];
    paths.extend_from_slice(PROPERTY_PATHS);
    Schema::new("Subnet", &paths)
}

/// The prefixes of a subnet body (`addressPrefix` or `addressPrefixes`), as written.
pub fn prefix_texts(body: &Value) -> Vec<String> {
    let mut texts = Vec::new();
    if let Some(prefix) = body.pointer("/properties/addressPrefix").and_then(Value::as_str) {
        texts.push(prefix.to_string());
    }
    if let Some(prefixes) = body.pointer("/properties/addressPrefixes").and_then(Value::as_array) {
        texts.extend(prefixes.iter().filter_map(Value::as_str).map(str::to_string));
    }
    texts
}

/// A stored subnet's prefixes; stored subnets were checked, so unparsable ones are skipped.
pub fn stored_prefixes(subnet: &Resource) -> Vec<IpNet> {
    prefix_texts(&subnet.body).iter().filter_map(|text| text.parse().ok()).collect()
}

pub fn prepare(context: &PutContext<'_>, body: Value) -> Result<Value, ArmError> {
    let Some(vnet_address) = context.address.parent() else { return Err(internal()) };
    let Some(vnet) = context.store.get(&vnet_address) else { return Err(internal()) };
    let vnet_prefixes = super::virtual_network::stored_address_space(vnet);
    let siblings: Vec<(String, Vec<IpNet>)> = context
        .store
        .children(&vnet_address, Kind::Subnet)
        .into_iter()
        .filter(|sibling| sibling.address != *context.address)
        .map(|sibling| (sibling.address.name().to_string(), stored_prefixes(sibling)))
        .collect();
    check(context.store, context.address, context.existing, &body, &vnet_prefixes, &siblings)?;
    Ok(build(context.address, body))
}

/// The subnet as stored, with the Network RP's defaults.
pub fn build(address: &Address, body: Value) -> Value {
    let mut out = base(address, body);
    out.insert("etag".into(), weak_etag());
    let properties = properties_mut(&mut out);
    properties.entry("privateEndpointNetworkPolicies").or_insert(json!("Disabled"));
    properties.entry("privateLinkServiceNetworkPolicies").or_insert(json!("Enabled"));
    Value::Object(out)
}

/// The Network RP's checks of one subnet against its VNet and its siblings.
pub fn check(
    store: &Store,
    address: &Address,
    existing: Option<&Resource>,
    body: &Value,
    vnet_prefixes: &[IpNet],
    siblings: &[(String, Vec<IpNet>)],
) -> Result<(), ArmError> {
    let id = address.id();
    let name = address.name();
    let vnet_name = address.parent().map(|vnet| vnet.name().to_string()).unwrap_or_default();
    let texts = prefix_texts(body);
    if texts.is_empty() {
        return Err(ArmError::bad_request(
            "NoAddressPrefixOrPoolProvided",
            format!("Subnet {id} must have either addressPrefix(es) or ipamPoolPrefixAllocations specified."),
        )
        .with_target("properties.addressPrefix"));
    }
    let mut prefixes = Vec::new();
    for text in &texts {
        let prefix = parse_prefix(text, &id)?;
        if !vnet_prefixes.iter().any(|space| within(&prefix, space)) {
            return Err(ArmError::bad_request(
                "NetcfgSubnetRangeOutsideVnet",
                format!("Subnet '{name}' is not valid because its IP address range is outside the IP address range of virtual network '{vnet_name}'."),
            )
            .with_target("properties.addressPrefix"));
        }
        prefixes.push(prefix);
    }
    for (sibling, sibling_prefixes) in siblings {
        if prefixes.iter().any(|prefix| sibling_prefixes.iter().any(|other| overlaps(prefix, other))) {
            return Err(ArmError::bad_request(
                "NetcfgSubnetRangesOverlap",
                format!("Subnet '{name}' is not valid because its IP address range overlaps with that of an existing subnet '{sibling}' in virtual network '{vnet_name}'."),
            )
            .with_target("properties.addressPrefix"));
        }
    }
    // Each reference must name an existing resource: `InvalidResourceReference` otherwise.
    let references = [
        ("networkSecurityGroup", Kind::NetworkSecurityGroup),
        ("routeTable", Kind::RouteTable),
        ("natGateway", Kind::NatGateway),
    ];
    for (property, kind) in references {
        if let Some(target) = body.pointer(&format!("/properties/{property}/id")).and_then(Value::as_str) {
            super::check_reference(store, &id, target, kind)?;
        }
    }
    if let Some(existing) = existing {
        let old = stored_prefixes(existing);
        let users = users(store, address);
        for removed in old.iter().filter(|prefix| !prefixes.contains(prefix)) {
            if let Some(user) = users.first() {
                return Err(ArmError::bad_request(
                    "InUsePrefixCannotBeDeleted",
                    format!("IpPrefix {removed} on Subnet {name} has active allocations and cannot be deleted (used by {}).", user.by),
                )
                .with_target("properties.addressPrefix"));
            }
        }
    }
    Ok(())
}

/// What a subnet may be associated with (a route table, a NAT gateway): the subnet's property
/// that names it, and what the associated resource shows and refuses because of it.
pub struct Association {
    pub property: &'static str,
    /// How messages name the associated type, capitalised ("Route table").
    pub noun: &'static str,
    /// The code of the refusal to delete it while a subnet uses it.
    pub in_use_code: &'static str,
}

impl Association {
    /// The ids of the subnets associated with `resource`.
    pub fn subnets(&self, store: &Store, resource: &Address) -> Vec<String> {
        let id = resource.id();
        let pointer = format!("/properties/{}/id", self.property);
        store
            .all_of(Kind::Subnet)
            .into_iter()
            .filter(|subnet| subnet.str_property(&pointer).is_some_and(|t| t.eq_ignore_ascii_case(&id)))
            .map(|subnet| subnet.address.id())
            .collect()
    }

    /// The refusal to delete the resource while a subnet uses it.
    pub fn check_delete(&self, store: &Store, resource: &Resource) -> Result<(), ArmError> {
        match self.subnets(store, &resource.address).first() {
            Some(subnet) => Err(ArmError::bad_request(
                self.in_use_code,
                format!(
                    "{} {} is in use by subnet {subnet} and cannot be deleted. Disassociate it from the subnet first.",
                    self.noun,
                    resource.address.id()
                ),
            )),
            None => Ok(()),
        }
    }

    /// The subnets a GET of the resource lists back.
    pub fn render(&self, store: &Store, resource: &Resource, body: &mut Value) {
        let subnets: Vec<Value> =
            self.subnets(store, &resource.address).into_iter().map(|id| json!({ "id": id })).collect();
        if !subnets.is_empty()
            && let Some(properties) = body.get_mut("properties").and_then(Value::as_object_mut)
        {
            properties.insert("subnets".into(), Value::Array(subnets));
        }
    }
}

pub fn in_use(subnet: &Address, by: &str) -> ArmError {
    ArmError::bad_request(
        "InUseSubnetCannotBeDeleted",
        format!(
            "Subnet {} is in use by {by} and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet.",
            subnet.name()
        ),
    )
}

/// One user of a subnet and how many of its addresses it takes.
#[derive(Debug, Clone)]
pub struct SubnetUse {
    /// The using resource's id (an agent pool, a load balancer).
    pub by: String,
    pub addresses: u64,
    /// A load-balancer frontend's id, listed in the subnet's `ipConfigurations`.
    pub ip_configuration: Option<String>,
}

/// Everything that takes addresses from a subnet: agent pools (nodes, and pods with Azure CNI)
/// network interfaces' IP configurations, and internal load-balancer frontends.
pub fn users(store: &Store, subnet: &Address) -> Vec<SubnetUse> {
    let mut found = Vec::new();
    for pool in store.all_of(Kind::AgentPool) {
        let Some(cluster) = pool.address.parent().and_then(|cluster| store.get(&cluster)) else { continue };
        let network = super::agent_pool::ClusterNetwork::of(&cluster.body);
        let demand = super::agent_pool::subnet_demand(&pool.body["properties"], &network);
        for (subnet_id, addresses) in demand {
            if subnet_id.eq_ignore_ascii_case(&subnet.id()) {
                found.push(SubnetUse { by: pool.address.id(), addresses, ip_configuration: None });
            }
        }
    }
    for (configuration, _) in super::network_interface::configurations_in(store, subnet) {
        let nic = configuration.split("/ipConfigurations/").next().unwrap_or_default().to_string();
        found.push(SubnetUse { by: nic, addresses: 1, ip_configuration: Some(configuration) });
    }
    for balancer in store.all_of(Kind::LoadBalancer) {
        for frontend in super::load_balancer::frontends(&balancer.body) {
            if frontend.subnet_id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(&subnet.id())) {
                found.push(SubnetUse { by: balancer.address.id(), addresses: 1, ip_configuration: Some(frontend.id) });
            }
        }
    }
    found
}

/// The usable addresses of a subnet (its IPv4 prefixes), and how many its users take.
pub fn subnet_capacity(store: &Store, subnet: &Resource) -> (u64, u64) {
    let usable: u64 = stored_prefixes(subnet).iter().filter_map(as_v4).map(|net| usable_addresses(&net)).sum();
    let used = users(store, &subnet.address).iter().map(|user| user.addresses).sum();
    (usable, used)
}

/// The first IPv4 prefix of a stored subnet.
pub fn first_v4(subnet: &Resource) -> Option<ipnet::Ipv4Net> {
    stored_prefixes(subnet).iter().find_map(cidr::as_v4)
}

fn internal() -> ArmError {
    ArmError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        "The parent virtual network vanished.",
    )
}
