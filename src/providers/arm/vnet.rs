//! Virtual networks (Microsoft.Network/virtualNetworks): address space, DNS servers, tags.
//! Subnets and peerings are resources of their own: a body never carries `subnets` (a PUT
//! without them leaves the existing ones alone) nor `virtualNetworkPeerings`.

use serde_json::{Value as Json, json};

use super::arm_json::{NETWORK_API, named, read_tags, resource_group_of, same_or_live, str_at, string_list, tags};
use super::arm_type::{ArmType, BodyRequest, Identity, Place};
use super::resolver::Resolver;
use crate::model::Value;
use crate::providers::{Attributes, ProviderError};

pub(crate) struct Vnet;

impl ArmType for Vnet {
    /// `peerings`: the networks it is peered with, each as `{ remote = id, address_space =
    /// [...] }`, as Azure records them (a network peered with it must not overlap them).
    fn facts(&self, live: &Json) -> Attributes {
        let peerings = live
            .pointer("/properties/virtualNetworkPeerings")
            .and_then(Json::as_array)
            .map(|peerings| {
                peerings
                    .iter()
                    .filter_map(|p| {
                        let remote = p.pointer("/properties/remoteVirtualNetwork/id")?.as_str()?;
                        let spaces = p
                            .pointer("/properties/remoteAddressSpace/addressPrefixes")
                            .and_then(Json::as_array)
                            .map(|a| a.iter().filter_map(Json::as_str).map(Value::str).collect())
                            .unwrap_or_default();
                        Some(Value::map([("remote", Value::str(remote)), ("address_space", Value::List(spaces))]))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Attributes::from([("peerings".to_string(), Value::List(peerings))])
    }

    fn identity(&self) -> &'static Identity {
        &Identity {
            type_name: "Microsoft.Network/virtualNetworks",
            api_version: NETWORK_API,
            place: Place::ResourceGroup,
        }
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        let BodyRequest { fields, address, resolver, creating } = *request;
        let updating = !creating;
        let mut properties = json!({ "addressSpace": { "addressPrefixes": fields.string_list("address_space")? } });
        let dns_servers = fields.string_list("dns_servers")?;
        // Sent when set, and on an update so that removing the last one clears them.
        if !dns_servers.is_empty() || updating {
            properties["dhcpOptions"] = json!({ "dnsServers": dns_servers });
        }
        Ok(
            json!({ "location": fields.required_str("location")?, "tags": tags(fields, address, resolver)?, "properties": properties }),
        )
    }

    fn observed(&self, live: &Json, recorded: &Attributes, _resolver: &Resolver) -> Attributes {
        let mut out = named(live, recorded);
        let id = str_at(live, "/id").unwrap_or_default();
        out.insert("resource_group".into(), same_or_live(resource_group_of(id), recorded.get("resource_group")));
        out.insert("location".into(), same_or_live(str_at(live, "/location"), recorded.get("location")));
        out.insert("address_space".into(), string_list(live.pointer("/properties/addressSpace/addressPrefixes")));
        out.insert("dns_servers".into(), string_list(live.pointer("/properties/dhcpOptions/dnsServers")));
        out.insert("tags".into(), read_tags(live));
        out
    }
}
