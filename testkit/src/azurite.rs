//! A real Azurite (the Azure Storage emulator, from npm) for the tests of the Azure Blob state
//! backend: started on a free loopback port with its data in memory, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Azurite's development account and its documented key.
pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite Blob service.
pub struct Azurite {
    child: Child,
    /// Held open while Azurite should run.
    _stdin: std::process::ChildStdin,
    /// `http://127.0.0.1:<port>/devstoreaccount1`
    pub endpoint: String,
}

impl Azurite {
    /// Installs Azurite under `<workspace>/target/azurite` when missing (from
    /// `tests/azurite/`) and starts its Blob service.
    pub fn start(workspace: &Path) -> Azurite {
        let dir = crate::npm::install(&workspace.join("tests/azurite"), &workspace.join("target/azurite"), &[]);
        // Azurite stops when its standard input closes, that is when the test process ends
        // however it ends: a static Azurite is never dropped, and a killed test drops nothing.
        let main = dir.join("node_modules/azurite/dist/src/blob/main.js");
        let script = format!(
            "process.stdin.on('end', () => process.exit(0)).resume(); process.argv.splice(1, 0, {main:?}); require({main:?})",
            main = main.display().to_string()
        );
        let mut child = Command::new("node")
            .args(["-e", &script, "--"])
            .args(["--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence", "--loose"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node must be on PATH to run Azurite");
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("Azurite stopped before it listened");
            };
            if let Some(at) = line.find("listens on ") {
                break line[at + "listens on ".len()..].trim().to_string();
            }
        };
        // The rest of its output is read (and dropped) so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Azurite { child, _stdin: stdin, endpoint: format!("{}/{ACCOUNT}", url.trim_end_matches('/')) }
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
