//! DNS record sets (`dnsZones/{zone}/A/{name}` and `.../CNAME/{name}`): TTL and the records;
//! aksform's ownership mark goes in the record set's `metadata` (record sets have no tags).

use serde_json::{Value as Json, json};

use super::arm_json::{DNS_API, int_at, marks, named, opt_str, str_at};
use super::arm_type::{ArmType, BodyRequest, Identity, MarksAt, Place};
use super::resolver::Resolver;
use crate::model::Value;
use crate::providers::{Attributes, ErrorKind, ProviderError};

pub(crate) struct DnsRecord;

const DNS_ZONE_TYPE: &str = "Microsoft.Network/dnszones";

impl ArmType for DnsRecord {
    fn marks_at(&self) -> MarksAt {
        MarksAt::Metadata
    }

    fn identity(&self) -> &'static Identity {
        &Identity { type_name: "Microsoft.Network/dnsZones/recordsets", api_version: DNS_API, place: Place::Zone }
    }

    /// A record set's `type` names its record type: `Microsoft.Network/dnszones/A`.
    fn is_type(&self, type_name: &str) -> bool {
        type_name.get(..DNS_ZONE_TYPE.len()).is_some_and(|zone| zone.eq_ignore_ascii_case(DNS_ZONE_TYPE))
            && ["/A", "/CNAME"].iter().any(|record| type_name[DNS_ZONE_TYPE.len()..].eq_ignore_ascii_case(record))
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        let BodyRequest { fields, address, resolver, .. } = *request;
        let mut properties = json!({
            "TTL": fields.required_int32("ttl")?,
            "metadata": marks(address, resolver),
        });
        match fields.required_str("type")? {
            "A" => {
                // A record taken from another resource's address that has none (an Ingress no
                // controller has given an address) arrives empty.
                if fields.list("records")?.contains(&Value::Null) {
                    return Err(ProviderError {
                        kind: ErrorKind::Rejected,
                        message: format!(
                            "{address}: an address of the record is empty: the attribute it takes had no value when the \
                         record was applied (an Ingress gets its address from an ingress controller in the cluster)"
                        ),
                    });
                }
                let records = fields.string_list("records")?;
                if records.is_empty() {
                    return Err(ProviderError {
                        kind: ErrorKind::Rejected,
                        message: format!("{address}: an A record needs at least one address"),
                    });
                }
                properties["ARecords"] =
                    Json::Array(records.into_iter().map(|ip| json!({ "ipv4Address": ip })).collect());
            }
            "CNAME" => properties["CNAMERecord"] = json!({ "cname": fields.required_str("cname")? }),
            other => {
                return Err(ProviderError {
                    kind: ErrorKind::Rejected,
                    message: format!("{address}: record type {other} is not one aksform manages (A, CNAME)"),
                });
            }
        }
        Ok(json!({ "properties": properties }))
    }

    fn observed(&self, live: &Json, recorded: &Attributes, _resolver: &Resolver) -> Attributes {
        let mut out = named(live, recorded);
        out.insert("zone".into(), recorded.get("zone").cloned().unwrap_or(Value::Null));
        let kind = str_at(live, "/type").and_then(|t| t.rsplit('/').next()).map(str::to_ascii_uppercase);
        out.insert("type".into(), Value::opt_str(kind.clone()));
        out.insert("ttl".into(), int_at(live, "/properties/TTL"));
        let records = match live.pointer("/properties/ARecords").and_then(Json::as_array) {
            Some(items) if kind.as_deref() == Some("A") => Value::List(
                items.iter().filter_map(|r| r.get("ipv4Address").and_then(Json::as_str)).map(Value::str).collect(),
            ),
            _ => Value::Null,
        };
        out.insert("records".into(), records);
        out.insert("cname".into(), opt_str(live, "/properties/CNAMERecord/cname"));
        out
    }
}
