//! What a principal may do at a scope, read from Microsoft.Authorization: the caller's own
//! permissions (`{scope}/providers/Microsoft.Authorization/permissions`), and the role
//! assignments of another principal (a cluster's identity) at or above a scope with their
//! roles' permissions. Actions match as Azure matches them: `*` stands for any run of
//! characters, case is ignored, and a permission's `notActions` take away from its `actions`.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::ArmProvider;
use super::role_assignment::AUTHORIZATION_API;
use crate::model::Address;
use crate::providers::ProviderError;

/// One role's actions, as a permissions list or a role definition gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permission {
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
}

impl Permission {
    fn from_json(item: &Json) -> Permission {
        let strings = |key: &str| -> Vec<String> {
            item.get(key)
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()
        };
        Permission { actions: strings("actions"), not_actions: strings("notActions") }
    }

    /// Whether this permission grants `action`.
    pub fn allows(&self, action: &str) -> bool {
        self.actions.iter().any(|p| action_matches(p, action))
            && !self.not_actions.iter().any(|p| action_matches(p, action))
    }
}

/// Whether any of `permissions` grants `action`: each role's `notActions` limit that role only.
pub fn allowed(permissions: &[Permission], action: &str) -> bool {
    permissions.iter().any(|permission| permission.allows(action))
}

/// `pattern` (with `*` wildcards) against `action`, ignoring case.
fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let action = action.to_ascii_lowercase();
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = action.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else { return rest.is_empty() };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The scopes above a resource id whose permissions hold for it: its resource group, then its
/// subscription.
fn scopes_above(id: &str) -> Vec<String> {
    let segments: Vec<&str> = id.trim_matches('/').split('/').collect();
    let mut out = Vec::new();
    if segments.len() > 4 {
        out.push(format!("/{}", segments[..4].join("/")));
    }
    if segments.len() > 2 {
        out.push(format!("/{}", segments[..2].join("/")));
    }
    out
}

impl ArmProvider {
    /// The ARM id of a resource the run knows (a subnet, a route table, a public IP).
    pub fn id_of(&self, address: &Address) -> Result<String, ProviderError> {
        self.resolver.path_of(address)
    }

    /// What the caller may do at `scope`. A scope not made yet has what the nearest one above
    /// it that exists has.
    pub async fn caller_permissions(&self, scope: &str) -> Result<Vec<Permission>, ProviderError> {
        let doing = format!("reading the caller's permissions on {scope}");
        for at in std::iter::once(scope.to_string()).chain(scopes_above(scope)) {
            let path = format!("{at}/providers/Microsoft.Authorization/permissions");
            if let Some(items) = self.list_all(&path, AUTHORIZATION_API, &doing).await? {
                return Ok(items.iter().map(Permission::from_json).collect());
            }
        }
        Ok(Vec::new())
    }

    /// The role assignment that gives `principal` every one of `actions` at `scope` (made there
    /// or above it), by id; `None` when none does. `definitions` keeps the role definitions
    /// read, by id, for the next question.
    pub async fn assignment_granting(
        &self,
        principal: &str,
        scope: &str,
        actions: &[&str],
        definitions: &tokio::sync::Mutex<HashMap<String, Vec<Permission>>>,
    ) -> Result<Option<String>, ProviderError> {
        let filter = format!("atScope() and assignedTo('{principal}')");
        let path = format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments?$filter={}",
            url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
        );
        let doing = format!("listing the role assignments of {principal} on {scope}");
        let Some(assignments) = self.list_all(&path, AUTHORIZATION_API, &doing).await? else { return Ok(None) };
        for assignment in &assignments {
            let (Some(id), Some(role)) = (
                assignment.get("id").and_then(Json::as_str),
                assignment.pointer("/properties/roleDefinitionId").and_then(Json::as_str),
            ) else {
                continue;
            };
            let key = role.to_ascii_lowercase();
            let known = definitions.lock().await.get(&key).cloned();
            let permissions = match known {
                Some(permissions) => permissions,
                None => {
                    let read = self
                        .client
                        .get(role, AUTHORIZATION_API)
                        .await
                        .map_err(|e| e.into_provider_error(&format!("reading the role definition {role}")))?;
                    let permissions: Vec<Permission> = read
                        .iter()
                        .flat_map(|d| d.pointer("/properties/permissions").and_then(Json::as_array))
                        .flatten()
                        .map(Permission::from_json)
                        .collect();
                    definitions.lock().await.insert(key, permissions.clone());
                    permissions
                }
            };
            if actions.iter().all(|action| allowed(&permissions, action)) {
                return Ok(Some(id.to_string()));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permission(actions: &[&str], not_actions: &[&str]) -> Permission {
        Permission {
            actions: actions.iter().map(|a| a.to_string()).collect(),
            not_actions: not_actions.iter().map(|a| a.to_string()).collect(),
        }
    }

    const WRITE: &str = "Microsoft.Authorization/roleAssignments/write";

    #[test]
    fn actions_match_with_wildcards_and_not_actions_take_away() {
        let owner = permission(&["*"], &[]);
        let contributor = permission(&["*"], &["Microsoft.Authorization/*/Write", "Microsoft.Authorization/*/Delete"]);
        let access = permission(&["*/read", "Microsoft.Authorization/*"], &[]);
        let reader = permission(&["*/read"], &[]);
        assert!(owner.allows(WRITE));
        assert!(!contributor.allows(WRITE));
        assert!(contributor.allows("Microsoft.Network/virtualNetworks/subnets/join/action"));
        assert!(access.allows(WRITE));
        assert!(!reader.allows(WRITE));
        assert!(reader.allows("Microsoft.Network/virtualNetworks/subnets/read"));
        // Another role's notActions do not take away what one grants.
        assert!(allowed(&[contributor.clone(), access], WRITE));
        assert!(!allowed(&[contributor, reader], WRITE));
        assert!(action_matches("microsoft.network/*/join/action", "Microsoft.Network/publicIPAddresses/join/action"));
        assert!(!action_matches("Microsoft.Network/*/join/action", "Microsoft.Network/publicIPAddresses/read"));
    }

    #[test]
    fn a_resource_is_under_its_group_and_subscription() {
        let subnet = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a";
        assert_eq!(scopes_above(subnet), ["/subscriptions/s/resourceGroups/rg", "/subscriptions/s"]);
        assert_eq!(scopes_above("/subscriptions/s/resourceGroups/rg"), ["/subscriptions/s"]);
        assert!(scopes_above("/subscriptions/s").is_empty());
    }
}
