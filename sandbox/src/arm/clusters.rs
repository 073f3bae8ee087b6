//! The real Kubernetes control planes behind the managed clusters, one per cluster, owned by the
//! emulator and stopped with it.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::{ControlPlane, SandboxError};

use super::state::lock;

#[derive(Default)]
struct Planes {
    by_cluster: HashMap<String, ControlPlane>,
    /// Set when the emulator stops: a plane that finishes starting afterwards is stopped at once.
    closed: bool,
}

#[derive(Default)]
pub struct ControlPlanes {
    planes: Mutex<Planes>,
    /// The clusters whose cloud-controller loop runs.
    watched: Mutex<HashSet<String>>,
}

/// How to reach one cluster's API server.
#[derive(Clone)]
pub struct ClusterAccess {
    pub kubeconfig: String,
}

impl ControlPlanes {
    /// Starts the control plane of a cluster (keyed by its lowercased id) unless it runs
    /// already. Blocks for seconds: call it off the async runtime.
    pub fn ensure_started(&self, cluster_key: &str) -> Result<(), SandboxError> {
        if lock(&self.planes).by_cluster.contains_key(cluster_key) {
            return Ok(());
        }
        let plane = ControlPlane::start()?;
        let mut planes = lock(&self.planes);
        if planes.closed {
            drop(planes);
            let _ = plane.stop();
            return Ok(());
        }
        planes.by_cluster.insert(cluster_key.to_string(), plane);
        Ok(())
    }

    pub fn access(&self, cluster_key: &str) -> Option<ClusterAccess> {
        lock(&self.planes)
            .by_cluster
            .get(cluster_key)
            .map(|plane| ClusterAccess { kubeconfig: plane.kubeconfig_yaml().to_string() })
    }

    /// Takes a cluster's control plane out, for the caller to stop.
    pub fn take(&self, cluster_key: &str) -> Option<ControlPlane> {
        lock(&self.planes).by_cluster.remove(cluster_key)
    }

    /// Takes every control plane out and refuses new ones.
    pub fn close(&self) -> Vec<ControlPlane> {
        let mut planes = lock(&self.planes);
        planes.closed = true;
        planes.by_cluster.drain().map(|(_, plane)| plane).collect()
    }

    /// Claims the cloud-controller loop of a cluster; false when it runs already.
    pub fn begin_watch(&self, cluster_key: &str) -> bool {
        lock(&self.watched).insert(cluster_key.to_string())
    }

    pub fn end_watch(&self, cluster_key: &str) {
        lock(&self.watched).remove(cluster_key);
    }

    pub fn count(&self) -> usize {
        lock(&self.planes).by_cluster.len()
    }
}
