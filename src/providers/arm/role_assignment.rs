//! Role assignments (Microsoft.Authorization/roleAssignments): an extension resource at the
//! scope it grants on (`{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}`),
//! giving a cluster's identity the role AKS needs on a subnet, route table or public IP.

use serde_json::{Value as Json, json};

use super::arm_json::str_at;
use super::arm_type::{ArmType, BodyRequest, Identity, MarksAt, Place};
use super::resolver::Resolver;
use crate::model::{Kind, Value};
use crate::providers::{Attributes, ErrorKind, ProviderError};

pub(crate) const AUTHORIZATION_API: &str = "2022-04-01";

/// The built-in roles aksform assigns, with their ids, which are the same in every tenant.
const ROLES: &[(&str, &str)] = &[("Network Contributor", "4d97b98b-1d4f-4787-a291-c67834d212e7")];

pub(crate) struct RoleAssignment;

impl ArmType for RoleAssignment {
    fn identity(&self) -> &'static Identity {
        &Identity {
            type_name: "Microsoft.Authorization/roleAssignments",
            api_version: AUTHORIZATION_API,
            place: Place::Scope,
        }
    }

    /// Its name is derived from the stack's cluster and the scope: one there under that name
    /// is this stack's.
    fn marks_at(&self) -> MarksAt {
        MarksAt::Name
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        let BodyRequest { fields, address, resolver, .. } = *request;
        let role = fields.required_str("role")?;
        let id = role_id(role).ok_or_else(|| ProviderError {
            kind: ErrorKind::Rejected,
            message: format!("{address}: aksform assigns no role `{role}`"),
        })?;
        let subscription = resolver.subscription(address)?;
        Ok(json!({ "properties": {
            "roleDefinitionId": format!("/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{id}"),
            "principalId": fields.required_str("principal_id")?,
            "principalType": "ServicePrincipal",
        }}))
    }

    fn observed(&self, live: &Json, recorded: &Attributes, _resolver: &Resolver) -> Attributes {
        let role_id = str_at(live, "/properties/roleDefinitionId").and_then(|id| id.rsplit('/').next());
        let role =
            ROLES.iter().find(|(_, id)| Some(*id) == role_id).map_or(Value::opt_str(role_id), |(n, _)| Value::str(*n));
        let mut out = Attributes::new();
        out.insert("name".into(), Value::opt_str(str_at(live, "/name")));
        // The scope is the path it is read at; the recorded address names it.
        out.insert("scope".into(), recorded.get("scope").cloned().unwrap_or(Value::Null));
        out.insert("role".into(), role);
        out.insert("principal_id".into(), Value::opt_str(str_at(live, "/properties/principalId")));
        out
    }
}

/// The id of a role aksform assigns, by its name.
pub(crate) fn role_id(role: &str) -> Option<&'static str> {
    ROLES.iter().find(|(name, _)| *name == role).map(|(_, id)| *id)
}

/// The kind's scope attribute, for the resolver: what the assignment is on.
pub(crate) fn scope_of(attributes: &Attributes) -> Option<crate::model::Address> {
    attributes
        .get("scope")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .filter(|a: &crate::model::Address| a.kind != Kind::RoleAssignment)
}
