//! Microsoft.Network/dnsZones/CNAME: record sets of one canonical name, never at the zone apex.

use serde_json::Value;

use super::dns_record_set::{RecordSet, record_set_identity};
use crate::arm::errors::ArmError;

/// CNAME record sets.
pub static CNAME_RECORD_SET: RecordSet = RecordSet {
    identity: record_set_identity(&["dnsZones", "CNAME"], "Microsoft.Network/dnsZones/CNAME"),
    value_paths: &["properties.CNAMERecord.cname"],
    check_values: check_canonical_name,
};

fn check_canonical_name(name: &str, body: &Value) -> Result<(), ArmError> {
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
    Ok(())
}
