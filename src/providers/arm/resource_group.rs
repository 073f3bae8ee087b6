//! Resource groups (Microsoft.Resources/resourceGroups): a location and tags.

use serde_json::{Value as Json, json};

use super::arm_json::{RESOURCES_API, named, read_tags, same_or_live, str_at, tags};
use super::arm_type::{ArmType, BodyRequest, Identity, Place};
use super::resolver::Resolver;
use crate::providers::{Attributes, ProviderError};

pub(crate) struct ResourceGroup;

impl ArmType for ResourceGroup {
    fn identity(&self) -> &'static Identity {
        &Identity {
            type_name: "Microsoft.Resources/resourceGroups",
            api_version: RESOURCES_API,
            place: Place::Subscription,
        }
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        let BodyRequest { fields, address, resolver, .. } = *request;
        Ok(json!({ "location": fields.required_str("location")?, "tags": tags(fields, address, resolver)? }))
    }

    fn observed(&self, live: &Json, recorded: &Attributes, _resolver: &Resolver) -> Attributes {
        let mut out = named(live, recorded);
        out.insert("location".into(), same_or_live(str_at(live, "/location"), recorded.get("location")));
        out.insert("tags".into(), read_tags(live));
        out
    }
}
