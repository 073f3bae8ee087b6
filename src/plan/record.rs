//! What the state records when a step of a plan has been carried out: the values sent, with
//! references filled in from what is recorded, and the fields the cloud computed. The
//! executor records each finished step with this; tests and benchmarks use it to stand for a
//! whole apply.

use std::collections::BTreeMap;

use super::{Operation, Plan, ResourceAction};
use crate::model::{Resource, Value};
use crate::state::{ResourceState, State};

/// Records one finished step. `computed` gives the value the provider returned for a
/// computed field (an allocated address, an FQDN).
pub fn record_step(
    state: &mut State,
    action: &ResourceAction,
    operation: Operation,
    resource: Option<&Resource>,
    provider_id: Option<String>,
    computed: &mut dyn FnMut(&str) -> Value,
) {
    if operation == Operation::Delete {
        state.remove(&action.address);
        return;
    }
    let mut attributes: BTreeMap<String, Value> = BTreeMap::new();
    for (name, value) in &action.desired {
        let value = value.resolve(&mut |r| {
            state.get(&r.address).and_then(|s| s.attributes.get(&r.attribute)).cloned().unwrap_or(Value::Null)
        });
        attributes.insert(name.clone(), value);
    }
    for name in resource.map_or(&[][..], |r| r.computed) {
        attributes.insert(name.to_string(), computed(name));
    }
    state.upsert(ResourceState {
        address: action.address.clone(),
        provider_id: provider_id.or_else(|| action.provider_id.clone()),
        attributes,
        dependencies: resource.map_or_else(|| action.depends_on.clone(), |r| r.depends_on.clone()),
    });
}

/// The state a complete apply of `plan` would leave, starting from `state`, with every
/// step succeeding and `computed(resource, field)` standing for what the cloud returns.
pub fn applied(
    plan: &Plan,
    desired: &[Resource],
    mut state: State,
    computed: &mut dyn FnMut(&Resource, &str) -> Value,
    provider_id: &mut dyn FnMut(&Resource) -> String,
) -> State {
    let by_address: std::collections::HashMap<_, _> = desired.iter().map(|r| (&r.address, r)).collect();
    for step in plan.steps() {
        let action = &plan.actions()[step.action];
        let resource = by_address.get(&action.address).copied();
        let id = resource.map(&mut *provider_id);
        record_step(&mut state, action, step.operation, resource, id, &mut |field| {
            resource.map_or(Value::Null, |r| computed(r, field))
        });
    }
    state
}
