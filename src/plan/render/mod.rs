//! Renderers of a plan: [`text`] for terminals, [`json`] for machines (the plan file format),
//! [`markdown`] for pull-request comments; each also shows the [`Drift`] a refresh found.
//! Shared here: how a change, a resource and drift are summed up.

pub mod json;
pub mod markdown;
pub mod text;

use similar::TextDiff;

use super::{ActionKind, FieldChange, ResourceAction, Summary};
use crate::model::{Kind, Value};
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

/// A value in a one-line summary: strings without quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::Str(text) => text.clone(),
        Value::Ref(_) => Value::Unknown.to_string(),
        Value::List(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Key attributes of a resource being created, on one line (`Standard_D4s_v5 × 3`).
pub(crate) fn brief(action: &ResourceAction) -> String {
    let get = |name: &str| action.desired.get(name).filter(|v| **v != Value::Null);
    let show = |name: &str| get(name).map(plain);
    let parts: Vec<String> = match action.address.kind {
        Kind::ResourceGroup => vec![show("location")].into_iter().flatten().collect(),
        Kind::Vnet => vec![show("address_space"), show("location")].into_iter().flatten().collect(),
        Kind::Subnet => vec![show("prefix")].into_iter().flatten().collect(),
        Kind::Peering => show("remote_vnet").map(|v| format!("to {v}")).into_iter().collect(),
        Kind::PublicIp => vec![show("sku"), show("allocation"), show("dns_label").map(|l| format!("dns label {l}"))]
            .into_iter()
            .flatten()
            .collect(),
        Kind::Cluster => {
            let network = match (show("network_plugin"), show("network_plugin_mode")) {
                (Some(plugin), Some(mode)) => Some(format!("{plugin} {mode}")),
                (plugin, _) => plugin,
            };
            vec![show("kubernetes_version").map(|v| format!("Kubernetes {v}")), network, show("location")]
                .into_iter()
                .flatten()
                .collect()
        }
        Kind::NodePool => {
            let size = show("vm_size").unwrap_or_default();
            let autoscale = get("autoscale") == Some(&Value::Bool(true));
            let count = match (autoscale, show("min_count"), show("max_count"), show("count")) {
                (true, Some(min), Some(max), _) => Some(format!("{min}..{max}")),
                (_, _, _, count) => count,
            };
            vec![match count {
                Some(count) => format!("{size} × {count}"),
                None => size,
            }]
        }
        Kind::Namespace => vec![],
        Kind::Service => {
            let ports = match get("ports") {
                Some(Value::List(ports)) if ports.len() == 1 => Some("1 port".to_string()),
                Some(Value::List(ports)) => Some(format!("{} ports", ports.len())),
                _ => None,
            };
            vec![show("type"), ports].into_iter().flatten().collect()
        }
        Kind::Ingress => vec![show("class")].into_iter().flatten().collect(),
        Kind::DnsZone => vec![],
        Kind::DnsRecord => {
            vec![show("type"), show("records").or_else(|| show("cname"))].into_iter().flatten().collect()
        }
    };
    parts.into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(", ")
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

/// "3 to create, 1 to update, 1 to replace, 0 to destroy"
pub(crate) fn counts(summary: &Summary, update_word: &str) -> String {
    format!(
        "{} to create, {} to {update_word}, {} to replace, {} to destroy",
        summary.create, summary.update, summary.replace, summary.delete
    )
}

#[cfg(test)]
mod tests;
