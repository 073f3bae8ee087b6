//! Microsoft.Network/dnsZones (api 2018-05-01): synchronous writes, zones in location `global`,
//! and the count of record sets a GET shows.

use serde_json::{Value, json};

use super::{Prepared, ResourceType};
use super::{PutContext, base, properties_mut};
use crate::arm::address::Kind;
use crate::arm::errors::ArmError;
use crate::arm::identity::{DNS_API_VERSIONS, NETWORK_NAMESPACE, NameRule, TypeIdentity};
use crate::arm::schema::Schema;
use crate::arm::store::{Resource, Store};

/// DNS zones.
pub struct DnsZone;

static IDENTITY: TypeIdentity = TypeIdentity {
    namespace: NETWORK_NAMESPACE,
    type_segments: &["dnsZones"],
    response_type: None,
    api_versions: DNS_API_VERSIONS,
    put_is_long_running: false,
    delete_is_long_running: true,
    parent: None,
    name_rule: NameRule::UNCHECKED,
};

impl ResourceType for DnsZone {
    fn identity(&self) -> &TypeIdentity {
        &IDENTITY
    }

    fn schema(&self) -> Schema {
        zone_schema()
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        prepare_zone(context, body).map(Prepared::alone)
    }

    fn render(&self, store: &Store, resource: &Resource, body: &mut Value) {
        render_zone(store, resource, body);
    }
}

const NAME_SERVERS: [&str; 4] =
    ["ns1-01.azure-dns.com.", "ns2-01.azure-dns.net.", "ns3-01.azure-dns.org.", "ns4-01.azure-dns.info."];

pub fn zone_schema() -> Schema {
    Schema::new(
        "Zone",
        &[
            "location",
            "tags.*",
            "id!",
            "name!",
            "type!",
            "etag!",
            "properties.zoneType",
            "properties.registrationVirtualNetworks[].id",
            "properties.resolutionVirtualNetworks[].id",
            "properties.maxNumberOfRecordSets!",
            "properties.maxNumberOfRecordsPerRecordSet!",
            "properties.numberOfRecordSets!",
            "properties.nameServers!",
            // Not in the DNS API, but the emulator's GET shows it on every resource.
            "properties.provisioningState!",
        ],
    )
}

pub fn prepare_zone(context: &PutContext<'_>, body: Value) -> Result<Value, ArmError> {
    let name = context.address.name();
    let location = body.get("location").and_then(Value::as_str).unwrap_or("");
    if !location.eq_ignore_ascii_case("global") {
        return Err(ArmError::bad_request(
            "LocationNotAvailableForResourceType",
            format!("The provided location '{location}' is not available for resource type 'Microsoft.Network/dnsZones'. List of available regions for the resource type is 'global'."),
        )
        .with_target("location"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|label| label.is_empty() || label.len() > 63) || name.len() > 253 {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!(
                "The zone name '{name}' is invalid: a zone name has at least two labels of 1 to 63 characters each."
            ),
        ));
    }
    let zone_type = body.pointer("/properties/zoneType").and_then(Value::as_str).unwrap_or("Public");
    if !zone_type.eq_ignore_ascii_case("Public") {
        return Err(ArmError::bad_request("BadRequest", "Only public DNS zones are served here (zoneType 'Public')."));
    }
    let mut out = base(context.address, body);
    out.insert("etag".into(), json!(uuid::Uuid::new_v4().to_string()));
    let properties = properties_mut(&mut out);
    properties.insert("maxNumberOfRecordSets".into(), json!(10000));
    properties.insert("maxNumberOfRecordsPerRecordSet".into(), json!(20));
    properties.insert("nameServers".into(), json!(NAME_SERVERS));
    properties.insert("zoneType".into(), json!("Public"));
    Ok(Value::Object(out))
}

pub fn render_zone(store: &Store, zone: &Resource, body: &mut Value) {
    // The SOA and NS record sets every zone has, plus the ones written, of every record type.
    let written: usize = Kind::ALL
        .into_iter()
        .filter(|kind| kind.identity().parent == Some(Kind::DnsZone))
        .map(|kind| store.children(&zone.address, kind).len())
        .sum();
    let count = 2 + written;
    if let Some(properties) = body.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert("numberOfRecordSets".into(), json!(count));
    }
}
