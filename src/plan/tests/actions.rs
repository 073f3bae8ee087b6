//! Which action each resource gets: create, update, replace, delete or none.

use super::*;

#[test]
fn a_resource_not_in_the_state_is_created() {
    let desired = [standalone(public_ip("web"))];
    let planned = planned(&desired, &State::new("shop"));
    let web = action(&planned.plan, "public_ip.web");
    assert_eq!(web.action, ActionKind::Create);
    assert!(web.changes().iter().all(|c| c.before == Value::Null));
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
    assert_eq!(pool.changes().len(), 1);
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
    let paths: Vec<String> = pool.changes().iter().map(|c| c.path.to_string()).collect();
    assert_eq!(paths, ["labels.team", "max_surge"]);
}
