//! Microsoft.Network/dnsZones/A: record sets of IPv4 addresses.

use std::net::Ipv4Addr;

use serde_json::Value;

use super::dns_record_set::{RecordSet, record_set_identity};
use crate::arm::errors::ArmError;

/// A record sets.
pub static A_RECORD_SET: RecordSet = RecordSet {
    identity: record_set_identity(&["dnsZones", "A"], "Microsoft.Network/dnsZones/A"),
    value_paths: &["properties.ARecords[].ipv4Address"],
    check_values: check_addresses,
};

fn check_addresses(name: &str, body: &Value) -> Result<(), ArmError> {
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
    Ok(())
}
