//! State: what aksform has created, as last recorded. A versioned JSON document with a
//! serial (incremented on every write) and a lineage (fixed when the state is first made,
//! so that a state of another stack is never mistaken for this one).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Address, Value};

/// The state format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub serial: u64,
    pub lineage: String,
    /// The stack name the state belongs to.
    pub stack: String,
    /// The aksform version that wrote the state.
    pub aksform_version: String,
    pub resources: Vec<ResourceState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    pub address: Address,
    /// The id of the object in its provider: an ARM resource id, or
    /// `k8s://<cluster address>/<api version>/<kind>/<namespace>/<name>` for Kubernetes objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// Recorded field values, including computed ones (`address`, `fqdn`).
    pub attributes: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Address>,
}

impl State {
    /// A new, empty state for a stack, with a fresh lineage.
    pub fn new(stack: &str) -> Self {
        State {
            version: FORMAT_VERSION,
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            stack: stack.to_string(),
            aksform_version: env!("CARGO_PKG_VERSION").to_string(),
            resources: Vec::new(),
        }
    }

    pub fn get(&self, address: &Address) -> Option<&ResourceState> {
        self.resources.iter().find(|r| &r.address == address)
    }
}
