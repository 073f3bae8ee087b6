//! The plan as JSON (`aksform plan --format json`): the same versioned document as a saved
//! plan file, without the fields that tie a saved plan to a state and configuration, and
//! with what a refresh found changed outside aksform (`drift`) when it found anything.
//! The format is documented in `docs/plan-json.md`.

use serde::Serialize;

use crate::model::Address;
use crate::plan::{FORMAT_VERSION, Plan, SavedPlan};
use crate::refresh::{Drift, DriftKind, FieldDrift};

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    aksform_version: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    drift: Vec<DriftRepr<'a>>,
    #[serde(flatten)]
    plan: &'a Plan,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Changed,
    Deleted,
}

/// One resource changed or deleted outside aksform.
#[derive(Serialize)]
struct DriftRepr<'a> {
    address: &'a Address,
    kind: &'static str,
    status: Status,
    changes: &'a [FieldDrift],
}

impl<'a> From<&'a Drift> for DriftRepr<'a> {
    fn from(drift: &'a Drift) -> Self {
        let status = match drift.kind {
            DriftKind::Changed(_) => Status::Changed,
            DriftKind::Deleted => Status::Deleted,
        };
        DriftRepr { address: &drift.address, kind: drift.address.kind.keyword(), status, changes: drift.fields() }
    }
}

/// The plan as a JSON document.
pub fn render(plan: &Plan) -> Result<String, serde_json::Error> {
    render_with_drift(plan, &[])
}

/// The plan as a JSON document, with the drift a refresh found before planning.
pub fn render_with_drift(plan: &Plan, drift: &[Drift]) -> Result<String, serde_json::Error> {
    let document = Document {
        format_version: FORMAT_VERSION,
        aksform_version: env!("CARGO_PKG_VERSION"),
        drift: drift.iter().map(DriftRepr::from).collect(),
        plan,
    };
    serde_json::to_string_pretty(&document).map(|text| text + "\n")
}

/// A saved plan as a JSON document: the plan file.
pub fn render_saved(saved: &SavedPlan) -> Result<String, serde_json::Error> {
    saved.to_json()
}
