//! Subnets (Microsoft.Network/virtualNetworks/subnets), a child resource of their virtual
//! network: the address prefix, service endpoints, and the route table and NAT gateway the stack
//! associates.
//!
//! What others associate with a subnet (the network team's security group or NAT gateway, the
//! route table AKS makes for a kubenet cluster, delegations) stays: an update carries it over.

use serde_json::{Value as Json, json};

use super::arm_json::{NETWORK_API, id_ref, named, str_at};
use super::arm_type::{ArmType, BodyRequest, Identity, MarksAt, Place};
use super::resolver::Resolver;
use crate::model::{Kind, Value};
use crate::providers::{Attributes, ProviderError};

pub(crate) struct Subnet;

/// What a stack may associate with a subnet: the attribute, the subnet's property, the kind.
const ASSOCIATIONS: [(&str, &str, Kind); 2] =
    [("route_table", "routeTable", Kind::RouteTable), ("nat_gateway", "natGateway", Kind::NatGateway)];

/// The writable properties of a subnet that aksform keeps as they are unless the stack sets them.
const FOREIGN: [&str; 10] = [
    "networkSecurityGroup",
    "natGateway",
    "routeTable",
    "delegations",
    "serviceEndpointPolicies",
    "ipAllocations",
    "privateEndpointNetworkPolicies",
    "privateLinkServiceNetworkPolicies",
    "defaultOutboundAccess",
    "sharingScope",
];

/// Whether aksform made the association `attribute` (it is recorded).
fn manages(recorded: Option<&Attributes>, attribute: &str) -> bool {
    recorded.and_then(|r| r.get(attribute)).is_some_and(|t| *t != Value::Null)
}

impl ArmType for Subnet {
    fn marks_at(&self) -> MarksAt {
        MarksAt::Parent
    }

    /// `ip_configurations`: the ids of the IP configurations (NICs, load balancer frontends,
    /// gateways) that hold an address of the subnet.
    fn facts(&self, live: &Json) -> Attributes {
        let ids = live
            .pointer("/properties/ipConfigurations")
            .and_then(Json::as_array)
            .map(|configs| configs.iter().filter_map(|c| c.get("id")?.as_str()).map(Value::str).collect())
            .unwrap_or_default();
        Attributes::from([("ip_configurations".to_string(), Value::List(ids))])
    }

    fn identity(&self) -> &'static Identity {
        &Identity {
            type_name: "Microsoft.Network/virtualNetworks/subnets",
            api_version: NETWORK_API,
            place: Place::Parent,
        }
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        let BodyRequest { fields, creating, resolver, .. } = *request;
        let updating = !creating;
        let mut properties = json!({ "addressPrefix": fields.required_str("prefix")? });
        let endpoints = fields.string_list("service_endpoints")?;
        if !endpoints.is_empty() || updating {
            properties["serviceEndpoints"] =
                Json::Array(endpoints.into_iter().map(|s| json!({ "service": s })).collect());
        }
        for (attribute, property, _) in ASSOCIATIONS {
            if let Some(target) = fields.address(attribute)? {
                properties[property] = id_ref(&resolver.path_of(&target)?);
            }
        }
        Ok(json!({ "properties": properties }))
    }

    fn keeps_foreign(&self) -> bool {
        true
    }

    fn keep_foreign(&self, live: &Json, recorded: Option<&Attributes>, body: &mut Json) {
        let made_by_aksform = |property: &str| {
            ASSOCIATIONS.iter().any(|(attribute, p, _)| *p == property && manages(recorded, attribute))
        };
        let Some(properties) = body.get_mut("properties").and_then(Json::as_object_mut) else { return };
        for key in FOREIGN {
            if made_by_aksform(key) {
                continue;
            }
            if let Some(value) = live.pointer(&format!("/properties/{key}"))
                && !properties.contains_key(key)
            {
                properties.insert(key.into(), writable(key, value));
            }
        }
    }

    fn observed(&self, live: &Json, recorded: &Attributes, resolver: &Resolver) -> Attributes {
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
        // An association is read back only where aksform made it or the stack makes it now (so
        // that the plan shows what it replaces): a route table AKS or the network team
        // associated is otherwise theirs.
        let desired = str_at(live, "/id").and_then(|id| resolver.known(Kind::Subnet, id));
        for (attribute, property, kind) in ASSOCIATIONS {
            if manages(Some(recorded), attribute) || manages(desired, attribute) {
                let id = str_at(live, &format!("/properties/{property}/id"));
                out.insert(attribute.into(), resolver.reference(kind, id, recorded.get(attribute)));
            }
        }
        out
    }
}

/// The writable part of an association read back: a reference's id, a delegation's name and
/// service (the rest is the Network RP's and may not be sent).
fn writable(key: &str, live: &Json) -> Json {
    match (key, live) {
        ("delegations", Json::Array(items)) => Json::Array(
            items
                .iter()
                .map(|d| json!({ "name": d.get("name"), "properties": { "serviceName": d.pointer("/properties/serviceName") } }))
                .collect(),
        ),
        (_, Json::Array(references)) => Json::Array(references.iter().map(reference).collect()),
        (_, value) => reference(value),
    }
}

/// A reference read back, as a PUT carries it: its id alone; any other value as it is.
fn reference(value: &Json) -> Json {
    match value.get("id") {
        Some(id) => json!({ "id": id }),
        None => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_keeps_the_associations_others_made_without_their_read_only_parts() {
        let live = json!({ "properties": {
            "addressPrefix": "10.1.0.0/24",
            "networkSecurityGroup": { "id": "/nsg", "resourceGuid": "x" },
            "routeTable": { "id": "/aks-route-table" },
            "delegations": [{ "name": "d", "id": "/d", "etag": "e", "properties": { "serviceName": "Microsoft.Web/serverFarms", "actions": [], "provisioningState": "Succeeded" } }],
            "serviceEndpointPolicies": [{ "id": "/policy", "location": "westeurope" }],
            "defaultOutboundAccess": false,
        } });
        let mut body = json!({ "properties": { "addressPrefix": "10.1.0.0/23" } });
        Subnet.keep_foreign(&live, Some(&Attributes::new()), &mut body);
        assert_eq!(
            body,
            json!({ "properties": {
                "addressPrefix": "10.1.0.0/23",
                "networkSecurityGroup": { "id": "/nsg" },
                "routeTable": { "id": "/aks-route-table" },
                "delegations": [{ "name": "d", "properties": { "serviceName": "Microsoft.Web/serverFarms" } }],
                "serviceEndpointPolicies": [{ "id": "/policy" }],
                "defaultOutboundAccess": false,
            } })
        );
    }

    #[test]
    fn a_route_table_the_stack_associated_and_now_leaves_out_is_removed() {
        let live = json!({ "properties": { "routeTable": { "id": "/ours" } } });
        let recorded: Attributes = [("route_table".to_string(), Value::str("route_table.egress"))].into();
        let mut body = json!({ "properties": { "addressPrefix": "10.1.0.0/24" } });
        Subnet.keep_foreign(&live, Some(&recorded), &mut body);
        assert_eq!(body["properties"].get("routeTable"), None);
    }
}
