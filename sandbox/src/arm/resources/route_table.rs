//! Microsoft.Network/routeTables: routes inline (unique names and prefixes, a next hop address
//! required for a virtual appliance), each shown with its id and state; the subnets that use
//! the table listed back; not deletable while a subnet uses it.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::subnet::Association;
use super::{Prepared, ResourceType};
use super::{PutContext, base, keep_location, properties_mut, require_location, weak_etag};
use crate::arm::cidr::parse_prefix;
use crate::arm::errors::ArmError;
use crate::arm::identity::TypeIdentity;
use crate::arm::schema::Schema;
use crate::arm::store::{Resource, Store};

/// Route tables.
pub struct RouteTable;

const NEXT_HOP_TYPES: [&str; 5] = ["VirtualNetworkGateway", "VnetLocal", "Internet", "VirtualAppliance", "None"];

static IDENTITY: TypeIdentity = TypeIdentity::network(&["routeTables"]);

const ROUTE_TABLE: Association =
    Association { property: "routeTable", noun: "Route table", in_use_code: "InUseRouteTableCannotBeDeleted" };

impl ResourceType for RouteTable {
    fn identity(&self) -> &TypeIdentity {
        &IDENTITY
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "RouteTable",
            &[
                "location",
                "tags.*",
                "id!",
                "name!",
                "type!",
                "etag!",
                "properties.disableBgpRoutePropagation",
                "properties.routes[].name",
                "properties.routes[].id",
                "properties.routes[].type",
                "properties.routes[].etag!",
                "properties.routes[].properties.addressPrefix",
                "properties.routes[].properties.nextHopType",
                "properties.routes[].properties.nextHopIpAddress",
                "properties.routes[].properties.hasBgpOverride!",
                "properties.routes[].properties.provisioningState!",
                "properties.subnets!",
                "properties.provisioningState!",
                "properties.resourceGuid!",
            ],
        )
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        let location = require_location(&body)?;
        keep_location(context, &location)?;
        let mut out = base(context.address, body);
        out.insert("etag".into(), weak_etag());
        let id = context.address.id();
        let properties = properties_mut(&mut out);
        properties.entry("disableBgpRoutePropagation").or_insert(json!(false));
        let routes = match properties.remove("routes") {
            Some(Value::Array(routes)) => routes,
            _ => Vec::new(),
        };
        let mut names = HashSet::new();
        let mut prefixes = HashSet::new();
        let mut built = Vec::with_capacity(routes.len());
        for route in routes {
            built.push(check_route(&id, route, &mut names, &mut prefixes)?);
        }
        properties.insert("routes".into(), Value::Array(built));
        Ok(Prepared::alone(Value::Object(out)))
    }

    fn check_delete(&self, store: &Store, table: &Resource) -> Result<(), ArmError> {
        ROUTE_TABLE.check_delete(store, table)
    }

    fn render(&self, store: &Store, table: &Resource, body: &mut Value) {
        ROUTE_TABLE.render(store, table, body);
    }
}

/// One route as the Network RP checks and stores it.
fn check_route(
    table_id: &str,
    route: Value,
    names: &mut HashSet<String>,
    prefixes: &mut HashSet<String>,
) -> Result<Value, ArmError> {
    let name = route.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    if name.is_empty() {
        return Err(ArmError::invalid_parameter("properties.routes", format!("A route of {table_id} has no name.")));
    }
    if !names.insert(name.to_ascii_lowercase()) {
        return Err(ArmError::bad_request(
            "InvalidRequestFormat",
            format!("Cannot parse the request: route table {table_id} has two routes named {name}."),
        ));
    }
    let prefix = route.pointer("/properties/addressPrefix").and_then(Value::as_str).unwrap_or_default();
    let parsed = parse_prefix(prefix, table_id)?;
    if !prefixes.insert(parsed.to_string()) {
        return Err(ArmError::bad_request(
            "RouteConflict",
            format!(
                "Route {name} of route table {table_id} has address prefix {prefix}, which another route of the table has."
            ),
        ));
    }
    let hop = route.pointer("/properties/nextHopType").and_then(Value::as_str).unwrap_or_default();
    let Some(hop) = NEXT_HOP_TYPES.iter().find(|t| t.eq_ignore_ascii_case(hop)) else {
        return Err(ArmError::invalid_parameter(
            "properties.routes.properties.nextHopType",
            format!("Route {name}: nextHopType '{hop}' is not one of {}.", NEXT_HOP_TYPES.join(", ")),
        ));
    };
    let ip = route.pointer("/properties/nextHopIpAddress").and_then(Value::as_str).filter(|ip| !ip.is_empty());
    if *hop == "VirtualAppliance" && ip.is_none() {
        return Err(ArmError::bad_request(
            "MissingNextHopIpAddress",
            format!("NextHopIpAddress cannot be Null or Empty in route {name} when NextHopType is VirtualAppliance."),
        ));
    }
    let mut properties = json!({ "addressPrefix": prefix, "nextHopType": hop, "provisioningState": "Succeeded", "hasBgpOverride": false });
    if let Some(ip) = ip {
        properties["nextHopIpAddress"] = json!(ip);
    }
    Ok(json!({
        "name": name,
        "id": format!("{table_id}/routes/{name}"),
        "type": "Microsoft.Network/routeTables/routes",
        "etag": weak_etag(),
        "properties": properties,
    }))
}
