//! The resource provider reads of Microsoft.Resources (`GET /subscriptions/{sub}/providers` and
//! `.../providers/{namespace}`): each namespace the emulator serves, `Registered`, with its
//! resource types, their locations and the api-versions served (newest first, as ARM lists them).

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::ArmError;
use super::identity::{RESOURCES_NAMESPACE, canonical_namespace};
use super::listing;
use super::resources::Kind;
use super::state::Shared;

/// The regions a regional type lists, by display name as ARM shows them.
const REGIONS: &[&str] = &[
    "East US",
    "East US 2",
    "West US",
    "West US 2",
    "West US 3",
    "Central US",
    "North Central US",
    "South Central US",
    "West Central US",
    "Canada Central",
    "Brazil South",
    "North Europe",
    "West Europe",
    "UK South",
    "France Central",
    "Germany West Central",
    "Sweden Central",
    "Switzerland North",
    "Norway East",
    "Japan East",
    "Korea Central",
    "Australia East",
    "Southeast Asia",
    "East Asia",
    "Central India",
    "South Africa North",
    "UAE North",
];

/// `GET .../providers/{namespace}` (`namespace` given) or the list of every namespace.
pub fn read(shared: &Shared, uri: &Uri, subscription: &str, namespace: Option<&str>) -> Result<Response, ArmError> {
    match namespace {
        Some(given) => {
            let namespace = canonical_namespace(given).ok_or_else(|| invalid_namespace(given))?;
            Ok((StatusCode::OK, axum::Json(provider(subscription, namespace))).into_response())
        }
        None => {
            let items =
                namespaces().into_iter().zip(0..).map(|(ns, place)| (place, provider(subscription, ns))).collect();
            listing::page(shared, uri, items)
        }
    }
}

/// The namespaces served, in the order of the kinds.
fn namespaces() -> Vec<&'static str> {
    let mut namespaces = Vec::new();
    for kind in Kind::ALL {
        if !namespaces.contains(&kind.identity().namespace) {
            namespaces.push(kind.identity().namespace);
        }
    }
    namespaces
}

fn provider(subscription: &str, namespace: &str) -> Value {
    let resource_types: Vec<Value> = Kind::ALL
        .into_iter()
        .filter(|kind| kind.identity().namespace == namespace)
        .map(|kind| {
            let identity = kind.identity();
            // DNS zones and their record sets are global; the rest are regional.
            let locations: Vec<&str> =
                if identity.type_segments[0] == "dnsZones" { vec!["global"] } else { REGIONS.to_vec() };
            let mut versions = identity.api_versions.to_vec();
            versions.sort_unstable_by(|a, b| b.cmp(a));
            json!({
                "resourceType": identity.type_segments.join("/"),
                "locations": locations,
                "apiVersions": versions,
                "capabilities": "None",
            })
        })
        .collect();
    let policy = if namespace == RESOURCES_NAMESPACE { "RegistrationFree" } else { "RegistrationRequired" };
    json!({
        "id": format!("/subscriptions/{subscription}/providers/{namespace}"),
        "namespace": namespace,
        "registrationState": "Registered",
        "registrationPolicy": policy,
        "resourceTypes": resource_types,
    })
}

fn invalid_namespace(namespace: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "InvalidResourceNamespace",
        format!("The resource namespace '{namespace}' is invalid."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_lists_its_types_with_every_version_served() {
        let network = provider("s", "Microsoft.Network");
        assert_eq!(network["id"], "/subscriptions/s/providers/Microsoft.Network");
        let types = network["resourceTypes"].as_array().unwrap();
        let vnets = types.iter().find(|t| t["resourceType"] == "virtualNetworks").unwrap();
        let versions = vnets["apiVersions"].as_array().unwrap();
        assert_eq!(versions.len(), super::super::identity::NETWORK_API_VERSIONS.len());
        assert!(versions.windows(2).all(|pair| pair[0].as_str() > pair[1].as_str()), "newest first: {versions:?}");
        let zones = types.iter().find(|t| t["resourceType"] == "dnsZones").unwrap();
        assert_eq!(zones["locations"], json!(["global"]));
        assert_eq!(zones["apiVersions"], json!(["2018-05-01"]));
        assert_eq!(namespaces(), ["Microsoft.Resources", "Microsoft.Network", "Microsoft.ContainerService"]);
    }
}
