//! aksform against kubectl on one sandbox control plane, in one run: applying 1,000 Services
//! (`aksform apply` against `kubectl apply --server-side -f DIR`), then planning them with a
//! live read (`aksform plan`, which refreshes by default, against `kubectl diff --server-side
//! -f DIR`). Both get the very objects aksform sends (its own manifests, written for kubectl),
//! each tool in namespaces of its own. Prints figures; the target is aksform at least 5×
//! faster in both. Beside them, the plan against the floor a refresh cannot beat: one list
//! call returning all the Services, made in this process on a new connection (target: the
//! plan within 2× of it, and at most 0.3 s for 1,000 Services). And the API server's own
//! pace: the same objects created by server-side apply, then deleted, by a minimal client in
//! this process at its best concurrency (of `AKSFORM_BENCH_CONCURRENCY`, by default 8, 32 and
//! 128), against `aksform apply` and `aksform destroy` (target: within 1.5× of it).
//!
//! `cargo bench --bench kube_vs_kubectl` measures 1,000 Services in 2 rounds
//! (`AKSFORM_BENCH_SERVICES`, `AKSFORM_BENCH_ROUNDS` change that). `cargo test --all-targets`
//! (so `scripts/test.sh`) runs it once on 20 Services, in seconds, so that it keeps working.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use aksform::diag::SourceMap;
use aksform::loading::from_sources;
use aksform::model::Value;
use aksform::providers::Attributes;
use aksform::providers::kube::{MANAGED_BY, MANAGED_BY_LABEL, manifest};
use aksform_sandbox::ControlPlane;
use aksform_testkit::bench::{self, Size};
use aksform_testkit::large::generate_services_stack;
use futures::stream::{self, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};

const KUBERNETES: [&str; 6] = ["--target", "namespace", "--target", "service", "--target", "ingress"];

fn main() {
    let Some(size) = bench::size("kube_vs_kubectl") else { return };
    let benching = size == Size::Full;
    let (services, rounds) = if benching { (1000, 2) } else { (20, 1) };
    let services = setting("AKSFORM_BENCH_SERVICES", services);
    let rounds = setting("AKSFORM_BENCH_ROUNDS", rounds);
    if let Err(message) = run(services, rounds) {
        eprintln!("kube_vs_kubectl: {message}");
        std::process::exit(1);
    }
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(default)
}

/// One round's wall times.
struct Round {
    aksform_apply: Duration,
    kubectl_apply: Duration,
    aksform_plan: Duration,
    kubectl_diff: Duration,
    /// One list call returning every Service of the plan.
    list_call: Duration,
    aksform_destroy: Duration,
    /// The minimal client at its best concurrency: its creates, its deletes.
    limit: Limit,
}

/// The minimal client's best times, and the concurrency that gave each.
struct Limit {
    create: (Duration, usize),
    delete: (Duration, usize),
}

fn run(services: usize, rounds: usize) -> Result<(), String> {
    let started = Instant::now();
    let plane = ControlPlane::start().map_err(|e| format!("starting the control plane: {e}"))?;
    eprintln!("control plane ready in {:.1} s at {}", started.elapsed().as_secs_f64(), plane.server_url());
    let dir = tempfile::tempdir().map_err(|e| format!("creating a temporary folder: {e}"))?;
    let kubeconfig = dir.path().join("kubeconfig");
    plane.write_kubeconfig(&kubeconfig).map_err(|e| e.to_string())?;
    let bench =
        Bench { dir: dir.path().to_path_buf(), kubeconfig, kubeconfig_yaml: plane.kubeconfig_yaml().to_string() };

    let mut measured = Vec::new();
    for round in 0..rounds {
        eprintln!("round {} of {rounds}: {services} Services each (load average {})", round + 1, load_average());
        measured.push(bench.round(round, services)?);
    }
    eprintln!("load average at the end: {}", load_average());
    print_table(services, &measured);
    plane.stop().map_err(|e| e.to_string())
}

struct Bench {
    dir: PathBuf,
    kubeconfig: PathBuf,
    kubeconfig_yaml: String,
}

impl Bench {
    fn round(&self, round: usize, services: usize) -> Result<Round, String> {
        let work = self.dir.join(format!("round{round}"));
        let stack = work.join("stack");
        let manifests = work.join("manifests");
        let state = work.join("state.json");
        for folder in [&stack, &manifests] {
            std::fs::create_dir_all(folder).map_err(|e| format!("creating {}: {e}", folder.display()))?;
        }
        let aksform_namespace = format!("aksform{round}");
        let kubectl_namespace = format!("kubectl{round}");
        write(&stack.join("main.aks"), &generate_services_stack("bench", &aksform_namespace, services))?;
        write_manifests(&generate_services_stack("bench", &kubectl_namespace, services), &manifests)?;

        let aksform_apply = || {
            self.aksform(&work, "apply", &stack, &state, &["--auto-approve"])
                .map(|elapsed| (elapsed, self.count(&aksform_namespace)))
        };
        let kubectl_apply = || {
            let dir = manifests.to_string_lossy();
            self.kubectl(&work, &["apply", "--server-side", "-f", &dir])
                .map(|elapsed| (elapsed, self.count(&kubectl_namespace)))
        };
        // Whoever goes second meets a server holding the other's objects; take turns.
        let ((aksform_apply, made_by_aksform), (kubectl_apply, made_by_kubectl)) = if round.is_multiple_of(2) {
            let a = aksform_apply()?;
            (a, kubectl_apply()?)
        } else {
            let k = kubectl_apply()?;
            (aksform_apply()?, k)
        };
        for (tool, made) in [("aksform", made_by_aksform?), ("kubectl", made_by_kubectl?)] {
            if made != services {
                return Err(format!("{tool} apply left {made} Services on the server, not {services}"));
            }
        }

        // Both read every object back and find nothing to change: plan exits 0 with
        // --detailed-exitcode, and kubectl diff exits 0 when there is no difference.
        let aksform_plan = self.aksform(&work, "plan", &stack, &state, &["--detailed-exitcode"])?;
        let kubectl_diff = self.kubectl(&work, &["diff", "--server-side", "-f", &manifests.to_string_lossy()])?;
        let list_call = self.list_call(&aksform_namespace, services)?;

        let aksform_destroy = self.aksform(&work, "destroy", &stack, &state, &["--auto-approve"])?;
        // The server slows down as it holds more objects: what follows starts from none.
        self.kubectl(&work, &["delete", "namespace", &kubectl_namespace, "--wait", "--timeout=600s"])?;
        let limit = self.limit(&work, round, services)?;
        Ok(Round { aksform_apply, kubectl_apply, aksform_plan, kubectl_diff, list_call, aksform_destroy, limit })
    }

    /// The minimal client: the objects aksform applies, in a namespace of their own for each
    /// concurrency tried, created by server-side apply (the namespace first) and then deleted
    /// (the Services, then the namespace, until it is gone), each at that concurrency.
    fn limit(&self, work: &Path, round: usize, services: usize) -> Result<Limit, String> {
        let tried: Vec<usize> = std::env::var("AKSFORM_BENCH_CONCURRENCY")
            .ok()
            .map(|list| list.split(',').filter_map(|n| n.trim().parse().ok()).filter(|&n| n > 0).collect())
            .filter(|list: &Vec<usize>| !list.is_empty())
            .unwrap_or_else(|| vec![8, 32, 128]);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting a runtime: {e}"))?;
        let mut best = Limit { create: (Duration::MAX, 0), delete: (Duration::MAX, 0) };
        for concurrency in tried {
            let namespace = format!("limit{round}c{concurrency}");
            let folder = work.join(&namespace);
            std::fs::create_dir_all(&folder).map_err(|e| format!("creating {}: {e}", folder.display()))?;
            write_manifests(&generate_services_stack("bench", &namespace, services), &folder)?;
            let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
                .map_err(|e| e.to_string())?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .collect();
            files.sort();
            let read = |path: &PathBuf| std::fs::read_to_string(path).map_err(|e| e.to_string());
            let namespace_object: Namespace = serde_json::from_str(&read(&files[0])?).map_err(|e| e.to_string())?;
            let objects: Vec<Service> = files[1..]
                .iter()
                .map(|path| serde_json::from_str(&read(path)?).map_err(|e| e.to_string()))
                .collect::<Result<_, String>>()?;
            let (create, delete) =
                runtime.block_on(self.limit_run(&namespace, &namespace_object, &objects, concurrency))?;
            eprintln!(
                "  minimal client at {concurrency} at once: creates {} ms, deletes {} ms",
                create.as_millis(),
                delete.as_millis()
            );
            if create < best.create.0 {
                best.create = (create, concurrency);
            }
            if delete < best.delete.0 {
                best.delete = (delete, concurrency);
            }
        }
        Ok(best)
    }

    async fn limit_run(
        &self,
        namespace: &str,
        namespace_object: &Namespace,
        services: &[Service],
        concurrency: usize,
    ) -> Result<(Duration, Duration), String> {
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&self.kubeconfig_yaml).map_err(|e| e.to_string())?;
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await.map_err(|e| e.to_string())?;
        let client = kube::Client::try_from(config).map_err(|e| e.to_string())?;
        let namespaces = Api::<Namespace>::all(client.clone());
        let api = Api::<Service>::namespaced(client, namespace);
        let apply = PatchParams::apply("bench").force();
        let started = Instant::now();
        namespaces.patch(namespace, &apply, &Patch::Apply(namespace_object)).await.map_err(|e| e.to_string())?;
        stream::iter(services)
            .map(|service| {
                let (api, apply) = (&api, &apply);
                async move {
                    let name = service.metadata.name.as_deref().unwrap_or_default();
                    api.patch(name, apply, &Patch::Apply(service)).await.map(drop)
                }
            })
            .buffer_unordered(concurrency)
            .try_collect::<Vec<()>>()
            .await
            .map_err(|e| format!("creating: {e}"))?;
        let create = started.elapsed();
        let started = Instant::now();
        stream::iter(services)
            .map(|service| {
                let api = &api;
                async move {
                    let name = service.metadata.name.as_deref().unwrap_or_default();
                    api.delete(name, &DeleteParams::background()).await.map(drop)
                }
            })
            .buffer_unordered(concurrency)
            .try_collect::<Vec<()>>()
            .await
            .map_err(|e| format!("deleting: {e}"))?;
        namespaces.delete(namespace, &DeleteParams::background()).await.map_err(|e| e.to_string())?;
        while namespaces.get_opt(namespace).await.map_err(|e| e.to_string())?.is_some() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok((create, started.elapsed()))
    }

    /// How long one list of aksform's Services in `namespace` takes, unpaged, on a connection
    /// of its own: what the plan's refresh reads, in a single request.
    fn list_call(&self, namespace: &str, services: usize) -> Result<Duration, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting a runtime: {e}"))?;
        runtime.block_on(async {
            let kubeconfig = kube::config::Kubeconfig::from_yaml(&self.kubeconfig_yaml).map_err(|e| e.to_string())?;
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                .await
                .map_err(|e| e.to_string())?;
            let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY}");
            let started = Instant::now();
            let client = kube::Client::try_from(config).map_err(|e| e.to_string())?;
            let listed = Api::<Service>::namespaced(client, namespace)
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(|e| format!("listing the Services of {namespace}: {e}"))?;
            let elapsed = started.elapsed();
            if listed.items.len() != services {
                return Err(format!("the list returned {} Services, not {services}", listed.items.len()));
            }
            Ok(elapsed)
        })
    }

    /// Runs aksform; its output goes to files, as a terminal is not what is measured.
    fn aksform(
        &self,
        work: &Path,
        command: &str,
        stack: &Path,
        state: &Path,
        extra: &[&str],
    ) -> Result<Duration, String> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_aksform"));
        cmd.env_remove("AKSFORM_STATE")
            .env("NO_COLOR", "1")
            .arg(command)
            .arg(stack)
            .arg("--state")
            .arg(state)
            .args(KUBERNETES)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(extra);
        timed(cmd, work, &format!("aksform-{command}"))
    }

    fn kubectl(&self, work: &Path, args: &[&str]) -> Result<Duration, String> {
        let mut cmd = Command::new("kubectl");
        // Discovery is cached here, as it would be under ~/.kube; the first call fills it.
        cmd.arg("--kubeconfig").arg(&self.kubeconfig).arg("--cache-dir").arg(self.dir.join("kube-cache")).args(args);
        timed(cmd, work, &format!("kubectl-{}", args[0]))
    }

    /// The Services in `namespace`, as the server lists them.
    fn count(&self, namespace: &str) -> Result<usize, String> {
        let output = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["get", "services", "-n", namespace, "-o", "name"])
            .output()
            .map_err(|e| format!("running kubectl: {e}"))?;
        if !output.status.success() {
            return Err(format!("kubectl get services: {}", String::from_utf8_lossy(&output.stderr)));
        }
        Ok(String::from_utf8_lossy(&output.stdout).lines().count())
    }
}

/// Runs `cmd` with its output in `work/NAME.out` and `work/NAME.err`, and returns how long it
/// took; failing (for `plan --detailed-exitcode` and `kubectl diff`: finding a difference) is
/// an error carrying what it printed.
fn timed(mut cmd: Command, work: &Path, name: &str) -> Result<Duration, String> {
    let out_path = work.join(format!("{name}.out"));
    let err_path = work.join(format!("{name}.err"));
    let create = |path: &Path| std::fs::File::create(path).map_err(|e| format!("creating {}: {e}", path.display()));
    cmd.stdout(create(&out_path)?).stderr(create(&err_path)?);
    let started = Instant::now();
    let status = cmd.status().map_err(|e| format!("running {name}: {e}"))?;
    let elapsed = started.elapsed();
    if status.success() {
        return Ok(elapsed);
    }
    let tail = |path: &Path| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text[text.len().saturating_sub(3000)..].to_string()
    };
    Err(format!("{name} ended with {status}:\n{}\n{}", tail(&out_path), tail(&err_path)))
}

/// Writes the objects aksform would apply for `stack`'s Kubernetes resources, one file each,
/// the namespace first (kubectl applies a folder's files in name order).
fn write_manifests(stack: &str, folder: &Path) -> Result<(), String> {
    let mut sources = SourceMap::new();
    sources.add("main.aks", "main.aks", stack.to_string());
    let loaded = from_sources(sources, Vec::new(), None, &[], &|_| None);
    if loaded.diagnostics.has_errors() {
        return Err(format!("the generated stack does not load: {:?}", loaded.diagnostics.0));
    }
    let resources: Vec<_> = loaded.stack.resources().into_iter().filter(|r| r.address.kind.is_kubernetes()).collect();
    let desired: BTreeMap<_, _> = resources.iter().map(|r| (&r.address, &r.attributes)).collect();
    for (i, resource) in resources.iter().enumerate() {
        // References name other resources' desired values (a Service's namespace), as the
        // executor fills them in.
        let attributes: Attributes = resource
            .attributes
            .iter()
            .map(|(name, value)| {
                let value = value.resolve(&mut |r| {
                    desired.get(&r.address).and_then(|a| a.get(&r.attribute)).cloned().unwrap_or(Value::Null)
                });
                (name.clone(), value)
            })
            .collect();
        let object = manifest(&resource.address, &attributes).map_err(|e| e.to_string())?;
        let text = serde_json::to_string_pretty(&object).map_err(|e| e.to_string())?;
        write(&folder.join(format!("{i:05}.json")), &text)?;
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// The machine's load average, for reading the figures: the control plane shares the CPUs
/// with both clients and with anything else running.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

fn print_table(services: usize, rounds: &[Round]) {
    let seconds = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let millis = |d: Duration| format!("{} ms", d.as_millis());
    let ratio = |ours: Duration, theirs: Duration| format!("{:.1}×", theirs.as_secs_f64() / ours.as_secs_f64());
    println!();
    println!("{services} Services on one control plane (aksform at its default parallelism)");
    println!("| round | operation | aksform | kubectl | kubectl / aksform |");
    println!("|---|---|---|---|---|");
    for (i, round) in rounds.iter().enumerate() {
        println!(
            "| {} | apply (`aksform apply` / `kubectl apply --server-side`) | {} | {} | {} |",
            i + 1,
            seconds(round.aksform_apply),
            seconds(round.kubectl_apply),
            ratio(round.aksform_apply, round.kubectl_apply)
        );
        println!(
            "| {} | plan with refresh (`aksform plan` / `kubectl diff --server-side`) | {} | {} | {} |",
            i + 1,
            seconds(round.aksform_plan),
            seconds(round.kubectl_diff),
            ratio(round.aksform_plan, round.kubectl_diff)
        );
    }
    println!();
    println!("{services} Services against the API server's own pace: a minimal client at its best concurrency");
    println!("| round | operation | aksform | minimal client (at once) | aksform / client |");
    println!("|---|---|---|---|---|");
    for (i, round) in rounds.iter().enumerate() {
        for (operation, ours, (theirs, at)) in [
            ("apply / server-side apply", round.aksform_apply, round.limit.create),
            ("destroy / delete", round.aksform_destroy, round.limit.delete),
        ] {
            println!(
                "| {} | {operation} | {} | {} ({at}) | {:.2}× |",
                i + 1,
                seconds(ours),
                seconds(theirs),
                ours.as_secs_f64() / theirs.as_secs_f64()
            );
        }
    }
    println!();
    println!("{services} Services planned with refresh against one list call returning them all");
    println!("| round | `aksform plan` | one list call | plan / list |");
    println!("|---|---|---|---|");
    for (i, round) in rounds.iter().enumerate() {
        println!(
            "| {} | {} | {} | {:.1}× |",
            i + 1,
            millis(round.aksform_plan),
            millis(round.list_call),
            round.aksform_plan.as_secs_f64() / round.list_call.as_secs_f64()
        );
    }
}
