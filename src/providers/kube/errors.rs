//! Kubernetes client errors as [`ProviderError`]s: the API server's own message, and a kind
//! that says whether trying again can help.

use kube::core::Status;

use crate::providers::{ErrorKind, ProviderError, error_chain};

/// `doing` names the call for errors that carry no message of the server's (`reading Service shop/web`).
pub(super) fn from_kube(error: kube::Error, server: &str, doing: &str) -> ProviderError {
    match error {
        kube::Error::Api(status) => from_status(&status),
        kube::Error::Auth(error) => ProviderError {
            kind: ErrorKind::Unauthorized,
            message: format!(
                "{doing}: cannot authenticate to the Kubernetes API server {server}: {}",
                error_chain(&error)
            ),
        },
        error @ (kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_)) => ProviderError {
            kind: ErrorKind::Unreachable,
            message: format!("{doing}: cannot reach the Kubernetes API server {server}: {}", error_chain(&error)),
        },
        other => ProviderError { kind: ErrorKind::Rejected, message: format!("{doing}: {}", error_chain(&other)) },
    }
}

/// The server's answer to a failed call.
pub(super) fn from_status(status: &Status) -> ProviderError {
    let message = match (status.message.is_empty(), status.reason.is_empty()) {
        (false, _) => status.message.clone(),
        (true, false) => format!("the API server answered {} {}", status.code, status.reason),
        (true, true) => format!("the API server answered {}", status.code),
    };
    let kind = match status.code {
        401 | 403 if is_terminating_namespace(status) => ErrorKind::Unavailable,
        401 | 403 => ErrorKind::Unauthorized,
        408 | 429 | 500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Rejected,
    };
    ProviderError { kind, message }
}

/// Creating in a namespace that is being deleted is refused with 403 until it is gone; that
/// clears by itself, unlike a refused credential.
fn is_terminating_namespace(status: &Status) -> bool {
    status.code == 403 && status.message.contains("because it is being terminated")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, reason: &str, message: &str) -> Status {
        let mut s = Status::failure(message, reason);
        s.code = code;
        s
    }

    #[test]
    fn codes_say_whether_to_retry() {
        let invalid = "Service \"web\" is invalid: spec.ports[0].nodePort: Invalid value: 30022: provided port is already allocated";
        let e = from_status(&status(422, "Invalid", invalid));
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Rejected, invalid));
        assert_eq!(from_status(&status(401, "Unauthorized", "Unauthorized")).kind, ErrorKind::Unauthorized);
        assert_eq!(from_status(&status(403, "Forbidden", "forbidden")).kind, ErrorKind::Unauthorized);
        assert_eq!(from_status(&status(503, "ServiceUnavailable", "")).kind, ErrorKind::Unavailable);
        assert_eq!(from_status(&status(429, "TooManyRequests", "slow down")).kind, ErrorKind::Unavailable);
        assert_eq!(from_status(&status(404, "NotFound", "namespaces \"x\" not found")).kind, ErrorKind::Rejected);
        let terminating = "services \"web\" is forbidden: unable to create new content in namespace shop because it is being terminated";
        assert_eq!(from_status(&status(403, "Forbidden", terminating)).kind, ErrorKind::Unavailable);
        assert_eq!(from_status(&status(500, "", "")).message, "the API server answered 500");
    }
}
