//! [`Emulator`]: the ARM emulator running on its own thread and runtime, with the controls
//! tests use in-process (faults, latencies, throttling, what it holds).

use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use super::caller::{CallerRole, CallerRoles};
use super::clusters::ControlPlanes;
use super::faults::{Fault, Faults};
use super::resources;
use super::server;
use super::state::{LatencySettings, Shared, lock};
use super::store::{ReadRecord, ResourceSummary, Store, WriteRecord};
use super::throttle::{Throttle, ThrottleSettings};
use crate::SandboxError;

/// How the emulator starts.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// The loopback port; 0 picks a free one.
    pub port: u16,
    /// The bearer token clients must send; a random one when `None`.
    pub token: Option<String>,
    pub latency: LatencySettings,
    pub throttle: ThrottleSettings,
    /// How many resources one page of a list operation holds (at least 1); the rest follow
    /// through `nextLink`.
    pub page_size: usize,
    /// Whether the clusters' cloud provider needs role assignments, as on Azure: a
    /// LoadBalancer Service whose frontend joins a public IP or a subnet outside the cluster's
    /// node resource group needs its identity to hold a role granting the join action there
    /// (`LinkedAuthorizationFailed` otherwise). On by default, as on Azure.
    pub authorization: bool,
}

/// The page size of list operations unless the options say otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 100;

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            port: 0,
            token: None,
            latency: LatencySettings::default(),
            throttle: ThrottleSettings::default(),
            page_size: DEFAULT_PAGE_SIZE,
            authorization: true,
        }
    }
}

/// A running ARM emulator on `127.0.0.1`. Dropping it stops the server and every control plane
/// it started.
pub struct Emulator {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    pub fn start(options: EmulatorOptions) -> Result<Emulator, SandboxError> {
        let listener = StdListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, options.port)))
            .map_err(|error| SandboxError::io(format!("binding 127.0.0.1:{}", options.port), error))?;
        listener.set_nonblocking(true).map_err(|error| SandboxError::io("configuring the emulator's socket", error))?;
        let port =
            listener.local_addr().map_err(|error| SandboxError::io("reading the emulator's port", error))?.port();
        let token = match options.token {
            Some(token) => token,
            None => crate::control_plane::random_token()?,
        };
        let shared = Arc::new(Shared {
            base_url: format!("http://127.0.0.1:{port}"),
            token,
            store: Mutex::new(Store::default()),
            faults: Mutex::new(Faults::default()),
            throttle: Mutex::new(Throttle::new(options.throttle)),
            latency: Mutex::new(options.latency),
            planes: ControlPlanes::default(),
            page_size: options.page_size.max(1),
            authorization: options.authorization,
            caller: Mutex::new(CallerRoles::default()),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("aksform-arm-emulator")
            .enable_all()
            .build()
            .map_err(|error| SandboxError::io("starting the emulator's runtime", error))?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let router = server::router(Arc::clone(&shared));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("aksform-arm-emulator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let _ = ready_tx.send(Ok(()));
                            server::serve(listener, router, shutdown_rx).await;
                        }
                        Err(error) => {
                            let _ = ready_tx.send(Err(error));
                        }
                    }
                });
                // Control planes still starting finish on their own and are stopped at once.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(|error| SandboxError::io("starting the emulator's thread", error))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(SandboxError::io("listening on the emulator's socket", error)),
            Err(_) => {
                return Err(SandboxError::io(
                    "starting the emulator",
                    std::io::Error::other("the server thread ended"),
                ));
            }
        }
        Ok(Emulator { shared, shutdown, thread: Some(thread) })
    }

    /// `http://127.0.0.1:<port>`: the ARM endpoint.
    pub fn url(&self) -> &str {
        &self.shared.base_url
    }

    /// The bearer token it accepts.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The environment that points aksform at this emulator.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AKSFORM_ARM_ENDPOINT", self.url().to_string()),
            ("AKSFORM_AUTH", "access-token".to_string()),
            ("AKSFORM_ACCESS_TOKEN", self.token().to_string()),
        ]
    }

    pub fn inject_fault(&self, fault: Fault) {
        lock(&self.shared.faults).inject(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// The faults still armed.
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.shared.faults).armed()
    }

    pub fn set_latency(&self, latency: LatencySettings) {
        *lock(&self.shared.latency) = latency;
    }

    /// How long the long-running operations of one ARM type take from now on.
    pub fn set_type_latency(&self, arm_type: &str, latency: Duration) {
        let millis = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        lock(&self.shared.latency).types.insert(arm_type.to_string(), millis);
    }

    pub fn set_throttle(&self, throttle: ThrottleSettings) {
        lock(&self.shared.throttle).set(throttle);
    }

    /// Limits the bearer token's principal to `roles` (a built-in role's name or id, and its
    /// scope), besides the role assignments made to it; `None` makes it Owner of the
    /// subscription again, as it starts.
    pub fn set_caller_roles(&self, roles: Option<&[(&str, &str)]>) {
        let roles = roles.map(|roles| {
            roles.iter().map(|(role, scope)| CallerRole { role: role.to_string(), scope: scope.to_string() }).collect()
        });
        *lock(&self.shared.caller) = CallerRoles { roles };
    }

    /// Every resource held, in creation order.
    pub fn resources(&self) -> Vec<ResourceSummary> {
        self.shared.store().summaries()
    }

    /// A resource (or role assignment) as a GET shows it.
    pub fn resource(&self, id: &str) -> Option<Value> {
        let store = self.shared.store();
        store
            .get_by_id(id)
            .map(|resource| resources::render(&store, resource))
            .or_else(|| store.role_assignment(id).map(|assignment| assignment.body.clone()))
    }

    /// The log of write requests.
    pub fn operations(&self) -> Vec<WriteRecord> {
        self.shared.store().writes()
    }

    /// The log of read requests (control requests to `/_emulator` aside).
    pub fn reads(&self) -> Vec<ReadRecord> {
        self.shared.store().reads()
    }

    /// How many cluster control planes are running.
    pub fn control_plane_count(&self) -> usize {
        self.shared.planes.count()
    }

    /// Stops the server and every control plane.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let planes = self.shared.planes.close();
        std::thread::scope(|scope| {
            for plane in planes {
                scope.spawn(move || {
                    let _ = plane.stop();
                });
            }
        });
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shut_down();
    }
}

impl std::fmt::Debug for Emulator {
    /// Leaves out the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("url", &self.shared.base_url).finish_non_exhaustive()
    }
}
