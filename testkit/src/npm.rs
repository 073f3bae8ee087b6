//! Tools from the npm registry that the tests run for real (Azurite, Mermaid's parser): each
//! is a folder of the repository with a `package.json` and `package-lock.json`, installed
//! with `npm ci` into a folder of `target/` the first time, and again when the lock changes.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Installs the packages of `source` (a folder with `package.json`, `package-lock.json` and
/// any `extra` files beside them) into `target`, unless they are there already; `target`.
/// Panics with what went wrong: it runs in tests.
pub fn install(source: &Path, target: &Path, extra: &[&str]) -> PathBuf {
    std::fs::create_dir_all(target).unwrap_or_else(|e| panic!("cannot create {}: {e}", target.display()));
    let marker = target.join("node_modules/.installed");
    for file in ["package.json", "package-lock.json"].iter().chain(extra) {
        let wanted = std::fs::read(source.join(file)).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
        if std::fs::read(target.join(file)).ok().as_ref() != Some(&wanted) {
            std::fs::write(target.join(file), wanted).unwrap_or_else(|e| panic!("cannot write {file}: {e}"));
            // Another lock means other packages.
            let _ = std::fs::remove_file(&marker);
        }
    }
    if !marker.is_file() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(target)
            .status()
            .expect("npm must be on PATH (Node.js 20 or newer)");
        assert!(status.success(), "npm ci failed in {}", target.display());
        std::fs::write(&marker, "").unwrap();
    }
    target.to_path_buf()
}
