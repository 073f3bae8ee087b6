//! Injected faults: bursts of an HTTP status, dropped connections, long-running operations that
//! end Failed, and write-throttling storms.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::errors::ArmError;

/// Which requests a fault applies to; every given condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestMatch {
    /// HTTP method, e.g. `PUT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A case-insensitive substring of the request path, e.g. `/virtualNetworks/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_contains: Option<String>,
}

impl RequestMatch {
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_ref().is_none_or(|wanted| wanted.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_ref()
                .is_none_or(|part| path.to_ascii_lowercase().contains(&part.to_ascii_lowercase()))
    }
}

/// When a dropped connection is dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DropPoint {
    /// Before the request is looked at: nothing happens on the server.
    #[default]
    BeforeHandling,
    /// After the request was carried out: the change is made but its answer is lost.
    AfterHandling,
}

/// Which operations of a type a failed-operation fault catches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OperationFilter {
    #[default]
    Any,
    Create,
    Update,
    Delete,
}

/// One fault to inject, as `POST /_emulator/faults` takes it (`{"kind": "status", ...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Fault {
    /// The next `count` matching requests are answered with `status` (e.g. 503) and an ARM error
    /// body, without being carried out.
    Status {
        status: u16,
        count: u32,
        #[serde(default, flatten)]
        matching: RequestMatch,
        /// The error code; by default one that fits the status (`ServiceUnavailable`...).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_seconds: Option<u64>,
    },
    /// The next `count` matching requests get their connection closed without an answer.
    Drop {
        count: u32,
        #[serde(default, flatten)]
        matching: RequestMatch,
        #[serde(default)]
        when: DropPoint,
    },
    /// The next `count` long-running operations on `resourceType` (an ARM type such as
    /// `Microsoft.ContainerService/managedClusters`, any casing) end `Failed` with `error`.
    FailedOperation {
        resource_type: String,
        #[serde(default)]
        operation: OperationFilter,
        #[serde(default = "one")]
        count: u32,
        /// A case-insensitive substring of the resource id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id_contains: Option<String>,
        error: ArmError,
    },
    /// For `durationSeconds`, the given fraction of writes (0–1) is answered 429
    /// `SubscriptionRequestsThrottled`.
    ThrottleStorm {
        fraction: f64,
        duration_seconds: f64,
        #[serde(default = "one_u64")]
        retry_after_seconds: u64,
    },
}

fn one() -> u32 {
    1
}

fn one_u64() -> u64 {
    1
}

/// What the fault table decides for one request before it is handled.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestFault {
    None,
    Status { error: ArmError, retry_after_seconds: Option<u64> },
    Drop(DropPoint),
    Throttled { retry_after_seconds: u64 },
}

#[derive(Debug)]
struct Storm {
    fraction: f64,
    until: Instant,
    retry_after_seconds: u64,
    /// Deterministic spreading: a write is refused each time this passes 1.
    debt: f64,
}

/// The armed faults.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Vec<Fault>,
    storm: Option<Storm>,
}

impl Faults {
    pub fn inject(&mut self, fault: Fault) {
        match fault {
            Fault::ThrottleStorm { fraction, duration_seconds, retry_after_seconds } => {
                self.storm = Some(Storm {
                    fraction: fraction.clamp(0.0, 1.0),
                    until: Instant::now() + Duration::from_secs_f64(duration_seconds.max(0.0)),
                    retry_after_seconds,
                    debt: 0.0,
                });
            }
            other => self.armed.push(other),
        }
    }

    pub fn clear(&mut self) {
        self.armed.clear();
        self.storm = None;
    }

    /// The faults still armed (a storm is listed while it lasts).
    pub fn armed(&self) -> Vec<Fault> {
        let mut all = self.armed.clone();
        if let Some(storm) = &self.storm
            && storm.until > Instant::now()
        {
            all.push(Fault::ThrottleStorm {
                fraction: storm.fraction,
                duration_seconds: storm.until.duration_since(Instant::now()).as_secs_f64(),
                retry_after_seconds: storm.retry_after_seconds,
            });
        }
        all
    }

    /// Decides the fate of a request before it is handled, using up one count of the fault
    /// that catches it.
    pub fn on_request(&mut self, method: &str, path: &str, is_write: bool) -> RequestFault {
        for index in 0..self.armed.len() {
            let decision = match &mut self.armed[index] {
                Fault::Status { status, count, matching, code, retry_after_seconds }
                    if matching.matches(method, path) =>
                {
                    *count = count.saturating_sub(1);
                    let status = axum::http::StatusCode::from_u16(*status)
                        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
                    let code = code.clone().unwrap_or_else(|| default_code(status).to_string());
                    let message = format!("The request failed with status {} (injected fault).", status.as_u16());
                    Some((
                        *count,
                        RequestFault::Status {
                            error: ArmError::new(status, code, message),
                            retry_after_seconds: *retry_after_seconds,
                        },
                    ))
                }
                Fault::Drop { count, matching, when } if matching.matches(method, path) => {
                    *count = count.saturating_sub(1);
                    Some((*count, RequestFault::Drop(*when)))
                }
                _ => None,
            };
            if let Some((left, fault)) = decision {
                if left == 0 {
                    self.armed.remove(index);
                }
                return fault;
            }
        }
        if is_write && let Some(storm) = &mut self.storm {
            if storm.until <= Instant::now() {
                self.storm = None;
            } else {
                storm.debt += storm.fraction;
                if storm.debt >= 1.0 {
                    storm.debt -= 1.0;
                    return RequestFault::Throttled { retry_after_seconds: storm.retry_after_seconds };
                }
            }
        }
        RequestFault::None
    }

    /// Whether a long-running operation just started must end Failed, and with which error.
    pub fn on_operation(&mut self, arm_type: &str, resource_id: &str, operation: OperationFilter) -> Option<ArmError> {
        let index = self.armed.iter().position(|fault| match fault {
            Fault::FailedOperation { resource_type, operation: wanted, id_contains, .. } => {
                resource_type.eq_ignore_ascii_case(arm_type)
                    && (*wanted == OperationFilter::Any || *wanted == operation)
                    && id_contains
                        .as_ref()
                        .is_none_or(|part| resource_id.to_ascii_lowercase().contains(&part.to_ascii_lowercase()))
            }
            _ => false,
        })?;
        let Fault::FailedOperation { count, error, .. } = &mut self.armed[index] else { return None };
        *count = count.saturating_sub(1);
        let error = error.clone();
        if *count == 0 {
            self.armed.remove(index);
        }
        Some(error)
    }
}

fn default_code(status: axum::http::StatusCode) -> &'static str {
    match status.as_u16() {
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        429 => "TooManyRequests",
        409 => "Conflict",
        _ => "InjectedFault",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_status_burst_catches_only_matching_requests_and_runs_out() {
        let mut faults = Faults::default();
        let fault: Fault = serde_json::from_value(
            json!({"kind": "status", "status": 503, "count": 2, "method": "PUT", "pathContains": "virtualnetworks"}),
        )
        .unwrap();
        faults.inject(fault);
        assert_eq!(faults.on_request("GET", "/subscriptions/s/x/virtualNetworks/v", false), RequestFault::None);
        for _ in 0..2 {
            let RequestFault::Status { error, .. } = faults.on_request("PUT", "/x/virtualNetworks/v", true) else {
                panic!()
            };
            assert_eq!((error.status.as_u16(), error.code.as_str()), (503, "ServiceUnavailable"));
        }
        assert_eq!(faults.on_request("PUT", "/x/virtualNetworks/v", true), RequestFault::None);
    }

    #[test]
    fn a_storm_refuses_the_given_fraction_of_writes() {
        let mut faults = Faults::default();
        faults.inject(Fault::ThrottleStorm { fraction: 0.5, duration_seconds: 60.0, retry_after_seconds: 2 });
        let refused = (0..100).filter(|_| faults.on_request("PUT", "/p", true) != RequestFault::None).count();
        assert_eq!(refused, 50);
        assert_eq!(faults.on_request("GET", "/p", false), RequestFault::None);
    }

    #[test]
    fn a_failed_operation_fault_names_its_type_and_kind() {
        let mut faults = Faults::default();
        let fault: Fault = serde_json::from_value(json!({"kind": "failedOperation", "resourceType": "microsoft.network/publicipaddresses", "operation": "create", "error": {"code": "InternalServerError", "message": "boom"}})).unwrap();
        faults.inject(fault);
        assert_eq!(faults.on_operation("Microsoft.Network/publicIPAddresses", "/x", OperationFilter::Delete), None);
        let error = faults.on_operation("Microsoft.Network/publicIPAddresses", "/x", OperationFilter::Create).unwrap();
        assert_eq!(error.code, "InternalServerError");
        assert_eq!(faults.on_operation("Microsoft.Network/publicIPAddresses", "/x", OperationFilter::Create), None);
    }
}
