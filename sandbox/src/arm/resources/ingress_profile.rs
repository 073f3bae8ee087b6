//! A managed cluster's `ingressProfile.webAppRouting` (the application routing add-on): what a
//! PUT may set, what a PUT that leaves the profile out keeps, and the add-on's managed
//! identity that AKS fills in while it is enabled.

use serde_json::{Value, json};

use super::PutContext;
use crate::arm::address::Address;
use crate::arm::errors::ArmError;

/// The stored profile: the one sent (checked, with the identity while enabled), else the
/// cluster's current one.
pub fn profile(context: &PutContext<'_>, body: &Value, node_group: &Address) -> Result<Option<Value>, ArmError> {
    let existing = context.existing.and_then(|cluster| cluster.property("/properties/ingressProfile")).cloned();
    let Some(sent) = body.pointer("/properties/ingressProfile") else { return Ok(existing) };
    let routing = sent.get("webAppRouting").cloned().unwrap_or(json!({}));
    let enabled = match routing.get("enabled") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(enabled)) => *enabled,
        Some(other) => {
            return Err(ArmError::invalid_parameter(
                "properties.ingressProfile.webAppRouting.enabled",
                format!("The value {other} of parameter enabled is not a boolean."),
            ));
        }
    };
    let zones = routing.get("dnsZoneResourceIds").and_then(Value::as_array).cloned().unwrap_or_default();
    for (index, zone) in zones.iter().enumerate() {
        if !zone.as_str().is_some_and(is_zone_id) {
            return Err(ArmError::invalid_parameter(
                &format!("properties.ingressProfile.webAppRouting.dnsZoneResourceIds[{index}]"),
                format!("{zone} is not the resource ID of a public or private DNS zone."),
            ));
        }
    }
    let mut out = json!({ "enabled": enabled });
    if !zones.is_empty() {
        out["dnsZoneResourceIds"] = Value::Array(zones);
    }
    if enabled {
        // The identity lives as long as the add-on stays enabled.
        let kept = existing.as_ref().and_then(|p| p.pointer("/webAppRouting/identity")).cloned();
        let name = format!("webapprouting-{}", context.address.name());
        let identity = kept.unwrap_or_else(|| {
            json!({
                "resourceId": format!(
                    "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
                    node_group.id()
                ),
                "clientId": uuid::Uuid::new_v4().to_string(),
                "objectId": uuid::Uuid::new_v4().to_string(),
            })
        });
        out["identity"] = identity;
    }
    Ok(Some(json!({ "webAppRouting": out })))
}

/// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/{dnsZones|privateDnsZones}/{zone}`
fn is_zone_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    matches!(
        parts.as_slice(),
        ["", subscriptions, _, groups, _, providers, network, zones, name]
            if subscriptions.eq_ignore_ascii_case("subscriptions")
                && groups.eq_ignore_ascii_case("resourceGroups")
                && providers.eq_ignore_ascii_case("providers")
                && network.eq_ignore_ascii_case("Microsoft.Network")
                && (zones.eq_ignore_ascii_case("dnsZones") || zones.eq_ignore_ascii_case("privateDnsZones"))
                && !name.is_empty()
    )
}

/// True when the stored cluster runs the add-on.
pub fn enabled(cluster: &Value) -> bool {
    cluster.pointer("/properties/ingressProfile/webAppRouting/enabled").and_then(Value::as_bool).unwrap_or(false)
}
