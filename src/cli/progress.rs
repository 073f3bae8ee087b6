//! Progress of an apply for people: a bar on a terminal; elsewhere (a CI log) a line when a
//! step starts, a line every interval while it runs, and a line when it ends, so that a log
//! never sits silent through a cluster's ten-minute create.

use std::io::IsTerminal;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::apply::Observer;
use crate::model::{Address, Value};
use crate::plan::Operation;
use crate::providers::{Attributes, ProviderError};

/// How often a step still running is reported in a log, unless `AKSFORM_PROGRESS_INTERVAL`
/// (a duration such as `30s` or `1m`) says otherwise.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

/// The verb of an operation, as it runs and once it is done.
pub(super) fn verb(operation: Operation) -> (&'static str, &'static str) {
    match operation {
        Operation::Create => ("creating", "created"),
        Operation::Update => ("updating", "updated"),
        Operation::Delete => ("destroying", "destroyed"),
        Operation::Import => ("importing", "imported"),
    }
}

/// A step that started and has not finished.
struct Running {
    address: Address,
    operation: Operation,
    since: Instant,
}

type RunningSteps = Arc<Mutex<Vec<Running>>>;

pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    running: RunningSteps,
    /// Reports the steps still running every interval, in a log; stops when this is dropped.
    ticker: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

impl Progress {
    /// `terminal`: whether output for a terminal may be drawn (stderr must be one too).
    pub(super) fn new(steps: usize, terminal: bool) -> Self {
        let bar = (terminal && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(steps as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} [{pos}/{len}] {elapsed} {wide_msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        let running = RunningSteps::default();
        let ticker = bar.is_none().then(|| start_ticker(interval(), Arc::clone(&running)));
        Progress { bar, running, ticker }
    }

    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn show_running(&self) {
        if let (Some(bar), Ok(running)) = (&self.bar, self.running.lock()) {
            let names: Vec<String> = running.iter().map(|r| r.address.to_string()).collect();
            bar.set_message(names.join(", "));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.ticker.take() {
            drop(stop);
            let _ = thread.join();
        }
    }
}

/// The interval from `AKSFORM_PROGRESS_INTERVAL`, or the default.
fn interval() -> Duration {
    std::env::var("AKSFORM_PROGRESS_INTERVAL")
        .ok()
        .and_then(|text| humantime::parse_duration(text.trim()).ok())
        .filter(|interval| !interval.is_zero())
        .unwrap_or(DEFAULT_INTERVAL)
}

/// Every `interval`, a line for each step that has run that long; ends when `stop`'s sender is dropped.
fn start_ticker(interval: Duration, running: RunningSteps) -> (mpsc::Sender<()>, JoinHandle<()>) {
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
            let Ok(running) = running.lock() else { return };
            for step in running.iter().filter(|step| step.since.elapsed() >= interval) {
                eprintln!(
                    "  {}: still {} ({}s elapsed)",
                    step.address,
                    verb(step.operation).0,
                    step.since.elapsed().as_secs()
                );
            }
        }
    });
    (stop, thread)
}

impl Observer for Progress {
    fn started(&self, address: &Address, operation: Operation) {
        if let Ok(mut running) = self.running.lock() {
            running.push(Running { address: address.clone(), operation, since: Instant::now() });
        }
        if self.bar.is_none() {
            self.line(format!("  {address}: {}...", verb(operation).0));
        }
        self.show_running();
    }

    fn finished(
        &self,
        address: &Address,
        operation: Operation,
        result: Result<&Attributes, &ProviderError>,
        elapsed: Duration,
    ) {
        if let Ok(mut running) = self.running.lock() {
            running.retain(|r| &r.address != address);
        }
        let seconds = elapsed.as_secs_f64();
        match result {
            Ok(attributes) => {
                let address_note = match attributes.get("address") {
                    Some(Value::Str(ip)) if operation != Operation::Delete => format!(", address {ip}"),
                    _ => String::new(),
                };
                self.line(format!("  {address}: {} ({seconds:.1}s{address_note})", verb(operation).1));
            }
            Err(error) => self.line(format!("  {address}: {} failed ({seconds:.1}s): {error}", verb(operation).0)),
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        self.show_running();
    }
}
