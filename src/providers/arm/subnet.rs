//! Subnets (Microsoft.Network/virtualNetworks/subnets), a child resource of their virtual
//! network: the address prefix and service endpoints.

use serde_json::{Value as Json, json};

use super::arm_type::{ArmType, BodyRequest, Identity, Place};
use super::directory::Directory;
use super::shape::{NETWORK_API, named, str_at};
use crate::model::Value;
use crate::providers::{Attributes, ProviderError};

pub(crate) struct Subnet;

impl ArmType for Subnet {
    fn identity(&self) -> &'static Identity {
        &Identity {
            type_name: "Microsoft.Network/virtualNetworks/subnets",
            api_version: NETWORK_API,
            place: Place::Parent,
        }
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        let BodyRequest { fields, creating, .. } = *request;
        let updating = !creating;
        let mut properties = json!({ "addressPrefix": fields.required_str("prefix")? });
        let endpoints = fields.string_list("service_endpoints")?;
        if !endpoints.is_empty() || updating {
            properties["serviceEndpoints"] =
                Json::Array(endpoints.into_iter().map(|s| json!({ "service": s })).collect());
        }
        Ok(json!({ "properties": properties }))
    }

    fn observed(&self, live: &Json, recorded: &Attributes, _directory: &Directory) -> Attributes {
        let mut out = named(live, recorded);
        // A subnet has `addressPrefix`, or `addressPrefixes` when it has several.
        let prefix =
            str_at(live, "/properties/addressPrefix").or_else(|| str_at(live, "/properties/addressPrefixes/0"));
        out.insert("prefix".into(), Value::opt_str(prefix));
        let endpoints = live
            .pointer("/properties/serviceEndpoints")
            .and_then(Json::as_array)
            .map(|items| items.iter().filter_map(|e| e.get("service").and_then(Json::as_str)).map(Value::str).collect())
            .unwrap_or_default();
        out.insert("service_endpoints".into(), Value::List(endpoints));
        out
    }
}
