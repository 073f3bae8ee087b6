//! The diagrams `aksform graph` and the Markdown comment draw, read by Mermaid's own parser
//! (from npm, run on Node with a DOM from jsdom): every example, the comment's diagram, and a
//! picture whose every label is made of what would break a careless writer.

use std::path::{Path, PathBuf};

use aksform::plan::render::mermaid;
use aksform::plan::render::picture::{Edge, Group, Node, Picture, Status};
use assert_cmd::Command;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn aksform() -> Command {
    let mut cmd = Command::cargo_bin("aksform").unwrap();
    cmd.env_remove("AZURE_SUBSCRIPTION_ID").env_remove("AKSFORM_STATE").env("NO_COLOR", "1").current_dir(workspace());
    cmd
}

fn examples() -> Vec<PathBuf> {
    aksform_testkit::example_stacks()
}

/// The recorded state of an example (`shop` has one), else a path where there is none.
fn state_for(example: &Path, empty: &Path) -> PathBuf {
    let recorded = example.join("state/shop-prod.json");
    if example.ends_with("shop") && recorded.is_file() { recorded } else { empty.join("none.json") }
}

/// Runs Mermaid's parser on each file; the lines it printed, one per file.
fn mermaid_parse(files: &[PathBuf]) -> (bool, String) {
    // Once per process: two `npm ci` in one folder at once would trip over each other.
    static INSTALLED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = INSTALLED.get_or_init(|| {
        aksform_testkit::npm::install(
            &workspace().join("tests/mermaid"),
            &workspace().join("target/mermaid-check"),
            &["check.mjs"],
        )
    });
    let output = std::process::Command::new("node")
        .arg(dir.join("check.mjs"))
        .args(files)
        .current_dir(dir)
        .output()
        .expect("node must be on PATH (Node.js 20 or newer)");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success() || stdout.contains("error "),
        "the parser did not run: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), stdout)
}

fn run(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// Every label written with characters that end strings, open shapes, start comments or
/// entity codes, or are HTML, and names in other scripts.
fn hostile() -> Picture {
    let names = [
        "quote \" in \"the\" middle",
        "brackets ] [ ) ( } { > <",
        "hash # and #35; and #quot;",
        "<b>html</b> &amp; <script>alert(1)</script>",
        "end",
        "%% not a comment",
        "pipes | and ; semicolons -->",
        "`back ticks` and \\backslash\\",
        "日本語 · ελληνικά · עברית · emoji 🚀",
        "line\nbreak and tab\tand \u{2028} separator",
        "",
    ];
    let groups = vec![
        Group { label: names[1].to_string(), status: Some(Status::Created), parent: None },
        Group { label: names[4].to_string(), status: None, parent: Some(0) },
        Group { label: names[2].to_string(), status: Some(Status::Destroyed), parent: Some(1) },
    ];
    let nodes: Vec<Node> = names
        .iter()
        .enumerate()
        .map(|(i, name)| Node {
            lines: vec![name.to_string(), names[(i + 3) % names.len()].to_string()],
            status: Status::ALL[i % Status::ALL.len()],
            group: [None, Some(0), Some(1), Some(2)][i % 4],
            kubernetes: i % 2 == 0,
        })
        .collect();
    let edges = (1..nodes.len()).map(|i| Edge { from: i - 1, to: i }).collect();
    Picture { groups, nodes, edges }
}

#[test]
fn mermaid_reads_the_diagram_of_every_example_and_of_hostile_names() {
    let empty = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for example in examples() {
        let name = example.file_name().unwrap().to_string_lossy().to_string();
        let state = state_for(&example, empty.path());
        let diagram = run(aksform().arg("graph").arg(&example).arg("--state").arg(&state));
        assert!(diagram.starts_with("flowchart LR\n"), "{name}: {diagram}");
        assert!(diagram.contains("subgraph "), "{name}: groups are drawn");
        assert!(diagram.contains(":::created") || diagram.contains(":::unchanged"), "{name}: {diagram}");
        let file = out.path().join(format!("{name}.mmd"));
        std::fs::write(&file, &diagram).unwrap();
        files.push(file);
    }
    // The diagram inside the pull-request comment, as GitHub reads it from its fence.
    let comment = run(aksform().args([
        "plan",
        "examples/shop",
        "--state",
        "examples/shop/state/shop-prod.json",
        "--refresh=false",
        "--markdown",
    ]));
    let start = comment.find("```mermaid\n").expect("the comment has a diagram") + "```mermaid\n".len();
    let end = start + comment[start..].find("\n```\n").unwrap();
    let file = out.path().join("shop-comment.mmd");
    std::fs::write(&file, &comment[start..end]).unwrap();
    files.push(file);

    let file = out.path().join("hostile.mmd");
    std::fs::write(&file, mermaid::render(&hostile())).unwrap();
    files.push(file);

    let (ok, report) = mermaid_parse(&files);
    assert!(ok, "{report}");
    assert_eq!(report.lines().filter(|l| l.starts_with("ok ")).count(), files.len(), "{report}");
}

#[test]
fn mermaid_refuses_a_broken_diagram() {
    // The check can fail: a label left unquoted with a bracket inside is not Mermaid.
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("broken.mmd");
    std::fs::write(&file, "flowchart LR\n  n0[a ] b]\n").unwrap();
    let (ok, report) = mermaid_parse(std::slice::from_ref(&file));
    assert!(!ok, "{report}");
    assert!(report.starts_with("error "), "{report}");
}

#[test]
fn the_shop_diagram_shows_its_network_and_what_changes() {
    let diagram = run(aksform().args(["graph", "examples/shop", "--state", "examples/shop/state/shop-prod.json"]));
    for line in [
        "subgraph g0[\"resource group shop\"]",
        "[\"subnet nodes<br/>10.20.0.0/21\"]:::unchanged",
        "([\"service legacy · destroyed<br/>ClusterIP<br/>ports 80\"]):::destroyed",
        "[\"node pool apps · replaced<br/>Standard_D8s_v5 × 3..20\"]:::replaced",
        "[\"DNS record shop · created<br/>A, 20.71.4.29\"]:::created",
        "([\"service web<br/>LoadBalancer<br/>20.71.4.18<br/>ports 80, 443\"]):::unchanged",
        "([\"ingress shop<br/>shop.example.com<br/>20.71.4.29\"]):::unchanged",
    ] {
        assert!(diagram.contains(line), "{line}\n{diagram}");
    }
    let id = |label: &str| {
        let line = diagram.lines().find(|l| l.contains(label)).unwrap_or_else(|| panic!("{label}\n{diagram}"));
        line.trim().split(['[', '(']).next().unwrap().to_string()
    };
    for (from, to) in [
        ("subnet nodes", "cluster shop"),
        ("public IP web", "service web"),
        ("subnet ilb", "service orders"),
        ("ingress shop", "service web"),
        ("ingress shop", "service orders"),
        ("DNS record shop", "ingress shop"),
    ] {
        let edge = format!("  {} --> {}\n", id(from), id(to));
        assert!(diagram.contains(&edge), "{from} → {to}: {edge}\n{diagram}");
    }

    let dot = run(aksform().args([
        "graph",
        "examples/shop",
        "--state",
        "examples/shop/state/shop-prod.json",
        "--format",
        "dot",
    ]));
    assert!(dot.starts_with("digraph aksform {\n") && dot.ends_with("}\n"), "{dot}");
    assert!(
        dot.contains("label=\"service legacy · destroyed\\nClusterIP\\nports 80\", style=\"filled,dashed,rounded\"")
    );
}

#[test]
fn graph_of_a_saved_plan_marks_what_that_plan_does() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("shop.plan");
    let state = ["--state", "examples/shop/state/shop-prod.json"];
    aksform()
        .args(["plan", "examples/shop", "--refresh=false", "--target", "service.legacy", "--out"])
        .arg(&saved)
        .args(state)
        .assert()
        .success();
    let diagram = run(aksform().args(["graph", "examples/shop", "--plan"]).arg(&saved).args(state));
    assert!(diagram.contains("service legacy · destroyed"), "{diagram}");
    assert!(!diagram.contains("· replaced"), "only the targeted change: {diagram}");
    assert!(!diagram.contains("· created"), "{diagram}");

    let output = aksform().args(["graph", "examples/kubenet-basic", "--plan"]).arg(&saved).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is a plan for the stack `shop-prod`"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");

    let output = aksform().args(["graph", "examples/kubenet-basic"]).args(state).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "a state of another stack is refused");
    assert!(String::from_utf8_lossy(&output.stderr).contains("records the stack \"shop-prod\""));
}
