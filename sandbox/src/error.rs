//! The one error type of the sandbox: what failed, and what to look at to find out why.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Why the sandbox could not build, start or stop a control plane.
#[derive(Debug)]
#[non_exhaustive]
pub enum SandboxError {
    /// A file or process operation failed.
    Io {
        /// What was being done, e.g. "creating the build cache folder /x/target/aksform-sandbox".
        action: String,
        source: io::Error,
    },
    /// There is no `go` command to build the control plane with.
    GoNotFound,
    /// `go build` of the control-plane binary failed.
    GoBuild {
        /// The Go module that was built.
        module: PathBuf,
        status: ExitStatus,
        /// What `go build` printed.
        output: String,
    },
    /// The control plane exited before it was ready.
    Exited {
        status: ExitStatus,
        /// The last lines of its log.
        log: String,
    },
    /// The control plane did not become ready in time.
    NotReady {
        waited: Duration,
        /// The last lines of its log.
        log: String,
    },
    /// A restarted control plane cannot have its API server port back: another process holds
    /// it. The port cannot change, since the kubeconfigs handed out name it.
    PortTaken { port: u16, source: io::Error },
    /// The control plane wrote something the harness could not read.
    Unreadable { path: PathBuf, reason: String },
}

impl SandboxError {
    pub(crate) fn io(action: impl Into<String>, source: io::Error) -> Self {
        SandboxError::Io { action: action.into(), source }
    }

    /// The log of a control plane that failed to start, if that is what went wrong.
    pub fn log(&self) -> Option<&str> {
        match self {
            SandboxError::Exited { log, .. } | SandboxError::NotReady { log, .. } => Some(log),
            _ => None,
        }
    }
}

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxError::Io { action, source } => write!(f, "{action}: {source}"),
            SandboxError::GoNotFound => {
                write!(
                    f,
                    "no `go` command on the PATH: the Kubernetes control plane is built from Go modules (Go 1.24 or newer)"
                )
            }
            SandboxError::GoBuild { module, status, output } => {
                write!(f, "building the control plane in {} failed ({status}):\n{output}", module.display())
            }
            SandboxError::Exited { status, log } => {
                write!(f, "the control plane exited before it was ready ({status}); its log ends with:\n{log}")
            }
            SandboxError::NotReady { waited, log } => {
                write!(f, "the control plane was not ready after {} s; its log ends with:\n{log}", waited.as_secs())
            }
            SandboxError::PortTaken { port, source } => write!(
                f,
                "cannot restart the control plane: its API server port 127.0.0.1:{port} was taken by another \
                 process meanwhile ({source}); the kubeconfigs name that port, so the server cannot move"
            ),
            SandboxError::Unreadable { path, reason } => write!(f, "{}: {reason}", path.display()),
        }
    }
}

impl std::error::Error for SandboxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SandboxError::Io { source, .. } | SandboxError::PortTaken { source, .. } => Some(source),
            _ => None,
        }
    }
}
