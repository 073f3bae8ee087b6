//! `aksform apply`, `plan` and `destroy` of the Kubernetes part of the examples against a real
//! control plane (kube-apiserver and kube-controller-manager from the sandbox).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aksform_sandbox::ControlPlane;
use aksform_testkit::large::generate_services_stack;
use assert_cmd::Command;

fn aksform() -> Command {
    let mut cmd = Command::cargo_bin("aksform").unwrap();
    cmd.env_remove("AKSFORM_STATE").env("NO_COLOR", "1").current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

const KUBERNETES: [&str; 6] = ["--target", "namespace", "--target", "service", "--target", "ingress"];

fn kubectl(kubeconfig: &Path, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new("kubectl").arg("--kubeconfig").arg(kubeconfig).args(args).output().unwrap();
    (
        output.status.success(),
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
    )
}

#[test]
fn the_kubernetes_part_of_every_example_applies_then_plans_clean_then_destroys() {
    let plane = ControlPlane::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    plane.write_kubeconfig(&kubeconfig).unwrap();
    for example in aksform_testkit::example_stacks() {
        let name = example.file_name().unwrap().to_string_lossy().to_string();
        let state = dir.path().join(format!("{name}.json"));
        let credentials = format!("{}", kubeconfig.display());
        let apply = aksform()
            .arg("apply")
            .arg(&example)
            .arg("--state")
            .arg(&state)
            .args(KUBERNETES)
            .args(["--kubeconfig", &credentials, "--auto-approve"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&apply.stdout);
        let stderr = String::from_utf8_lossy(&apply.stderr);
        assert!(apply.status.success(), "{name}: apply failed:\n{stdout}\n{stderr}");
        assert!(stdout.contains("Apply complete"), "{name}: {stdout}");

        let plan = aksform()
            .arg("plan")
            .arg(&example)
            .arg("--state")
            .arg(&state)
            .args(KUBERNETES)
            .arg("--detailed-exitcode")
            .output()
            .unwrap();
        assert_eq!(plan.status.code(), Some(0), "{name}: plan after apply:\n{}", String::from_utf8_lossy(&plan.stdout));

        let destroy = aksform()
            .arg("destroy")
            .arg(&example)
            .arg("--state")
            .arg(&state)
            .args(KUBERNETES)
            .args(["--kubeconfig", &credentials, "--auto-approve"])
            .output()
            .unwrap();
        assert!(destroy.status.success(), "{name}: destroy failed:\n{}", String::from_utf8_lossy(&destroy.stderr));
        let listed = std::fs::read_to_string(&state).unwrap();
        assert!(!listed.contains("\"address\": \"service."), "{name}: services left in the state");
    }
    let (ok, left) = kubectl(
        &kubeconfig,
        &["get", "services,ingresses", "-A", "-l", "app.kubernetes.io/managed-by=aksform", "-o", "name"],
    );
    assert!(ok, "{left}");
    assert_eq!(left.trim(), "", "objects left behind: {left}");
}

/// A kubenet cluster `c` with a namespace `apps`, for the stacks below.
const CLUSTER_C: &str = r#"resource_group "rg" {}
cluster "c" {
  resource_group = resource_group.rg
  network kubenet {}
  node_pool "system" { vm_size = "Standard_D2s_v5" }
}
namespace "apps" { cluster = cluster.c }"#;

/// A control plane, a folder with its kubeconfig, and a stack of `text` in `stack/` there.
fn plane_and_stack(text: &str) -> (ControlPlane, tempfile::TempDir, PathBuf, PathBuf) {
    let plane = ControlPlane::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    plane.write_kubeconfig(&kubeconfig).unwrap();
    let stack = dir.path().join("stack");
    std::fs::create_dir(&stack).unwrap();
    std::fs::write(stack.join("main.aks"), text).unwrap();
    (plane, dir, kubeconfig, stack)
}

#[test]
fn a_rejected_object_names_the_resource_and_the_reason_and_the_state_stays_right() {
    // Two Services on one node port: the checks catch it, so the second asks for a port the
    // server has given to a Service made outside aksform.
    let (_plane, dir, kubeconfig, stack) = plane_and_stack(
        &[
            "stack \"clash\" { location = westeurope }\n",
            CLUSTER_C,
            r#"
service "ok" {
  namespace = namespace.apps
  type      = node_port
  selector  = { app = "ok" }
  port http 80 { node_port = 30080 }
}
service "clash" {
  namespace = namespace.apps
  type      = node_port
  selector  = { app = "clash" }
  port http 80 { node_port = 30081 }
}
"#,
        ]
        .concat(),
    );
    let (ok, out) =
        kubectl(&kubeconfig, &["create", "service", "nodeport", "squatter", "--tcp=80:80", "--node-port=30081"]);
    assert!(ok, "{out}");
    let state = dir.path().join("state.json");
    let credentials = kubeconfig.display().to_string();
    let apply = aksform()
        .arg("apply")
        .arg(&stack)
        .arg("--state")
        .arg(&state)
        .args(KUBERNETES)
        .args(["--kubeconfig", &credentials, "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&apply.stderr);
    assert!(stderr.contains("service.clash") && stderr.contains("provided port is already allocated"), "{stderr}");
    let recorded = std::fs::read_to_string(&state).unwrap();
    assert!(recorded.contains("\"service.ok\"") && recorded.contains("\"namespace.apps\""), "{recorded}");
    assert!(!recorded.contains("\"service.clash\""), "{recorded}");
}

#[test]
fn a_change_made_with_kubectl_shows_as_drift_and_apply_puts_it_back() {
    let plane = ControlPlane::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    plane.write_kubeconfig(&kubeconfig).unwrap();
    let state = dir.path().join("state.json");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/service-types");
    let run = kubernetes_part(&example, &state, &kubeconfig);
    assert!(run(&["apply", "--auto-approve"]).status.success());
    let (ok, out) = kubectl(
        &kubeconfig,
        &[
            "-n",
            "platform",
            "patch",
            "service",
            "redis",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/ports/0/port","value":6380}]"#,
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = kubectl(&kubeconfig, &["-n", "platform", "label", "service", "grafana", "team=observability"]);
    assert!(ok, "{out}");

    let plan = run(&["plan", "--detailed-exitcode"]);
    let stdout = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(plan.status.code(), Some(2), "{stdout}\n{}", String::from_utf8_lossy(&plan.stderr));
    assert!(stdout.contains("~ service.redis was changed outside aksform"), "{stdout}");
    assert!(stdout.contains("~ ports[0].port: 6379 → 6380"), "{stdout}");
    assert!(stdout.contains("~ ports[0].port: 6380 → 6379"), "the plan puts it back: {stdout}");
    assert!(!stdout.contains("service.grafana"), "a label aksform does not manage is not drift: {stdout}");
    let json = run(&["plan", "--json"]);
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        document["drift"],
        serde_json::json!([{
            "address": "service.redis",
            "kind": "service",
            "status": "changed",
            "changes": [{ "path": ["ports", 0, "port"], "recorded": 6379, "live": 6380 }]
        }]),
        "{document}"
    );

    assert!(run(&["apply", "--auto-approve"]).status.success());
    let (_, port) =
        kubectl(&kubeconfig, &["-n", "platform", "get", "service", "redis", "-o", "jsonpath={.spec.ports[0].port}"]);
    assert_eq!(port.trim(), "6379");
    assert_eq!(run(&["plan", "--detailed-exitcode"]).status.code(), Some(0));
    assert!(run(&["destroy", "--auto-approve"]).status.success());
}

/// How many Services the interrupted applies have: enough that an apply is still running
/// when the test steps in, at the parallelism below.
const MANY: usize = 400;
const PARALLELISM: usize = 2;

/// Where an interrupted apply's files are; the folder goes when this is dropped.
struct Paths {
    stack: PathBuf,
    state: PathBuf,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

/// A control plane, and an apply of `MANY` Services in the namespace `many` that has
/// recorded some of them and is still running.
fn apply_many_services_until_some_are_recorded() -> (ControlPlane, Paths, Running) {
    let plane = ControlPlane::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    plane.write_kubeconfig(&kubeconfig).unwrap();
    let stack = dir.path().join("stack");
    std::fs::create_dir_all(&stack).unwrap();
    std::fs::write(stack.join("main.aks"), generate_services_stack("many", "many", MANY)).unwrap();
    let state = dir.path().join("state.json");
    let mut apply = Running::apply(&stack, &state, &kubeconfig, dir.path());
    apply.wait_for_recorded(&state, 30);
    (plane, Paths { stack, state, kubeconfig, _dir: dir }, apply)
}

/// `aksform COMMAND STACK --state STATE --target (Kubernetes kinds) --kubeconfig KUBECONFIG`,
/// as a process the test can signal.
fn aksform_process(command: &str, stack: &Path, state: &Path, kubeconfig: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_aksform"));
    cmd.env_remove("AKSFORM_STATE")
        .env("NO_COLOR", "1")
        .arg(command)
        .arg(stack)
        .arg("--state")
        .arg(state)
        .args(KUBERNETES)
        .arg("--kubeconfig")
        .arg(kubeconfig);
    cmd
}

/// A running `aksform apply` whose output goes to files (a plan of hundreds of Services would
/// fill a pipe nobody reads).
struct Running {
    child: std::process::Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    fn apply(stack: &Path, state: &Path, kubeconfig: &Path, dir: &Path) -> Running {
        let stdout = dir.join("apply.stdout");
        let stderr = dir.join("apply.stderr");
        let child = aksform_process("apply", stack, state, kubeconfig)
            .args(["--auto-approve", "--kubernetes-parallelism", &PARALLELISM.to_string()])
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Running { child, stdout, stderr }
    }

    /// Waits until the state records at least `count` Services, polling the file the apply
    /// rewrites after every step.
    fn wait_for_recorded(&mut self, state: &Path, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while recorded_services(state).len() < count {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the apply ended ({status}) before {count} Services were recorded:\n{}", self.output());
            }
            assert!(Instant::now() < deadline, "{count} Services not recorded in time:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the apply to end; returns its exit code, stdout and stderr.
    fn finish(mut self) -> (Option<i32>, String, String) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the apply did not end:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = std::fs::read_to_string(&self.stdout).unwrap();
        let stderr = std::fs::read_to_string(&self.stderr).unwrap();
        (status.code(), stdout, stderr)
    }

    fn output(&self) -> String {
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        format!("stderr:\n{stderr}")
    }
}

/// The Service addresses a state file records (none while it does not exist yet).
fn recorded_services(state: &Path) -> BTreeSet<String> {
    // The document, written whole and renamed into place, and the journal of what was
    // recorded since, as the next command reads them.
    use aksform::state::Backend;
    let Some(recorded) = aksform::state::LocalBackend::new(state).read().unwrap() else { return BTreeSet::new() };
    recorded.addresses().map(ToString::to_string).filter(|a| a.starts_with("service.")).collect()
}

/// The addresses of the Services in `namespace` that carry aksform's marks, as the server
/// has them.
fn services_on_server(kubeconfig: &Path, namespace: &str) -> BTreeSet<String> {
    let (ok, out) = kubectl(
        kubeconfig,
        &["get", "services", "-n", namespace, "-l", "app.kubernetes.io/managed-by=aksform", "-o", "json"],
    );
    assert!(ok, "{out}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["metadata"]["annotations"]["aksform.io/address"].as_str().unwrap().to_string())
        .collect()
}

fn all_services() -> BTreeSet<String> {
    (0..MANY).map(|i| format!("service.svc-{i:04}")).collect()
}

/// A second apply creates what is missing, and a plan that reads every object live then
/// finds nothing to do.
fn assert_the_next_apply_converges(stack: &Path, state: &Path, kubeconfig: &Path) {
    let apply = aksform_process("apply", stack, state, kubeconfig).arg("--auto-approve").output().unwrap();
    let stdout = String::from_utf8_lossy(&apply.stdout);
    assert!(apply.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&apply.stderr));
    assert!(stdout.contains("Apply complete"), "{stdout}");
    assert_eq!(recorded_services(state), all_services());
    assert_eq!(services_on_server(kubeconfig, "many"), all_services());
    let plan = aksform_process("plan", stack, state, kubeconfig).arg("--detailed-exitcode").output().unwrap();
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&plan.stdout),
        String::from_utf8_lossy(&plan.stderr)
    );
}

/// The addresses the apply reported as failed (`error: service.x: creating failed: ...`).
fn failed_steps(stderr: &str) -> BTreeSet<String> {
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix("error: "))
        .filter_map(|rest| rest.split_once(": creating failed:").map(|(address, _)| address.to_string()))
        .collect()
}

#[test]
fn the_api_server_killed_in_the_middle_of_an_apply_stops_it_the_state_lists_what_exists_and_the_next_apply_converges() {
    let (mut plane, Paths { stack, state, kubeconfig, _dir }, apply) = apply_many_services_until_some_are_recorded();
    plane.kill().unwrap();
    let (code, _, stderr) = apply.finish();

    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let server = plane.server_url().trim_start_matches("https://").to_string();
    assert!(stderr.contains(&format!("cannot reach the Kubernetes API server {server}")), "{stderr}");
    assert!(stderr.contains("Stopped: a server could not be reached"), "{stderr}");
    assert!(stderr.contains("Apply stopped:"), "{stderr}");
    // The requests in flight when the server died failed, and once one had, no other started:
    // at most one per slot of the parallelism.
    let in_flight = failed_steps(&stderr);
    assert!(!in_flight.is_empty() && in_flight.len() <= PARALLELISM, "{in_flight:?}\n{stderr}");
    let recorded = recorded_services(&state);
    assert!(recorded.len() < MANY, "the apply finished before the server was killed");
    assert!(recorded.is_disjoint(&in_flight));

    plane.restart().unwrap();
    let on_server = services_on_server(&kubeconfig, "many");
    // Recorded only once the server answered, and etcd had stored it before that: everything
    // the state lists exists.
    let missing: Vec<_> = recorded.difference(&on_server).collect();
    assert!(missing.is_empty(), "recorded but not on the server: {missing:?}");
    // The server may have stored a request in flight without answering it; nothing else
    // exists that the state does not list.
    let unrecorded: BTreeSet<String> = on_server.difference(&recorded).cloned().collect();
    assert!(
        unrecorded.is_subset(&in_flight),
        "on the server, not in the state: {unrecorded:?} (in flight: {in_flight:?})"
    );

    assert_the_next_apply_converges(&stack, &state, &kubeconfig);
}

#[test]
fn ctrl_c_in_the_middle_of_an_apply_finishes_what_is_in_flight_and_saves_it() {
    let (_plane, Paths { stack, state, kubeconfig, _dir }, apply) = apply_many_services_until_some_are_recorded();
    let pid = i32::try_from(apply.child.id()).unwrap();
    // SAFETY: signals a child of this process that has not been reaped, so the pid is its own.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let (code, _, stderr) = apply.finish();

    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let (_, after_signal) = stderr
        .split_once("Stopping: no new changes start; waiting for the ones in flight, then the state is saved.")
        .unwrap_or_else(|| panic!("no word of stopping:\n{stderr}"));
    assert!(after_signal.contains("Apply stopped:"), "{stderr}");
    assert!(failed_steps(&stderr).is_empty(), "{stderr}");
    // What finishes after the signal is what was in flight: no more than the parallelism.
    let finished_after = after_signal.lines().filter(|l| l.contains(": created (")).count();
    assert!(finished_after <= PARALLELISM, "{finished_after} finished after the signal:\n{after_signal}");

    // What was in flight finished and was recorded: the state and the server agree exactly.
    let recorded = recorded_services(&state);
    assert!(recorded.len() < MANY, "the apply finished before the signal");
    assert_eq!(services_on_server(&kubeconfig, "many"), recorded);

    assert_the_next_apply_converges(&stack, &state, &kubeconfig);
}

/// Runs aksform on the Kubernetes part of `stack` with `kubeconfig`'s credentials.
fn kubernetes_part<'a>(
    stack: &'a Path,
    state: &'a Path,
    kubeconfig: &Path,
) -> impl Fn(&[&str]) -> std::process::Output + 'a {
    let credentials = kubeconfig.display().to_string();
    move |command: &[&str]| {
        aksform()
            .args(command)
            .arg(stack)
            .arg("--state")
            .arg(state)
            .args(KUBERNETES)
            .args(["--kubeconfig", &credentials])
            .output()
            .unwrap()
    }
}

/// The namespace `apps` and its Service `web` made by hand, with an extra port.
fn made_by_hand(kubeconfig: &Path) {
    for args in [
        &["create", "namespace", "apps"][..],
        &["-n", "apps", "create", "service", "clusterip", "web", "--tcp=80:8080", "--tcp=81:81"],
    ] {
        let (ok, out) = kubectl(kubeconfig, args);
        assert!(ok, "{out}");
    }
}

#[test]
fn objects_made_outside_the_stack_are_refused_on_create_then_imported_and_managed() {
    let (_plane, dir, kubeconfig, stack) = plane_and_stack(
        &[
            "stack \"brown\" { location = westeurope }\n",
            CLUSTER_C,
            r#"
service "web" {
  namespace = namespace.apps
  selector  = { app = "web" }
  port http 80 -> 8080
}
"#,
        ]
        .concat(),
    );
    // Made by hand, with another selector and an extra port.
    made_by_hand(&kubeconfig);
    let web = || kubectl(&kubeconfig, &["-n", "apps", "get", "service", "web", "-o", "json"]).1;
    let before = web();
    let state = dir.path().join("state.json");
    let run = kubernetes_part(&stack, &state, &kubeconfig);
    let apply = run(&["apply", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&apply.stderr);
    for (address, id) in [
        ("namespace.apps", "k8s://cluster.c/v1/Namespace/_/apps"),
        ("service.web", "k8s://cluster.c/v1/Service/apps/web"),
    ] {
        assert!(
            stderr.contains(&format!(
                "{address}: `{id}` already exists and is not this stack's (it was not made by aksform)"
            )),
            "{stderr}"
        );
    }
    assert!(stderr.contains("Nothing was changed."), "{stderr}");
    assert_eq!(web(), before, "untouched");
    assert!(!state.exists());

    let credentials = kubeconfig.display().to_string();
    for (address, id) in [("namespace.apps", "apps"), ("service.web", "apps/web")] {
        let import = aksform()
            .args(["import", address, id])
            .arg(&stack)
            .arg("--state")
            .arg(&state)
            .args(["--kubeconfig", &credentials])
            .output()
            .unwrap();
        assert!(import.status.success(), "{address}: {}", String::from_utf8_lossy(&import.stderr));
    }
    let plan = run(&["plan", "--format", "json"]);
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let actions: Vec<String> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{} {}", a["action"].as_str().unwrap(), a["address"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, ["update service.web"], "{plan:#}");
    let apply = run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", String::from_utf8_lossy(&apply.stderr));
    let after: serde_json::Value = serde_json::from_str(&web()).unwrap();
    assert_eq!(after["spec"]["selector"], serde_json::json!({ "app": "web" }));
    assert_eq!(after["spec"]["ports"].as_array().unwrap().len(), 1, "{after:#}");
    let clean = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(clean.status.code(), Some(0), "{}", String::from_utf8_lossy(&clean.stdout));
}

#[test]
fn import_blocks_take_objects_made_outside_under_the_stack_with_their_differences_shown_then_plan_clean() {
    let imports = r#"
import {
  to = namespace.apps
  id = "apps"
}

import {
  to = service.web
  id = "apps/web"
}
"#;
    let (_plane, dir, kubeconfig, stack) = plane_and_stack(
        &[
            "stack \"brown\" { location = westeurope }\n",
            CLUSTER_C,
            r#"
service "web" {
  namespace = namespace.apps
  selector  = { app = "web" }
  port http 80 -> 8080
}
"#,
            imports,
        ]
        .concat(),
    );
    made_by_hand(&kubeconfig);
    let uid = |kind: &str, args: &[&str]| {
        let (ok, out) = kubectl(&kubeconfig, &[args, &["get", kind, "-o", "jsonpath={.metadata.uid}"]].concat());
        assert!(ok, "{out}");
        out
    };
    let (namespace_uid, service_uid) = (uid("namespace/apps", &[]), uid("service/web", &["-n", "apps"]));
    let state = dir.path().join("state.json");
    let run = kubernetes_part(&stack, &state, &kubeconfig);
    let plan = run(&["plan", "--format", "json"]);
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let actions: Vec<String> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{} {}", a["action"].as_str().unwrap(), a["address"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, ["import namespace.apps", "import service.web"], "{plan:#}");
    assert_eq!(plan["summary"]["import"], 2, "{plan:#}");
    assert_eq!(plan["summary"]["create"], 0, "{plan:#}");
    assert_eq!(plan["actions"][0]["changes"], serde_json::json!([]), "the namespace is as its block says");
    let changed: Vec<String> = plan["actions"][1]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"][0].as_str().unwrap().to_string())
        .collect();
    // `kubectl create service` selects `app: web` too: only the extra port differs.
    assert_eq!(changed, ["ports"], "{plan:#}");
    assert_eq!(plan["actions"][1]["provider_id"], "k8s://cluster.c/v1/Service/apps/web");
    let text_plan = run(&["plan"]);
    let shown = String::from_utf8_lossy(&text_plan.stdout);
    assert!(
        shown.contains("<= service.web")
            && shown.contains("(from k8s://cluster.c/v1/Service/apps/web, then update in place)")
            && shown.contains("Plan: 2 to import, 0 to create, 0 to update, 0 to replace, 0 to destroy."),
        "{shown}"
    );

    let apply = run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", String::from_utf8_lossy(&apply.stderr));
    assert_eq!(uid("namespace/apps", &[]), namespace_uid, "the namespace was taken, not made again");
    assert_eq!(uid("service/web", &["-n", "apps"]), service_uid, "the Service was updated, not made again");
    let (_, web) = kubectl(&kubeconfig, &["-n", "apps", "get", "service", "web", "-o", "json"]);
    let web: serde_json::Value = serde_json::from_str(&web).unwrap();
    assert_eq!(web["spec"]["selector"], serde_json::json!({ "app": "web" }));
    assert_eq!(web["spec"]["ports"].as_array().unwrap().len(), 1, "{web:#}");
    // The import blocks, kept, do nothing more.
    let clean = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(clean.status.code(), Some(0), "{}", String::from_utf8_lossy(&clean.stdout));

    // Imported again under an id the block does not name: refused, at the block.
    let text = std::fs::read_to_string(stack.join("main.aks")).unwrap();
    std::fs::write(stack.join("main.aks"), text.replace("apps/web", "apps/api")).unwrap();
    let wrong = run(&["plan"]);
    assert_eq!(wrong.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("AKS187") && stderr.contains("main.aks:"), "{stderr}");
}

/// The requests the API server has answered for Services with `verb` (`GET`, `LIST`), as its
/// metrics count them.
fn service_requests(kubeconfig: &Path, verb: &str) -> u64 {
    let (ok, metrics) = kubectl(kubeconfig, &["get", "--raw", "/metrics"]);
    assert!(ok, "{metrics}");
    let verb = format!("verb=\"{verb}\"");
    metrics
        .lines()
        .filter(|line| line.starts_with("apiserver_request_total{"))
        .filter(|line| line.contains("resource=\"services\"") && line.contains(&verb))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[test]
fn a_refresh_lists_each_namespace_once_and_reads_alone_only_what_the_list_misses() {
    let services: String = ["a", "b"]
        .iter()
        .flat_map(|ns| (0..6).map(move |i| (ns, i)))
        .map(|(ns, i)| {
            format!(
                "service \"{ns}{i}\" {{\n  namespace = namespace.{ns}\n  selector = {{ app = \"{ns}{i}\" }}\n  \
                 labels = {{ team = \"shop\" }}\n  port http 80\n}}\n"
            )
        })
        .collect();
    let (_plane, dir, kubeconfig, stack) = plane_and_stack(
        &[
            "stack \"listed\" { location = westeurope }\n",
            CLUSTER_C,
            "\nnamespace \"a\" { cluster = cluster.c }\nnamespace \"b\" { cluster = cluster.c }\n",
            &services,
        ]
        .concat(),
    );
    let state = dir.path().join("state.json");
    let run = kubernetes_part(&stack, &state, &kubeconfig);
    let apply = run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", String::from_utf8_lossy(&apply.stderr));
    assert_eq!(run(&["plan", "--detailed-exitcode"]).status.code(), Some(0), "a plan after apply is clean");

    // a0 loses aksform's label, so a list by it misses a0; b1's label is changed; b2 is deleted.
    for args in [
        &["-n", "a", "label", "service", "a0", "app.kubernetes.io/managed-by-", "team=edited", "--overwrite"][..],
        &["-n", "b", "label", "service", "b1", "team=edited", "--overwrite"],
        &["-n", "b", "delete", "service", "b2"],
    ] {
        let (ok, out) = kubectl(&kubeconfig, args);
        assert!(ok, "{out}");
    }

    let (gets, lists) = (service_requests(&kubeconfig, "GET"), service_requests(&kubeconfig, "LIST"));
    let plan = run(&["plan", "--json"]);
    let (gets, lists) = (service_requests(&kubeconfig, "GET") - gets, service_requests(&kubeconfig, "LIST") - lists);
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let edited = |address: &str| {
        serde_json::json!({
            "address": address,
            "kind": "service",
            "status": "changed",
            "changes": [{ "path": ["labels", "team"], "recorded": "shop", "live": "edited" }]
        })
    };
    assert_eq!(
        document["drift"],
        serde_json::json!([edited("service.a0"), edited("service.b1"), { "address": "service.b2", "kind": "service", "status": "deleted", "changes": [] }]),
        "{document}"
    );
    let summary = &document["summary"];
    assert_eq!(
        (&summary["create"], &summary["update"], &summary["delete"]),
        (&1.into(), &2.into(), &0.into()),
        "{summary}"
    );
    // One list for each namespace, and a GET for each of the two the lists did not return
    // (a0 and b2), where reading each alone took twelve.
    assert_eq!((lists, gets), (2, 2), "Service requests of the plan's refresh");
}
