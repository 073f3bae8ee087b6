//! The plan: what `apply` will do to make the recorded state match the desired resources, as a
//! value that can be saved, shown (text, JSON, Markdown) and later applied step by step.
//!
//! [`plan`] compares the desired resources with the state ([`diff`]), decides which changes
//! force a replacement ([`replace`]) and orders the work into a dependency graph of steps
//! (`graph`) that an executor can run in parallel as dependencies finish.

pub mod diff;
mod file;
pub mod grants;
mod graph;
mod path;
mod planner;
pub mod record;

pub mod render;
pub mod replace;
mod serde_repr;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::diag::Diagnostic;
use crate::model::{Address, Resource, Value};

pub use file::{FORMAT_VERSION, PlanFileError, SavedPlan, StalePlan};
pub use path::{FieldPath, PathSegment};
pub use planner::{Planned, plan, plan_importing, plan_taking, plan_taking_importing, unrequested_cluster_destroys};

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Create,
    /// Changed in place.
    Update,
    /// Deleted, then created again (`-/+`).
    Replace,
    Delete,
    /// Taken under management as it is (an `import` block), then changed in place where
    /// the stack differs from it.
    Import,
}

impl ActionKind {
    /// The symbol shown before the address in plans.
    pub fn symbol(self) -> &'static str {
        match self {
            ActionKind::Create => "+",
            ActionKind::Update => "~",
            ActionKind::Replace => "-/+",
            ActionKind::Delete => "-",
            ActionKind::Import => "<=",
        }
    }

    /// The verb shown after the address in plans.
    pub fn verb(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Update => "update in place",
            ActionKind::Replace => "replace",
            ActionKind::Delete => "destroy",
            ActionKind::Import => "import",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ActionKind::Create => "create",
            ActionKind::Update => "update",
            ActionKind::Replace => "replace",
            ActionKind::Delete => "delete",
            ActionKind::Import => "import",
        })
    }
}

/// One differing field (or, inside a map, one differing key: `labels.team`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub path: FieldPath,
    /// The recorded value ([`Value::Null`] when the resource or field is new).
    pub before: Value,
    /// The desired value; [`Value::Unknown`] (possibly nested) where known only after apply.
    pub after: Value,
    /// Set when this change cannot be made in place: why the resource is replaced.
    pub replace_reason: Option<String>,
}

/// The change to one resource.
#[derive(Debug, Clone)]
pub struct ResourceAction {
    pub address: Address,
    pub action: ActionKind,
    /// Field-level changes, sorted by path: see [`ResourceAction::changes`].
    pub(crate) changes: Changes,
    /// For a replace forced by the parent (a vnet for its subnets, a cluster for its node pools
    /// and Kubernetes objects) rather than by a field of its own.
    pub replaced_along_with: Option<Address>,
    /// What the resource needs first: its declared dependencies, or, for a delete, the ones
    /// recorded in the state.
    pub depends_on: Vec<Address>,
    /// The provider's id of the existing object (update, replace, delete).
    pub provider_id: Option<String>,
    /// The values to apply (empty for a delete). References to attributes that are known only
    /// after another action stay [`Value::Ref`]; the executor fills them in when that action
    /// has finished.
    pub desired: BTreeMap<String, Value>,
}

/// How an action holds its field changes.
#[derive(Debug, Clone)]
pub(crate) enum Changes {
    /// Compared field by field: an update, a replace, a delete, or any action read back from
    /// a saved plan.
    Listed(Vec<FieldChange>),
    /// A create made by the planner: every field of `desired`, and these computed fields, as
    /// known after apply. Listed only when shown, as most of a large first plan is creates.
    Creation { computed: &'static [&'static str] },
}

impl ResourceAction {
    /// Field-level changes, sorted by path. For a create every set field; for a delete every
    /// recorded field; for an update or replace the fields that differ.
    pub fn changes(&self) -> Cow<'_, [FieldChange]> {
        match &self.changes {
            Changes::Listed(changes) => Cow::Borrowed(changes),
            Changes::Creation { computed } => {
                let unknown: Option<BTreeMap<String, Value>> = self.desired.values().any(Value::has_refs).then(|| {
                    self.desired
                        .iter()
                        .map(|(name, value)| (name.clone(), value.resolve(&mut |_| Value::Unknown)))
                        .collect()
                });
                Cow::Owned(diff::creation(unknown.as_ref().unwrap_or(&self.desired), computed))
            }
        }
    }

    /// The changes that cannot be made in place, with their reasons.
    pub fn replace_reasons(&self) -> impl Iterator<Item = (&FieldPath, &str)> {
        let listed: &[FieldChange] = match &self.changes {
            Changes::Listed(changes) => changes,
            // A new field never forces a replacement.
            Changes::Creation { .. } => &[],
        };
        listed.iter().filter_map(|c| c.replace_reason.as_deref().map(|reason| (&c.path, reason)))
    }

    /// Paths (into the new values) that are known only after apply.
    pub fn after_unknown(&self) -> Vec<FieldPath> {
        let mut out = Vec::new();
        for change in self.changes().iter() {
            serde_repr::unknown_paths(&change.after, &change.path, &mut out);
        }
        out
    }
}

/// Two actions are equal when they show and do the same, however their changes are held.
impl PartialEq for ResourceAction {
    fn eq(&self, other: &Self) -> bool {
        self.address == other.address
            && self.action == other.action
            && self.replaced_along_with == other.replaced_along_with
            && self.depends_on == other.depends_on
            && self.provider_id == other.provider_id
            && self.desired == other.desired
            && self.changes() == other.changes()
    }
}

/// What an executor does in one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Create,
    Update,
    Delete,
    /// Read the resource by its id and record it, updating it first where the plan lists
    /// changes.
    Import,
}

/// One unit of work for the executor. A replace is two steps: delete, then create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Index into [`Plan::actions`].
    pub action: usize,
    pub operation: Operation,
    /// Steps (indices into [`Plan::steps`], all smaller than this step's) that must finish first.
    pub depends_on: Vec<usize>,
}

/// How many resources each kind of action touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    /// Resources taken under management (some of them changed in place too).
    #[serde(default)]
    pub import: usize,
    /// Resources that match the recorded state.
    pub unchanged: usize,
}

impl Summary {
    fn count(actions: &[ResourceAction], unchanged: usize) -> Summary {
        let mut summary = Summary { unchanged, ..Summary::default() };
        for action in actions {
            match action.action {
                ActionKind::Create => summary.create += 1,
                ActionKind::Update => summary.update += 1,
                ActionKind::Replace => summary.replace += 1,
                ActionKind::Delete => summary.delete += 1,
                ActionKind::Import => summary.import += 1,
            }
        }
        summary
    }

    /// Resources deleted, whether for good or to be created again.
    pub fn destructive(&self) -> usize {
        self.replace + self.delete
    }
}

/// The plan: every resource action, in the order they are shown, and the steps that carry
/// them out, in an order that respects their dependencies.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    actions: Vec<ResourceAction>,
    steps: Vec<Step>,
    summary: Summary,
}

impl Plan {
    /// The changed resources, in the order they are applied (a replace where it is created).
    pub fn actions(&self) -> &[ResourceAction] {
        &self.actions
    }

    /// Steps in an order where every step comes after its dependencies.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The steps that must finish before `step` may start; empty for an index out of range.
    pub fn dependencies_of(&self, step: usize) -> &[usize] {
        self.steps.get(step).map_or(&[], |s| s.depends_on.as_slice())
    }

    /// The steps of one action (one, or two for a replace: delete then create).
    pub fn steps_of(&self, action: usize) -> impl Iterator<Item = usize> + '_ {
        self.steps.iter().enumerate().filter(move |(_, s)| s.action == action).map(|(i, _)| i)
    }

    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// False when applying would change nothing (`--detailed-exitcode` exits 0 rather than 2).
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty()
    }

    /// The action for an address, if the resource changes.
    pub fn action_for(&self, address: &Address) -> Option<&ResourceAction> {
        self.actions.iter().find(|a| &a.address == address)
    }

    /// The plan narrowed to the actions `keep` selects (`--target`). Dependencies on steps left
    /// out are dropped: what they would have made must exist already, as the user says.
    pub fn only(&self, keep: impl Fn(&Address) -> bool) -> Plan {
        let kept_actions: Vec<usize> = (0..self.actions.len()).filter(|&i| keep(&self.actions[i].address)).collect();
        let action_index: std::collections::HashMap<usize, usize> =
            kept_actions.iter().enumerate().map(|(new, &old)| (old, new)).collect();
        let kept_steps: Vec<usize> =
            (0..self.steps.len()).filter(|&i| action_index.contains_key(&self.steps[i].action)).collect();
        let step_index: std::collections::HashMap<usize, usize> =
            kept_steps.iter().enumerate().map(|(new, &old)| (old, new)).collect();
        let steps = kept_steps
            .iter()
            .map(|&old| {
                let step = &self.steps[old];
                Step {
                    action: action_index[&step.action],
                    operation: step.operation,
                    depends_on: step.depends_on.iter().filter_map(|d| step_index.get(d).copied()).collect(),
                }
            })
            .collect();
        let actions = kept_actions.iter().map(|&i| self.actions[i].clone()).collect();
        Plan::from_parts(actions, steps, self.summary.unchanged)
    }

    /// The plan narrowed to the actions `keep` selects and to the creates and updates they
    /// wait for (`--target`): a targeted resource is planned with what it needs. Each entry of
    /// the second part is a selected action's address with the actions added for it.
    pub fn only_with_dependencies(&self, keep: impl Fn(&Address) -> bool) -> (Plan, Vec<(Address, Vec<Address>)>) {
        let mut kept: Vec<bool> = self.actions.iter().map(|a| keep(&a.address)).collect();
        let selected: Vec<usize> = (0..self.actions.len()).filter(|&i| kept[i]).collect();
        let mut added = Vec::new();
        for action in selected {
            let mut pending: Vec<usize> = self.steps_of(action).collect();
            let mut pulled = Vec::new();
            while let Some(step) = pending.pop() {
                if self.steps[step].operation == Operation::Delete {
                    continue;
                }
                for &dependency in &self.steps[step].depends_on {
                    let needed = &self.steps[dependency];
                    if needed.operation != Operation::Delete && !kept[needed.action] {
                        kept[needed.action] = true;
                        pulled.push(self.actions[needed.action].address.clone());
                        pending.extend(self.steps_of(needed.action));
                    }
                }
            }
            if !pulled.is_empty() {
                pulled.sort();
                added.push((self.actions[action].address.clone(), pulled));
            }
        }
        let kept: std::collections::HashSet<&Address> =
            self.actions.iter().zip(&kept).filter(|(_, kept)| **kept).map(|(a, _)| &a.address).collect();
        let plan = self.only(|address| kept.contains(address));
        (plan, added)
    }

    pub(crate) fn from_parts(actions: Vec<ResourceAction>, steps: Vec<Step>, unchanged: usize) -> Plan {
        let summary = Summary::count(&actions, unchanged);
        Plan { actions, steps, summary }
    }
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("resources depend on each other in a cycle: {}", path::arrow_list(.cycle))]
    Cycle { cycle: Vec<Address> },
    #[error("`{address}` is declared more than once")]
    DuplicateAddress { address: Address },
    #[error("`{resource}` depends on `{dependency}`, which is not declared")]
    UnknownDependency { resource: Box<Address>, dependency: Box<Address> },
}

impl PlanError {
    /// The error as a diagnostic, labelled at the declarations of the resources involved.
    pub fn to_diagnostic(&self, desired: &[Resource]) -> Diagnostic {
        let span_of = |address: &Address| desired.iter().find(|r| &r.address == address).map(|r| r.span);
        match self {
            PlanError::Cycle { cycle } => {
                let mut diagnostic = Diagnostic::error("AKS181", self.to_string())
                    .with_help("remove one of the references or `depends_on` entries that close the cycle");
                let mut seen = Vec::new();
                for (i, address) in cycle.iter().enumerate() {
                    if seen.contains(&address) {
                        continue;
                    }
                    seen.push(address);
                    if let Some(span) = span_of(address) {
                        let message = match cycle.get(i + 1) {
                            Some(next) => format!("`{address}` needs `{next}`"),
                            None => format!("`{address}` is part of the cycle"),
                        };
                        diagnostic = if seen.len() == 1 {
                            diagnostic.with_primary(span, message)
                        } else {
                            diagnostic.with_secondary(span, message)
                        };
                    }
                }
                if diagnostic.labels.is_empty()
                    && let Some(first) = cycle.first()
                {
                    diagnostic = diagnostic.with_subject(first.to_string());
                }
                diagnostic
            }
            PlanError::DuplicateAddress { address } => {
                let mut diagnostic = Diagnostic::error("AKS182", self.to_string())
                    .with_help("give each resource of a kind its own name");
                for (i, resource) in desired.iter().filter(|r| &r.address == address).enumerate() {
                    diagnostic = if i == 0 {
                        diagnostic.with_primary(resource.span, "first declared here")
                    } else {
                        diagnostic.with_secondary(resource.span, "declared again here")
                    };
                }
                diagnostic.with_subject(address.to_string())
            }
            PlanError::UnknownDependency { resource, dependency } => {
                let diagnostic = Diagnostic::error("AKS183", self.to_string())
                    .with_help(format!("declare `{dependency}` or remove the reference to it"))
                    .with_subject(resource.to_string());
                match span_of(resource) {
                    Some(span) => diagnostic.with_primary(span, format!("needs `{dependency}`")),
                    None => diagnostic,
                }
            }
        }
    }
}

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
