//! Resource Manager errors: ARM's error body (code, message, target, details) with the HTTP
//! status and the correlation id that Azure support asks for, and how each maps to a
//! [`ProviderError`] kind.

use std::fmt;

use serde::Deserialize;

use crate::providers::{ErrorKind, ProviderError};

/// One entry of ARM's OData error (`error` or one of its `details`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub details: Vec<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

/// A failed call or operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError {
    /// The HTTP status, `None` when no answer came (connection) or the operation itself failed.
    pub status: Option<u16>,
    pub error: Box<ErrorDetail>,
    /// `x-ms-correlation-request-id`: ties every request of one run together in Azure's logs.
    pub correlation_id: String,
    /// What was being done, e.g. `PUT /subscriptions/.../virtualNetworks/hub`.
    pub doing: String,
}

impl ArmError {
    /// From a non-success answer: ARM's error body when there is one, else the status.
    pub fn from_response(status: u16, body: &[u8], correlation_id: &str, doing: &str) -> ArmError {
        let error = parse_error(body).unwrap_or_else(|| ErrorDetail {
            code: format!("Http{status}"),
            message: match std::str::from_utf8(body).map(str::trim) {
                Ok(text) if !text.is_empty() && text.len() <= 500 => format!("the server answered {status}: {text}"),
                _ => format!("the server answered {status}"),
            },
            ..ErrorDetail::default()
        });
        ArmError {
            status: Some(status),
            error: Box::new(error),
            correlation_id: correlation_id.to_string(),
            doing: doing.to_string(),
        }
    }

    /// A long-running operation that ended Failed or Canceled.
    pub fn from_operation(error: ErrorDetail, correlation_id: &str, doing: &str) -> ArmError {
        ArmError {
            status: None,
            error: Box::new(error),
            correlation_id: correlation_id.to_string(),
            doing: doing.to_string(),
        }
    }

    /// No answer: the connection failed, or the client could not build the request.
    pub fn local(code: &str, message: String, correlation_id: &str, doing: &str) -> ArmError {
        ArmError {
            status: None,
            error: Box::new(ErrorDetail { code: code.to_string(), message, ..ErrorDetail::default() }),
            correlation_id: correlation_id.to_string(),
            doing: doing.to_string(),
        }
    }

    pub fn code(&self) -> &str {
        &self.error.code
    }

    /// The resource (or its group or parent) is not there.
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
            || matches!(
                self.code(),
                "ResourceNotFound" | "ResourceGroupNotFound" | "ParentResourceNotFound" | "NotFound"
            )
    }

    /// 403: the caller may not do it (`AuthorizationFailed`).
    pub fn is_forbidden(&self) -> bool {
        self.status == Some(403)
    }

    /// Another operation holds the resource: the same call succeeds once it finishes.
    /// 412: an `If-Match` etag that is not the resource's any more.
    pub fn is_precondition_failed(&self) -> bool {
        self.status == Some(412)
    }

    pub fn is_conflicting_operation(&self) -> bool {
        self.status == Some(409)
            && matches!(
                self.code(),
                "OperationNotAllowed" | "AnotherOperationInProgress" | "RetryableErrorDueToAnotherOperation"
            )
    }

    pub fn kind(&self) -> ErrorKind {
        match self.status {
            Some(401 | 403) => ErrorKind::Unauthorized,
            Some(408 | 429 | 500..=599) => ErrorKind::Unavailable,
            Some(409) if self.is_conflicting_operation() => ErrorKind::Unavailable,
            None if matches!(self.code(), "Connection" | "Io" | "Timeout") => ErrorKind::Unavailable,
            None if self.code() == "Credential" => ErrorKind::Unauthorized,
            _ => ErrorKind::Rejected,
        }
    }

    pub fn into_provider_error(self, address: &impl fmt::Display) -> ProviderError {
        let mut message = format!("{address}: {self}");
        if self.code() == "PropertyChangeNotAllowed" {
            let field = self.error.target.as_deref().map_or_else(|| "this field".to_string(), |t| format!("`{t}`"));
            message.push_str(&format!(
                "\n  Azure cannot change {field} of an existing resource: the change needs {address} to be replaced \
                 (deleted and created again). Change the value back, or replace it: \
                 `aksform destroy --target {address}`, then `aksform apply`."
            ));
        }
        ProviderError { kind: self.kind(), message }
    }
}

fn parse_error(body: &[u8]) -> Option<ErrorDetail> {
    // Most services wrap the error in `error`; a few answer the bare object.
    serde_json::from_slice::<ErrorBody>(body)
        .map(|b| b.error)
        .ok()
        .or_else(|| serde_json::from_slice::<ErrorDetail>(body).ok())
        .filter(|e| !e.code.is_empty() || !e.message.is_empty())
}

fn write_detail(f: &mut fmt::Formatter<'_>, detail: &ErrorDetail) -> fmt::Result {
    match (detail.code.is_empty(), detail.message.is_empty()) {
        (false, false) => write!(f, "{}: {}", detail.code, detail.message)?,
        (false, true) => f.write_str(&detail.code)?,
        (true, _) => f.write_str(&detail.message)?,
    }
    if let Some(target) = detail.target.as_deref().filter(|t| !t.is_empty()) {
        write!(f, " (target: {target})")?;
    }
    Ok(())
}

impl fmt::Display for ArmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_detail(f, &self.error)?;
        let mut stack: Vec<(usize, &ErrorDetail)> = self.error.details.iter().rev().map(|d| (1, d)).collect();
        while let Some((depth, detail)) = stack.pop() {
            write!(f, "\n{}- ", "  ".repeat(depth))?;
            write_detail(f, detail)?;
            stack.extend(detail.details.iter().rev().map(|d| (depth + 1, d)));
        }
        let status = self.status.map(|s| format!("HTTP {s}, ")).unwrap_or_default();
        write!(f, "\n  ({status}{}; correlation id {})", self.doing, self.correlation_id)
    }
}

impl std::error::Error for ArmError {}

#[cfg(test)]
mod tests {
    use super::*;

    const CORRELATION: &str = "5d6f6c1e-0000-4000-8000-000000000001";

    #[test]
    fn arm_error_bodies_keep_code_message_target_and_details() {
        let body = br#"{"error":{"code":"InvalidParameter","message":"The subnet is full.","target":"agentPoolProfiles[0].vnetSubnetID",
            "details":[{"code":"SubnetIsFull","message":"Subnet nodes has 0 free addresses.","target":"nodes",
              "details":[{"code":"Inner","message":"deeper"}]}]}}"#;
        let error = ArmError::from_response(400, body, CORRELATION, "PUT /subscriptions/s/x");
        assert_eq!(error.code(), "InvalidParameter");
        assert_eq!(error.error.details[0].details[0].code, "Inner");
        assert_eq!(
            error.to_string(),
            "InvalidParameter: The subnet is full. (target: agentPoolProfiles[0].vnetSubnetID)\n  \
             - SubnetIsFull: Subnet nodes has 0 free addresses. (target: nodes)\n    \
             - Inner: deeper\n  \
             (HTTP 400, PUT /subscriptions/s/x; correlation id 5d6f6c1e-0000-4000-8000-000000000001)"
        );
        assert_eq!(error.kind(), ErrorKind::Rejected);
    }

    #[test]
    fn bodies_that_are_not_arm_errors_still_say_what_happened() {
        let error = ArmError::from_response(502, b"<html>bad gateway</html>", CORRELATION, "GET /x");
        assert_eq!(error.code(), "Http502");
        assert!(error.to_string().contains("the server answered 502: <html>bad gateway</html>"));
        assert_eq!(error.kind(), ErrorKind::Unavailable);
        let empty = ArmError::from_response(404, b"", CORRELATION, "GET /x");
        assert!(empty.is_not_found());
        assert!(empty.to_string().contains(CORRELATION));
    }

    #[test]
    fn statuses_and_codes_map_to_kinds() {
        let e = |status, code: &str| {
            ArmError::from_response(
                status,
                format!(r#"{{"error":{{"code":"{code}","message":"m"}}}}"#).as_bytes(),
                "c",
                "x",
            )
        };
        assert_eq!(e(401, "InvalidAuthenticationToken").kind(), ErrorKind::Unauthorized);
        assert_eq!(e(403, "AuthorizationFailed").kind(), ErrorKind::Unauthorized);
        assert_eq!(e(429, "SubscriptionRequestsThrottled").kind(), ErrorKind::Unavailable);
        assert_eq!(e(409, "OperationNotAllowed").kind(), ErrorKind::Unavailable);
        assert!(e(409, "OperationNotAllowed").is_conflicting_operation());
        assert!(!e(409, "Conflict").is_conflicting_operation());
        assert_eq!(e(400, "ServiceCidrOverlapExistingSubnetsCidr").kind(), ErrorKind::Rejected);
        assert!(e(404, "ResourceGroupNotFound").is_not_found());
        assert!(e(400, "ParentResourceNotFound").is_not_found());
    }

    #[test]
    fn property_change_not_allowed_explains_the_replacement() {
        let body = br#"{"error":{"code":"PropertyChangeNotAllowed","message":"Changing property 'networkProfile.networkPlugin' is not allowed.","target":"networkProfile.networkPlugin"}}"#;
        let error = ArmError::from_response(400, body, CORRELATION, "PUT /m").into_provider_error(&"cluster.shop");
        assert_eq!(error.kind, ErrorKind::Rejected);
        assert!(
            error.message.starts_with("cluster.shop: PropertyChangeNotAllowed: Changing property"),
            "{}",
            error.message
        );
        assert!(error.message.contains("Azure cannot change `networkProfile.networkPlugin` of an existing resource"));
        assert!(error.message.contains("replaced"));
        assert!(error.message.contains("aksform destroy --target cluster.shop"));
    }
}
