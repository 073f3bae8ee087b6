//! Microsoft.Network/virtualNetworks: the address space, inline subnets (a PUT without
//! `subnets` leaves the child subnets alone), and what a GET lists (subnets, peerings).

use ipnet::IpNet;
use serde_json::{Value, json};

use super::ResourceType;
use super::{Prepared, PutContext, base, keep_location, new_guid, properties_mut, require_location, weak_etag};
use crate::arm::address::Kind;
use crate::arm::cidr::{overlaps, parse_prefix, within};
use crate::arm::errors::ArmError;
use crate::arm::identity::TypeIdentity;
use crate::arm::schema::Schema;
use crate::arm::store::{Resource, Store};

/// Virtual networks.
pub struct VirtualNetwork;

static IDENTITY: TypeIdentity = TypeIdentity::network(&["virtualNetworks"]);

impl ResourceType for VirtualNetwork {
    fn identity(&self) -> &TypeIdentity {
        &IDENTITY
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        prepare(context, body)
    }

    fn check_delete(&self, store: &Store, resource: &Resource) -> Result<(), ArmError> {
        check_delete(store, resource)
    }

    fn render(&self, store: &Store, resource: &Resource, body: &mut Value) {
        render(store, resource, body);
    }

    fn after_remove(&self, store: &mut Store, removed: &Resource) {
        super::peering::disconnect_all_to(store, &removed.address);
    }
}

pub fn schema() -> Schema {
    let mut paths = vec![
        "location",
        "tags.*",
        "extendedLocation~",
        "id!",
        "name!",
        "type!",
        "etag!",
        "properties.addressSpace.addressPrefixes[]",
        "properties.dhcpOptions.dnsServers[]",
        "properties.enableDdosProtection",
        "properties.enableVmProtection",
        "properties.ddosProtectionPlan.id",
        "properties.bgpCommunities.virtualNetworkCommunity",
        "properties.bgpCommunities.regionalCommunity!",
        "properties.encryption.enabled",
        "properties.encryption.enforcement",
        "properties.flowTimeoutInMinutes",
        "properties.privateEndpointVNetPolicies",
        "properties.provisioningState!",
        "properties.resourceGuid!",
        "properties.flowLogs!",
        "properties.virtualNetworkPeerings!",
        "properties.subnets[].name",
        "properties.subnets[].id!",
        "properties.subnets[].etag!",
        "properties.subnets[].type!",
    ];
    let inline: Vec<String> =
        super::subnet::PROPERTY_PATHS.iter().map(|path| format!("properties.subnets[].{path}")).collect();
    paths.extend(inline.iter().map(String::as_str));
    Schema::new("VirtualNetwork", &paths)
}

/// A stored VNet's address space; stored VNets were checked, so unparsable ones are skipped.
pub fn stored_address_space(vnet: &Resource) -> Vec<IpNet> {
    vnet.property("/properties/addressSpace/addressPrefixes")
        .and_then(Value::as_array)
        .map(|prefixes| prefixes.iter().filter_map(Value::as_str).filter_map(|text| text.parse().ok()).collect())
        .unwrap_or_default()
}

pub fn prepare(context: &PutContext<'_>, mut body: Value) -> Result<Prepared, ArmError> {
    let location = require_location(&body)?;
    keep_location(context, &location)?;
    let id = context.address.id();
    let texts: Vec<String> = body
        .pointer("/properties/addressSpace/addressPrefixes")
        .and_then(Value::as_array)
        .map(|prefixes| prefixes.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    if texts.is_empty() {
        return Err(ArmError::bad_request(
            "InvalidAddressSpace",
            format!("The address space of virtual network {id} must have at least one address prefix."),
        )
        .with_target("properties.addressSpace.addressPrefixes"));
    }
    let mut space = Vec::new();
    for text in &texts {
        let prefix = parse_prefix(text, &id)?;
        if let Some(other) = space.iter().find(|other| overlaps(&prefix, other)) {
            return Err(ArmError::bad_request(
                "NetcfgOverlappingAddressSpace",
                format!("Address prefix {prefix} overlaps with {other} in the address space of virtual network {id}."),
            ));
        }
        space.push(prefix);
    }
    check_peered_overlap(context, &space)?;

    // Inline subnets: a list replaces the child subnets; no list leaves them alone.
    let inline = body
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .and_then(|p| p.remove("subnets"))
        .map(|subnets| if subnets.is_null() { Value::Array(Vec::new()) } else { subnets });
    let existing_subnets = context.store.children(context.address, Kind::Subnet);
    let mut also = Vec::new();
    let mut remove = Vec::new();
    let mut kept_names = Vec::new();
    match inline {
        Some(Value::Array(subnets)) => {
            let mut checked: Vec<(String, Vec<IpNet>)> = Vec::new();
            for subnet in subnets {
                let Some(name) = subnet.get("name").and_then(Value::as_str).map(str::to_string) else {
                    return Err(ArmError::bad_request(
                        "InvalidRequestFormat",
                        "Every subnet in properties.subnets needs a name.",
                    )
                    .with_target("properties.subnets"));
                };
                let address = context.address.child(Kind::Subnet, &name);
                let existing = context.store.get(&address);
                let mut subnet_body = subnet.clone();
                if let Some(members) = subnet_body.as_object_mut() {
                    members.remove("name");
                }
                super::subnet::check(context.store, &address, existing, &subnet_body, &space, &checked)?;
                let prefixes =
                    super::subnet::prefix_texts(&subnet_body).iter().filter_map(|t| t.parse().ok()).collect();
                checked.push((name.clone(), prefixes));
                let address = existing.map(|subnet| subnet.address.clone()).unwrap_or(address);
                kept_names.push(address.key());
                // An inline subnet is written with its VNet and shows the state it is left in.
                let mut built = super::subnet::build(&address, subnet_body);
                built["properties"]["provisioningState"] = json!("Succeeded");
                also.push((address.clone(), built));
            }
            for subnet in &existing_subnets {
                if !kept_names.contains(&subnet.address.key()) {
                    super::subnet::Subnet.check_delete(context.store, subnet)?;
                    remove.push(subnet.address.clone());
                }
            }
        }
        None => {
            // Existing child subnets must still fit the (maybe new) address space.
            for subnet in &existing_subnets {
                let prefixes = super::subnet::stored_prefixes(subnet);
                if !prefixes.iter().all(|prefix| space.iter().any(|outer| within(prefix, outer))) {
                    return Err(ArmError::bad_request(
                        "NetcfgSubnetRangeOutsideVnet",
                        format!(
                            "Subnet '{}' is not valid because its IP address range is outside the IP address range of virtual network '{}'.",
                            subnet.address.name(),
                            context.address.name()
                        ),
                    ));
                }
            }
        }
        Some(_) => {
            return Err(ArmError::bad_request("InvalidRequestFormat", "properties.subnets must be an array.")
                .with_target("properties.subnets"));
        }
    }

    let mut out = base(context.address, body);
    out.insert("etag".into(), weak_etag());
    let guid =
        context.existing.and_then(|vnet| vnet.property("/properties/resourceGuid")).cloned().unwrap_or_else(new_guid);
    let properties = properties_mut(&mut out);
    properties.insert("resourceGuid".into(), guid);
    properties.entry("enableDdosProtection").or_insert(json!(false));
    properties.entry("privateEndpointVNetPolicies").or_insert(json!("Disabled"));
    Ok(Prepared { body: Value::Object(out), also, remove })
}

/// A VNet's new address space may not overlap the VNets it is peered with.
fn check_peered_overlap(context: &PutContext<'_>, space: &[IpNet]) -> Result<(), ArmError> {
    for peering in context.store.children(context.address, Kind::VirtualNetworkPeering) {
        let Some(remote_id) = peering.str_property("/properties/remoteVirtualNetwork/id") else { continue };
        let Some(remote) = context.store.get_by_id(remote_id) else { continue };
        let remote_space = stored_address_space(remote);
        if space.iter().any(|prefix| remote_space.iter().any(|other| overlaps(prefix, other))) {
            return Err(ArmError::bad_request(
                "VnetAddressSpaceOverlapsWithAlreadyPeeredVnet",
                format!(
                    "Address space of virtual network {} overlaps with the address space of virtual network {remote_id}, which is already peered with it.",
                    context.address.id()
                ),
            ));
        }
    }
    Ok(())
}

pub fn check_delete(store: &Store, vnet: &Resource) -> Result<(), ArmError> {
    for subnet in store.children(&vnet.address, Kind::Subnet) {
        super::subnet::Subnet.check_delete(store, subnet)?;
    }
    Ok(())
}

pub fn render(store: &Store, vnet: &Resource, body: &mut Value) {
    let subnets: Vec<Value> =
        store.children(&vnet.address, Kind::Subnet).into_iter().map(|s| super::render(store, s)).collect();
    let peerings: Vec<Value> = store
        .children(&vnet.address, Kind::VirtualNetworkPeering)
        .into_iter()
        .map(|p| super::render(store, p))
        .collect();
    if let Some(properties) = body.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert("subnets".into(), Value::Array(subnets));
        properties.insert("virtualNetworkPeerings".into(), Value::Array(peerings));
    }
}
