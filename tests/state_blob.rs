//! The Azure Blob state backend against a real Azurite, with Microsoft's Python SDK
//! (`azure-storage-blob`, from PyPI) as an independent client that sets up containers,
//! makes SAS tokens and reads what aksform left on the blob: its lease and metadata.
//!
//! Each of Terraform's azurerm backend's known lease bugs has a test: a write after the lease
//! ran out (terraform#17046), a lock already present (terraform#24289), a lock that stays
//! for hours after its holder died (terraform-provider-azurerm#19043) and breaking a lock by
//! its id (terraform#34924).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aksform::state::{Backend, BlobAuth, BlobBackend, BlobLocation, LockInfo, ResourceState, State, StateError};
use aksform_testkit::azurite::{self, Azurite};
use assert_cmd::Command;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One Azurite for the whole file; each test uses a container of its own.
fn azurite() -> &'static Azurite {
    static AZURITE: OnceLock<Azurite> = OnceLock::new();
    AZURITE.get_or_init(|| Azurite::start(workspace()))
}

/// The Python SDK, installed under target/ the first time.
fn python_path() -> &'static Path {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = workspace().join("target/python-azure-storage");
        if !dir.join("azure/storage/blob/__init__.py").is_file() {
            let status = Process::new("python3")
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target"])
                .arg(&dir)
                .arg("azure-storage-blob==12.31.1")
                .status()
                .expect("python3 with pip must be on PATH");
            assert!(status.success(), "pip install azure-storage-blob failed");
        }
        dir
    })
}

/// The storage API version of `azure_storage_blob` 1.1.
const API_VERSION: &str = "2026-04-06";

/// Runs `script` with `service` (a BlobServiceClient on Azurite) defined; its stdout.
fn python(script: &str) -> String {
    let connection = format!(
        "DefaultEndpointsProtocol=http;AccountName={};AccountKey={};BlobEndpoint={};",
        azurite::ACCOUNT,
        azurite::KEY,
        azurite().endpoint
    );
    // The SDK speaks the storage API version aksform's client speaks: its own default is newer
    // than Azurite knows.
    let prelude = format!(
        "import json, datetime\nfrom azure.storage.blob import *\n\
         service = BlobServiceClient.from_connection_string({connection:?}, api_version={API_VERSION:?})\n"
    );
    let output =
        Process::new("python3").arg("-c").arg(prelude + script).env("PYTHONPATH", python_path()).output().unwrap();
    assert!(output.status.success(), "python failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// A fresh container, made by the SDK.
fn container(name: &str) -> String {
    python(&format!("service.create_container({name:?})"));
    name.to_string()
}

/// The lease state and the aksform lock id in the metadata of the blob, as the SDK reads them.
fn lease_and_holder(container: &str, key: &str) -> (String, Option<String>) {
    let out = python(&format!(
        "p = service.get_blob_client({container:?}, {key:?}).get_blob_properties()\n\
         print(json.dumps([p.lease.state, p.metadata.get('aksformlockid')]))"
    ));
    serde_json::from_str(&out).unwrap()
}

fn content(container: &str, key: &str) -> String {
    python(&format!(
        "print(service.get_blob_client({container:?}, {key:?}).download_blob().readall().decode(), end='')"
    ))
}

fn location(container: &str, key: &str) -> BlobLocation {
    BlobLocation {
        account: azurite::ACCOUNT.into(),
        endpoint: azurite().endpoint.parse().unwrap(),
        container: container.into(),
        key: key.into(),
    }
}

fn backend(container: &str, lease_seconds: u64) -> BlobBackend {
    let auth = BlobAuth::SharedKey(azurite::KEY.into());
    BlobBackend::with_lease(location(container, "shop.json"), auth, Duration::from_secs(lease_seconds)).unwrap()
}

fn with_vnet(state: &mut State, name: &str) {
    state.upsert(ResourceState::new(format!("vnet.{name}").parse().unwrap()));
}

fn save(backend: &dyn Backend, state: &mut State) -> Result<(), StateError> {
    state.commit();
    backend.write(state)
}

#[test]
fn writes_round_trip_under_the_lease_and_keep_the_previous_version() {
    let container = container("round-trip");
    let backend = backend(&container, 60);
    assert_eq!(backend.read().unwrap(), None, "no blob reads as no state");
    let guard = backend.lock(LockInfo::new("aksform apply")).unwrap();
    let (lease, holder) = lease_and_holder(&container, "shop.json");
    assert_eq!((lease.as_str(), holder.as_deref()), ("leased", Some(guard.info().id.as_str())));
    assert_eq!(backend.read().unwrap(), None, "the empty blob made to lease reads as no state");
    let mut state = State::new("shop");
    save(&backend, &mut state).unwrap();
    let first = content(&container, "shop.json");
    with_vnet(&mut state, "a");
    save(&backend, &mut state).unwrap();
    assert_eq!(backend.read().unwrap().as_ref(), Some(&state));
    assert_eq!(content(&container, "shop.json.backup"), first, "the previous version is kept beside it");
    let (_, holder) = lease_and_holder(&container, "shop.json");
    assert_eq!(holder.as_deref(), Some(guard.info().id.as_str()), "a write keeps the holder in the metadata");
    guard.release().unwrap();
    assert_eq!(lease_and_holder(&container, "shop.json"), ("available".to_string(), None));
}

#[test]
fn a_second_lock_is_refused_at_once_and_names_the_holder() {
    // terraform#24289: a 409 LeaseAlreadyPresent, reported as who holds the state.
    let container = container("second-lock");
    let first = backend(&container, 60);
    let guard = first.lock(LockInfo::new("aksform apply")).unwrap();
    let started = Instant::now();
    let error = backend(&container, 60).lock(LockInfo::new("aksform apply")).err().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    let message = error.to_string();
    assert!(message.contains(&format!("is locked by {}", guard.info())), "{message}");
    assert!(message.contains(&format!("aksform state force-unlock {}", guard.info().id)), "{message}");
    drop(guard);
    backend(&container, 60).lock(LockInfo::new("again")).unwrap();
}

#[test]
fn a_write_is_refused_when_the_blob_changed_since_it_was_read() {
    let container = container("if-match");
    let backend = backend(&container, 60);
    let guard = backend.lock(LockInfo::new("aksform apply")).unwrap();
    backend.read().unwrap();
    let mut state = State::new("shop");
    save(&backend, &mut state).unwrap();
    // Someone with the lease id (it is in the metadata) writes behind this run's back.
    python(&format!(
        "service.get_blob_client({container:?}, 'shop.json').upload_blob(b'{{}}', overwrite=True, lease={:?})",
        guard.info().id
    ));
    with_vnet(&mut state, "a");
    let error = save(&backend, &mut state).unwrap_err();
    assert!(matches!(error, StateError::ChangedSinceRead { .. }), "{error}");
    assert_eq!(content(&container, "shop.json"), "{}", "nothing was written over it");
}

#[test]
fn force_unlock_breaks_only_the_lock_with_that_id() {
    // terraform#34924: the lock is broken by the id a refused run was told.
    let container = container("force-unlock");
    let holder = backend(&container, 60);
    let guard = holder.lock(LockInfo::new("aksform apply")).unwrap();
    let lost = guard.lost().unwrap();
    let other = backend(&container, 60);
    let error = other.force_unlock("3f0e8a4c-0000-4000-8000-000000000000").unwrap_err();
    assert!(matches!(error, StateError::WrongLockId { .. }), "{error}");
    assert_eq!(lease_and_holder(&container, "shop.json").0, "leased");
    let broken = other.force_unlock(&guard.info().id).unwrap();
    assert_eq!(&broken, guard.info());
    // Broken, or available once the holder is cleared from the metadata: free either way.
    let (lease, recorded_holder) = lease_and_holder(&container, "shop.json");
    assert!(matches!(lease.as_str(), "broken" | "available") && recorded_holder.is_none(), "{lease}");
    let _mine = other.lock(LockInfo::new("aksform apply")).unwrap();
    // The first holder finds out when it renews, and writes nothing.
    let mut state = State::new("shop");
    let error = save(&holder, &mut state).unwrap_err();
    assert!(matches!(error, StateError::LockLost { .. } | StateError::ChangedSinceRead { .. }), "{error}");
    assert!(
        wait_until(Duration::from_secs(20), || lost.borrow().is_some()),
        "the holder's guard reports the lock lost"
    );
    assert!(matches!(other.force_unlock("x"), Err(StateError::WrongLockId { .. })));
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    done()
}

/// A holder in a child process: takes the lock with a 15 s lease, reads, says `locked`,
/// then writes a state when a line comes on stdin and prints the outcome.
#[test]
#[ignore = "helper run in a child process"]
fn child_holder() {
    let container = std::env::var("AKSFORM_TEST_CONTAINER").unwrap();
    let backend = BlobBackend::with_lease(
        BlobLocation {
            account: azurite::ACCOUNT.into(),
            endpoint: std::env::var("AKSFORM_TEST_ENDPOINT").unwrap().parse().unwrap(),
            container,
            key: "shop.json".into(),
        },
        BlobAuth::SharedKey(azurite::KEY.into()),
        Duration::from_secs(15),
    )
    .unwrap();
    let guard = backend.lock(LockInfo::new("aksform apply")).unwrap();
    let mut state = backend.read().unwrap().unwrap_or_else(|| State::new("shop"));
    println!("\nholder: locked");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    with_vnet(&mut state, "from-the-paused-run");
    match save(&backend, &mut state) {
        Ok(()) => println!("holder: written"),
        Err(e) => println!("holder: refused: {e}"),
    }
    let mut lost = guard.lost().unwrap();
    let started = Instant::now();
    while lost.borrow().is_none() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("holder: lost: {}", lost.borrow_and_update().clone().unwrap_or_default());
}

/// The child's lines that start with `holder: `, without it, as they come.
struct Holder {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Holder {
    fn next(&self) -> String {
        self.lines.recv_timeout(Duration::from_secs(60)).expect("the holder said nothing for a minute")
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_holder(container: &str) -> Holder {
    let mut child = Process::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "child_holder", "--nocapture", "--test-threads=1"])
        .env("AKSFORM_TEST_CONTAINER", container)
        .env("AKSFORM_TEST_ENDPOINT", &azurite().endpoint)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (send, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if let Some(said) = line.strip_prefix("holder: ") {
                let _ = send.send(said.to_string());
            }
        }
    });
    let holder = Holder { child, lines };
    assert_eq!(holder.next(), "locked", "the child took the lock");
    holder
}

#[test]
fn a_run_paused_past_its_lease_writes_nothing_over_the_state_another_run_wrote() {
    // terraform#17046: the lease ran out while the holder could not renew it.
    let container = container("paused");
    let mut holder = start_holder(&container);
    let pid = holder.child.id().to_string();
    assert!(Process::new("kill").args(["-STOP", &pid]).status().unwrap().success());
    // Another run waits for the lease to run out, then takes the lock and writes.
    let other = backend(&container, 60);
    let guard = aksform_lock_waiting(&other, Duration::from_secs(40));
    let mut state = other.read().unwrap().unwrap_or_else(|| State::new("shop"));
    with_vnet(&mut state, "from-the-other-run");
    save(&other, &mut state).unwrap();
    let written = content(&container, "shop.json");
    assert!(Process::new("kill").args(["-CONT", &pid]).status().unwrap().success());
    writeln!(holder.child.stdin.as_mut().unwrap()).unwrap();
    let outcome = holder.next();
    assert!(outcome.starts_with("refused"), "{outcome}");
    assert_eq!(content(&container, "shop.json"), written, "the other run's state is intact");
    let lost = holder.next();
    assert!(lost.len() > "lost: ".len(), "the paused run's guard reports its lease lost: {lost}");
    drop(guard);
}

fn aksform_lock_waiting(backend: &dyn Backend, timeout: Duration) -> Box<dyn aksform::state::LockGuard> {
    let started = Instant::now();
    loop {
        match backend.lock(LockInfo::new("aksform apply")) {
            Ok(guard) => return guard,
            Err(StateError::Locked { .. }) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(500))
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_holder_that_died_frees_the_state_within_its_lease() {
    // terraform-provider-azurerm#19043: a lock that stayed for hours after its holder died.
    let container = container("died");
    let mut holder = start_holder(&container);
    holder.child.kill().unwrap();
    holder.child.wait().unwrap();
    let started = Instant::now();
    let output = aksform_cli()
        .args(["state", "rm", "vnet.a", "--lock-timeout", "40s", "--state-blob-key", "shop.json"])
        .args(blob_flags(&container))
        .arg("--stack")
        .arg(workspace().join("examples/shop"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The state holds no vnet.a: the lock was taken (after waiting) and the rm refused.
    assert!(stderr.contains("waiting for the lock"), "{stderr}");
    assert!(!stderr.contains("is locked by"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
}

fn aksform_cli() -> Command {
    let mut cmd = Command::cargo_bin("aksform").unwrap();
    cmd.env_remove("AKSFORM_STATE")
        .env_remove("AZURE_STORAGE_SAS_TOKEN")
        .env("NO_COLOR", "1")
        .env("AZURE_STORAGE_KEY", azurite::KEY)
        .current_dir(workspace());
    cmd
}

fn blob_flags(container: &str) -> Vec<String> {
    vec![
        "--state-blob-account".into(),
        azurite::ACCOUNT.into(),
        "--state-blob-container".into(),
        container.into(),
        "--state-blob-endpoint".into(),
        azurite().endpoint.clone(),
    ]
}

#[test]
fn migrate_moves_the_state_to_a_blob_and_back_keeping_serial_and_lineage() {
    let container = container("migrate");
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("shop.json");
    std::fs::copy(workspace().join("examples/shop/state/shop-prod.json"), &local).unwrap();
    // Compared in written order: a write sorts the resources by address.
    let sorted = |text: &str| {
        let mut state: State = serde_json::from_str(text).unwrap();
        state.resources.sort_by_key(|r| r.address.to_string());
        state
    };
    let recorded = sorted(&std::fs::read_to_string(&local).unwrap());
    let blob_url = format!("{}/{container}/prod/shop.json", azurite().endpoint);
    let to_blob = aksform_cli().args(["state", "migrate", "--to", &blob_url, "--state"]).arg(&local).output().unwrap();
    assert!(to_blob.status.success(), "{}", String::from_utf8_lossy(&to_blob.stderr));
    let in_blob = sorted(&content(&container, "prod/shop.json"));
    assert_eq!(in_blob, recorded, "serial, lineage and resources kept");
    assert_eq!(lease_and_holder(&container, "prod/shop.json"), ("available".to_string(), None));
    // A second migration to the same place finds it there.
    let again = aksform_cli().args(["state", "migrate", "--to", &blob_url, "--state"]).arg(&local).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("already holds this state"));
    // And back, into a new file, from the blob the flags name.
    let back = dir.path().join("back.json");
    let mut flags = blob_flags(&container);
    flags.extend(["--state-blob-key".to_string(), "prod/shop.json".to_string()]);
    let to_file = aksform_cli()
        .args(["state", "migrate", "--stack", "examples/shop", "--to"])
        .arg(&back)
        .args(&flags)
        .output()
        .unwrap();
    assert!(to_file.status.success(), "{}", String::from_utf8_lossy(&to_file.stderr));
    let in_file = sorted(&std::fs::read_to_string(&back).unwrap());
    assert_eq!(in_file, recorded);
    // A place that holds another state is never overwritten.
    let other = dir.path().join("other.json");
    let mut another = State::new("shop");
    another.commit();
    std::fs::write(&other, serde_json::to_string(&another).unwrap()).unwrap();
    let before = std::fs::read(&other).unwrap();
    let taken = aksform_cli()
        .args(["state", "migrate", "--stack", "examples/shop", "--to"])
        .arg(&other)
        .args(&flags)
        .output()
        .unwrap();
    assert_eq!(taken.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&taken.stderr).contains("already holds a state"),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );
    assert_eq!(std::fs::read(&other).unwrap(), before);
}

#[test]
fn a_dry_run_in_a_read_only_checkout_with_a_read_only_sas_writes_nothing() {
    let container = container("read-only");
    let dir = tempfile::tempdir().unwrap();
    let checkout = dir.path().join("checkout");
    std::fs::create_dir_all(&checkout).unwrap();
    for entry in std::fs::read_dir(workspace().join("examples/shop")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "aks") {
            std::fs::copy(&path, checkout.join(path.file_name().unwrap())).unwrap();
        }
    }
    let recorded = std::fs::read_to_string(workspace().join("examples/shop/state/shop-prod.json")).unwrap();
    python(&format!(
        "service.get_blob_client({container:?}, 'shop-prod.json').upload_blob({recorded:?}.encode(), overwrite=True)"
    ));
    let sas = python(&format!(
        "print(generate_container_sas({:?}, {container:?}, account_key={:?}, permission=ContainerSasPermissions(read=True), \
         expiry=datetime.datetime.utcnow() + datetime.timedelta(hours=1)), end='')",
        azurite::ACCOUNT,
        azurite::KEY
    ));
    let etag = || {
        python(&format!("print(service.get_blob_client({container:?}, 'shop-prod.json').get_blob_properties().etag)"))
    };
    let before = etag();
    assert!(Process::new("chmod").args(["-R", "a-w"]).arg(&checkout).status().unwrap().success());
    let output = aksform_cli()
        .env_remove("AZURE_STORAGE_KEY")
        .env("AZURE_STORAGE_SAS_TOKEN", &sas)
        .args(["plan", "--refresh=false"])
        .arg(&checkout)
        .args(blob_flags(&container))
        .current_dir(&checkout)
        .output()
        .unwrap();
    let _ = Process::new("chmod").args(["-R", "u+w"]).arg(&checkout).status();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("to replace"), "planned against the blob's state");
    assert_eq!(etag(), before, "the blob was not touched");
    let names: Vec<String> =
        std::fs::read_dir(&checkout).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| n.ends_with(".aks")), "nothing was written in the checkout: {names:?}");
    // The same SAS cannot take the lock: applying needs write access, and says so.
    let apply = aksform_cli()
        .env_remove("AZURE_STORAGE_KEY")
        .env("AZURE_STORAGE_SAS_TOKEN", &sas)
        .args(["apply", "--auto-approve"])
        .arg(&checkout)
        .args(blob_flags(&container))
        .output();
    let stderr = String::from_utf8_lossy(&apply.unwrap().stderr).to_string();
    assert!(stderr.contains("403") || stderr.contains("Authorization"), "{stderr}");
}

/// A stack of Azure resources only (a resource group and a VNet with two subnets), applied
/// against the ARM emulator.
fn network_stack_text() -> String {
    format!(
        "stack \"net\" {{\n  subscription = \"00000000-0000-0000-0000-0000000000aa\"\n  location     = westeurope\n}}\n\n\
         resource_group \"rg\" {{}}\n{}",
        aksform_testkit::stacks::NETWORK
    )
}

fn slow_emulator(operation_ms: u64) -> aksform_sandbox::arm::Emulator {
    use aksform_sandbox::arm::{Emulator, EmulatorOptions, LatencySettings};
    Emulator::start(EmulatorOptions {
        latency: LatencySettings { default_ms: operation_ms, ..Default::default() },
        ..Default::default()
    })
    .unwrap()
}

fn network_stack() -> tempfile::TempDir {
    let stack = tempfile::tempdir().unwrap();
    std::fs::write(stack.path().join("main.aks"), network_stack_text()).unwrap();
    stack
}

/// `aksform apply --auto-approve` of `stack` on the blob `net.json` of `container`, started.
fn spawn_apply(
    container: &str,
    emulator: &aksform_sandbox::arm::Emulator,
    stack: &Path,
    extra: &[&str],
) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("aksform"))
        .args(["apply", "--auto-approve"])
        .arg(stack)
        .args(blob_flags(container))
        .args(["--state-blob-key", "net.json"])
        .args(extra)
        .env_remove("AKSFORM_STATE")
        .env_remove("AZURE_STORAGE_SAS_TOKEN")
        .env("NO_COLOR", "1")
        .env("AZURE_STORAGE_KEY", azurite::KEY)
        .envs(emulator.environment())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// How a run ended, what it printed and when it ended.
type Outcome = (Option<i32>, String, Duration);

fn outcome(child: std::process::Child, started: Instant) -> Outcome {
    let output = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code(), text, started.elapsed())
}

/// Ten `aksform apply` processes at once on one blob state, each slowed by the emulator's
/// three-second operations.
fn ten_applies(container: &str, extra: &[&str]) -> (Vec<Outcome>, aksform_sandbox::arm::Emulator) {
    let emulator = slow_emulator(3000);
    let stack = network_stack();
    // Each waited for on a thread of its own, so that each ends when it ends.
    let started = Instant::now();
    let waiting: Vec<_> = (0..10)
        .map(|_| spawn_apply(container, &emulator, stack.path(), extra))
        .map(|child| std::thread::spawn(move || outcome(child, started)))
        .collect();
    let outcomes = waiting.into_iter().map(|thread| thread.join().unwrap()).collect();
    (outcomes, emulator)
}

/// The resources the emulator created (201), by id: none twice.
fn created_once(emulator: &aksform_sandbox::arm::Emulator) -> usize {
    let mut created = std::collections::BTreeMap::new();
    for write in emulator.operations() {
        if write.method == "PUT" && write.status == 201 {
            *created.entry(write.id.to_ascii_lowercase()).or_insert(0) += 1;
        }
    }
    assert!(created.values().all(|&n| n == 1), "created twice: {created:?}");
    created.len()
}

#[test]
fn of_ten_concurrent_applies_one_proceeds_and_the_others_fail_at_once_naming_it() {
    let container = container("ten-at-once");
    let (outcomes, emulator) = ten_applies(&container, &[]);
    let (applied, refused): (Vec<_>, Vec<_>) = outcomes.iter().partition(|(code, ..)| *code == Some(0));
    assert_eq!(applied.len(), 1, "exactly one apply proceeds: {outcomes:#?}");
    assert!(applied[0].1.contains("Apply complete"), "{}", applied[0].1);
    assert_eq!(refused.len(), 9);
    // The refused runs did not wait for the holder, whose operations take 3 s each, one after another.
    let holder_took = applied[0].2;
    for (code, text, took) in &refused {
        assert_eq!(*code, Some(1), "{text}");
        assert!(text.contains("is locked by `aksform apply`"), "the refusal names the holder: {text}");
        assert!(*took < holder_took / 2, "refused after {took:?}, the holder took {holder_took:?}: {text}");
    }
    let slowest = refused.iter().map(|(.., took)| *took).max().unwrap();
    eprintln!("ten concurrent applies: nine refused within {slowest:?}; the holder applied in {holder_took:?}");
    assert_eq!(created_once(&emulator), 4, "the resource group, the VNet and its two subnets");
    let state: State = serde_json::from_str(&content(&container, "net.json")).unwrap();
    assert_eq!(state.resources.len(), 4);
    assert_eq!(lease_and_holder(&container, "net.json").0, "available", "the lock is released");
}

#[test]
fn ten_concurrent_applies_that_wait_for_the_lock_proceed_one_after_the_other() {
    let container = container("ten-in-turn");
    let (outcomes, emulator) = ten_applies(&container, &["--lock-timeout", "5m"]);
    assert!(outcomes.iter().all(|(code, ..)| *code == Some(0)), "{outcomes:#?}");
    let complete = outcomes.iter().filter(|(_, text, _)| text.contains("Apply complete")).count();
    let nothing = outcomes.iter().filter(|(_, text, _)| text.contains("No changes")).count();
    assert_eq!((complete, nothing), (1, 9), "the first creates, the others find it done: {outcomes:#?}");
    assert!(outcomes.iter().filter(|(_, text, _)| text.contains("waiting for the lock")).count() >= 9);
    assert_eq!(created_once(&emulator), 4);
    let state: State = serde_json::from_str(&content(&container, "net.json")).unwrap();
    assert_eq!(state.resources.len(), 4);
}

#[test]
fn an_apply_whose_lock_is_broken_stops_as_ctrl_c_does_and_says_why() {
    let container = container("broken-mid-apply");
    let emulator = slow_emulator(8000);
    let stack = network_stack();
    let started = Instant::now();
    let apply = spawn_apply(&container, &emulator, stack.path(), &[]);
    assert!(
        wait_until(Duration::from_secs(20), || lease_and_holder(&container, "net.json").0 == "leased"),
        "the apply took the lock"
    );
    let (_, id) = lease_and_holder(&container, "net.json");
    let unlock = aksform_cli()
        .args(["state", "force-unlock", id.as_deref().unwrap(), "--state-blob-key", "net.json"])
        .args(blob_flags(&container))
        .arg("--stack")
        .arg(stack.path())
        .output()
        .unwrap();
    assert!(unlock.status.success(), "{}", String::from_utf8_lossy(&unlock.stderr));
    let (code, text, took) = outcome(apply, started);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("lock") && text.contains("lost"), "says why it stopped: {text}");
    assert!(!text.contains("Apply complete"), "{text}");
    assert!(took < Duration::from_secs(60), "{took:?}");
    // What it wrote before the lock was broken is all there is: the next apply, with a lock
    // of its own, finishes the stack.
    let again = outcome(spawn_apply(&container, &emulator, stack.path(), &[]), Instant::now());
    assert_eq!(again.0, Some(0), "{}", again.1);
    assert_eq!(created_once(&emulator), 4);
}

/// The blob's type and its committed block count, as the SDK reads them.
fn blob_type(container: &str, key: &str) -> Option<(String, Option<i64>)> {
    let out = python(&format!(
        "c = service.get_blob_client({container:?}, {key:?})\n\
         print(json.dumps([c.get_blob_properties().blob_type, c.get_blob_properties().append_blob_committed_block_count] if c.exists() else None))"
    ));
    serde_json::from_str(&out).unwrap()
}

/// Adds `vnet.NAME` to `state`, commits it and records the change as apply does; whether it
/// went to the journal.
fn record_vnet(backend: &dyn Backend, state: &mut State, name: &str) -> bool {
    with_vnet(state, name);
    state.commit();
    let address: aksform::model::Address = format!("vnet.{name}").parse().unwrap();
    backend.record(state, &aksform::state::journal::Delta::of(state, [&address])).unwrap()
}

#[test]
fn records_go_to_an_append_blob_beside_the_state_that_the_next_write_folds_in() {
    let container = container("journal");
    let backend = backend(&container, 60);
    let guard = backend.lock(LockInfo::new("aksform apply")).unwrap();
    backend.read().unwrap();
    let mut state = State::new("shop");
    assert!(!record_vnet(&backend, &mut state, "a"), "no document yet: written whole");
    let document = content(&container, "shop.json");
    for name in ["b", "c"] {
        assert!(record_vnet(&backend, &mut state, name));
    }
    assert_eq!(content(&container, "shop.json"), document, "the document is not rewritten");
    let (kind, blocks) = blob_type(&container, "shop.json.journal").expect("a journal");
    assert!(kind.to_lowercase().contains("append"), "{kind}");
    assert_eq!(blocks, Some(2), "one block for each record");
    // Read by another runner (a plan), without the lease: the document and its journal.
    assert_eq!(self::backend(&container, 60).read().unwrap().as_ref(), Some(&state));

    save(&backend, &mut state).unwrap();
    assert_eq!(blob_type(&container, "shop.json.journal"), None, "folded into the document and deleted");
    assert_eq!(self::backend(&container, 60).read().unwrap().as_ref(), Some(&state));
    guard.release().unwrap();
}

#[test]
fn a_run_that_died_leaves_its_journal_which_the_next_run_reads_and_folds_before_its_own() {
    let container = container("journal-crash");
    let crashed = backend(&container, 15);
    let guard = crashed.lock(LockInfo::new("aksform apply")).unwrap();
    crashed.read().unwrap();
    let mut state = State::new("shop");
    with_vnet(&mut state, "a");
    save(&crashed, &mut state).unwrap();
    assert!(record_vnet(&crashed, &mut state, "b"));
    // The run is gone: its lease is broken as `force-unlock` does.
    let id = guard.info().id.clone();
    std::mem::forget(guard);
    backend(&container, 15).force_unlock(&id).unwrap();

    let next = backend(&container, 15);
    let _guard = next.lock(LockInfo::new("aksform apply")).unwrap();
    let mut read = next.read().unwrap().unwrap();
    assert_eq!(read, state, "the dead run's record is read");
    assert!(!record_vnet(&next, &mut read, "c"), "the journal read is folded in first");
    assert_eq!(blob_type(&container, "shop.json.journal"), None);
    assert_eq!(backend(&container, 15).read().unwrap().as_ref(), Some(&read));
}
