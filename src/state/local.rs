//! State in a local file (`state/<stack>.json` by default): an OS file lock on
//! `<path>.lock`, atomic replacement of the file, and the previous version kept in
//! `<path>.backup`.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::backend::{Backend, LockGuard, LockInfo};
use super::journal::{self, Delta, Header};
use super::{State, StateError, document};

/// A state file on the local disk. Clones share whether the lock is held, and the journal.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    path: PathBuf,
    /// Set while a guard from this backend holds the lock; writes require it.
    held: Arc<AtomicBool>,
    journaling: Arc<Mutex<Journaling>>,
}

/// What [`Backend::record`] appends after.
#[derive(Debug, Default)]
struct Journaling {
    /// The document on disk as this process last read or wrote it: its lineage and serial.
    document: Option<(String, u64)>,
    /// The journal, once this process has appended to it.
    file: Option<File>,
}

impl LocalBackend {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LocalBackend { path: path.into(), held: Arc::new(AtomicBool::new(false)), journaling: Arc::default() }
    }

    /// `<path>.journal`: what was recorded since the document was last written.
    pub fn journal_path(&self) -> PathBuf {
        with_suffix(&self.path, ".journal")
    }

    fn journaling(&self) -> MutexGuard<'_, Journaling> {
        self.journaling.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The journal open for appending after the document `(lineage, serial)`: the one there
    /// if it follows that document (cut to its last whole entry), else a new one.
    fn open_journal(&self, lineage: &str, serial: u64) -> Result<File, StateError> {
        let path = self.journal_path();
        let existing = match fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(StateError::io("read", &path, e)),
        };
        let header = Header::new(lineage, serial);
        let kept = existing
            .as_deref()
            .filter(|bytes| journal::header_of(bytes).as_ref() == Some(&header))
            .map_or(0, journal::kept_length);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| StateError::io("open the journal", &path, e))?;
        file.set_len(kept as u64).map_err(|e| StateError::io("cut short", &path, e))?;
        // It holds what the document does: a state file the user restricted (chmod 600)
        // gets a journal as restricted.
        if let Ok(metadata) = fs::metadata(&self.path) {
            file.set_permissions(metadata.permissions()).map_err(|e| StateError::io("set permissions of", &path, e))?;
        }
        if kept == 0 {
            file.write_all(&journal::header_line(&header)?).map_err(|e| StateError::io("write", &path, e))?;
            file.sync_data().map_err(|e| StateError::io("flush to disk", &path, e))?;
            sync_directory(self.directory())?;
        }
        Ok(file)
    }

    /// `state/<stack>.json`, relative to where aksform runs.
    pub fn default_path(stack: &str) -> PathBuf {
        Path::new("state").join(format!("{stack}.json"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `<path>.lock`: holds the OS lock and, while held, who holds it.
    pub fn lock_path(&self) -> PathBuf {
        with_suffix(&self.path, ".lock")
    }

    /// `<path>.backup`: the version before the last write.
    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, ".backup")
    }

    fn directory(&self) -> &Path {
        match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        }
    }

    fn create_directory(&self) -> Result<(), StateError> {
        let directory = self.directory();
        fs::create_dir_all(directory).map_err(|e| StateError::io("create the state directory", directory, e))
    }

    fn backup_hint(&self) -> Option<String> {
        let backup = self.backup_path();
        backup.is_file().then(|| backup.display().to_string())
    }

    /// The document on disk, if any, without interpreting it.
    fn read_bytes(&self) -> Result<Option<Vec<u8>>, StateError> {
        match fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::io("read", &self.path, e)),
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<State, StateError> {
        document::decode(bytes, &self.describe()).map_err(|e| e.with_backup(self.backup_hint()))
    }
}

impl Backend for LocalBackend {
    fn lock(&self, info: LockInfo) -> Result<Box<dyn LockGuard>, StateError> {
        self.create_directory()?;
        let lock_path = self.lock_path();
        // Not truncated on open: until the lock is ours, the file holds the holder's details.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| StateError::io("open the lock file", &lock_path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    state: self.describe(),
                    holder: read_holder(&lock_path),
                    remote: false,
                });
            }
            Err(TryLockError::Error(e)) => return Err(StateError::io("lock", &lock_path, e)),
        }
        // If recording fails, returning drops `file`, which releases the lock.
        record_holder(&file, &info).map_err(|e| StateError::io("record the lock holder in", &lock_path, e))?;
        self.held.store(true, Ordering::SeqCst);
        Ok(Box::new(LocalLockGuard { file: Some(file), info, lock_path, held: Arc::clone(&self.held) }))
    }

    fn read(&self) -> Result<Option<State>, StateError> {
        // A writer may fold the journal into a new document between the two reads (a plan
        // reads without the lock): then the document read is no longer the one on disk, and
        // both are read again.
        let identity = |path: &Path| fs::metadata(path).ok().map(|m| (m.len(), m.modified().ok(), file_id(&m)));
        let mut attempts = 0;
        loop {
            attempts += 1;
            let before = identity(&self.path);
            let Some(bytes) = self.read_bytes()? else { return Ok(None) };
            let mut state = self.decode(&bytes)?;
            let path = self.journal_path();
            let journal = match fs::read(&path) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == ErrorKind::NotFound => None,
                Err(e) => return Err(StateError::io("read", &path, e)),
            };
            if before != identity(&self.path) && attempts < 5 {
                continue;
            }
            self.journaling().document = Some((state.lineage.clone(), state.serial));
            if let Some(journal) = journal {
                journal::replay(&mut state, &journal, &path.display().to_string())?;
            }
            return Ok(Some(state));
        }
    }

    fn record(&self, state: &State, delta: &Delta) -> Result<bool, StateError> {
        if !self.held.load(Ordering::SeqCst) {
            return Err(StateError::NotLocked { origin: self.describe() });
        }
        let mut journaling = self.journaling();
        let document = journaling.document.clone().filter(|(lineage, _)| *lineage == state.lineage);
        // Without a document to follow (none yet, or another than this one), it is written.
        let Some((lineage, serial)) = document else {
            drop(journaling);
            return self.write(state).map(|()| false);
        };
        if journaling.file.is_none() {
            journaling.file = Some(self.open_journal(&lineage, serial)?);
        }
        let path = self.journal_path();
        let line = journal::entry_line(state.serial, delta)?;
        let file = journaling.file.as_mut().expect("opened above");
        let appended = file
            .write_all(&line)
            .map_err(|e| StateError::io("write", &path, e))
            .and_then(|()| file.sync_data().map_err(|e| StateError::io("flush to disk", &path, e)));
        if appended.is_err() {
            // What a failed append left (part of a line) is cut off when the journal is
            // opened again, before anything follows it.
            journaling.file = None;
        }
        appended.map(|()| true)
    }

    fn write(&self, state: &State) -> Result<(), StateError> {
        if !self.held.load(Ordering::SeqCst) {
            return Err(StateError::NotLocked { origin: self.describe() });
        }
        let bytes = document::encode(state)?;
        self.create_directory()?;
        if let Some(previous) = self.read_bytes()? {
            // Decoding refuses to replace a file this build cannot fully read. The state
            // recorded is the document and its journal.
            let mut on_disk = self.decode(&previous)?;
            let journal_path = self.journal_path();
            let replayed = match fs::read(&journal_path) {
                Ok(bytes) => journal::replay(&mut on_disk, &bytes, &journal_path.display().to_string())?,
                Err(e) if e.kind() == ErrorKind::NotFound => 0,
                Err(e) => return Err(StateError::io("read", &journal_path, e)),
            };
            if on_disk.lineage != state.lineage {
                return Err(StateError::LineageMismatch {
                    origin: self.describe(),
                    on_disk: on_disk.lineage,
                    writing: state.lineage.clone(),
                });
            }
            if state.serial <= on_disk.serial {
                return Err(StateError::StaleSerial {
                    origin: self.describe(),
                    on_disk: on_disk.serial,
                    writing: state.serial,
                });
            }
            // The version before this one, with what its journal recorded.
            let previous = if replayed > 0 { document::encode(&on_disk)? } else { previous };
            replace_atomically(&self.backup_path(), &previous, Some(&self.path))?;
        }
        replace_atomically(&self.path, &bytes, None)?;
        // The renames are durable only once the directory itself is on disk.
        sync_directory(self.directory())?;
        // The document holds what the journal did: a journal left by a failed removal
        // follows an older document, and is ignored.
        let mut journaling = self.journaling();
        journaling.file = None;
        journaling.document = Some((state.lineage.clone(), state.serial));
        let _ = fs::remove_file(self.journal_path());
        Ok(())
    }

    fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        let lock_path = self.lock_path();
        let origin = self.describe();
        let file = match OpenOptions::new().read(true).write(true).open(&lock_path) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(StateError::NotLockedNow { origin }),
            Err(e) => return Err(StateError::io("open the lock file", &lock_path, e)),
        };
        let holder = read_holder(&lock_path);
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = holder.map_or_else(|| "another process".to_string(), |h| h.to_string());
                return Err(StateError::HeldByLiveProcess { origin, holder });
            }
            Err(TryLockError::Error(e)) => return Err(StateError::io("lock", &lock_path, e)),
        }
        // Not held: only details a crash left behind can be there.
        let Some(holder) = holder else { return Err(StateError::NotLockedNow { origin }) };
        if holder.id != id {
            return Err(StateError::WrongLockId { origin, given: id.to_string(), holder });
        }
        file.set_len(0).map_err(|e| StateError::io("empty the lock file", &lock_path, e))?;
        Ok(*holder)
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

/// Holds the OS lock on the lock file until released or dropped.
struct LocalLockGuard {
    file: Option<File>,
    info: LockInfo,
    lock_path: PathBuf,
    held: Arc<AtomicBool>,
}

impl LocalLockGuard {
    fn unlock(&mut self) -> Result<(), StateError> {
        let Some(file) = self.file.take() else { return Ok(()) };
        self.held.store(false, Ordering::SeqCst);
        // The file stays (deleting it would let two processes lock two different files);
        // emptying it keeps a released lock from naming a holder.
        let emptied = file.set_len(0).map_err(|e| StateError::io("empty the lock file", &self.lock_path, e));
        let unlocked = file.unlock().map_err(|e| StateError::io("unlock", &self.lock_path, e));
        emptied.and(unlocked)
    }
}

impl LockGuard for LocalLockGuard {
    fn info(&self) -> &LockInfo {
        &self.info
    }

    fn release(mut self: Box<Self>) -> Result<(), StateError> {
        self.unlock()
    }
}

impl Drop for LocalLockGuard {
    fn drop(&mut self) {
        // Closing the file releases the lock even if unlocking reports an error.
        let _ = self.unlock();
    }
}

fn record_holder(mut file: &File, info: &LockInfo) -> std::io::Result<()> {
    let mut json = serde_json::to_vec_pretty(info).map_err(std::io::Error::other)?;
    json.push(b'\n');
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(&json)?;
    file.sync_data()
}

/// Who holds the lock, if they have recorded it yet and it can be read.
fn read_holder(lock_path: &Path) -> Option<Box<LockInfo>> {
    let text = fs::read_to_string(lock_path).ok()?;
    serde_json::from_str(&text).ok().map(Box::new)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes `bytes` the content of `target` all at once: a temp file in the same directory
/// (so the rename cannot cross file systems), synced, then renamed over `target`.
/// `permissions_from` names a file whose permissions the result keeps.
fn replace_atomically(target: &Path, bytes: &[u8], permissions_from: Option<&Path>) -> Result<(), StateError> {
    let (temp, mut file) = TempFile::create_beside(target)?;
    file.write_all(bytes).map_err(|e| StateError::io("write", &temp.path, e))?;
    // Keep a state file the user restricted (chmod 600) restricted after the rename.
    if let Some(permissions) = fs::metadata(permissions_from.unwrap_or(target)).ok().map(|m| m.permissions()) {
        file.set_permissions(permissions).map_err(|e| StateError::io("set permissions of", &temp.path, e))?;
    }
    file.sync_all().map_err(|e| StateError::io("flush to disk", &temp.path, e))?;
    drop(file);
    temp.rename_to(target)
}

/// The file's identity on its file system, where there is one: a rename over it makes another.
#[cfg(unix)]
fn file_id(metadata: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn file_id(_metadata: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(unix)]
fn sync_directory(directory: &Path) -> Result<(), StateError> {
    File::open(directory)
        .and_then(|d| d.sync_all())
        .map_err(|e| StateError::io("flush to disk the directory", directory, e))
}

// Windows cannot open a directory as a file; NTFS journals the rename itself.
#[cfg(not(unix))]
fn sync_directory(_resolver: &Path) -> Result<(), StateError> {
    Ok(())
}

/// A temp file that is removed unless it has been renamed into place.
struct TempFile {
    path: PathBuf,
    renamed: bool,
}

impl TempFile {
    /// `.<name>.tmp-<pid>-<n>` beside `target`; the counter keeps threads of one process
    /// apart and `create_new` never reuses a file left by a crash.
    fn create_beside(target: &Path) -> Result<(TempFile, File), StateError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let directory = target.parent().unwrap_or(Path::new(""));
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = directory.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => return Ok((TempFile { path, renamed: false }, file)),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(StateError::io("create a temp file", &path, e)),
            }
        }
    }

    fn rename_to(mut self, target: &Path) -> Result<(), StateError> {
        fs::rename(&self.path, target).map_err(|e| StateError::io("replace", target, e))?;
        self.renamed = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    use super::*;
    use crate::model::{Address, Value};
    use crate::state::ResourceState;

    fn address(text: &str) -> Address {
        text.parse().unwrap()
    }

    fn backend(dir: &tempfile::TempDir) -> LocalBackend {
        LocalBackend::new(dir.path().join("state").join("shop.json"))
    }

    fn alice() -> LockInfo {
        LockInfo {
            id: "3f0e8a4c-0000-4000-8000-000000000000".into(),
            pid: 4242,
            user: "alice".into(),
            host: "build-7".into(),
            command: "aksform apply".into(),
            created_at: "2026-11-25T10:02:11Z".into(),
        }
    }

    fn with_vnet(state: &mut State, name: &str) {
        let mut vnet = ResourceState::new(address(&format!("vnet.{name}")));
        vnet.attributes.insert("location".into(), Value::str("westeurope"));
        state.upsert(vnet);
    }

    /// Commits and writes `state`, as apply does after each step.
    fn save(backend: &LocalBackend, state: &mut State) {
        state.commit();
        backend.write(state).unwrap();
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    /// Commits `state` after `change`, and records what `change` touched, as apply does.
    fn record_change(backend: &LocalBackend, state: &mut State, touched: &[&str], change: impl FnOnce(&mut State)) {
        change(state);
        state.commit();
        let touched: Vec<Address> = touched.iter().map(|a| address(a)).collect();
        assert!(backend.record(state, &Delta::of(state, &touched)).unwrap(), "journaled");
    }

    #[test]
    fn records_go_to_the_journal_and_the_next_write_folds_them_into_the_document() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let _guard = backend.lock(alice()).unwrap();
        let mut state = State::new("shop");
        with_vnet(&mut state, "a");
        // No document to follow yet: written whole.
        state.commit();
        assert!(!backend.record(&state, &Delta::of(&state, &[address("vnet.a")])).unwrap());
        let document = fs::read(backend.path()).unwrap();

        record_change(&backend, &mut state, &["vnet.b"], |s| with_vnet(s, "b"));
        record_change(&backend, &mut state, &["vnet.a", "vnet.c"], |s| {
            s.remove(&address("vnet.a"));
            with_vnet(s, "c");
        });
        assert_eq!(fs::read(backend.path()).unwrap(), document, "the document is not rewritten");
        let journal = fs::read(backend.journal_path()).unwrap();
        assert_eq!(journal.iter().filter(|&&b| b == b'\n').count(), 3, "a header and a line for each record");
        // Another process reads both.
        let read = LocalBackend::new(backend.path()).read().unwrap().unwrap();
        assert_eq!(read, state);

        save(&backend, &mut state);
        assert!(!backend.journal_path().exists());
        assert_eq!(LocalBackend::new(backend.path()).read().unwrap().unwrap(), state);
        assert_eq!(names_in(backend.directory()), ["shop.json", "shop.json.backup", "shop.json.lock"]);
    }

    #[test]
    fn a_journal_cut_short_by_a_crash_reads_without_its_last_line_and_the_next_run_goes_on_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let crashed = backend(&dir);
        let guard = crashed.lock(alice()).unwrap();
        let mut state = State::new("shop");
        with_vnet(&mut state, "a");
        save(&crashed, &mut state);
        record_change(&crashed, &mut state, &["vnet.b"], |s| with_vnet(s, "b"));
        let before_cut = state.clone();
        record_change(&crashed, &mut state, &["vnet.c"], |s| with_vnet(s, "c"));
        let journal = fs::read(crashed.journal_path()).unwrap();
        fs::write(crashed.journal_path(), &journal[..journal.len() - 7]).unwrap();
        drop(guard);

        let next = LocalBackend::new(crashed.path());
        let mut read = next.read().unwrap().unwrap();
        assert_eq!(read, before_cut);
        let _guard = next.lock(alice()).unwrap();
        record_change(&next, &mut read, &["vnet.d"], |s| with_vnet(s, "d"));
        let again = LocalBackend::new(crashed.path()).read().unwrap().unwrap();
        assert_eq!(again, read, "the cut line is gone and the new one follows the last whole one");
        assert!(again.contains(&address("vnet.b")) && !again.contains(&address("vnet.c")));
    }

    #[cfg(unix)]
    #[test]
    fn the_journal_is_as_restricted_as_the_state_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let _guard = backend.lock(alice()).unwrap();
        let mut state = State::new("shop");
        save(&backend, &mut state);
        fs::set_permissions(backend.path(), fs::Permissions::from_mode(0o600)).unwrap();
        record_change(&backend, &mut state, &["vnet.b"], |s| with_vnet(s, "b"));
        let mode = fs::metadata(backend.journal_path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_journal_of_a_newer_format_is_refused_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let _guard = backend.lock(alice()).unwrap();
        let mut state = State::new("shop");
        save(&backend, &mut state);
        let newer = format!("{{\"journal\":2,\"lineage\":\"{}\",\"serial\":{}}}\n", state.lineage, state.serial);
        fs::write(backend.journal_path(), &newer).unwrap();
        let error = LocalBackend::new(backend.path()).read().unwrap_err();
        assert!(matches!(error, StateError::NewerFormat { found: 2, .. }), "{error:?}");
        assert_eq!(fs::read_to_string(backend.journal_path()).unwrap(), newer);
    }

    #[test]
    fn a_journal_that_follows_an_older_document_is_ignored_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let _guard = backend.lock(alice()).unwrap();
        let mut state = State::new("shop");
        with_vnet(&mut state, "a");
        save(&backend, &mut state);
        record_change(&backend, &mut state, &["vnet.b"], |s| with_vnet(s, "b"));
        let stale = fs::read(backend.journal_path()).unwrap();
        save(&backend, &mut state);
        // A removal that failed leaves the journal the document already holds.
        fs::write(backend.journal_path(), &stale).unwrap();
        let fresh = LocalBackend::new(backend.path());
        assert_eq!(fresh.read().unwrap().unwrap(), state);
        // Appending starts a journal of its own after the document.
        drop(_guard);
        let _guard = fresh.lock(alice()).unwrap();
        let mut read = fresh.read().unwrap().unwrap();
        record_change(&fresh, &mut read, &["vnet.c"], |s| with_vnet(s, "c"));
        assert_eq!(LocalBackend::new(backend.path()).read().unwrap().unwrap(), read);
    }

    #[test]
    fn a_missing_file_reads_as_no_state() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(backend(&dir).read().unwrap(), None);
    }

    #[test]
    fn round_trips_and_creates_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let _lock = backend.lock(LockInfo::new("test")).unwrap();
        let mut state = State::new("shop");
        with_vnet(&mut state, "b");
        with_vnet(&mut state, "a");
        save(&backend, &mut state);
        assert_eq!(backend.read().unwrap(), Some(state));
        let text = fs::read_to_string(backend.path()).unwrap();
        assert!(text.ends_with("}\n") && text.find("vnet.a") < text.find("vnet.b"), "{text}");
    }

    #[test]
    fn writes_leave_no_temp_files_and_keep_the_previous_version_as_backup() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let _lock = backend.lock(LockInfo::new("test")).unwrap();
        let mut state = State::new("shop");
        save(&backend, &mut state);
        assert!(!backend.backup_path().exists(), "the first write has nothing to back up");
        let first = fs::read(backend.path()).unwrap();
        with_vnet(&mut state, "a");
        save(&backend, &mut state);
        assert_eq!(fs::read(backend.backup_path()).unwrap(), first);
        let second = fs::read(backend.path()).unwrap();
        with_vnet(&mut state, "b");
        save(&backend, &mut state);
        assert_eq!(fs::read(backend.backup_path()).unwrap(), second);
        assert_eq!(names_in(backend.directory()), ["shop.json", "shop.json.backup", "shop.json.lock"]);
    }

    #[cfg(unix)]
    #[test]
    fn writes_keep_the_permissions_the_user_set() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let _lock = backend.lock(LockInfo::new("test")).unwrap();
        let mut state = State::new("shop");
        save(&backend, &mut state);
        fs::set_permissions(backend.path(), fs::Permissions::from_mode(0o600)).unwrap();
        save(&backend, &mut state);
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(backend.path()), 0o600);
        assert_eq!(mode(&backend.backup_path()), 0o600);
    }

    #[test]
    fn a_second_lock_fails_at_once_and_says_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = backend(&dir);
        let guard = first.lock(alice()).unwrap();
        assert_eq!(guard.info(), &alice());
        // Another open of the lock file, as another process would make.
        let second = LocalBackend::new(first.path());
        let error = second.lock(LockInfo::new("aksform plan")).err().unwrap();
        assert_eq!(
            error.to_string(),
            format!(
                "{} is locked by `aksform apply` (pid 4242, alice@build-7) since 2026-11-25T10:02:11Z; try again \
                 when it has finished, or pass --lock-timeout 10m to wait for it (the lock is released as soon as \
                 that process exits)",
                first.path().display()
            )
        );
        guard.release().unwrap();
        assert!(first.lock_path().exists(), "the lock file is kept");
        assert_eq!(fs::read(first.lock_path()).unwrap(), b"", "a released lock names no holder");
        second.lock(LockInfo::new("aksform plan")).unwrap();
    }

    #[test]
    fn dropping_the_guard_releases_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        drop(backend.lock(alice()).unwrap());
        let guard = backend.lock(LockInfo::new("again")).unwrap();
        let recorded: LockInfo = serde_json::from_slice(&fs::read(backend.lock_path()).unwrap()).unwrap();
        assert_eq!(&recorded, guard.info());
    }

    #[test]
    fn writing_requires_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let mut state = State::new("shop");
        state.commit();
        assert!(matches!(backend.write(&state), Err(StateError::NotLocked { .. })));
        let guard = backend.lock(LockInfo::new("test")).unwrap();
        backend.write(&state).unwrap();
        drop(guard);
        state.commit();
        assert!(matches!(backend.write(&state), Err(StateError::NotLocked { .. })));
    }

    /// Run by `the_lock_is_held_across_processes_and_released_when_the_holder_dies` in a
    /// child process: takes the lock named by the environment and holds it until killed
    /// (or until its stdin closes, so that it cannot outlive a failed parent test).
    #[test]
    #[ignore = "helper run in a child process"]
    fn hold_lock_until_killed() {
        use std::io::Read;
        let Some(path) = std::env::var_os("AKSFORM_TEST_HOLD_LOCK") else { return };
        let backend = LocalBackend::new(PathBuf::from(path));
        let _guard = backend.lock(LockInfo::new("aksform apply")).unwrap();
        println!("AKSFORM-TEST-LOCKED");
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    }

    #[test]
    fn the_lock_is_held_across_processes_and_released_when_the_holder_dies() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "state::local::tests::hold_lock_until_killed", "--ignored", "--nocapture"])
            .env("AKSFORM_TEST_HOLD_LOCK", backend.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert!(lines.any(|line| line.unwrap() == "AKSFORM-TEST-LOCKED"), "the helper did not take the lock");

        let error = backend.lock(LockInfo::new("aksform plan")).err().unwrap().to_string();
        assert!(error.contains(&format!("locked by `aksform apply` (pid {},", child.id())), "{error}");

        // Killed, not released: the OS drops the lock with the process, and the stale
        // lock file left behind does not matter.
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!fs::read(backend.lock_path()).unwrap().is_empty());
        backend.lock(LockInfo::new("aksform plan")).unwrap();
    }

    #[test]
    fn corrupt_files_are_reported_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let _lock = backend.lock(LockInfo::new("test")).unwrap();
        let mut state = State::new("shop");
        save(&backend, &mut state);
        save(&backend, &mut state);
        let corrupt = b"{\n  \"version\": 1,\n  \"serial\": 2,,\n}\n";
        fs::write(backend.path(), corrupt).unwrap();

        let error = backend.read().unwrap_err().to_string();
        let path = backend.path().display();
        assert_eq!(
            error,
            format!(
                "{path} cannot be read: key must be a string at line 3, column 15. The file was left untouched; if it was \
                 damaged, restore the previous version from {path}.backup"
            )
        );
        state.commit();
        assert!(matches!(backend.write(&state), Err(StateError::Corrupt { .. })));
        assert_eq!(fs::read(backend.path()).unwrap(), corrupt);
    }

    #[test]
    fn newer_formats_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let _lock = backend.lock(LockInfo::new("test")).unwrap();
        let newer = br#"{"version": 2, "serial": 9, "lineage": "x", "moved": []}"#;
        fs::create_dir_all(backend.directory()).unwrap();
        fs::write(backend.path(), newer).unwrap();

        let error = backend.read().unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "{} was written by a newer aksform (format 2); this build reads format 1: upgrade aksform. The file \
                 was left untouched",
                backend.path().display()
            )
        );
        let mut state = State::new("shop");
        state.lineage = "x".into();
        state.serial = 10;
        assert!(matches!(backend.write(&state), Err(StateError::NewerFormat { found: 2, .. })));
        assert_eq!(fs::read(backend.path()).unwrap(), newer);
        assert!(!backend.backup_path().exists());
    }

    #[test]
    fn another_lineage_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let _lock = backend.lock(LockInfo::new("test")).unwrap();
        let mut ours = State::new("shop");
        save(&backend, &mut ours);
        let before = fs::read(backend.path()).unwrap();
        let mut theirs = State::new("shop");
        theirs.serial = 50;
        let error = backend.write(&theirs).unwrap_err();
        assert!(matches!(error, StateError::LineageMismatch { .. }), "{error}");
        assert!(error.to_string().contains(&ours.lineage) && error.to_string().contains(&theirs.lineage));
        assert_eq!(fs::read(backend.path()).unwrap(), before);
    }

    #[test]
    fn a_write_that_missed_another_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let _lock = backend.lock(LockInfo::new("test")).unwrap();
        let mut state = State::new("shop");
        save(&backend, &mut state);
        let mut stale = state.clone();
        with_vnet(&mut state, "a");
        save(&backend, &mut state);
        let before = fs::read(backend.path()).unwrap();

        with_vnet(&mut stale, "b");
        stale.commit();
        let error = backend.write(&stale).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "refusing to overwrite {}: it was written by someone else since it was read (serial 2 on disk, this \
                 write has serial 2). Nothing was written; run the command again so that it starts from the current \
                 state",
                backend.path().display()
            )
        );
        // Writing the same serial again (a forgotten commit) is refused the same way.
        assert!(matches!(backend.write(&state), Err(StateError::StaleSerial { .. })));
        assert_eq!(fs::read(backend.path()).unwrap(), before);
    }

    #[test]
    fn a_bare_file_name_lives_in_the_current_directory() {
        let backend = LocalBackend::new("shop.json");
        assert_eq!(backend.directory(), Path::new("."));
        assert_eq!(backend.lock_path(), Path::new("shop.json.lock"));
        assert_eq!(LocalBackend::default_path("shop"), Path::new("state/shop.json"));
    }
}
