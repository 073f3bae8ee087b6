//! Where a command finds the state: `--state FILE`, the Azure Blob settings of the flags and
//! the environment (which win over the stack's), the stack's own `state` setting, or
//! `state/<stack>.json` beside the stack; and taking its lock, waiting for it with
//! `--lock-timeout`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;

use super::output::Output;
use crate::loading::Loaded;
use crate::model::stack::StateSetting;
use crate::providers::arm::cloud::{CloudName, is_loopback};
use crate::providers::arm::credentials::{AuthMethod, Chain};
use crate::state::{
    Backend, BlobAuth, BlobBackend, BlobLocation, LocalBackend, LockGuard, LockInfo, State, StateError,
};

/// The state's location, as the command line and the environment give it.
#[derive(Debug, Clone, Default, Args)]
pub struct StateLocationArgs {
    /// A local state file (default: the stack's `state` setting, else state/<stack>.json beside the stack).
    #[arg(long, env = "AKSFORM_STATE", value_name = "FILE", conflicts_with = "state_blob_account")]
    pub state: Option<PathBuf>,
    /// The storage account of a state in Azure Blob Storage (overrides the stack's `account`).
    #[arg(long, env = "AKSFORM_STATE_BLOB_ACCOUNT", value_name = "ACCOUNT")]
    pub state_blob_account: Option<String>,
    /// The blob container of the state (overrides the stack's `container`).
    #[arg(long, env = "AKSFORM_STATE_BLOB_CONTAINER", value_name = "CONTAINER")]
    pub state_blob_container: Option<String>,
    /// The state blob's name (overrides the stack's `key`; default <stack>.json).
    #[arg(long, env = "AKSFORM_STATE_BLOB_KEY", value_name = "NAME")]
    pub state_blob_key: Option<String>,
    /// The Blob service endpoint, for Azurite or a private endpoint (plain http on loopback only;
    /// default https://<account>.blob.core.windows.net, or the --cloud's).
    #[arg(long, env = "AKSFORM_STATE_BLOB_ENDPOINT", value_name = "URL")]
    pub state_blob_endpoint: Option<String>,
}

/// How long to wait for a state lock another run holds.
#[derive(Debug, Clone, Args)]
pub struct LockArgs {
    /// Wait this long for a lock another run holds (`30s`, `10m`), showing who holds it; 0 fails at once.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = humantime::parse_duration)]
    pub lock_timeout: Duration,
}

/// The sign-in a blob state uses without a SAS or key: the same as for Resource Manager.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    pub auth: AuthMethod,
    pub cloud: CloudName,
}

impl Default for Access {
    fn default() -> Self {
        Access { auth: AuthMethod::Auto, cloud: CloudName::Public }
    }
}

/// Why no state backend can be used.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    #[error(
        "the state is in Azure Blob Storage but no {what} is named: set `{field}` in the stack's `state = azure_blob {{ ... }}`, or pass {flag}"
    )]
    Missing { what: &'static str, field: &'static str, flag: &'static str },
    #[error("--state-blob-endpoint `{0}` is not a URL")]
    NotAUrl(String),
    #[error(
        "--state-blob-endpoint `{0}`: plain http is allowed only on the loopback interface (an emulator such as Azurite); use https"
    )]
    PlainHttp(String),
    #[error("{0}")]
    State(#[from] StateError),
}

/// The stack's state backend, from the process environment; on an error it is printed and
/// the exit code comes back.
pub fn open_backend(
    args: &StateLocationArgs,
    loaded: &Loaded,
    access: Access,
    out: &Output,
) -> Result<Box<dyn Backend>, u8> {
    let env = |name: &str| std::env::var(name).ok();
    backend_for(args, loaded, access, &env).map_err(|e| {
        out.error(&e.to_string());
        1
    })
}

/// The state backend of `loaded`'s stack, as `args` and the environment say.
pub fn backend_for(
    args: &StateLocationArgs,
    loaded: &Loaded,
    access: Access,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Box<dyn Backend>, LocationError> {
    if let Some(path) = &args.state {
        return Ok(Box::new(LocalBackend::new(path)));
    }
    let stack = &loaded.stack;
    let blob_named = args.state_blob_account.is_some() || args.state_blob_container.is_some();
    match &stack.state {
        Some(StateSetting::LocalPath(path)) => Ok(Box::new(LocalBackend::new(loaded.dir.join(path)))),
        Some(StateSetting::Local) => Ok(Box::new(LocalBackend::new(default_local_path(loaded)))),
        Some(StateSetting::AzureBlob { account, container, key }) => {
            blob_backend(args, account.as_deref(), container.as_deref(), key.as_deref(), &stack.name, access, env)
        }
        None if blob_named => blob_backend(args, None, None, None, &stack.name, access, env),
        None => Ok(Box::new(LocalBackend::new(default_local_path(loaded)))),
    }
}

/// `state/<stack>.json` in the stack's folder.
pub fn default_local_path(loaded: &Loaded) -> PathBuf {
    loaded.dir.join(LocalBackend::default_path(&loaded.stack.name))
}

/// A blob backend from `args` and the stack's own parts (which `args` override).
pub fn blob_backend(
    args: &StateLocationArgs,
    account: Option<&str>,
    container: Option<&str>,
    key: Option<&str>,
    stack: &str,
    access: Access,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Box<dyn Backend>, LocationError> {
    let account = args.state_blob_account.as_deref().or(account).ok_or(LocationError::Missing {
        what: "storage account",
        field: "account",
        flag: "--state-blob-account (AKSFORM_STATE_BLOB_ACCOUNT)",
    })?;
    let container = args.state_blob_container.as_deref().or(container).ok_or(LocationError::Missing {
        what: "container",
        field: "container",
        flag: "--state-blob-container (AKSFORM_STATE_BLOB_CONTAINER)",
    })?;
    let key = args.state_blob_key.clone().or(key.map(str::to_string)).unwrap_or_else(|| format!("{stack}.json"));
    let location = BlobLocation {
        account: account.to_string(),
        endpoint: endpoint(args.state_blob_endpoint.as_deref(), account, access.cloud)?,
        container: container.to_string(),
        key,
    };
    let secret = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let auth = if let Some(sas) = secret("AZURE_STORAGE_SAS_TOKEN") {
        BlobAuth::Sas(sas.into())
    } else if let Some(key) = secret("AZURE_STORAGE_KEY") {
        BlobAuth::SharedKey(key.into())
    } else {
        let cloud = crate::providers::arm::cloud::Cloud::named(access.cloud);
        let chain = Chain::new(access.auth, &cloud, env).map_err(|e| StateError::Blob {
            origin: location.to_string(),
            action: "sign in to",
            message: e.to_string(),
            hint: String::new(),
        })?;
        BlobAuth::Token(Arc::new(chain))
    };
    let lease = secret("AKSFORM_STATE_LEASE_SECONDS")
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(Duration::from_secs(u64::from(crate::state::blob::LEASE_SECONDS)), Duration::from_secs);
    Ok(Box::new(BlobBackend::with_lease(location, auth, lease)?))
}

fn endpoint(given: Option<&str>, account: &str, cloud: CloudName) -> Result<url::Url, LocationError> {
    let Some(given) = given else {
        let suffix = match cloud {
            CloudName::Public => "core.windows.net",
            CloudName::China => "core.chinacloudapi.cn",
            CloudName::UsGovernment => "core.usgovcloudapi.net",
        };
        return url::Url::parse(&format!("https://{account}.blob.{suffix}"))
            .map_err(|_| LocationError::NotAUrl(account.to_string()));
    };
    let url = url::Url::parse(given.trim_end_matches('/')).map_err(|_| LocationError::NotAUrl(given.to_string()))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(LocationError::PlainHttp(given.to_string())),
    }
}

/// Takes the state's lock for `command`, waiting up to `timeout` for another run to release
/// it (saying who holds it when the wait starts and every 30 s), then reads the state. On an
/// error it is printed and the exit code comes back.
pub fn lock_and_read(
    backend: &dyn Backend,
    command: &str,
    timeout: Duration,
    out: &Output,
) -> Result<(Box<dyn LockGuard>, Option<State>), u8> {
    let fail = |e: StateError| {
        out.error(&e.to_string());
        1
    };
    let guard = lock_waiting(backend, LockInfo::new(command), timeout).map_err(fail)?;
    let state = backend.read().map_err(fail)?;
    Ok((guard, state))
}

/// How often a waiting run tries the lock again, and says that it still waits.
const RETRY_EVERY: Duration = Duration::from_secs(1);
const SAY_EVERY: Duration = Duration::from_secs(30);

/// Takes the lock, trying again until `timeout` while another run holds it; says on stderr
/// who holds it when the wait starts and every 30 s.
pub fn lock_waiting(
    backend: &dyn Backend,
    info: LockInfo,
    timeout: Duration,
) -> Result<Box<dyn LockGuard>, StateError> {
    let started = Instant::now();
    let mut said: Option<Instant> = None;
    loop {
        match backend.lock(info.clone()) {
            Err(StateError::Locked { holder, .. }) if started.elapsed() < timeout => {
                if said.is_none_or(|at| at.elapsed() >= SAY_EVERY) {
                    let who = holder.map_or_else(|| "another run".to_string(), |h| h.to_string());
                    eprintln!(
                        "waiting for the lock on {} ({}s of {}s): held by {who}",
                        backend.describe(),
                        started.elapsed().as_secs(),
                        timeout.as_secs()
                    );
                    said = Some(Instant::now());
                }
                std::thread::sleep(RETRY_EVERY.min(timeout.saturating_sub(started.elapsed())));
            }
            other => return other,
        }
    }
}

/// Says where no state was found, and whether one is where earlier versions of aksform
/// looked (`state/<stack>.json` in the working directory).
pub fn no_state_note(backend: &dyn Backend, loaded: &Loaded) -> String {
    let old = Path::new("state").join(format!("{}.json", loaded.stack.name));
    let beside = default_local_path(loaded);
    let moved = old.is_file() && std::fs::canonicalize(&old).ok() != std::fs::canonicalize(&beside).ok();
    let mut note = format!("note: no state at {}: planning as if nothing were created yet", backend.describe());
    if moved {
        note.push_str(&format!(
            "\nnote: {} exists in the working directory, where earlier versions of aksform looked; \
             the default state is now {} beside the stack: move it there, or pass --state {}",
            old.display(),
            beside.display(),
            old.display()
        ));
    }
    note
}
