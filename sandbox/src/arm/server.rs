//! The HTTP side: the accept loop (one connection task each, which an injected fault can close
//! without an answer), and the layer every request passes first: request ids, authentication,
//! injected faults, throttling and the write log.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

use super::errors::ArmError;
use super::faults::{DropPoint, RequestFault};
use super::lro;
use super::state::{Shared, lock};
use super::store::{ReadRecord, WriteRecord};
use super::throttle::Budget;
use super::{control, handlers};

/// Closes the connection a request came on, without answering it.
#[derive(Clone)]
struct ConnectionKill(Arc<Notify>);

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(control::router())
        .fallback(handlers::arm)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), pipeline))
        .with_state(shared)
}

/// Serves until `shutdown` turns true; open connections are closed then.
pub async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, router.clone(), shutdown.clone()));
            }
            _ = shutdown.changed() => break,
        }
    }
}

async fn connection(stream: tokio::net::TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    let kill = Arc::new(Notify::new());
    let for_requests = ConnectionKill(Arc::clone(&kill));
    let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(for_requests.clone());
        router.clone().oneshot(request.map(axum::body::Body::new))
    });
    let serving = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = serving => {}
        _ = kill.notified() => {}
        _ = shutdown.changed() => {}
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// ARM's answer to a request without a valid token (401 with a WWW-Authenticate challenge), or
/// `None` when the token is right.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let challenge = |description: &str| {
        format!(
            "Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\", error_description=\"{description}\""
        )
    };
    let refuse = |error: ArmError, description: &str| {
        let mut response = error.into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge(description)) {
            response.headers_mut().insert("www-authenticate", value);
        }
        response
    };
    let Some(authorization) = header(headers, "authorization") else {
        return Some(refuse(
            ArmError::new(
                StatusCode::UNAUTHORIZED,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
            ),
            "The authentication failed because of missing 'Authorization' header.",
        ));
    };
    let token = authorization.strip_prefix("Bearer ").or_else(|| authorization.strip_prefix("bearer ")).unwrap_or("");
    if !constant_time_equal(token.trim().as_bytes(), shared.token.as_bytes()) {
        return Some(refuse(
            ArmError::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "The access token is invalid."),
            "The access token is invalid.",
        ));
    }
    None
}

fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn subscription_of(path: &str) -> String {
    let mut segments = path.trim_start_matches('/').split('/');
    match (segments.next(), segments.next()) {
        (Some(first), Some(subscription)) if first.eq_ignore_ascii_case("subscriptions") => subscription.to_string(),
        _ => String::new(),
    }
}

fn throttled(subscription: &str, budget: Budget, wait: Duration) -> Response {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let kind = match budget {
        Budget::Read => "read",
        Budget::Write => "write",
        Budget::Delete => "delete",
    };
    let error = ArmError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "SubscriptionRequestsThrottled",
        format!(
            "Number of '{kind}' requests for subscription '{subscription}' exceeded. Please try again after '{seconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling"
        ),
    );
    let mut response = error.into_response();
    lro::insert(response.headers_mut(), "retry-after", &seconds.to_string());
    response
}

async fn pipeline(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let headers = request.headers().clone();
    let kill = request.extensions().get::<ConnectionKill>().cloned();
    let is_control = path.starts_with("/_emulator");
    let is_write = !is_control && matches!(method, Method::PUT | Method::DELETE | Method::POST | Method::PATCH);
    let mut drop_after = false;
    let mut remaining: Option<(Budget, u32)> = None;

    let response = 'answer: {
        if let Some(refused) = authenticate(&shared, &headers) {
            break 'answer refused;
        }
        if is_control {
            break 'answer next.run(request).await;
        }
        let fault = lock(&shared.faults).on_request(method.as_str(), &path, is_write);
        match fault {
            RequestFault::None => {}
            RequestFault::Status { error, retry_after_seconds } => {
                let mut response = error.into_response();
                if let Some(seconds) = retry_after_seconds {
                    lro::insert(response.headers_mut(), "retry-after", &seconds.to_string());
                }
                break 'answer response;
            }
            RequestFault::Throttled { retry_after_seconds } => {
                break 'answer throttled(
                    &subscription_of(&path),
                    Budget::Write,
                    Duration::from_secs(retry_after_seconds),
                );
            }
            RequestFault::Drop(DropPoint::BeforeHandling) => {
                if let Some(kill) = &kill {
                    record(&shared, &method, &path, is_write, 0);
                    kill.0.notify_one();
                    std::future::pending::<()>().await;
                }
            }
            RequestFault::Drop(DropPoint::AfterHandling) => drop_after = true,
        }
        let budget = match (is_write, &method) {
            (false, _) => Budget::Read,
            (true, &Method::DELETE) => Budget::Delete,
            (true, _) => Budget::Write,
        };
        let subscription = subscription_of(&path);
        let admitted = lock(&shared.throttle).admit(&subscription, budget);
        match admitted {
            Ok(left) => remaining = Some((budget, left.0)),
            Err(wait) => break 'answer throttled(&subscription, budget, wait),
        }
        next.run(request).await
    };

    let mut response = response;
    let response_headers = response.headers_mut();
    lro::insert(response_headers, "x-ms-request-id", &uuid::Uuid::new_v4().to_string());
    let correlation = header(&headers, "x-ms-correlation-request-id")
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    lro::insert(response_headers, "x-ms-correlation-request-id", &correlation);
    if let Some(client) = header(&headers, "x-ms-client-request-id") {
        lro::insert(response_headers, "x-ms-client-request-id", client);
    }
    if let Some((budget, left)) = remaining {
        let name = match budget {
            Budget::Read => "x-ms-ratelimit-remaining-subscription-reads",
            Budget::Write => "x-ms-ratelimit-remaining-subscription-writes",
            Budget::Delete => "x-ms-ratelimit-remaining-subscription-deletes",
        };
        lro::insert(response_headers, name, &left.to_string());
    }
    if drop_after && let Some(kill) = kill {
        record(&shared, &method, &path, is_write, response.status().as_u16());
        kill.0.notify_one();
        std::future::pending::<()>().await;
    }
    record(&shared, &method, &path, is_write, response.status().as_u16());
    response
}

fn record(shared: &Shared, method: &Method, path: &str, is_write: bool, status: u16) {
    if path.starts_with("/_emulator") {
        return;
    }
    if !is_write {
        shared.store().record_read(ReadRecord { path: path.to_string(), status });
        return;
    }
    let id = match super::address::parse_path(path) {
        Some(super::address::Target::Resource(address)) => address.id(),
        _ => path.to_string(),
    };
    shared.store().record_write(WriteRecord { method: method.to_string(), id, status, time: lro::now() });
}
