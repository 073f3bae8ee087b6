//! The harness of the provider tests: one sandbox control plane for the whole test binary
//! (stopped when it exits), kubectl against it, stacks turned into resources by the model,
//! and applies recorded as the state would record them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

use aksform::diag::{RenderOptions, SourceMap, render_terminal};
use aksform::loading::from_sources;
use aksform::model::{Address, Kind, Resource, Value};
use aksform::providers::kube::KubeProvider;
use aksform::providers::{ApplyRequest, Attributes, Existing, Provider};
use aksform_sandbox::ControlPlane;
use aksform_testkit::stacks::{CLUSTER, NETWORK, stack};

pub struct Sandbox {
    plane: Mutex<Option<ControlPlane>>,
    dir: Mutex<Option<tempfile::TempDir>>,
    kubeconfig: PathBuf,
    pub yaml: String,
    pub token: String,
}

static SANDBOX: OnceLock<Sandbox> = OnceLock::new();

/// Runs when the test binary exits: statics are never dropped, and the control plane's
/// folder would stay behind.
extern "C" fn stop_sandbox() {
    if let Some(sandbox) = SANDBOX.get() {
        let plane = sandbox.plane.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(plane) = plane {
            let _ = plane.stop();
        }
        drop(sandbox.dir.lock().unwrap_or_else(|e| e.into_inner()).take());
    }
}

pub fn sandbox() -> &'static Sandbox {
    SANDBOX.get_or_init(|| {
        let plane = ControlPlane::start().expect("the sandbox control plane starts");
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        plane.write_kubeconfig(&kubeconfig).unwrap();
        // SAFETY: registers a function without arguments that only touches the static above.
        unsafe {
            libc::atexit(stop_sandbox);
        }
        Sandbox {
            yaml: plane.kubeconfig_yaml().to_string(),
            token: plane.token().to_string(),
            plane: Mutex::new(Some(plane)),
            dir: Mutex::new(Some(dir)),
            kubeconfig,
        }
    })
}

pub fn cluster() -> Address {
    Address::new(Kind::Cluster, "aks")
}

pub async fn provider() -> KubeProvider {
    KubeProvider::from_kubeconfig(&sandbox().yaml, None, cluster()).await.unwrap()
}

/// Runs kubectl against the sandbox, whatever it answers.
pub fn kubectl_output(args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&sandbox().kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs (Debian package `kubectl`)")
}

/// Runs kubectl and returns its output; fails the test with kubectl's error.
pub fn kubectl(args: &[&str]) -> String {
    let output = kubectl_output(args);
    assert!(output.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

pub fn kubectl_in(namespace: &str, args: &[&str]) -> String {
    kubectl(&[&["-n", namespace][..], args].concat())
}

pub fn kubectl_json(args: &[&str]) -> serde_json::Value {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    serde_json::from_str(&kubectl(&args)).unwrap()
}

/// The Kubernetes resources of a stack made of a network, a cluster `aks` and `text`, as the
/// model gives them.
pub fn model(text: &str) -> Vec<Resource> {
    let mut sources = SourceMap::new();
    sources.add("main.aks", "main.aks", stack(&[NETWORK, CLUSTER, text]));
    let loaded = from_sources(sources, Vec::new(), None, &[], &|_| None);
    let options = RenderOptions { color: false, unicode: true, width: 100 };
    assert!(
        !loaded.diagnostics.has_errors(),
        "the test stack does not load:\n{}",
        render_terminal(&loaded.diagnostics.0, &loaded.sources, options)
    );
    loaded.stack.resources().into_iter().filter(|r| r.address.kind.is_kubernetes()).collect()
}

/// What the state would record for an applied resource: the values sent and the computed ones.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub address: Address,
    pub provider_id: String,
    pub attributes: Attributes,
}

impl Recorded {
    pub fn existing(&self) -> Existing<'_> {
        Existing { address: &self.address, provider_id: &self.provider_id, attributes: &self.attributes }
    }
}

/// Applies the resources in order, filling references in from what was applied before them
/// (the executor's job in production).
pub async fn apply_all(provider: &KubeProvider, resources: &[Resource]) -> BTreeMap<String, Recorded> {
    let mut recorded: BTreeMap<String, Recorded> = BTreeMap::new();
    for resource in resources {
        let applied_so_far: BTreeMap<&Address, &Attributes> =
            recorded.values().map(|r| (&r.address, &r.attributes)).collect();
        let attributes: Attributes = resource
            .attributes
            .iter()
            .map(|(name, value)| {
                let value = value.resolve(&mut |r| {
                    applied_so_far.get(&r.address).and_then(|a| a.get(&r.attribute)).cloned().unwrap_or(Value::Null)
                });
                (name.clone(), value)
            })
            .collect();
        let request = ApplyRequest { address: &resource.address, attributes: &attributes, provider_id: None };
        let applied = provider.apply(request).await.unwrap_or_else(|e| panic!("{}: {e}", resource.address));
        let computed: BTreeSet<&str> = applied.computed.keys().map(String::as_str).collect();
        assert_eq!(computed, resource.computed.iter().copied().collect(), "{}", resource.address);
        let mut attributes = attributes;
        attributes.extend(applied.computed);
        let entry = Recorded { address: resource.address.clone(), provider_id: applied.provider_id, attributes };
        recorded.insert(resource.address.to_string(), entry);
    }
    recorded
}

pub async fn read(provider: &KubeProvider, recorded: &Recorded) -> Option<Attributes> {
    provider.read(recorded.existing()).await.unwrap_or_else(|e| panic!("{}: {e}", recorded.address))
}

/// Every recorded resource reads back exactly as recorded.
pub async fn assert_reads_as_recorded(provider: &KubeProvider, recorded: &BTreeMap<String, Recorded>) {
    for r in recorded.values() {
        assert_eq!(read(provider, r).await.as_ref(), Some(&r.attributes), "{} reads back differently", r.address);
    }
}

fn resource_version(kind: &str, namespace: Option<&str>, name: &str) -> String {
    let mut args = vec!["get", kind, name, "-o", "jsonpath={.metadata.resourceVersion}"];
    if let Some(ns) = namespace {
        args.extend(["-n", ns]);
    }
    kubectl(&args)
}

/// Applies the model twice: the second apply changes nothing on the server.
pub async fn assert_idempotent(provider: &KubeProvider, resources: &[Resource], recorded: &BTreeMap<String, Recorded>) {
    let versions = |r: &Recorded| {
        let (kind, ns) = match r.address.kind {
            Kind::Namespace => ("namespace", None),
            Kind::Service => ("service", r.attributes["namespace"].as_str()),
            _ => ("ingress", r.attributes["namespace"].as_str()),
        };
        resource_version(kind, ns, r.attributes["name"].as_str().unwrap())
    };
    let before: Vec<String> = recorded.values().map(versions).collect();
    let again = apply_all(provider, resources).await;
    let after: Vec<String> = recorded.values().map(versions).collect();
    assert_eq!(before, after, "a second apply changed objects");
    for (key, r) in &again {
        assert_eq!(r.attributes, recorded[key].attributes, "{key}");
        assert_eq!(r.provider_id, recorded[key].provider_id, "{key}");
    }
}

pub fn with(attributes: &Attributes, changes: &[(&str, Value)]) -> Attributes {
    let mut out = attributes.clone();
    for (k, v) in changes {
        out.insert(k.to_string(), v.clone());
    }
    out
}
