//! `aksform state list | show | rm | mv`: read and edit the recorded state by hand.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::output::Output;
use crate::loading;
use crate::model::Address;
use crate::state::{Backend, LocalBackend, LockInfo, State, StateError, ops};

/// Why a state command did nothing.
#[derive(Debug, thiserror::Error)]
enum StateCommandError {
    #[error("{0}")]
    State(#[from] StateError),
    /// Nothing to list, show or edit: the stack was never applied with this state.
    #[error("{0} does not exist: nothing is recorded yet")]
    Missing(String),
}

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    command: StateCommand,
    /// The stack folder whose state to use.
    #[arg(long, default_value = ".", global = true)]
    stack: PathBuf,
    /// The state file (default: the stack's `state` setting, else state/<stack>.json).
    #[arg(long, global = true, env = "AKSFORM_STATE")]
    state: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum StateCommand {
    /// List the addresses of the recorded resources.
    List,
    /// Show one recorded resource.
    Show { address: Address },
    /// Forget a resource (and its children) without deleting it.
    Rm { address: Address },
    /// Record a resource under a new address, e.g. after renaming its block.
    Mv { from: Address, to: Address },
}

/// The state backend for a stack: `--state`, the stack's own setting, or `state/<stack>.json`.
pub fn backend_for(explicit: Option<&Path>, loaded: &loading::Loaded) -> LocalBackend {
    match (explicit, &loaded.stack.state_path) {
        (Some(path), _) => LocalBackend::new(path),
        (None, Some(path)) => LocalBackend::new(loaded.dir.join(path)),
        (None, None) => LocalBackend::new(LocalBackend::default_path(&loaded.stack.name)),
    }
}

pub fn run(args: &StateArgs, out: &Output) -> u8 {
    let backend = match &args.state {
        Some(path) => LocalBackend::new(path),
        None => match loading::load(&args.stack, &loading::Options::default(), &|name| std::env::var(name).ok()) {
            Ok(loaded) if !loaded.stack.name.is_empty() => backend_for(None, &loaded),
            Ok(_) => {
                out.error(&format!(
                    "{} has no `stack` block to name its state; pass --state FILE",
                    args.stack.display()
                ));
                return 1;
            }
            Err(e) => {
                out.error(&format!("{e}; pass --stack DIR or --state FILE"));
                return 1;
            }
        },
    };
    match execute(&args.command, &backend) {
        Ok(text) => {
            super::output::stdout(&text);
            0
        }
        Err(e) => {
            out.error(&e.to_string());
            1
        }
    }
}

fn execute(command: &StateCommand, backend: &LocalBackend) -> Result<String, StateCommandError> {
    let read = |backend: &LocalBackend| -> Result<State, StateCommandError> {
        backend.read()?.ok_or_else(|| StateCommandError::Missing(backend.describe()))
    };
    match command {
        StateCommand::List => {
            let state = read(backend)?;
            Ok(ops::list(&state).iter().map(|a| format!("{a}\n")).collect())
        }
        StateCommand::Show { address } => {
            let state = read(backend)?;
            Ok(ops::show(&state, address)?)
        }
        StateCommand::Rm { address } | StateCommand::Mv { from: address, .. } => {
            let verb = if matches!(command, StateCommand::Rm { .. }) { "state rm" } else { "state mv" };
            let guard = backend.lock(LockInfo::new(format!("aksform {verb}")))?;
            let mut state = read(backend)?;
            let message = match command {
                StateCommand::Mv { to, .. } => {
                    let moved = ops::move_resource(&mut state, address, to)?;
                    moved.iter().map(|(from, to)| format!("Moved {from} to {to}\n")).collect::<String>()
                }
                _ => {
                    let removed = ops::remove(&mut state, address)?;
                    removed
                        .iter()
                        .map(|r| format!("Removed {} from the state (the resource itself is untouched)\n", r.address))
                        .collect()
                }
            };
            state.commit();
            backend.write(&state)?;
            guard.release()?;
            Ok(message)
        }
    }
}
