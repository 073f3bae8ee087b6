//! The real `aksform` binary on the examples and on broken stacks.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn aksform() -> Command {
    let mut cmd = Command::cargo_bin("aksform").unwrap();
    cmd.env_remove("AZURE_SUBSCRIPTION_ID").env("NO_COLOR", "1").current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    assert!(dirs.len() >= 6, "the examples are missing");
    dirs
}

#[test]
fn every_example_validates_without_any_diagnostic() {
    for dir in examples() {
        let output = aksform().arg("validate").arg(&dir).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{}: {stderr}", dir.display());
        assert!(stderr.is_empty(), "{}: {stderr}", dir.display());
    }
}

fn broken_stack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.aks"),
        "stack \"s\" { location = westeurope }\nresource_group \"rg\" { locaton = westeurope }\nvnet \"net\" { resource_group = resource_group.rgg  address_space = [10.0.0.0/16] }\n",
    )
    .unwrap();
    dir
}

#[test]
fn errors_exit_1_with_every_problem_located() {
    let dir = broken_stack();
    let output = aksform().arg("validate").arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("did you mean `location`?"), "{stderr}");
    assert!(stderr.contains("did you mean `resource_group.rg`?"), "{stderr}");
    assert!(stderr.contains("main.aks:2:"), "{stderr}");
    assert!(stderr.contains("2 errors, 0 warnings"), "{stderr}");
}

#[test]
fn json_diagnostics_carry_code_file_line_and_help() {
    let dir = broken_stack();
    let output = aksform().args(["validate", "--format", "json"]).arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["errors"], 2);
    let first = &json["diagnostics"][0];
    assert_eq!(first["code"], "AKS010");
    assert_eq!(first["line"], 2);
    assert_eq!(first["column"], 23);
    assert_eq!(first["help"], "did you mean `location`?");
    assert!(first["file"].as_str().unwrap().ends_with("main.aks"));
}

#[test]
fn state_commands_read_the_recorded_state() {
    let output = aksform().args(["state", "list", "--stack", "examples/shop"]).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.lines().any(|l| l == "cluster.shop.node_pool.apps"), "{stdout}");
    let output = aksform().args(["state", "show", "service.nope", "--stack", "examples/shop"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn state_mv_and_rm_edit_a_copy_of_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.json");
    std::fs::copy("examples/shop/state/shop-prod.json", &path).unwrap();
    let state = path.to_str().unwrap();
    aksform().args(["state", "mv", "vnet.shop", "vnet.main", "--state", state]).assert().success();
    let output = aksform().args(["state", "list", "--state", state]).output().unwrap();
    let listed = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(listed.contains("vnet.main.subnet.nodes") && !listed.contains("vnet.shop"), "{listed}");
    aksform().args(["state", "rm", "service.legacy", "--state", state]).assert().success();
    let output = aksform().args(["state", "list", "--state", state]).output().unwrap();
    assert!(!String::from_utf8_lossy(&output.stdout).contains("service.legacy"));
    assert!(dir.path().join("shop.json.backup").exists());
}

#[test]
fn every_example_is_already_formatted() {
    for dir in examples() {
        let output = aksform().args(["fmt", "--check"]).arg(&dir).output().unwrap();
        assert!(output.status.success(), "{}: {}", dir.display(), String::from_utf8_lossy(&output.stdout));
    }
}

#[test]
fn fmt_check_shows_the_difference_and_fmt_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("main.aks");
    std::fs::write(&file, "stack \"s\" {location=westeurope # where\n}\n").unwrap();
    let output = aksform().args(["fmt", "--check"]).arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("+  location = westeurope # where"));
    aksform().arg("fmt").arg(dir.path()).assert().success();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "stack \"s\" {\n  location = westeurope # where\n}\n");
    aksform().args(["fmt", "--check"]).arg(dir.path()).assert().success();
}

#[test]
fn fmt_leaves_a_file_that_does_not_parse_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("main.aks");
    std::fs::write(&file, "stack \"s\" { location = }\n").unwrap();
    aksform().arg("fmt").arg(dir.path()).assert().code(1);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "stack \"s\" { location = }\n");
}

#[test]
fn every_code_in_the_source_has_a_page_that_explain_prints() {
    fn walk(dir: &Path, codes: &mut std::collections::BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, codes);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("check/mod.rs") {
                // check/mod.rs asserts that an unknown code has no page; every other file only names real codes.
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices("\"AKS") {
                    let code = &text[i + 1..(i + 7).min(text.len())];
                    if code[3..].chars().all(|c| c.is_ascii_digit()) && text[i + 7..].starts_with('"') {
                        codes.insert(code.to_string());
                    }
                }
            }
        }
    }
    let mut codes = std::collections::BTreeSet::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut codes);
    assert!(codes.len() > 60, "{codes:?}");
    for code in codes {
        let output = aksform().args(["explain", &code]).output().unwrap();
        assert!(output.status.success(), "{code} has no page");
        assert!(String::from_utf8_lossy(&output.stdout).starts_with(&format!("# {code}")), "{code}");
    }
}

#[test]
fn a_reader_that_goes_away_is_no_panic() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("aksform"))
        .args(["explain", "AKS201"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(matches!(output.status.code(), Some(0) | Some(141)), "{:?}", output.status);
}
