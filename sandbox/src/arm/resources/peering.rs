//! Microsoft.Network/virtualNetworks/virtualNetworkPeerings: the remote VNet must exist and its
//! address space must not overlap; a peering is `Initiated` until the remote VNet peers back,
//! then both sides are `Connected`.

use serde_json::{Value, json};

use super::{Prepared, ResourceType};
use super::{PutContext, base, immutable, new_guid, properties_mut, weak_etag};
use crate::arm::address::{Address, Kind};
use crate::arm::cidr::overlaps;
use crate::arm::errors::ArmError;
use crate::arm::identity::TypeIdentity;
use crate::arm::schema::Schema;
use crate::arm::store::{Resource, Store};

/// Peerings of a virtual network.
pub struct VirtualNetworkPeering;

static IDENTITY: TypeIdentity =
    TypeIdentity::network(&["virtualNetworks", "virtualNetworkPeerings"]).in_parent(Kind::VirtualNetwork);

impl ResourceType for VirtualNetworkPeering {
    fn identity(&self) -> &TypeIdentity {
        &IDENTITY
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        prepare(context, body).map(Prepared::alone)
    }

    fn after_put(&self, store: &mut Store, address: &Address) {
        connect_back(store, address);
    }

    fn after_remove(&self, store: &mut Store, removed: &Resource) {
        disconnect_back(store, removed);
    }
}

pub fn schema() -> Schema {
    Schema::new(
        "VirtualNetworkPeering",
        &[
            "id!",
            "name!",
            "type!",
            "etag!",
            "properties.remoteVirtualNetwork.id",
            "properties.allowVirtualNetworkAccess",
            "properties.allowForwardedTraffic",
            "properties.allowGatewayTransit",
            "properties.useRemoteGateways",
            "properties.doNotVerifyRemoteGateways",
            "properties.peerCompleteVnets",
            "properties.enableOnlyIPv6Peering",
            "properties.localSubnetNames[]",
            "properties.remoteSubnetNames[]",
            "properties.remoteBgpCommunities.virtualNetworkCommunity",
            "properties.remoteBgpCommunities.regionalCommunity!",
            "properties.peeringState!",
            "properties.peeringSyncLevel!",
            "properties.remoteAddressSpace!",
            "properties.remoteVirtualNetworkAddressSpace!",
            "properties.localAddressSpace!",
            "properties.localVirtualNetworkAddressSpace!",
            "properties.remoteVirtualNetworkEncryption!",
            "properties.resourceGuid!",
            "properties.provisioningState!",
        ],
    )
}

pub fn prepare(context: &PutContext<'_>, body: Value) -> Result<Value, ArmError> {
    let id = context.address.id();
    let Some(remote_id) = body.pointer("/properties/remoteVirtualNetwork/id").and_then(Value::as_str) else {
        return Err(ArmError::bad_request(
            "RemoteVirtualNetworkReferenceMissing",
            format!("Peering {id} must reference a remote virtual network in properties.remoteVirtualNetwork.id."),
        )
        .with_target("properties.remoteVirtualNetwork.id"));
    };
    immutable(
        context,
        "/properties/remoteVirtualNetwork/id",
        "properties.remoteVirtualNetwork.id",
        body.pointer("/properties/remoteVirtualNetwork/id"),
    )?;
    let Some(local_address) = context.address.parent() else { return Err(missing_remote(remote_id, &id)) };
    let remote = Address::parse_id(remote_id)
        .filter(|address| address.kind == Kind::VirtualNetwork)
        .and_then(|address| context.store.get(&address))
        .ok_or_else(|| missing_remote(remote_id, &id))?;
    if remote.address == local_address {
        return Err(ArmError::bad_request(
            "CannotPeerVirtualNetworkWithItself",
            format!("Virtual network {remote_id} cannot be peered with itself."),
        ));
    }
    let Some(local) = context.store.get(&local_address) else { return Err(missing_remote(remote_id, &id)) };
    let local_space = super::virtual_network::stored_address_space(local);
    let remote_space = super::virtual_network::stored_address_space(remote);
    if local_space.iter().any(|prefix| remote_space.iter().any(|other| overlaps(prefix, other))) {
        return Err(ArmError::bad_request(
            "VnetAddressSpacesOverlap",
            format!(
                "Cannot create or update peering {id}. Virtual networks {} and {} cannot be peered because their address spaces overlap.",
                local.address.id(),
                remote.address.id()
            ),
        ));
    }
    let state = if peered_back(context, &remote.address, &local_address) { "Connected" } else { "Initiated" };

    let mut out = base(context.address, body);
    out.remove("location");
    out.insert("etag".into(), weak_etag());
    out.insert("type".into(), json!("Microsoft.Network/virtualNetworks/virtualNetworkPeerings"));
    let guid = context.existing.and_then(|p| p.property("/properties/resourceGuid")).cloned().unwrap_or_else(new_guid);
    let remote_prefixes: Vec<Value> = remote_space.iter().map(|prefix| json!(prefix.to_string())).collect();
    let properties = properties_mut(&mut out);
    properties.insert("remoteVirtualNetwork".into(), json!({ "id": remote.address.id() }));
    for (flag, default) in [
        ("allowVirtualNetworkAccess", true),
        ("allowForwardedTraffic", false),
        ("allowGatewayTransit", false),
        ("useRemoteGateways", false),
        ("doNotVerifyRemoteGateways", false),
        ("peerCompleteVnets", true),
        ("enableOnlyIPv6Peering", false),
    ] {
        properties.entry(flag).or_insert(json!(default));
    }
    properties.insert("peeringState".into(), json!(state));
    properties.insert("peeringSyncLevel".into(), json!("FullyInSync"));
    properties.insert("remoteAddressSpace".into(), json!({ "addressPrefixes": remote_prefixes.clone() }));
    properties.insert("remoteVirtualNetworkAddressSpace".into(), json!({ "addressPrefixes": remote_prefixes }));
    properties.insert("resourceGuid".into(), guid);
    Ok(Value::Object(out))
}

/// Whether the remote VNet has a peering back to the local one.
fn peered_back(context: &PutContext<'_>, remote: &Address, local: &Address) -> bool {
    remote_peerings_to(context.store, remote, local).next().is_some()
}

/// The peerings of `from` that point at `to`.
pub fn remote_peerings_to<'a>(store: &'a Store, from: &Address, to: &Address) -> impl Iterator<Item = &'a Resource> {
    let to_key = to.key();
    store.children(from, Kind::VirtualNetworkPeering).into_iter().filter(move |peering| {
        peering.str_property("/properties/remoteVirtualNetwork/id").is_some_and(|id| id.eq_ignore_ascii_case(&to_key))
    })
}

fn missing_remote(remote_id: &str, id: &str) -> ArmError {
    ArmError::reference_not_found("InvalidGlobalResourceReference", remote_id, id)
        .with_target("properties.remoteVirtualNetwork.id")
}

/// After a peering is written Connected, the remote VNet's peerings back connect too.
pub fn connect_back(store: &mut Store, address: &Address) {
    let Some(peering) = store.get(address) else { return };
    if peering.str_property("/properties/peeringState") != Some("Connected") {
        return;
    }
    let (Some(local), Some(remote)) =
        (address.parent(), peering.str_property("/properties/remoteVirtualNetwork/id").and_then(Address::parse_id))
    else {
        return;
    };
    set_state(store, &remote, &local, "Connected");
}

/// A removed peering leaves the remote side's peering back `Disconnected`.
pub fn disconnect_back(store: &mut Store, peering: &Resource) {
    let (Some(local), Some(remote)) = (
        peering.address.parent(),
        peering.str_property("/properties/remoteVirtualNetwork/id").and_then(Address::parse_id),
    ) else {
        return;
    };
    set_state(store, &remote, &local, "Disconnected");
}

/// Every peering that points at a removed VNet is `Disconnected`.
pub fn disconnect_all_to(store: &mut Store, vnet: &Address) {
    let vnets: Vec<Address> = store.all_of(Kind::VirtualNetwork).iter().map(|v| v.address.clone()).collect();
    for other in vnets {
        set_state(store, &other, vnet, "Disconnected");
    }
}

fn set_state(store: &mut Store, from: &Address, to: &Address, state: &str) {
    let peerings: Vec<Address> = remote_peerings_to(store, from, to).map(|p| p.address.clone()).collect();
    for peering in peerings {
        if let Some(Value::Object(properties)) = store.get_mut(&peering).and_then(|p| p.body.get_mut("properties")) {
            properties.insert("peeringState".into(), json!(state));
        }
    }
}
