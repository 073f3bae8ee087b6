//! The principal the emulator's bearer token stands for, and what it may do: Owner of the
//! subscription unless a test limits it to some roles (`PUT /_emulator/caller`), and whatever
//! role assignments are made to it through ARM. `GET {scope}/providers/Microsoft.Authorization/permissions`
//! tells what it may do at a scope, as Azure's "Permissions - List For Resource" and "List For
//! Resource Group" do, and role assignments it may not write are refused with 403.

use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::authorization::{AuthorizationPath, OWNER, RoleDefinition, built_in_role, covers, resolve_scope};
use super::errors::ArmError;
use super::listing;
use super::state::{Shared, lock};
use super::store::Store;

/// The object id of the principal the emulator's bearer token stands for.
pub const CALLER: &str = "6c0f3a8e-0d1b-4b5f-9a44-0e3c1f9a7e21";

pub const ROLE_ASSIGNMENT_WRITE: &str = "Microsoft.Authorization/roleAssignments/write";
pub const ROLE_ASSIGNMENT_DELETE: &str = "Microsoft.Authorization/roleAssignments/delete";

/// A role the caller holds at a scope, outside the emulator's role assignments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerRole {
    /// A built-in role: its name (`Contributor`), its GUID or its definition's id.
    pub role: String,
    /// `/subscriptions/{sub}`, a resource group's or a resource's id.
    pub scope: String,
}

/// What the caller holds besides its role assignments: `None` is Owner of every subscription.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerRoles {
    pub roles: Option<Vec<CallerRole>>,
}

impl CallerRoles {
    /// Refuses a role the emulator does not know.
    pub fn check(&self) -> Result<(), ArmError> {
        for given in self.roles.iter().flatten() {
            if role_named(&given.role).is_none() {
                return Err(ArmError::bad_request(
                    "RoleDefinitionDoesNotExist",
                    format!("The specified role definition with ID '{}' does not exist.", given.role),
                ));
            }
        }
        Ok(())
    }
}

fn role_named(role: &str) -> Option<&'static RoleDefinition> {
    let id = role.trim_end_matches('/').rsplit('/').next().unwrap_or(role);
    built_in_role(id)
        .or_else(|| super::authorization::BUILT_IN_ROLES.iter().find(|r| r.name.eq_ignore_ascii_case(role)))
}

/// The roles the caller holds at `scope` or above it, one for each assignment (or role given).
fn roles_at(shared: &Shared, store: &Store, scope: &str) -> Vec<&'static RoleDefinition> {
    let mut roles: Vec<&'static RoleDefinition> = match &lock(&shared.caller).roles {
        None => built_in_role(OWNER).into_iter().collect(),
        Some(given) => given.iter().filter(|g| covers(&g.scope, scope)).filter_map(|g| role_named(&g.role)).collect(),
    };
    roles.extend(
        store
            .role_assignments()
            .into_iter()
            .filter(|a| a.property("principalId").is_some_and(|p| p.eq_ignore_ascii_case(CALLER)))
            .filter(|a| covers(&a.scope, scope))
            .filter_map(|a| a.property("roleDefinitionId").and_then(role_named)),
    );
    roles
}

/// Whether the caller may perform `action` at `scope`.
pub fn may(shared: &Shared, store: &Store, action: &str, scope: &str) -> bool {
    roles_at(shared, store, scope).iter().any(|role| role.allows(action))
}

/// Resource Manager's refusal of an action the caller may not perform at `scope`.
pub fn authorization_failed(action: &str, scope: &str) -> ArmError {
    ArmError::new(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        format!(
            "The client '{CALLER}' with object id '{CALLER}' does not have authorization to perform action \
             '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please \
             refresh your credentials."
        ),
    )
}

/// `GET {scope}/providers/Microsoft.Authorization/permissions`: one permission for each role
/// the caller holds at the scope or above it. Paged as every list.
pub fn permissions(shared: &Shared, uri: &Uri, path: &AuthorizationPath) -> Result<Response, ArmError> {
    let store = shared.store();
    let scope = resolve_scope(&store, &path.scope)?;
    let items = roles_at(shared, &store, &scope)
        .into_iter()
        .zip(0..)
        .map(|(role, place)| {
            let permission: Value = json!({
                "actions": role.actions, "notActions": role.not_actions, "dataActions": [], "notDataActions": []
            });
            (place, permission)
        })
        .collect();
    drop(store);
    listing::page(shared, uri, items)
}
