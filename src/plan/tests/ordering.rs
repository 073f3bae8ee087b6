//! The order of actions and the dependencies between steps.

use super::*;

#[test]
fn creates_follow_dependencies_in_layers_each_sorted_by_address() {
    let desired = vec![
        public_ip("web"),
        subnet("nodes", "10.20.0.0/22"),
        vnet(),
        node_pool("system", 3, 110),
        cluster("1.30"),
        resource_group(),
    ];
    let planned = planned(&desired, &State::new("shop"));
    let order: Vec<String> = planned.plan.actions().iter().map(|a| a.address.to_string()).collect();
    assert_eq!(
        order,
        [
            "resource_group.shop",
            "vnet.shop",
            "cluster.shop",
            "vnet.shop.subnet.nodes",
            "public_ip.web",
            "cluster.shop.node_pool.system"
        ]
    );
    let steps = step_list(&planned.plan);
    let pool = position(&steps, "create cluster.shop.node_pool.system");
    let deps: Vec<&str> = planned.plan.dependencies_of(pool).iter().map(|&d| steps[d].as_str()).collect();
    assert_eq!(deps, ["create cluster.shop", "create vnet.shop.subnet.nodes"]);
}

#[test]
fn deletes_run_in_reverse_dependency_order() {
    let before =
        [resource_group(), vnet(), subnet("nodes", "10.20.0.0/22"), cluster("1.30"), node_pool("system", 3, 110)];
    let state = state(before.iter().map(record).collect());
    let planned = planned(&[], &state);
    let steps = step_list(&planned.plan);
    assert_eq!(
        steps,
        [
            "delete cluster.shop.node_pool.system",
            "delete vnet.shop.subnet.nodes",
            "delete cluster.shop",
            "delete vnet.shop",
            "delete resource_group.shop"
        ]
    );
    let group = position(&steps, "delete resource_group.shop");
    assert_eq!(planned.plan.dependencies_of(group), [2, 3]);
}

#[test]
fn a_replacement_deletes_before_it_creates_children_first_down_and_last_up() {
    let before =
        vec![resource_group(), vnet(), subnet("nodes", "10.20.0.0/22"), cluster("1.30"), node_pool("system", 3, 110)];
    let state = state(before.iter().map(record).collect());
    let mut desired = before.clone();
    desired[3].attributes.insert("dns_prefix".into(), Value::str("shop2"));
    desired[3].allow_replace = true;
    let planned = planned(&desired, &state);
    let steps = step_list(&planned.plan);
    assert_eq!(
        steps,
        [
            "delete cluster.shop.node_pool.system",
            "delete cluster.shop",
            "create cluster.shop",
            "create cluster.shop.node_pool.system"
        ]
    );
    assert_eq!(planned.plan.dependencies_of(2), [1]);
    assert_eq!(planned.plan.dependencies_of(3), [0, 2]);
    let shown: Vec<String> = planned.plan.actions().iter().map(|a| a.address.to_string()).collect();
    assert_eq!(shown, ["cluster.shop", "cluster.shop.node_pool.system"], "shown where created, parent first");
}

#[test]
fn a_resource_is_deleted_only_after_what_used_it_lets_go() {
    let before = [resource_group(), cluster("1.30"), public_ip("old"), namespace(), service("old")];
    let state = state(before.iter().map(record).collect());
    let desired = vec![resource_group(), cluster("1.30"), public_ip("web"), namespace(), service("web")];
    let planned = planned(&desired, &state);
    assert_eq!(action(&planned.plan, "service.web").action, ActionKind::Update);
    let steps = step_list(&planned.plan);
    let create = position(&steps, "create public_ip.web");
    let update = position(&steps, "update service.web");
    let delete = position(&steps, "delete public_ip.old");
    assert!(create < update && update < delete, "{steps:?}");
    assert!(planned.plan.dependencies_of(delete).contains(&update));
}

#[test]
fn steps_of_an_action_are_found_by_index() {
    let state = state(vec![record(&standalone(node_pool("apps", 2, 30)))]);
    let planned = planned(&[standalone(node_pool("apps", 2, 50))], &state);
    let steps: Vec<Operation> = planned.plan.steps_of(0).map(|s| planned.plan.steps()[s].operation).collect();
    assert_eq!(steps, [Operation::Delete, Operation::Create]);
    assert!(planned.plan.dependencies_of(99).is_empty());
}

#[test]
fn an_object_moved_to_a_new_address_is_deleted_before_it_is_created() {
    let old = standalone(public_ip("web"));
    let mut moved = old.clone();
    moved.address = address("public_ip.front");
    let mut other = standalone(public_ip("other"));
    other.address = address("public_ip.api");
    let state = state(vec![record(&old)]);
    let planned = planned(&[moved, other], &state);
    let steps = step_list(&planned.plan);
    let delete = position(&steps, "delete public_ip.web");
    let create = position(&steps, "create public_ip.front");
    assert_eq!(planned.plan.dependencies_of(create), [delete], "same name, same resource group: same object");
    assert!(planned.plan.dependencies_of(position(&steps, "create public_ip.api")).is_empty());
}

#[test]
fn a_targeted_create_takes_the_creates_it_waits_for_and_says_for_which() {
    let desired = vec![
        resource_group(),
        vnet(),
        subnet("nodes", "10.20.0.0/22"),
        cluster("1.30"),
        node_pool("system", 3, 110),
        public_ip("web"),
    ];
    let planned = planned(&desired, &State::new("shop"));
    let subnet_address = address("vnet.shop.subnet.nodes");
    let (plan, added) = planned.plan.only_with_dependencies(|a| a == &subnet_address);
    let kept: Vec<String> = plan.actions().iter().map(|a| a.address.to_string()).collect();
    assert_eq!(kept, ["resource_group.shop", "vnet.shop", "vnet.shop.subnet.nodes"]);
    assert_eq!(added, [(subnet_address, vec![address("resource_group.shop"), address("vnet.shop")])]);
    let steps = step_list(&plan);
    let create = position(&steps, "create vnet.shop.subnet.nodes");
    assert_eq!(plan.dependencies_of(create).len(), 1, "{steps:?}");
}

#[test]
fn a_targeted_delete_takes_nothing_more() {
    let before = [resource_group(), vnet(), subnet("nodes", "10.20.0.0/22")];
    let state = state(before.iter().map(record).collect());
    let planned = planned(&[], &state);
    let vnet_address = address("vnet.shop");
    let (plan, added) = planned.plan.only_with_dependencies(|a| a == &vnet_address);
    assert_eq!(plan.actions().len(), 1);
    assert!(added.is_empty());
}
