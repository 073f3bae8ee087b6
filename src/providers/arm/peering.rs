//! Virtual network peerings (Microsoft.Network/virtualNetworks/virtualNetworkPeerings), a
//! child resource of the local network, pointing at the remote one by ARM id.

use serde_json::{Value as Json, json};

use super::directory::Directory;
use super::shape::{bool_at, id_ref, named, str_at};
use crate::model::{Address, Kind};
use crate::providers::attributes::Fields;
use crate::providers::{Attributes, ErrorKind, ProviderError};

pub fn body(fields: &Fields<'_>, address: &Address, directory: &Directory) -> Result<Json, ProviderError> {
    let remote_text = fields.required_str("remote_vnet")?;
    let remote: Address = remote_text
        .parse()
        .map_err(|e| ProviderError { kind: ErrorKind::Rejected, message: format!("{address}: `remote_vnet` {e}") })?;
    let remote_id = directory.path_of(&remote)?;
    Ok(json!({ "properties": {
        "remoteVirtualNetwork": id_ref(&remote_id),
        "allowVirtualNetworkAccess": true,
        "allowForwardedTraffic": fields.bool("allow_forwarded_traffic")?.unwrap_or(false),
        "allowGatewayTransit": fields.bool("allow_gateway_transit")?.unwrap_or(false),
        "useRemoteGateways": fields.bool("use_remote_gateways")?.unwrap_or(false),
    }}))
}

pub fn observed(live: &Json, recorded: &Attributes, directory: &Directory) -> Attributes {
    let mut out = named(live, recorded);
    let remote = str_at(live, "/properties/remoteVirtualNetwork/id");
    out.insert("remote_vnet".into(), directory.reference(Kind::Vnet, remote, recorded.get("remote_vnet")));
    for (field, property) in [
        ("allow_forwarded_traffic", "allowForwardedTraffic"),
        ("allow_gateway_transit", "allowGatewayTransit"),
        ("use_remote_gateways", "useRemoteGateways"),
    ] {
        out.insert(field.into(), bool_at(live, &format!("/properties/{property}")).into());
    }
    out
}
