//! The emulator's own endpoints under `/_emulator/` (same bearer token as ARM): what it holds,
//! the write log, faults, operation latencies, throttling and the caller's roles.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::caller::{CALLER, CallerRoles};
use super::errors::ArmError;
use super::faults::Fault;
use super::state::{LatencySettings, Shared, lock};
use super::throttle::ThrottleSettings;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/resources", get(resources))
        .route("/_emulator/operations", get(operations))
        .route("/_emulator/faults", get(faults).post(inject_fault).delete(clear_faults))
        .route("/_emulator/latency", get(latency).put(set_latency))
        .route("/_emulator/throttle", get(throttle).put(set_throttle))
        .route("/_emulator/control-planes", get(control_planes))
        .route("/_emulator/caller", get(caller).put(set_caller).delete(unrestrict_caller))
}

async fn resources(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "value": shared.store().summaries() }))
}

async fn operations(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "value": shared.store().writes() }))
}

async fn faults(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "value": lock(&shared.faults).armed() }))
}

/// Reads a JSON body into `T`, answering a bad one with ARM's error shape.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ArmError> {
    serde_json::from_slice(body).map_err(|error| {
        ArmError::bad_request("InvalidRequestContent", format!("The request content could not be read: {error}."))
    })
}

async fn inject_fault(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match parse::<Fault>(&body) {
        Ok(fault) => {
            lock(&shared.faults).inject(fault.clone());
            (StatusCode::CREATED, Json(fault)).into_response()
        }
        Err(error) => error.into_response(),
    }
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    lock(&shared.faults).clear();
    StatusCode::NO_CONTENT
}

async fn latency(State(shared): State<Arc<Shared>>) -> Json<LatencySettings> {
    Json(lock(&shared.latency).clone())
}

async fn set_latency(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match parse::<LatencySettings>(&body) {
        Ok(settings) => {
            *lock(&shared.latency) = settings.clone();
            Json(settings).into_response()
        }
        Err(error) => error.into_response(),
    }
}

async fn throttle(State(shared): State<Arc<Shared>>) -> Json<ThrottleSettings> {
    Json(lock(&shared.throttle).settings())
}

async fn set_throttle(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match parse::<ThrottleSettings>(&body) {
        Ok(settings) => {
            lock(&shared.throttle).set(settings);
            Json(settings).into_response()
        }
        Err(error) => error.into_response(),
    }
}

async fn control_planes(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "count": shared.planes.count() }))
}

/// The bearer token's principal and the roles it is limited to (`null`: Owner of the subscription).
async fn caller(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "principalId": CALLER, "roles": lock(&shared.caller).roles }))
}

async fn set_caller(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match parse::<CallerRoles>(&body).and_then(|roles| roles.check().map(|()| roles)) {
        Ok(roles) => {
            *lock(&shared.caller) = roles.clone();
            Json(roles).into_response()
        }
        Err(error) => error.into_response(),
    }
}

async fn unrestrict_caller(State(shared): State<Arc<Shared>>) -> StatusCode {
    *lock(&shared.caller) = CallerRoles::default();
    StatusCode::NO_CONTENT
}
