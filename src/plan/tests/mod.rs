//! Planner tests: actions, reference resolution, replacement rules, ordering and plan files.

use super::fixtures::*;
use super::*;
use crate::model::Kind;
use crate::state::State;

fn planned(desired: &[Resource], state: &State) -> Planned {
    plan(desired, state).unwrap()
}

fn action<'p>(plan: &'p Plan, address_text: &str) -> &'p ResourceAction {
    plan.action_for(&address(address_text)).unwrap_or_else(|| panic!("no action for {address_text}"))
}

fn change(action: &ResourceAction, path: &str) -> FieldChange {
    let changes = action.changes();
    changes.iter().find(|c| c.path.to_string() == path).cloned().unwrap_or_else(|| panic!("no change at {path}"))
}

/// The steps as `operation address`, in order.
fn step_list(plan: &Plan) -> Vec<String> {
    plan.steps()
        .iter()
        .map(|s| format!("{:?} {}", s.operation, plan.actions()[s.action].address).to_lowercase())
        .collect()
}

fn position(steps: &[String], step: &str) -> usize {
    steps.iter().position(|s| s == step).unwrap_or_else(|| panic!("no step {step} in {steps:?}"))
}

mod actions;

mod references;

mod replacement;

mod ordering;

mod errors;

mod files;

#[test]
fn the_realistic_plan_has_each_kind_of_action() {
    let (desired, state) = realistic();
    let planned = planned(&desired, &state);
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    assert_eq!(
        planned.plan.summary(),
        Summary { create: 4, update: 2, replace: 1, delete: 1, import: 0, unchanged: 5 }
    );
    assert_eq!(action(&planned.plan, "cluster.shop").action, ActionKind::Update);
    assert_eq!(action(&planned.plan, "public_ip.old").action, ActionKind::Delete);
    assert_eq!(address("cluster.shop").kind, Kind::Cluster);
}

mod examples;
