//! Microsoft.Network/natGateways: Standard SKU, public IPs that exist, a TCP idle timeout of 4
//! to 120 minutes, at most one zone; the subnets that use the gateway listed back;
//! not deletable while a subnet uses it.

use serde_json::{Value, json};

use super::subnet::Association;
use super::{Prepared, ResourceType};
use super::{PutContext, base, check_reference, keep_location, new_guid, properties_mut, require_location, weak_etag};
use crate::arm::address::Kind;
use crate::arm::errors::ArmError;
use crate::arm::identity::TypeIdentity;
use crate::arm::schema::Schema;
use crate::arm::store::{Resource, Store};

/// NAT gateways.
pub struct NatGateway;

static IDENTITY: TypeIdentity = TypeIdentity::network(&["natGateways"]);

const NAT_GATEWAY: Association =
    Association { property: "natGateway", noun: "NAT gateway", in_use_code: "InUseNatGatewayCannotBeDeleted" };

impl ResourceType for NatGateway {
    fn identity(&self) -> &TypeIdentity {
        &IDENTITY
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "NatGateway",
            &[
                "location",
                "tags.*",
                "zones[]",
                "sku.name",
                "id!",
                "name!",
                "type!",
                "etag!",
                "properties.idleTimeoutInMinutes",
                "properties.publicIpAddresses[].id",
                "properties.publicIpPrefixes[].id",
                "properties.subnets!",
                "properties.provisioningState!",
                "properties.resourceGuid!",
            ],
        )
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        let location = require_location(&body)?;
        keep_location(context, &location)?;
        let id = context.address.id();
        match body.pointer("/sku/name").and_then(Value::as_str) {
            None => {}
            Some(sku) if sku.eq_ignore_ascii_case("Standard") => {}
            Some(sku) => {
                return Err(ArmError::invalid_parameter(
                    "sku.name",
                    format!("NAT gateway {id} has SKU '{sku}'; the only SKU is 'Standard'."),
                ));
            }
        }
        if let Some(minutes) = body.pointer("/properties/idleTimeoutInMinutes")
            && !minutes.as_u64().is_some_and(|m| (4..=120).contains(&m))
        {
            return Err(ArmError::invalid_parameter(
                "properties.idleTimeoutInMinutes",
                format!("The idle timeout of NAT gateway {id} must be between 4 and 120 minutes; it is {minutes}."),
            ));
        }
        if body.get("zones").and_then(Value::as_array).is_some_and(|zones| zones.len() > 1) {
            return Err(ArmError::invalid_parameter(
                "zones",
                format!("NAT gateway {id} may be placed in one availability zone at most."),
            ));
        }
        let ips = body.pointer("/properties/publicIpAddresses").and_then(Value::as_array).cloned().unwrap_or_default();
        for ip in ips.iter().filter_map(|ip| ip.get("id").and_then(Value::as_str)) {
            check_reference(context.store, &id, ip, Kind::PublicIpAddress)?;
        }
        let mut out = base(context.address, body);
        out.insert("etag".into(), weak_etag());
        out.insert("sku".into(), json!({ "name": "Standard" }));
        let guid = context.existing.and_then(|gateway| gateway.property("/properties/resourceGuid")).cloned();
        let properties = properties_mut(&mut out);
        properties.entry("idleTimeoutInMinutes").or_insert(json!(4));
        properties.entry("publicIpAddresses").or_insert(json!([]));
        properties.insert("resourceGuid".into(), guid.unwrap_or_else(new_guid));
        Ok(Prepared::alone(Value::Object(out)))
    }

    fn check_delete(&self, store: &Store, gateway: &Resource) -> Result<(), ArmError> {
        NAT_GATEWAY.check_delete(store, gateway)
    }

    fn render(&self, store: &Store, gateway: &Resource, body: &mut Value) {
        NAT_GATEWAY.render(store, gateway, body);
    }
}

/// The NAT gateway whose public IPs include `ip`, by id.
pub fn user_of(store: &Store, ip: &str) -> Option<String> {
    store.all_of(Kind::NatGateway).into_iter().find_map(|gateway| {
        let ips = gateway.property("/properties/publicIpAddresses").and_then(Value::as_array)?;
        let uses = ips.iter().filter_map(|i| i.get("id").and_then(Value::as_str)).any(|i| i.eq_ignore_ascii_case(ip));
        uses.then(|| gateway.address.id())
    })
}
