//! The state every request handler shares: the store, the armed faults, the throttle, the
//! operation latencies, the caller's roles and the clusters' control planes.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::caller::CallerRoles;
use super::clusters::ControlPlanes;
use super::faults::Faults;
use super::store::Store;
use super::throttle::Throttle;

/// How long long-running operations take, per resource type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencySettings {
    /// For every type not listed in `types`.
    #[serde(default)]
    pub default_ms: u64,
    /// By ARM type (e.g. `Microsoft.Network/virtualNetworks`, any casing).
    #[serde(default)]
    pub types: BTreeMap<String, u64>,
    /// By ARM type, an update's (a PUT on a resource that exists) where it is not the
    /// create's: on AKS an agent pool's update is an operation of its own, minutes long, even
    /// when nothing in the pool changes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub updates: BTreeMap<String, u64>,
}

impl Default for LatencySettings {
    /// Short enough for tests, long enough that clients see an operation in progress.
    fn default() -> Self {
        LatencySettings { default_ms: 50, types: BTreeMap::new(), updates: BTreeMap::new() }
    }
}

impl LatencySettings {
    /// A create's or a delete's.
    pub fn of(&self, arm_type: &str) -> Duration {
        Duration::from_millis(by_type(&self.types, arm_type).unwrap_or(self.default_ms))
    }

    /// An update's: its own where one is set, else the create's.
    pub fn of_update(&self, arm_type: &str) -> Duration {
        by_type(&self.updates, arm_type).map_or_else(|| self.of(arm_type), Duration::from_millis)
    }
}

fn by_type(latencies: &BTreeMap<String, u64>, arm_type: &str) -> Option<u64> {
    latencies.iter().find(|(name, _)| name.eq_ignore_ascii_case(arm_type)).map(|(_, ms)| *ms)
}

pub struct Shared {
    /// `http://127.0.0.1:<port>`, the base of the polling URLs.
    pub base_url: String,
    pub token: String,
    pub store: Mutex<Store>,
    pub faults: Mutex<Faults>,
    pub throttle: Mutex<Throttle>,
    pub latency: Mutex<LatencySettings>,
    pub planes: ControlPlanes,
    /// Resources per page of a list operation.
    pub page_size: usize,
    /// Whether the cloud-controller loop checks role assignments (`EmulatorOptions::authorization`).
    pub authorization: bool,
    /// The roles the bearer token's principal holds besides its role assignments.
    pub caller: Mutex<CallerRoles>,
}

/// Locks a mutex; a handler that panicked while holding it leaves data that is still usable
/// (every change is made in one step), so poisoning is ignored.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }
}
