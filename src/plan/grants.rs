//! Role assignments the plan leaves out. Where the caller may not create role assignments (a
//! service principal that is Contributor), making one would only fail with 403 in the middle
//! of an apply. Then either the cluster's identity already holds what it needs there, through
//! an assignment made outside the stack, and the one planned is not needed (a note names the
//! one that covers it); or it must be asked for (AKS188, with the command to ask with), and
//! until it is granted the Services that need it stay pending, as AKS leaves them.

use crate::diag::Diagnostic;
use crate::model::{Address, Kind, Resource, Value};
use crate::state::State;

/// What was found at the scope of a role assignment the plan would create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// The caller may create role assignments there: the plan makes it.
    CallerMayAssign,
    /// The caller may not, and the cluster's identity holds what it needs through this
    /// assignment (its id).
    HeldThrough(String),
    /// The caller may not, and the identity does not hold it (or is not known yet: the
    /// cluster is not made).
    Missing { scope_id: String, principal: Option<String> },
}

/// The role assignments of `desired` the plan would create: those `state` does not record.
pub fn to_create<'a>(desired: &'a [Resource], state: &State) -> Vec<&'a Resource> {
    desired.iter().filter(|r| r.address.kind == Kind::RoleAssignment && state.get(&r.address).is_none()).collect()
}

/// The scope a role assignment is on, as its `scope` attribute names it.
pub fn scope_of(assignment: &Resource) -> Option<Address> {
    assignment.attributes.get("scope").and_then(Value::as_str).and_then(|s| s.parse().ok())
}

/// What [`withhold`] left out, and why.
#[derive(Debug, Default)]
pub struct Withheld {
    /// AKS188 warnings: roles to ask for.
    pub diagnostics: Vec<Diagnostic>,
    /// The assignments not needed, each with the one that covers it.
    pub notes: Vec<String>,
    /// The command that grants each role to ask for, one line each, to copy as it is.
    pub commands: Vec<String>,
}

impl Withheld {
    /// The commands, under a line saying who may run them; empty when there are none.
    pub fn commands_text(&self) -> String {
        if self.commands.is_empty() {
            return String::new();
        }
        let mut text = String::from(
            "The roles the plan leaves out (AKS188) are granted by someone who may assign roles on their scopes with:\n",
        );
        for command in &self.commands {
            text.push_str(&format!("  {command}\n"));
        }
        text
    }
}

/// Leaves out of `desired` the role assignments the caller may not create (`grants`, by
/// address), and what waits for them no longer does.
pub fn withhold(desired: &mut Vec<Resource>, grants: &[(Address, Grant)]) -> Withheld {
    let mut withheld = Withheld::default();
    let mut gone: Vec<Address> = Vec::new();
    for (address, grant) in grants {
        let Some(assignment) = desired.iter().find(|r| &r.address == address) else { continue };
        let role = assignment.attributes.get("role").and_then(Value::as_str).unwrap_or_default();
        let scope = scope_of(assignment).map_or_else(String::new, |s| s.to_string());
        let cluster = address.parent_address();
        match grant {
            Grant::CallerMayAssign => continue,
            Grant::HeldThrough(id) => withheld.notes.push(format!(
                "{address} is not needed: the identity of {} holds what {role} gives on {scope} through {id}",
                cluster.as_ref().map_or_else(String::new, Address::to_string),
            )),
            Grant::Missing { scope_id, principal } => {
                let cluster = cluster.as_ref().and_then(|c| desired.iter().find(|r| &r.address == c));
                let command = grant_command(cluster, role, scope_id, principal.as_deref());
                withheld.diagnostics.push(missing_role(assignment, role, &scope, &command));
                withheld.commands.push(command);
            }
        }
        gone.push(address.clone());
    }
    desired.retain(|r| !gone.contains(&r.address));
    for resource in desired.iter_mut() {
        resource.depends_on.retain(|a| !gone.contains(a));
    }
    withheld
}

/// `az role assignment create` of `role` on `scope_id` for the identity of `cluster`: by its
/// principal id, or read with `az aks show` before the cluster exists.
fn grant_command(cluster: Option<&Resource>, role: &str, scope_id: &str, principal: Option<&str>) -> String {
    let text = |field: &str| cluster.and_then(|c| c.attributes.get(field)).and_then(Value::as_str);
    let assignee = match principal {
        Some(principal) => principal.to_string(),
        None => format!(
            "\"$(az aks show -g {} -n {} --query identity.principalId -o tsv)\"",
            text("resource_group").unwrap_or("RESOURCE_GROUP"),
            text("name").unwrap_or("CLUSTER"),
        ),
    };
    format!(
        "az role assignment create --assignee-object-id {assignee} --assignee-principal-type ServicePrincipal \
         --role \"{role}\" --scope {scope_id}"
    )
}

/// AKS188: the role must be asked for, with the command that grants it.
fn missing_role(assignment: &Resource, role: &str, scope: &str, command: &str) -> Diagnostic {
    let cluster_address = assignment.address.parent_address().map_or_else(String::new, |a| a.to_string());
    Diagnostic::warning(
        "AKS188",
        format!("the identity of {cluster_address} needs {role} on {scope}, and this caller may not grant it"),
    )
    .with_primary(assignment.span, format!("its identity needs {role} on {scope}"))
    .with_help(format!(
        "ask someone who may assign roles there (an Owner or User Access Administrator) to run:\n  {command}\n\
         the plan leaves {} out (creating it would fail with 403 AuthorizationFailed); until the role is granted, \
         the cluster's LoadBalancer Services that use {scope} stay pending",
        assignment.address
    ))
    .with_subject(assignment.address.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{FileId, Span};

    fn resource(address: &str, attributes: &[(&str, &str)], depends_on: &[&str]) -> Resource {
        Resource {
            address: address.parse().unwrap(),
            attributes: attributes.iter().map(|(k, v)| (k.to_string(), Value::str(*v))).collect(),
            computed: &[],
            depends_on: depends_on.iter().map(|a| a.parse().unwrap()).collect(),
            span: Span::new(FileId(0), 0, 0),
            allow_replace: false,
            existing: false,
        }
    }

    const ASSIGNMENT: &str = "cluster.app.role_assignment.\"vnet.hub.subnet.aks\"";
    const SUBNET_ID: &str = "/subscriptions/s/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-aks";

    fn desired() -> Vec<Resource> {
        vec![
            resource("cluster.app", &[("name", "app"), ("resource_group", "rg-app")], &[]),
            resource(
                ASSIGNMENT,
                &[("scope", "vnet.hub.subnet.aks"), ("role", "Network Contributor")],
                &["cluster.app"],
            ),
            resource("service.web", &[], &["cluster.app", ASSIGNMENT]),
        ]
    }

    fn addresses(desired: &[Resource]) -> Vec<String> {
        desired.iter().map(|r| r.address.to_string()).collect()
    }

    #[test]
    fn what_the_caller_may_assign_stays() {
        let mut desired = desired();
        let withheld = withhold(&mut desired, &[(ASSIGNMENT.parse().unwrap(), Grant::CallerMayAssign)]);
        assert_eq!(desired.len(), 3);
        assert!(withheld.diagnostics.is_empty() && withheld.notes.is_empty());
    }

    #[test]
    fn a_role_held_otherwise_is_left_out_with_a_note() {
        let mut desired = desired();
        let id = "/subscriptions/s/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub/providers/Microsoft.Authorization/roleAssignments/x";
        let withheld = withhold(&mut desired, &[(ASSIGNMENT.parse().unwrap(), Grant::HeldThrough(id.into()))]);
        assert_eq!(addresses(&desired), ["cluster.app", "service.web"]);
        assert_eq!(desired[1].depends_on, vec!["cluster.app".parse::<Address>().unwrap()]);
        assert!(withheld.diagnostics.is_empty());
        assert_eq!(
            withheld.notes,
            [format!(
                "{ASSIGNMENT} is not needed: the identity of cluster.app holds what Network Contributor gives on \
                 vnet.hub.subnet.aks through {id}"
            )]
        );
    }

    #[test]
    fn a_role_to_ask_for_is_a_warning_with_the_command() {
        let mut desired = desired();
        let unknown = Grant::Missing { scope_id: SUBNET_ID.into(), principal: None };
        let withheld = withhold(&mut desired, &[(ASSIGNMENT.parse().unwrap(), unknown)]);
        assert_eq!(addresses(&desired), ["cluster.app", "service.web"]);
        let [warning] = withheld.diagnostics.as_slice() else { panic!("{:?}", withheld.diagnostics) };
        assert_eq!((warning.code, warning.severity), ("AKS188", crate::diag::Severity::Warning));
        let help = warning.help.as_deref().unwrap();
        assert!(
            help.contains(&format!(
                "az role assignment create --assignee-object-id \"$(az aks show -g rg-app -n app --query \
                 identity.principalId -o tsv)\" --assignee-principal-type ServicePrincipal --role \"Network \
                 Contributor\" --scope {SUBNET_ID}"
            )),
            "{help}"
        );
        let mut desired = self::desired();
        let known = Grant::Missing { scope_id: SUBNET_ID.into(), principal: Some("p-1".into()) };
        let withheld = withhold(&mut desired, &[(ASSIGNMENT.parse().unwrap(), known)]);
        assert!(withheld.diagnostics[0].help.as_deref().unwrap().contains("--assignee-object-id p-1 "));
    }
}
