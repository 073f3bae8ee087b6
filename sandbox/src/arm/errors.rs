//! ARM's error body (`{"error":{"code","message","target","details"}}`) and the errors the
//! emulator answers with, named and worded as Azure names and words them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// One ARM error: an HTTP status and the body's `error` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmError {
    #[serde(skip, default = "bad_request")]
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ArmError>,
}

fn bad_request() -> StatusCode {
    StatusCode::BAD_REQUEST
}

impl ArmError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> ArmError {
        ArmError { status, code: code.into(), message: message.into(), target: None, details: Vec::new() }
    }

    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> ArmError {
        ArmError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn with_target(mut self, target: impl Into<String>) -> ArmError {
        self.target = Some(target.into());
        self
    }

    /// The body ARM sends: `{"error": {...}}`.
    pub fn body(&self) -> serde_json::Value {
        json!({ "error": self })
    }

    pub fn resource_not_found(arm_type: &str, name: &str, resource_group: &str) -> ArmError {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The Resource '{arm_type}/{name}' under resource group '{resource_group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    }

    pub fn resource_group_not_found(resource_group: &str) -> ArmError {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            format!("Resource group '{resource_group}' could not be found."),
        )
    }

    pub fn parent_not_found(parent_type: &str, parent_name: &str) -> ArmError {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "ParentResourceNotFound",
            format!(
                "Failed to perform 'write' on resource(s) of type '{parent_type}', because the parent resource '{parent_name}' could not be found."
            ),
        )
    }

    pub fn operation_not_allowed(resource_id: &str) -> ArmError {
        ArmError::new(
            StatusCode::CONFLICT,
            "OperationNotAllowed",
            format!(
                "Operation is not allowed because there's an in progress operation on resource '{resource_id}'. Please wait until it finishes and retry."
            ),
        )
    }

    pub fn property_change_not_allowed(property: &str, from: &str, to: &str) -> ArmError {
        ArmError::bad_request(
            "PropertyChangeNotAllowed",
            format!("Changing property '{property}' is not allowed (from '{from}' to '{to}'). Delete and recreate the resource to change it."),
        )
        .with_target(property)
    }

    /// A reference to a resource that is not there (`InvalidResourceReference`, or
    /// `InvalidGlobalResourceReference` for one that may be in another region).
    pub fn reference_not_found(code: &str, id: &str, referrer: &str) -> ArmError {
        ArmError::bad_request(
            code,
            format!(
                "Resource {id} referenced by resource {referrer} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region."
            ),
        )
    }

    pub fn invalid_parameter(target: &str, message: impl Into<String>) -> ArmError {
        ArmError::bad_request("InvalidParameter", message).with_target(target)
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

impl std::fmt::Display for ArmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ArmError {}
