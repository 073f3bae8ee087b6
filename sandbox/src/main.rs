//! `aksform-sandbox`: runs the local stand-ins for Azure from the command line.

use std::process::ExitCode;
use std::time::Duration;

use aksform_sandbox::arm::{Emulator, EmulatorOptions, LatencySettings};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "aksform-sandbox", version, about = "Local stand-ins for Azure that aksform runs against")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Starts the ARM emulator (managed clusters start real Kubernetes control planes) and
    /// prints the environment that points aksform at it; serves until Ctrl-C.
    Up {
        /// The loopback port to listen on; 0 picks a free one.
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// How long long-running operations take: `300` for every type, or
        /// `Microsoft.Network/virtualNetworks=500` for one type (repeatable).
        #[arg(long = "latency-ms", value_name = "[TYPE=]MS")]
        latency_ms: Vec<String>,
        /// The bearer token to accept (random by default).
        #[arg(long, env = "AKSFORM_SANDBOX_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// How many resources a page of a list operation holds; the rest follow through `nextLink`.
        #[arg(long, default_value_t = aksform_sandbox::arm::DEFAULT_PAGE_SIZE)]
        page_size: usize,
        /// Clusters' load balancers need role assignments, as on Azure: a frontend on a public IP
        /// or subnet outside the node resource group needs the cluster identity to hold Owner,
        /// Contributor or Network Contributor there (or above). On by default, as on Azure;
        /// `--authorization=false` turns the check off.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
        authorization: bool,
    },
}

fn latency_settings(specs: &[String]) -> Result<LatencySettings, String> {
    let mut settings = LatencySettings::default();
    for spec in specs {
        let (arm_type, millis) = match spec.split_once('=') {
            Some((arm_type, millis)) => (Some(arm_type.trim()), millis.trim()),
            None => (None, spec.trim()),
        };
        let millis: u64 = millis.parse().map_err(|_| {
            format!("--latency-ms {spec}: expected milliseconds, e.g. `300` or `Microsoft.Network/virtualNetworks=500`")
        })?;
        match arm_type {
            Some(arm_type) if arm_type.contains('/') => {
                settings.types.insert(arm_type.to_string(), millis);
            }
            Some(arm_type) => {
                return Err(format!(
                    "--latency-ms {spec}: '{arm_type}' is not an ARM type such as Microsoft.Network/virtualNetworks"
                ));
            }
            None => settings.default_ms = millis,
        }
    }
    Ok(settings)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Up { port, latency_ms, token, page_size, authorization } => {
            let latency = match latency_settings(&latency_ms) {
                Ok(latency) => latency,
                Err(message) => {
                    eprintln!("error: {message}");
                    return ExitCode::from(2);
                }
            };
            up(EmulatorOptions { port, token, latency, page_size, authorization, ..EmulatorOptions::default() })
        }
    }
}

fn up(options: EmulatorOptions) -> ExitCode {
    let emulator = match Emulator::start(options) {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("error: the ARM emulator did not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    for (name, value) in emulator.environment() {
        println!("export {name}={value}");
    }
    eprintln!("ARM emulator listening on {} (Ctrl-C stops it and every cluster it started)", emulator.url());
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let stopped = runtime.block_on(async {
        tokio::select! {
            signal = tokio::signal::ctrl_c() => signal,
            _ = terminate() => Ok(()),
        }
    });
    if let Err(error) = stopped {
        eprintln!("error: waiting for Ctrl-C: {error}");
    }
    eprintln!("stopping the ARM emulator and {} control plane(s)", emulator.control_plane_count());
    drop(emulator);
    // Give the terminal a moment to show the last line before the prompt returns.
    std::thread::sleep(Duration::from_millis(10));
    ExitCode::SUCCESS
}

/// SIGTERM stops the sandbox as Ctrl-C does.
async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_are_read_per_type_or_for_all() {
        let settings = latency_settings(&["120".into(), "Microsoft.Network/virtualNetworks=500".into()]).unwrap();
        assert_eq!(settings.default_ms, 120);
        assert_eq!(settings.of("microsoft.network/virtualnetworks"), Duration::from_millis(500));
        assert!(latency_settings(&["fast".into()]).is_err());
        assert!(latency_settings(&["vnets=3".into()]).is_err());
    }
}
