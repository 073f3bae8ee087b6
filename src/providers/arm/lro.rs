//! Long-running operations: which header to poll after a PUT or DELETE
//! (`Azure-AsyncOperation`, else `Location`, else the resource's `provisioningState`), how
//! long to wait (`Retry-After`), and when an operation has ended (Succeeded, Failed, Canceled).

use std::time::{Duration, Instant};

use azure_core::http::headers::{HeaderName, Headers, RETRY_AFTER, RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS};
use azure_core::http::{Method, Url};
use serde::Deserialize;
use serde_json::Value as Json;

use super::client::{Answer, ArmClient};
use super::error::{ArmError, ErrorDetail};

const AZURE_ASYNC_OPERATION: HeaderName = HeaderName::from_static("azure-asyncoperation");
const LOCATION: HeaderName = HeaderName::from_static("location");

/// How to learn when an operation has finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Polling {
    /// Finished with the first answer.
    Done,
    /// GET this URL until its `status` is terminal.
    AsyncOperation(Url),
    /// GET this URL until it stops answering 202.
    Location(Url),
    /// GET the resource until its `provisioningState` is terminal.
    ProvisioningState,
}

fn header_url(headers: &Headers, name: &HeaderName) -> Option<Url> {
    headers.get_optional_str(name).and_then(|v| Url::parse(v.trim()).ok())
}

/// After a PUT: 201/202 or a non-terminal provisioningState mean an operation runs.
pub fn polling_after_put(answer: &Answer) -> Polling {
    if let Some(url) = header_url(&answer.headers, &AZURE_ASYNC_OPERATION) {
        return Polling::AsyncOperation(url);
    }
    if answer.status == 202
        && let Some(url) = header_url(&answer.headers, &LOCATION)
    {
        return Polling::Location(url);
    }
    match provisioning_state(&answer.json()) {
        Some(state) if !is_terminal(state) => Polling::ProvisioningState,
        _ => Polling::Done,
    }
}

/// After a DELETE: 200 and 204 are done; 202 names where to poll.
pub fn polling_after_delete(answer: &Answer) -> Polling {
    if answer.status != 202 {
        return Polling::Done;
    }
    if let Some(url) = header_url(&answer.headers, &AZURE_ASYNC_OPERATION) {
        return Polling::AsyncOperation(url);
    }
    match header_url(&answer.headers, &LOCATION) {
        Some(url) => Polling::Location(url),
        // Accepted with nowhere to look: poll the resource until it is gone.
        None => Polling::ProvisioningState,
    }
}

/// How long to wait, in the order azure_core's retry policy reads it: `x-ms-retry-after-ms`,
/// `retry-after-ms` (milliseconds), then `Retry-After` (seconds or an HTTP date).
pub fn retry_after(headers: &Headers) -> Option<Duration> {
    for name in [X_MS_RETRY_AFTER_MS, RETRY_AFTER_MS] {
        if let Some(ms) = headers.get_optional_str(&name).and_then(|v| v.trim().parse::<u64>().ok()) {
            return Some(Duration::from_millis(ms));
        }
    }
    let value = headers.get_optional_str(&RETRY_AFTER)?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = azure_core::time::parse_rfc7231(value).ok()?;
    let wait = at - azure_core::time::OffsetDateTime::now_utc();
    Some(Duration::from_millis(u64::try_from(wait.whole_milliseconds()).unwrap_or(0)))
}

pub fn provisioning_state(resource: &Json) -> Option<&str> {
    resource.pointer("/properties/provisioningState").and_then(Json::as_str)
}

pub fn is_terminal(status: &str) -> bool {
    ["Succeeded", "Failed", "Canceled"].iter().any(|t| t.eq_ignore_ascii_case(status))
}

/// The body of an Azure-AsyncOperation URL.
#[derive(Debug, Deserialize, PartialEq, Eq)]
pub struct OperationStatus {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub error: Option<ErrorDetail>,
}

/// What one poll found.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    Running,
    Succeeded,
    /// Failed or Canceled, with ARM's error.
    Ended(ErrorDetail),
}

/// Reads an operation status body.
pub fn operation_progress(body: &Json) -> Progress {
    let status: OperationStatus =
        serde_json::from_value(body.clone()).unwrap_or(OperationStatus { status: String::new(), error: None });
    ended(&status.status, status.error)
}

fn ended(status: &str, error: Option<ErrorDetail>) -> Progress {
    if status.eq_ignore_ascii_case("Succeeded") {
        Progress::Succeeded
    } else if is_terminal(status) {
        let canceled = status.eq_ignore_ascii_case("Canceled");
        Progress::Ended(error.unwrap_or_else(|| ErrorDetail {
            code: if canceled { "Canceled" } else { "Failed" }.to_string(),
            message: format!("the operation ended {status} without an error"),
            ..ErrorDetail::default()
        }))
    } else {
        Progress::Running
    }
}

impl ArmClient {
    /// Polls until the operation ends. `first_wait` is the Retry-After of the first answer.
    pub(super) async fn wait(
        &self,
        polling: Polling,
        first_wait: Option<Duration>,
        path: &str,
        api_version: &str,
        doing: &str,
    ) -> Result<(), ArmError> {
        let started = Instant::now();
        let mut delay = first_wait.unwrap_or(self.timing.default_poll);
        loop {
            if started.elapsed() >= self.timing.operation_timeout {
                return Err(self.local_error(
                    "Timeout",
                    format!(
                        "the operation did not finish within {} minutes",
                        self.timing.operation_timeout.as_secs() / 60
                    ),
                    doing,
                ));
            }
            tokio::time::sleep(self.clamp(delay)).await;
            let (answer, progress) = match &polling {
                Polling::Done => return Ok(()),
                Polling::AsyncOperation(url) => {
                    let answer = self.poll(url, doing).await?;
                    if !answer.is_success() {
                        return Err(self.response_error(&answer, &format!("polling the operation of {doing}")));
                    }
                    let progress = operation_progress(&answer.json());
                    (answer, progress)
                }
                Polling::Location(url) => {
                    let answer = self.poll(url, doing).await?;
                    let progress = match answer.status {
                        202 => Progress::Running,
                        200..=299 => Progress::Succeeded,
                        _ => return Err(self.response_error(&answer, doing)),
                    };
                    (answer, progress)
                }
                Polling::ProvisioningState => {
                    let url = self.url(path, api_version)?;
                    let answer = self.send(Method::Get, url, None).await?;
                    let progress = if answer.status == 404 {
                        // Gone: the end of a delete.
                        Progress::Succeeded
                    } else if !answer.is_success() {
                        return Err(self.response_error(&answer, doing));
                    } else {
                        match provisioning_state(&answer.json()) {
                            Some(state) => ended(state, None),
                            None => Progress::Succeeded,
                        }
                    };
                    (answer, progress)
                }
            };
            match progress {
                Progress::Succeeded => return Ok(()),
                Progress::Ended(error) => return Err(ArmError::from_operation(error, self.correlation_id(), doing)),
                Progress::Running => delay = retry_after(&answer.headers).unwrap_or(self.timing.default_poll),
            }
        }
    }

    async fn poll(&self, url: &Url, doing: &str) -> Result<Answer, ArmError> {
        self.cloud()
            .check_same_origin(url)
            .map_err(|e| self.local_error("UntrustedPollingUrl", e.to_string(), doing))?;
        self.send(Method::Get, url.clone(), None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, headers: &[(&'static str, &str)], body: Json) -> Answer {
        let mut h = Headers::new();
        for (name, value) in headers {
            h.insert(HeaderName::from_static(name), value.to_string());
        }
        Answer { status, headers: h, body: serde_json::to_vec(&body).unwrap() }
    }

    const OP: &str = "http://127.0.0.1:9/subscriptions/s/providers/Microsoft.Network/locations/westeurope/operations/1?api-version=2024-05-01";

    #[test]
    fn a_put_polls_the_async_operation_first() {
        let created = answer(
            201,
            &[("azure-asyncoperation", OP), ("retry-after", "3"), ("location", "http://127.0.0.1:9/elsewhere")],
            json!({"properties": {"provisioningState": "Creating"}}),
        );
        assert_eq!(polling_after_put(&created), Polling::AsyncOperation(Url::parse(OP).unwrap()));
        assert_eq!(retry_after(&created.headers), Some(Duration::from_secs(3)));
    }

    #[test]
    fn a_put_without_headers_polls_a_running_provisioning_state_or_is_done() {
        let updating = answer(200, &[], json!({"properties": {"provisioningState": "Updating"}}));
        assert_eq!(polling_after_put(&updating), Polling::ProvisioningState);
        let done = answer(200, &[], json!({"properties": {"provisioningState": "Succeeded"}}));
        assert_eq!(polling_after_put(&done), Polling::Done);
        // No provisioningState at all (a resource group, a record set) means done.
        assert_eq!(polling_after_put(&answer(201, &[], json!({"location": "westeurope"}))), Polling::Done);
        let accepted = answer(202, &[("location", "http://127.0.0.1:9/op/2")], Json::Null);
        assert_eq!(polling_after_put(&accepted), Polling::Location(Url::parse("http://127.0.0.1:9/op/2").unwrap()));
    }

    #[test]
    fn a_delete_polls_location_on_202_only() {
        let accepted = answer(202, &[("location", "http://127.0.0.1:9/op/3"), ("retry-after", "10")], Json::Null);
        assert_eq!(polling_after_delete(&accepted), Polling::Location(Url::parse("http://127.0.0.1:9/op/3").unwrap()));
        assert_eq!(polling_after_delete(&answer(204, &[], Json::Null)), Polling::Done);
        assert_eq!(polling_after_delete(&answer(200, &[], Json::Null)), Polling::Done);
        let both = answer(202, &[("location", "http://127.0.0.1:9/l"), ("azure-asyncoperation", OP)], Json::Null);
        assert_eq!(polling_after_delete(&both), Polling::AsyncOperation(Url::parse(OP).unwrap()));
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let seconds = answer(202, &[("retry-after", "15")], Json::Null);
        assert_eq!(retry_after(&seconds.headers), Some(Duration::from_secs(15)));
        let past = answer(202, &[("retry-after", "Fri, 01 Jan 2021 00:00:00 GMT")], Json::Null);
        assert_eq!(retry_after(&past.headers), Some(Duration::ZERO));
        assert_eq!(retry_after(&answer(202, &[("retry-after", "soon")], Json::Null).headers), None);
        assert_eq!(retry_after(&answer(202, &[], Json::Null).headers), None);
        let precise = answer(202, &[("retry-after", "1"), ("retry-after-ms", "250")], Json::Null);
        assert_eq!(retry_after(&precise.headers), Some(Duration::from_millis(250)));
        let ms = answer(202, &[("x-ms-retry-after-ms", "40"), ("retry-after-ms", "250")], Json::Null);
        assert_eq!(retry_after(&ms.headers), Some(Duration::from_millis(40)));
    }

    #[test]
    fn operation_statuses() {
        assert_eq!(operation_progress(&json!({"status": "InProgress"})), Progress::Running);
        assert_eq!(operation_progress(&json!({"status": "Succeeded"})), Progress::Succeeded);
        let failed = json!({"id": "x", "status": "Failed", "error": {"code": "SubnetIsFull", "message": "full", "target": "nodes",
            "details": [{"code": "Inner", "message": "why"}]}});
        let Progress::Ended(error) = operation_progress(&failed) else { panic!("not ended") };
        assert_eq!((error.code.as_str(), error.target.as_deref()), ("SubnetIsFull", Some("nodes")));
        assert_eq!(error.details[0].code, "Inner");
        let Progress::Ended(canceled) = operation_progress(&json!({"status": "Canceled"})) else { panic!("not ended") };
        assert_eq!(canceled.code, "Canceled");
        assert_eq!(operation_progress(&json!({})), Progress::Running);
    }
}
