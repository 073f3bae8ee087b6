//! How references to other resources' attributes resolve at plan time.

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
