//! What DNS record sets of every record type share (api 2018-05-01): synchronous writes in their
//! zone, no location, a TTL, the fqdn a GET shows. Each record type, in its own file, names the
//! members that hold its values and checks them.

use serde_json::{Value, json};

use super::{Prepared, ResourceType};
use super::{PutContext, base, properties_mut};
use crate::arm::address::Kind;
use crate::arm::errors::ArmError;
use crate::arm::identity::{DNS_API_VERSIONS, NETWORK_NAMESPACE, NameRule, TypeIdentity};
use crate::arm::schema::Schema;

/// Record sets of one record type (A, CNAME) in a zone.
pub struct RecordSet {
    pub identity: TypeIdentity,
    /// The members that hold the record type's values, e.g. `properties.ARecords[].ipv4Address`.
    pub value_paths: &'static [&'static str],
    /// The record type's checks of a PUT body, given the record set's name.
    pub check_values: fn(name: &str, body: &Value) -> Result<(), ArmError>,
}

impl ResourceType for RecordSet {
    fn identity(&self) -> &TypeIdentity {
        &self.identity
    }

    fn schema(&self) -> Schema {
        Schema::new("RecordSet", &record_paths(self.value_paths))
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        prepare(self, context, body).map(Prepared::alone)
    }
}

/// A record type's identity: what sets it apart is its type segments and the `type` a GET shows
/// (`Microsoft.Network/dnsZones/A`); every record set lives in a zone and is written at once.
pub const fn record_set_identity(type_segments: &'static [&'static str], response_type: &'static str) -> TypeIdentity {
    TypeIdentity {
        namespace: NETWORK_NAMESPACE,
        type_segments,
        response_type: Some(response_type),
        api_versions: DNS_API_VERSIONS,
        put_is_long_running: false,
        delete_is_long_running: false,
        parent: Some(Kind::DnsZone),
        name_rule: NameRule::UNCHECKED,
    }
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

fn prepare(record_set: &RecordSet, context: &PutContext<'_>, body: Value) -> Result<Value, ArmError> {
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
    (record_set.check_values)(&name, &body)?;
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
