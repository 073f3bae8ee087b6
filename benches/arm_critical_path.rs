//! The wall time of a full-stack `aksform apply` against the critical path of its plan's
//! dependency graph, on the sandbox's ARM emulator with Azure-like operation latencies (scaled
//! down so that a run takes seconds, not minutes). The critical path is the sum of the injected
//! latencies along the plan's longest chain of steps; resource groups and DNS, whose writes
//! are synchronous in ARM, node pools created with their cluster (its create makes them; a
//! second PUT would be an update as long as theirs, as on AKS) and Kubernetes objects count
//! zero, so that every other cost
//! (requests, polling, kubeconfig fetch and connect, waiting for a LoadBalancer address, state
//! writes, process start and exit) shows in the ratio. The target is a ratio of at most 1.10.
//!
//! `cargo bench --bench arm_critical_path` applies six example stacks once each
//! (`AKSFORM_BENCH_STACKS=hub-spoke,ingress-tls` and `AKSFORM_BENCH_ROUNDS=2` change that).
//! `cargo test --all-targets` (so `scripts/test.sh`) applies one small stack at a quarter of
//! the latencies, in about twenty seconds, so that it keeps working.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aksform_sandbox::ControlPlane;
use aksform_sandbox::arm::{Emulator, EmulatorOptions, LatencySettings, WriteRecord};
use aksform_testkit::bench::{self, Size};
use serde_json::Value as Json;

const STACKS: [&str; 6] = ["hub-spoke", "ingress-tls", "shop", "service-types", "internal-lb", "kubenet-basic"];

/// The latency of each kind's create, in ms, by aksform kind and ARM type: Azure's typical
/// durations divided by about 30 (a virtual network takes about a minute, a cluster four to
/// five minutes, an agent pool two to three). `None`: ARM answers the write at once.
const LATENCIES: [(&str, &str, Option<u64>); 9] = [
    ("resource_group", "Microsoft.Resources/resourceGroups", None),
    ("vnet", "Microsoft.Network/virtualNetworks", Some(2000)),
    ("subnet", "Microsoft.Network/virtualNetworks/subnets", Some(1000)),
    ("peering", "Microsoft.Network/virtualNetworks/virtualNetworkPeerings", Some(1000)),
    ("public_ip", "Microsoft.Network/publicIPAddresses", Some(1000)),
    ("cluster", "Microsoft.ContainerService/managedClusters", Some(8000)),
    ("node_pool", "Microsoft.ContainerService/managedClusters/agentPools", Some(4000)),
    ("dns_zone", "Microsoft.Network/dnsZones", None),
    ("dns_record", "Microsoft.Network/dnsZones/A", None),
];

fn main() {
    let Some(size) = bench::size("arm_critical_path") else { return };
    let benching = size == Size::Full;
    // Hub-spoke's two clusters start their control planes together; kubenet-basic has one.
    let (stacks, scale, planes) = if benching { (STACKS.to_vec(), 1.0, 2) } else { (vec!["kubenet-basic"], 0.25, 1) };
    let stacks: Vec<String> = match std::env::var("AKSFORM_BENCH_STACKS") {
        Ok(list) if !list.trim().is_empty() => list.split(',').map(|s| s.trim().to_string()).collect(),
        _ => stacks.into_iter().map(String::from).collect(),
    };
    let rounds = std::env::var("AKSFORM_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0);
    if let Err(message) = run(&stacks, rounds.unwrap_or(1), scale, planes) {
        eprintln!("arm_critical_path: {message}");
        std::process::exit(1);
    }
}

/// The latencies injected in this run: [`LATENCIES`] scaled, the cluster's raised where the
/// machine starts control planes more slowly than that.
struct Latencies {
    scale: f64,
    cluster_ms: u64,
}

impl Latencies {
    fn ms(&self, kind: &str) -> u64 {
        if kind == "cluster" {
            return self.cluster_ms;
        }
        let listed = LATENCIES.iter().find(|(k, _, _)| *k == kind).and_then(|(_, _, ms)| *ms);
        listed.map_or(0, |ms| (ms as f64 * self.scale) as u64)
    }

    fn of(&self, kind: &str) -> Duration {
        Duration::from_millis(self.ms(kind))
    }

    fn settings(&self) -> LatencySettings {
        let mut settings = LatencySettings { default_ms: 0, ..Default::default() };
        for (kind, arm_type, _) in LATENCIES {
            settings.types.insert(arm_type.to_string(), self.ms(kind));
        }
        // On AKS a PUT on an agent pool that exists is an update of its own, as long as a
        // create, even when nothing in it changes.
        let pool = "Microsoft.ContainerService/managedClusters/agentPools";
        settings.updates.insert(pool.to_string(), self.ms("node_pool"));
        settings
    }
}

/// How long `count` control planes take to start together, as a stack's clusters do.
fn control_plane_start(count: usize) -> Result<Duration, String> {
    let started = Instant::now();
    let starting: Vec<_> = (0..count)
        .map(|_| {
            std::thread::spawn(move || {
                let plane = ControlPlane::start().map_err(|e| format!("starting a control plane: {e}"))?;
                let elapsed = started.elapsed();
                plane.stop().map_err(|e| e.to_string())?;
                Ok::<_, String>(elapsed)
            })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    for thread in starting {
        let elapsed = thread.join().map_err(|_| "a control plane's start panicked".to_string())??;
        slowest = slowest.max(elapsed);
    }
    Ok(slowest)
}

/// What one apply measured.
struct Measured {
    stack: String,
    steps: usize,
    critical: Critical,
    wall: Duration,
    /// From the process's start to its first request to ARM.
    startup: Duration,
    /// From the last step's end (its state written) to the process's exit.
    tail: Duration,
    /// When each step ended, from the process's start, by address.
    ended: Vec<(String, Duration)>,
    /// Writes answered 409 (another operation in progress) or 429 (throttled), which aksform
    /// waited out and sent again.
    refused: usize,
}

impl Measured {
    /// From the last cluster's end to the last Kubernetes object's: what fetching the
    /// credentials, connecting, applying the objects and waiting for load-balancer addresses
    /// cost, which the critical path counts as nothing.
    fn kubernetes_after_clusters(&self) -> Option<Duration> {
        let last = |wanted: &dyn Fn(&str) -> bool| {
            self.ended.iter().filter(|(address, _)| wanted(address)).map(|(_, at)| *at).max()
        };
        let clusters = last(&|a| a.starts_with("cluster.") && !a.contains(".node_pool."))?;
        let objects = last(&|a| ["namespace.", "service.", "ingress."].iter().any(|k| a.starts_with(k)))?;
        Some(objects.saturating_sub(clusters))
    }
}

fn run(stacks: &[String], rounds: usize, scale: f64, planes: usize) -> Result<(), String> {
    // A cluster's operation ends when both its latency and its control plane's start are over:
    // the latency must be the longer, or the critical path would not be what the run waits for.
    let plane_start = control_plane_start(planes)?;
    let listed = LATENCIES.iter().find_map(|(k, _, ms)| (*k == "cluster").then_some(*ms)).flatten().unwrap_or(0);
    let needed = (plane_start.as_millis() as u64 * 5 / 4).div_ceil(500) * 500;
    let latencies = Latencies { scale, cluster_ms: ((listed as f64 * scale) as u64).max(needed) };
    eprintln!(
        "{planes} control planes start together in {:.1} s; a cluster's injected latency: {:.1} s",
        plane_start.as_secs_f64(),
        latencies.ms("cluster") as f64 / 1000.0
    );
    let emulator = Emulator::start(EmulatorOptions { latency: latencies.settings(), ..EmulatorOptions::default() })
        .map_err(|e| format!("starting the emulator: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| format!("creating a temporary folder: {e}"))?;
    let mut measured = Vec::new();
    let mut subscription = 0;
    for round in 0..rounds {
        for stack in stacks {
            subscription += 1;
            eprintln!("round {} of {rounds}: {stack} (load average {})", round + 1, load_average());
            let bench = Bench {
                emulator: &emulator,
                work: dir.path().join(format!("{stack}-{round}")),
                example: Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(stack),
                subscription: format!("00000000-0000-0000-0000-{subscription:012}"),
            };
            std::fs::create_dir_all(&bench.work).map_err(|e| format!("creating {}: {e}", bench.work.display()))?;
            let critical = bench.critical_path(&latencies)?;
            let applied = bench.apply(stack, critical)?;
            // Cleaning up is not measured: at no latency, and every control plane stopped,
            // so that the next stack runs on an idle machine.
            emulator.set_latency(LatencySettings { default_ms: 0, ..Default::default() });
            bench.aksform("destroy", &["--auto-approve"])?;
            emulator.set_latency(latencies.settings());
            if emulator.control_plane_count() != 0 {
                return Err(format!("{stack}: destroy left {} control planes", emulator.control_plane_count()));
            }
            measured.push(applied);
        }
    }
    eprintln!("load average at the end: {}", load_average());
    print_table(&measured, &latencies, (planes, plane_start));
    emulator.stop();
    Ok(())
}

struct Bench<'a> {
    emulator: &'a Emulator,
    work: PathBuf,
    example: PathBuf,
    subscription: String,
}

/// The plan's longest chain by injected latency.
struct Critical {
    total: Duration,
    /// The chain's steps: address and injected latency.
    chain: Vec<(String, Duration)>,
}

impl Bench<'_> {
    fn command(&self, command: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_aksform"));
        cmd.env_remove("AKSFORM_STATE")
            .env_remove("AKSFORM_CLOUD")
            .env("NO_COLOR", "1")
            .env("AZURE_SUBSCRIPTION_ID", &self.subscription)
            .envs(self.emulator.environment())
            .arg(command)
            .arg(&self.example)
            .arg("--state")
            .arg(self.work.join("state.json"));
        cmd
    }

    fn aksform(&self, command: &str, extra: &[&str]) -> Result<String, String> {
        let output = self.command(command).args(extra).output().map_err(|e| format!("running aksform: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        if !output.status.success() {
            return Err(format!(
                "aksform {command} {} ended with {}:\n{stdout}\n{}",
                self.example.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(stdout)
    }

    /// The critical path of `aksform plan --json` (docs/plan-json.md): each step's latency is
    /// its kind's injected one, and a step starts when the last of its `depends_on` ends.
    fn critical_path(&self, latencies: &Latencies) -> Result<Critical, String> {
        let text = self.aksform("plan", &["--json"])?;
        let plan: Json = serde_json::from_str(&text).map_err(|e| format!("the plan is not JSON: {e}"))?;
        let (Some(actions), Some(steps)) =
            (plan.get("actions").and_then(Json::as_array), plan.get("steps").and_then(Json::as_array))
        else {
            return Err("the plan has no actions or steps".into());
        };
        // A pool created with its cluster is made by the cluster's create: its own step costs
        // nothing more.
        let created: std::collections::HashSet<&str> = actions
            .iter()
            .filter(|a| a.get("action").and_then(Json::as_str) == Some("create"))
            .filter_map(|a| a.get("address").and_then(Json::as_str))
            .collect();
        let with_its_cluster = |action: &Json| {
            let address = action.get("address").and_then(Json::as_str).unwrap_or("");
            action.get("action").and_then(Json::as_str) == Some("create")
                && address.split_once(".node_pool.").is_some_and(|(cluster, _)| created.contains(cluster))
        };
        let mut ends: Vec<(u64, Option<usize>)> = Vec::with_capacity(steps.len());
        let mut names = Vec::with_capacity(steps.len());
        for step in steps {
            let action = step.get("action").and_then(Json::as_u64).and_then(|i| actions.get(i as usize));
            let kind = match action {
                Some(action) if with_its_cluster(action) => "",
                _ => action.and_then(|a| a.get("kind")).and_then(Json::as_str).unwrap_or(""),
            };
            let address = action.and_then(|a| a.get("address")).and_then(Json::as_str).unwrap_or("?");
            let before = step
                .get("depends_on")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_u64().map(|d| d as usize))
                .filter(|&d| d < ends.len())
                .max_by_key(|&d| ends[d].0);
            let start = before.map_or(0, |d| ends[d].0);
            ends.push((start + latencies.ms(kind), before));
            names.push((address.to_string(), latencies.of(kind)));
        }
        let Some(mut last) = (0..ends.len()).max_by_key(|&i| ends[i].0) else {
            return Err("the plan has no steps".into());
        };
        let total = Duration::from_millis(ends[last].0);
        let mut chain = vec![names[last].clone()];
        while let Some(before) = ends[last].1 {
            chain.push(names[before].clone());
            last = before;
        }
        chain.reverse();
        Ok(Critical { total, chain })
    }

    /// Applies the stack, timing each step's end from the progress lines as they come.
    fn apply(&self, stack: &str, critical: Critical) -> Result<Measured, String> {
        let spawned_at = SystemTime::now();
        let started = Instant::now();
        let mut child = self
            .command("apply")
            .arg("--auto-approve")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("running aksform: {e}"))?;
        let lines: Arc<Mutex<Vec<(Duration, String)>>> = Arc::default();
        let stderr = child.stderr.take().map(|stderr| {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let at = started.elapsed();
                    lines.lock().unwrap_or_else(|p| p.into_inner()).push((at, line));
                }
            })
        });
        let mut stdout = String::new();
        if let Some(mut out) = child.stdout.take() {
            let _ = out.read_to_string(&mut stdout);
        }
        let status = child.wait().map_err(|e| format!("waiting for aksform: {e}"))?;
        let wall = started.elapsed();
        if let Some(reader) = stderr {
            let _ = reader.join();
        }
        let lines = std::mem::take(&mut *lines.lock().unwrap_or_else(|p| p.into_inner()));
        if !status.success() {
            let stderr: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
            return Err(format!("{stack}: apply ended with {status}:\n{stdout}\n{}", stderr.join("\n")));
        }
        // "  vnet.hub: created (2.0s)"
        let ended: Vec<(String, Duration)> = lines
            .iter()
            .filter_map(|(at, line)| {
                let (address, rest) = line.trim_start().split_once(": ")?;
                rest.starts_with("created (").then(|| (address.to_string(), *at))
            })
            .collect();
        let steps = ended.len();
        let last_end = ended.iter().map(|(_, at)| *at).max().unwrap_or(wall);
        let writes = self.writes();
        let refused = writes.iter().filter(|w| w.status == 409 || w.status == 429).count();
        let startup = first_request(&writes)?.duration_since(spawned_at).unwrap_or_default();
        let tail = wall - last_end;
        Ok(Measured { stack: stack.to_string(), steps, critical, wall, startup, tail, ended, refused })
    }

    /// The writes of this run's subscription, in the order the emulator saw them.
    fn writes(&self) -> Vec<WriteRecord> {
        let prefix = format!("/subscriptions/{}/", self.subscription).to_ascii_lowercase();
        self.emulator.operations().into_iter().filter(|w| w.id.to_ascii_lowercase().starts_with(&prefix)).collect()
    }
}

/// When the emulator saw the first write: for a stack not applied yet, the first request there is.
fn first_request(writes: &[WriteRecord]) -> Result<SystemTime, String> {
    let first = writes.first().ok_or("the emulator saw no write")?;
    let at = azure_core::time::parse_rfc3339(&first.time).map_err(|e| format!("{}: {e}", first.time))?;
    let nanos = u64::try_from(at.unix_timestamp_nanos()).map_err(|e| e.to_string())?;
    Ok(SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos))
}

/// The machine's load average, for reading the figures: the control planes share the CPUs
/// with aksform and with anything else running.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

fn print_table(measured: &[Measured], latencies: &Latencies, (planes, plane_start): (usize, Duration)) {
    let seconds = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let shown: Vec<String> = LATENCIES
        .iter()
        .map(|(kind, _, ms)| match ms {
            Some(_) => format!("{kind} {:.2} s", latencies.of(kind).as_secs_f64()),
            None => format!("{kind} sync"),
        })
        .collect();
    println!();
    println!("Injected create latencies: {}; Kubernetes objects count 0.", shown.join(", "));
    println!("{planes} control planes start together in {}.", seconds(plane_start));
    println!(
        "| stack | actions | critical path | wall | wall / critical path | startup | after the last step | Kubernetes after the clusters | writes refused (409, 429) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for m in measured {
        println!(
            "| {} | {} | {} | {} | {:.3}× | {} | {} | {} | {} |",
            m.stack,
            m.steps,
            seconds(m.critical.total),
            seconds(m.wall),
            m.wall.as_secs_f64() / m.critical.total.as_secs_f64(),
            seconds(m.startup),
            seconds(m.tail),
            m.kubernetes_after_clusters().map_or_else(|| "-".to_string(), seconds),
            m.refused
        );
    }
    for m in measured {
        println!();
        println!("{}: the critical path, each step's end (from the process's start, minus its startup)", m.stack);
        println!("| step | injected | ideal end | measured end |");
        println!("|---|---|---|---|");
        let mut ideal = Duration::ZERO;
        for (address, latency) in &m.critical.chain {
            ideal += *latency;
            let end = m.ended.iter().find(|(a, _)| a == address).map(|(_, at)| at.saturating_sub(m.startup));
            let end = end.map_or_else(|| "?".to_string(), seconds);
            println!("| {address} | {} | {} | {end} |", seconds(*latency), seconds(ideal));
        }
    }
}
