//! Resource groups (Microsoft.Resources/resourceGroups): a location and tags.

use serde_json::{Value as Json, json};

use super::shape::{named, read_tags, same_or_live, str_at, tags};
use crate::model::Address;
use crate::providers::attributes::Fields;
use crate::providers::{Attributes, ProviderError};

pub fn body(fields: &Fields<'_>, address: &Address) -> Result<Json, ProviderError> {
    Ok(json!({ "location": fields.required_str("location")?, "tags": tags(fields, address)? }))
}

pub fn observed(live: &Json, recorded: &Attributes) -> Attributes {
    let mut out = named(live, recorded);
    out.insert("location".into(), same_or_live(str_at(live, "/location"), recorded.get("location")));
    out.insert("tags".into(), read_tags(live));
    out
}
