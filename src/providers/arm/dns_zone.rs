//! Public DNS zones (Microsoft.Network/dnsZones, location `global`); the name servers Azure
//! assigns are computed.

use serde_json::{Value as Json, json};

use super::arm_json::{DNS_API, named, read_tags, resource_group_of, same_or_live, str_at, string_list, tags};
use super::arm_type::{ArmType, BodyRequest, Identity, Place};
use super::resolver::Resolver;
use crate::providers::{Attributes, ProviderError};

pub(crate) struct DnsZone;

impl ArmType for DnsZone {
    fn identity(&self) -> &'static Identity {
        &Identity { type_name: "Microsoft.Network/dnsZones", api_version: DNS_API, place: Place::ResourceGroup }
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        let BodyRequest { fields, address, resolver, .. } = *request;
        Ok(json!({ "location": "global", "tags": tags(fields, address, resolver)? }))
    }

    fn observed(&self, live: &Json, recorded: &Attributes, _resolver: &Resolver) -> Attributes {
        let mut out = named(live, recorded);
        let id = str_at(live, "/id").unwrap_or_default();
        out.insert("resource_group".into(), same_or_live(resource_group_of(id), recorded.get("resource_group")));
        out.insert("tags".into(), read_tags(live));
        out.extend(self.computed(live));
        out
    }

    fn computed(&self, live: &Json) -> Attributes {
        [("name_servers".to_string(), string_list(live.pointer("/properties/nameServers")))].into()
    }
}
