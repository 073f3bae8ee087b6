//! `aksform apply` and `aksform destroy`: plan (or load a saved plan), show it, ask, then carry
//! it out with the executor, recording the state as steps finish.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use super::StackArgs;
use super::backend::{LockArgs, StateLocationArgs, lock_and_read, open_backend};
use super::existing::Reading;
use super::output::{Output, stdout};
use super::progress::{Progress, verb};
use super::providers::{ProviderArgs, Providers};
use crate::apply::{self, Options, Report, Run, cluster_of};
use crate::model::{Address, Kind, Resource, Value};
use crate::plan::render::text;
use crate::plan::{self, ActionKind, Operation, Plan, StalePlan};
use crate::refresh;
use crate::state::State;

/// Why an apply does not start.
#[derive(Debug, thiserror::Error)]
enum ApplyError {
    /// The plan was made for another stack, state or configuration.
    #[error("{}: the plan is out of date: {source}", path.display())]
    StalePlan { path: PathBuf, source: StalePlan },
    #[error("there is no terminal to confirm on: pass --auto-approve to apply without asking")]
    NoTerminal,
    #[error("cannot read the answer: {0}")]
    Answer(#[source] std::io::Error),
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    location: StateLocationArgs,
    #[command(flatten)]
    lock: LockArgs,
    /// Carry out exactly this saved plan (`aksform plan --out FILE`) instead of planning anew.
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Do not ask for confirmation (for CI).
    #[arg(long)]
    auto_approve: bool,
    /// How many Azure resources may be changed at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    parallelism: u16,
    /// How many Kubernetes objects may be changed at once, besides the Azure resources.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..))]
    kubernetes_parallelism: u16,
    #[command(flatten)]
    providers: ProviderArgs,
    /// Only these resources: an address (with its children) or a kind such as `service` (repeatable).
    #[arg(long, value_name = "ADDRESS|KIND")]
    target: Vec<String>,
    /// Allow this resource to be replaced even where the stack does not (repeatable).
    #[arg(long, value_name = "ADDRESS")]
    allow_replace: Vec<Address>,
    /// Allow this cluster, whose block was removed, to be destroyed (repeatable; `destroy`
    /// needs none).
    #[arg(long, value_name = "ADDRESS")]
    allow_destroy: Vec<Address>,
}

pub fn run_apply(args: &ApplyArgs, out: &Output) -> u8 {
    run(args, out, false)
}

pub fn run_destroy(args: &ApplyArgs, out: &Output) -> u8 {
    run(args, out, true)
}

fn run(args: &ApplyArgs, out: &Output, destroy: bool) -> u8 {
    let saved = match args.plan.as_deref().map(super::show::read_saved_plan).transpose() {
        Ok(saved) => saved,
        Err(e) => {
            out.error(&e.to_string());
            return 1;
        }
    };
    let with_plan = args.plan.as_deref().zip(saved.as_ref());
    let (loaded, options) = match args.stack.load_for_plan(&args.allow_replace, with_plan, out) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let backend = match open_backend(&args.location, &loaded, args.providers.access(), out) {
        Ok(backend) => backend,
        Err(code) => return code,
    };
    let command = if destroy { "aksform destroy" } else { "aksform apply" };
    // The lock is held from reading the state to the last write.
    let (guard, recorded) = match lock_and_read(backend.as_ref(), command, args.lock.lock_timeout, out) {
        Ok(read) => read,
        Err(code) => return code,
    };
    let mut state = recorded.clone().unwrap_or_else(|| State::new(&loaded.stack.name));
    // Existing resources are read live, and recorded for an offline plan to check against.
    let loaded = if destroy {
        loaded
    } else {
        let stack = &args.stack;
        match super::existing::load_with_existing(
            stack,
            options,
            loaded,
            recorded.as_ref(),
            Reading::Live,
            &args.providers,
            out,
        ) {
            Ok(with) => {
                state.existing = with.recorded;
                with.loaded
            }
            Err(code) => return code,
        }
    };
    // The `import` blocks not yet carried out are planned from the resources as read; they are
    // in the state the plan is made against, not in the one written until their steps finish.
    let pending = if destroy || args.plan.is_some() {
        super::import::Pending::default()
    } else {
        match super::import::pending(&loaded, Some(&state)) {
            Ok(pending) => pending,
            Err(errors) => {
                out.diagnostics(&errors, &loaded.sources, args.stack.format);
                return 1;
            }
        }
    };
    if let Some(with) = pending.recorded_in(Some(&state), &loaded.stack.name) {
        state = with;
    }
    // Plan against what is live, so that changes made outside aksform are put back. A saved
    // plan was refreshed when it was made and is carried out as it is.
    if args.plan.is_none() && !state.resources.is_empty() {
        let desired = if destroy { Vec::new() } else { loaded.stack.resources() };
        let connect = || Providers::new(&args.providers, loaded.stack.subscription.clone(), &desired, Some(&state));
        match refresh::refresh(&state, connect) {
            Ok(refreshed) if refreshed.errors.is_empty() => {
                let missing = pending.missing(&loaded, &refreshed.state);
                if !missing.is_empty() {
                    out.diagnostics(&missing, &loaded.sources, args.stack.format);
                    return 1;
                }
                state = refreshed.state;
            }
            Ok(refreshed) => {
                for error in &refreshed.errors {
                    out.error(&format!("cannot read {error}"));
                }
                return 1;
            }
            Err(e) => {
                out.error(&e.to_string());
                return 1;
            }
        }
    }
    let mut desired: Vec<Resource> = if destroy { Vec::new() } else { loaded.stack.resources() };
    // Role assignments this caller may not create are not attempted: they would fail with 403.
    if args.plan.is_none() && !destroy {
        let subscription = loaded.stack.subscription.clone();
        match super::grants::check(&args.providers, subscription, &mut desired, &state, true, out) {
            Ok(withheld) => {
                if !withheld.diagnostics.is_empty() {
                    out.diagnostics(&withheld.diagnostics, &loaded.sources, args.stack.format);
                }
                eprint!("{}", withheld.commands_text());
                for note in &withheld.notes {
                    eprintln!("note: {note}");
                }
            }
            Err(code) => return code,
        }
    }
    let plan = match (&args.plan, saved) {
        (Some(path), Some(saved)) => {
            if let Err(source) = saved.check_current(&loaded.stack.name, recorded.as_ref(), &loaded.config_hash) {
                out.error(&ApplyError::StalePlan { path: path.clone(), source }.to_string());
                return 1;
            }
            saved.plan
        }
        _ => match plan::plan_importing(&desired, &state, &pending.addresses) {
            Ok(planned) if planned.diagnostics.has_errors() => {
                out.diagnostics(&planned.diagnostics.0, &loaded.sources, args.stack.format);
                return 1;
            }
            Ok(planned) => planned.plan,
            Err(e) => {
                out.diagnostics(&[e.to_diagnostic(&desired)], &loaded.sources, args.stack.format);
                return 1;
            }
        },
    };
    for address in &pending.addresses {
        state.remove(address);
    }
    let plan = match super::target::narrowed(&plan, &args.target, &desired, recorded.as_ref(), out) {
        Ok(narrowed) => narrowed.unwrap_or(plan),
        Err(code) => return code,
    };
    // A saved plan was checked when it was made; `destroy` asks for what it does.
    if args.plan.is_none() && !destroy {
        let unrequested = plan::unrequested_cluster_destroys(&plan, &args.allow_destroy, loaded.stack.span);
        if unrequested.has_errors() {
            out.diagnostics(&unrequested.0, &loaded.sources, args.stack.format);
            return 1;
        }
    }
    if !plan.has_changes() {
        stdout("No changes. The stack matches the recorded state.\n");
        return 0;
    }
    stdout(&text::render(&plan, &text::TextOptions { color: out.color_stdout }));
    if args.plan.is_none() && !args.auto_approve {
        match confirm(destroy) {
            Ok(true) => {}
            Ok(false) => {
                stdout("Nothing was changed.\n");
                return 1;
            }
            Err(e) => {
                out.error(&e.to_string());
                return 1;
            }
        }
    }
    let runtime = match super::runtime(out) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    if let Err(e) = args.providers.check_clusters(&clusters_touched(&plan, &state)) {
        out.error(&e.to_string());
        return 1;
    }
    // Made inside the runtime: the HTTP clients' connections live on it.
    let providers = runtime.block_on(async {
        Providers::new(&args.providers, loaded.stack.subscription.clone(), &loaded.stack.resources(), Some(&state))
    });
    // Nothing is written when a create would take over what exists outside the state.
    let refused = runtime.block_on(apply::preflight(&plan, &providers, usize::from(args.parallelism)));
    if !refused.is_empty() {
        for (address, error) in &refused {
            let named = error.message.starts_with(&format!("{address}:"));
            out.error(&if named { error.to_string() } else { format!("{address}: {error}") });
        }
        eprintln!("Nothing was changed.");
        return 1;
    }
    let observer = Progress::new(plan.steps().len(), out.color_stderr);
    let run = Run {
        plan: &plan,
        desired: &desired,
        backend: backend.as_ref(),
        router: &providers,
        observer: &observer,
        options: Options {
            parallelism: usize::from(args.parallelism),
            kubernetes_parallelism: usize::from(args.kubernetes_parallelism),
        },
    };
    let lost = guard.lost();
    let cancel = async {
        let lock_lost = async {
            match lost {
                Some(mut lost) => match lost.wait_for(Option::is_some).await {
                    Ok(reason) => reason.clone().unwrap_or_default(),
                    Err(_) => std::future::pending().await,
                },
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => {
                if interrupted.is_ok() {
                    eprintln!("\nStopping: no new changes start; waiting for the ones in flight, then the state is saved.");
                } else {
                    std::future::pending::<()>().await;
                }
            }
            reason = lock_lost => {
                eprintln!(
                    "\nStopping: the state lock was lost ({reason}); no new changes start, and nothing more is written \
                     to the state."
                );
            }
        }
    };
    let (final_state, report) = runtime.block_on(apply::execute(run, state, cancel));
    drop(guard);
    summarize(&plan, &report, &final_state, destroy)
}

fn confirm(destroy: bool) -> Result<bool, ApplyError> {
    if !std::io::stdin().is_terminal() {
        return Err(ApplyError::NoTerminal);
    }
    let what = if destroy { "destroy these resources" } else { "perform these actions" };
    eprint!("\nDo you want to {what}? Only 'yes' is accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(ApplyError::Answer)?;
    Ok(answer.trim() == "yes")
}

/// The clusters whose Kubernetes objects the plan changes, and the clusters it changes.
fn clusters_touched(plan: &Plan, state: &State) -> Vec<Address> {
    let mut clusters: Vec<Address> = plan
        .actions()
        .iter()
        .filter_map(|a| {
            if a.address.kind == Kind::Cluster {
                return Some(a.address.clone());
            }
            if !a.address.kind.is_kubernetes() {
                return None;
            }
            cluster_of(&a.desired).or_else(|| state.get(&a.address).and_then(|r| cluster_of(&r.attributes)))
        })
        .collect();
    clusters.sort();
    clusters.dedup();
    clusters
}

/// How many steps that did not start are named; a stopped run of thousands names the first.
const NOT_STARTED_SHOWN: usize = 20;

fn summarize(plan: &Plan, report: &Report, state: &State, destroy: bool) -> u8 {
    let count = |kind: ActionKind| {
        plan.actions()
            .iter()
            .filter(|a| a.action == kind)
            .filter(|a| {
                report
                    .completed
                    .iter()
                    .any(|(done, op)| done == &a.address && (kind == ActionKind::Delete || *op != Operation::Delete))
            })
            .count()
    };
    let mut text = String::new();
    for (address, operation, error) in &report.failed {
        text.push_str(&format!("error: {address}: {} failed: {error}\n", verb(*operation).0));
    }
    if let Some(e) = &report.state_error {
        text.push_str(&format!("error: the state could not be saved: {e}\n"));
    }
    if report.unreachable {
        text.push_str(
            "Stopped: a server could not be reached, so no further change was started. The state records \
             every change that finished; run the command again once the server answers.\n",
        );
    }
    if !report.not_started.is_empty() {
        let names: Vec<String> =
            report.not_started.iter().take(NOT_STARTED_SHOWN).map(|(a, _)| a.to_string()).collect();
        let more = report.not_started.len().saturating_sub(NOT_STARTED_SHOWN);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        text.push_str(&format!("Not started: {}{more}\n", names.join(", ")));
    }
    let what = if destroy { "Destroy" } else { "Apply" };
    let outcome = if report.succeeded() {
        "complete"
    } else if report.cancelled || report.unreachable {
        "stopped"
    } else {
        "failed"
    };
    text.push_str(&format!(
        "{what} {outcome}: {} created, {} updated, {} replaced, {} destroyed. State serial {}.\n",
        count(ActionKind::Create),
        count(ActionKind::Update),
        count(ActionKind::Replace),
        count(ActionKind::Delete),
        state.serial
    ));
    // The addresses the cloud gave: LoadBalancer Services' frontends and Ingresses' controllers.
    for resource in &state.resources {
        let shown = match resource.address.kind {
            Kind::Service => resource.attributes.get("type").and_then(Value::as_str) == Some("LoadBalancer"),
            Kind::Ingress => true,
            _ => false,
        };
        if shown && let Some(Value::Str(ip)) = resource.attributes.get("address") {
            text.push_str(&format!("  {} = {ip}\n", resource.address));
        }
    }
    if report.succeeded() {
        stdout(&text);
        0
    } else {
        eprint!("{text}");
        1
    }
}
