//! The plan of every example, in text, JSON and Markdown, as users see it (snapshots), and
//! the behaviour of `plan` around saved plans, exit codes and locks.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn aksform() -> Command {
    let mut cmd = Command::cargo_bin("aksform").unwrap();
    cmd.env_remove("AZURE_SUBSCRIPTION_ID")
        .env_remove("AKSFORM_STATE")
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn examples() -> Vec<PathBuf> {
    aksform_testkit::example_stacks()
}

/// A state file for the example: the recorded one for `shop`, else none (an empty temp path).
fn state_for(example: &Path, empty: &Path) -> PathBuf {
    let recorded = example.join("state").join(match example.file_name().and_then(|n| n.to_str()) {
        Some("shop") => "shop-prod.json",
        _ => "",
    });
    if recorded.is_file() { recorded } else { empty.join("none.json") }
}

fn plan(example: &Path, state: &Path, format: &[&str]) -> String {
    let output = aksform()
        .arg("plan")
        .arg(example)
        .arg("--state")
        .arg(state)
        .arg("--refresh=false")
        .args(format)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}: {stderr}", example.display());
    // A plan with no state found says so, and says nothing else on stderr.
    let expected = if state.is_file() {
        String::new()
    } else {
        format!("note: no state at {}: planning as if nothing were created yet\n", state.display())
    };
    assert_eq!(stderr, expected, "{}", example.display());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn plans_of_every_example() {
    let empty = tempfile::tempdir().unwrap();
    for example in examples() {
        let name = example.file_name().unwrap().to_string_lossy().to_string();
        let state = state_for(&example, empty.path());
        insta::assert_snapshot!(format!("{name}-text"), plan(&example, &state, &[]));
        insta::assert_snapshot!(format!("{name}-markdown"), plan(&example, &state, &["--markdown"]));
        let json: serde_json::Value = serde_json::from_str(&plan(&example, &state, &["--json"])).unwrap();
        insta::assert_json_snapshot!(format!("{name}-json"), json);
    }
}

#[test]
fn without_credentials_plan_says_it_used_the_recorded_state() {
    let output =
        aksform().args(["plan", "examples/shop", "--state", "examples/shop/state/shop-prod.json"]).output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("17 recorded resources are planned against the state as recorded"), "{stderr}");
}

#[test]
fn detailed_exitcode_says_whether_there_are_changes() {
    let empty = tempfile::tempdir().unwrap();
    let state = empty.path().join("none.json");
    let args = ["plan", "examples/kubenet-basic", "--detailed-exitcode", "--state"];
    aksform().args(args).arg(&state).assert().code(2);
}

#[test]
fn saved_plan_records_the_state_and_configuration_it_was_made_from() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("shop.plan");
    aksform()
        .args(["plan", "examples/shop", "--state", "examples/shop/state/shop-prod.json", "--out"])
        .arg(&saved)
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(json["state_serial"], 7);
    assert_eq!(json["state_lineage"], "5d3c8e2a-7b1f-4c9e-a0d4-2f6b8e1c9a37");
    assert!(json["config_hash"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(json["stack"], "shop-prod");
}

#[test]
fn replacing_a_cluster_needs_permission() {
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack");
    std::fs::create_dir(&stack).unwrap();
    let source = std::fs::read_to_string("examples/shop/main.aks").unwrap();
    std::fs::write(
        stack.join("main.aks"),
        source
            .replace("service_cidr   = 10.0.0.0/16", "service_cidr   = 10.1.0.0/16")
            .replace("dns_service_ip = 10.0.0.10", "dns_service_ip = 10.1.0.10"),
    )
    .unwrap();
    std::fs::copy("examples/shop/services.aks", stack.join("services.aks")).unwrap();
    let state = dir.path().join("state.json");
    std::fs::copy("examples/shop/state/shop-prod.json", &state).unwrap();
    let output = aksform().arg("plan").arg(&stack).arg("--state").arg(&state).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("AKS180") && stderr.contains("--allow-replace cluster.shop"), "{stderr}");
    let output = aksform()
        .arg("plan")
        .arg(&stack)
        .arg("--state")
        .arg(&state)
        .args(["--allow-replace", "cluster.shop"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("-/+ cluster.shop "), "{stdout}");
    assert!(stdout.contains("the service CIDR cannot change after creation"), "{stdout}");
}

#[test]
fn a_plan_reads_a_locked_state_and_writes_nothing_while_a_write_fails_at_once() {
    use aksform::state::{Backend, LocalBackend, LockInfo};
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("shop.json");
    std::fs::copy("examples/shop/state/shop-prod.json", &state).unwrap();
    let backend = LocalBackend::new(&state);
    let _guard = backend.lock(LockInfo::new("aksform apply")).unwrap();
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        names
    };
    let before = (listing(), std::fs::read(&state).unwrap(), std::fs::read(backend.lock_path()).unwrap());
    let output = aksform().args(["plan", "examples/shop", "--state"]).arg(&state).output().unwrap();
    assert!(matches!(output.status.code(), Some(0 | 2)), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!((listing(), std::fs::read(&state).unwrap(), std::fs::read(backend.lock_path()).unwrap()), before);

    let started = std::time::Instant::now();
    let output = aksform()
        .args(["state", "rm", "--stack", "examples/shop", "vnet.shop", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is locked by `aksform apply`"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(std::fs::read(&state).unwrap(), before.1);
}

#[test]
fn a_corrupt_state_is_reported_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("shop.json");
    std::fs::write(&state, "{ \"version\": 1, \"serial\": ").unwrap();
    let output = aksform().args(["plan", "examples/shop", "--state"]).arg(&state).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "{ \"version\": 1, \"serial\": ");
    let newer = std::fs::read_to_string("examples/shop/state/shop-prod.json").unwrap().replacen(
        "\"version\": 1",
        "\"version\": 9",
        1,
    );
    std::fs::write(&state, &newer).unwrap();
    let output = aksform().args(["plan", "examples/shop", "--state"]).arg(&state).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("newer"));
    assert_eq!(std::fs::read_to_string(&state).unwrap(), newer);
}

#[test]
fn show_prints_a_saved_plan_as_plan_printed_it_in_every_format() {
    let empty = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for example in examples() {
        let name = example.file_name().unwrap().to_string_lossy().to_string();
        let state = state_for(&example, empty.path());
        let saved = dir.path().join(format!("{name}.plan"));
        aksform()
            .arg("plan")
            .arg(&example)
            .arg("--state")
            .arg(&state)
            .arg("--refresh=false")
            .arg("--out")
            .arg(&saved)
            .assert()
            .success();
        // From another folder, with the stack and state out of reach: show reads only the file.
        let show = |format: &str| {
            let output = aksform()
                .current_dir(dir.path())
                .env("AKSFORM_STATE", "/nonexistent/state.json")
                .args(["show", "--format", format])
                .arg(&saved)
                .output()
                .unwrap();
            assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8(output.stdout).unwrap()
        };
        assert_eq!(show("text"), plan(&example, &state, &[]), "{name}");
        assert_eq!(show("json"), plan(&example, &state, &["--json"]), "{name}");
        let markdown = show("markdown");
        assert_eq!(markdown, plan(&example, &state, &["--markdown"]), "{name}");
        assert!(markdown.contains("```mermaid\nflowchart LR\n"), "{name}: the saved plan keeps its diagram");
    }
}

#[test]
fn show_of_a_file_that_is_not_a_plan_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    std::fs::copy("examples/shop/state/shop-prod.json", &file).unwrap();
    let output = aksform().arg("show").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("state.json: the file is not an aksform plan"), "{stderr}");
    assert!(stderr.contains("hint: make a plan file with `aksform plan --out FILE`"), "{stderr}");
    let output = aksform().arg("show").arg(dir.path().join("missing.plan")).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read the plan"));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}
