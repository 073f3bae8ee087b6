//! The executor: carries out a plan's steps as their dependencies finish, with bounded
//! concurrency, writing the state as steps finish: at once when another step waits on one,
//! else together with those finishing within a tenth of a second. On cancellation it starts
//! nothing new, lets what is running finish, and records it; the same when a server cannot be
//! reached, since every later call to it would fail alike. Knows no resource details:
//! a [`Router`] hands it the provider for each resource.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};

use crate::model::{Address, Resource, Value};
use crate::plan::record::record_step;
use crate::plan::{ActionKind, Operation, Plan};
use crate::providers::{Applied, ApplyRequest, Attributes, ErrorKind, Existing, Provider, ProviderError};
use crate::state::journal::Delta;
use crate::state::{Backend, State, StateError};

/// Finds the provider for a resource.
pub trait Router: Send + Sync {
    /// The provider for `address`, given its desired (or, for a delete, recorded) attributes.
    fn provider(&self, address: &Address, attributes: &Attributes) -> Result<Arc<dyn Provider>, ProviderError>;

    /// Called after a resource is applied, before its dependents start: a new cluster's
    /// credentials become usable for the objects inside it here.
    fn applied(&self, _address: &Address, _applied: &Applied) {}
}

/// The cluster a Kubernetes object belongs to, from its `cluster` attribute: the one a router
/// sends it to.
pub fn cluster_of(attributes: &Attributes) -> Option<Address> {
    attributes.get("cluster").and_then(|v| v.as_str()).and_then(|s| s.parse().ok())
}

/// Hears about each step, for progress display.
pub trait Observer: Send + Sync {
    fn started(&self, address: &Address, operation: Operation);
    fn finished(
        &self,
        address: &Address,
        operation: Operation,
        result: Result<&Attributes, &ProviderError>,
        elapsed: Duration,
    );
}

/// How long a finished step may stay unwritten, so that the steps finishing in that time are
/// written together: writing the whole state after every one of a thousand Services costs
/// more than applying them. When a step can start only once others are written (its last
/// dependency finished), they are written at once; so is everything when the run stops or
/// ends.
const WRITE_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How many Azure steps may run at once.
    pub parallelism: usize,
    /// How many Kubernetes steps may run at once, besides the Azure ones: an API server takes
    /// far more writes in flight than ARM does, and they need not wait on ARM's.
    pub kubernetes_parallelism: usize,
}

impl Options {
    /// Steps of `address`'s provider that may run at once, and which of the two counts it is.
    fn limit_of(&self, address: &Address) -> (usize, usize) {
        match address.kind.is_kubernetes() {
            false => (0, self.parallelism.max(1)),
            true => (1, self.kubernetes_parallelism.max(1)),
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub completed: Vec<(Address, Operation)>,
    pub failed: Vec<(Address, Operation, ProviderError)>,
    /// Steps not started: their dependencies failed, or the run was cancelled or stopped.
    pub not_started: Vec<(Address, Operation)>,
    pub cancelled: bool,
    /// A step failed because its server could not be reached: the run stopped starting steps.
    pub unreachable: bool,
    /// Recording the state failed: the run stopped starting steps.
    pub state_error: Option<StateError>,
}

impl Report {
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty() && self.not_started.is_empty() && self.state_error.is_none()
    }
}

struct Finished {
    step: usize,
    elapsed: Duration,
    result: Result<Option<Applied>, ProviderError>,
}

/// What an apply works with: the plan, the resources it was made from, and where the state,
/// the providers and the progress display are.
pub struct Run<'a> {
    pub plan: &'a Plan,
    pub desired: &'a [Resource],
    pub backend: &'a dyn Backend,
    pub router: &'a dyn Router,
    pub observer: &'a dyn Observer,
    pub options: Options,
}

/// Checks every create of `plan` with its provider ([`Provider::check_create`]) before anything
/// is written, `parallelism` at once: an apply whose creates would take over what exists
/// outside the state stops before it starts, with every such resource named. The creates whose
/// target cannot be known yet are checked when they run: those that need a value known only
/// after apply, and the objects of a cluster the plan creates.
pub async fn preflight(plan: &Plan, router: &dyn Router, parallelism: usize) -> Vec<(Address, ProviderError)> {
    let new_clusters: Vec<&Address> = plan
        .actions()
        .iter()
        .filter(|a| a.address.kind == crate::model::Kind::Cluster && a.action != ActionKind::Update)
        .map(|a| &a.address)
        .collect();
    let checked = plan.actions().iter().filter(|a| {
        a.action == ActionKind::Create
            && !a.desired.values().any(Value::is_unknown)
            && !(a.address.kind.is_kubernetes() && cluster_of(&a.desired).is_some_and(|c| new_clusters.contains(&&c)))
    });
    let checks = futures::stream::iter(checked).map(|action| async move {
        let request = ApplyRequest { address: &action.address, attributes: &action.desired, provider_id: None };
        let result = match router.provider(&action.address, &action.desired) {
            Ok(provider) => provider.check_create(request).await,
            Err(error) => Err(error),
        };
        result.err().map(|error| (action.address.clone(), error))
    });
    let mut refused: Vec<(Address, ProviderError)> =
        checks.buffer_unordered(parallelism.max(1)).filter_map(std::future::ready).collect().await;
    refused.sort_by(|a, b| a.0.cmp(&b.0));
    refused
}

/// Runs the plan. `state` is the recorded state the plan was made against; the returned state
/// is what was last written. `cancel` resolves when the user asks to stop (Ctrl-C).
pub async fn execute(run: Run<'_>, state: State, cancel: impl std::future::Future<Output = ()>) -> (State, Report) {
    let Run { plan, desired, backend, router, observer, options } = run;
    let by_address: HashMap<&Address, &Resource> = desired.iter().map(|r| (&r.address, r)).collect();
    let steps = plan.steps();
    let mut waiting_on: Vec<usize> = steps.iter().map(|s| s.depends_on.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (i, step) in steps.iter().enumerate() {
        for &d in &step.depends_on {
            dependents[d].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..steps.len()).filter(|&i| waiting_on[i] == 0).rev().collect();
    let mut blocked = vec![false; steps.len()];
    let mut state = state;
    let mut report = Report::default();
    let mut running = FuturesUnordered::new();
    let mut stopping = false;
    let mut cancel = std::pin::pin!(cancel);
    // Steps running, Azure's and Kubernetes'.
    let mut in_flight = [0usize; 2];
    // The resources changed in `state` but not yet written, and the steps that wait only on
    // them: they start once the write is done. `recorded`: something went into the backend's
    // journal since the whole state was last written.
    let mut changed: Vec<Address> = Vec::new();
    let mut recorded = false;
    let mut unblocked: Vec<usize> = Vec::new();
    let mut last_write = Instant::now();

    loop {
        // The first ready step (they are kept last first) whose provider has room.
        let room = |i: &usize, in_flight: &[usize; 2]| {
            let (class, limit) = options.limit_of(&plan.actions()[steps[*i].action].address);
            in_flight[class] < limit
        };
        while let Some(place) = ready.iter().rposition(|i| !stopping && room(i, &in_flight)) {
            let index = ready.remove(place);
            let step = &steps[index];
            let action = &plan.actions()[step.action];
            in_flight[options.limit_of(&action.address).0] += 1;
            let operation = step.operation;
            // References are filled in from the state as it is now: what they name has finished.
            let recorded = state.get(&action.address);
            let attributes: Attributes = if operation == Operation::Delete {
                recorded.map(|r| r.attributes.clone()).unwrap_or_default()
            } else {
                action.desired.iter().map(|(k, v)| (k.clone(), resolve(v, &state))).collect()
            };
            let provider_id = recorded.and_then(|r| r.provider_id.clone()).or_else(|| action.provider_id.clone());
            let provider = router.provider(&action.address, &attributes);
            // An import with nothing to change is recorded as read; one with changes is updated.
            let operation_run = match operation {
                Operation::Import if action.changes().is_empty() => Operation::Import,
                Operation::Import => Operation::Update,
                other => other,
            };
            observer.started(&action.address, operation);
            let address = action.address.clone();
            // A task of its own: the step goes on while the state is being written.
            let task = tokio::spawn(async move {
                let started = Instant::now();
                let result = match provider {
                    Err(e) => Err(e),
                    Ok(provider) => {
                        run_step(provider.as_ref(), &address, operation_run, &attributes, provider_id.as_deref()).await
                    }
                };
                (started.elapsed(), result)
            });
            running.push(async move {
                let (elapsed, result) = task.await.unwrap_or_else(|e| {
                    let message = format!("the change stopped unexpectedly: {e}");
                    (Duration::ZERO, Err(ProviderError { kind: ErrorKind::Rejected, message }))
                });
                Finished { step: index, elapsed, result }
            });
        }
        // Recorded steps are written now when something waits on them, or when nothing else
        // will finish; otherwise with the ones that finish in the next moments.
        if !changed.is_empty()
            && (running.is_empty() || stopping || last_write.elapsed() >= WRITE_INTERVAL || !unblocked.is_empty())
        {
            state.commit();
            // Recorded at a cost that follows the change; the whole document once at the end.
            let delta = Delta::of(&state, &changed);
            match backend.record(&state, &delta) {
                Ok(journaled) => recorded |= journaled,
                Err(e) => {
                    report.state_error = Some(e);
                    stopping = true;
                }
            }
            last_write = Instant::now();
            changed.clear();
            ready.append(&mut unblocked);
            ready.sort_by(|a, b| b.cmp(a));
            continue;
        }
        if running.is_empty() {
            break;
        }
        let next_write = tokio::time::Instant::from_std(last_write + WRITE_INTERVAL);
        let finished = tokio::select! {
            finished = running.next() => finished,
            () = &mut cancel, if !stopping => {
                stopping = true;
                report.cancelled = true;
                continue;
            }
            () = tokio::time::sleep_until(next_write), if !changed.is_empty() => continue,
        };
        let Some(Finished { step: index, elapsed, result }) = finished else { break };
        let step = &steps[index];
        let action = &plan.actions()[step.action];
        in_flight[options.limit_of(&action.address).0] -= 1;
        match result {
            Ok(applied) => {
                let computed = applied.as_ref().map(|a| a.computed.clone()).unwrap_or_default();
                let id = applied.as_ref().map(|a| a.provider_id.clone());
                let resource = by_address.get(&action.address).copied();
                record_step(&mut state, action, step.operation, resource, id, &mut |field| {
                    computed.get(field).cloned().unwrap_or(Value::Null)
                });
                if let Some(applied) = &applied {
                    router.applied(&action.address, applied);
                }
                let recorded = state.get(&action.address).map(|r| &r.attributes);
                observer.finished(&action.address, step.operation, Ok(recorded.unwrap_or(&Attributes::new())), elapsed);
                report.completed.push((action.address.clone(), step.operation));
                changed.push(action.address.clone());
                for &dependent in &dependents[index] {
                    waiting_on[dependent] -= 1;
                    if waiting_on[dependent] == 0 && !blocked[dependent] {
                        unblocked.push(dependent);
                    }
                }
            }
            Err(error) => {
                if error.kind == ErrorKind::Unreachable {
                    stopping = true;
                    report.unreachable = true;
                }
                observer.finished(&action.address, step.operation, Err(&error), elapsed);
                report.failed.push((action.address.clone(), step.operation, error));
                block_dependents(index, &dependents, &mut blocked);
            }
        }
    }
    // The journal folded into the document, unless recording already failed.
    if recorded && report.state_error.is_none() {
        state.commit();
        if let Err(e) = backend.write(&state) {
            report.state_error = Some(e);
        }
    }
    let done: std::collections::HashSet<(Address, Operation)> =
        report.completed.iter().cloned().chain(report.failed.iter().map(|(a, o, _)| (a.clone(), *o))).collect();
    for step in steps {
        let key = (plan.actions()[step.action].address.clone(), step.operation);
        if !done.contains(&key) {
            report.not_started.push(key);
        }
    }
    (state, report)
}

fn resolve(value: &Value, state: &State) -> Value {
    value.resolve(&mut |r| {
        state.get(&r.address).and_then(|s| s.attributes.get(&r.attribute)).cloned().unwrap_or(Value::Null)
    })
}

fn block_dependents(step: usize, dependents: &[Vec<usize>], blocked: &mut [bool]) {
    let mut stack = vec![step];
    while let Some(s) = stack.pop() {
        for &d in &dependents[s] {
            if !blocked[d] {
                blocked[d] = true;
                stack.push(d);
            }
        }
    }
}

async fn run_step(
    provider: &dyn Provider,
    address: &Address,
    operation: Operation,
    attributes: &Attributes,
    provider_id: Option<&str>,
) -> Result<Option<Applied>, ProviderError> {
    match operation {
        Operation::Delete => match provider_id {
            Some(id) => provider.delete(Existing { address, provider_id: id, attributes }).await.map(|()| None),
            None => Ok(None),
        },
        // Read by its id: it must still be there. Its computed fields are recorded as read.
        Operation::Import => {
            let Some(id) = provider_id else {
                let message = format!("{address}: the plan names no id to import");
                return Err(ProviderError { kind: ErrorKind::Rejected, message });
            };
            match provider.read(Existing { address, provider_id: id, attributes }).await? {
                Some(computed) => Ok(Some(Applied { provider_id: id.to_string(), computed })),
                None => Err(ProviderError {
                    kind: ErrorKind::Rejected,
                    message: format!("{address}: there is no {id} to import: it was deleted since the plan"),
                }),
            }
        }
        Operation::Create | Operation::Update => {
            let id = if operation == Operation::Update { provider_id } else { None };
            provider.apply(ApplyRequest { address, attributes, provider_id: id }).await.map(Some)
        }
    }
}

#[cfg(test)]
mod tests;
