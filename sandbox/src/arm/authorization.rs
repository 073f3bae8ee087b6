//! Microsoft.Authorization: role assignments, extension resources at any scope (the
//! subscription, a resource group, any resource the emulator holds), Azure's built-in role
//! definitions, the caller's permissions ([`super::caller`]), and the question the clusters' cloud provider asks of them: may a principal
//! perform an action on a resource, through an assignment at the resource or any scope above it.

use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::address::{Target, no_such_type, parse_path};
use super::caller;
use super::errors::ArmError;
use super::handlers::{check_ancestors, not_found, parse_body};
use super::listing;
use super::schema::Schema;
use super::state::Shared;
use super::store::{RoleAssignment, Store};

pub const AUTHORIZATION_NAMESPACE: &str = "Microsoft.Authorization";
/// The api-version of role assignments the emulator pins, then the older one it also serves
/// (the request and response bodies are the same).
pub const AUTHORIZATION_API_VERSION: &str = "2022-04-01";
pub const ROLE_ASSIGNMENT_API_VERSIONS: &[&str] = &[AUTHORIZATION_API_VERSION, "2020-04-01-preview"];
pub const ROLE_DEFINITION_API_VERSIONS: &[&str] = &[AUTHORIZATION_API_VERSION, "2018-01-01-preview"];
pub const PERMISSIONS_API_VERSIONS: &[&str] = &[AUTHORIZATION_API_VERSION, "2015-07-01"];

const ROLE_ASSIGNMENTS: &str = "roleAssignments";
const ROLE_DEFINITIONS: &str = "roleDefinitions";
const PERMISSIONS: &str = "permissions";
const ASSIGNMENT_TYPE: &str = "Microsoft.Authorization/roleAssignments";
const DEFINITION_TYPE: &str = "Microsoft.Authorization/roleDefinitions";

/// The action a load balancer's frontend needs on the public IP it uses.
pub const PUBLIC_IP_JOIN: &str = "Microsoft.Network/publicIPAddresses/join/action";
/// The action a load balancer's frontend (or a NIC) needs on the subnet it takes an address in.
pub const SUBNET_JOIN: &str = "Microsoft.Network/virtualNetworks/subnets/join/action";

pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
pub const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
pub const NETWORK_CONTRIBUTOR: &str = "4d97b98b-1d4f-4787-a291-c67834d212e7";

/// One of Azure's built-in role definitions: its id (a GUID, the same in every subscription),
/// name and permissions.
pub struct RoleDefinition {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub actions: &'static [&'static str],
    pub not_actions: &'static [&'static str],
}

/// What most built-in roles scoped to one service add to their own actions.
macro_rules! service_role_actions {
    ($($own:literal),* $(,)?) => {
        &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            $($own,)*
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
        ]
    };
}

/// The built-in roles the emulator knows, with Azure's ids and permissions.
pub const BUILT_IN_ROLES: &[RoleDefinition] = &[
    RoleDefinition {
        id: OWNER,
        name: "Owner",
        description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[],
    },
    RoleDefinition {
        id: CONTRIBUTOR,
        name: "Contributor",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
        ],
    },
    RoleDefinition {
        id: READER,
        name: "Reader",
        description: "View all resources, but does not allow you to make any changes.",
        actions: &["*/read"],
        not_actions: &[],
    },
    RoleDefinition {
        id: NETWORK_CONTRIBUTOR,
        name: "Network Contributor",
        description: "Lets you manage networks, but not access to them.",
        actions: service_role_actions!("Microsoft.Network/*"),
        not_actions: &[],
    },
    RoleDefinition {
        id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        name: "User Access Administrator",
        description: "Lets you manage user access to Azure resources.",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[],
    },
    RoleDefinition {
        id: "befefa01-2a29-4197-83a8-272ff33ce314",
        name: "DNS Zone Contributor",
        description: "Lets you manage DNS zones and record sets in Azure DNS, but does not let you control who has access to them.",
        actions: service_role_actions!("Microsoft.Network/dnsZones/*"),
        not_actions: &[],
    },
    RoleDefinition {
        id: "b12aa53e-6015-4669-85d0-8515ebb3ae7f",
        name: "Private DNS Zone Contributor",
        description: "Lets you manage private DNS zone resources, but not the virtual networks they are linked to.",
        actions: service_role_actions!(
            "Microsoft.Network/privateDnsZones/*",
            "Microsoft.Network/privateDnsOperationResults/*",
            "Microsoft.Network/privateDnsOperationStatuses/*",
            "Microsoft.Network/virtualNetworks/read",
            "Microsoft.Network/virtualNetworks/join/action",
        ),
        not_actions: &[],
    },
    RoleDefinition {
        id: "f1a07417-d97a-45cb-824c-7a7467783830",
        name: "Managed Identity Operator",
        description: "Read and Assign User Assigned Identity",
        actions: &[
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Support/*",
        ],
        not_actions: &[],
    },
];

pub fn built_in_role(id: &str) -> Option<&'static RoleDefinition> {
    BUILT_IN_ROLES.iter().find(|role| role.id.eq_ignore_ascii_case(id))
}

impl RoleDefinition {
    /// Whether the role grants `action` (Azure's wildcards, case-insensitively).
    pub fn allows(&self, action: &str) -> bool {
        self.actions.iter().any(|pattern| wildcard_match(pattern, action))
            && !self.not_actions.iter().any(|pattern| wildcard_match(pattern, action))
    }

    fn body(&self, subscription: &str) -> Value {
        json!({
            "id": format!("/subscriptions/{subscription}/providers/{AUTHORIZATION_NAMESPACE}/{ROLE_DEFINITIONS}/{}", self.id),
            "type": DEFINITION_TYPE,
            "name": self.id,
            "properties": {
                "roleName": self.name,
                "type": "BuiltInRole",
                "description": self.description,
                "assignableScopes": ["/"],
                "permissions": [{
                    "actions": self.actions, "notActions": self.not_actions, "dataActions": [], "notDataActions": []
                }],
                "createdOn": "2015-02-02T21:55:09.8806423Z",
                "updatedOn": "2024-01-01T00:00:00.0000000Z",
                "createdBy": null,
                "updatedBy": null
            }
        })
    }
}

/// `*` matches any run of characters; everything else compares case-insensitively.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let text = text.to_ascii_lowercase();
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else { return false };
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

/// Whether `principal` may perform `action` on the resource `resource_id`: a role assignment to
/// it at that resource or a scope above it (its parents, its resource group, its subscription)
/// of a role that grants the action.
pub fn has_permission(store: &Store, principal: &str, action: &str, resource_id: &str) -> bool {
    store.role_assignments().into_iter().any(|assignment| {
        assignment.property("principalId").is_some_and(|p| p.eq_ignore_ascii_case(principal))
            && covers(&assignment.scope, resource_id)
            && assignment
                .property("roleDefinitionId")
                .and_then(|id| built_in_role(last_segment(id)))
                .is_some_and(|role| role.allows(action))
    })
}

/// Whether `scope` is `id` or a scope above it.
pub(super) fn covers(scope: &str, id: &str) -> bool {
    let scope = scope.trim_end_matches('/').to_ascii_lowercase();
    let id = id.trim_end_matches('/').to_ascii_lowercase();
    id == scope || id.starts_with(&format!("{scope}/"))
}

fn last_segment(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// A GUID in its usual form, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The principal a managed cluster's cloud provider acts as: its system-assigned identity, or
/// the first user-assigned one.
pub fn cluster_principal(cluster: &Value) -> Option<String> {
    let identity = cluster.get("identity")?;
    if let Some(principal) = identity.get("principalId").and_then(Value::as_str) {
        return Some(principal.to_string());
    }
    identity
        .get("userAssignedIdentities")?
        .as_object()?
        .values()
        .find_map(|entry| entry.get("principalId").and_then(Value::as_str))
        .map(str::to_string)
}

/// The error Azure's network provider answers a load balancer write with when its client may
/// write the load balancer but not join what a frontend links to (as the cloud provider logs it
/// in the Service's `SyncLoadBalancerFailed` event).
pub fn linked_authorization_failed(principal: &str, balancer_id: &str, action: &str, linked_id: &str) -> String {
    let message = format!(
        "The client '{principal}' with object id '{principal}' has permission to perform action 'Microsoft.Network/loadBalancers/write' on scope '{balancer_id}'; however, it does not have permission to perform action(s) '{action}' on the linked scope(s) '{linked_id}' (respectively) or the linked scope(s) are invalid."
    );
    let raw = json!({ "error": { "code": "LinkedAuthorizationFailed", "message": message } });
    format!("Retriable: false, RetryAfter: 0s, HTTPStatusCode: 403, RawError: {raw}")
}

/// Which collection of Microsoft.Authorization a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    RoleAssignments,
    RoleDefinitions,
    /// What the caller may do at the scope.
    Permissions,
}

/// `{scope}/providers/Microsoft.Authorization/{roleAssignments|roleDefinitions}[/{name}]`, or
/// `{scope}/providers/Microsoft.Authorization/permissions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationPath {
    /// As given, without a trailing `/`: `/subscriptions/{sub}[/resourceGroups/{rg}[/providers/...]]`.
    pub scope: String,
    pub collection: Collection,
    pub name: Option<String>,
}

impl AuthorizationPath {
    pub fn api_versions(&self) -> &'static [&'static str] {
        match self.collection {
            Collection::RoleAssignments => ROLE_ASSIGNMENT_API_VERSIONS,
            Collection::RoleDefinitions => ROLE_DEFINITION_API_VERSIONS,
            Collection::Permissions => PERMISSIONS_API_VERSIONS,
        }
    }

    fn subscription(&self) -> &str {
        self.scope.trim_start_matches('/').split('/').nth(1).unwrap_or("")
    }
}

/// The Microsoft.Authorization target of a path (its segments, as given and lowercased), if it
/// has one: the last `providers/Microsoft.Authorization` in it, after a scope.
pub fn parse(segments: &[&str], lower: &[String]) -> Option<Target> {
    let at = (2..lower.len().saturating_sub(1))
        .rev()
        .find(|&i| lower[i] == "providers" && lower[i + 1].eq_ignore_ascii_case(AUTHORIZATION_NAMESPACE))?;
    let scope = format!("/{}", segments[..at].join("/"));
    let rest = &segments[at + 2..];
    if rest.is_empty() {
        // The provider read `/subscriptions/{sub}/providers/Microsoft.Authorization`.
        return None;
    }
    let collection = match rest.first().map(|t| t.to_ascii_lowercase()) {
        Some(t) if t == ROLE_ASSIGNMENTS.to_ascii_lowercase() => Collection::RoleAssignments,
        Some(t) if t == ROLE_DEFINITIONS.to_ascii_lowercase() => Collection::RoleDefinitions,
        Some(t) if t == PERMISSIONS.to_ascii_lowercase() && rest.len() == 1 => Collection::Permissions,
        _ => return Some(unknown(rest)),
    };
    match rest {
        [_] => Some(Target::Authorization(AuthorizationPath { scope, collection, name: None })),
        [_, name] if !name.is_empty() => {
            Some(Target::Authorization(AuthorizationPath { scope, collection, name: Some(name.to_string()) }))
        }
        _ => Some(unknown(rest)),
    }
}

fn unknown(rest: &[&str]) -> Target {
    let type_name: Vec<&str> = rest.iter().step_by(2).copied().collect();
    Target::UnknownType { namespace: AUTHORIZATION_NAMESPACE.to_string(), type_name: type_name.join("/") }
}

/// Answers a request to a Microsoft.Authorization path.
pub fn handle(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    body: &Bytes,
    path: &AuthorizationPath,
) -> Result<Response, ArmError> {
    match (path.collection, &path.name, method) {
        (Collection::RoleAssignments, Some(name), &Method::PUT) => put(shared, path, name, body),
        (Collection::RoleAssignments, Some(name), &Method::GET) => get(shared, path, name),
        (Collection::RoleAssignments, Some(name), &Method::DELETE) => delete(shared, path, name),
        (Collection::RoleAssignments, None, &Method::GET) => list(shared, uri, path),
        (Collection::RoleDefinitions, Some(name), &Method::GET) => {
            let role = built_in_role(name).ok_or_else(|| role_definition_not_found(name, StatusCode::NOT_FOUND))?;
            Ok(axum::Json(role.body(path.subscription())).into_response())
        }
        (Collection::RoleDefinitions, None, &Method::GET) => list_definitions(shared, uri, path),
        (Collection::Permissions, None, &Method::GET) => caller::permissions(shared, uri, path),
        _ => Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "HttpMethodNotSupported",
            format!("The requested resource does not support http method '{method}'."),
        )),
    }
}

fn schema() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        Schema::new(
            "RoleAssignmentCreateParameters",
            &[
                "id!",
                "name!",
                "type!",
                "properties.roleDefinitionId",
                "properties.principalId",
                "properties.principalType",
                "properties.description",
                "properties.condition",
                "properties.conditionVersion",
                "properties.delegatedManagedIdentityResourceId",
                "properties.canDelegate",
                "properties.scope!",
                "properties.createdOn!",
                "properties.updatedOn!",
                "properties.createdBy!",
                "properties.updatedBy!",
            ],
        )
    })
}

/// The scope in canonical casing, once it is known to exist: the subscription, or a resource
/// group or resource the emulator holds (404 as for any missing parent otherwise).
pub(super) fn resolve_scope(store: &Store, scope: &str) -> Result<String, ArmError> {
    let segments: Vec<&str> = scope.trim_matches('/').split('/').collect();
    if let [subscriptions, subscription] = segments.as_slice()
        && subscriptions.eq_ignore_ascii_case("subscriptions")
    {
        return Ok(format!("/subscriptions/{subscription}"));
    }
    match parse_path(scope) {
        Some(Target::Resource(address)) => {
            check_ancestors(store, &address)?;
            let resource = store.get(&address).ok_or_else(|| not_found(&address))?;
            Ok(resource.address.id())
        }
        _ => Err(no_such_type(scope)),
    }
}

fn assignment_id(scope: &str, name: &str) -> String {
    format!("{}/providers/{AUTHORIZATION_NAMESPACE}/{ROLE_ASSIGNMENTS}/{name}", scope.trim_end_matches('/'))
}

fn check_name(name: &str) -> Result<(), ArmError> {
    if is_guid(name) {
        return Ok(());
    }
    Err(ArmError::bad_request(
        "InvalidRoleAssignmentId",
        format!("The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."),
    ))
}

fn role_definition_not_found(id: &str, status: StatusCode) -> ArmError {
    ArmError::new(
        status,
        "RoleDefinitionDoesNotExist",
        format!("The specified role definition with ID '{id}' does not exist."),
    )
}

fn assignment_not_found(name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "RoleAssignmentNotFound",
        format!("The role assignment '{name}' is not found."),
    )
}

fn update_not_permitted() -> ArmError {
    ArmError::bad_request(
        "RoleAssignmentUpdateNotPermitted",
        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
    )
}

const PRINCIPAL_TYPES: &[&str] = &["User", "Group", "ServicePrincipal", "ForeignGroup", "Device"];

/// Refuses, as Resource Manager does before anything else, an action on the role assignment
/// at `path` that the caller may not perform.
fn check_caller(
    shared: &Shared,
    store: &Store,
    action: &str,
    path: &AuthorizationPath,
    name: &str,
) -> Result<(), ArmError> {
    let id = assignment_id(&path.scope, name);
    if caller::may(shared, store, action, &id) {
        return Ok(());
    }
    Err(caller::authorization_failed(action, &id))
}

fn put(shared: &Shared, path: &AuthorizationPath, name: &str, body: &Bytes) -> Result<Response, ArmError> {
    let mut store = shared.store();
    check_caller(shared, &store, caller::ROLE_ASSIGNMENT_WRITE, path, name)?;
    check_name(name)?;
    let body = parse_body(body)?;
    let scope = resolve_scope(&store, &path.scope)?;
    let id = assignment_id(&scope, name);
    let existing = store.role_assignment(&id).cloned();
    let current = match &existing {
        Some(assignment) => assignment.body.clone(),
        None => json!({ "id": id, "name": name, "type": ASSIGNMENT_TYPE }),
    };
    let body = schema().check(&body, &current)?;
    let properties = body.get("properties").cloned().unwrap_or_else(|| json!({}));
    let text = |key: &str| properties.get(key).and_then(Value::as_str).map(str::to_string);

    let given_role = text("roleDefinitionId").unwrap_or_default();
    let role_segments: Vec<&str> = given_role.trim_matches('/').split('/').collect();
    let role = match role_segments.as_slice() {
        [.., providers, namespace, definitions, guid]
            if providers.eq_ignore_ascii_case("providers")
                && namespace.eq_ignore_ascii_case(AUTHORIZATION_NAMESPACE)
                && definitions.eq_ignore_ascii_case(ROLE_DEFINITIONS) =>
        {
            built_in_role(guid).ok_or_else(|| role_definition_not_found(guid, StatusCode::BAD_REQUEST))?
        }
        _ => {
            return Err(ArmError::bad_request(
                "InvalidRoleDefinitionId",
                format!("The role definition ID '{given_role}' is not valid."),
            ));
        }
    };
    let principal = text("principalId").unwrap_or_default();
    if !is_guid(&principal) {
        return Err(ArmError::bad_request(
            "InvalidPrincipalId",
            format!("The Principal ID '{principal}' is not valid. Principal ID must be a GUID."),
        ));
    }
    let principal_type = match text("principalType") {
        None => "ServicePrincipal".to_string(),
        Some(given) => {
            PRINCIPAL_TYPES.iter().find(|t| t.eq_ignore_ascii_case(&given)).map(|t| t.to_string()).ok_or_else(|| {
                ArmError::bad_request(
                    "InvalidRequestContent",
                    format!(
                        "The request content was invalid: principalType '{given}' is not one of {}.",
                        PRINCIPAL_TYPES.join(", ")
                    ),
                )
                .with_target("properties.principalType")
            })?
        }
    };
    let same_role = |assignment: &RoleAssignment| {
        assignment.property("roleDefinitionId").is_some_and(|id| last_segment(id).eq_ignore_ascii_case(role.id))
    };
    let same_principal = |assignment: &RoleAssignment| {
        assignment.property("principalId").is_some_and(|p| p.eq_ignore_ascii_case(&principal))
    };
    match &existing {
        Some(assignment) if !same_role(assignment) || !same_principal(assignment) => return Err(update_not_permitted()),
        Some(_) => {}
        None => {
            // Role assignment names are unique: the same one at another scope is an update of
            // that one's scope.
            let reused = store
                .role_assignments()
                .into_iter()
                .any(|a| a.body["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)));
            if reused {
                return Err(update_not_permitted());
            }
            let duplicate = store
                .role_assignments()
                .into_iter()
                .any(|a| a.scope.eq_ignore_ascii_case(&scope) && same_role(a) && same_principal(a));
            if duplicate {
                return Err(ArmError::new(
                    StatusCode::CONFLICT,
                    "RoleAssignmentExists",
                    "The role assignment already exists.",
                ));
            }
        }
    }
    let now = super::lro::now();
    let created_on = existing
        .as_ref()
        .and_then(|assignment| assignment.property("createdOn").map(str::to_string))
        .unwrap_or_else(|| now.clone());
    let subscription = path.subscription();
    let stored = json!({
        "id": id,
        "type": ASSIGNMENT_TYPE,
        "name": name,
        "properties": {
            "roleDefinitionId": format!("/subscriptions/{subscription}/providers/{AUTHORIZATION_NAMESPACE}/{ROLE_DEFINITIONS}/{}", role.id),
            "principalId": principal,
            "principalType": principal_type,
            "scope": scope,
            "condition": properties.get("condition").cloned().unwrap_or(Value::Null),
            "conditionVersion": properties.get("conditionVersion").cloned().unwrap_or(Value::Null),
            "createdOn": created_on,
            "updatedOn": now,
            "createdBy": null,
            "updatedBy": caller::CALLER,
            "delegatedManagedIdentityResourceId": properties.get("delegatedManagedIdentityResourceId").cloned().unwrap_or(Value::Null),
            "description": properties.get("description").cloned().unwrap_or(Value::Null)
        }
    });
    store.put_role_assignment(&id, scope, stored.clone());
    let status = if existing.is_some() { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, axum::Json(stored)).into_response())
}

fn get(shared: &Shared, path: &AuthorizationPath, name: &str) -> Result<Response, ArmError> {
    check_name(name)?;
    let store = shared.store();
    let assignment =
        store.role_assignment(&assignment_id(&path.scope, name)).ok_or_else(|| assignment_not_found(name))?;
    Ok(axum::Json(assignment.body.clone()).into_response())
}

fn delete(shared: &Shared, path: &AuthorizationPath, name: &str) -> Result<Response, ArmError> {
    let mut store = shared.store();
    check_caller(shared, &store, caller::ROLE_ASSIGNMENT_DELETE, path, name)?;
    check_name(name)?;
    match store.remove_role_assignment(&assignment_id(&path.scope, name)) {
        Some(assignment) => Ok(axum::Json(assignment.body).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// What a `$filter` of a role assignment list keeps.
#[derive(Debug, Default, PartialEq, Eq)]
struct Filter {
    /// `atScope()`: only the assignments at the scope and above it.
    at_scope: bool,
    /// `principalId eq '{id}'` or `assignedTo('{id}')`.
    principal: Option<String>,
}

fn parse_filter(text: &str) -> Result<Filter, ArmError> {
    let mut filter = Filter::default();
    let invalid = || {
        ArmError::bad_request("InvalidFilter", format!("The filter '{text}' is not supported.")).with_target("$filter")
    };
    let lower = text.to_ascii_lowercase();
    let mut start = 0;
    let mut clauses = Vec::new();
    while let Some(at) = lower[start..].find(" and ") {
        clauses.push(text[start..start + at].trim());
        start += at + " and ".len();
    }
    clauses.push(text[start..].trim());
    for clause in clauses.into_iter().filter(|clause| !clause.is_empty()) {
        let lower = clause.to_ascii_lowercase();
        if lower.replace(' ', "") == "atscope()" {
            filter.at_scope = true;
        } else if lower.starts_with("principalid eq ") {
            filter.principal = Some(quoted(&clause["principalid eq ".len()..]).ok_or_else(invalid)?);
        } else if lower.starts_with("assignedto(") && lower.ends_with(')') {
            filter.principal = Some(quoted(&clause["assignedto(".len()..clause.len() - 1]).ok_or_else(invalid)?);
        } else {
            return Err(invalid());
        }
    }
    Ok(filter)
}

fn quoted(text: &str) -> Option<String> {
    let text = text.trim();
    text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')).map(str::to_string)
}

/// A query parameter's value, percent-decoded (`+` is a space); names compare case-insensitively
/// and `%24` is `$`.
fn query_parameter(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        percent_decode(key).eq_ignore_ascii_case(name).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).ok();
                match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `GET {scope}/providers/Microsoft.Authorization/roleAssignments`: the assignments at the
/// scope, above it and below it; with `atScope()`, at and above only; with a principal, only
/// its own. Paged as every list.
fn list(shared: &Shared, uri: &Uri, path: &AuthorizationPath) -> Result<Response, ArmError> {
    let filter = match query_parameter(uri, "$filter") {
        Some(text) => parse_filter(&text)?,
        None => Filter::default(),
    };
    let store = shared.store();
    let scope = resolve_scope(&store, &path.scope)?;
    let items = store
        .role_assignments()
        .into_iter()
        .filter(|assignment| {
            covers(&assignment.scope, &scope) || (!filter.at_scope && covers(&scope, &assignment.scope))
        })
        .filter(|assignment| {
            filter.principal.as_deref().is_none_or(|principal| {
                assignment.property("principalId").is_some_and(|p| p.eq_ignore_ascii_case(principal))
            })
        })
        .map(|assignment| (assignment.sequence, assignment.body.clone()))
        .collect();
    drop(store);
    listing::page(shared, uri, items)
}

/// `GET {scope}/providers/Microsoft.Authorization/roleDefinitions`, with `$filter=roleName eq
/// '{name}'` or `type eq 'BuiltInRole'`.
fn list_definitions(shared: &Shared, uri: &Uri, path: &AuthorizationPath) -> Result<Response, ArmError> {
    let filter = query_parameter(uri, "$filter");
    let wanted_name = match filter.as_deref() {
        None => None,
        Some(text) => {
            let lower = text.trim().to_ascii_lowercase();
            if lower.starts_with("rolename eq ") {
                quoted(&text.trim()["rolename eq ".len()..])
            } else if lower.replace(' ', "") == "typeeq'builtinrole'" {
                None
            } else {
                return Err(ArmError::bad_request("InvalidFilter", format!("The filter '{text}' is not supported."))
                    .with_target("$filter"));
            }
        }
    };
    {
        let store = shared.store();
        resolve_scope(&store, &path.scope)?;
    }
    let items = BUILT_IN_ROLES
        .iter()
        .filter(|role| wanted_name.as_deref().is_none_or(|name| role.name.eq_ignore_ascii_case(name)))
        .zip(0..)
        .map(|(role, place)| (place, role.body(path.subscription())))
        .collect();
    listing::page(shared, uri, items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_azure_actions_do() {
        assert!(wildcard_match("*", PUBLIC_IP_JOIN));
        assert!(wildcard_match("Microsoft.Network/*", SUBNET_JOIN));
        assert!(wildcard_match("*/read", "Microsoft.Network/publicIPAddresses/read"));
        assert!(!wildcard_match("*/read", PUBLIC_IP_JOIN));
        assert!(wildcard_match("Microsoft.Authorization/*/Write", "microsoft.authorization/roleAssignments/write"));
        assert!(!wildcard_match("Microsoft.Network/dnsZones/*", PUBLIC_IP_JOIN));
    }

    #[test]
    fn owner_contributor_and_network_contributor_may_join_and_reader_may_not() {
        for (role, joins) in [(OWNER, true), (CONTRIBUTOR, true), (NETWORK_CONTRIBUTOR, true), (READER, false)] {
            let role = built_in_role(role).unwrap();
            assert_eq!(role.allows(PUBLIC_IP_JOIN), joins, "{}", role.name);
            assert_eq!(role.allows(SUBNET_JOIN), joins, "{}", role.name);
        }
        let contributor = built_in_role(CONTRIBUTOR).unwrap();
        assert!(!contributor.allows("Microsoft.Authorization/roleAssignments/write"));
        assert!(built_in_role(OWNER).unwrap().allows("Microsoft.Authorization/roleAssignments/write"));
    }

    #[test]
    fn scopes_cover_what_is_below_them_only() {
        let subnet = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a";
        assert!(covers("/subscriptions/s", subnet));
        assert!(covers("/subscriptions/s/resourcegroups/RG", subnet));
        assert!(covers("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v", subnet));
        assert!(covers(subnet, subnet));
        assert!(!covers("/subscriptions/s/resourceGroups/r", subnet));
        assert!(!covers("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v2", subnet));
    }

    #[test]
    fn filters_and_query_values_parse() {
        assert_eq!(parse_filter("atScope()").unwrap(), Filter { at_scope: true, principal: None });
        assert_eq!(
            parse_filter("atScope() and principalId eq 'AB'").unwrap(),
            Filter { at_scope: true, principal: Some("AB".into()) }
        );
        assert_eq!(parse_filter("assignedTo('x')").unwrap().principal.as_deref(), Some("x"));
        assert_eq!(parse_filter("roleName eq 'Owner'").unwrap_err().code, "InvalidFilter");
        let uri: Uri = "/x?api-version=1&%24filter=principalId%20eq%20%27a-b%27".parse().unwrap();
        assert_eq!(query_parameter(&uri, "$filter").as_deref(), Some("principalId eq 'a-b'"));
        assert!(is_guid(OWNER));
        assert!(!is_guid("not-a-guid"));
        assert!(!is_guid("8e3af657a8ff443ca75c2fe8c4bcb635"));
    }
}
