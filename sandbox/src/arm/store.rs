//! What the emulator holds: resources by id (case-insensitive), long-running operations, and the
//! log of write requests.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::address::{Address, Kind};
use super::errors::ArmError;

/// One stored resource, its body as a GET shows it (children such as subnets are added when
/// read).
#[derive(Debug, Clone)]
pub struct Resource {
    pub address: Address,
    pub body: Value,
    /// Creation order, so that subnets and pools are listed in the order they were made.
    pub sequence: u64,
    /// The operation running on it, if any.
    pub operation: Option<String>,
}

impl Resource {
    pub fn provisioning_state(&self) -> Option<&str> {
        self.body.pointer("/properties/provisioningState").and_then(Value::as_str)
    }

    pub fn set_provisioning_state(&mut self, state: &str) {
        if let Some(properties) = self.body.get_mut("properties").and_then(Value::as_object_mut) {
            properties.insert("provisioningState".into(), Value::String(state.into()));
        }
    }

    pub fn property(&self, pointer: &str) -> Option<&Value> {
        self.body.pointer(pointer)
    }

    pub fn str_property(&self, pointer: &str) -> Option<&str> {
        self.body.pointer(pointer).and_then(Value::as_str)
    }
}

/// The state of a long-running operation, as ARM's status resource reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OperationStatus {
    InProgress,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Create,
    Update,
    Delete,
}

/// One long-running operation.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub kind: OperationKind,
    pub resource: Address,
    pub namespace: &'static str,
    pub location: String,
    pub status: OperationStatus,
    pub start_time: String,
    pub end_time: Option<String>,
    pub error: Option<ArmError>,
    /// When the operation is due to finish, for the Retry-After hint.
    pub due: std::time::Instant,
}

/// One write request, as `/_emulator/operations` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteRecord {
    pub method: String,
    /// The request path (the resource id for resource writes).
    pub id: String,
    /// The HTTP status answered; 0 when the connection was dropped without an answer.
    pub status: u16,
    pub time: String,
}

/// One read request (a GET or HEAD).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadRecord {
    /// The request path, without its query.
    pub path: String,
    /// The HTTP status answered; 429 when the read bucket was empty.
    pub status: u16,
}

/// A resource as `/_emulator/resources` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSummary {
    pub id: String,
    #[serde(rename = "type")]
    pub arm_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
}

/// A role assignment (`Microsoft.Authorization/roleAssignments`), an extension resource at the
/// scope its id begins with.
#[derive(Debug, Clone)]
pub struct RoleAssignment {
    /// The scope in canonical casing: `/subscriptions/{sub}`, a group's or a resource's id.
    pub scope: String,
    /// The body a GET shows.
    pub body: Value,
    pub sequence: u64,
}

impl RoleAssignment {
    pub fn property(&self, name: &str) -> Option<&str> {
        self.body.get("properties").and_then(|properties| properties.get(name)).and_then(Value::as_str)
    }
}

#[derive(Debug, Default)]
pub struct Store {
    resources: BTreeMap<String, Resource>,
    /// By lowercased id.
    role_assignments: BTreeMap<String, RoleAssignment>,
    operations: BTreeMap<String, Operation>,
    writes: Vec<WriteRecord>,
    reads: Vec<ReadRecord>,
    sequence: u64,
}

impl Store {
    pub fn get(&self, address: &Address) -> Option<&Resource> {
        self.resources.get(&address.key())
    }

    pub fn get_mut(&mut self, address: &Address) -> Option<&mut Resource> {
        self.resources.get_mut(&address.key())
    }

    pub fn get_by_id(&self, id: &str) -> Option<&Resource> {
        self.resources.get(&id.to_ascii_lowercase())
    }

    /// Inserts or replaces a resource, keeping its creation order on replacement.
    pub fn put(&mut self, address: Address, body: Value, operation: Option<String>) {
        let key = address.key();
        let sequence = self.sequence_for(self.resources.get(&key).map(|existing| existing.sequence));
        self.resources.insert(key, Resource { address, body, sequence, operation });
    }

    /// The place in the order of creation: the replaced one's, or the next.
    fn sequence_for(&mut self, replaced: Option<u64>) -> u64 {
        replaced.unwrap_or_else(|| {
            self.sequence += 1;
            self.sequence
        })
    }

    /// Removes a resource and everything under its id (children, and for a resource group,
    /// everything in it). Returns what was removed.
    pub fn remove_tree(&mut self, address: &Address) -> Vec<Resource> {
        let key = address.key();
        let prefix = format!("{key}/");
        let keys: Vec<String> = self
            .resources
            .range(key.clone()..)
            .take_while(|(k, _)| **k == key || k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        // Azure deletes the role assignments at a scope with the scope.
        self.role_assignments.retain(|_, assignment| {
            let scope = assignment.scope.to_ascii_lowercase();
            scope != key && !scope.starts_with(&prefix)
        });
        keys.into_iter().filter_map(|k| self.resources.remove(&k)).collect()
    }

    pub fn role_assignment(&self, id: &str) -> Option<&RoleAssignment> {
        self.role_assignments.get(&id.to_ascii_lowercase())
    }

    /// Files a role assignment under its id, keeping its place in the order of creation when
    /// it replaces one.
    pub fn put_role_assignment(&mut self, id: &str, scope: String, body: Value) {
        let key = id.to_ascii_lowercase();
        let sequence = self.sequence_for(self.role_assignments.get(&key).map(|existing| existing.sequence));
        self.role_assignments.insert(key, RoleAssignment { scope, body, sequence });
    }

    pub fn remove_role_assignment(&mut self, id: &str) -> Option<RoleAssignment> {
        self.role_assignments.remove(&id.to_ascii_lowercase())
    }

    /// Every role assignment, in creation order.
    pub fn role_assignments(&self) -> Vec<&RoleAssignment> {
        let mut all: Vec<&RoleAssignment> = self.role_assignments.values().collect();
        all.sort_by_key(|assignment| assignment.sequence);
        all
    }

    /// The resources of `kind` directly under `parent`, in creation order.
    pub fn children(&self, parent: &Address, kind: Kind) -> Vec<&Resource> {
        let prefix = format!("{}/", parent.key());
        let mut children: Vec<&Resource> = self
            .resources
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, resource)| resource)
            .filter(|resource| resource.address.kind == kind && resource.address.parent().as_ref() == Some(parent))
            .collect();
        children.sort_by_key(|resource| resource.sequence);
        children
    }

    /// Every resource of `kind`, in creation order.
    pub fn all_of(&self, kind: Kind) -> Vec<&Resource> {
        let mut all: Vec<&Resource> =
            self.resources.values().filter(|resource| resource.address.kind == kind).collect();
        all.sort_by_key(|resource| resource.sequence);
        all
    }

    /// Every resource and role assignment held, in creation order.
    pub fn summaries(&self) -> Vec<ResourceSummary> {
        let resources = self.resources.values().map(|resource| {
            let summary = ResourceSummary {
                id: resource.address.id(),
                arm_type: resource.address.kind.arm_type(),
                provisioning_state: resource.provisioning_state().map(str::to_string),
            };
            (resource.sequence, summary)
        });
        let assignments = self.role_assignments.values().map(|assignment| {
            let summary = ResourceSummary {
                id: assignment.body["id"].as_str().unwrap_or_default().to_string(),
                arm_type: "Microsoft.Authorization/roleAssignments".to_string(),
                provisioning_state: None,
            };
            (assignment.sequence, summary)
        });
        let mut all: Vec<(u64, ResourceSummary)> = resources.chain(assignments).collect();
        all.sort_by_key(|(sequence, _)| *sequence);
        all.into_iter().map(|(_, summary)| summary).collect()
    }

    pub fn insert_operation(&mut self, operation: Operation) {
        self.operations.insert(operation.id.clone(), operation);
    }

    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.get(id)
    }

    pub fn operation_mut(&mut self, id: &str) -> Option<&mut Operation> {
        self.operations.get_mut(id)
    }

    /// Whether an operation is still running on the resource.
    pub fn busy(&self, address: &Address) -> bool {
        self.get(address)
            .and_then(|resource| resource.operation.as_deref())
            .and_then(|id| self.operations.get(id))
            .is_some_and(|operation| operation.status == OperationStatus::InProgress)
    }

    pub fn record_write(&mut self, record: WriteRecord) {
        self.writes.push(record);
    }

    pub fn writes(&self) -> Vec<WriteRecord> {
        self.writes.clone()
    }

    pub fn record_read(&mut self, record: ReadRecord) {
        self.reads.push(record);
    }

    pub fn reads(&self) -> Vec<ReadRecord> {
        self.reads.clone()
    }
}
