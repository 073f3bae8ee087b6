//! Validate and plan of a generated estate, against an empty state and against the state a
//! full apply would leave. Each measurement runs in a fresh process so that its peak memory is
//! its own. Prints figures; the targets (200 ms, 200 MB each) are for a 2-core machine.
//!
//! `cargo bench --bench plan_large` measures 20 clusters, 10,000 Services and 1,000 Ingresses,
//! the median of 5 runs (`AKSFORM_BENCH_KEEP=1` keeps the stack and state it writes).
//! `cargo test --all-targets` (so `scripts/test.sh`) runs it once on 2 clusters and 100
//! Services, in a second, so that it keeps working.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use aksform::model::Value;
use aksform::state::{State, document};
use aksform::{check, loading, plan};
use aksform_testkit::bench::{self, Size};
use aksform_testkit::large::generate_benchmark_stack;

/// The allocator of the `aksform` binary, so that the figures are the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, dir] = args.as_slice()
        && (mode == "empty" || mode == "matching")
    {
        measure(mode, Path::new(dir));
        return;
    }
    let Some(size) = bench::size("plan_large") else { return };
    let (clusters, services, ingresses, runs) = match size {
        Size::Full => (20, 10_000, 1_000, 5),
        Size::Quick => (2, 100, 10, 1),
    };
    let dir = std::env::temp_dir().join(format!("aksform-plan-large-{}", std::process::id()));
    let stack_dir = dir.join("stack");
    if let Err(e) = std::fs::create_dir_all(&stack_dir) {
        eprintln!("cannot create {}: {e}", stack_dir.display());
        std::process::exit(1);
    }
    let text = generate_benchmark_stack(clusters, services, ingresses);
    let written = std::fs::write(stack_dir.join("main.aks"), &text);
    let Ok(()) = written else {
        eprintln!("cannot write the stack: {written:?}");
        std::process::exit(1);
    };
    let loaded = load(&stack_dir);
    let resources = loaded.stack.resources();
    let empty = State::new(&loaded.stack.name);
    let planned = plan::plan(&resources, &empty).unwrap_or_else(|e| fail(&e.to_string()));
    let state = plan::record::applied(
        &planned.plan,
        &resources,
        empty,
        &mut |resource, field| Value::str(format!("{}.{field}", resource.address)),
        &mut |resource| format!("/id/{}", resource.address),
    );
    let bytes = document::encode(&state).unwrap_or_else(|e| fail(&e.to_string()));
    std::fs::write(dir.join("state.json"), &bytes).unwrap_or_else(|e| fail(&e.to_string()));
    println!(
        "stack: {clusters} clusters, {services} services, {ingresses} ingresses: {} resources, {:.1} MB of source, state {:.1} MB",
        resources.len(),
        text.len() as f64 / 1e6,
        bytes.len() as f64 / 1e6
    );
    println!("each figure: median of {runs} runs, each in a fresh process");
    println!(
        "{:<10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "state", "total ms", "load ms", "check ms", "state ms", "plan ms", "peak MB"
    );
    let me = std::env::current_exe().unwrap_or_else(|e| fail(&e.to_string()));
    for mode in ["empty", "matching"] {
        let mut measured: Vec<Vec<f64>> = (0..runs).map(|_| child(&me, mode, &dir)).collect();
        measured.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let m = &measured[runs / 2];
        println!(
            "{:<10} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>12.1}",
            mode, m[0], m[1], m[2], m[3], m[4], m[5]
        );
    }
    if std::env::var_os("AKSFORM_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("kept {}", dir.display());
    }
}

fn fail(message: &str) -> ! {
    eprintln!("plan_large: {message}");
    std::process::exit(1)
}

fn load(dir: &Path) -> loading::Loaded {
    let loaded = loading::load(dir, &loading::Options::default(), &|_| None).unwrap_or_else(|e| fail(&e.to_string()));
    if !loaded.diagnostics.is_empty() {
        fail(&format!(
            "the generated stack has {} diagnostics, first: {:?}",
            loaded.diagnostics.0.len(),
            loaded.diagnostics.0.first()
        ));
    }
    loaded
}

fn child(me: &PathBuf, mode: &str, dir: &Path) -> Vec<f64> {
    let output = Command::new(me).arg(mode).arg(dir).output().unwrap_or_else(|e| fail(&e.to_string()));
    if !output.status.success() {
        fail(&String::from_utf8_lossy(&output.stderr));
    }
    String::from_utf8_lossy(&output.stdout).split_whitespace().filter_map(|f| f.parse().ok()).collect()
}

/// One measurement: validate (parse, model, checks) and plan, as `aksform plan` does.
fn measure(mode: &str, dir: &Path) {
    let start = Instant::now();
    let loaded = load(&dir.join("stack"));
    let loaded_at = start.elapsed();
    // The checks already ran inside `load`; time them once more alone for the breakdown.
    let check_start = Instant::now();
    let diagnostics = check::run(&loaded.stack);
    let check_time = check_start.elapsed();
    let state_start = Instant::now();
    let state = if mode == "matching" {
        let bytes = std::fs::read(dir.join("state.json")).unwrap_or_else(|e| fail(&e.to_string()));
        document::decode(&bytes, "state.json").unwrap_or_else(|e| fail(&e.to_string()))
    } else {
        State::new(&loaded.stack.name)
    };
    let state_time = state_start.elapsed();
    let plan_start = Instant::now();
    let mut resources = loaded.stack.resources();
    let planned = plan::plan_taking(&mut resources, &state).unwrap_or_else(|e| fail(&e.to_string()));
    let plan_time = plan_start.elapsed();
    let total = loaded_at + state_time + plan_time;
    if !diagnostics.is_empty() || (mode == "matching" && planned.plan.has_changes()) {
        fail("unexpected diagnostics or changes");
    }
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!("{} {} {} {} {} {}", ms(total), ms(loaded_at), ms(check_time), ms(state_time), ms(plan_time), peak_mb());
}

/// Peak resident memory of this process (VmHWM), in MB.
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
