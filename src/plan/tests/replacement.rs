//! Replacement rules on whole plans: migrations, AKS180, and what goes along with a replaced resource.

use super::*;

fn cluster_with(changes: &[(&str, Value)]) -> Resource {
    let mut cluster = cluster("1.30");
    for (k, v) in changes {
        cluster.attributes.insert(k.to_string(), v.clone());
    }
    cluster
}

fn plan_cluster(before: Resource, after: Resource) -> Planned {
    let state = state(vec![record(&resource_group()), record(&before)]);
    planned(&[resource_group(), after], &state)
}

fn kubenet() -> Resource {
    cluster_with(&[
        ("network_plugin", Value::str("kubenet")),
        ("network_plugin_mode", Value::Null),
        ("network_policy", Value::Null),
        ("pod_cidr", Value::str("10.244.0.0/16")),
    ])
}

#[test]
fn kubenet_to_overlay_is_an_update() {
    let overlay = cluster_with(&[("network_policy", Value::Null), ("pod_cidr", Value::str("10.244.0.0/16"))]);
    let planned = plan_cluster(kubenet(), overlay);
    assert_eq!(action(&planned.plan, "cluster.shop").action, ActionKind::Update);
    assert!(planned.diagnostics.is_empty());
}

#[test]
fn overlay_back_to_kubenet_is_a_replacement() {
    let overlay = cluster_with(&[("network_policy", Value::Null), ("pod_cidr", Value::str("10.244.0.0/16"))]);
    let mut kubenet = kubenet();
    kubenet.allow_replace = true;
    let planned = plan_cluster(overlay, kubenet);
    let cluster = action(&planned.plan, "cluster.shop");
    assert_eq!(cluster.action, ActionKind::Replace);
    assert_eq!(
        change(cluster, "network_plugin").replace_reason.as_deref(),
        Some("changing property 'networkProfile.networkPlugin' is not allowed")
    );
    assert!(planned.diagnostics.is_empty(), "allowed by allow_replace");
}

#[test]
fn azure_cni_to_overlay_is_an_update() {
    let node_subnet = cluster_with(&[("network_plugin_mode", Value::Null), ("pod_cidr", Value::Null)]);
    let planned = plan_cluster(node_subnet, cluster("1.30"));
    assert_eq!(action(&planned.plan, "cluster.shop").action, ActionKind::Update);
}

#[test]
fn an_overlay_pod_cidr_can_grow_in_place_but_not_shrink() {
    let larger = cluster_with(&[("pod_cidr", Value::str("192.168.0.0/15"))]);
    let planned = plan_cluster(cluster("1.30"), larger.clone());
    assert_eq!(action(&planned.plan, "cluster.shop").action, ActionKind::Update);

    let planned = plan_cluster(larger, cluster("1.30"));
    let cluster = action(&planned.plan, "cluster.shop");
    assert_eq!(cluster.action, ActionKind::Replace);
    assert_eq!(change(cluster, "pod_cidr").replace_reason.as_deref(), Some("an overlay pod CIDR can only be expanded"));
}

#[test]
fn replacing_a_cluster_without_permission_is_an_error() {
    let planned = plan_cluster(cluster("1.30"), cluster_with(&[("service_cidr", Value::str("10.1.0.0/16"))]));
    assert_eq!(action(&planned.plan, "cluster.shop").action, ActionKind::Replace, "the plan is still shown");
    let errors: Vec<&Diagnostic> = planned.diagnostics.iter().collect();
    assert_eq!(errors.len(), 1);
    let error = errors[0];
    assert_eq!(error.code, "AKS180");
    assert!(error.is_error());
    assert_eq!(
        error.message,
        "`cluster.shop` would be deleted and created again: \
         service_cidr cannot change in place (the service CIDR cannot change after creation)"
    );
    assert_eq!(error.primary_span(), Some(cluster("1.30").span));
    assert_eq!(
        error.help.as_deref(),
        Some(
            "if you mean to delete and recreate this cluster, set `allow_replace = true` in it or pass `--allow-replace cluster.shop`"
        )
    );
}

#[test]
fn allow_replace_permits_replacing_a_cluster() {
    let mut changed = cluster_with(&[("dns_prefix", Value::str("shop2"))]);
    changed.allow_replace = true;
    let planned = plan_cluster(cluster("1.30"), changed);
    assert_eq!(action(&planned.plan, "cluster.shop").action, ActionKind::Replace);
    assert!(planned.diagnostics.is_empty());
}

#[test]
fn the_application_routing_add_on_turns_on_and_off_in_place() {
    let off = cluster_with(&[("web_app_routing", Value::Bool(false))]);
    let on = cluster_with(&[("web_app_routing", Value::Bool(true))]);
    for (before, after) in [(off.clone(), on.clone()), (on, off)] {
        let planned = plan_cluster(before, after);
        let cluster = action(&planned.plan, "cluster.shop");
        assert_eq!(cluster.action, ActionKind::Update);
        let fields: Vec<String> = cluster.changes().iter().map(|c| c.path.to_string()).collect();
        assert_eq!(fields, ["web_app_routing"]);
        assert!(cluster.changes().iter().all(|c| c.replace_reason.is_none()));
    }
}

/// Plans `before` (recorded) against `before` with `change` applied.
fn plan_change(before: Vec<Resource>, change: impl FnOnce(&mut Vec<Resource>)) -> Planned {
    let state = state(before.iter().map(record).collect());
    let mut desired = before;
    change(&mut desired);
    planned(&desired, &state)
}

fn replaced_along_with(plan: &Plan, address_text: &str) -> Option<String> {
    let action = action(plan, address_text);
    assert_eq!(action.action, ActionKind::Replace, "{address_text}");
    action.replaced_along_with.as_ref().map(ToString::to_string)
}

#[test]
fn a_replaced_cluster_takes_its_node_pools_and_everything_in_it_along() {
    let before = vec![
        resource_group(),
        vnet(),
        subnet("nodes", "10.20.0.0/22"),
        cluster("1.30"),
        node_pool("system", 3, 110),
        public_ip("web"),
        namespace(),
        service("web"),
    ];
    let planned = plan_change(before, |desired| {
        desired[3].attributes.insert("dns_prefix".into(), Value::str("shop2"));
        desired[3].allow_replace = true;
    });
    for child in ["cluster.shop.node_pool.system", "namespace.shop", "service.web", "public_ip.web"] {
        assert_eq!(replaced_along_with(&planned.plan, child).as_deref(), Some("cluster.shop"), "{child}");
    }
    assert!(planned.plan.action_for(&address("vnet.shop.subnet.nodes")).is_none());
    assert!(planned.diagnostics.is_empty());
}

#[test]
fn a_replaced_resource_group_takes_what_is_in_it_along() {
    let before = vec![resource_group(), vnet(), cluster("1.30"), dns_zone()];
    let planned = plan_change(before, |desired| {
        desired[0].attributes.insert("location".into(), Value::str("northeurope"));
    });
    for resource in ["vnet.shop", "cluster.shop", "dns_zone.\"example.com\""] {
        assert_eq!(replaced_along_with(&planned.plan, resource).as_deref(), Some("resource_group.shop"));
    }
    let errors: Vec<&str> = planned.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        errors,
        ["`cluster.shop` would be deleted and created again: `resource_group.shop`, which it is in, is replaced"],
        "the cluster would go with its resource group"
    );
}

#[test]
fn a_replaced_namespace_takes_its_services_along() {
    let before = vec![resource_group(), cluster("1.30"), public_ip("web"), namespace(), service("web")];
    let planned = plan_change(before, |desired| {
        desired[3].attributes.insert("name".into(), Value::str("store"));
        desired[4].attributes.insert("namespace".into(), Value::str("store"));
    });
    let service = action(&planned.plan, "service.web");
    assert_eq!(service.action, ActionKind::Replace);
    assert!(change(service, "namespace").replace_reason.is_some());
}

#[test]
fn a_replaced_subnet_takes_the_node_pools_on_it_along() {
    let before =
        vec![resource_group(), vnet(), subnet("nodes", "10.20.0.0/22"), cluster("1.30"), node_pool("system", 3, 110)];
    let planned = plan_change(before, |desired| {
        desired[2].attributes.insert("name".into(), Value::str("nodes2"));
    });
    assert_eq!(
        replaced_along_with(&planned.plan, "cluster.shop.node_pool.system").as_deref(),
        Some("vnet.shop.subnet.nodes")
    );
    assert!(planned.plan.action_for(&address("cluster.shop")).is_none());
}

#[test]
fn a_kubernetes_object_naming_its_cluster_by_reference_is_replaced_with_it() {
    let mut ns = namespace();
    ns.attributes.insert("cluster".into(), reference("cluster.shop", "name"));
    let before = vec![resource_group(), cluster("1.30"), ns];
    let state = state(vec![
        record(&before[0]),
        record(&before[1]),
        recorded(&before[2], &[("cluster.shop.name", Value::str("shop"))]),
    ]);
    let mut desired = before;
    desired[1].attributes.insert("service_cidr".into(), Value::str("10.1.0.0/16"));
    let planned = planned(&desired, &state);
    assert_eq!(action(&planned.plan, "namespace.shop").replaced_along_with, Some(address("cluster.shop")));
}

#[test]
fn a_replaced_vnet_takes_its_subnets_along() {
    let before = vec![resource_group(), vnet(), subnet("nodes", "10.20.0.0/22")];
    let planned = plan_change(before, |desired| {
        desired[1].attributes.insert("location".into(), Value::str("northeurope"));
    });
    assert_eq!(replaced_along_with(&planned.plan, "vnet.shop.subnet.nodes").as_deref(), Some("vnet.shop"));
    assert!(action(&planned.plan, "vnet.shop.subnet.nodes").changes().is_empty());
}

fn route_table(location: &str) -> Resource {
    let table = resource(
        "route_table.egress",
        &[
            ("name", Value::str("egress")),
            ("resource_group", Value::str("shop-prod")),
            ("location", Value::str(location)),
            ("routes", Value::List(vec![])),
        ],
    );
    needing(table, &["resource_group.shop"])
}

fn routed_subnet() -> Resource {
    let mut subnet = subnet("nodes", "10.20.0.0/22");
    subnet.attributes.insert("route_table".into(), Value::str("route_table.egress"));
    needing(subnet, &["route_table.egress"])
}

#[test]
fn replacing_a_route_table_a_subnet_stays_on_is_an_error_that_says_how_to_do_it() {
    let before = [resource_group(), vnet(), route_table("westeurope"), routed_subnet()];
    let recorded = state(before.iter().map(record).collect());
    let after = [resource_group(), vnet(), route_table("northeurope"), routed_subnet()];
    let shown = planned(&after, &recorded);
    assert_eq!(action(&shown.plan, "route_table.egress").action, ActionKind::Replace, "the plan is still shown");
    let errors: Vec<&Diagnostic> = shown.diagnostics.iter().filter(|d| d.code == "AKS184").collect();
    assert_eq!(errors.len(), 1, "{:?}", shown.diagnostics);
    assert_eq!(errors[0].message, "`route_table.egress` would be replaced while `vnet.shop.subnet.nodes` uses it");
    let help = errors[0].help.as_deref().unwrap_or_default();
    assert!(help.contains("InUseRouteTableCannotBeDeleted") && help.contains("point `route_table` at it"), "{help}");

    // A table no subnet uses is replaced without a word.
    let mut unused = routed_subnet();
    unused.attributes.remove("route_table");
    let before = [resource_group(), vnet(), route_table("westeurope"), unused.clone()];
    let quiet = planned(
        &[resource_group(), vnet(), route_table("northeurope"), unused],
        &state(before.iter().map(record).collect()),
    );
    assert!(quiet.diagnostics.iter().all(|d| d.code != "AKS184"), "{:?}", quiet.diagnostics);
}
