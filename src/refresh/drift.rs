//! Drift: what changed outside aksform, resource by resource, as refresh finds it by
//! comparing what the state records with what is live.

use serde::{Deserialize, Serialize};

use crate::model::{Address, Value};
use crate::plan::{FieldPath, diff};
use crate::providers::Attributes;
use crate::state::ResourceState;

/// One field (or one key of a map field) whose live value is not the recorded one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDrift {
    pub path: FieldPath,
    /// What the state records (`null` when it records nothing there).
    pub recorded: Value,
    /// What is live (`null` when the field is gone).
    pub live: Value,
}

/// What happened to a resource outside aksform.
#[derive(Debug, Clone, PartialEq)]
pub enum DriftKind {
    /// Its fields were changed, sorted by path; never empty.
    Changed(Vec<FieldDrift>),
    /// It no longer exists.
    Deleted,
}

/// A recorded resource that is not live as recorded. In JSON (printed and saved plans):
/// `{ "address", "kind", "status": "changed" | "deleted", "changes" }`, as
/// `docs/plan-json.md` describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "DriftRecord", try_from = "DriftRecord")]
pub struct Drift {
    pub address: Address,
    pub kind: DriftKind,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Changed,
    Deleted,
}

/// How [`Drift`] is written and read.
#[derive(Serialize, Deserialize)]
struct DriftRecord {
    address: Address,
    /// The address's kind, for readers' convenience; ignored when read.
    #[serde(default, skip_deserializing)]
    kind: &'static str,
    status: Status,
    #[serde(default)]
    changes: Vec<FieldDrift>,
}

impl From<Drift> for DriftRecord {
    fn from(drift: Drift) -> Self {
        let kind = drift.address.kind.keyword();
        let (status, changes) = match drift.kind {
            DriftKind::Changed(fields) => (Status::Changed, fields),
            DriftKind::Deleted => (Status::Deleted, Vec::new()),
        };
        DriftRecord { address: drift.address, kind, status, changes }
    }
}

impl TryFrom<DriftRecord> for Drift {
    type Error = String;

    fn try_from(record: DriftRecord) -> Result<Self, String> {
        let kind = match record.status {
            Status::Deleted => DriftKind::Deleted,
            Status::Changed if record.changes.is_empty() => {
                return Err(format!("the drift of {} is `changed` with no changes", record.address));
            }
            Status::Changed => DriftKind::Changed(record.changes),
        };
        Ok(Drift { address: record.address, kind })
    }
}

impl Drift {
    /// The changed fields: none for a resource deleted outside aksform.
    pub fn fields(&self) -> &[FieldDrift] {
        match &self.kind {
            DriftKind::Changed(fields) => fields,
            DriftKind::Deleted => &[],
        }
    }
}

/// The drift of one recorded resource, given what a provider read live (`None`: it is gone);
/// `None` when it is live as recorded.
pub fn drift_of(recorded: &ResourceState, live: Option<&Attributes>) -> Option<Drift> {
    let address = recorded.address.clone();
    let Some(live) = live else {
        return Some(Drift { address, kind: DriftKind::Deleted });
    };
    let fields: Vec<FieldDrift> = diff::compare(recorded.address.kind, &recorded.attributes, live, &[])
        .into_iter()
        .map(|change| FieldDrift { path: change.path, recorded: change.before, live: change.after })
        .collect();
    (!fields.is_empty()).then_some(Drift { address, kind: DriftKind::Changed(fields) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn service(attributes: &[(&str, Value)]) -> ResourceState {
        let mut recorded = ResourceState::new(Address::new(Kind::Service, "redis"));
        recorded.attributes = attributes.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        recorded
    }

    fn port(number: i64) -> Value {
        Value::List(vec![Value::map([("name", Value::str("redis")), ("port", Value::Int(number))])])
    }

    #[test]
    fn a_resource_live_as_recorded_has_no_drift() {
        let recorded = service(&[("type", Value::str("ClusterIP")), ("ports", port(6379))]);
        assert_eq!(drift_of(&recorded, Some(&recorded.attributes)), None);
    }

    #[test]
    fn a_resource_gone_is_deleted_outside_aksform() {
        let recorded = service(&[("type", Value::str("ClusterIP"))]);
        let drift = drift_of(&recorded, None).unwrap();
        assert_eq!(drift, Drift { address: recorded.address.clone(), kind: DriftKind::Deleted });
        assert!(drift.fields().is_empty());
    }

    #[test]
    fn changed_fields_carry_the_recorded_and_the_live_value() {
        let recorded = service(&[
            ("type", Value::str("ClusterIP")),
            ("ports", port(6379)),
            ("labels", Value::map([("team", "data")])),
        ]);
        let mut live = recorded.attributes.clone();
        live.insert("ports".into(), port(6380));
        live.insert("labels".into(), Value::map([("team", "platform"), ("tier", "cache")]));
        let drift = drift_of(&recorded, Some(&live)).unwrap();
        let shown: Vec<String> =
            drift.fields().iter().map(|f| format!("{}: {} → {}", f.path, f.recorded, f.live)).collect();
        assert_eq!(
            shown,
            ["labels.team: \"data\" → \"platform\"", "labels.tier: null → \"cache\"", "ports[0].port: 6379 → 6380"]
        );
    }

    #[test]
    fn a_field_gone_from_what_is_live_shows_as_removed() {
        let recorded = service(&[("type", Value::str("ClusterIP")), ("ports", port(6379))]);
        let mut live = recorded.attributes.clone();
        live.remove("ports");
        let drift = drift_of(&recorded, Some(&live)).unwrap();
        assert_eq!(
            drift.fields(),
            [FieldDrift { path: FieldPath::attribute("ports"), recorded: port(6379), live: Value::Null }]
        );
    }
}
