//! Snapshot tests of what users see, drift as each renderer shows it, and the Markdown size
//! limit.

use super::markdown::{self, GITHUB_COMMENT_LIMIT, MarkdownOptions};
use super::{json, text};
use crate::model::Value;
use crate::plan::fixtures::*;
use crate::plan::{FieldPath, Plan, SavedPlan, plan};
use crate::refresh::{Drift, DriftKind, FieldDrift};
use crate::state::State;

fn realistic_plan() -> Plan {
    let (mut desired, state) = realistic();
    // A multi-line value, shown as a diff of lines.
    let web = desired.iter_mut().find(|r| r.address.to_string() == "service.web").unwrap();
    web.attributes.insert(
        "annotations".into(),
        Value::map([("example.com/notes", "serves the shop\nbehind the public IP\nowned by team web\n")]),
    );
    let planned = plan(&desired, &state).unwrap();
    assert!(planned.diagnostics.is_empty());
    planned.plan
}

/// The JSON without the version of the build, so that releases do not change the snapshot.
fn without_version(json: &str) -> String {
    json.replace(
        &format!("\"aksform_version\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"aksform_version\": \"[version]\"",
    )
}

#[test]
fn text_plan() {
    insta::assert_snapshot!(text::render(&realistic_plan(), &text::TextOptions { color: false }));
}

#[test]
fn text_without_changes() {
    let desired = with_reference_dependencies(vec![resource_group()]);
    let state = state(desired.iter().map(record).collect());
    let plan = plan(&desired, &state).unwrap().plan;
    assert_eq!(
        text::render(&plan, &text::TextOptions { color: false }),
        "No changes. The stack matches the recorded state.\n"
    );
}

#[test]
fn text_colour_only_when_asked() {
    let plan = realistic_plan();
    let plain = text::render(&plan, &text::TextOptions { color: false });
    let coloured = text::render(&plan, &text::TextOptions { color: true });
    assert!(!plain.contains('\u{1b}'));
    assert!(coloured.contains("\u{1b}[32m"), "green for creates");
    assert!(coloured.contains("\u{1b}[35m"), "magenta for replacements");
    assert!(coloured.contains("\u{1b}[31m"), "red for deletes");
    assert_eq!(anstream::adapter::strip_str(&coloured).to_string(), plain);

    let mut written = Vec::new();
    text::write(&plan, &text::TextOptions { color: false }, &mut written as &mut dyn std::io::Write).unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), plain);
}

#[test]
fn json_plan() {
    insta::assert_snapshot!(without_version(&json::render(&realistic_plan()).unwrap()));
}

#[test]
fn json_saved_plan_has_its_origin() {
    let (_, state) = realistic();
    let saved = SavedPlan::new(realistic_plan(), "shop-prod", Some(&state), "sha256:0123abcd");
    let document: serde_json::Value = serde_json::from_str(&json::render_saved(&saved).unwrap()).unwrap();
    assert_eq!(document["format_version"], 1);
    assert_eq!(document["stack"], "shop-prod");
    assert_eq!(document["state_serial"], 7);
    assert_eq!(document["state_lineage"], state.lineage.as_str());
    assert_eq!(document["config_hash"], "sha256:0123abcd");
    assert_eq!(document["summary"]["create"], 4);
}

#[test]
fn markdown_plan() {
    insta::assert_snapshot!(markdown::render(&realistic_plan(), &MarkdownOptions::default()));
}

#[test]
fn markdown_of_twenty_thousand_actions_stays_under_the_comment_limit() {
    let desired: Vec<_> = (0..20_000).map(|i| standalone(public_ip(&format!("ip{i:05}")))).collect();
    let recorded: Vec<_> = (0..500).map(|i| record(&standalone(public_ip(&format!("gone{i:03}"))))).collect();
    let plan = plan(&desired, &state(recorded)).unwrap().plan;
    assert_eq!(plan.actions().len(), 20_500);
    let comment = markdown::render(&plan, &MarkdownOptions::default());
    assert!(comment.chars().count() <= GITHUB_COMMENT_LIMIT, "{} characters", comment.chars().count());
    assert!(comment.contains("| 20000 | 0 | 0 | 500 |"), "the summary is kept");
    assert!(comment.contains("> **Warning**: this plan destroys or replaces 500 resources: `public_ip.gone000`"));
    assert!(comment.contains(" more\n"), "the warning names some and counts the rest");
    let shown = comment.matches("<details>").count();
    assert!(shown > 10, "as many details as fit: {shown}");
    let note = format!("> **Note**: {} actions were left out", 20_500 - shown);
    assert!(comment.contains(&note), "{}", &comment[comment.len() - 300..]);
    assert!(comment.trim_end().ends_with("Run `aksform plan` locally for the full plan."));
}

#[test]
fn markdown_within_a_small_limit_keeps_the_summary_and_warning() {
    let plan = realistic_plan();
    let comment = markdown::render(&plan, &MarkdownOptions { limit: 1_200, ..MarkdownOptions::default() });
    assert!(comment.len() <= 1_200, "{}", comment.len());
    assert!(comment.contains("> **Warning**"));
    assert!(comment.contains("actions were left out"));
}

#[test]
fn markdown_without_changes() {
    let plan = plan(&[], &State::new("shop")).unwrap().plan;
    let comment = markdown::render(&plan, &MarkdownOptions::default());
    assert!(comment.contains("No changes."));
    assert!(!comment.contains("<details>"));
}

#[test]
fn multi_line_values_show_as_a_diff_of_lines() {
    let notes = |text: &str| {
        let mut namespace = standalone(namespace());
        namespace.attributes.insert("annotations".into(), Value::map([("notes", text)]));
        namespace
    };
    let state = state(vec![record(&notes("one\ntwo\nthree\n"))]);
    let plan = plan(&[notes("one\n2\nthree\n")], &state).unwrap().plan;
    let text = text::render(&plan, &text::TextOptions { color: false });
    assert!(text.contains("      ~ annotations.notes:\n          @@ -1,3 +1,3 @@\n           one\n          -two\n          +2\n           three\n"), "{text}");
    let comment = markdown::render(&plan, &MarkdownOptions::default());
    assert!(
        comment.contains("~ annotations.notes:\n  @@ -1,3 +1,3 @@\n      one\n-     two\n+     2\n      three\n"),
        "{comment}"
    );
}

/// A Service whose port was changed outside aksform, and a public IP deleted outside it.
fn drift() -> Vec<Drift> {
    vec![
        Drift { address: "public_ip.web".parse().unwrap(), kind: DriftKind::Deleted },
        Drift {
            address: "service.redis".parse().unwrap(),
            kind: DriftKind::Changed(vec![
                FieldDrift {
                    path: FieldPath::attribute("labels").key("team"),
                    recorded: Value::str("data"),
                    live: Value::Null,
                },
                FieldDrift {
                    path: FieldPath::attribute("ports").index(0).key("port"),
                    recorded: Value::Int(6379),
                    live: Value::Int(6380),
                },
            ]),
        },
    ]
}

const DRIFT_TEXT: &str = "Changed outside aksform since the last apply:
  - public_ip.web was deleted outside aksform
  ~ service.redis was changed outside aksform
      ~ labels.team: \"data\" → null
      ~ ports[0].port: 6379 → 6380

";

#[test]
fn text_and_markdown_show_drift_before_the_plan_alike() {
    assert_eq!(text::render_drift(&drift()), DRIFT_TEXT);
    assert_eq!(markdown::render_drift(&drift()), DRIFT_TEXT);
    assert_eq!(text::render_drift(&[]), "");
    assert_eq!(markdown::render_drift(&[]), "");
}

#[test]
fn json_lists_drift_only_when_there_is_some() {
    let plan = realistic_plan();
    let document: serde_json::Value = serde_json::from_str(&json::render_with_drift(&plan, &drift()).unwrap()).unwrap();
    assert_eq!(
        document["drift"],
        serde_json::json!([
            { "address": "public_ip.web", "kind": "public_ip", "status": "deleted", "changes": [] },
            {
                "address": "service.redis",
                "kind": "service",
                "status": "changed",
                "changes": [
                    { "path": ["labels", "team"], "recorded": "data", "live": null },
                    { "path": ["ports", 0, "port"], "recorded": 6379, "live": 6380 }
                ]
            }
        ])
    );
    assert_eq!(document["summary"]["create"], 4, "the plan is there as without drift");
    let without: serde_json::Value = serde_json::from_str(&json::render(&plan).unwrap()).unwrap();
    assert!(without.get("drift").is_none());
    assert_eq!(json::render_with_drift(&plan, &[]).unwrap(), json::render(&plan).unwrap());
}
