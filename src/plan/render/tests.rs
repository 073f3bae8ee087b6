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
    insta::assert_snapshot!(markdown::render(&realistic_plan(), &[], &options()));
}

fn options() -> MarkdownOptions {
    MarkdownOptions {
        title: "aksform plan for `shop-prod`".into(),
        stack: "shop-prod".into(),
        ..MarkdownOptions::default()
    }
}

#[test]
fn markdown_of_twenty_thousand_actions_stays_under_the_comment_limit() {
    let desired: Vec<_> = (0..20_000).map(|i| standalone(public_ip(&format!("ip{i:05}")))).collect();
    let recorded: Vec<_> = (0..500).map(|i| record(&standalone(public_ip(&format!("gone{i:03}"))))).collect();
    let plan = plan(&desired, &state(recorded)).unwrap().plan;
    assert_eq!(plan.actions().len(), 20_500);
    let comment = markdown::render(&plan, &[], &options());
    assert!(comment.chars().count() <= GITHUB_COMMENT_LIMIT, "{} characters", comment.chars().count());
    assert!(comment.starts_with("<!-- aksform:plan stack=shop-prod -->\n### aksform plan for `shop-prod`\n"));
    assert!(comment.contains("| 20000 | 0 | 0 | 500 |"), "the summary is kept");
    assert!(comment.contains("> **Warning**: this plan destroys 500 resources (500 `public_ip`).\n"));
    assert!(comment.contains("\n- `- public_ip.gone000` destroy\n"), "destroys are named one by one");
    assert!(comment.contains("\n- `- public_ip.gone499` destroy\n"), "all 500 fit");
    let shown = comment.matches("<details>").count();
    assert!(shown > 10, "as many details as fit: {shown}");
    assert!(comment.contains("<code>- public_ip.gone000</code>"));
    assert!(!comment.contains("<code>+ public_ip.ip"), "the details of destroys come first");
    let note = format!("> **Note**: {} other changes are not shown in detail", 20_500 - shown);
    assert!(comment.contains(&note), "{}", &comment[comment.len() - 400..]);
    assert!(comment.trim_end().ends_with("for it as text."));
}

/// 3,000 destroys (2,000 Services, 1,000 public IPs) and one cluster replaced: the comment
/// names the replacement and counts every destroy, however many details are left out.
#[test]
fn markdown_never_hides_a_destroy_or_a_replacement() {
    let (desired, _) = realistic();
    let mut recorded: Vec<_> = desired.iter().map(record).collect();
    // The recorded cluster ran on another service CIDR: it is replaced.
    let cluster = recorded.iter_mut().find(|r| r.address.to_string() == "cluster.shop").unwrap();
    cluster.attributes.insert("service_cidr".into(), Value::str("10.1.0.0/16"));
    cluster.attributes.insert("dns_service_ip".into(), Value::str("10.1.0.10"));
    let mut service = record(&standalone(service("web")));
    for i in 0..2_000 {
        service.address = format!("service.old{i:04}").parse().unwrap();
        recorded.push(service.clone());
    }
    for i in 0..1_000 {
        recorded.push(record(&standalone(public_ip(&format!("gone{i:03}")))));
    }
    let mut desired = desired;
    desired.iter_mut().find(|r| r.address.to_string() == "cluster.shop").unwrap().allow_replace = true;
    let planned = plan(&desired, &state(recorded)).unwrap();
    let plan = planned.plan;
    let summary = plan.summary();
    assert_eq!(summary.delete, 3_000);
    assert!(summary.replace >= 1);
    let replaced = plan.actions().iter().filter(|a| a.action == crate::plan::ActionKind::Replace).count();

    let comment = markdown::render(&plan, &[], &options());
    assert!(comment.chars().count() <= GITHUB_COMMENT_LIMIT, "{} characters", comment.chars().count());
    assert!(comment.len() <= GITHUB_COMMENT_LIMIT, "{} bytes", comment.len());
    assert_eq!(replaced, 6, "the cluster, and what lives in it");
    assert!(comment.contains(&format!("| {} | {} | 6 | 3000 |", summary.create, summary.update)), "exact totals");
    assert!(
        comment.contains("this plan destroys 3000 resources (1000 `public_ip`, 2000 `service`) and replaces"),
        "{}",
        &comment[..1_000]
    );
    assert!(
        comment.contains("\n- `-/+ cluster.shop` replace — dns_service_ip, service_cidr cannot change in place\n"),
        "the replacement is named with its reason"
    );
    assert!(
        comment
            .contains("replaces 6 resources (1 `public_ip`, 1 `cluster`, 2 `node_pool`, 1 `namespace`, 1 `service`)")
    );
    let warning = comment.find("> **Warning**").unwrap();
    let cluster_line = comment.find("`-/+ cluster.shop`").unwrap();
    let first_destroy = comment.find("`- public_ip.gone000`").or(comment.find("`- service.old0000`")).unwrap();
    assert!(warning < cluster_line && cluster_line < first_destroy, "replacements are named before destroys");
    let named = comment.matches("\n- `- ").count();
    assert!(named > 100 && named < 3_000, "as many destroys named as fit: {named}");
    assert!(comment.contains(&format!("\n- and {} more to destroy, named in the full plan\n", 3_000 - named)));
    assert!(comment.contains("other changes are not shown in detail"));
    assert!(comment.contains("plan artifact of this run"));
}

#[test]
fn markdown_shows_drift_as_a_list() {
    let comment = markdown::render(&realistic_plan(), &drift(), &options());
    let section = "#### Changed outside aksform since the last apply\n\n\
                   - `public_ip.web` was deleted outside aksform\n\
                   - `service.redis` was changed outside aksform:\n  \
                   - `labels.team`: `\"data\"` → `null`\n  \
                   - `ports[0].port`: `6379` → `6380`\n\n";
    assert!(comment.contains(section), "{comment}");
    assert!(comment.find(section).unwrap() < comment.find("> **Warning**").unwrap(), "drift comes before the changes");
    assert!(!markdown::render(&realistic_plan(), &[], &options()).contains("Changed outside"));
}

#[test]
fn the_marker_cannot_be_closed_by_a_stack_name() {
    assert_eq!(markdown::marker("shop-prod"), "<!-- aksform:plan stack=shop-prod -->");
    assert_eq!(markdown::marker("a --> b"), "<!-- aksform:plan stack=a%20-%2D%3E%20b -->");
    assert_eq!(markdown::marker("é"), "<!-- aksform:plan stack=%C3%A9 -->");
}

#[test]
fn markdown_shows_a_diagram_only_when_it_fits() {
    let plan = realistic_plan();
    let diagram = "flowchart LR\n  a --> b\n".to_string();
    let with = markdown::render(&plan, &[], &MarkdownOptions { diagram: Some(diagram.clone()), ..options() });
    assert!(with.contains("<details><summary>Diagram of the change</summary>\n\n```mermaid\nflowchart LR\n  a --> b\n```\n\n</details>"), "{with}");
    let small = markdown::render(&plan, &[], &MarkdownOptions { diagram: Some(diagram), limit: 1_500, ..options() });
    assert!(small.len() <= 1_500);
    assert!(!small.contains("```mermaid"));
    assert!(small.contains("The diagram of the change is left out too"));
}

#[test]
fn markdown_within_a_small_limit_keeps_the_summary_and_warning() {
    let plan = realistic_plan();
    let comment = markdown::render(&plan, &[], &MarkdownOptions { limit: 1_200, ..options() });
    assert!(comment.len() <= 1_200, "{}", comment.len());
    assert!(comment.contains("> **Warning**"));
    assert!(comment.contains("other changes are not shown in detail"));
}

#[test]
fn markdown_without_changes() {
    let plan = plan(&[], &State::new("shop")).unwrap().plan;
    let comment = markdown::render(&plan, &[], &options());
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
    let comment = markdown::render(&plan, &[], &options());
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
fn text_shows_drift_before_the_plan() {
    assert_eq!(text::render_drift(&drift()), DRIFT_TEXT);
    assert_eq!(text::render_drift(&[]), "");
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

fn realistic_picture() -> super::picture::Picture {
    let (desired, state) = realistic();
    let plan = plan(&desired, &state).unwrap().plan;
    super::picture::picture(&desired, Some(&state), &plan)
}

#[test]
fn the_picture_marks_each_resource_and_draws_the_relations() {
    use super::picture::Status;
    let picture = realistic_picture();
    let node = |first: &str| {
        picture.nodes.iter().position(|n| n.lines[0] == first).unwrap_or_else(|| panic!("{first}: {picture:#?}"))
    };
    let status = |first: &str| picture.nodes[node(first)].status;
    assert_eq!(status("subnet ilb"), Status::Created);
    assert_eq!(status("subnet nodes"), Status::Unchanged);
    assert_eq!(status("cluster shop"), Status::Changed);
    assert_eq!(status("node pool apps"), Status::Replaced);
    assert_eq!(status("public IP old"), Status::Destroyed, "a recorded resource the stack no longer has");
    assert_eq!(status("service web"), Status::Created);
    assert_eq!(picture.nodes[node("subnet ilb")].lines, ["subnet ilb", "10.20.8.0/24"]);
    assert_eq!(
        picture.nodes[node("service web")].lines,
        ["service web", "LoadBalancer", "(known after apply)", "ports 80, 443"]
    );
    let group = |index: usize| picture.nodes[index].group.map(|g| picture.groups[g].label.as_str());
    assert_eq!(group(node("subnet nodes")), Some("vnet shop · 10.20.0.0/16"));
    assert_eq!(group(node("cluster shop")), Some("resource group shop-prod"));
    assert_eq!(group(node("service web")), Some("namespace shop"));
    assert_eq!(group(node("DNS record shop")), Some("DNS zone example.com"));
    let edge = |from: &str, to: &str| picture.edges.contains(&super::picture::Edge { from: node(from), to: node(to) });
    assert!(edge("public IP web", "service web"));
    assert!(edge("DNS record shop", "service web"));
    assert!(edge("subnet nodes", "cluster shop"), "a node pool's subnet, drawn to its cluster");
    assert!(edge("cluster shop", "node pool apps"));
    assert!(!edge("service web", "public IP web"), "relations have a direction");
}

#[test]
fn dot_declares_every_node_it_links_and_escapes_labels() {
    use super::dot;
    let mut picture = realistic_picture();
    picture.nodes[0].lines[0] = "a \"quoted\" \\ name\nover lines".to_string();
    let text = dot::render(&picture);
    assert!(text.starts_with("digraph aksform {\n") && text.ends_with("}\n"));
    assert_eq!(text.matches('{').count(), text.matches('}').count(), "{text}");
    assert!(text.contains("label=\"a \\\"quoted\\\" \\\\ name over lines"), "{text}");
    let declared: Vec<String> =
        text.lines().filter_map(|l| l.trim().split_once(" [label=").map(|(id, _)| id.to_string())).collect();
    assert_eq!(declared.len(), picture.nodes.len());
    for line in text.lines().filter(|l| l.contains(" -> ")) {
        let (from, to) = line.trim().trim_end_matches(';').split_once(" -> ").unwrap();
        assert!(declared.iter().any(|d| d == from) && declared.iter().any(|d| d == to), "{line}");
    }
    assert_eq!(text.matches(" -> ").count(), picture.edges.len());
    assert!(text.contains("style=\"filled,dashed\", fillcolor=\"#ffebe9\""), "destroyed nodes are dashed");
    assert!(text.contains("style=\"filled,bold\", fillcolor=\"#fbefff\""), "replaced nodes are bold");
    assert_eq!(text.matches("subgraph cluster_g").count(), picture.groups.len());
}

#[test]
fn mermaid_labels_cannot_close_their_quotes() {
    use super::mermaid::escape;
    assert_eq!(escape("a \"b\" #c <d> [e]"), "a #quot;b#quot; #35;c #lt;d#gt; #91;e#93;");
    assert_eq!(escape("x\ny"), "x y");
    assert_eq!(escape("日本 🚀"), "日本 🚀");
}

#[test]
fn a_saved_plan_keeps_its_drift_and_picture() {
    let (_, state) = realistic();
    let mut saved = SavedPlan::new(realistic_plan(), "shop-prod", Some(&state), "sha256:0123abcd");
    saved.drift = drift();
    saved.picture = Some(realistic_picture());
    let json = json::render_saved(&saved).unwrap();
    let read = SavedPlan::from_json(&json).unwrap();
    assert_eq!(read, saved);
    let document: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        document["drift"][0],
        serde_json::json!({ "address": "public_ip.web", "kind": "public_ip", "status": "deleted", "changes": [] })
    );
    let without = SavedPlan::new(realistic_plan(), "shop-prod", Some(&state), "sha256:0123abcd");
    let document: serde_json::Value = serde_json::from_str(&json::render_saved(&without).unwrap()).unwrap();
    assert!(document.get("drift").is_none() && document.get("picture").is_none());
}
