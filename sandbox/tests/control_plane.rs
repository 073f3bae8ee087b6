//! The control plane against Debian's kubectl: Kubernetes' own allocation and controllers run,
//! and no process outlives its test, however the test ends.

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use aksform_sandbox::{ControlPlane, SandboxError};

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs (Debian package `kubectl`)")
}

/// Runs kubectl and returns its stdout, failing the test with its stderr.
fn kubectl_ok(kubeconfig: &Path, args: &[&str]) -> String {
    let output = kubectl(kubeconfig, args);
    assert!(output.status.success(), "kubectl {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits for a process that is not our child (so not ours to reap) to disappear.
fn wait_until_gone(pid: u32, within: Duration) {
    let deadline = Instant::now() + within;
    while alive(pid) {
        assert!(Instant::now() < deadline, "process {pid} is still running");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn services_get_addresses_and_namespaces_are_deleted_by_the_controllers() {
    let started = Instant::now();
    let plane = ControlPlane::start().unwrap();
    eprintln!("control plane ready in {:?} at {}", started.elapsed(), plane.server_url());
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    plane.write_kubeconfig(&kubeconfig).unwrap();
    assert!(plane.kubeconfig_yaml().contains(plane.token()));
    assert!(plane.kubeconfig_yaml().contains("current-context: sandbox"));

    kubectl_ok(&kubeconfig, &["create", "namespace", "shop"]);

    let cluster_ip = kubectl_ok(
        &kubeconfig,
        &["-n", "shop", "create", "service", "clusterip", "web", "--tcp=80:8080", "-o", "jsonpath={.spec.clusterIP}"],
    );
    let cluster_ip: Ipv4Addr = cluster_ip.trim().parse().unwrap();
    assert_eq!(cluster_ip.octets()[..2], [10, 0], "{cluster_ip} is outside 10.0.0.0/16");

    let node_port = kubectl_ok(
        &kubeconfig,
        &[
            "-n",
            "shop",
            "create",
            "service",
            "nodeport",
            "edge",
            "--tcp=80:8080",
            "-o",
            "jsonpath={.spec.ports[0].nodePort}",
        ],
    );
    let node_port: u16 = node_port.trim().parse().unwrap();
    assert!((30000..=32767).contains(&node_port), "nodePort {node_port}");

    // Namespaces are emptied and removed by kube-controller-manager's namespace controller; the
    // API server alone would leave this one Terminating for ever.
    kubectl_ok(&kubeconfig, &["delete", "namespace", "shop", "--wait=false"]);
    kubectl_ok(&kubeconfig, &["wait", "--for=delete", "namespace/shop", "--timeout=90s"]);
    let gone = kubectl(&kubeconfig, &["get", "namespace", "shop"]);
    assert!(String::from_utf8_lossy(&gone.stderr).contains("NotFound"));

    let pid = plane.pid();
    let stopping = Instant::now();
    plane.stop().unwrap();
    eprintln!("stopped in {:?}", stopping.elapsed());
    assert!(!alive(pid), "the control plane {pid} outlived stop()");
}

#[test]
fn a_killed_control_plane_refuses_requests() {
    let mut plane = ControlPlane::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    plane.write_kubeconfig(&kubeconfig).unwrap();
    kubectl_ok(&kubeconfig, &["get", "namespaces"]);

    plane.kill().unwrap();
    assert!(!alive(plane.pid()));
    let refused = kubectl(&kubeconfig, &["get", "namespaces", "--request-timeout=5s"]);
    assert!(!refused.status.success(), "{}", String::from_utf8_lossy(&refused.stdout));
}

#[test]
fn a_restarted_control_plane_keeps_its_objects_its_port_and_its_credentials() {
    let mut plane = ControlPlane::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    plane.write_kubeconfig(&kubeconfig).unwrap();
    kubectl_ok(&kubeconfig, &["create", "namespace", "kept"]);
    let cluster_ip = kubectl_ok(
        &kubeconfig,
        &["-n", "kept", "create", "service", "clusterip", "web", "--tcp=80:8080", "-o", "jsonpath={.spec.clusterIP}"],
    );
    let url = plane.server_url().to_owned();
    let port: u16 = url.rsplit_once(':').unwrap().1.parse().unwrap();
    let first_pid = plane.pid();
    plane.kill().unwrap();
    assert!(!alive(first_pid));

    // Another process takes the port meanwhile: the control plane cannot move, and says so.
    let squatter = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let error = plane.restart().unwrap_err();
    assert!(matches!(error, SandboxError::PortTaken { port: p, .. } if p == port), "{error}");
    assert!(error.to_string().contains(&format!("127.0.0.1:{port} was taken")), "{error}");
    drop(squatter);

    plane.restart().unwrap();
    assert_eq!(plane.server_url(), url);
    assert_ne!(plane.pid(), first_pid);
    // The kubeconfig written before the kill reaches the same server with the same token and
    // CA, and what was stored in etcd is still there.
    let kept_ip = kubectl_ok(&kubeconfig, &["-n", "kept", "get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"]);
    assert_eq!(kept_ip, cluster_ip);
    // The controllers run again: the namespace is emptied and removed.
    kubectl_ok(&kubeconfig, &["delete", "namespace", "kept", "--wait=false"]);
    kubectl_ok(&kubeconfig, &["wait", "--for=delete", "namespace/kept", "--timeout=90s"]);
    let log = plane.log().unwrap();
    assert_eq!(log.matches("aksform-kube ready").count(), 2, "{log}");

    let pid = plane.pid();
    plane.stop().unwrap();
    assert!(!alive(pid));
}

#[test]
fn a_panicking_test_leaves_nothing_running() {
    let (sender, receiver) = std::sync::mpsc::channel();
    let panicked = thread::spawn(move || {
        let plane = ControlPlane::start().unwrap();
        sender.send((plane.pid(), plane.log().unwrap())).unwrap();
        panic!("a test failing while its control plane runs");
    })
    .join();
    assert!(panicked.is_err());
    let (pid, log) = receiver.recv().unwrap();
    assert!(log.contains("aksform-kube ready"), "{log}");
    assert!(!alive(pid), "the control plane {pid} outlived the panicking test");
}

/// Run by `a_control_plane_dies_with_the_test_process` in a child process: starts a control
/// plane, writes its kubeconfig where the environment says, reports its pid, and waits to be
/// killed (or for its stdin to close).
#[test]
#[ignore = "helper run in a child process"]
fn hold_control_plane_until_killed() {
    use std::io::Read;
    let Some(kubeconfig) = std::env::var_os("AKSFORM_TEST_HOLD_CONTROL_PLANE") else { return };
    let plane = ControlPlane::start().unwrap();
    plane.write_kubeconfig(kubeconfig).unwrap();
    println!("AKSFORM-TEST-CONTROL-PLANE {}", plane.pid());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

#[test]
fn a_control_plane_dies_with_the_test_process() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut holder = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hold_control_plane_until_killed", "--ignored", "--nocapture"])
        .env("AKSFORM_TEST_HOLD_CONTROL_PLANE", &kubeconfig)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    let pid: u32 = lines
        .map(|line| line.unwrap())
        .find_map(|line| line.strip_prefix("AKSFORM-TEST-CONTROL-PLANE ").map(|pid| pid.parse().unwrap()))
        .expect("the helper started a control plane");
    kubectl_ok(&kubeconfig, &["get", "namespaces"]);

    // SIGKILL: no destructor runs in the holder; only the closed pipe tells the control plane.
    holder.kill().unwrap();
    holder.wait().unwrap();
    wait_until_gone(pid, Duration::from_secs(10));
}
