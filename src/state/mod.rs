//! State: what aksform has created, as last recorded. A versioned JSON document with a
//! serial (incremented on every write) and a lineage (fixed when the state is first made,
//! so that a state of another stack is never mistaken for this one).

pub mod backend;
pub mod blob;
pub mod document;
pub mod error;
pub mod journal;
pub mod local;
pub mod ops;
pub mod sas;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Address, Kind, Value};

pub use backend::{Backend, LockGuard, LockInfo};
pub use blob::{BlobAuth, BlobBackend, BlobLocation};
pub use error::StateError;
pub use local::LocalBackend;

/// The state format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

// Unknown fields are refused rather than ignored: reading and rewriting a state would
// otherwise silently drop whatever they held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub version: u32,
    pub serial: u64,
    pub lineage: String,
    /// The stack name the state belongs to.
    pub stack: String,
    /// The aksform version that wrote the state.
    pub aksform_version: String,
    /// Kept in [`address_order`] so that diffs of the file stay small and readable.
    pub resources: Vec<ResourceState>,
    /// The existing resources the stack uses (never managed), as last read: an offline plan
    /// checks against them. `provider_id` is the id they were read at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub existing: Vec<ResourceState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

impl ResourceState {
    /// A resource with nothing recorded yet but its address.
    pub fn new(address: Address) -> Self {
        ResourceState { address, provider_id: None, attributes: BTreeMap::new(), dependencies: Vec::new() }
    }
}

/// The order resources are kept in: by kind then name, each parent directly followed by
/// its children (`vnet.a`, `vnet.a.subnet.x`, `vnet.b`), so that a resource's whole
/// family reads as one block.
pub fn address_order(a: &Address, b: &Address) -> Ordering {
    address_key(a).cmp(&address_key(b))
}

/// What [`address_order`] compares, for sorting by a key made once per address.
pub fn address_key(address: &Address) -> (Kind, &str, Option<(Kind, &str)>) {
    match &address.parent {
        None => (address.kind, address.name.as_str(), None),
        Some((kind, name)) => (*kind, name.as_str(), Some((address.kind, address.name.as_str()))),
    }
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
            existing: Vec::new(),
        }
    }

    pub fn get(&self, address: &Address) -> Option<&ResourceState> {
        self.resources.iter().find(|r| &r.address == address)
    }

    pub fn get_mut(&mut self, address: &Address) -> Option<&mut ResourceState> {
        self.resources.iter_mut().find(|r| &r.address == address)
    }

    pub fn contains(&self, address: &Address) -> bool {
        self.get(address).is_some()
    }

    /// Every recorded address, in [`address_order`] when the resources are sorted.
    pub fn addresses(&self) -> impl Iterator<Item = &Address> {
        self.resources.iter().map(|r| &r.address)
    }

    /// Records `resource`, replacing what was recorded at its address. Returns the
    /// replaced record, if any. Keeps the resources sorted.
    pub fn upsert(&mut self, resource: ResourceState) -> Option<ResourceState> {
        if let Some(existing) = self.get_mut(&resource.address) {
            return Some(std::mem::replace(existing, resource));
        }
        let at = self.resources.partition_point(|r| address_order(&r.address, &resource.address) == Ordering::Less);
        self.resources.insert(at, resource);
        None
    }

    /// Forgets the resource at `address` (only that one: see [`ops::remove`] for a
    /// resource and its children). Returns what was recorded.
    pub fn remove(&mut self, address: &Address) -> Option<ResourceState> {
        let at = self.resources.iter().position(|r| &r.address == address)?;
        Some(self.resources.remove(at))
    }

    /// Puts the resources in [`address_order`].
    pub fn sort_resources(&mut self) {
        self.resources.sort_by(|a, b| address_order(&a.address, &b.address));
    }

    /// The serial the next write of this state must carry.
    pub fn next_serial(&self) -> u64 {
        // At one write per millisecond, u64 lasts longer than the universe; saturating keeps
        // the arithmetic panic-free, and a stuck serial is then refused by the backend.
        self.serial.saturating_add(1)
    }

    /// Prepares the state to be written: takes the next serial, records this aksform's
    /// version and sorts the resources. Call once before each [`Backend::write`].
    pub fn commit(&mut self) {
        self.serial = self.next_serial();
        self.aksform_version = env!("CARGO_PKG_VERSION").to_string();
        self.sort_resources();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Address {
        text.parse().unwrap()
    }

    #[test]
    fn upsert_keeps_parents_followed_by_their_children() {
        let mut state = State::new("shop");
        for text in ["vnet.b", "vnet.a.subnet.x", "resource_group.rg", "vnet.a", "cluster.k", "vnet.a.peering.p"] {
            assert!(state.upsert(ResourceState::new(address(text))).is_none());
        }
        let order: Vec<String> = state.addresses().map(ToString::to_string).collect();
        assert_eq!(
            order,
            ["resource_group.rg", "vnet.a", "vnet.a.subnet.x", "vnet.a.peering.p", "vnet.b", "cluster.k"]
        );
    }

    #[test]
    fn upsert_replaces_and_returns_the_previous_record() {
        let mut state = State::new("shop");
        let mut first = ResourceState::new(address("vnet.a"));
        first.provider_id = Some("one".into());
        state.upsert(first.clone());
        let mut second = first.clone();
        second.provider_id = Some("two".into());
        assert_eq!(state.upsert(second.clone()), Some(first));
        assert_eq!(state.resources, vec![second]);
    }

    #[test]
    fn get_mut_and_remove_find_by_address() {
        let mut state = State::new("shop");
        state.upsert(ResourceState::new(address("vnet.a")));
        state.get_mut(&address("vnet.a")).unwrap().provider_id = Some("id".into());
        assert_eq!(state.get(&address("vnet.a")).unwrap().provider_id.as_deref(), Some("id"));
        assert!(state.remove(&address("vnet.a")).is_some());
        assert!(state.remove(&address("vnet.a")).is_none());
        assert!(!state.contains(&address("vnet.a")));
    }

    #[test]
    fn commit_takes_the_next_serial_and_sorts() {
        let mut state = State::new("shop");
        state.resources.push(ResourceState::new(address("vnet.b")));
        state.resources.push(ResourceState::new(address("vnet.a")));
        assert_eq!(state.next_serial(), 1);
        state.commit();
        assert_eq!(state.serial, 1);
        assert_eq!(state.resources[0].address, address("vnet.a"));
        state.serial = u64::MAX;
        assert_eq!(state.next_serial(), u64::MAX);
    }
}
