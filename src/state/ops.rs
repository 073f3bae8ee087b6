//! The edits and views behind `aksform state list | show | rm | mv`, as pure functions on a
//! [`State`]. Loading, locking and saving are the caller's.

use std::collections::HashMap;
use std::fmt::Write;

use super::{ResourceState, State, StateError};
use crate::model::Address;

/// Every recorded address, parents each followed by their children.
pub fn list(state: &State) -> Vec<&Address> {
    let mut addresses: Vec<&Address> = state.addresses().collect();
    addresses.sort_by(|a, b| super::address_order(a, b));
    addresses
}

/// What is recorded for `address`, for people: a header with the address, provider id and
/// dependencies, then one aligned `name = value` line per attribute.
pub fn show(state: &State, address: &Address) -> Result<String, StateError> {
    let resource = state.get(address).ok_or_else(|| not_in_state(state, address))?;
    let mut out = String::new();
    // `fmt::Write` for a String cannot fail.
    let _ = writeln!(out, "# {}", resource.address);
    let _ = writeln!(out, "# provider id: {}", resource.provider_id.as_deref().unwrap_or("(none recorded)"));
    if !resource.dependencies.is_empty() {
        let dependencies: Vec<String> = resource.dependencies.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "# depends on: {}", dependencies.join(", "));
    }
    if resource.attributes.is_empty() {
        out.push_str("# no attributes recorded\n");
    }
    let width = resource.attributes.keys().map(|name| name.chars().count()).max().unwrap_or(0);
    for (name, value) in &resource.attributes {
        let _ = writeln!(out, "{name:width$} = {value}");
    }
    Ok(out)
}

/// Forgets `address` and its children (a subnet cannot be recorded without its vnet),
/// without touching what exists in Azure. Other resources stop depending on what was
/// forgotten. Returns the forgotten records, the resource first.
pub fn remove(state: &mut State, address: &Address) -> Result<Vec<ResourceState>, StateError> {
    let resource = state.remove(address).ok_or_else(|| not_in_state(state, address))?;
    let (children, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut state.resources)
        .into_iter()
        .partition(|r| r.address.parent_address().as_ref() == Some(address));
    state.resources = kept;
    let mut removed = vec![resource];
    removed.extend(children);
    for resource in &mut state.resources {
        resource.dependencies.retain(|dependency| !removed.iter().any(|r| &r.address == dependency));
    }
    Ok(removed)
}

/// Records the resource at `from` under `to` instead, with its children (`vnet.a` →
/// `vnet.b` also moves `vnet.a.subnet.x` to `vnet.b.subnet.x`), and updates every
/// dependency on them. Returns each move made, the resource first.
pub fn move_resource(state: &mut State, from: &Address, to: &Address) -> Result<Vec<(Address, Address)>, StateError> {
    if from == to {
        return Err(StateError::MoveToSameAddress { address: from.clone() });
    }
    if from.kind != to.kind {
        return Err(StateError::KindMismatch { from: Box::new(from.clone()), to: Box::new(to.clone()) });
    }
    if !state.contains(from) {
        return Err(not_in_state(state, from));
    }
    if let Some(parent) = to.parent_address()
        && to.parent != from.parent
        && !state.contains(&parent)
    {
        return Err(StateError::ParentNotInState { to: Box::new(to.clone()), parent: Box::new(parent) });
    }
    let mut moves = vec![(from.clone(), to.clone())];
    for resource in &state.resources {
        if resource.address.parent_address().as_ref() == Some(from) {
            let child = &resource.address;
            moves.push((child.clone(), to.child(child.kind, child.name.clone())));
        }
    }
    if let Some((_, taken)) = moves.iter().find(|(_, target)| state.contains(target)) {
        return Err(StateError::AlreadyInState { address: taken.clone() });
    }

    let renamed: HashMap<&Address, &Address> = moves.iter().map(|(old, new)| (old, new)).collect();
    for resource in &mut state.resources {
        if let Some(new) = renamed.get(&resource.address) {
            resource.address = (*new).clone();
        }
        for dependency in &mut resource.dependencies {
            if let Some(new) = renamed.get(dependency) {
                *dependency = (*new).clone();
            }
        }
    }
    state.sort_resources();
    Ok(moves)
}

fn not_in_state(state: &State, address: &Address) -> StateError {
    let recorded: Vec<String> = state.addresses().map(ToString::to_string).collect();
    let suggestion =
        crate::diag::closest(&address.to_string(), recorded.iter().map(String::as_str)).map(str::to_string);
    StateError::NotInState { address: address.clone(), suggestion }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Value;

    fn address(text: &str) -> Address {
        text.parse().unwrap()
    }

    fn resource(text: &str, dependencies: &[&str]) -> ResourceState {
        let mut resource = ResourceState::new(address(text));
        resource.dependencies = dependencies.iter().map(|d| address(d)).collect();
        resource
    }

    /// A resource group, two vnets with subnets and a peering, and a cluster whose node
    /// pool lives in a subnet.
    fn shop() -> State {
        let mut state = State::new("shop");
        state.lineage = "5b1c0e9a-0000-4000-8000-000000000000".into();
        for resource in [
            resource("resource_group.shop", &[]),
            resource("vnet.a", &["resource_group.shop"]),
            resource("vnet.a.subnet.nodes", &["vnet.a"]),
            resource("vnet.a.subnet.pods", &["vnet.a"]),
            resource("vnet.a.peering.to_b", &["vnet.a", "vnet.b"]),
            resource("vnet.b", &["resource_group.shop"]),
            resource("cluster.k", &["vnet.a.subnet.nodes"]),
            resource("cluster.k.node_pool.apps", &["cluster.k", "vnet.a.subnet.pods"]),
        ] {
            state.upsert(resource);
        }
        state
    }

    fn listed(state: &State) -> Vec<String> {
        list(state).into_iter().map(ToString::to_string).collect()
    }

    fn dependencies_of(state: &State, text: &str) -> Vec<String> {
        state.get(&address(text)).unwrap().dependencies.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn lists_parents_followed_by_their_children() {
        let mut state = shop();
        state.resources.reverse();
        assert_eq!(
            listed(&state),
            [
                "resource_group.shop",
                "vnet.a",
                "vnet.a.subnet.nodes",
                "vnet.a.subnet.pods",
                "vnet.a.peering.to_b",
                "vnet.b",
                "cluster.k",
                "cluster.k.node_pool.apps",
            ]
        );
    }

    #[test]
    fn shows_provider_id_dependencies_then_aligned_attributes() {
        let mut state = shop();
        let vnet = state.get_mut(&address("vnet.a")).unwrap();
        vnet.provider_id =
            Some("/subscriptions/0000/resourceGroups/shop/providers/Microsoft.Network/virtualNetworks/a".into());
        vnet.attributes.insert("address_space".into(), Value::list(["10.0.0.0/16"]));
        vnet.attributes.insert("location".into(), Value::str("westeurope"));
        vnet.attributes.insert("dns_servers".into(), Value::List(vec![]));
        vnet.attributes.insert("tags".into(), Value::map([("team", Value::str("web")), ("tier", Value::Int(1))]));
        insta::assert_snapshot!(show(&state, &address("vnet.a")).unwrap(), @r#"
        # vnet.a
        # provider id: /subscriptions/0000/resourceGroups/shop/providers/Microsoft.Network/virtualNetworks/a
        # depends on: resource_group.shop
        address_space = ["10.0.0.0/16"]
        dns_servers   = []
        location      = "westeurope"
        tags          = {team = "web", tier = 1}
        "#);
        insta::assert_snapshot!(show(&state, &address("resource_group.shop")).unwrap(), @r"
        # resource_group.shop
        # provider id: (none recorded)
        # no attributes recorded
        ");
    }

    #[test]
    fn showing_an_absent_address_suggests_a_recorded_one() {
        let error = show(&shop(), &address("vnet.aa")).unwrap_err();
        insta::assert_snapshot!(error, @"vnet.aa is not in the state (did you mean `vnet.a`?); `aksform state list` shows what is");
        let error = show(&shop(), &address("dns_zone.zzz")).unwrap_err();
        insta::assert_snapshot!(error, @"dns_zone.zzz is not in the state; `aksform state list` shows what is");
    }

    #[test]
    fn removes_a_resource_and_the_dependencies_on_it() {
        let mut state = shop();
        let removed = remove(&mut state, &address("vnet.b")).unwrap();
        assert_eq!(removed, vec![resource("vnet.b", &["resource_group.shop"])]);
        assert!(!listed(&state).contains(&"vnet.b".to_string()));
        assert_eq!(dependencies_of(&state, "vnet.a.peering.to_b"), ["vnet.a"]);
    }

    #[test]
    fn removing_a_parent_removes_its_children() {
        let mut state = shop();
        let removed: Vec<String> =
            remove(&mut state, &address("cluster.k")).unwrap().iter().map(|r| r.address.to_string()).collect();
        assert_eq!(removed, ["cluster.k", "cluster.k.node_pool.apps"]);
        assert_eq!(state.resources.len(), 6);
    }

    #[test]
    fn removing_an_absent_address_fails_with_a_suggestion_and_changes_nothing() {
        let mut state = shop();
        let error = remove(&mut state, &address("vnet.a.subnet.node")).unwrap_err();
        insta::assert_snapshot!(error, @"vnet.a.subnet.node is not in the state (did you mean `vnet.a.subnet.nodes`?); `aksform state list` shows what is");
        assert_eq!(state, shop());
    }

    #[test]
    fn moves_a_resource_and_rewrites_dependencies_on_it() {
        let mut state = shop();
        let moves = move_resource(&mut state, &address("vnet.b"), &address("vnet.hub")).unwrap();
        assert_eq!(moves, vec![(address("vnet.b"), address("vnet.hub"))]);
        assert!(state.contains(&address("vnet.hub")) && !state.contains(&address("vnet.b")));
        assert_eq!(dependencies_of(&state, "vnet.a.peering.to_b"), ["vnet.a", "vnet.hub"]);
        assert_eq!(listed(&state)[5], "vnet.hub", "vnet.hub takes the place of vnet.b");
    }

    #[test]
    fn moving_a_parent_moves_its_children() {
        let mut state = shop();
        let moves = move_resource(&mut state, &address("vnet.a"), &address("vnet.spoke")).unwrap();
        let moved: Vec<String> = moves.iter().map(|(from, to)| format!("{from} -> {to}")).collect();
        assert_eq!(
            moved,
            [
                "vnet.a -> vnet.spoke",
                "vnet.a.subnet.nodes -> vnet.spoke.subnet.nodes",
                "vnet.a.subnet.pods -> vnet.spoke.subnet.pods",
                "vnet.a.peering.to_b -> vnet.spoke.peering.to_b",
            ]
        );
        assert_eq!(
            listed(&state),
            [
                "resource_group.shop",
                "vnet.b",
                "vnet.spoke",
                "vnet.spoke.subnet.nodes",
                "vnet.spoke.subnet.pods",
                "vnet.spoke.peering.to_b",
                "cluster.k",
                "cluster.k.node_pool.apps",
            ]
        );
        assert_eq!(dependencies_of(&state, "vnet.spoke.subnet.nodes"), ["vnet.spoke"]);
        assert_eq!(dependencies_of(&state, "cluster.k.node_pool.apps"), ["cluster.k", "vnet.spoke.subnet.pods"]);
    }

    #[test]
    fn moves_a_child_to_another_recorded_parent() {
        let mut state = shop();
        move_resource(&mut state, &address("vnet.a.subnet.pods"), &address("vnet.b.subnet.pods")).unwrap();
        assert!(state.contains(&address("vnet.b.subnet.pods")));
        assert_eq!(dependencies_of(&state, "cluster.k.node_pool.apps"), ["cluster.k", "vnet.b.subnet.pods"]);
    }

    #[test]
    fn refused_moves_say_why_and_change_nothing() {
        let cases = [
            (
                "vnet.c",
                "vnet.d",
                "vnet.c is not in the state (did you mean `vnet.b`?); `aksform state list` shows what is",
            ),
            (
                "vnet.a",
                "vnet.b",
                "vnet.b is already in the state; pick another address, or forget the one recorded with `aksform state rm vnet.b`",
            ),
            ("vnet.a", "vnet.a", "vnet.a is both where to move from and where to move to: nothing to move"),
            (
                "vnet.a",
                "cluster.a",
                "cannot move vnet.a to cluster.a: a virtual network can only move to another vnet address (`vnet.<new name>`)",
            ),
            (
                "vnet.a.subnet.pods",
                "vnet.c.subnet.pods",
                "cannot move to vnet.c.subnet.pods: vnet.c is not in the state; move vnet.c first (its children move with it)",
            ),
            (
                "vnet.a.subnet.pods",
                "vnet.a.subnet.nodes",
                "vnet.a.subnet.nodes is already in the state; pick another address, or forget the one recorded with `aksform state rm vnet.a.subnet.nodes`",
            ),
        ];
        for (from, to, message) in cases {
            let mut state = shop();
            let error = move_resource(&mut state, &address(from), &address(to)).unwrap_err();
            assert_eq!(error.to_string(), message);
            assert_eq!(state, shop(), "{from} -> {to}");
        }
    }

    #[test]
    fn a_parent_move_is_refused_when_a_child_target_is_taken() {
        let mut state = shop();
        // A stray child recorded without its parent still must not be overwritten.
        state.upsert(resource("vnet.c.subnet.nodes", &[]));
        let before = state.clone();
        let error = move_resource(&mut state, &address("vnet.a"), &address("vnet.c")).unwrap_err();
        assert!(matches!(&error, StateError::AlreadyInState { address: a } if a.to_string() == "vnet.c.subnet.nodes"));
        assert_eq!(state, before);
    }
}
