//! Virtual network peerings (Microsoft.Network/virtualNetworks/virtualNetworkPeerings), a
//! child resource of the local network, pointing at the remote one by ARM id.

use serde_json::{Value as Json, json};

use super::arm_json::{NETWORK_API, bool_at, id_ref, named, str_at};
use super::arm_type::{ArmType, BodyRequest, Identity, MarksAt, Place};
use super::resolver::Resolver;
use crate::model::Kind;
use crate::providers::{Attributes, ProviderError};

pub(crate) struct Peering;

impl ArmType for Peering {
    fn marks_at(&self) -> MarksAt {
        MarksAt::Parent
    }

    fn identity(&self) -> &'static Identity {
        &Identity {
            type_name: "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
            api_version: NETWORK_API,
            place: Place::Parent,
        }
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        let BodyRequest { fields, resolver, .. } = *request;
        let remote = fields.required_address("remote_vnet")?;
        let remote_id = resolver.path_of(&remote)?;
        Ok(json!({ "properties": {
            "remoteVirtualNetwork": id_ref(&remote_id),
            "allowVirtualNetworkAccess": true,
            "allowForwardedTraffic": fields.bool("allow_forwarded_traffic")?.unwrap_or(false),
            "allowGatewayTransit": fields.bool("allow_gateway_transit")?.unwrap_or(false),
            "useRemoteGateways": fields.bool("use_remote_gateways")?.unwrap_or(false),
        }}))
    }

    fn observed(&self, live: &Json, recorded: &Attributes, resolver: &Resolver) -> Attributes {
        let mut out = named(live, recorded);
        let remote = str_at(live, "/properties/remoteVirtualNetwork/id");
        out.insert("remote_vnet".into(), resolver.reference(Kind::Vnet, remote, recorded.get("remote_vnet")));
        for (field, property) in [
            ("allow_forwarded_traffic", "allowForwardedTraffic"),
            ("allow_gateway_transit", "allowGatewayTransit"),
            ("use_remote_gateways", "useRemoteGateways"),
        ] {
            out.insert(field.into(), bool_at(live, &format!("/properties/{property}")).into());
        }
        out
    }
}
