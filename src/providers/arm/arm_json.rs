//! What the resource files share: the API versions, ARM paths, the ownership tag, and reading
//! ARM's JSON back into aksform's values (locations and names compared as ARM normalises them).

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use crate::model::{Address, Value};
use crate::providers::Attributes;
use crate::providers::ProviderError;
use crate::providers::attributes::AttributeFields;

use super::resolver::Resolver;

pub const RESOURCES_API: &str = "2024-03-01";
pub const NETWORK_API: &str = "2024-05-01";
pub const DNS_API: &str = "2018-05-01";
pub const CONTAINER_SERVICE_API: &str = "2024-09-01";

/// The tag (and record-set metadata key) that marks a resource as aksform's, with its address.
pub const OWNER_TAG: &str = "aksform-address";
/// The tag beside it with the lineage of the stack's state: which stack's resource it is.
pub const LINEAGE_TAG: &str = "aksform-lineage";

pub fn resource_group_path(subscription: &str, resource_group: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{resource_group}")
}

/// `/subscriptions/{sub}/resourceGroups/{rg}/providers/{type}/{name}`.
pub fn provider_path(subscription: &str, resource_group: &str, type_and_name: &str) -> String {
    format!("{}/providers/{type_and_name}", resource_group_path(subscription, resource_group))
}

/// The marks that say a resource is this stack's: its address and, when the run knows it,
/// the lineage of the stack's state.
pub fn marks(address: &Address, resolver: &Resolver) -> Map<String, Json> {
    let mut marks = Map::new();
    marks.insert(OWNER_TAG.to_string(), Json::String(address.to_string()));
    if let Some(lineage) = resolver.lineage() {
        marks.insert(LINEAGE_TAG.to_string(), Json::String(lineage.to_string()));
    }
    marks
}

/// The `tags` to send: the stack's, and the ownership marks.
pub fn tags(fields: &AttributeFields<'_>, address: &Address, resolver: &Resolver) -> Result<Json, ProviderError> {
    let mut tags: Map<String, Json> =
        fields.string_map("tags")?.unwrap_or_default().into_iter().map(|(k, v)| (k, Json::String(v))).collect();
    tags.extend(marks(address, resolver));
    Ok(Json::Object(tags))
}

/// The tags read back, without the ownership marks (they are not attributes).
pub fn read_tags(live: &Json) -> Value {
    string_map(live.get("tags"), &[OWNER_TAG, LINEAGE_TAG])
}

/// Why marks read back (`tags`, or a record set's `metadata`) do not say the resource is
/// `address` of the stack whose state has `lineage`; `None` when they do.
pub fn not_ours(marks: Option<&Json>, address: &Address, lineage: Option<&str>) -> Option<String> {
    let mark = |key: &str| marks.and_then(|m| m.get(key)).and_then(Json::as_str);
    crate::providers::not_ours(mark(OWNER_TAG), mark(LINEAGE_TAG), address, lineage)
}

/// A JSON object of strings as a map value, leaving out `skip`.
pub fn string_map(live: Option<&Json>, skip: &[&str]) -> Value {
    let map: BTreeMap<String, Value> = live
        .and_then(Json::as_object)
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !skip.contains(&k.as_str()))
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), Value::str(s))))
                .collect()
        })
        .unwrap_or_default();
    Value::Map(map)
}

pub fn string_list(live: Option<&Json>) -> Value {
    Value::List(
        live.and_then(Json::as_array)
            .map(|items| items.iter().filter_map(Json::as_str).map(Value::str).collect())
            .unwrap_or_default(),
    )
}

pub fn str_at<'a>(live: &'a Json, pointer: &str) -> Option<&'a str> {
    live.pointer(pointer).and_then(Json::as_str)
}

pub fn opt_str(live: &Json, pointer: &str) -> Value {
    Value::opt_str(str_at(live, pointer))
}

pub fn int_at(live: &Json, pointer: &str) -> Value {
    live.pointer(pointer).and_then(Json::as_i64).map_or(Value::Null, Value::Int)
}

pub fn bool_at(live: &Json, pointer: &str) -> bool {
    live.pointer(pointer).and_then(Json::as_bool).unwrap_or(false)
}

/// ARM writes locations lower-case without spaces (`West Europe` → `westeurope`) and treats
/// names case-insensitively: the recorded spelling stands when the live one means the same.
pub fn same_or_live(live: Option<&str>, recorded: Option<&Value>) -> Value {
    let normal = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    match (live, recorded.and_then(Value::as_str)) {
        (Some(live), Some(recorded)) if normal(live) == normal(recorded) => Value::str(recorded),
        (Some(live), _) => Value::str(live),
        (None, _) => recorded.cloned().unwrap_or(Value::Null),
    }
}

/// The resource group named in an ARM id.
pub fn resource_group_of(id: &str) -> Option<&str> {
    let mut parts = id.split('/');
    while let Some(part) = parts.next() {
        if part.eq_ignore_ascii_case("resourceGroups") {
            return parts.next();
        }
    }
    None
}

/// Starts the attributes read back with the values every ARM resource has.
pub fn named(live: &Json, recorded: &Attributes) -> Attributes {
    let mut out = Attributes::new();
    out.insert("name".into(), same_or_live(str_at(live, "/name"), recorded.get("name")));
    out
}

/// A `{"id": ...}` reference.
pub fn id_ref(id: &str) -> Json {
    json!({ "id": id })
}

/// Whether `live` already holds everything `body` would write: each member of an object
/// (the live one may have more: what the service fills in), each element of an array in
/// order, each value equal, resource ids in any casing (ARM's are case-insensitive), and an
/// absent member as good as an empty, false or null one.
pub fn holds(live: &Json, body: &Json) -> bool {
    match (live, body) {
        (Json::Object(live), Json::Object(body)) => {
            body.iter().all(|(name, wanted)| holds(live.get(name).unwrap_or(&Json::Null), wanted))
        }
        (Json::Array(live), Json::Array(body)) => {
            live.len() == body.len() && live.iter().zip(body).all(|(live, wanted)| holds(live, wanted))
        }
        (Json::String(live), Json::String(wanted)) if wanted.starts_with("/subscriptions/") => {
            live.eq_ignore_ascii_case(wanted)
        }
        (Json::Null, wanted) => match wanted {
            Json::Null | Json::Bool(false) => true,
            Json::Array(items) => items.is_empty(),
            Json::Object(members) => members.is_empty(),
            _ => false,
        },
        (live, wanted) => live == wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_resource_holds_a_body_it_has_all_of_whatever_else_it_has() {
        let live = json!({
            "id": "/subscriptions/s/resourceGroups/RG/providers/x/y/z",
            "properties": {
                "count": 3, "vmSize": "Standard_D4s_v5", "provisioningState": "Succeeded",
                "vnetSubnetID": "/subscriptions/S/resourcegroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a",
                "availabilityZones": ["1", "2"], "tags": {"aksform-address": "node_pool.a", "team": "web"},
            },
        });
        let body = json!({"properties": {
            "count": 3, "vmSize": "Standard_D4s_v5", "enableAutoScaling": false, "nodeTaints": [],
            "vnetSubnetID": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a",
            "availabilityZones": ["1", "2"], "tags": {"aksform-address": "node_pool.a"},
        }});
        assert!(holds(&live, &body));
        for (pointer, other) in [
            ("/properties/count", json!(4)),
            ("/properties/vmSize", json!("standard_d4s_v5")),
            ("/properties/enableAutoScaling", json!(true)),
            ("/properties/nodeTaints", json!(["a=b:NoSchedule"])),
            ("/properties/availabilityZones", json!(["2", "1"])),
            ("/properties/tags/team", json!("shop")),
            ("/properties/maxPods", json!(30)),
        ] {
            let mut changed = body.clone();
            let (parent, name) = pointer.rsplit_once('/').unwrap();
            changed.pointer_mut(parent).unwrap()[name] = other;
            assert!(!holds(&live, &changed), "{pointer}");
        }
    }

    #[test]
    fn locations_and_names_keep_the_recorded_spelling_when_they_mean_the_same() {
        let recorded = Value::str("West Europe");
        assert_eq!(same_or_live(Some("westeurope"), Some(&recorded)), recorded);
        assert_eq!(same_or_live(Some("northeurope"), Some(&recorded)), Value::str("northeurope"));
        assert_eq!(same_or_live(None, Some(&recorded)), recorded);
    }

    #[test]
    fn the_ownership_tag_is_not_read_back() {
        let live = json!({"tags": {"team": "shop", "aksform-address": "vnet.shop"}});
        assert_eq!(read_tags(&live), Value::map([("team", "shop")]));
        assert_eq!(read_tags(&json!({})), Value::Map(BTreeMap::new()));
    }

    #[test]
    fn resource_groups_are_found_in_ids_of_any_case() {
        assert_eq!(resource_group_of("/subscriptions/s/resourcegroups/rg1/providers/x/y/z"), Some("rg1"));
        assert_eq!(resource_group_of("/subscriptions/s/resourceGroups/RG"), Some("RG"));
        assert_eq!(resource_group_of("/subscriptions/s"), None);
    }
}
