//! Role assignments (`Microsoft.Authorization/roleAssignments`) at any scope, Azure's built-in
//! role definitions, and, with `EmulatorOptions::authorization`, the check AKS's cloud provider
//! meets when a load balancer's frontend joins a public IP or subnet outside the node resource
//! group.

mod common;

use aksform_sandbox::arm::{
    CONTRIBUTOR, EmulatorOptions, LatencySettings, NETWORK_CONTRIBUTOR, OWNER, PUBLIC_IP_JOIN, READER, SUBNET_JOIN,
};
use common::{Arm, SUB, network, rg};
use serde_json::{Value, json};

fn assignment(scope: &str, name: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}")
}

fn assignments(scope: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/roleAssignments")
}

fn role(id: &str) -> String {
    format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{id}")
}

fn grant(role_id: &str, principal: &str) -> Value {
    json!({ "properties": { "roleDefinitionId": role(role_id), "principalId": principal, "principalType": "ServicePrincipal" } })
}

const PRINCIPAL: &str = "11111111-2222-3333-4444-555555555555";
const OTHER: &str = "99999999-8888-7777-6666-555555555555";
const NAME: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

fn names(reply: &Value) -> Vec<String> {
    reply["value"].as_array().unwrap().iter().map(|item| item["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn role_assignments_are_written_at_once_at_any_scope_and_checked_as_azure_checks_them() {
    let arm = Arm::start();
    let subnet = arm.network("rg");
    let subnet_id = arm.get(&subnet).body["id"].as_str().unwrap().to_string();
    let vnet_id = subnet_id.rsplit_once("/subnets/").unwrap().0.to_string();

    // The name must be a GUID.
    let refused = arm.put(&assignment(&subnet, "not-a-guid"), grant(NETWORK_CONTRIBUTOR, PRINCIPAL));
    let refused = refused.expect_error(400, "InvalidRoleAssignmentId");
    assert_eq!(
        refused.body["error"]["message"],
        "The role assignment ID 'not-a-guid' is not valid. The role assignment ID must be a GUID."
    );

    // Created at once (no operation), on the subnet in canonical casing.
    let path = assignment(&subnet.to_ascii_lowercase(), NAME);
    let created = arm.put(&path, grant(NETWORK_CONTRIBUTOR, PRINCIPAL)).expect(&[201]);
    assert!(created.header("azure-asyncoperation").is_none());
    let body = created.body.clone();
    assert_eq!(body["id"], assignment(&subnet_id, NAME));
    assert_eq!(body["type"], "Microsoft.Authorization/roleAssignments");
    assert_eq!(body["name"], NAME);
    let properties = &body["properties"];
    assert_eq!(properties["roleDefinitionId"], role(NETWORK_CONTRIBUTOR));
    assert_eq!(properties["principalId"], PRINCIPAL);
    assert_eq!(properties["principalType"], "ServicePrincipal");
    assert_eq!(properties["scope"], subnet_id);
    for null in ["condition", "conditionVersion", "delegatedManagedIdentityResourceId", "description", "createdBy"] {
        assert!(properties[null].is_null(), "{null}: {body}");
    }
    assert!(properties["createdOn"].is_string() && properties["updatedOn"].is_string(), "{body}");
    assert_eq!(arm.get(&assignment(&subnet, NAME)).expect(&[200]).body, body);

    // The same again is 200; the same role for the same principal under another name is 409;
    // changing who or what is refused.
    let again = arm.put(&assignment(&subnet, NAME), grant(NETWORK_CONTRIBUTOR, PRINCIPAL)).expect(&[200]);
    assert_eq!(again.body["properties"]["createdOn"], properties["createdOn"]);
    let twin = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    let exists = arm.put(&assignment(&subnet, twin), grant(NETWORK_CONTRIBUTOR, PRINCIPAL));
    let exists = exists.expect_error(409, "RoleAssignmentExists");
    assert_eq!(exists.body["error"]["message"], "The role assignment already exists.");
    for change in [grant(NETWORK_CONTRIBUTOR, OTHER), grant(CONTRIBUTOR, PRINCIPAL)] {
        let refused = arm.put(&assignment(&subnet, NAME), change).expect_error(400, "RoleAssignmentUpdateNotPermitted");
        assert_eq!(
            refused.body["error"]["message"],
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated."
        );
    }
    // Another principal under the twin name is another assignment.
    arm.put(&assignment(&subnet, twin), grant(NETWORK_CONTRIBUTOR, OTHER)).expect(&[201]);
    // The name is taken, at any scope.
    arm.put(&assignment(&rg("rg"), NAME), grant(NETWORK_CONTRIBUTOR, PRINCIPAL))
        .expect_error(400, "RoleAssignmentUpdateNotPermitted");

    // What the body must hold.
    let fresh = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    let unknown_role = arm.put(&assignment(&subnet, fresh), grant("00000000-0000-0000-0000-00000000beef", PRINCIPAL));
    let unknown_role = unknown_role.expect_error(400, "RoleDefinitionDoesNotExist");
    assert_eq!(
        unknown_role.body["error"]["message"],
        "The specified role definition with ID '00000000-0000-0000-0000-00000000beef' does not exist."
    );
    arm.put(&assignment(&subnet, fresh), grant(READER, "someone")).expect_error(400, "InvalidPrincipalId");
    arm.put(
        &assignment(&subnet, fresh),
        json!({ "properties": { "roleDefinitionId": "Reader", "principalId": PRINCIPAL } }),
    )
    .expect_error(400, "InvalidRoleDefinitionId");
    let extra = json!({ "properties": { "roleDefinitionId": role(READER), "principalId": PRINCIPAL, "canDelegateEverything": true } });
    arm.put(&assignment(&subnet, fresh), extra).expect_error(400, "InvalidRequestContent");

    // The scope must exist.
    arm.put(&assignment(&rg("nowhere"), fresh), grant(READER, PRINCIPAL)).expect_error(404, "ResourceGroupNotFound");
    arm.put(&assignment(&network("rg", "publicIPAddresses/none"), fresh), grant(READER, PRINCIPAL))
        .expect_error(404, "ResourceNotFound");
    arm.put(&assignment(&network("rg", "virtualNetworks/none/subnets/aks"), fresh), grant(READER, PRINCIPAL))
        .expect_error(404, "ParentResourceNotFound");
    arm.get(&assignment(&subnet, fresh)).expect_error(404, "RoleAssignmentNotFound");
    let wrong_version = arm.send(
        reqwest::Method::GET,
        &format!("{}{}?api-version=2024-05-01", arm.emulator.url(), assignment(&subnet, NAME)),
        None,
    );
    wrong_version.expect_error(400, "InvalidApiVersionParameter");
    let preview = arm.send(
        reqwest::Method::GET,
        &format!("{}{}?api-version=2020-04-01-preview", arm.emulator.url(), assignment(&subnet, NAME)),
        None,
    );
    assert_eq!(preview.expect(&[200]).body["id"], body["id"]);

    // At the vnet, the group and the subscription too.
    let subscription = format!("/subscriptions/{SUB}");
    let on_vnet = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    let on_group = "a8098c1a-f86e-11da-bd1a-00112444be1e";
    let on_subscription = "16fd2706-8baf-433b-82eb-8c7fada847da";
    arm.put(&assignment(&vnet_id, on_vnet), grant(CONTRIBUTOR, OTHER)).expect(&[201]);
    arm.put(&assignment(&rg("rg"), on_group), grant(OWNER, PRINCIPAL)).expect(&[201]);
    let at_subscription = arm.put(&assignment(&subscription, on_subscription), grant(READER, PRINCIPAL)).expect(&[201]);
    assert_eq!(at_subscription.body["properties"]["scope"], subscription);
    assert!(arm.emulator.resources().iter().any(|r| r.arm_type == "Microsoft.Authorization/roleAssignments"
        && r.id == assignment(&subscription, on_subscription)));

    // Lists: at, above and below the scope; atScope() at and above; one principal's.
    let at_vnet = arm.get(&assignments(&vnet_id)).expect(&[200]).body;
    assert_eq!(names(&at_vnet), vec![NAME, twin, on_vnet, on_group, on_subscription]);
    let at_group_only = arm.get(&format!("{}?$filter=atScope()", assignments(&rg("rg")))).expect(&[200]).body;
    assert_eq!(names(&at_group_only), vec![on_group, on_subscription]);
    let mine = arm
        .get(&format!("{}?%24filter=principalId%20eq%20%27{PRINCIPAL}%27", assignments(&subscription)))
        .expect(&[200])
        .body;
    assert_eq!(names(&mine), vec![NAME, on_group, on_subscription]);
    arm.get(&format!("{}?$filter=roleName eq 'x'", assignments(&subscription))).expect_error(400, "InvalidFilter");
    arm.get(&assignments(&rg("nowhere"))).expect_error(404, "ResourceGroupNotFound");

    // Built-in role definitions.
    let definition = arm
        .get(&format!("{subscription}/providers/Microsoft.Authorization/roleDefinitions/{NETWORK_CONTRIBUTOR}"))
        .expect(&[200])
        .body;
    assert_eq!(definition["id"], role(NETWORK_CONTRIBUTOR));
    assert_eq!(definition["properties"]["roleName"], "Network Contributor");
    assert_eq!(definition["properties"]["type"], "BuiltInRole");
    let actions = definition["properties"]["permissions"][0]["actions"].as_array().unwrap();
    assert!(actions.contains(&json!("Microsoft.Network/*")), "{definition}");
    arm.get(&format!("{subscription}/providers/Microsoft.Authorization/roleDefinitions/{fresh}"))
        .expect_error(404, "RoleDefinitionDoesNotExist");
    let owners = arm
        .get(&format!("{}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName eq 'Owner'", rg("rg")))
        .expect(&[200])
        .body;
    assert_eq!(names(&owners), vec![OWNER]);

    // DELETE answers the assignment, then 204.
    let deleted = arm.delete(&assignment(&vnet_id, on_vnet)).expect(&[200]);
    assert_eq!(deleted.body["name"], on_vnet);
    arm.delete(&assignment(&vnet_id, on_vnet)).expect(&[204]);
    arm.get(&assignment(&vnet_id, on_vnet)).expect_error(404, "RoleAssignmentNotFound");
    arm.delete(&assignment(&vnet_id, "nope")).expect_error(400, "InvalidRoleAssignmentId");

    // Assignments go with their scope: the subnet's with the subnet, the group's with the group.
    arm.remove(&subnet);
    arm.get(&assignment(&subnet_id, NAME)).expect_error(404, "RoleAssignmentNotFound");
    arm.get(&assignment(&rg("rg"), on_group)).expect(&[200]);
    arm.remove(&rg("rg"));
    arm.get(&assignment(&rg("rg"), on_group)).expect_error(404, "RoleAssignmentNotFound");
    let left = arm.get(&assignments(&subscription)).expect(&[200]).body;
    assert_eq!(names(&left), vec![on_subscription]);

    // The provider read is not served.
    let provider = arm.send(
        reqwest::Method::GET,
        &format!("{}{subscription}/providers/Microsoft.Authorization?api-version=2024-03-01", arm.emulator.url()),
        None,
    );
    provider.expect_error(404, "InvalidResourceNamespace");
}

#[test]
fn a_user_assigned_cluster_identity_shows_the_principal_it_is_granted_roles_as() {
    let arm = Arm::start();
    let subnet = arm.network("rg");
    let subnet_id = arm.get(&subnet).body["id"].as_str().unwrap().to_string();
    let identity = format!("{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shop-id", rg("rg"));
    let mut body = common::cluster_body(&subnet_id);
    body["identity"] = json!({ "type": "UserAssigned", "userAssignedIdentities": { identity.clone(): {} } });
    let cluster = common::aks("rg", "managedClusters/shop");
    let created = arm.put(&cluster, body.clone()).expect(&[201]);
    let shown = &created.body["identity"]["userAssignedIdentities"][&identity];
    let principal = shown["principalId"].as_str().expect("a principalId").to_string();
    assert_eq!(principal.len(), 36, "{shown}");
    assert!(shown["clientId"].is_string() && shown["clientId"] != shown["principalId"], "{shown}");
    assert!(created.body["identity"].get("principalId").is_none(), "{}", created.body);
    assert_eq!(arm.wait(&created)["status"], "Succeeded");
    // The same identity, the same principal; a PUT of what a GET shows is accepted.
    let again = arm.get(&cluster).expect(&[200]).body;
    assert_eq!(again["identity"]["userAssignedIdentities"][&identity]["principalId"], json!(principal));
    body["identity"] = again["identity"].clone();
    let updated = arm.put(&cluster, body).expect(&[200]);
    assert_eq!(updated.body["identity"]["userAssignedIdentities"][&identity]["principalId"], json!(principal));
    assert_eq!(arm.wait(&updated)["status"], "Succeeded");
}

#[test]
fn role_assignment_lists_are_paged() {
    let arm = Arm::start_with(EmulatorOptions { page_size: 2, ..Default::default() });
    let subscription = format!("/subscriptions/{SUB}");
    let principals = [
        "a0000000-0000-0000-0000-000000000001",
        "a0000000-0000-0000-0000-000000000002",
        "a0000000-0000-0000-0000-000000000003",
    ];
    let mut expected = Vec::new();
    for (index, principal) in principals.iter().enumerate() {
        let name = format!("b0000000-0000-0000-0000-00000000000{index}");
        arm.put(&assignment(&subscription, &name), grant(READER, principal)).expect(&[201]);
        expected.push(name);
    }
    let first = arm.get(&assignments(&subscription)).expect(&[200]).body;
    assert_eq!(names(&first), expected[..2].to_vec());
    let next = first["nextLink"].as_str().expect("a nextLink").to_string();
    let second = arm.send(reqwest::Method::GET, &next, None).expect(&[200]).body;
    assert_eq!(names(&second), expected[2..].to_vec());
    assert!(second.get("nextLink").is_none(), "{second}");
}

mod load_balancers {
    use k8s_openapi::api::core::v1::{Event, Service};
    use kube::api::{Api, ListParams, PostParams};
    use serde_json::{Value, json};

    use super::*;
    use common::{aks, cluster_body, eventually};

    fn service(name: &str, annotations: Value) -> Service {
        serde_json::from_value(json!({
            "metadata": { "name": name, "namespace": "default", "annotations": annotations },
            "spec": { "type": "LoadBalancer", "selector": { "app": name }, "ports": [{ "port": 80, "targetPort": 8080, "protocol": "TCP" }] }
        }))
        .unwrap()
    }

    fn ingress_ip(runtime: &tokio::runtime::Runtime, api: &Api<Service>, name: &str) -> Option<String> {
        let service = runtime.block_on(api.get(name)).ok()?;
        service.status?.load_balancer?.ingress?.first()?.ip.clone()
    }

    /// The message of the Service's `SyncLoadBalancerFailed` event that names `code`.
    fn warning(runtime: &tokio::runtime::Runtime, events: &Api<Event>, name: &str, code: &str) -> String {
        eventually(&format!("{name}'s {code} event"), || {
            let list = runtime.block_on(events.list(&ListParams::default())).ok()?;
            list.items.into_iter().find_map(|event| {
                let message = event.message.clone()?;
                (event.involved_object.name.as_deref() == Some(name)
                    && event.reason.as_deref() == Some("SyncLoadBalancerFailed")
                    && event.type_.as_deref() == Some("Warning")
                    && message.contains(code))
                .then_some(message)
            })
        })
    }

    #[test]
    fn frontends_outside_the_node_group_need_the_cluster_identity_to_hold_a_role_there() {
        let arm = Arm::start_with(EmulatorOptions {
            latency: LatencySettings { default_ms: 30, ..Default::default() },
            authorization: true,
            ..Default::default()
        });
        let subnet = arm.network("rg");
        let subnet_id = arm.get(&subnet).body["id"].as_str().unwrap().to_string();
        let vnet_id = subnet_id.rsplit_once("/subnets/").unwrap().0.to_string();
        arm.group("ips");
        let static_ip = arm.create(
            &network("ips", "publicIPAddresses/web-ip"),
            json!({ "location": "eastus", "sku": { "name": "Standard" } }),
        );
        let static_ip_id = static_ip["id"].as_str().unwrap().to_string();
        let static_address = static_ip["properties"]["ipAddress"].as_str().unwrap().to_string();
        let cluster = aks("rg", "managedClusters/shop");
        let shown = arm.create(&cluster, cluster_body(&subnet_id));
        let principal = shown["identity"]["principalId"].as_str().unwrap().to_string();

        let runtime = tokio::runtime::Runtime::new().unwrap();
        let client = arm.kube_client(&runtime, &cluster);
        let services: Api<Service> = Api::namespaced(client.clone(), "default");
        let events: Api<Event> = Api::namespaced(client.clone(), "default");
        let create = |service: Service| runtime.block_on(services.create(&PostParams::default(), &service)).unwrap();
        create(service(
            "web",
            json!({ "service.beta.kubernetes.io/azure-pip-name": "web-ip", "service.beta.kubernetes.io/azure-load-balancer-resource-group": "ips" }),
        ));
        create(service("api", json!({ "service.beta.kubernetes.io/azure-load-balancer-internal": "true" })));
        create(service("fresh", json!({})));

        // What AKS makes in its node resource group needs nothing.
        let fresh = eventually("fresh's address", || ingress_ip(&runtime, &services, "fresh"));
        assert!(fresh.starts_with("203.0.113."), "{fresh}");

        // The public IP in another group and the user's subnet are refused, in AKS's words.
        let node_group = "/resourceGroups/MC_rg_shop_eastus/providers/Microsoft.Network/loadBalancers";
        let balancer = format!("/subscriptions/{SUB}{node_group}/kubernetes");
        let message = warning(&runtime, &events, "web", "LinkedAuthorizationFailed");
        let expected = format!(
            "Error syncing load balancer: failed to ensure load balancer: Retriable: false, RetryAfter: 0s, HTTPStatusCode: 403, RawError: {{\"error\":{{\"code\":\"LinkedAuthorizationFailed\",\"message\":\"The client '{principal}' with object id '{principal}' has permission to perform action 'Microsoft.Network/loadBalancers/write' on scope '{balancer}'; however, it does not have permission to perform action(s) '{PUBLIC_IP_JOIN}' on the linked scope(s) '{static_ip_id}' (respectively) or the linked scope(s) are invalid.\"}}}}"
        );
        assert_eq!(message, expected);
        let message = warning(&runtime, &events, "api", "LinkedAuthorizationFailed");
        assert!(
            message.contains(&format!("on scope '/subscriptions/{SUB}{node_group}/kubernetes-internal'")),
            "{message}"
        );
        assert!(
            message.contains(&format!("action(s) '{SUBNET_JOIN}' on the linked scope(s) '{subnet_id}'")),
            "{message}"
        );
        assert_eq!(ingress_ip(&runtime, &services, "web"), None);
        assert_eq!(ingress_ip(&runtime, &services, "api"), None);

        // Reader on the group, or Network Contributor for someone else, grants nothing.
        let ips = rg("ips");
        arm.put(&assignment(&ips, "c0000000-0000-0000-0000-000000000001"), grant(READER, &principal)).expect(&[201]);
        arm.put(&assignment(&ips, "c0000000-0000-0000-0000-000000000002"), grant(NETWORK_CONTRIBUTOR, OTHER))
            .expect(&[201]);
        std::thread::sleep(std::time::Duration::from_millis(1500));
        assert_eq!(ingress_ip(&runtime, &services, "web"), None);

        // Network Contributor on the IP's group: the next resync gives web its address.
        arm.put(&assignment(&ips, "c0000000-0000-0000-0000-000000000003"), grant(NETWORK_CONTRIBUTOR, &principal))
            .expect(&[201]);
        assert_eq!(eventually("web's address", || ingress_ip(&runtime, &services, "web")), static_address);
        assert_eq!(ingress_ip(&runtime, &services, "api"), None);

        // Network Contributor on the subnet's VNet: api gets an address in the subnet.
        arm.put(&assignment(&vnet_id, "c0000000-0000-0000-0000-000000000004"), grant(NETWORK_CONTRIBUTOR, &principal))
            .expect(&[201]);
        let api = eventually("api's address", || ingress_ip(&runtime, &services, "api"));
        assert!(api.starts_with("10.1."), "{api}");
        let internal = arm.get(&network("MC_rg_shop_eastus", "loadBalancers/kubernetes-internal")).expect(&[200]).body;
        assert_eq!(
            internal["properties"]["frontendIPConfigurations"][0]["properties"]["subnet"]["id"],
            json!(subnet_id)
        );
    }
}

fn permissions(scope: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/permissions")
}

#[test]
fn the_callers_permissions_are_listed_at_any_scope_and_role_assignments_it_may_not_write_are_refused() {
    let arm = Arm::start();
    let subnet = arm.network("rg");
    let subscription = format!("/subscriptions/{SUB}");

    // Unlimited, the caller is Owner of the subscription, at every scope below it.
    for scope in [subscription.clone(), rg("rg"), subnet.clone()] {
        let listed = arm.get(&permissions(&scope)).expect(&[200]).body;
        assert_eq!(
            listed,
            json!({ "value": [{ "actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": [] }] }),
            "{scope}"
        );
    }
    // A scope that does not exist is not found; permissions take no name.
    arm.get(&permissions(&rg("gone"))).expect_error(404, "ResourceGroupNotFound");
    arm.get(&format!("{}/x", permissions(&rg("rg")))).expect(&[400, 404]);

    // Limited to Contributor on the subscription and Reader on the group: one entry for each.
    arm.emulator.set_caller_roles(Some(&[("Contributor", &subscription), (READER, &rg("rg"))]));
    let listed = arm.get(&permissions(&subnet)).expect(&[200]).body;
    let entries = listed["value"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{listed}");
    assert_eq!(entries[0]["actions"], json!(["*"]));
    assert!(entries[0]["notActions"].as_array().unwrap().contains(&json!("Microsoft.Authorization/*/Write")));
    assert_eq!(entries[1]["actions"], json!(["*/read"]));
    assert_eq!(arm.get(&permissions(&subscription)).expect(&[200]).body["value"].as_array().unwrap().len(), 1);

    // Contributor may not write or delete role assignments: ARM's refusal, naming the assignment.
    let path = assignment(&subnet, NAME);
    let refused = arm.put(&path, grant(NETWORK_CONTRIBUTOR, PRINCIPAL)).expect_error(403, "AuthorizationFailed");
    let caller = aksform_sandbox::arm::CALLER;
    assert_eq!(
        refused.body["error"]["message"],
        json!(format!(
            "The client '{caller}' with object id '{caller}' does not have authorization to perform action \
             'Microsoft.Authorization/roleAssignments/write' over scope '{path}' or the scope is invalid. If access \
             was recently granted, please refresh your credentials."
        ))
    );
    assert_eq!(arm.get(&assignments(&subnet)).expect(&[200]).body["value"], json!([]));
    let deleted = arm.delete(&path).expect_error(403, "AuthorizationFailed");
    assert!(deleted.body["error"]["message"].as_str().unwrap().contains("roleAssignments/delete"), "{}", deleted.body);

    // User Access Administrator on the group is enough there, and shows in the permissions.
    arm.emulator.set_caller_roles(Some(&[("Contributor", &subscription), ("User Access Administrator", &rg("rg"))]));
    arm.put(&path, grant(NETWORK_CONTRIBUTOR, PRINCIPAL)).expect(&[201]);
    let above = assignment(&subscription, "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    arm.put(&above, grant(READER, PRINCIPAL)).expect_error(403, "AuthorizationFailed");
    // A role assigned to the caller through ARM counts too.
    arm.put(&assignment(&subnet, "7c9e6679-7425-40de-944b-e07fc1f90ae7"), grant(OWNER, caller)).expect(&[201]);
    let listed = arm.get(&permissions(&subnet)).expect(&[200]).body;
    assert_eq!(listed["value"].as_array().unwrap().len(), 3, "{listed}");

    // Unlimited again, as it started; the control endpoint says so.
    arm.emulator.set_caller_roles(None);
    arm.delete(&path).expect(&[200]);
    let shown = arm.send(reqwest::Method::GET, &format!("{}/_emulator/caller", arm.emulator.url()), None);
    assert_eq!(shown.expect(&[200]).body, json!({ "principalId": caller, "roles": null }));
}

#[test]
fn the_caller_is_limited_through_the_control_endpoint() {
    let arm = Arm::start();
    let subnet = arm.network("rg");
    let control = format!("{}/_emulator/caller", arm.emulator.url());
    let limited = json!({ "roles": [{ "role": "Contributor", "scope": format!("/subscriptions/{SUB}") }] });
    arm.send(reqwest::Method::PUT, &control, Some(&limited)).expect(&[200]);
    assert_eq!(arm.send(reqwest::Method::GET, &control, None).body["roles"], limited["roles"]);
    arm.put(&assignment(&subnet, NAME), grant(NETWORK_CONTRIBUTOR, PRINCIPAL)).expect_error(403, "AuthorizationFailed");
    let unknown = json!({ "roles": [{ "role": "Astronaut", "scope": "/" }] });
    arm.send(reqwest::Method::PUT, &control, Some(&unknown)).expect_error(400, "RoleDefinitionDoesNotExist");
    arm.send(reqwest::Method::DELETE, &control, None).expect(&[204]);
    arm.put(&assignment(&subnet, NAME), grant(NETWORK_CONTRIBUTOR, PRINCIPAL)).expect(&[201]);
}
