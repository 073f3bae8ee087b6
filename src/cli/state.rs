//! `aksform state list | show | rm | mv | force-unlock | migrate`: read and edit the recorded
//! state by hand, break a lock a run that is gone left, and move a state between backends.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::backend::{Access, LocationError, LockArgs, StateLocationArgs, backend_for, blob_backend, lock_waiting};
use super::output::Output;
use crate::loading;
use crate::model::Address;
use crate::providers::arm::cloud::CloudName;
use crate::providers::arm::credentials::AuthMethod;
use crate::state::{Backend, LocalBackend, LockInfo, State, StateError, ops};

/// Why a state command did nothing.
#[derive(Debug, thiserror::Error)]
enum StateCommandError {
    #[error("{0}")]
    State(#[from] StateError),
    #[error("{0}")]
    Location(#[from] LocationError),
    /// Nothing to list, show or edit: the stack was never applied with this state.
    #[error("{0} does not exist: nothing is recorded yet")]
    Missing(String),
    #[error(
        "{to} already holds a state (lineage {lineage}, serial {serial}) other than the one in {from}: nothing was migrated. Remove it first, or migrate to another place"
    )]
    DestinationTaken { from: String, to: String, lineage: String, serial: u64 },
    #[error("{from} and {to} are the same place: nothing to migrate")]
    SamePlace { from: String, to: String },
    #[error("the state read back from {to} is not the one written: the migration is not complete; {from} is untouched")]
    NotReadBack { from: String, to: String },
}

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    command: StateCommand,
}

/// What every state command needs: the stack and where its state is.
#[derive(Debug, Args)]
struct Common {
    /// The stack folder (or one of its files) whose state to use.
    #[arg(long, default_value = ".")]
    stack: PathBuf,
    #[command(flatten)]
    location: StateLocationArgs,
    #[command(flatten)]
    lock: LockArgs,
    /// How to sign in to Azure Blob Storage without a SAS or key (as for Resource Manager).
    #[arg(long, env = "AKSFORM_AUTH", value_enum, default_value_t = AuthMethod::Auto)]
    auth: AuthMethod,
    /// The Azure cloud of the storage account.
    #[arg(long, env = "AKSFORM_CLOUD", value_enum, default_value_t = CloudName::Public)]
    cloud: CloudName,
}

#[derive(Debug, Subcommand)]
enum StateCommand {
    /// List the addresses of the recorded resources.
    List(Common),
    /// Show one recorded resource.
    Show {
        address: Address,
        #[command(flatten)]
        common: Common,
    },
    /// Forget a resource (and its children) without deleting it.
    Rm {
        address: Address,
        #[command(flatten)]
        common: Common,
    },
    /// Record a resource under a new address, e.g. after renaming its block.
    Mv {
        from: Address,
        to: Address,
        #[command(flatten)]
        common: Common,
    },
    /// Break the lock of a run that is gone for good: only the lock with this id (the one a
    /// refused run names).
    ForceUnlock {
        lock_id: String,
        #[command(flatten)]
        common: Common,
    },
    /// Move the state to another place, keeping its serial and lineage: `--to FILE|BLOB-URL`
    /// from where the stack keeps it, or `--from FILE|BLOB-URL` to where the stack keeps it.
    Migrate {
        /// Where to move the state (a file, or https://<account>.blob.core.windows.net/<container>/<key>).
        #[arg(long, value_name = "FILE|URL", required_unless_present = "from", conflicts_with = "from")]
        to: Option<String>,
        /// Where the state is now, when the stack already names its new place.
        #[arg(long, value_name = "FILE|URL")]
        from: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

impl StateCommand {
    fn common(&self) -> &Common {
        match self {
            StateCommand::List(common)
            | StateCommand::Show { common, .. }
            | StateCommand::Rm { common, .. }
            | StateCommand::Mv { common, .. }
            | StateCommand::ForceUnlock { common, .. }
            | StateCommand::Migrate { common, .. } => common,
        }
    }
}

impl Common {
    fn access(&self) -> Access {
        Access { auth: self.auth, cloud: self.cloud }
    }

    /// The stack's state backend; a `--state` file needs no stack.
    fn backend(&self) -> Result<Box<dyn Backend>, String> {
        if let Some(path) = &self.location.state {
            return Ok(Box::new(LocalBackend::new(path)));
        }
        let env = |name: &str| std::env::var(name).ok();
        let loaded = loading::load(&self.stack, &loading::Options::default(), &env)
            .map_err(|e| format!("{e}; pass --stack DIR or --state FILE"))?;
        if loaded.stack.name.is_empty() {
            return Err(format!("{} has no `stack` block to name its state; pass --state FILE", self.stack.display()));
        }
        backend_for(&self.location, &loaded, self.access(), &env).map_err(|e| e.to_string())
    }

    /// Another place, named on the command line: a file path or a blob URL.
    fn place(&self, place: &str) -> Result<Box<dyn Backend>, StateCommandError> {
        let Some((endpoint, container, key)) = blob_url_parts(place) else {
            return Ok(Box::new(LocalBackend::new(place.strip_prefix("file:").unwrap_or(place))));
        };
        let account = account_of(&endpoint);
        let location = StateLocationArgs {
            state: None,
            state_blob_account: Some(account),
            state_blob_container: Some(container),
            state_blob_key: Some(key),
            state_blob_endpoint: Some(endpoint),
        };
        let env = |name: &str| std::env::var(name).ok();
        Ok(blob_backend(&location, None, None, None, "", self.access(), &env)?)
    }
}

/// `https://acct.blob.core.windows.net/container/a/b.json` as its endpoint, container and
/// key; on loopback (Azurite) the account is the path's first part.
fn blob_url_parts(place: &str) -> Option<(String, String, String)> {
    let url = url::Url::parse(place).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let mut segments: Vec<String> = url.path_segments()?.filter(|s| !s.is_empty()).map(percent_decode).collect();
    let on_loopback = url.scheme() == "http" || url.host_str().is_some_and(|h| !h.contains(".blob."));
    let mut endpoint = format!("{}://{}", url.scheme(), url.host_str()?);
    if let Some(port) = url.port() {
        endpoint.push_str(&format!(":{port}"));
    }
    if on_loopback {
        if segments.is_empty() {
            return None;
        }
        endpoint.push('/');
        endpoint.push_str(&segments.remove(0));
    }
    if segments.len() < 2 {
        return None;
    }
    let container = segments.remove(0);
    Some((endpoint, container, segments.join("/")))
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map_or_else(|| text.to_string(), |(_, v)| v.into_owned())
}

/// The account of an endpoint: the first label of `<account>.blob...`, else the path's last
/// part (Azurite's `http://127.0.0.1:10000/devstoreaccount1`).
fn account_of(endpoint: &str) -> String {
    let url = url::Url::parse(endpoint).ok();
    let host = url.as_ref().and_then(|u| u.host_str()).unwrap_or_default();
    match host.split_once(".blob.") {
        Some((account, _)) => account.to_string(),
        None => url
            .as_ref()
            .and_then(|u| u.path_segments()?.rfind(|s| !s.is_empty()).map(str::to_string))
            .unwrap_or_default(),
    }
}

pub fn run(args: &StateArgs, out: &Output) -> u8 {
    let common = args.command.common();
    let backend = match common.backend() {
        Ok(backend) => backend,
        Err(message) => {
            out.error(&message);
            return 1;
        }
    };
    match execute(&args.command, backend.as_ref(), common) {
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

fn lock(backend: &dyn Backend, verb: &str, common: &Common) -> Result<Box<dyn crate::state::LockGuard>, StateError> {
    lock_waiting(backend, LockInfo::new(format!("aksform {verb}")), common.lock.lock_timeout)
}

fn execute(command: &StateCommand, backend: &dyn Backend, common: &Common) -> Result<String, StateCommandError> {
    let read = |backend: &dyn Backend| -> Result<State, StateCommandError> {
        backend.read()?.ok_or_else(|| StateCommandError::Missing(backend.describe()))
    };
    match command {
        StateCommand::List(_) => {
            let state = read(backend)?;
            Ok(ops::list(&state).iter().map(|a| format!("{a}\n")).collect())
        }
        StateCommand::Show { address, .. } => {
            let state = read(backend)?;
            Ok(ops::show(&state, address)?)
        }
        StateCommand::Rm { address, .. } | StateCommand::Mv { from: address, .. } => {
            let verb = if matches!(command, StateCommand::Rm { .. }) { "state rm" } else { "state mv" };
            let guard = lock(backend, verb, common)?;
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
        StateCommand::ForceUnlock { lock_id, .. } => {
            let holder = backend.force_unlock(lock_id)?;
            Ok(format!("Unlocked {}: the lock of {holder} was broken\n", backend.describe()))
        }
        StateCommand::Migrate { to, from, .. } => {
            let (source, target) = match (to, from) {
                (Some(to), _) => (None, Some(common.place(to)?)),
                (None, Some(from)) => (Some(common.place(from)?), None),
                (None, None) => unreachable!("clap requires --to or --from"),
            };
            let source: &dyn Backend = source.as_deref().unwrap_or(backend);
            let target: &dyn Backend = target.as_deref().unwrap_or(backend);
            migrate(source, target, common)
        }
    }
}

/// Copies the state from `source` to an empty `target` under both locks, as it is (serial
/// and lineage kept), and reads it back; `source` is left as it was.
fn migrate(source: &dyn Backend, target: &dyn Backend, common: &Common) -> Result<String, StateCommandError> {
    let (from, to) = (source.describe(), target.describe());
    if from == to {
        return Err(StateCommandError::SamePlace { from, to });
    }
    let source_guard = lock(source, "state migrate", common)?;
    let state = source.read()?.ok_or_else(|| StateCommandError::Missing(from.clone()))?;
    let target_guard = lock(target, "state migrate", common)?;
    match target.read()? {
        Some(there) if there == state => {
            return Ok(format!("{to} already holds this state (serial {}): nothing to migrate\n", state.serial));
        }
        Some(there) => {
            return Err(StateCommandError::DestinationTaken { from, to, lineage: there.lineage, serial: there.serial });
        }
        None => {}
    }
    target.write(&state)?;
    if target.read()?.as_ref() != Some(&state) {
        return Err(StateCommandError::NotReadBack { from, to });
    }
    target_guard.release()?;
    source_guard.release()?;
    Ok(format!(
        "Migrated {} resources (serial {}, lineage {}) from {from} to {to}.\n{from} is left as it was: \
         remove it once the stack's `state` setting names the new place.\n",
        state.resources.len(),
        state.serial,
        state.lineage
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_urls_name_endpoint_container_and_key() {
        assert_eq!(
            blob_url_parts("https://acct.blob.core.windows.net/tfstate/prod/shop.json"),
            Some(("https://acct.blob.core.windows.net".into(), "tfstate".into(), "prod/shop.json".into()))
        );
        assert_eq!(
            blob_url_parts("http://127.0.0.1:10000/devstoreaccount1/state/shop%20one.json"),
            Some(("http://127.0.0.1:10000/devstoreaccount1".into(), "state".into(), "shop one.json".into()))
        );
        assert_eq!(blob_url_parts("state/shop.json"), None);
        assert_eq!(blob_url_parts("https://acct.blob.core.windows.net/only-container"), None);
        assert_eq!(account_of("https://acct.blob.core.windows.net"), "acct");
        assert_eq!(account_of("http://127.0.0.1:10000/devstoreaccount1"), "devstoreaccount1");
    }
}
