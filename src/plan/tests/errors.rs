//! Plans that cannot be made: cycles, duplicates, undeclared dependencies.

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
    assert_eq!(error.to_string(), "resources depend on each other in a cycle: public_ip.a → public_ip.b → public_ip.a");
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
