//! The planner on the model's resources for every example stack.

use std::path::Path;

use super::*;

fn load(example: &Path) -> Vec<Resource> {
    let env = |_: &str| Some("00000000-0000-0000-0000-000000000000".to_string());
    let loaded = crate::loading::load(example, &crate::loading::Options::default(), &env).unwrap();
    assert!(!loaded.diagnostics.has_errors(), "{}: {:?}", example.display(), loaded.diagnostics);
    loaded.stack.resources()
}

/// The state an apply of `desired` would record: the values sent, references filled in
/// from what was recorded before, computed fields set by the cloud.
fn applied(desired: &[Resource]) -> State {
    let created = planned(desired, &State::new("example")).plan;
    crate::plan::record::applied(
        &created,
        desired,
        State::new("example"),
        &mut |resource, name| Value::str(format!("{}.{name}", resource.address)),
        &mut |resource| format!("/id/{}", resource.address),
    )
}

#[test]
fn every_example_plans_and_then_has_no_changes() {
    for example in aksform_testkit::example_stacks() {
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
    let text = std::fs::read_to_string(root.join("examples/shop/state/shop-prod.json")).unwrap();
    let state: State = serde_json::from_str(&text).unwrap();
    let planned = planned(&desired, &state);
    assert!(!planned.diagnostics.has_errors(), "{:?}", planned.diagnostics);
}
