//! Microsoft's Python management SDKs (from PyPI, pinned) as a client of the ARM emulator that
//! no one here wrote: installed under `<workspace>/target/python-azure-mgmt` the first time,
//! each script run after `testkit/python/azure_mgmt_prelude.py`, which points the SDK clients
//! (`resources`, `network`, `containers`, `dns`) at the emulator and gives `out(value)` to
//! print a JSON line back.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The SDK packages, pinned; each sends its newest api-version by default.
pub const PACKAGES: &[&str] = &[
    "azure-core==1.41.0",
    "azure-mgmt-core==1.6.0",
    "azure-mgmt-resource==26.0.0",
    "azure-mgmt-network==33.1.0",
    "azure-mgmt-containerservice==41.8.0",
    "azure-mgmt-dns==9.0.0",
];

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the testkit is a workspace member")
}

/// The SDKs, installed the first time. Panics with what went wrong: it runs in tests.
pub fn python_path() -> &'static Path {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = workspace().join("target/python-azure-mgmt");
        let marker = dir.join("azure_mgmt_network-33.1.0.dist-info");
        if !marker.is_dir() {
            let status = Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", "--target"])
                .arg(&dir)
                .args(PACKAGES)
                .status()
                .expect("python3 with pip must be on PATH");
            assert!(status.success(), "pip install of the Azure management SDKs failed");
        }
        dir
    })
}

/// Where the SDKs are sent.
pub struct Target<'a> {
    /// The emulator's base URL.
    pub url: &'a str,
    /// The bearer token it accepts.
    pub token: &'a str,
    pub subscription: &'a str,
}

/// Runs the prelude and `script` against `target`; every line the script printed, as JSON.
pub fn run(target: &Target<'_>, script: &str) -> Vec<serde_json::Value> {
    let prelude = include_str!("../python/azure_mgmt_prelude.py");
    let output = Command::new("python3")
        .arg("-c")
        .arg(format!("{prelude}\n{script}"))
        .env("PYTHONPATH", python_path())
        .env("EMULATOR_URL", target.url)
        .env("EMULATOR_TOKEN", target.token)
        .env("EMULATOR_SUBSCRIPTION", target.subscription)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the script failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"))).collect()
}
