//! How a plan is written as JSON and read back. Values known only after apply cannot be
//! written as values: they are written as `null` with their paths listed beside them
//! (`after_unknown`, `references`), and put back when a plan file is loaded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ActionKind, Changes, FieldChange, FieldPath, PathSegment, Plan, ResourceAction, Step, Summary};
use crate::model::{Address, AttributeRef, Value};

/// Every place in `value` that is not yet known.
pub(crate) fn unknown_paths(value: &Value, at: &FieldPath, out: &mut Vec<FieldPath>) {
    match value {
        Value::Unknown | Value::Ref(_) => out.push(at.clone()),
        Value::List(items) => items.iter().enumerate().for_each(|(i, v)| unknown_paths(v, &at.index(i), out)),
        Value::Map(map) => map.iter().for_each(|(k, v)| unknown_paths(v, &at.key(k), out)),
        _ => {}
    }
}

fn ref_paths(value: &Value, at: &FieldPath, out: &mut Vec<ReferenceRepr>) {
    match value {
        Value::Ref(r) => {
            out.push(ReferenceRepr { path: at.clone(), address: r.address.clone(), attribute: r.attribute.clone() })
        }
        Value::List(items) => items.iter().enumerate().for_each(|(i, v)| ref_paths(v, &at.index(i), out)),
        Value::Map(map) => map.iter().for_each(|(k, v)| ref_paths(v, &at.key(k), out)),
        _ => {}
    }
}

/// The value with every unknown part written as null.
fn nulled(value: &Value) -> Value {
    match value {
        Value::Unknown | Value::Ref(_) => Value::Null,
        Value::List(items) => Value::List(items.iter().map(nulled).collect()),
        Value::Map(map) => Value::Map(map.iter().map(|(k, v)| (k.clone(), nulled(v))).collect()),
        other => other.clone(),
    }
}

/// Puts `new` at `path` inside `value`; false when the path does not lead anywhere.
fn put(value: &mut Value, path: &[PathSegment], new: Value) -> bool {
    let Some((first, rest)) = path.split_first() else {
        *value = new;
        return true;
    };
    let inner = match (value, first) {
        (Value::Map(map), PathSegment::Key(key)) => map.get_mut(key),
        (Value::List(items), PathSegment::Index(index)) => items.get_mut(*index),
        _ => None,
    };
    inner.is_some_and(|inner| put(inner, rest, new))
}

#[derive(Serialize, Deserialize)]
struct ChangeRepr {
    path: FieldPath,
    before: Value,
    after: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replace_reason: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct ReferenceRepr {
    path: FieldPath,
    address: Address,
    attribute: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct ActionRepr {
    address: Address,
    #[serde(default, skip_deserializing)]
    kind: String,
    action: ActionKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replaced_along_with: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider_id: Option<String>,
    #[serde(default)]
    depends_on: Vec<Address>,
    changes: Vec<ChangeRepr>,
    #[serde(default)]
    after_unknown: Vec<FieldPath>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    desired: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    references: Vec<ReferenceRepr>,
}

impl From<&ResourceAction> for ActionRepr {
    fn from(action: &ResourceAction) -> Self {
        let mut references = Vec::new();
        for (name, value) in &action.desired {
            ref_paths(value, &FieldPath::attribute(name), &mut references);
        }
        ActionRepr {
            address: action.address.clone(),
            kind: action.address.kind.keyword().to_string(),
            action: action.action,
            replaced_along_with: action.replaced_along_with.clone(),
            provider_id: action.provider_id.clone(),
            depends_on: action.depends_on.clone(),
            changes: action
                .changes()
                .iter()
                .map(|c| ChangeRepr {
                    path: c.path.clone(),
                    before: nulled(&c.before),
                    after: nulled(&c.after),
                    replace_reason: c.replace_reason.clone(),
                })
                .collect(),
            after_unknown: action.after_unknown(),
            desired: action.desired.iter().map(|(k, v)| (k.clone(), nulled(v))).collect(),
            references,
        }
    }
}

impl TryFrom<ActionRepr> for ResourceAction {
    type Error = String;

    fn try_from(repr: ActionRepr) -> Result<Self, String> {
        let address = repr.address;
        let mut changes: Vec<FieldChange> = repr
            .changes
            .into_iter()
            .map(|c| FieldChange { path: c.path, before: c.before, after: c.after, replace_reason: c.replace_reason })
            .collect();
        for unknown in repr.after_unknown {
            let placed = changes.iter_mut().any(|change| {
                unknown.strip_prefix(&change.path).is_some_and(|rest| put(&mut change.after, rest, Value::Unknown))
            });
            if !placed {
                return Err(format!("{address}: `after_unknown` names `{unknown}`, which is not a change"));
            }
        }
        let mut desired = repr.desired;
        for reference in repr.references {
            let target =
                Value::Ref(Box::new(AttributeRef { address: reference.address, attribute: reference.attribute }));
            let placed = match reference.path.0.split_first() {
                Some((PathSegment::Key(name), rest)) => desired.get_mut(name).is_some_and(|v| put(v, rest, target)),
                _ => false,
            };
            if !placed {
                return Err(format!("{address}: reference at `{}` is not a desired value", reference.path));
            }
        }
        Ok(ResourceAction {
            address,
            action: repr.action,
            changes: Changes::Listed(changes),
            replaced_along_with: repr.replaced_along_with,
            depends_on: repr.depends_on,
            provider_id: repr.provider_id,
            desired,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct PlanRepr {
    summary: Summary,
    actions: Vec<ActionRepr>,
    steps: Vec<Step>,
}

impl From<&Plan> for PlanRepr {
    fn from(plan: &Plan) -> Self {
        PlanRepr {
            summary: plan.summary,
            actions: plan.actions.iter().map(ActionRepr::from).collect(),
            steps: plan.steps.clone(),
        }
    }
}

impl TryFrom<PlanRepr> for Plan {
    type Error = String;

    /// Checks what the executor relies on: every step names an action, depends only on
    /// earlier steps, and every action has its steps.
    fn try_from(repr: PlanRepr) -> Result<Self, String> {
        let actions = repr.actions.into_iter().map(ResourceAction::try_from).collect::<Result<Vec<_>, _>>()?;
        let mut step_count = vec![0usize; actions.len()];
        for (index, step) in repr.steps.iter().enumerate() {
            let count = step_count.get_mut(step.action).ok_or(format!("step {index} names no action"))?;
            *count += 1;
            if let Some(bad) = step.depends_on.iter().find(|&&d| d >= index) {
                return Err(format!("step {index} depends on step {bad}, which does not come before it"));
            }
        }
        for (action, count) in actions.iter().zip(step_count) {
            let expected = if action.action == ActionKind::Replace { 2 } else { 1 };
            if count != expected {
                return Err(format!("{} has {count} steps, expected {expected}", action.address));
            }
        }
        let plan = Plan::from_parts(actions, repr.steps, repr.summary.unchanged);
        if plan.summary != repr.summary {
            return Err("the summary does not match the actions".to_string());
        }
        Ok(plan)
    }
}

impl Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PlanRepr::from(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Plan {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Plan::try_from(PlanRepr::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}
