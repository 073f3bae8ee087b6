//! Builds the Go control-plane program (`sandbox/kube`) on first use and caches the binary,
//! keyed by a hash of its sources, so that every test after the first starts in seconds.

use std::fs::{self, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::SandboxError;

/// The binary's name, also the prefix of the cached copies.
const BINARY_NAME: &str = "aksform-kube";

/// The Go module, beside this crate's sources.
fn module_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kube")
}

/// `$CARGO_TARGET_DIR/aksform-sandbox`, or `<workspace>/target/aksform-sandbox`.
fn cache_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(env!("CARGO_MANIFEST_DIR")));
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace.join(dir),
        _ => workspace.join("target"),
    };
    target.join("aksform-sandbox")
}

/// The path of an up-to-date control-plane binary, built now if needed.
pub(crate) fn kube_binary() -> Result<PathBuf, SandboxError> {
    // Hashing the sources is cheap, but there is no need to repeat it in one test process.
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    if let Some(path) = BUILT.get() {
        return Ok(path.clone());
    }
    let path = build_if_missing(&module_dir(), &cache_dir())?;
    Ok(BUILT.get_or_init(|| path).clone())
}

fn build_if_missing(module: &Path, cache: &Path) -> Result<PathBuf, SandboxError> {
    let key = source_key(module)?;
    let binary = cache.join(format!("{BINARY_NAME}-{key}"));
    if binary.is_file() {
        return Ok(binary);
    }

    fs::create_dir_all(cache)
        .map_err(|error| SandboxError::io(format!("creating the build cache folder {}", cache.display()), error))?;
    // Test binaries run at once and each may get here; one builds while the others wait, then
    // find the binary made.
    let lock_path = cache.join("build.lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|error| SandboxError::io(format!("opening {}", lock_path.display()), error))?;
    lock.lock().map_err(|error| SandboxError::io(format!("locking {}", lock_path.display()), error))?;
    if binary.is_file() {
        return Ok(binary);
    }

    // Built under a name of its own and renamed, so nobody ever runs half a binary.
    let partial = cache.join(format!("{BINARY_NAME}-{key}.partial-{}", std::process::id()));
    eprintln!(
        "aksform-sandbox: building the Kubernetes control plane from {} (the first build takes minutes)",
        module.display()
    );
    let result = go_build(module, &partial).and_then(|()| {
        fs::rename(&partial, &binary)
            .map_err(|error| SandboxError::io(format!("renaming {} to {}", partial.display(), binary.display()), error))
    });
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result?;
    remove_stale_binaries(cache, &binary);
    Ok(binary)
}

fn go_build(module: &Path, output: &Path) -> Result<(), SandboxError> {
    let go_mod = module.join("go.mod");
    let go_mod_text = fs::read_to_string(&go_mod)
        .map_err(|error| SandboxError::io(format!("reading {}", go_mod.display()), error))?;
    let mut command = Command::new("go");
    command
        .current_dir(module)
        .args(["build", "-trimpath", "-ldflags"])
        .arg(ldflags(&go_mod_text))
        .arg("-o")
        .arg(output)
        .arg(".")
        // The toolchain installed here, never one downloaded behind the user's back; no C
        // compiler needed.
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .stdin(Stdio::null());
    let result = command.output().map_err(|error| match error.kind() {
        ErrorKind::NotFound => SandboxError::GoNotFound,
        _ => SandboxError::io("running `go build`", error),
    })?;
    if result.status.success() {
        return Ok(());
    }
    let mut printed = String::from_utf8_lossy(&result.stdout).into_owned();
    printed.push_str(&String::from_utf8_lossy(&result.stderr));
    Err(SandboxError::GoBuild { module: module.to_path_buf(), status: result.status, output: printed })
}

/// Linker flags: stripped symbols (a smaller binary, faster to link) and the Kubernetes version
/// stamped in, as Kubernetes' own build does. Unstamped, the server reports
/// `v0.0.0-master+$Format:%H$`, which kubectl and other clients cannot parse.
fn ldflags(go_mod: &str) -> String {
    let mut flags = String::from("-s -w");
    if let Some(version) = kubernetes_version(go_mod) {
        let mut parts = version.trim_start_matches('v').split('.');
        let major = parts.next().unwrap_or_default();
        let minor = parts.next().unwrap_or_default();
        for package in ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"] {
            flags.push_str(&format!(
                " -X {package}.gitVersion={version} -X {package}.gitMajor={major} \
                 -X {package}.gitMinor={minor} -X {package}.gitTreeState=clean"
            ));
        }
    }
    flags
}

/// The version of `k8s.io/kubernetes` that go.mod requires.
fn kubernetes_version(go_mod: &str) -> Option<&str> {
    go_mod.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let first = words.next()?;
        // Inside a `require (` block the line starts with the module; alone, with `require`.
        let module = if first == "require" { words.next()? } else { first };
        if module != "k8s.io/kubernetes" {
            return None;
        }
        words.next().filter(|version| version.starts_with('v'))
    })
}

/// SHA-256 over go.mod, go.sum and every Go source file, names included, in a stable order.
fn source_key(module: &Path) -> Result<String, SandboxError> {
    let mut files = vec![module.join("go.mod"), module.join("go.sum")];
    collect_go_files(module, &mut files)?;
    files.sort();
    let mut hasher = Sha256::new();
    for file in &files {
        let content = fs::read(file).map_err(|error| SandboxError::io(format!("reading {}", file.display()), error))?;
        let name = file.strip_prefix(module).unwrap_or(file);
        hasher.update(name.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update((content.len() as u64).to_le_bytes());
        hasher.update(&content);
    }
    let digest = hasher.finalize();
    // 64 bits of the digest tell source versions apart well enough and keep the name short.
    Ok(digest[..8].iter().map(|byte| format!("{byte:02x}")).collect())
}

fn collect_go_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), SandboxError> {
    let entries = fs::read_dir(dir).map_err(|error| SandboxError::io(format!("listing {}", dir.display()), error))?;
    for entry in entries {
        let entry = entry.map_err(|error| SandboxError::io(format!("listing {}", dir.display()), error))?;
        let path = entry.path();
        let file_type =
            entry.file_type().map_err(|error| SandboxError::io(format!("reading {}", path.display()), error))?;
        if file_type.is_dir() {
            collect_go_files(&path, files)?;
        } else if path.extension().is_some_and(|extension| extension == "go") {
            files.push(path);
        }
    }
    Ok(())
}

/// Removes binaries built from earlier sources (each is over 100 MB). A test still running one
/// keeps it: an unlinked file lives on until it exits.
fn remove_stale_binaries(cache: &Path, current: &Path) {
    let Ok(entries) = fs::read_dir(cache) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_binary = entry.file_name().to_string_lossy().starts_with(&format!("{BINARY_NAME}-"));
        if is_binary && path != current {
            let _ = fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubernetes_version_is_read_from_a_require_block_or_line() {
        let block = "module x\n\nrequire (\n\tk8s.io/api v0.34.4\n\tk8s.io/kubernetes v1.34.4\n)\n";
        assert_eq!(kubernetes_version(block), Some("v1.34.4"));
        assert_eq!(kubernetes_version("require k8s.io/kubernetes v1.35.0\n"), Some("v1.35.0"));
        assert_eq!(kubernetes_version("replace k8s.io/api => k8s.io/api v0.34.4\n"), None);
    }

    #[test]
    fn ldflags_stamp_the_version_for_the_server_and_the_client() {
        let flags = ldflags("require k8s.io/kubernetes v1.34.4\n");
        assert!(flags.starts_with("-s -w "), "{flags}");
        assert!(flags.contains("-X k8s.io/component-base/version.gitVersion=v1.34.4"), "{flags}");
        assert!(flags.contains("-X k8s.io/component-base/version.gitMinor=34"), "{flags}");
        assert!(flags.contains("-X k8s.io/client-go/pkg/version.gitMajor=1"), "{flags}");
    }

    #[test]
    fn the_key_changes_with_any_source_and_only_with_sources() {
        let module = tempfile::tempdir().unwrap();
        fs::write(module.path().join("go.mod"), "module x\n").unwrap();
        fs::write(module.path().join("go.sum"), "").unwrap();
        fs::write(module.path().join("main.go"), "package main\n").unwrap();
        let first = source_key(module.path()).unwrap();
        assert_eq!(first.len(), 16);
        assert_eq!(source_key(module.path()).unwrap(), first);

        fs::write(module.path().join("README.md"), "not a source").unwrap();
        assert_eq!(source_key(module.path()).unwrap(), first);

        fs::create_dir(module.path().join("internal")).unwrap();
        fs::write(module.path().join("internal/x.go"), "package internal\n").unwrap();
        let with_package = source_key(module.path()).unwrap();
        assert_ne!(with_package, first);

        fs::write(module.path().join("go.sum"), "k8s.io/api v0.34.4 h1:x\n").unwrap();
        assert_ne!(source_key(module.path()).unwrap(), with_package);
    }

    #[test]
    fn a_cached_binary_is_used_without_building() {
        let module = tempfile::tempdir().unwrap();
        fs::write(module.path().join("go.mod"), "module x\n").unwrap();
        fs::write(module.path().join("go.sum"), "").unwrap();
        let cache = tempfile::tempdir().unwrap();
        let cached = cache.path().join(format!("{BINARY_NAME}-{}", source_key(module.path()).unwrap()));
        fs::write(&cached, "").unwrap();
        // No main package exists, so a build would fail.
        assert_eq!(build_if_missing(module.path(), cache.path()).unwrap(), cached);
    }

    #[test]
    fn a_failed_build_reports_what_go_printed_and_leaves_nothing_behind() {
        let module = tempfile::tempdir().unwrap();
        fs::write(module.path().join("go.mod"), "module x\n\ngo 1.22\n").unwrap();
        fs::write(module.path().join("go.sum"), "").unwrap();
        fs::write(module.path().join("main.go"), "package main\n\nfunc main() { undefined() }\n").unwrap();
        let cache = tempfile::tempdir().unwrap();
        match build_if_missing(module.path(), cache.path()) {
            Err(SandboxError::GoBuild { output, .. }) => assert!(output.contains("undefined"), "{output}"),
            Err(SandboxError::GoNotFound) => return,
            other => panic!("expected a build error, got {other:?}"),
        }
        let left: Vec<_> = fs::read_dir(cache.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("build.lock")]);
    }
}
