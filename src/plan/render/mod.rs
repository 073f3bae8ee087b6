//! Renderers of a plan: [`text`] for terminals, [`json`] for machines (the plan file format),
//! [`markdown`] for pull-request comments; each also shows the [`Drift`] a refresh found.
//! [`picture`] is the network a change lands in, drawn by [`mermaid`] and [`dot`].
//! Shared here: how a change, a resource and drift are summed up.

pub mod dot;
pub mod json;
pub mod markdown;
pub mod mermaid;
pub mod picture;
pub mod text;

use similar::TextDiff;

use super::{ActionKind, FieldChange, ResourceAction, Summary};
use crate::model::{Brief, Value};
use crate::refresh::{Drift, DriftKind};

/// How a field change reads.
pub(crate) enum Shape<'a> {
    Added(&'a Value),
    Removed(&'a Value),
    Changed(&'a Value, &'a Value),
    /// A multi-line string on either side: shown as a unified diff of lines.
    Lines {
        before: &'a str,
        after: &'a str,
    },
}

fn text_of(value: &Value) -> Option<&str> {
    match value {
        Value::Null => Some(""),
        Value::Str(text) => Some(text),
        _ => None,
    }
}

pub(crate) fn shape(change: &FieldChange) -> Shape<'_> {
    let multi_line = |v: &Value| v.as_str().is_some_and(|s| s.contains('\n'));
    if (multi_line(&change.before) || multi_line(&change.after))
        && let (Some(before), Some(after)) = (text_of(&change.before), text_of(&change.after))
    {
        return Shape::Lines { before, after };
    }
    match (&change.before, &change.after) {
        (Value::Null, after) => Shape::Added(after),
        (before, Value::Null) => Shape::Removed(before),
        (before, after) => Shape::Changed(before, after),
    }
}

/// The hunks of a unified diff between two texts, without file headers.
pub(crate) fn unified_diff(before: &str, after: &str) -> String {
    TextDiff::from_lines(before, after).unified_diff().context_radius(3).to_string()
}

/// Key attributes of a resource being created, on one line (`Standard_D4s_v5 × 3`), as its
/// kind's description gives them.
pub(crate) fn brief(action: &ResourceAction) -> String {
    let parts = (action.address.kind.spec().brief)(&Brief(&action.desired));
    parts.into_iter().flatten().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(", ")
}

/// What is said beside a replaced resource: its parent, or the fields that force it.
pub(crate) fn replace_note(action: &ResourceAction) -> Option<String> {
    if action.action != ActionKind::Replace {
        return None;
    }
    if let Some(parent) = &action.replaced_along_with {
        return Some(format!("because {parent} is replaced"));
    }
    let fields: Vec<String> = action.replace_reasons().map(|(path, _)| path.to_string()).collect();
    match fields.as_slice() {
        [] => None,
        [field] => Some(format!("{field} cannot change in place")),
        fields => Some(format!("{} cannot change in place", fields.join(", "))),
    }
}

/// What changed outside aksform, one line per resource and per field, then a blank line;
/// nothing when nothing did.
pub(crate) fn drift_lines(drift: &[Drift]) -> String {
    if drift.is_empty() {
        return String::new();
    }
    let mut lines = vec!["Changed outside aksform since the last apply:".to_string()];
    for resource in drift {
        let address = &resource.address;
        match &resource.kind {
            DriftKind::Deleted => lines.push(format!("  - {address} was deleted outside aksform")),
            DriftKind::Changed(fields) => {
                lines.push(format!("  ~ {address} was changed outside aksform"));
                lines.extend(fields.iter().map(|f| format!("      ~ {}: {} → {}", f.path, f.recorded, f.live)));
            }
        }
    }
    lines.join("\n") + "\n\n"
}

/// "3 to create, 1 to update, 1 to replace, 0 to destroy", after "2 to import, " when
/// something is imported.
pub(crate) fn counts(summary: &Summary, update_word: &str) -> String {
    let imports = if summary.import > 0 { format!("{} to import, ", summary.import) } else { String::new() };
    format!(
        "{imports}{} to create, {} to {update_word}, {} to replace, {} to destroy",
        summary.create, summary.update, summary.replace, summary.delete
    )
}

/// What is said beside an imported resource: the id it is imported from, and whether it is
/// changed too.
pub(crate) fn import_note(action: &ResourceAction) -> String {
    let id = action.provider_id.as_deref().unwrap_or_default();
    if action.changes().is_empty() { format!("from {id}") } else { format!("from {id}, then update in place") }
}

#[cfg(test)]
mod tests;
