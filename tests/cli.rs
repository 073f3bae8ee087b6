//! The real `aksform` binary on the examples and on broken stacks.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn aksform() -> Command {
    let mut cmd = Command::cargo_bin("aksform").unwrap();
    cmd.env_remove("AZURE_SUBSCRIPTION_ID").env("NO_COLOR", "1").current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn examples() -> Vec<PathBuf> {
    aksform_testkit::example_stacks()
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

/// A stack in a folder `stack` of a temporary folder, so that paths in the output are
/// `stack/main.aks` when the command runs in the temporary folder.
fn stack_in_temp(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stack")).unwrap();
    std::fs::write(dir.path().join("stack/main.aks"), text).unwrap();
    dir
}

/// Errors of three codes: an unknown attribute (with a machine fix), a value of the wrong
/// type, and an unknown reference.
const STACK_WITH_ERRORS: &str = "stack \"s\" { location = westeurope }\n\
resource_group \"rg\" { locaton = westeurope }\n\
vnet \"net\" { resource_group = resource_group.rgg  address_space = [10.0.0.0/16] }\n\
cluster \"c\" {\n  resource_group = resource_group.rg\n  network kubenet {}\n  node_pool \"system\" { vm_size = \"Standard_D4s_v5\"  count = \"3\" }\n}\n";

fn sarif_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/sarif-2.1.0.json");
    // The published schema's pattern for a language tag (`run.language`,
    // `toolComponent.language`) has a stray `]`, which the schema's own `regex` format refuses;
    // it is read here as the tag it means (two letters, then optionally `-` and two more).
    // aksform writes no language tag.
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$", "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::options().should_validate_formats(true).build(&schema).unwrap()
}

fn assert_valid_sarif(log: &serde_json::Value) {
    let validator = sarif_validator();
    let errors: Vec<String> = validator.iter_errors(log).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{log:#}");
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0_with_rules_regions_and_fixes() {
    let dir = stack_in_temp(STACK_WITH_ERRORS);
    let json = aksform().args(["validate", "stack", "--format", "json"]).current_dir(dir.path()).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let output = aksform().args(["validate", "stack", "--format", "sarif"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_sarif(&log);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    let diagnostics = json["diagnostics"].as_array().unwrap();
    assert_eq!(results.len(), diagnostics.len());
    let mut codes: Vec<&str> = diagnostics.iter().map(|d| d["code"].as_str().unwrap()).collect();
    codes.dedup();
    assert!(codes.len() >= 3, "{codes:?}");
    let rules: Vec<&str> =
        run["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut expected = codes.clone();
    expected.sort();
    expected.dedup();
    let mut fired = rules.clone();
    fired.sort();
    assert_eq!(fired, expected);
    for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        let help = rule["helpUri"].as_str().unwrap();
        assert_eq!(help, format!("https://github.com/aksform/aksform/blob/main/docs/rules/{id}.md"));
        assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("docs/rules/{id}.md")).exists(), "{id}");
        assert!(!rule["shortDescription"]["text"].as_str().unwrap().is_empty(), "{id}");
    }
    for (result, diagnostic) in results.iter().zip(diagnostics) {
        assert_eq!(result["ruleId"], diagnostic["code"]);
        assert_eq!(result["level"], "error");
        assert_eq!(rules[result["ruleIndex"].as_u64().unwrap() as usize], result["ruleId"]);
        let physical = &result["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "stack/main.aks");
        assert_eq!(physical["region"]["startLine"], diagnostic["line"]);
        assert_eq!(physical["region"]["startColumn"], diagnostic["column"]);
        assert_eq!(physical["region"]["endColumn"], diagnostic["end_column"]);
    }
    let typo = results.iter().find(|r| r["ruleId"] == "AKS010").unwrap();
    assert!(typo["message"]["text"].as_str().unwrap().ends_with("help: did you mean `location`?"), "{typo:#}");
    let change = &typo["fixes"][0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "stack/main.aks");
    assert_eq!(change["replacements"][0]["insertedContent"]["text"], "location");
    assert_eq!(change["replacements"][0]["deletedRegion"]["startLine"], 2);
}

#[test]
fn sarif_output_of_a_clean_stack_is_a_valid_log_without_results() {
    let output = aksform().args(["validate", "examples/shop", "--format", "sarif"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let log: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_sarif(&log);
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
    let mut wrong = log.clone();
    wrong["runs"][0]["results"] =
        serde_json::json!([{ "ruleId": "AKS010", "level": "fatal", "message": { "text": "m" } }]);
    assert!(!sarif_validator().is_valid(&wrong), "the schema refuses a level SARIF does not have");
    assert_eq!(log["runs"][0]["tool"]["driver"]["name"], "aksform");
}

#[test]
fn github_format_annotates_each_problem_on_its_line() {
    let dir = stack_in_temp(STACK_WITH_ERRORS);
    let output = aksform().args(["validate", "stack", "--format", "github"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 3 && lines.iter().all(|l| l.starts_with("::error file=stack/main.aks,line=")), "{stdout}");
    assert!(
        lines.contains(
            &"::error file=stack/main.aks,line=2,col=23,endLine=2,endColumn=30,title=AKS010::resource_group \"rg\" has no attribute `locaton`%0Ahelp: did you mean `location`?"
        ),
        "{stdout}"
    );
}

#[test]
fn plan_github_format_puts_annotations_before_the_plan_and_sarif_keeps_stdout_for_the_log() {
    let dir = stack_in_temp(STACK_WITH_ERRORS);
    let output = aksform().args(["plan", "stack", "--format", "github"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("::error file=stack/main.aks,"));
    let output = aksform().args(["plan", "examples/shop", "--refresh=false", "--format", "sarif"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let log: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_sarif(&log);
    assert!(String::from_utf8_lossy(&output.stderr).contains("Plan: 3 to create"));
    let output = aksform().args(["plan", "examples/shop", "--format", "sarif", "--markdown"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--format sarif puts the diagnostics on stdout"));
}

#[test]
fn usage_errors_exit_1_and_help_and_version_exit_0() {
    let usage_errors: [&[&str]; 5] = [
        &["plan", "examples/shop", "--no-such-flag"],
        &["validate", "examples/shop", "--format", "yaml"],
        &["plan", "examples/shop", "--refresh", "maybe"],
        &["state", "show"],
        &[],
    ];
    for args in usage_errors {
        let output = aksform().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        assert!(!output.stderr.is_empty(), "{args:?}");
    }
    for args in [&["--help"][..], &["plan", "--help"], &["--version"]] {
        let output = aksform().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(!output.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn a_target_that_names_nothing_is_an_error_with_the_closest_address() {
    let output =
        aksform().args(["plan", "examples/shop", "--refresh=false", "--target", "service.wbe"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--target `service.wbe` names nothing in the stack or the state; did you mean `service.web`?"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    // service.legacy is only in the state: a target there is fine.
    let output =
        aksform().args(["plan", "examples/shop", "--refresh=false", "--target", "service.legacy"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_targeted_create_is_planned_with_what_it_depends_on() {
    let output = aksform()
        .args(["plan", "examples/kubenet-basic", "--refresh=false", "--format", "json", "--target", "service.hello"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let addresses: Vec<&str> =
        plan["actions"].as_array().unwrap().iter().map(|a| a["address"].as_str().unwrap()).collect();
    for needed in ["resource_group.dev", "cluster.dev", "namespace.web", "service.hello"] {
        assert!(addresses.contains(&needed), "{needed} not in {addresses:?}");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let note = stderr
        .lines()
        .find(|l| l.starts_with("note: also planned because `service.hello` depends on them: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(note.contains("`cluster.dev`") && note.contains("`namespace.web`"), "{note}");
    // Every step's dependencies are in the narrowed plan.
    let steps = plan["steps"].as_array().unwrap();
    let create_service = addresses.iter().position(|a| *a == "service.hello").unwrap();
    let step = steps.iter().find(|s| s["action"] == create_service).unwrap();
    assert!(!step["depends_on"].as_array().unwrap().is_empty());
}

#[test]
fn the_path_may_be_a_file_of_the_stack() {
    let output = aksform()
        .args(["validate", "main.aks"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("The stack \"shop-prod\" is valid"));
    let by_file = aksform().args(["plan", "examples/shop/main.aks", "--refresh=false"]).output().unwrap();
    let by_folder = aksform().args(["plan", "examples/shop", "--refresh=false"]).output().unwrap();
    assert_eq!(by_file.status.code(), Some(0), "{}", String::from_utf8_lossy(&by_file.stderr));
    assert_eq!(by_file.stdout, by_folder.stdout);
    assert!(String::from_utf8_lossy(&by_file.stdout).contains("service.legacy"), "the state beside the stack was read");
    let output = aksform().args(["validate", "README.md"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("README.md is not a .aks file"));
}

#[test]
fn the_command_a_saved_plan_prints_applies_it_with_the_variables_the_plan_records() {
    // A stack with nothing to create, so that the apply needs no cloud: the saved plan is
    // carried out only when the stack, the variable values and the state are the plan's.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tiny")).unwrap();
    std::fs::write(
        dir.path().join("tiny/main.aks"),
        "stack \"tiny\" { location = westeurope }\nvar \"team\" { default = \"web\" }\nvar \"size\" {}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("prod.vars"), "size = [\n  3,\n  5,\n]\n").unwrap();
    let plan = [
        "plan",
        "tiny",
        "--refresh=false",
        "--var",
        "team=web ops",
        "--var-file",
        "prod.vars",
        "--state",
        "tiny.json",
        "--out",
        "plan.json",
    ];
    let output = aksform().args(plan).current_dir(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let hint =
        stderr.lines().find(|l| l.starts_with("Saved the plan to plan.json")).unwrap_or_else(|| panic!("{stderr}"));
    let command = hint.split('`').nth(1).unwrap();
    assert_eq!(command, "aksform apply tiny --plan plan.json --state tiny.json");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap()).unwrap();
    assert_eq!(saved["variables"], serde_json::json!({ "size": "[3, 5]", "team": "\"web ops\"" }));
    let binary = assert_cmd::cargo::cargo_bin("aksform");
    let run = |command: &str| {
        let command = command.replacen("aksform", &binary.display().to_string(), 1);
        std::process::Command::new("sh")
            .args(["-c", &command])
            .current_dir(dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    // The job that applies has neither the vars file nor the --var flags.
    let output = run(command);
    assert_eq!(output.status.code(), Some(0), "{command}: {}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("No changes."));
    // The same values, given another way, are the plan's too.
    for same in ["--var 'team=\"web ops\"' --var 'size=[3,5]'", "--var 'team=web ops' --var-file prod.vars"] {
        let output = run(&format!("{command} {same}"));
        assert_eq!(output.status.code(), Some(0), "{same}: {}", String::from_utf8_lossy(&output.stderr));
    }
    // Other values are refused, naming each difference.
    let output = run(&format!("{command} --var team=data --var-file prod.vars"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("the plan was made with other variable values (`team` is \"web ops\" in the plan and data here)"),
        "{stderr}"
    );
    // A changed stack file is a changed configuration: the check the command passed is real.
    std::fs::write(
        dir.path().join("tiny/main.aks"),
        "stack \"tiny\" { location = westeurope }\nvar \"team\" { default = \"ops\" }\nvar \"size\" {}\n",
    )
    .unwrap();
    let output = run(command);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("the configuration changed since the plan was made"));
}

#[test]
fn plan_json_doc_matches_the_json_plan_prints() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/plan-json.md")).unwrap();
    assert!(doc.contains("`aksform plan --format json`"), "the doc names the flag tested here");
    let output = aksform().args(["plan", "examples/shop", "--refresh=false", "--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let real: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let blocks: Vec<&str> = doc.split("```json\n").skip(1).map(|b| b.split("\n```").next().unwrap()).collect();
    assert!(blocks.len() >= 2, "{blocks:?}");
    let keys = |v: &serde_json::Value| -> std::collections::BTreeSet<String> {
        v.as_object()
            .unwrap()
            .keys()
            .filter(|k| !matches!(k.as_str(), "references" | "replaced_along_with"))
            .cloned()
            .collect()
    };
    let example: serde_json::Value = serde_json::from_str(blocks.last().unwrap()).unwrap();
    assert_eq!(keys(&example), keys(&real));
    assert_eq!(keys(&example["summary"]), keys(&real["summary"]));
    for action in example["actions"].as_array().unwrap() {
        let real_action = real["actions"].as_array().unwrap().iter().find(|a| a["action"] == action["action"]).unwrap();
        assert_eq!(keys(action), keys(real_action), "{}", action["action"]);
        for change in action["changes"].as_array().unwrap() {
            assert_eq!(keys(change), keys(&real_action["changes"][0]));
        }
    }
    assert_eq!(keys(&example["steps"][0]), keys(&real["steps"][0]));
    // The path of a change inside a list, as printed, is the one the doc shows.
    let cache = real["actions"].as_array().unwrap().iter().find(|a| a["address"] == "service.cache").unwrap();
    let path = cache["changes"][0]["path"].as_array().unwrap();
    assert!(path.iter().any(serde_json::Value::is_u64), "{path:?}");
    let written = format!("[{}]", path.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", "));
    assert!(doc.contains(&format!("`{written}`")), "the doc does not show {written}");
    let drift: serde_json::Value = serde_json::from_str(&format!("{{{}}}", blocks[0])).unwrap();
    for item in drift["drift"].as_array().unwrap() {
        for change in item["changes"].as_array().unwrap() {
            assert!(change["path"][0].is_string(), "{change}");
        }
    }
}

#[test]
fn colour_follows_the_flag_then_no_color_then_the_terminal() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(readme.contains(
        "Colour is used on a terminal unless `NO_COLOR` is set; `--color always` and `--color never` win over both."
    ));
    let plan = |color: &str, no_color: bool| {
        let mut cmd = aksform();
        cmd.args(["plan", "examples/shop", "--refresh=false", "--color", color]);
        if !no_color {
            cmd.env_remove("NO_COLOR");
        }
        let output = cmd.output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        String::from_utf8_lossy(&output.stdout).contains("\x1b[")
    };
    assert!(plan("always", true), "--color always wins over NO_COLOR");
    assert!(!plan("never", false));
    assert!(!plan("auto", false), "no colour into a pipe");
    // On a terminal (`script` gives the command one), auto colours unless NO_COLOR is set.
    let on_terminal = |no_color: &str| {
        let binary = assert_cmd::cargo::cargo_bin("aksform");
        let command = format!("{} plan examples/shop --refresh=false", binary.display());
        let output = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("NO_COLOR", no_color)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("`script` (util-linux) runs the command on a terminal");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).contains("\x1b[")
    };
    assert!(on_terminal(""), "an empty NO_COLOR is not set");
    assert!(!on_terminal("1"));
}

#[test]
fn removing_a_cluster_block_is_refused_unless_its_destroy_is_allowed() {
    // The shop example's state, and a stack that no longer declares anything in it.
    let dir = stack_in_temp("stack \"shop-prod\" {\n  location = westeurope\n}\n");
    let state = dir.path().join("shop-prod.json");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop/state/shop-prod.json"), &state).unwrap();
    let plan = |extra: &[&str]| {
        aksform()
            .args(["plan", "stack", "--refresh=false", "--state", "shop-prod.json"])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let output = plan(&[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("AKS185"), "{stderr}");
    assert!(stderr.contains("`cluster.shop` would be destroyed"), "{stderr}");
    assert!(stderr.contains("stack/main.aks:1"), "the stack's block is where it points: {stderr}");
    assert!(stderr.contains("--allow-destroy cluster.shop"), "{stderr}");
    assert!(output.stdout.is_empty(), "no plan is printed: {}", String::from_utf8_lossy(&output.stdout));
    // A replacement's permission is not a destroy's.
    assert_eq!(plan(&["--allow-replace", "cluster.shop"]).status.code(), Some(1));
    let output = plan(&["--allow-destroy", "cluster.shop"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("cluster.shop"), "{stdout}");
    // Apply is guarded the same way, before anything is asked or sent.
    let output = aksform()
        .args(["apply", "stack", "--auto-approve", "--state", "shop-prod.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("AKS185"));
    // A targeted plan that leaves the cluster alone is not refused.
    let output = plan(&["--target", "service"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}
