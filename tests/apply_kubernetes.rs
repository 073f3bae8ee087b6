//! `aksform apply`, `plan` and `destroy` of the Kubernetes part of the examples against a real
//! control plane (kube-apiserver and kube-controller-manager from the sandbox).

use std::path::Path;

use aksform_sandbox::ControlPlane;
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
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> =
        std::fs::read_dir(&examples).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    names.sort();
    for name in names {
        let example = examples.join(&name);
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

#[test]
fn a_rejected_object_names_the_resource_and_the_reason_and_the_state_stays_right() {
    let plane = ControlPlane::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    plane.write_kubeconfig(&kubeconfig).unwrap();
    let stack = dir.path().join("stack");
    std::fs::create_dir(&stack).unwrap();
    // Two Services on one node port: the checks catch it, so the second asks for a port the
    // server has given to a Service made outside aksform.
    std::fs::write(
        stack.join("main.aks"),
        r#"
stack "clash" { location = westeurope }
resource_group "rg" {}
cluster "c" {
  resource_group = resource_group.rg
  network kubenet {}
  node_pool "system" { vm_size = "Standard_D2s_v5" }
}
namespace "apps" { cluster = cluster.c }
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
    )
    .unwrap();
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
    let credentials = kubeconfig.display().to_string();
    let state = dir.path().join("state.json");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/service-types");
    let run = |command: &str, extra: &[&str]| {
        aksform()
            .arg(command)
            .arg(&example)
            .arg("--state")
            .arg(&state)
            .args(KUBERNETES)
            .args(["--kubeconfig", &credentials])
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(run("apply", &["--auto-approve"]).status.success());
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

    let plan = run("plan", &["--detailed-exitcode"]);
    let stdout = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(plan.status.code(), Some(2), "{stdout}\n{}", String::from_utf8_lossy(&plan.stderr));
    assert!(stdout.contains("~ service.redis was changed outside aksform"), "{stdout}");
    assert!(stdout.contains("~ ports[0].port: 6379 → 6380"), "{stdout}");
    assert!(stdout.contains("~ ports[0].port: 6380 → 6379"), "the plan puts it back: {stdout}");
    assert!(!stdout.contains("service.grafana"), "a label aksform does not manage is not drift: {stdout}");

    assert!(run("apply", &["--auto-approve"]).status.success());
    let (_, port) =
        kubectl(&kubeconfig, &["-n", "platform", "get", "service", "redis", "-o", "jsonpath={.spec.ports[0].port}"]);
    assert_eq!(port.trim(), "6379");
    assert_eq!(run("plan", &["--detailed-exitcode"]).status.code(), Some(0));
    assert!(run("destroy", &["--auto-approve"]).status.success());
}
