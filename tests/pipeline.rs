//! The example GitHub Actions workflow (`examples/github-actions/aksform.yml`): it passes
//! actionlint, built from its Go module into `target/actionlint/`; every aksform command, flag
//! and environment variable it uses exists; and its comment script updates the stack's one
//! comment, run by Node.js against the Markdown `aksform plan` prints.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const ACTIONLINT_VERSION: &str = "v1.7.12";

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn workflow_path() -> PathBuf {
    workspace().join("examples/github-actions/aksform.yml")
}

fn workflow() -> String {
    std::fs::read_to_string(workflow_path()).unwrap()
}

/// actionlint, built with `go install` the first time.
fn actionlint() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let dir = workspace().join("target/actionlint").join(ACTIONLINT_VERSION);
        let binary = dir.join("actionlint");
        if !binary.is_file() {
            let status = Command::new("go")
                .args(["install", &format!("github.com/rhysd/actionlint/cmd/actionlint@{ACTIONLINT_VERSION}")])
                .env("GOBIN", &dir)
                .status()
                .expect("go must be on PATH to build actionlint");
            assert!(status.success(), "go install actionlint failed");
        }
        binary
    })
}

/// actionlint on `path`, with shellcheck on the `run` scripts (actionlint skips them silently
/// when it finds no shellcheck, so its absence is an error here).
fn lint(path: &Path) -> std::process::Output {
    let shellcheck = Command::new("shellcheck").arg("--version").output();
    assert!(
        shellcheck.is_ok_and(|o| o.status.success()),
        "shellcheck must be on PATH (Debian package shellcheck; scripts/test.sh installs it)"
    );
    Command::new(actionlint()).args(["-no-color", "-oneline", "-shellcheck", "shellcheck"]).arg(path).output().unwrap()
}

#[test]
fn the_example_workflow_passes_actionlint() {
    let output = lint(&workflow_path());
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn actionlint_refuses_a_broken_copy_of_the_workflow() {
    // What the check above passes is a real check: a wrong context and a wrong permission fail it.
    let dir = tempfile::tempdir().unwrap();
    let broken = workflow()
        .replacen("${{ matrix.stack }}", "${{ matrix.stacks }}", 1)
        .replacen("id-token: write", "id-token: writ", 1)
        .replacen(">> \"$GITHUB_OUTPUT\"", ">> $GITHUB_OUTPUT", 1);
    let path = dir.path().join("aksform.yml");
    std::fs::write(&path, broken).unwrap();
    let output = lint(&path);
    assert!(!output.status.success());
    let found = String::from_utf8_lossy(&output.stdout);
    assert!(found.contains("stacks"), "{found}");
    assert!(found.contains("writ"), "{found}");
    assert!(found.contains("shellcheck reported issue"), "the scripts are checked too: {found}");
}

/// Each aksform command of the workflow's `run` steps, as words (quotes removed): the
/// lines of shell that start with `aksform` (after `run:`, `if` or `!`).
fn aksform_commands(workflow: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    for line in workflow.lines() {
        let mut line = line.trim();
        for prefix in ["run: ", "if ", "! "] {
            line = line.strip_prefix(prefix).unwrap_or(line);
        }
        let Some(command) = line.strip_prefix("aksform ") else { continue };
        let words: Vec<String> = command
            .split([';', '|', '&'])
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .take_while(|w| !w.starts_with('>') && !w.starts_with("2>"))
            .map(|w| w.trim_matches('"').to_string())
            .collect();
        commands.push(words);
    }
    commands
}

#[test]
fn every_aksform_command_flag_and_variable_the_workflow_uses_exists() {
    let workflow = workflow();
    let commands = aksform_commands(&workflow);
    let subcommands: Vec<&str> = commands.iter().map(|c| c[0].as_str()).collect();
    for expected in ["fmt", "validate", "plan", "show", "apply"] {
        assert!(subcommands.contains(&expected), "no `aksform {expected}` found in {subcommands:?}");
    }
    for command in &commands {
        let help = assert_cmd::Command::cargo_bin("aksform").unwrap().arg(&command[0]).arg("--help").output().unwrap();
        assert!(help.status.success(), "`aksform {}` is not a command", command[0]);
        let help = String::from_utf8_lossy(&help.stdout);
        for (i, word) in command.iter().enumerate().skip(1) {
            let Some(flag) = word.strip_prefix("--") else { continue };
            let flag = flag.split('=').next().unwrap();
            assert!(help.contains(&format!("--{flag}")), "`aksform {}` has no --{flag}:\n{help}", command[0]);
            if flag == "format"
                && let Some(value) = command.get(i + 1)
            {
                // Listed under the flag (`- github: ...`) or in its line (`[possible values: text, json]`).
                let listed = help.contains(&format!("- {value}:"))
                    || help
                        .lines()
                        .any(|l| l.contains("--format") && l.split(['[', ',', ' ', ']']).any(|w| w == value.as_str()));
                assert!(listed, "`aksform {}` has no --format {value}", command[0]);
            }
        }
    }
    // The variables aksform reads, named as the source names them.
    let source = ["src/cli/backend.rs", "src/cli/providers.rs"]
        .iter()
        .map(|p| std::fs::read_to_string(workspace().join(p)).unwrap())
        .collect::<String>();
    // The environment the workflow sets (`AKSFORM_AUTH: workload-identity`), but the version
    // it installs, which is the workflow's own.
    let names: Vec<&str> = workflow
        .lines()
        .filter_map(|l| l.trim().split_once(':').map(|(key, _)| key))
        .filter(|key| key.starts_with("AKSFORM_") && *key != "AKSFORM_VERSION")
        .collect();
    assert!(names.contains(&"AKSFORM_STATE_BLOB_ACCOUNT"), "{names:?}");
    for name in names {
        assert!(source.contains(&format!("\"{name}\"")), "aksform reads no {name}");
    }
}

/// The `script:` of the workflow's github-script step.
fn comment_script(workflow: &str) -> String {
    let lines: Vec<&str> = workflow.lines().collect();
    let start = lines.iter().position(|l| l.trim() == "script: |").expect("a github-script step") + 1;
    let indent = lines[start].len() - lines[start].trim_start().len();
    lines[start..]
        .iter()
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() >= indent)
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the comment script in Node.js with `comments` on the pull request, and returns the
/// calls it made: `["create"|"update", arguments]`.
fn run_comment_script(dir: &Path, comments: serde_json::Value) -> Vec<serde_json::Value> {
    let harness = format!(
        "const context = {{ repo: {{ owner: 'o', repo: 'r' }}, issue: {{ number: 7 }} }};\n\
         const calls = [];\n\
         const github = {{\n\
           paginate: async (list, args) => {{ if (list !== 'list' || args.issue_number !== 7) throw new Error('paginate'); return {comments}; }},\n\
           rest: {{ issues: {{\n\
             listComments: 'list',\n\
             updateComment: async (args) => calls.push(['update', args]),\n\
             createComment: async (args) => calls.push(['create', args]),\n\
           }} }},\n\
         }};\n\
         (async () => {{\n{}\n}})().then(() => console.log(JSON.stringify(calls)), (e) => {{ console.error(e); process.exit(1); }});\n",
        comment_script(&workflow())
    );
    std::fs::write(dir.join("harness.js"), harness).unwrap();
    let output = Command::new("node").arg("harness.js").current_dir(dir).output().expect("node must be on PATH");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_comment_script_updates_the_stacks_one_comment_and_creates_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let comment = assert_cmd::Command::cargo_bin("aksform")
        .unwrap()
        .args(["plan", "--refresh=false", "--markdown"])
        .arg(workspace().join("examples/shop"))
        .output()
        .unwrap();
    assert!(comment.status.success(), "{}", String::from_utf8_lossy(&comment.stderr));
    let body = String::from_utf8(comment.stdout).unwrap();
    std::fs::write(dir.path().join("comment.md"), &body).unwrap();
    let marker = "<!-- aksform:plan stack=shop-prod -->";
    assert!(body.starts_with(marker), "{body}");

    let calls = run_comment_script(dir.path(), serde_json::json!([]));
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0][0], "create");
    assert_eq!(calls[0][1]["issue_number"], 7);
    assert_eq!(calls[0][1]["body"], body.as_str());

    // The bot's comment for this stack is updated; another stack's, or a person's quoting
    // the marker, is left alone.
    let comments = serde_json::json!([
        { "id": 1, "user": { "type": "User" }, "body": format!("{marker}\nquoted") },
        { "id": 2, "user": { "type": "Bot" }, "body": "<!-- aksform:plan stack=shop-dev -->\nold" },
        { "id": 3, "user": { "type": "Bot" }, "body": format!("{marker}\nold") },
    ]);
    let calls = run_comment_script(dir.path(), comments);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0][0], "update");
    assert_eq!(calls[0][1]["comment_id"], 3);
    assert_eq!(calls[0][1]["body"], body.as_str());

    let comments = serde_json::json!([{ "id": 2, "user": { "type": "Bot" }, "body": "<!-- aksform:plan stack=shop-dev -->\nold" }]);
    assert_eq!(run_comment_script(dir.path(), comments)[0][0], "create");
}
