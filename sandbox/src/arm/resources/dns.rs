//! Microsoft.Network/dnsZones and their A and CNAME record sets (api 2018-05-01): synchronous
//! writes, zones in location `global`, record values checked.

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::{Prepared, ResourceType};
use super::{PutContext, base, properties_mut};
use crate::arm::address::Kind;
use crate::arm::errors::ArmError;
use crate::arm::schema::Schema;
use crate::arm::store::{Resource, Store};

/// DNS zones.
pub struct DnsZone;

impl ResourceType for DnsZone {
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

/// Record sets of one record type (A, CNAME) in a zone.
pub struct RecordSet {
    schema: fn() -> Schema,
}

pub static A_RECORD_SET: RecordSet = RecordSet { schema: a_record_schema };
pub static CNAME_RECORD_SET: RecordSet = RecordSet { schema: cname_record_schema };

impl ResourceType for RecordSet {
    fn schema(&self) -> Schema {
        (self.schema)()
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        prepare_record(context, body).map(Prepared::alone)
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
        ],
    )
}

fn record_paths(values: &'static [&'static str]) -> Vec<&'static str> {
    let mut paths = vec![
        "id!",
        "name!",
        "type!",
        "etag!",
        "properties.metadata.*",
        "properties.TTL",
        "properties.targetResource.id",
        "properties.fqdn!",
        "properties.provisioningState!",
    ];
    paths.extend_from_slice(values);
    paths
}

pub fn a_record_schema() -> Schema {
    Schema::new("RecordSet", &record_paths(&["properties.ARecords[].ipv4Address"]))
}

pub fn cname_record_schema() -> Schema {
    Schema::new("RecordSet", &record_paths(&["properties.CNAMERecord.cname"]))
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
    // The SOA and NS record sets every zone has, plus the ones written.
    let count = 2
        + store.children(&zone.address, Kind::DnsARecord).len()
        + store.children(&zone.address, Kind::DnsCnameRecord).len();
    if let Some(properties) = body.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert("numberOfRecordSets".into(), json!(count));
    }
}

pub fn prepare_record(context: &PutContext<'_>, body: Value) -> Result<Value, ArmError> {
    let name = context.address.name().to_string();
    let zone = context.address.parent().map(|zone| zone.name().to_string()).unwrap_or_default();
    if let Some(ttl) = body.pointer("/properties/TTL")
        && ttl.as_u64().is_none_or(|ttl| ttl > 2_147_483_647)
    {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!("The TTL {ttl} of record set '{name}' must be a whole number of seconds."),
        ));
    }
    match context.address.kind {
        Kind::DnsARecord => {
            let records = body.pointer("/properties/ARecords").and_then(Value::as_array).cloned().unwrap_or_default();
            for record in &records {
                let text = record.get("ipv4Address").and_then(Value::as_str).unwrap_or("");
                if text.parse::<Ipv4Addr>().is_err() {
                    return Err(ArmError::bad_request(
                        "BadRequest",
                        format!("The value '{text}' of record set 'A/{name}' is not a valid IPv4 address."),
                    )
                    .with_target("properties.ARecords"));
                }
            }
        }
        _ => {
            if name == "@" {
                return Err(ArmError::bad_request(
                    "BadRequest",
                    "A CNAME record set cannot be created at the zone apex ('@').",
                ));
            }
            if body.pointer("/properties/CNAMERecord/cname").and_then(Value::as_str).is_none_or(str::is_empty) {
                return Err(ArmError::bad_request(
                    "BadRequest",
                    format!("The CNAME record set '{name}' must have CNAMERecord.cname."),
                )
                .with_target("properties.CNAMERecord.cname"));
            }
        }
    }
    let mut out = base(context.address, body);
    out.remove("location");
    out.insert("etag".into(), json!(uuid::Uuid::new_v4().to_string()));
    let fqdn = if name == "@" { format!("{zone}.") } else { format!("{name}.{zone}.") };
    let properties = properties_mut(&mut out);
    properties.entry("TTL").or_insert(json!(3600));
    properties.entry("metadata").or_insert(json!({}));
    properties.insert("fqdn".into(), json!(fqdn));
    Ok(Value::Object(out))
}
