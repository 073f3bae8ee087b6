//! Public DNS zones (Microsoft.Network/dnsZones, location `global`); the name servers Azure
//! assigns are computed.

use serde_json::{Value as Json, json};

use super::shape::{named, read_tags, resource_group_of, same_or_live, str_at, string_list, tags};
use crate::model::Address;
use crate::providers::attributes::Fields;
use crate::providers::{Attributes, ProviderError};

pub fn body(fields: &Fields<'_>, address: &Address) -> Result<Json, ProviderError> {
    Ok(json!({ "location": "global", "tags": tags(fields, address)? }))
}

pub fn observed(live: &Json, recorded: &Attributes) -> Attributes {
    let mut out = named(live, recorded);
    let id = str_at(live, "/id").unwrap_or_default();
    out.insert("resource_group".into(), same_or_live(resource_group_of(id), recorded.get("resource_group")));
    out.insert("tags".into(), read_tags(live));
    out.extend(computed(live));
    out
}

pub fn computed(live: &Json) -> Attributes {
    [("name_servers".to_string(), string_list(live.pointer("/properties/nameServers")))].into()
}
