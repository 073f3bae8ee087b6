//! A plan with refresh of a large stack on the sandbox's ARM emulator with ARM's own request
//! buckets on (reads 250 at once then 25 a second, writes 200 then 10): 500 Azure resources
//! (resource groups with a vnet each, a vnet's subnets, public IPs, a DNS zone's records)
//! beside a cluster (a real control plane) with 2,000 Services. Prints the plan's wall time,
//! its ARM reads against one GET for each recorded Azure resource, and the reads ARM refused
//! with 429. Targets: no 429, and at least 5× fewer reads than one GET each.
//!
//! `cargo bench --bench refresh_throttled` measures 500 + 2,000 in 3 plans
//! (`AKSFORM_BENCH_SERVICES`, `AKSFORM_BENCH_ROUNDS` change that). `cargo test --all-targets`
//! (so `scripts/test.sh`) runs it once on a few dozen, so that it keeps working.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use aksform_sandbox::arm::{Emulator, EmulatorOptions, LatencySettings};
use aksform_testkit::bench::{self, Size};
use aksform_testkit::large::{generate_azure_resources, generate_services_stack};

const SUBSCRIPTION: &str = "00000000-0000-0000-0000-0000000000bb";

fn main() {
    let Some(size) = bench::size("refresh_throttled") else { return };
    let benching = size == Size::Full;
    // groups, public IPs, subnets, records: 10 * 2 + 300 + 100 + 1 + 79 = 500.
    let (azure, services, rounds) = if benching { ((10, 300, 100, 79), 2000, 3) } else { ((2, 10, 5, 5), 20, 1) };
    let services = setting("AKSFORM_BENCH_SERVICES", services);
    let rounds = setting("AKSFORM_BENCH_ROUNDS", rounds);
    if let Err(message) = run(azure, services, rounds) {
        eprintln!("refresh_throttled: {message}");
        std::process::exit(1);
    }
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(default)
}

fn aksform(emulator: &Emulator, dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new(env!("CARGO_BIN_EXE_aksform"))
        .env_remove("AKSFORM_STATE")
        .env_remove("AKSFORM_CLOUD")
        .env("NO_COLOR", "1")
        .env("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION)
        .envs(emulator.environment())
        .args(args)
        .arg(dir)
        .arg("--state")
        .arg(dir.join("state.json"))
        .output()
        .map_err(|e| format!("running aksform: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    match output.status.code() {
        Some(0) => Ok(stdout),
        _ => Err(format!(
            "aksform {} ended with {}:\n{stdout}\n{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

fn run(azure: (usize, usize, usize, usize), services: usize, rounds: usize) -> Result<(), String> {
    let (groups, ips, subnets, records) = azure;
    // The cluster's resource group, the cluster and its pool, besides the generated ones.
    let azure_resources = groups * 2 + subnets + ips + 1 + records + 3;
    let emulator = Emulator::start(EmulatorOptions {
        latency: LatencySettings { default_ms: 0, ..LatencySettings::default() },
        ..EmulatorOptions::default()
    })
    .map_err(|e| format!("starting the emulator: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| format!("creating a temporary folder: {e}"))?;
    let stack = generate_services_stack("refresh", "apps", services);
    let stack = stack.replacen(
        "  location = westeurope\n",
        "  subscription = env(\"AZURE_SUBSCRIPTION_ID\")\n  location = westeurope\n",
        1,
    );
    std::fs::write(dir.path().join("main.aks"), stack + &generate_azure_resources(groups, ips, subnets, records))
        .map_err(|e| format!("writing the stack: {e}"))?;

    let started = Instant::now();
    aksform(&emulator, dir.path(), &["apply", "--auto-approve"])?;
    let applied = started.elapsed();
    let writes_refused = emulator.operations().iter().filter(|w| w.status == 429).count();
    eprintln!(
        "applied {azure_resources} Azure resources and {services} Services in {:.1} s ({writes_refused} writes refused with 429)",
        applied.as_secs_f64()
    );

    let mut measured = Vec::new();
    for round in 0..rounds {
        let before = emulator.reads().len();
        let started = Instant::now();
        let plan = aksform(&emulator, dir.path(), &["plan", "--detailed-exitcode"])?;
        let wall = started.elapsed();
        if !plan.contains("No changes") {
            return Err(format!("round {}: the plan after apply is not clean:\n{plan}", round + 1));
        }
        let reads: Vec<_> = emulator.reads().into_iter().skip(before).collect();
        let throttled = reads.iter().filter(|r| r.status == 429).count();
        measured.push((wall, reads.len(), throttled));
    }

    println!();
    println!(
        "plan with refresh: {azure_resources} Azure resources and {services} Services, ARM's read bucket on (250 at once, 25/s)"
    );
    println!("| round | wall | ARM reads | one GET each | GETs / reads | reads refused (429) |");
    println!("|---|---|---|---|---|---|");
    for (i, (wall, reads, throttled)) in measured.iter().enumerate() {
        println!(
            "| {} | {} ms | {reads} | {azure_resources} | {:.1}× | {throttled} |",
            i + 1,
            wall.as_millis(),
            azure_resources as f64 / (*reads).max(1) as f64
        );
    }
    let worst = measured.iter().map(|m| m.2).max().unwrap_or(0);
    let best: Duration = measured.iter().map(|m| m.0).min().unwrap_or_default();
    println!("best plan {} ms; most reads refused in a plan: {worst}", best.as_millis());
    emulator.stop();
    Ok(())
}
