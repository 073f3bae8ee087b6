//! The ARM requests: api-version check, then GET, PUT, PATCH (tags), DELETE and HEAD of
//! resources, list operations and provider reads (`listing.rs`, `providers.rs`), the cluster
//! credential actions, and the polling URLs of operations.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use super::address::{Address, Kind, Target, no_such_type, parse_path, unknown_type};
use super::errors::ArmError;
use super::lro;
use super::resources::{self, PutContext};
use super::state::Shared;
use super::store::{OperationKind, Store};

pub async fn arm(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(&shared, &method, &uri, &headers, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn handle(
    shared: &Arc<Shared>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ArmError> {
    let path = uri.path();
    let target = parse_path(path).ok_or_else(|| no_such_type(path))?;
    check_api_version(uri, &target)?;
    match target {
        Target::Resource(address) => match *method {
            Method::GET => get(shared, &address),
            Method::HEAD => head(shared, &address),
            Method::PUT => put(shared, address, headers, body),
            Method::PATCH => patch(shared, &address, body),
            Method::DELETE => delete(shared, &address).await,
            _ => Err(method_not_allowed(method)),
        },
        Target::List(listing) if *method == Method::GET => super::listing::list(shared, uri, &listing),
        Target::Authorization(path) => super::authorization::handle(shared, method, uri, body, &path),
        Target::Providers { subscription, namespace } if *method == Method::GET => {
            super::providers::read(shared, uri, &subscription, namespace.as_deref())
        }
        Target::ListCredential { cluster, admin } if *method == Method::POST => {
            list_credential(shared, &cluster, admin)
        }
        Target::AsyncOperation { id, .. } if *method == Method::GET => {
            let store = shared.store();
            let operation = store.operation(&id).ok_or_else(|| operation_not_found(&id))?;
            let mut headers = HeaderMap::new();
            if operation.status == super::store::OperationStatus::InProgress {
                lro::retry_headers(&mut headers, operation);
            }
            Ok((headers, axum::Json(lro::status_body(&shared.base_url, operation))).into_response())
        }
        Target::OperationResult { id, .. } if *method == Method::GET => {
            let store = shared.store();
            let operation = store.operation(&id).ok_or_else(|| operation_not_found(&id))?;
            let (status, body) = lro::location_response(operation);
            let mut headers = HeaderMap::new();
            if status == StatusCode::ACCEPTED {
                lro::insert(&mut headers, "location", &lro::location_url(&shared.base_url, operation));
                lro::retry_headers(&mut headers, operation);
            }
            Ok(match body {
                Some(body) => (status, headers, axum::Json(body)).into_response(),
                None => (status, headers).into_response(),
            })
        }
        _ => Err(method_not_allowed(method)),
    }
}

fn check_api_version(uri: &Uri, target: &Target) -> Result<(), ArmError> {
    let given = uri.query().unwrap_or("").split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        key.eq_ignore_ascii_case("api-version").then(|| value.to_string())
    });
    let Some(given) = given.filter(|version| !version.is_empty()) else {
        return Err(ArmError::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let mut supported: Vec<&str> = match target {
        Target::Resource(address) => address.kind.identity().api_versions.to_vec(),
        Target::ListCredential { .. } => Kind::ManagedCluster.identity().api_versions.to_vec(),
        Target::List(listing) => listing.kinds[0].identity().api_versions.to_vec(),
        Target::Providers { .. } => Kind::ResourceGroup.identity().api_versions.to_vec(),
        Target::Authorization(path) => path.api_versions().to_vec(),
        // Polling URLs carry the api-version of the type whose operation they follow.
        Target::AsyncOperation { .. } | Target::OperationResult { .. } => Kind::api_versions(),
        // No version serves a type the emulator does not have.
        Target::UnknownType { namespace, type_name } => return Err(unknown_type(namespace, type_name, &given)),
    };
    if supported.contains(&given.as_str()) {
        return Ok(());
    }
    supported.sort_unstable_by(|a, b| b.cmp(a));
    Err(ArmError::bad_request(
        "InvalidApiVersionParameter",
        format!("The api-version '{given}' is invalid. The supported versions are '{}'.", supported.join(",")),
    ))
}

fn method_not_allowed(method: &Method) -> ArmError {
    ArmError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "HttpMethodNotSupported",
        format!("The requested resource does not support http method '{method}'."),
    )
}

fn operation_not_found(id: &str) -> ArmError {
    ArmError::new(StatusCode::NOT_FOUND, "OperationNotFound", format!("The operation '{id}' was not found."))
}

/// The group must exist (ARM answers for it before the provider), then the parent.
pub(super) fn check_ancestors(store: &Store, address: &Address) -> Result<(), ArmError> {
    if address.kind != Kind::ResourceGroup && store.get(&address.group()).is_none() {
        return Err(ArmError::resource_group_not_found(&address.resource_group));
    }
    if let Some(parent) = address.parent()
        && store.get(&parent).is_none()
    {
        return Err(ArmError::parent_not_found(&parent.kind.arm_type(), parent.name()));
    }
    Ok(())
}

pub(super) fn not_found(address: &Address) -> ArmError {
    if address.kind == Kind::ResourceGroup {
        return ArmError::resource_group_not_found(&address.resource_group);
    }
    ArmError::resource_not_found(&address.kind.arm_type(), &address.names.join("/"), &address.resource_group)
}

fn get(shared: &Arc<Shared>, address: &Address) -> Result<Response, ArmError> {
    let store = shared.store();
    check_ancestors(&store, address)?;
    let resource = store.get(address).ok_or_else(|| not_found(address))?;
    Ok(with_etag(resources::render(&store, resource)))
}

fn head(shared: &Arc<Shared>, address: &Address) -> Result<Response, ArmError> {
    let exists = shared.store().get(address).is_some();
    Ok(if exists { StatusCode::NO_CONTENT } else { StatusCode::NOT_FOUND }.into_response())
}

/// A body with an etag also carries it as the ETag header, as ARM requires.
fn with_etag(body: Value) -> Response {
    with_status_and_etag(StatusCode::OK, HeaderMap::new(), body)
}

fn with_status_and_etag(status: StatusCode, mut headers: HeaderMap, body: Value) -> Response {
    if let Some(etag) = body.get("etag").or_else(|| body.get("eTag")).and_then(Value::as_str) {
        lro::insert(&mut headers, "etag", etag);
    }
    (status, headers, axum::Json(body)).into_response()
}

pub(super) fn parse_body(body: &Bytes) -> Result<Value, ArmError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ArmError::bad_request(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: the body is empty.",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        ArmError::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{error}'."),
        )
    })?;
    if !value.is_object() {
        return Err(ArmError::bad_request(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: the body must be a JSON object.",
        ));
    }
    Ok(value)
}

/// If-Match and If-None-Match, as ARM's optimistic concurrency has them.
fn check_preconditions(headers: &HeaderMap, existing: Option<&Value>) -> Result<(), ArmError> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    let current = existing.and_then(|body| body.get("etag").or_else(|| body.get("eTag"))).and_then(Value::as_str);
    let failed = |message: String| ArmError::new(StatusCode::PRECONDITION_FAILED, "PreconditionFailed", message);
    if let Some(wanted) = header("if-match") {
        let matches = match (wanted, existing, current) {
            ("*", Some(_), _) => true,
            (wanted, _, Some(current)) => wanted == current,
            _ => false,
        };
        if !matches {
            return Err(failed(format!(
                "The If-Match condition '{wanted}' does not match the resource's current etag."
            )));
        }
    }
    if header("if-none-match") == Some("*") && existing.is_some() {
        return Err(failed("The resource exists already and the request said If-None-Match: *.".to_string()));
    }
    Ok(())
}

/// The location an operation is filed under: the resource's, or its parent's.
fn location_of(store: &Store, address: &Address, body: &Value) -> String {
    if let Some(location) = body.get("location").and_then(Value::as_str) {
        return location.to_string();
    }
    let mut current = address.parent();
    while let Some(parent) = current {
        if let Some(location) = store.get(&parent).and_then(|p| p.str_property("/location")) {
            return location.to_string();
        }
        current = parent.parent();
    }
    store.get(&address.group()).and_then(|group| group.str_property("/location")).unwrap_or("global").to_string()
}

/// The operations that block a write: one on the resource itself, and for a cluster and its
/// pools, one on the other side.
fn check_busy(store: &Store, address: &Address) -> Result<(), ArmError> {
    if store.busy(address) {
        return Err(ArmError::operation_not_allowed(&address.id()));
    }
    if let Some(neighbour) = resources::busy_neighbour(store, address) {
        return Err(ArmError::operation_not_allowed(&neighbour.id()));
    }
    Ok(())
}

/// Keeps the names a resource (and its resource group) were created with.
fn canonical(store: &Store, address: Address) -> Address {
    if let Some(existing) = store.get(&address) {
        return existing.address.clone();
    }
    let mut address = address;
    if let Some(group) = store.get(&address.group()) {
        address.resource_group = group.address.resource_group.clone();
    }
    if let Some(parent) = address.parent().and_then(|parent| store.get(&parent)) {
        let own = address.names.last().cloned().unwrap_or_default();
        address.names = parent.address.names.clone();
        address.names.push(own);
    }
    address
}

fn put(shared: &Arc<Shared>, address: Address, headers: &HeaderMap, body: &Bytes) -> Result<Response, ArmError> {
    resources::check_writable(&address)?;
    let body = parse_body(body)?;
    address.kind.identity().name_rule.check(address.name())?;
    let mut store = shared.store();
    check_ancestors(&store, &address)?;
    let address = canonical(&store, address);
    let existing = store.get(&address).cloned();
    let body = resources::schema(address.kind).check(&body, &current(&store, &address, existing.as_ref()))?;
    check_busy(&store, &address)?;
    check_preconditions(headers, existing.as_ref().map(|resource| &resource.body))?;
    let location = location_of(&store, &address, &body);
    let prepared = {
        let context = PutContext { store: &store, address: &address, existing: existing.as_ref() };
        resources::prepare(&context, body)?
    };
    let created = existing.is_none();
    let long_running = address.kind.identity().put_is_long_running;
    let state = match (long_running, created) {
        (false, _) => "Succeeded",
        (true, true) => "Creating",
        (true, false) => "Updating",
    };
    let mut stored = prepared.body;
    if let Some(properties) = stored.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert("provisioningState".into(), json!(state));
    }
    let mut planes = Vec::new();
    for removed in &prepared.remove {
        planes.extend(lro::remove(shared, &mut store, removed));
    }
    store.put(address.clone(), stored, None);
    for (other, other_body) in prepared.also {
        store.put(other, other_body, None);
    }
    resources::after_put(&mut store, &address);
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let mut response_headers = HeaderMap::new();
    if long_running {
        let kind = if created { OperationKind::Create } else { OperationKind::Update };
        let operation_id = lro::begin(shared, &mut store, &address, kind, &location);
        if let Some(operation) = store.operation(&operation_id) {
            response_headers = lro::start_headers(&shared.base_url, operation, false);
        }
    }
    let rendered = store.get(&address).map(|resource| resources::render(&store, resource)).unwrap_or_default();
    drop(store);
    if !planes.is_empty() {
        tokio::spawn(lro::stop_planes(planes));
    }
    Ok(with_status_and_etag(status, response_headers, rendered))
}

/// The resource as a GET shows it now, against which a PUT's read-only members are compared;
/// for a new one, the id, name and type it will have.
fn current(store: &Store, address: &Address, existing: Option<&super::store::Resource>) -> Value {
    match existing {
        Some(resource) => resources::render(store, resource),
        None => json!({ "id": address.id(), "name": address.name(), "type": address.kind.response_type() }),
    }
}

/// PATCH updates tags, as every ARM resource allows.
fn patch(shared: &Arc<Shared>, address: &Address, body: &Bytes) -> Result<Response, ArmError> {
    resources::check_writable(address)?;
    let body = parse_body(body)?;
    let body = super::schema::Schema::new("TagsObject", &["tags.*"]).check(&body, &json!({}))?;
    let mut store = shared.store();
    check_ancestors(&store, address)?;
    if store.get(address).is_none() {
        return Err(not_found(address));
    }
    check_busy(&store, address)?;
    if let Some(resource) = store.get_mut(address)
        && let (Some(members), Some(tags)) = (resource.body.as_object_mut(), body.get("tags"))
    {
        members.insert("tags".into(), tags.clone());
    }
    let rendered = store.get(address).map(|resource| resources::render(&store, resource)).unwrap_or_default();
    Ok(with_etag(rendered))
}

async fn delete(shared: &Arc<Shared>, address: &Address) -> Result<Response, ArmError> {
    let (response, planes) = delete_now(shared, address)?;
    lro::stop_planes(planes).await;
    Ok(response)
}

/// Deletes at once (record sets) or starts the delete operation; returns the control planes to
/// stop.
fn delete_now(shared: &Arc<Shared>, address: &Address) -> Result<(Response, Vec<crate::ControlPlane>), ArmError> {
    let mut store = shared.store();
    let Some(resource) = store.get(address).cloned() else {
        return Ok((StatusCode::NO_CONTENT.into_response(), Vec::new()));
    };
    check_busy(&store, address)?;
    resources::check_delete(&store, &resource)?;
    let address = resource.address.clone();
    if !address.kind.identity().delete_is_long_running {
        let planes = lro::remove(shared, &mut store, &address);
        return Ok((StatusCode::OK.into_response(), planes));
    }
    let location = location_of(&store, &address, &resource.body);
    if let Some(resource) = store.get_mut(&address) {
        resource.set_provisioning_state("Deleting");
    }
    let operation_id = lro::begin(shared, &mut store, &address, OperationKind::Delete, &location);
    let headers = store
        .operation(&operation_id)
        .map(|operation| lro::start_headers(&shared.base_url, operation, true))
        .unwrap_or_default();
    Ok(((StatusCode::ACCEPTED, headers).into_response(), Vec::new()))
}

fn list_credential(shared: &Arc<Shared>, cluster: &Address, admin: bool) -> Result<Response, ArmError> {
    let store = shared.store();
    check_ancestors(&store, cluster)?;
    let resource = store.get(cluster).ok_or_else(|| not_found(cluster))?;
    if admin && resource.property("/properties/disableLocalAccounts").and_then(Value::as_bool) == Some(true) {
        return Err(ArmError::bad_request(
            "BadRequest",
            "Getting static credential is not allowed because this cluster is set to disable local accounts.",
        ));
    }
    let state = resource.provisioning_state().unwrap_or("").to_string();
    let key = resource.address.key();
    drop(store);
    let Some(access) = shared.planes.access(&key) else {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "ControlPlaneNotReady",
            format!(
                "The cluster's API server is not running (provisioningState {state}); retry when its operation has finished."
            ),
        ));
    };
    let name = if admin { "clusterAdmin" } else { "clusterUser" };
    let value = base64::engine::general_purpose::STANDARD.encode(access.kubeconfig.as_bytes());
    Ok(axum::Json(json!({ "kubeconfigs": [{ "name": name, "value": value }] })).into_response())
}
