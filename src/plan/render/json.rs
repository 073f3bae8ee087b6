//! The plan as JSON (`aksform plan --format json`): the same versioned document as a saved
//! plan file, without the fields that tie a saved plan to a state and configuration, and
//! with what a refresh found changed outside aksform (`drift`) when it found anything.
//! The format is documented in `docs/plan-json.md`.

use serde::Serialize;

use crate::plan::{FORMAT_VERSION, Plan, SavedPlan};
use crate::refresh::Drift;

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    aksform_version: &'static str,
    #[serde(skip_serializing_if = "<[Drift]>::is_empty")]
    drift: &'a [Drift],
    #[serde(flatten)]
    plan: &'a Plan,
}

/// The plan as a JSON document.
pub fn render(plan: &Plan) -> Result<String, serde_json::Error> {
    render_with_drift(plan, &[])
}

/// The plan as a JSON document, with the drift a refresh found before planning.
pub fn render_with_drift(plan: &Plan, drift: &[Drift]) -> Result<String, serde_json::Error> {
    let document = Document { format_version: FORMAT_VERSION, aksform_version: env!("CARGO_PKG_VERSION"), drift, plan };
    serde_json::to_string_pretty(&document).map(|text| text + "\n")
}

/// A saved plan as a JSON document: the plan file.
pub fn render_saved(saved: &SavedPlan) -> Result<String, serde_json::Error> {
    saved.to_json()
}
