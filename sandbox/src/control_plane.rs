//! One real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) per test,
//! on free loopback ports, in a temporary folder, with a bearer token of its own.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::SandboxError;
use crate::kube_binary::kube_binary;
use crate::process::ProcessGroup;

/// The environment variable that hands the token to the control plane, out of sight of `ps`.
const TOKEN_ENV: &str = "AKSFORM_KUBE_TOKEN";
/// How long the control plane may take to answer /readyz and start its controllers. It takes
/// a few seconds alone; many at once on a small CI machine take longer.
const READY_TIMEOUT: Duration = Duration::from_secs(150);
/// Ports are picked free but released before the servers bind them; on a clash, start again.
const START_ATTEMPTS: usize = 3;
/// How long `stop` waits for a clean exit before killing.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How much of the log a start-up error carries.
const LOG_TAIL_LINES: usize = 60;

/// Files in the control plane's folder, written by the Go program.
const LOG_FILE: &str = "control-plane.log";
const READY_FILE: &str = "ready";
const KUBECONFIG_FILE: &str = "kubeconfig";

/// A running control plane: a real kube-apiserver with etcd behind it and the controllers that
/// namespaces, Services and ServiceAccounts need. Its processes end when it is stopped, killed or
/// dropped (also while a test panics), and when the process owning it dies.
pub struct ControlPlane {
    // Declared before `dir` so that it is dropped, and the processes killed, before the folder
    // they write to is removed.
    process: ProcessGroup,
    server_url: String,
    token: String,
    kubeconfig: String,
    dir: TempDir,
}

impl ControlPlane {
    /// Builds the control-plane binary if its sources changed (minutes, once), then starts a
    /// fresh control plane and waits until it is ready (seconds).
    pub fn start() -> Result<ControlPlane, SandboxError> {
        let binary = kube_binary()?;
        let mut attempt = 1;
        loop {
            match ControlPlane::launch(&binary) {
                Err(error) if attempt < START_ATTEMPTS && is_port_clash(&error) => attempt += 1,
                result => return result,
            }
        }
    }

    fn launch(binary: &Path) -> Result<ControlPlane, SandboxError> {
        let dir = tempfile::Builder::new()
            .prefix("aksform-kube-")
            .tempdir()
            .map_err(|error| SandboxError::io("creating a temporary folder for the control plane", error))?;
        let token = random_token()?;
        let process = spawn(binary, dir.path(), &token, None)?;
        // Built before it is ready, so that a failure below drops it and kills the processes.
        let mut plane = ControlPlane { process, server_url: String::new(), token, kubeconfig: String::new(), dir };
        plane.wait_until_ready(0)?;
        Ok(plane)
    }

    /// Starts this control plane again after [`kill`](Self::kill) (or kills it first if it
    /// still runs): the same etcd data, the same API server port, certificates and token, so
    /// that every kubeconfig written before keeps working and every object is still there.
    /// Returns once it answers /readyz again.
    ///
    /// The port cannot move, since kubeconfigs name it: if another process took it meanwhile,
    /// this fails with [`SandboxError::PortTaken`].
    pub fn restart(&mut self) -> Result<(), SandboxError> {
        self.process.kill().map_err(|error| SandboxError::io("killing the control plane", error))?;
        let port = api_port(&self.server_url).ok_or_else(|| SandboxError::Unreadable {
            path: self.dir.path().join(READY_FILE),
            reason: format!("no port in the server URL {:?}", self.server_url),
        })?;
        let ready_path = self.dir.path().join(READY_FILE);
        match fs::remove_file(&ready_path) {
            Err(error) if error.kind() != ErrorKind::NotFound => {
                return Err(SandboxError::io(format!("removing {}", ready_path.display()), error));
            }
            _ => {}
        }
        let binary = kube_binary()?;
        let previous_url = self.server_url.clone();
        let mut attempt = 1;
        loop {
            // Said before starting rather than read from a bind error: the common case, a port
            // already held, then fails at once and names the port.
            if let Err(error) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
                return Err(SandboxError::PortTaken { port, source: error });
            }
            let log_start = self.log_len();
            self.process = spawn(&binary, self.dir.path(), &self.token, Some(port))?;
            match self.wait_until_ready(log_start) {
                Ok(()) => break,
                // Between the check above and the API server's bind, the port may be taken, or
                // picked by this control plane's own etcd: a new attempt tells which.
                Err(error) if attempt < START_ATTEMPTS && is_port_clash(&error) => attempt += 1,
                Err(error) => return Err(error),
            }
        }
        if self.server_url != previous_url {
            return Err(SandboxError::Unreadable {
                path: ready_path,
                reason: format!("restarted at {}, not at {previous_url}", self.server_url),
            });
        }
        Ok(())
    }

    /// Waits for the ready file; on failure, the error carries the log written from `log_start`.
    fn wait_until_ready(&mut self, log_start: u64) -> Result<(), SandboxError> {
        let started = Instant::now();
        let ready_path = self.dir.path().join(READY_FILE);
        // The Go side gives up after READY_TIMEOUT and says why; this is for a hung process.
        let deadline = started + READY_TIMEOUT + Duration::from_secs(15);
        loop {
            match fs::read_to_string(&ready_path) {
                Ok(server_url) => {
                    self.server_url = server_url.trim().to_owned();
                    break;
                }
                Err(error) if error.kind() == ErrorKind::NotFound => {}
                Err(error) => return Err(SandboxError::io(format!("reading {}", ready_path.display()), error)),
            }
            let exited =
                self.process.try_wait().map_err(|error| SandboxError::io("waiting for the control plane", error))?;
            if let Some(status) = exited {
                return Err(SandboxError::Exited { status, log: self.log_tail(log_start) });
            }
            if Instant::now() > deadline {
                let _ = self.process.kill();
                return Err(SandboxError::NotReady { waited: started.elapsed(), log: self.log_tail(log_start) });
            }
            thread::sleep(Duration::from_millis(50));
        }
        if !self.server_url.starts_with("https://") {
            return Err(SandboxError::Unreadable {
                path: ready_path,
                reason: format!("expected the server's https URL, found {:?}", self.server_url),
            });
        }
        let kubeconfig_path = self.dir.path().join(KUBECONFIG_FILE);
        self.kubeconfig = fs::read_to_string(&kubeconfig_path)
            .map_err(|error| SandboxError::io(format!("reading {}", kubeconfig_path.display()), error))?;
        Ok(())
    }

    /// The API server's URL, `https://127.0.0.1:<port>`.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The bearer token of an administrator (group `system:masters`).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A kubeconfig whose current context, `sandbox`, reaches the API server with the token and
    /// trusts the server's generated CA.
    pub fn kubeconfig_yaml(&self) -> &str {
        &self.kubeconfig
    }

    /// Writes [`kubeconfig_yaml`](Self::kubeconfig_yaml) to `path`, readable by the owner only.
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>) -> Result<(), SandboxError> {
        let path = path.as_ref();
        let write = || -> std::io::Result<()> {
            let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
            file.write_all(self.kubeconfig.as_bytes())?;
            file.sync_all()
        };
        write().map_err(|error| SandboxError::io(format!("writing the kubeconfig {}", path.display()), error))
    }

    /// The process id of the control plane (one process runs etcd, the API server and the
    /// controllers).
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Everything the control plane has logged so far.
    pub fn log(&self) -> Result<String, SandboxError> {
        let path = self.dir.path().join(LOG_FILE);
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|mut file| file.read_to_end(&mut bytes))
            .map_err(|error| SandboxError::io(format!("reading {}", path.display()), error))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Kills the control plane at once, as a crash would: requests in flight fail, and later
    /// ones are refused. The kubeconfig and the log stay readable until `self` is dropped.
    pub fn kill(&mut self) -> Result<(), SandboxError> {
        self.process.kill().map_err(|error| SandboxError::io("killing the control plane", error))?;
        Ok(())
    }

    /// Stops the control plane and removes its folder.
    pub fn stop(mut self) -> Result<(), SandboxError> {
        self.process.terminate(STOP_GRACE).map_err(|error| SandboxError::io("stopping the control plane", error))?;
        Ok(())
    }

    /// The last lines of what was logged from byte `start` on (the current run's part).
    fn log_tail(&self, start: u64) -> String {
        let path = self.dir.path().join(LOG_FILE);
        let mut bytes = Vec::new();
        let read = File::open(&path).and_then(|mut file| {
            file.seek(SeekFrom::Start(start))?;
            file.read_to_end(&mut bytes)
        });
        if let Err(error) = read {
            return format!("(the log {} is unreadable: {error})", path.display());
        }
        let log = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
    }

    fn log_len(&self) -> u64 {
        fs::metadata(self.dir.path().join(LOG_FILE)).map_or(0, |metadata| metadata.len())
    }
}

impl fmt::Debug for ControlPlane {
    /// Leaves out the token and the kubeconfig: test output is no place for credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlPlane")
            .field("server_url", &self.server_url)
            .field("pid", &self.process.id())
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

/// Starts the control-plane program on `dir`, its output appended to the log there.
fn spawn(binary: &Path, dir: &Path, token: &str, port: Option<u16>) -> Result<ProcessGroup, SandboxError> {
    let log_path = dir.join(LOG_FILE);
    // Appended: after a restart, the log still tells what happened before.
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|error| SandboxError::io(format!("opening {}", log_path.display()), error))?;
    let log_for_stdout =
        log.try_clone().map_err(|error| SandboxError::io(format!("opening {}", log_path.display()), error))?;
    let mut command = Command::new(binary);
    command
        .arg("all")
        .arg("--data-dir")
        .arg(dir)
        .arg("--exit-on-stdin-close")
        .arg(format!("--ready-timeout={}s", READY_TIMEOUT.as_secs()))
        .env(TOKEN_ENV, token)
        .stdout(Stdio::from(log_for_stdout))
        .stderr(Stdio::from(log));
    if let Some(port) = port {
        command.arg(format!("--secure-port={port}"));
    }
    ProcessGroup::spawn(command).map_err(|error| SandboxError::io(format!("starting {}", binary.display()), error))
}

/// The port of `https://127.0.0.1:<port>`.
fn api_port(server_url: &str) -> Option<u16> {
    server_url.rsplit_once(':')?.1.trim_end_matches('/').parse().ok()
}

fn is_port_clash(error: &SandboxError) -> bool {
    error.log().is_some_and(|log| log.contains("address already in use"))
}

/// 128 random bits, in hex: a token the API server's token file accepts as is.
pub(crate) fn random_token() -> Result<String, SandboxError> {
    let mut bytes = [0u8; 16];
    File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|error| SandboxError::io("reading /dev/urandom", error))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let first = random_token().unwrap();
        assert_eq!(first.len(), 32);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, random_token().unwrap());
    }

    #[test]
    fn the_port_is_read_from_the_server_url() {
        assert_eq!(api_port("https://127.0.0.1:40123"), Some(40123));
        assert_eq!(api_port("https://127.0.0.1:40123/"), Some(40123));
        assert_eq!(api_port("https://127.0.0.1"), None);
        assert_eq!(api_port(""), None);
    }

    #[test]
    fn only_a_bind_failure_is_retried() {
        let status = Command::new("false").status().unwrap();
        let clash = SandboxError::Exited { status, log: "listen tcp 127.0.0.1:4: bind: address already in use".into() };
        assert!(is_port_clash(&clash));
        let other = SandboxError::Exited { status, log: "invalid flag".into() };
        assert!(!is_port_clash(&other));
    }
}
