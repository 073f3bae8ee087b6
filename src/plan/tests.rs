//! Planner tests: actions, reference resolution, replacement rules, ordering and plan files.

use super::fixtures::*;
use super::*;
use crate::model::Kind;
use crate::state::State;

fn planned(desired: &[Resource], state: &State) -> Planned {
    plan(desired, state).unwrap()
}

fn action<'p>(plan: &'p Plan, address_text: &str) -> &'p ResourceAction {
    plan.action_for(&address(address_text)).unwrap_or_else(|| panic!("no action for {address_text}"))
}

fn change<'a>(action: &'a ResourceAction, path: &str) -> &'a FieldChange {
    action.changes.iter().find(|c| c.path.to_string() == path).unwrap_or_else(|| panic!("no change at {path}"))
}

/// The steps as `operation address`, in order.
fn step_list(plan: &Plan) -> Vec<String> {
    plan.steps()
        .iter()
        .map(|s| format!("{:?} {}", s.operation, plan.actions()[s.action].address).to_lowercase())
        .collect()
}

fn position(steps: &[String], step: &str) -> usize {
    steps.iter().position(|s| s == step).unwrap_or_else(|| panic!("no step {step} in {steps:?}"))
}

mod actions {
    use super::*;

    #[test]
    fn a_resource_not_in_the_state_is_created() {
        let desired = [standalone(public_ip("web"))];
        let planned = planned(&desired, &State::new("shop"));
        let web = action(&planned.plan, "public_ip.web");
        assert_eq!(web.action, ActionKind::Create);
        assert!(web.changes.iter().all(|c| c.before == Value::Null));
        assert_eq!(change(web, "address").after, Value::Unknown, "computed fields are known after apply");
        assert_eq!(change(web, "sku").after, Value::str("Standard"));
        assert_eq!(planned.plan.summary(), Summary { create: 1, ..Summary::default() });
    }

    #[test]
    fn a_resource_matching_the_state_is_left_alone() {
        let desired = vec![resource_group(), vnet()];
        let state = state(desired.iter().map(record).collect());
        let planned = planned(&desired, &state);
        assert!(!planned.plan.has_changes());
        assert_eq!(planned.plan.summary().unchanged, 2);
        assert!(planned.plan.steps().is_empty());
    }

    #[test]
    fn a_changeable_field_updates_in_place() {
        let state = state(vec![record(&standalone(node_pool("system", 3, 110)))]);
        let planned = planned(&[standalone(node_pool("system", 5, 110))], &state);
        let pool = action(&planned.plan, "cluster.shop.node_pool.system");
        assert_eq!(pool.action, ActionKind::Update);
        assert_eq!(pool.changes.len(), 1);
        let count = change(pool, "count");
        assert_eq!((&count.before, &count.after), (&Value::Int(3), &Value::Int(5)));
        assert_eq!(pool.provider_id.as_deref(), Some("/id/cluster.shop.node_pool.system"));
    }

    #[test]
    fn a_field_that_cannot_change_in_place_replaces() {
        let state = state(vec![record(&standalone(node_pool("apps", 2, 30)))]);
        let planned = planned(&[standalone(node_pool("apps", 2, 50))], &state);
        let pool = action(&planned.plan, "cluster.shop.node_pool.apps");
        assert_eq!(pool.action, ActionKind::Replace);
        let reasons: Vec<_> = pool.replace_reasons().map(|(p, r)| format!("{p}: {r}")).collect();
        assert_eq!(reasons, ["max_pods: maxPods is fixed when a node pool is created"]);
    }

    #[test]
    fn a_resource_only_in_the_state_is_deleted() {
        let state = state(vec![record(&standalone(public_ip("old")))]);
        let planned = planned(&[], &state);
        let old = action(&planned.plan, "public_ip.old");
        assert_eq!(old.action, ActionKind::Delete);
        assert_eq!(change(old, "address").before, Value::str("20.61.0.4"));
        assert!(old.desired.is_empty());
        assert_eq!(planned.plan.summary(), Summary { delete: 1, ..Summary::default() });
    }

    #[test]
    fn a_replaced_resource_shows_its_computed_fields_as_new() {
        let mut changed = cluster("1.29");
        changed.allow_replace = true;
        changed.attributes.insert("dns_prefix".into(), Value::str("shop2"));
        let state = state(vec![record(&resource_group()), record(&cluster("1.29"))]);
        let planned = planned(&[resource_group(), changed], &state);
        let fqdn = change(action(&planned.plan, "cluster.shop"), "fqdn");
        assert_eq!(fqdn.before, Value::str("shop-1a2b3c4d.hcp.westeurope.azmk8s.io"));
        assert_eq!(fqdn.after, Value::Unknown);
    }

    #[test]
    fn removing_a_map_key_or_a_field_is_a_change() {
        let mut before = standalone(node_pool("system", 3, 110));
        before.attributes.insert("labels".into(), Value::map([("pool", "system"), ("team", "core")]));
        before.attributes.insert("max_surge".into(), Value::str("33%"));
        let state = state(vec![record(&before)]);
        let planned = planned(&[standalone(node_pool("system", 3, 110))], &state);
        let pool = action(&planned.plan, "cluster.shop.node_pool.system");
        assert_eq!(pool.action, ActionKind::Update);
        let paths: Vec<String> = pool.changes.iter().map(|c| c.path.to_string()).collect();
        assert_eq!(paths, ["labels.team", "max_surge"]);
    }
}

mod references {
    use super::*;

    /// The stack around a DNS record for the web Service's address.
    fn stack_with_record() -> Vec<Resource> {
        vec![resource_group(), cluster("1.30"), public_ip("web"), namespace(), service("web"), dns_zone(), dns_record()]
    }

    fn www_cname(attribute: &str) -> Resource {
        let mut www = dns_record();
        www.address = address("dns_record.www");
        www.attributes.insert("name".into(), Value::str("www"));
        www.attributes.insert("type".into(), Value::str("CNAME"));
        www.attributes.insert("records".into(), Value::Null);
        www.attributes.insert("cname".into(), reference("public_ip.web", attribute));
        needing(www, &["public_ip.web"])
    }

    #[test]
    fn a_reference_to_an_unchanged_resource_uses_the_recorded_value() {
        let desired = stack_with_record();
        let state = state(desired.iter().map(record).collect());
        let record = state.get(&address("dns_record.shop")).unwrap();
        assert_eq!(record.attributes["records"], Value::list(["20.61.0.9"]));
        let planned = planned(&desired, &state);
        assert!(!planned.plan.has_changes(), "no perpetual diff: {:#?}", planned.plan.actions());
    }

    #[test]
    fn a_reference_to_a_computed_field_of_a_new_resource_is_unknown() {
        let desired = stack_with_record();
        let planned = planned(&desired, &State::new("shop"));
        let record = action(&planned.plan, "dns_record.shop");
        assert_eq!(change(record, "records").after, Value::List(vec![Value::Unknown]));
        assert_eq!(
            record.desired["records"],
            Value::List(vec![reference("service.web", "address")]),
            "the executor resolves the reference once the Service has its address"
        );
        assert_eq!(record.after_unknown().iter().map(ToString::to_string).collect::<Vec<_>>(), ["records[0]"]);
    }

    #[test]
    fn a_reference_to_a_configured_field_of_a_new_resource_is_known() {
        let mut desired = stack_with_record();
        desired.push(www_cname("fqdn"));
        let planned = planned(&desired, &State::new("shop"));
        let www = action(&planned.plan, "dns_record.www");
        assert_eq!(change(www, "cname").after, Value::str("shop-web.westeurope.cloudapp.azure.com"));
        assert_eq!(www.desired["cname"], Value::str("shop-web.westeurope.cloudapp.azure.com"));
    }

    #[test]
    fn a_reference_to_an_updated_resource_takes_the_recorded_or_the_new_value() {
        let mut desired = stack_with_record();
        desired.push(www_cname("fqdn"));
        let mut state = state(desired.iter().map(record).collect());
        for recorded in &mut state.resources {
            match recorded.address.to_string().as_str() {
                "public_ip.web" => {
                    recorded.attributes.insert("dns_label".into(), Value::str("shop-old"));
                    recorded.attributes.insert("fqdn".into(), Value::str("shop-old.westeurope.cloudapp.azure.com"));
                }
                "dns_record.www" => {
                    recorded.attributes.insert("cname".into(), Value::str("shop-old.westeurope.cloudapp.azure.com"));
                }
                _ => {}
            }
        }
        let planned = planned(&desired, &state);
        assert_eq!(action(&planned.plan, "public_ip.web").action, ActionKind::Update);
        assert!(planned.plan.action_for(&address("dns_record.shop")).is_none(), "the Service's address holds");
        let www = action(&planned.plan, "dns_record.www");
        assert_eq!(www.action, ActionKind::Update);
        assert_eq!(change(www, "cname").after, Value::str("shop-web.westeurope.cloudapp.azure.com"));
    }

    #[test]
    fn a_reference_to_a_replaced_resource_is_unknown_and_can_force_replacement() {
        let mut group = resource_group();
        group.attributes.insert("location".into(), Value::str("northeurope"));
        let mut vnet = vnet();
        vnet.attributes.insert("resource_group".into(), reference("resource_group.shop", "name"));
        let state = state(vec![
            record(&resource_group()),
            recorded(&vnet, &[("resource_group.shop.name", Value::str("shop-prod"))]),
        ]);
        let planned = planned(&[group, vnet], &state);
        assert_eq!(action(&planned.plan, "resource_group.shop").action, ActionKind::Replace);
        let vnet = action(&planned.plan, "vnet.shop");
        assert_eq!(vnet.action, ActionKind::Replace, "a vnet in a new resource group is a new vnet");
        let group = change(vnet, "resource_group");
        assert_eq!(group.after, Value::Unknown);
        assert_eq!(group.replace_reason.as_deref(), Some("the resource group is part of the Azure resource id"));
    }

    #[test]
    fn the_id_of_an_unchanged_resource_is_its_provider_id() {
        let subnet = standalone(subnet("nodes", "10.20.0.0/22"));
        let mut pool = standalone(node_pool("system", 3, 110));
        pool.attributes.insert("subnet".into(), reference("vnet.shop.subnet.nodes", "id"));
        let desired = with_reference_dependencies(vec![subnet, pool]);
        let state = state(vec![
            record(&desired[0]),
            recorded(&desired[1], &[("vnet.shop.subnet.nodes.id", Value::str("/id/vnet.shop.subnet.nodes"))]),
        ]);
        assert!(!planned(&desired, &state).plan.has_changes());
    }
}

mod replacement {
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
        assert_eq!(
            change(cluster, "pod_cidr").replace_reason.as_deref(),
            Some("an overlay pod CIDR can only be expanded")
        );
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
        let before = vec![
            resource_group(),
            vnet(),
            subnet("nodes", "10.20.0.0/22"),
            cluster("1.30"),
            node_pool("system", 3, 110),
        ];
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
        assert!(action(&planned.plan, "vnet.shop.subnet.nodes").changes.is_empty());
    }
}

mod ordering {
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
        let before = vec![
            resource_group(),
            vnet(),
            subnet("nodes", "10.20.0.0/22"),
            cluster("1.30"),
            node_pool("system", 3, 110),
        ];
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
}

mod errors {
    use super::*;

    #[test]
    fn a_dependency_cycle_is_named() {
        let mut a = standalone(public_ip("a"));
        let mut b = standalone(public_ip("b"));
        a.depends_on.push(address("public_ip.b"));
        b.attributes.insert("dns_label".into(), reference("public_ip.a", "name"));
        let desired = with_reference_dependencies(vec![a, b]);
        let error = plan(&desired, &State::new("shop")).unwrap_err();
        assert_eq!(
            error,
            PlanError::Cycle { cycle: vec![address("public_ip.a"), address("public_ip.b"), address("public_ip.a")] }
        );
        assert_eq!(
            error.to_string(),
            "resources depend on each other in a cycle: public_ip.a → public_ip.b → public_ip.a"
        );
        let diagnostic = error.to_diagnostic(&desired);
        assert_eq!(diagnostic.code, "AKS181");
        assert_eq!(diagnostic.labels.len(), 2);
    }

    #[test]
    fn a_cycle_in_a_larger_graph_is_the_shortest_one_through_its_first_member() {
        let mut resources: Vec<Resource> = ["a", "b", "c", "d"].iter().map(|n| standalone(public_ip(n))).collect();
        resources[0].depends_on.push(address("public_ip.b"));
        resources[1].depends_on.push(address("public_ip.c"));
        resources[2].depends_on.push(address("public_ip.a"));
        resources[2].depends_on.push(address("public_ip.d"));
        let error = plan(&resources, &State::new("shop")).unwrap_err();
        let PlanError::Cycle { cycle } = error else { panic!("{error}") };
        let names: Vec<String> = cycle.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["public_ip.a", "public_ip.c", "public_ip.b", "public_ip.a"]);
    }

    #[test]
    fn a_resource_declared_twice_is_an_error() {
        let desired = [standalone(public_ip("a")), standalone(public_ip("a"))];
        let error = plan(&desired, &State::new("shop")).unwrap_err();
        assert_eq!(error, PlanError::DuplicateAddress { address: address("public_ip.a") });
        assert_eq!(error.to_diagnostic(&desired).labels.len(), 2);
    }

    #[test]
    fn a_dependency_on_an_undeclared_resource_is_an_error() {
        let desired = [vnet()];
        let error = plan(&desired, &State::new("shop")).unwrap_err();
        assert_eq!(
            error,
            PlanError::UnknownDependency {
                resource: Box::new(address("vnet.shop")),
                dependency: Box::new(address("resource_group.shop"))
            }
        );
    }
}

mod files {
    use super::*;

    fn saved() -> (SavedPlan, State) {
        let (desired, state) = realistic();
        let planned = planned(&desired, &state);
        (SavedPlan::new(planned.plan, "shop-prod", Some(&state), "sha256:abc"), state)
    }

    #[test]
    fn a_saved_plan_reads_back_the_same() {
        let (saved, _) = saved();
        let text = saved.to_json().unwrap();
        let loaded = SavedPlan::from_json(&text).unwrap();
        assert_eq!(loaded, saved);
        assert!(loaded.plan.actions().iter().any(|a| a.desired.values().any(Value::is_unknown)), "references survive");
        assert!(loaded.plan.actions().iter().any(|a| a.changes.iter().any(|c| c.after.is_unknown())));
    }

    #[test]
    fn another_format_version_is_refused() {
        let (saved, _) = saved();
        let mut json: serde_json::Value = serde_json::from_str(&saved.to_json().unwrap()).unwrap();
        json["format_version"] = 2.into();
        json["aksform_version"] = "9.0.0".into();
        let error = SavedPlan::from_json(&json.to_string()).unwrap_err();
        assert!(matches!(error, PlanFileError::UnsupportedVersion { found: 2, .. }));
        assert!(error.to_string().contains("written by aksform 9.0.0"), "{error}");
        assert!(matches!(SavedPlan::from_json("{}"), Err(PlanFileError::NotAPlan)));
        assert!(matches!(SavedPlan::from_json("not json"), Err(PlanFileError::Malformed(_))));
    }

    #[test]
    fn a_damaged_step_list_is_refused() {
        let (saved, _) = saved();
        let mut json: serde_json::Value = serde_json::from_str(&saved.to_json().unwrap()).unwrap();
        json["steps"][0]["depends_on"] = serde_json::json!([5]);
        let error = SavedPlan::from_json(&json.to_string()).unwrap_err();
        assert!(error.to_string().contains("does not come before it"), "{error}");
    }

    #[test]
    fn a_plan_made_from_another_state_or_configuration_is_stale() {
        let (saved, mut state) = saved();
        assert_eq!(saved.check_current("shop-prod", Some(&state), "sha256:abc"), Ok(()));
        assert_eq!(saved.check_current("shop-prod", Some(&state), "sha256:def"), Err(StalePlan::ConfigChanged));
        assert!(matches!(saved.check_current("other", Some(&state), "sha256:abc"), Err(StalePlan::OtherStack { .. })));
        state.serial += 1;
        assert_eq!(
            saved.check_current("shop-prod", Some(&state), "sha256:abc"),
            Err(StalePlan::StateChanged { planned: 7, current: 8 })
        );
        state.lineage = "other".into();
        assert_eq!(saved.check_current("shop-prod", Some(&state), "sha256:abc"), Err(StalePlan::OtherLineage));
    }
}

#[test]
fn the_realistic_plan_has_each_kind_of_action() {
    let (desired, state) = realistic();
    let planned = planned(&desired, &state);
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    assert_eq!(planned.plan.summary(), Summary { create: 4, update: 2, replace: 1, delete: 1, unchanged: 5 });
    assert_eq!(action(&planned.plan, "cluster.shop").action, ActionKind::Update);
    assert_eq!(action(&planned.plan, "public_ip.old").action, ActionKind::Delete);
    assert_eq!(address("cluster.shop").kind, Kind::Cluster);
}

mod examples {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::state::ResourceState;

    fn load(example: &Path) -> Vec<Resource> {
        let env = |_: &str| Some("00000000-0000-0000-0000-000000000000".to_string());
        let loaded = crate::stack::load(example, &crate::stack::Options::default(), &env).unwrap();
        assert!(!loaded.diagnostics.has_errors(), "{}: {:?}", example.display(), loaded.diagnostics);
        loaded.stack.resources()
    }

    /// The state an apply of `desired` would record: the values sent, references filled in
    /// from what was recorded before, computed fields set by the cloud.
    fn applied(desired: &[Resource]) -> State {
        let created = planned(desired, &State::new("example")).plan;
        let mut state = State::new("example");
        for action in created.actions() {
            let resource = desired.iter().find(|r| r.address == action.address).unwrap();
            let mut attributes: BTreeMap<String, Value> = BTreeMap::new();
            for (name, value) in &action.desired {
                let value = value.resolve(&mut |r| {
                    state.get(&r.address).and_then(|s| s.attributes.get(&r.attribute)).cloned().unwrap_or_default()
                });
                attributes.insert(name.clone(), value);
            }
            for name in resource.computed {
                attributes.insert(name.to_string(), Value::str(format!("{}.{name}", resource.address)));
            }
            state.resources.push(ResourceState {
                address: resource.address.clone(),
                provider_id: Some(format!("/id/{}", resource.address)),
                attributes,
                dependencies: resource.depends_on.clone(),
            });
        }
        state
    }

    #[test]
    fn every_example_plans_and_then_has_no_changes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut examples: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        examples.sort();
        assert!(!examples.is_empty());
        for example in examples {
            let desired = load(&example);
            let first = planned(&desired, &State::new("example"));
            assert!(first.diagnostics.is_empty(), "{}: {:?}", example.display(), first.diagnostics);
            assert_eq!(first.plan.summary().create, desired.len());
            let again = planned(&desired, &applied(&desired));
            assert!(!again.plan.has_changes(), "{}: {:#?}", example.display(), again.plan.actions());
        }
    }

    #[test]
    fn the_shop_example_plans_against_its_recorded_state() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let desired = load(&root.join("examples/shop"));
        let text = std::fs::read_to_string(root.join("state/shop-prod.json")).unwrap();
        let state: State = serde_json::from_str(&text).unwrap();
        let planned = planned(&desired, &state);
        assert!(!planned.diagnostics.has_errors(), "{:?}", planned.diagnostics);
    }
}
