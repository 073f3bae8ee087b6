//! Long-running operations: started by a PUT or DELETE, polled through Azure-AsyncOperation
//! (status resource) or Location (202 until done), finished after the type's latency, ending
//! Succeeded or Failed (with an injected error, or when a cluster's control plane fails).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};

use super::address::Address;
use super::errors::ArmError;
use super::faults::OperationFilter;
use super::identity::RESOURCES_NAMESPACE;
use super::resources;
use super::state::{Shared, lock};
use super::store::{Operation, OperationKind, OperationStatus, Store};
use crate::ControlPlane;

pub fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// Starts an operation on `address`: records it, marks the resource busy, and schedules its end.
/// Returns the operation id.
pub fn begin(
    shared: &Arc<Shared>,
    store: &mut Store,
    address: &Address,
    kind: OperationKind,
    location: &str,
) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let arm_type = address.kind.arm_type();
    let filter = match kind {
        OperationKind::Create => OperationFilter::Create,
        OperationKind::Update => OperationFilter::Update,
        OperationKind::Delete => OperationFilter::Delete,
    };
    let failure = lock(&shared.faults).on_operation(&arm_type, &address.id(), filter);
    let delay = match kind {
        OperationKind::Update => lock(&shared.latency).of_update(&arm_type),
        OperationKind::Create | OperationKind::Delete => lock(&shared.latency).of(&arm_type),
    };
    store.insert_operation(Operation {
        id: id.clone(),
        kind,
        resource: address.clone(),
        namespace: address.kind.identity().namespace,
        location: if location.is_empty() { "global".to_string() } else { location.to_string() },
        status: OperationStatus::InProgress,
        start_time: now(),
        end_time: None,
        error: None,
        due: Instant::now() + delay,
    });
    if let Some(resource) = store.get_mut(address) {
        resource.operation = Some(id.clone());
    }
    let shared = Arc::clone(shared);
    let operation = id.clone();
    // A cluster's control plane starts while the operation's latency runs, so that the latency
    // is the operation's duration whenever it is the longer of the two.
    let needs_plane = resources::has_control_plane(address.kind) && kind != OperationKind::Delete && failure.is_none();
    let cluster = address.clone();
    tokio::spawn(async move {
        let plane = async {
            match needs_plane {
                true => start_control_plane(&shared, &cluster).await.err(),
                false => None,
            }
        };
        let ((), plane_failure) = tokio::join!(tokio::time::sleep(delay), plane);
        finish(shared, operation, failure.or(plane_failure)).await;
    });
    id
}

/// The URL of the operation's status resource (Azure-AsyncOperation).
pub fn async_operation_url(base_url: &str, operation: &Operation) -> String {
    let subscription = &operation.resource.subscription;
    let version = operation.resource.kind.pinned_api_version();
    format!(
        "{base_url}/subscriptions/{subscription}/providers/{}/locations/{}/operations/{}?api-version={version}",
        operation.namespace, operation.location, operation.id
    )
}

/// The URL that answers 202 until the operation ends (Location).
pub fn location_url(base_url: &str, operation: &Operation) -> String {
    let subscription = &operation.resource.subscription;
    let version = operation.resource.kind.pinned_api_version();
    if operation.namespace == RESOURCES_NAMESPACE {
        return format!(
            "{base_url}/subscriptions/{subscription}/operationresults/{}?api-version={version}",
            operation.id
        );
    }
    format!(
        "{base_url}/subscriptions/{subscription}/providers/{}/locations/{}/operationresults/{}?api-version={version}",
        operation.namespace, operation.location, operation.id
    )
}

/// Retry-After in whole seconds (at least 1 while running) and `retry-after-ms`, which Azure's
/// SDKs prefer when present: the time the operation still needs, and a little more so that the
/// next poll finds it done.
pub fn retry_headers(headers: &mut HeaderMap, operation: &Operation) {
    let remaining = match operation.due.checked_duration_since(Instant::now()) {
        Some(remaining) => remaining + POLL_SLACK,
        // Past its latency, a cluster operation waits for its control plane: seconds.
        None if resources::has_control_plane(operation.resource.kind) => Duration::from_millis(500),
        None => POLL_SLACK,
    };
    let seconds = remaining.as_secs_f64().ceil().max(1.0) as u64;
    insert(headers, "retry-after", &seconds.to_string());
    insert(headers, "retry-after-ms", &remaining.as_millis().to_string());
}

/// How long after an operation's end a client told to poll then arrives.
const POLL_SLACK: Duration = Duration::from_millis(10);

pub fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// The headers of a 201/202 that starts an operation.
pub fn start_headers(base_url: &str, operation: &Operation, with_location: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    insert(&mut headers, "azure-asyncoperation", &async_operation_url(base_url, operation));
    if with_location {
        insert(&mut headers, "location", &location_url(base_url, operation));
    }
    retry_headers(&mut headers, operation);
    headers
}

/// The status resource a GET of the Azure-AsyncOperation URL returns.
pub fn status_body(base_url: &str, operation: &Operation) -> Value {
    let url = async_operation_url(base_url, operation);
    let id = url.strip_prefix(base_url).and_then(|path| path.split('?').next()).unwrap_or(&operation.id).to_string();
    let mut body = json!({
        "id": id,
        "name": operation.id,
        "status": operation.status,
        "startTime": operation.start_time,
    });
    if let Some(end) = &operation.end_time {
        body["endTime"] = json!(end);
    }
    if let Some(error) = &operation.error {
        body["error"] = serde_json::to_value(error).unwrap_or_default();
    }
    body
}

/// What a GET of the Location URL answers: 202 while running, then 204 (or the ARM error of a
/// failed operation, with its status).
pub fn location_response(operation: &Operation) -> (StatusCode, Option<Value>) {
    match operation.status {
        OperationStatus::InProgress => (StatusCode::ACCEPTED, None),
        OperationStatus::Succeeded => (StatusCode::NO_CONTENT, None),
        OperationStatus::Failed => {
            let error = operation
                .error
                .clone()
                .unwrap_or_else(|| ArmError::bad_request("OperationFailed", "The operation failed."));
            let status = if error.status.is_client_error() || error.status.is_server_error() {
                error.status
            } else {
                StatusCode::BAD_REQUEST
            };
            (status, Some(error.body()))
        }
    }
}

async fn finish(shared: Arc<Shared>, operation_id: String, failure: Option<ArmError>) {
    let Some(operation) = shared.store().operation(&operation_id).cloned() else { return };
    let address = operation.resource.clone();
    match operation.kind {
        OperationKind::Create | OperationKind::Update => {
            let state = if failure.is_some() { "Failed" } else { "Succeeded" };
            // A cluster deleted (with its group) while its control plane started leaves none behind.
            let orphan = {
                let mut store = shared.store();
                let gone = resources::has_control_plane(address.kind) && store.get(&address).is_none();
                if gone {
                    end(&mut store, &operation_id, failure.clone());
                }
                gone.then(|| shared.planes.take(&address.key()))
            };
            if let Some(orphan) = orphan {
                stop_planes(orphan.into_iter().collect()).await;
                return;
            }
            let mut store = shared.store();
            if let Some(resource) = store.get_mut(&address)
                && resource.operation.as_deref() == Some(operation_id.as_str())
            {
                resource.set_provisioning_state(state);
                resource.operation = None;
            }
            resources::on_succeeded(&mut store, &address, state);
            end(&mut store, &operation_id, failure);
        }
        OperationKind::Delete => {
            if failure.is_some() {
                let mut store = shared.store();
                if let Some(resource) = store.get_mut(&address) {
                    resource.set_provisioning_state("Failed");
                    resource.operation = None;
                }
                end(&mut store, &operation_id, failure);
                return;
            }
            let planes = {
                let mut store = shared.store();
                let planes = remove(&shared, &mut store, &address);
                end(&mut store, &operation_id, None);
                planes
            };
            stop_planes(planes).await;
        }
    }
}

fn end(store: &mut Store, operation_id: &str, failure: Option<ArmError>) {
    if let Some(operation) = store.operation_mut(operation_id) {
        operation.status = if failure.is_some() { OperationStatus::Failed } else { OperationStatus::Succeeded };
        operation.end_time = Some(now());
        operation.error = failure;
    }
}

/// Removes a resource with everything under it, and what AKS removes with a cluster (its node
/// resource group). Returns the control planes to stop.
pub fn remove(shared: &Shared, store: &mut Store, address: &Address) -> Vec<ControlPlane> {
    let mut removed = store.remove_tree(address);
    let mut planes = Vec::new();
    let mut index = 0;
    while index < removed.len() {
        let clusters = resources::removed_clusters(&removed[index..]);
        index = removed.len();
        for (cluster, node_group) in clusters {
            planes.extend(shared.planes.take(&cluster.key()));
            if let Some(node_group) = node_group {
                removed.extend(store.remove_tree(&node_group));
            }
        }
    }
    resources::after_remove(store, &removed);
    planes
}

pub async fn stop_planes(planes: Vec<ControlPlane>) {
    if planes.is_empty() {
        return;
    }
    let _ = tokio::task::spawn_blocking(move || {
        for plane in planes {
            let _ = plane.stop();
        }
    })
    .await;
}

/// Starts the cluster's control plane off the async runtime and deploys or removes its
/// application routing add-on; AKS reports Succeeded only once the API server answers and the
/// add-on is as asked.
async fn start_control_plane(shared: &Arc<Shared>, cluster: &Address) -> Result<(), ArmError> {
    let key = cluster.key();
    let planes = Arc::clone(shared);
    let started = tokio::task::spawn_blocking(move || planes.planes.ensure_started(&key)).await;
    match started {
        Ok(Ok(())) => {
            super::cloud_controller::watch_cluster(shared, cluster);
            super::app_routing::converge(shared, cluster).await.map_err(|error| {
                ArmError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "AddonDeploymentFailed",
                    format!("The application routing add-on could not be deployed or removed: {error}"),
                )
            })
        }
        Ok(Err(error)) => Err(ArmError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ControlPlaneStartFailed",
            format!("The cluster's Kubernetes control plane did not start: {error}"),
        )),
        Err(error) => {
            Err(ArmError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalOperationError", error.to_string()))
        }
    }
}
