//! Route tables (Microsoft.Network/routeTables) with their routes inline: address prefix, next
//! hop type and, for a virtual appliance, its address; BGP route propagation; tags.
//!
//! A route table is shared: on a kubenet cluster's subnet the cloud provider writes one route
//! per node into it, and the network team may add its own. aksform manages the routes the
//! stack declares and keeps every other: an update sends the live routes it does not manage
//! beside the declared ones, and reading back leaves them out.

use std::collections::BTreeSet;

use serde_json::{Value as Json, json};

use super::arm_json::{NETWORK_API, bool_at, named, read_tags, resource_group_of, same_or_live, str_at, tags};
use super::arm_type::{ArmType, BodyRequest, Identity, Place};
use super::resolver::Resolver;
use crate::model::{Kind, Value};
use crate::providers::{Attributes, ProviderError};

pub(crate) struct RouteTable;

/// The route names a table's attributes hold, compared as Azure compares them (without case).
fn route_names(attributes: Option<&Attributes>) -> BTreeSet<String> {
    route_order(attributes).into_iter().collect()
}

/// The route names a table's attributes hold, in their order, as Azure compares them.
fn route_order(attributes: Option<&Attributes>) -> Vec<String> {
    let routes = attributes.and_then(|a| a.get("routes"));
    let Some(Value::List(routes)) = routes else { return Vec::new() };
    routes
        .iter()
        .filter_map(|r| match r {
            Value::Map(route) => route.get("name").and_then(Value::as_str).map(str::to_ascii_lowercase),
            _ => None,
        })
        .collect()
}

fn live_routes(live: &Json) -> &[Json] {
    live.pointer("/properties/routes").and_then(Json::as_array).map_or(&[], Vec::as_slice)
}

fn route_name(route: &Json) -> String {
    route.get("name").and_then(Json::as_str).unwrap_or_default().to_ascii_lowercase()
}

impl ArmType for RouteTable {
    fn identity(&self) -> &'static Identity {
        &Identity { type_name: "Microsoft.Network/routeTables", api_version: NETWORK_API, place: Place::ResourceGroup }
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        let BodyRequest { fields, address, resolver, .. } = *request;
        let mut routes = Vec::new();
        for (index, route) in fields.list("routes")?.iter().enumerate() {
            let path = format!("routes[{index}]");
            let route = fields.reader().nested(&path, route)?;
            let mut properties = json!({
                "addressPrefix": route.required_str("prefix")?,
                "nextHopType": route.required_str("next_hop")?,
            });
            if let Some(ip) = route.str("next_hop_ip")? {
                properties["nextHopIpAddress"] = json!(ip);
            }
            routes.push(json!({ "name": route.required_str("name")?, "properties": properties }));
        }
        Ok(json!({
            "location": fields.required_str("location")?,
            "tags": tags(fields, address, resolver)?,
            "properties": {
                "disableBgpRoutePropagation": fields.bool("disable_bgp_route_propagation")?.unwrap_or(false),
                "routes": routes,
            },
        }))
    }

    fn keeps_foreign(&self) -> bool {
        true
    }

    /// Routes neither declared now nor recorded as aksform's are someone else's: they stay.
    fn keep_foreign(&self, live: &Json, recorded: Option<&Attributes>, body: &mut Json) {
        let mut ours = route_names(recorded);
        let Some(sent) = body.pointer_mut("/properties/routes").and_then(Json::as_array_mut) else { return };
        ours.extend(sent.iter().map(route_name));
        sent.extend(live_routes(live).iter().filter(|r| !ours.contains(&route_name(r))).map(
            |r| json!({ "name": r.get("name").cloned().unwrap_or(Json::Null), "properties": foreign_properties(r) }),
        ));
    }

    fn observed(&self, live: &Json, recorded: &Attributes, resolver: &Resolver) -> Attributes {
        let mut out = named(live, recorded);
        let id = str_at(live, "/id").unwrap_or_default();
        out.insert("resource_group".into(), same_or_live(resource_group_of(id), recorded.get("resource_group")));
        out.insert("location".into(), same_or_live(str_at(live, "/location"), recorded.get("location")));
        // The routes aksform made, and those the stack declares now (so that the plan shows a
        // route of the same name it would overwrite).
        let mut ours = route_names(Some(recorded));
        ours.extend(route_names(str_at(live, "/id").and_then(|id| resolver.known(Kind::RouteTable, id))));
        // In the recorded order, which is the stack's, whatever order Azure lists them in.
        let recorded_order: Vec<String> = route_order(Some(recorded));
        let mut listed: Vec<&Json> = live_routes(live).iter().filter(|r| ours.contains(&route_name(r))).collect();
        listed.sort_by_key(|r| recorded_order.iter().position(|n| *n == route_name(r)).unwrap_or(usize::MAX));
        let routes = listed
            .into_iter()
            .map(|r| {
                let property = |key: &str| str_at(r, &format!("/properties/{key}"));
                let mut fields = vec![
                    ("name", Value::opt_str(str_at(r, "/name"))),
                    ("prefix", Value::opt_str(property("addressPrefix"))),
                    ("next_hop", Value::opt_str(property("nextHopType"))),
                ];
                if let Some(ip) = property("nextHopIpAddress") {
                    fields.push(("next_hop_ip", Value::str(ip)));
                }
                Value::map(fields)
            })
            .collect();
        out.insert("routes".into(), Value::List(routes));
        out.insert(
            "disable_bgp_route_propagation".into(),
            Value::Bool(bool_at(live, "/properties/disableBgpRoutePropagation")),
        );
        out.insert("tags".into(), read_tags(live));
        out
    }
}

/// A live route's writable properties, as a PUT carries them back.
fn foreign_properties(route: &Json) -> Json {
    let mut properties = serde_json::Map::new();
    for key in ["addressPrefix", "nextHopType", "nextHopIpAddress"] {
        if let Some(value) = route.pointer(&format!("/properties/{key}")) {
            properties.insert(key.into(), value.clone());
        }
    }
    Json::Object(properties)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(names: &[&str]) -> Attributes {
        let routes = names.iter().map(|n| Value::map([("name", Value::str(*n))])).collect();
        [("routes".to_string(), Value::List(routes))].into()
    }

    fn live() -> Json {
        json!({ "properties": { "routes": [
            { "name": "default", "properties": { "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.1.4", "provisioningState": "Succeeded" } },
            { "name": "aks-nodepool1-vmss000000", "properties": { "addressPrefix": "10.244.0.0/24", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.240.0.4" } },
            { "name": "Old", "properties": { "addressPrefix": "10.9.0.0/16", "nextHopType": "None" } },
        ] } })
    }

    #[test]
    fn an_update_keeps_the_routes_others_wrote_and_drops_the_ones_removed_from_the_stack() {
        let mut body = json!({ "properties": { "routes": [
            { "name": "default", "properties": { "addressPrefix": "0.0.0.0/0", "nextHopType": "Internet" } },
        ] } });
        RouteTable.keep_foreign(&live(), Some(&attributes(&["default", "old"])), &mut body);
        let names: Vec<&str> =
            live_routes(&body).iter().map(|r| r.get("name").and_then(Json::as_str).unwrap_or_default()).collect();
        assert_eq!(names, ["default", "aks-nodepool1-vmss000000"]);
        assert_eq!(body.pointer("/properties/routes/0/properties/nextHopType"), Some(&json!("Internet")));
        assert_eq!(body.pointer("/properties/routes/1/properties/provisioningState"), None);
        assert_eq!(body.pointer("/properties/routes/1/properties/nextHopIpAddress"), Some(&json!("10.240.0.4")));
    }

    #[test]
    fn reading_back_shows_only_the_routes_aksform_manages() {
        let observed = RouteTable.observed(&live(), &attributes(&["default"]), &Resolver::default());
        let Some(Value::List(routes)) = observed.get("routes") else { panic!("no routes: {observed:?}") };
        assert_eq!(routes.len(), 1);
        assert_eq!(
            routes[0],
            Value::map([
                ("name", "default"),
                ("prefix", "0.0.0.0/0"),
                ("next_hop", "VirtualAppliance"),
                ("next_hop_ip", "10.0.1.4"),
            ])
        );
    }

    #[test]
    fn routes_read_back_in_the_stacks_order_whatever_order_azure_lists_them_in() {
        let observed = RouteTable.observed(&live(), &attributes(&["Old", "default"]), &Resolver::default());
        let Some(Value::List(routes)) = observed.get("routes") else { panic!("no routes: {observed:?}") };
        let names: Vec<Option<&str>> = routes
            .iter()
            .map(|r| match r {
                Value::Map(route) => route.get("name").and_then(Value::as_str),
                _ => None,
            })
            .collect();
        assert_eq!(names, [Some("Old"), Some("default")]);
    }
}
