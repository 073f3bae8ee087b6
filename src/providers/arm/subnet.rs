//! Subnets (Microsoft.Network/virtualNetworks/subnets), a child resource of their virtual
//! network: the address prefix and service endpoints.

use serde_json::{Value as Json, json};

use super::shape::{named, str_at};
use crate::model::Value;
use crate::providers::attributes::Fields;
use crate::providers::{Attributes, ProviderError};

pub fn body(fields: &Fields<'_>, updating: bool) -> Result<Json, ProviderError> {
    let mut properties = json!({ "addressPrefix": fields.required_str("prefix")? });
    let endpoints = fields.string_list("service_endpoints")?;
    if !endpoints.is_empty() || updating {
        properties["serviceEndpoints"] = Json::Array(endpoints.into_iter().map(|s| json!({ "service": s })).collect());
    }
    Ok(json!({ "properties": properties }))
}

pub fn observed(live: &Json, recorded: &Attributes) -> Attributes {
    let mut out = named(live, recorded);
    // A subnet has `addressPrefix`, or `addressPrefixes` when it has several.
    let prefix = str_at(live, "/properties/addressPrefix").or_else(|| str_at(live, "/properties/addressPrefixes/0"));
    out.insert("prefix".into(), Value::opt_str(prefix));
    let endpoints = live
        .pointer("/properties/serviceEndpoints")
        .and_then(Json::as_array)
        .map(|items| items.iter().filter_map(|e| e.get("service").and_then(Json::as_str)).map(Value::str).collect())
        .unwrap_or_default();
    out.insert("service_endpoints".into(), Value::List(endpoints));
    out
}
