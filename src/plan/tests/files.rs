//! Saved plan files: round trip, versions, damage and staleness.

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
    assert!(loaded.plan.actions().iter().any(|a| a.changes().iter().any(|c| c.after.is_unknown())));
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
