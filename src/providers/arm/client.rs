//! The Resource Manager client: requests through azure_core's pipeline (retries on 408, 429
//! and 5xx honouring Retry-After, `x-ms-client-request-id`, the bearer token), ARM's verbs on
//! resource paths, waiting out another operation on the same resource (409), and the
//! long-running operations of PUT and DELETE (see [`super::lro`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use azure_core::http::headers::{CONTENT_TYPE, Headers, IF_MATCH};
use azure_core::http::policies::Policy;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{
    ClientOptions, Context, ExponentialRetryOptions, Method, Pipeline, PipelineSendOptions, Request, RetryOptions, Url,
};
use serde_json::Value as Json;

use super::cloud::Cloud;
use super::error::ArmError;
use super::lro::{self, Polling};
use super::policies::{LoopbackBearer, Pace, RunHeaders};
use crate::providers::error_chain;

/// Why no token could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// The credential's own reason, which says what to set or sign in with.
    #[error("{reason}")]
    NoToken { reason: String },
}

/// How long to wait, between polls and in total.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Between polls when the server gives no Retry-After. ARM's own default is 60 s; status
    /// reads are cheap, and short operations then finish without a minute's wait.
    pub default_poll: Duration,
    /// The shortest wait between polls, whatever Retry-After says.
    pub min_poll: Duration,
    /// The longest wait between polls, whatever Retry-After says.
    pub max_poll: Duration,
    /// How long one long-running operation may take (creating a cluster takes minutes).
    pub operation_timeout: Duration,
    /// How long to keep trying while another operation holds the resource (409).
    pub conflict_timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            default_poll: Duration::from_secs(5),
            min_poll: Duration::from_millis(25),
            max_poll: Duration::from_secs(60),
            operation_timeout: Duration::from_secs(90 * 60),
            conflict_timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// One answer, whatever its status.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Json {
        serde_json::from_slice(&self.body).unwrap_or(Json::Null)
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub struct ArmClient {
    pipeline: Pipeline,
    credential: Arc<dyn TokenCredential>,
    cloud: Cloud,
    correlation_id: String,
    pub timing: Timing,
}

impl std::fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.cloud.endpoint.as_str())
            .field("correlation_id", &self.correlation_id)
            .finish_non_exhaustive()
    }
}

impl ArmClient {
    pub fn new(cloud: Cloud, credential: Arc<dyn TokenCredential>) -> ArmClient {
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let retry = RetryOptions::exponential(ExponentialRetryOptions {
            initial_delay: azure_core::time::Duration::milliseconds(500),
            max_retries: 12,
            max_total_elapsed: azure_core::time::Duration::minutes(5),
            max_delay: azure_core::time::Duration::seconds(60),
        });
        let bearer: Arc<dyn Policy> = if cloud.is_plain_http() {
            Arc::new(LoopbackBearer { credential: credential.clone(), scope: cloud.scope.clone() })
        } else {
            Arc::new(BearerTokenAuthorizationPolicy::new(credential.clone(), [cloud.scope.clone()]))
        };
        let per_try: Vec<Arc<dyn Policy>> =
            vec![Arc::new(RunHeaders { correlation_id: correlation_id.clone() }), Arc::new(Pace::default()), bearer];
        let options = ClientOptions { retry, ..ClientOptions::default() };
        let pipeline =
            Pipeline::new(Some("aksform"), Some(env!("CARGO_PKG_VERSION")), options, Vec::new(), per_try, None);
        ArmClient { pipeline, credential, cloud, correlation_id, timing: Timing::default() }
    }

    pub fn with_timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    /// Gets a token (kept by the credential for the requests that follow), or says why none
    /// can be had.
    pub async fn sign_in(&self) -> Result<(), SignInError> {
        self.credential
            .get_token(&[self.cloud.scope.as_str()], None)
            .await
            .map(|_| ())
            .map_err(|e| SignInError::NoToken { reason: innermost(&e) })
    }

    pub fn correlation_id(&self) -> &str {
        &self.correlation_id
    }

    pub(super) fn url(&self, path: &str, api_version: &str) -> Result<Url, ArmError> {
        self.cloud.url(path, api_version).map_err(|e| self.local_error("InvalidPath", e.to_string(), path))
    }

    pub(super) fn local_error(&self, code: &str, message: String, doing: &str) -> ArmError {
        ArmError::local(code, message, &self.correlation_id, doing)
    }

    pub(super) fn response_error(&self, answer: &Answer, doing: &str) -> ArmError {
        ArmError::from_response(answer.status, &answer.body, &self.correlation_id, doing)
    }

    /// Sends one request through the pipeline; any status comes back as an [`Answer`].
    pub(super) async fn send(&self, method: Method, url: Url, body: Option<&Json>) -> Result<Answer, ArmError> {
        self.send_matching(method, url, body, None).await
    }

    /// [`ArmClient::send`] with `If-Match: if_match` when given: ARM answers 412 when the
    /// resource's etag is another by then.
    async fn send_matching(
        &self,
        method: Method,
        url: Url,
        body: Option<&Json>,
        if_match: Option<&str>,
    ) -> Result<Answer, ArmError> {
        let doing = describe(&method, &url);
        let mut request = Request::new(url, method);
        if let Some(etag) = if_match {
            request.insert_header(IF_MATCH, etag.to_string());
        }
        if let Some(body) = body {
            let bytes =
                serde_json::to_vec(body).map_err(|e| self.local_error("Serialization", e.to_string(), &doing))?;
            request.insert_header(CONTENT_TYPE, "application/json");
            request.set_body(bytes);
        }
        let options = PipelineSendOptions { skip_checks: true, ..PipelineSendOptions::default() };
        match self.pipeline.send(&Context::new(), &mut request, Some(options)).await {
            Ok(raw) => {
                let (status, headers, body) = raw.deconstruct();
                Ok(Answer { status: u16::from(status), headers, body: body.to_vec() })
            }
            Err(error) => {
                let (code, message) = match error.kind() {
                    azure_core::error::ErrorKind::Credential => ("Credential", innermost(&error)),
                    azure_core::error::ErrorKind::Connection => ("Connection", error_chain(&error)),
                    azure_core::error::ErrorKind::Io => ("Io", error_chain(&error)),
                    _ => ("RequestFailed", error_chain(&error)),
                };
                Err(self.local_error(code, message, &doing))
            }
        }
    }

    /// A resource as ARM returns it, or `None` when it (or its group or parent) is not there.
    pub async fn get(&self, path: &str, api_version: &str) -> Result<Option<Json>, ArmError> {
        let url = self.url(path, api_version)?;
        let answer = self.send(Method::Get, url, None).await?;
        if answer.is_success() {
            return Ok(Some(answer.json()));
        }
        let error = self.response_error(&answer, &format!("GET {path}"));
        if error.is_not_found() { Ok(None) } else { Err(error) }
    }

    /// Creates or updates a resource and waits for its operation; returns the resource as ARM
    /// shows it afterwards.
    pub async fn put(&self, path: &str, api_version: &str, body: &Json) -> Result<Json, ArmError> {
        self.put_matching(path, api_version, body, None).await
    }

    /// [`ArmClient::put`] of a body made from the resource as it was when its etag was
    /// `if_match`: refused with 412 (`is_precondition_failed`) if someone wrote it since.
    pub async fn put_matching(
        &self,
        path: &str,
        api_version: &str,
        body: &Json,
        if_match: Option<&str>,
    ) -> Result<Json, ArmError> {
        let doing = format!("PUT {path}");
        let answer = self.send_through_conflicts(Method::Put, path, api_version, Some(body), if_match).await?;
        let polling = lro::polling_after_put(&answer);
        if polling == Polling::Done {
            return Ok(answer.json());
        }
        self.wait(polling, lro::retry_after(&answer.headers), path, api_version, &doing).await?;
        self.get(path, api_version).await?.ok_or_else(|| {
            self.local_error("ResourceNotFound", "the operation succeeded but the resource is not there".into(), &doing)
        })
    }

    /// Deletes a resource and waits until it is gone; absent already is success.
    pub async fn delete(&self, path: &str, api_version: &str) -> Result<(), ArmError> {
        let doing = format!("DELETE {path}");
        let answer = match self.send_through_conflicts(Method::Delete, path, api_version, None, None).await {
            Err(error) if error.is_not_found() => return Ok(()),
            other => other?,
        };
        let polling = lro::polling_after_delete(&answer);
        if polling == Polling::Done {
            return Ok(());
        }
        match self.wait(polling, lro::retry_after(&answer.headers), path, api_version, &doing).await {
            Err(error) if error.is_not_found() => Ok(()),
            other => other,
        }
    }

    /// An action (`listClusterUserCredential`): its answer's body.
    pub async fn post(&self, path: &str, api_version: &str) -> Result<Json, ArmError> {
        let answer = self
            .send_through_conflicts(Method::Post, path, api_version, Some(&Json::Object(Default::default())), None)
            .await?;
        Ok(answer.json())
    }

    /// Sends until the answer is not "another operation is in progress" or the wait is over;
    /// a non-success answer becomes an error.
    async fn send_through_conflicts(
        &self,
        method: Method,
        path: &str,
        api_version: &str,
        body: Option<&Json>,
        if_match: Option<&str>,
    ) -> Result<Answer, ArmError> {
        let doing = format!("{} {path}", method_name(&method));
        let started = Instant::now();
        let mut wait = Duration::from_secs(2);
        loop {
            let url = self.url(path, api_version)?;
            let answer = self.send_matching(method, url, body, if_match).await?;
            if answer.is_success() {
                return Ok(answer);
            }
            let error = self.response_error(&answer, &doing);
            if !error.is_conflicting_operation() || started.elapsed() >= self.timing.conflict_timeout {
                return Err(error);
            }
            let delay = lro::retry_after(&answer.headers).unwrap_or(wait);
            tokio::time::sleep(self.clamp(delay)).await;
            wait = (wait * 2).min(Duration::from_secs(30));
        }
    }

    pub(super) fn clamp(&self, delay: Duration) -> Duration {
        delay.clamp(self.timing.min_poll, self.timing.max_poll)
    }
}

fn method_name(method: &Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Post => "POST",
        Method::Patch => "PATCH",
        Method::Head => "HEAD",
        _ => "request",
    }
}

/// `GET /subscriptions/.../x` without the query, for messages.
fn describe(method: &Method, url: &Url) -> String {
    format!("{} {}", method_name(method), url.path())
}

/// The innermost message: a credential's own reason, without the layers the pipeline adds.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(inner) = current.source() {
        current = inner;
    }
    current.to_string()
}
