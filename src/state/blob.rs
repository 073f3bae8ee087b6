//! State in an Azure Storage blob, shared by every CI runner of a team.
//!
//! - The lock is a blob lease whose id is the lock id, renewed in the background while the
//!   command runs; who holds it (id, user, host, command, since) is in the blob's metadata,
//!   so that a refused run names them. The lease is finite, so a runner that died frees the
//!   state within a minute; a lease lost while the command runs is reported through
//!   [`LockGuard::lost`], and the apply stops as it does on Ctrl-C.
//! - Every write is conditional: `If-Match` the ETag of what this process last read or
//!   wrote, plus the lease id, so a write never replaces a state it did not read.
//! - The previous version is kept: by blob versioning where the account has it on, else in
//!   `<key>.backup` beside the state.
//! - Between whole writes an apply appends what it records to the append blob
//!   `<key>.journal` ([`super::journal`]), each block under the ETag of the one before; the
//!   next whole write folds it in and deletes it.
//! - Reads take no lease and need only read access (`plan` on a pull request).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::error::ErrorKind;
use azure_core::http::{Etag, RequestContent, StatusCode, Url};
use azure_storage_blob::BlobClient;
use azure_storage_blob::models::{
    AppendBlobClientAppendBlockOptions, AppendBlobClientCreateOptions, BlobClientAcquireLeaseOptions,
    BlobClientBreakLeaseOptions, BlobClientGetPropertiesResultHeaders, BlobClientReleaseLeaseOptions,
    BlobClientSetMetadataOptions, BlobClientUploadOptions, LeaseState,
};
use tokio::sync::watch;

use super::backend::{Backend, LockGuard, LockInfo};
use super::journal::{self, Delta, Header};
use super::{State, StateError, document, sas};

/// The largest block an append blob takes.
const MAX_APPEND_BLOCK: usize = 4 * 1024 * 1024;

/// How long a lease lasts unless renewed, in seconds (the service allows 15 to 60).
pub const LEASE_SECONDS: u32 = 60;

/// The metadata that names the lock holder. Blob metadata names are C# identifiers and its
/// values ASCII, so the holder is kept field by field.
const LOCK_ID: &str = "aksformlockid";
const LOCK_FIELDS: [&str; 6] =
    [LOCK_ID, "aksformlockpid", "aksformlockuser", "aksformlockhost", "aksformlockcommand", "aksformlockcreated"];

/// Where the state blob is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobLocation {
    pub account: String,
    /// The Blob service's base URL: `https://<account>.blob.core.windows.net`, or a custom one
    /// (Azurite: `http://127.0.0.1:10000/devstoreaccount1`).
    pub endpoint: Url,
    pub container: String,
    /// The blob's name, which may contain `/` (`prod/shop.json`).
    pub key: String,
}

impl BlobLocation {
    fn url_of(&self, name: &str) -> Result<Url, StateError> {
        let mut url = self.endpoint.clone();
        {
            let mut segments =
                url.path_segments_mut().map_err(|()| self.invalid("the endpoint cannot be a base URL"))?;
            segments.pop_if_empty().push(&self.container);
            for part in name.split('/') {
                segments.push(part);
            }
        }
        Ok(url)
    }

    fn invalid(&self, why: &str) -> StateError {
        StateError::Blob { origin: self.to_string(), action: "reach", message: why.to_string(), hint: String::new() }
    }
}

impl std::fmt::Display for BlobLocation {
    /// The blob's URL, which is also what the Azure portal and `az storage blob` show.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let base = self.endpoint.as_str().trim_end_matches('/');
        write!(f, "{base}/{}/{}", self.container, self.key)
    }
}

/// How requests to the Blob service are authorized.
#[derive(Clone)]
pub enum BlobAuth {
    /// Microsoft Entra ID tokens (the role needed: Storage Blob Data Contributor; Reader for
    /// `plan`).
    Token(Arc<dyn TokenCredential>),
    /// A SAS token as the portal or `az storage container generate-sas` gives it.
    Sas(Secret),
    /// The account key: each client signs a short-lived container SAS with it.
    SharedKey(Secret),
}

impl std::fmt::Debug for BlobAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BlobAuth::Token(_) => "Token(..)",
            BlobAuth::Sas(_) => "Sas(..)",
            BlobAuth::SharedKey(_) => "SharedKey(..)",
        })
    }
}

/// A state kept in an Azure Storage blob.
pub struct BlobBackend {
    shared: Arc<Shared>,
    io: Io,
}

struct Shared {
    location: BlobLocation,
    auth: BlobAuth,
    lease: Duration,
    /// While this process holds the lease: the lease, and what a write must match.
    held: Mutex<Option<Held>>,
    /// When the lease was last taken or renewed.
    renewed: Mutex<Option<Instant>>,
}

#[derive(Clone)]
struct Held {
    info: LockInfo,
    /// The blob's metadata with the holder in it: an upload replaces metadata, so each write
    /// carries it.
    metadata: HashMap<String, String>,
    /// The ETag of what this process last read or wrote.
    etag: Option<Etag>,
    /// The document that was read or written last, backed up before the next write.
    document: Vec<u8>,
    /// The account keeps each version itself (the blob has a version id).
    versioned: bool,
    /// The lineage and serial of that document, once read or written.
    recorded: Option<(String, u64)>,
    /// Whether what was read last had a journal: the next record writes the whole state
    /// first, so that the journal this process starts holds everything after its document.
    journal_read: bool,
    /// The journal this process appends to, once started: its length, and when the lease
    /// was last known to be held (a block is appended only well inside the lease).
    journal: Option<u64>,
    lost: Arc<watch::Sender<Option<String>>>,
}

impl BlobBackend {
    pub fn new(location: BlobLocation, auth: BlobAuth) -> Result<Self, StateError> {
        Self::with_lease(location, auth, Duration::from_secs(u64::from(LEASE_SECONDS)))
    }

    /// A backend whose leases last `lease` (15 to 60 seconds) unless renewed.
    pub fn with_lease(location: BlobLocation, auth: BlobAuth, lease: Duration) -> Result<Self, StateError> {
        let io = Io::start().map_err(|e| location.invalid(&format!("cannot start the I/O runtime: {e}")))?;
        let shared = Arc::new(Shared {
            location,
            auth,
            lease: lease.clamp(Duration::from_secs(15), Duration::from_secs(60)),
            held: Mutex::new(None),
            renewed: Mutex::new(None),
        });
        Ok(BlobBackend { shared, io })
    }

    pub fn location(&self) -> &BlobLocation {
        &self.shared.location
    }

    /// The blob's lease state and the holder its metadata names.
    fn holder(&self) -> Result<(bool, Option<LockInfo>), StateError> {
        let shared = Arc::clone(&self.shared);
        self.io.run(async move { shared.holder().await })?
    }
}

impl Backend for BlobBackend {
    fn lock(&self, info: LockInfo) -> Result<Box<dyn LockGuard>, StateError> {
        let shared = Arc::clone(&self.shared);
        let lock_info = info.clone();
        let (metadata, etag) = self.io.run(async move { shared.acquire(&lock_info).await })??;
        self.shared.mark_renewed();
        let (lost, lost_rx) = watch::channel(None);
        *self.shared.held() = Some(Held {
            info: info.clone(),
            metadata,
            etag,
            document: Vec::new(),
            versioned: false,
            recorded: None,
            journal_read: false,
            journal: None,
            lost: Arc::new(lost),
        });
        let renewing = self.io.handle.spawn(Arc::clone(&self.shared).renew(info.id.clone()));
        Ok(Box::new(BlobLockGuard {
            shared: Arc::clone(&self.shared),
            io: self.io.clone(),
            info,
            lost: lost_rx,
            renewing: Some(renewing),
        }))
    }

    fn read(&self) -> Result<Option<State>, StateError> {
        // Without the lease, a writer may fold the journal into a new document between the
        // two reads: then the document's ETag has moved on, and both are read again.
        let holding = self.shared.held().is_some();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let read = self.read_once()?;
            let settled = match &read {
                Some((_, etag)) if !holding && attempts < 5 => {
                    let shared = Arc::clone(&self.shared);
                    let now = self.io.run(async move { shared.etag().await })??;
                    now == *etag
                }
                _ => true,
            };
            if settled {
                return Ok(read.and_then(|(state, _)| state));
            }
        }
    }

    fn record(&self, state: &State, delta: &Delta) -> Result<bool, StateError> {
        let Some(held) = self.shared.held().clone() else {
            return Err(StateError::NotLocked { origin: self.describe() });
        };
        if let Some(reason) = held.lost.borrow().clone() {
            return Err(StateError::LockLost { origin: self.describe(), reason });
        }
        let follows = held.recorded.as_ref().filter(|(lineage, _)| *lineage == state.lineage);
        let (Some((lineage, serial)), false) = (follows, held.journal_read) else {
            return self.write(state).map(|()| false);
        };
        // The journal has no lease of its own: a block goes only while the state's lease
        // has been renewed within half its length, so it cannot land after another run took
        // the lease. Otherwise the write, under the lease, says whether it is still ours.
        if self.shared.renewed_within(self.shared.lease / 2).is_none() {
            return self.write(state).map(|()| false);
        }
        let mut block = match held.journal {
            Some(_) => Vec::new(),
            None => journal::header_line(&Header::new(lineage, *serial))?,
        };
        block.extend(journal::entry_line(state.serial, delta)?);
        // A block the service would refuse (more than 4 MiB) leaves the state to be written
        // whole.
        if block.len() > MAX_APPEND_BLOCK {
            return self.write(state).map(|()| false);
        }
        let shared = Arc::clone(&self.shared);
        let at = held.journal;
        let length = block.len() as u64;
        match self.io.run(async move { shared.append(at, block).await })? {
            Ok(()) => {
                if let Some(held) = self.shared.held().as_mut() {
                    held.journal = Some(at.unwrap_or(0) + length);
                }
                Ok(true)
            }
            // Not appended where it belongs (a retry of a block that had landed, a full
            // journal, an error): the whole state is written, under the lease, and the
            // journal goes.
            Err(_) => self.write(state).map(|()| false),
        }
    }

    fn write(&self, state: &State) -> Result<(), StateError> {
        let Some(held) = self.shared.held().clone() else {
            return Err(StateError::NotLocked { origin: self.describe() });
        };
        if let Some(reason) = held.lost.borrow().clone() {
            return Err(StateError::LockLost { origin: self.describe(), reason });
        }
        if !held.document.is_empty() {
            let recorded = document::decode(&held.document, &self.describe())?;
            if recorded.lineage != state.lineage {
                return Err(StateError::LineageMismatch {
                    origin: self.describe(),
                    on_disk: recorded.lineage,
                    writing: state.lineage.clone(),
                });
            }
            if state.serial <= recorded.serial {
                return Err(StateError::StaleSerial {
                    origin: self.describe(),
                    on_disk: recorded.serial,
                    writing: state.serial,
                });
            }
        }
        let bytes = document::encode(state)?;
        let shared = Arc::clone(&self.shared);
        let written = bytes.clone();
        let etag = self.io.run(async move { shared.upload(&held, written).await })??;
        let journaled = {
            let mut held = self.shared.held();
            let Some(held) = held.as_mut() else { return Ok(()) };
            held.etag = etag;
            held.document = bytes;
            held.recorded = Some((state.lineage.clone(), state.serial));
            let journaled = held.journal.is_some() || held.journal_read;
            held.journal = None;
            held.journal_read = false;
            journaled
        };
        // The document holds what the journal did; one left by a failed delete follows an
        // older document, and is ignored.
        if journaled {
            let shared = Arc::clone(&self.shared);
            let _ = self.io.run(async move { shared.delete_journal().await });
        }
        Ok(())
    }

    fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        let (leased, holder) = self.holder()?;
        let origin = self.describe();
        let Some(holder) = holder.filter(|_| leased) else {
            return Err(StateError::NotLockedNow { origin });
        };
        if holder.id != id {
            return Err(StateError::WrongLockId { origin, given: id.to_string(), holder: Box::new(holder) });
        }
        let shared = Arc::clone(&self.shared);
        self.io.run(async move { shared.break_lease().await })??;
        Ok(holder)
    }

    fn describe(&self) -> String {
        self.shared.location.to_string()
    }
}

impl BlobBackend {
    /// The document and its journal, once, and the document's ETag as read; `None` when
    /// there is no blob.
    fn read_once(&self) -> Result<Option<ReadOnce>, StateError> {
        let shared = Arc::clone(&self.shared);
        let read = self.io.run(async move { shared.download(&shared.location.key).await })??;
        let Some(read) = read else { return Ok(None) };
        let etag = read.etag.clone();
        let mut state = if read.bytes.is_empty() {
            None
        } else {
            Some(document::decode(&read.bytes, &self.describe()).map_err(|e| e.with_backup(Some(self.backup_hint())))?)
        };
        let recorded = state.as_ref().map(|s| (s.lineage.clone(), s.serial));
        let mut journal_read = false;
        if let Some(state) = state.as_mut() {
            let shared = Arc::clone(&self.shared);
            let journal = self.io.run(async move { shared.download(&shared.journal_key()).await })??;
            if let Some(journal) = journal {
                let origin = format!("{}.journal", self.describe());
                journal_read = journal::replay(state, &journal.bytes, &origin)? > 0;
            }
        }
        if let Some(held) = self.shared.held().as_mut() {
            held.etag = read.etag;
            held.document = read.bytes;
            held.versioned = read.versioned;
            held.recorded = recorded;
            held.journal_read = journal_read;
            held.journal = None;
        }
        Ok(Some((state, etag)))
    }

    fn backup_hint(&self) -> String {
        format!("{}.backup (or the blob's previous version, where versioning is on)", self.shared.location)
    }
}

/// The state a read found (`None` for the empty blob a first lock makes), and the ETag of
/// the document it was read from.
type ReadOnce = (Option<State>, Option<Etag>);

/// What a download found.
struct Download {
    bytes: Vec<u8>,
    etag: Option<Etag>,
    versioned: bool,
}

impl Shared {
    fn held(&self) -> MutexGuard<'_, Option<Held>> {
        self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn client(&self, name: &str) -> Result<BlobClient, StateError> {
        let mut url = self.location.url_of(name)?;
        let credential = match &self.auth {
            BlobAuth::Token(credential) => {
                if url.scheme() != "https" {
                    return Err(self.error(
                        "reach",
                        "Microsoft Entra ID tokens are only sent over https".to_string(),
                        "for Azurite on loopback, set AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN",
                    ));
                }
                Some(Arc::clone(credential))
            }
            BlobAuth::Sas(token) => {
                url.set_query(Some(token.secret().trim_start_matches('?')));
                None
            }
            BlobAuth::SharedKey(key) => {
                let query = sas::container_sas(
                    &self.location.account,
                    &self.location.container,
                    key,
                    sas::READ_WRITE,
                    SystemTime::now(),
                    Duration::from_secs(3600),
                )
                .map_err(|e| self.error("sign a request to", e.to_string(), "check AZURE_STORAGE_KEY"))?;
                url.set_query(Some(&query));
                None
            }
        };
        BlobClient::new(url, credential, None).map_err(|e| self.error("reach", e.to_string(), ""))
    }

    fn error(&self, action: &'static str, message: String, hint: &str) -> StateError {
        StateError::Blob { origin: self.location.to_string(), action, message, hint: hint.to_string() }
    }

    /// An error of the service, with what to do about the usual ones.
    fn service_error(&self, action: &'static str, error: &azure_core::Error) -> StateError {
        let (status, code) = status_and_code(error);
        let hint = match (status.map(u16::from), code.as_deref()) {
            (_, Some("ContainerNotFound")) => format!(
                "create the container `{}` in the storage account `{}` (`az storage container create`)",
                self.location.container, self.location.account
            ),
            (Some(401 | 403), _) => {
                "check the credentials: applying needs the Storage Blob Data Contributor role on the \
                 container (planning, Storage Blob Data Reader), or a SAS that allows it"
                    .to_string()
            }
            _ => String::new(),
        };
        self.error(action, describe_error(error), &hint)
    }

    /// Takes the lease (creating an empty blob first when there is none) and records the
    /// holder; the metadata and ETag after that.
    async fn acquire(&self, info: &LockInfo) -> Result<(HashMap<String, String>, Option<Etag>), StateError> {
        let client = self.client(&self.location.key)?;
        // An empty blob to take the lease on; one that is already there is left as it is.
        let options = BlobClientUploadOptions { if_none_match: Some(Etag::from("*")), ..Default::default() };
        if let Err(e) = client.upload(RequestContent::from(Vec::new()), Some(options)).await {
            let status = status_and_code(&e).0.map(u16::from);
            if !matches!(status, Some(409 | 412)) {
                return Err(self.service_error("create", &e));
            }
        }
        let options = BlobClientAcquireLeaseOptions { proposed_lease_id: Some(info.id.clone()), ..Default::default() };
        if let Err(e) = client.acquire_lease(self.lease.as_secs() as i32, Some(options)).await {
            let (status, code) = status_and_code(&e);
            if status == Some(StatusCode::Conflict)
                && matches!(code.as_deref(), Some("LeaseAlreadyPresent" | "LeaseIsBreakingAndCannotBeAcquired"))
            {
                let holder = self.holder().await.ok().and_then(|(_, holder)| holder).map(Box::new);
                return Err(StateError::Locked { state: self.location.to_string(), holder, remote: true });
            }
            return Err(self.service_error("lock", &e));
        }
        let properties = client.get_properties(None).await.map_err(|e| self.service_error("read", &e))?;
        let mut metadata = properties.metadata().unwrap_or_default();
        metadata.retain(|name, _| !LOCK_FIELDS.contains(&name.as_str()));
        metadata.extend(lock_metadata(info));
        let options = BlobClientSetMetadataOptions { lease_id: Some(info.id.clone()), ..Default::default() };
        let response = client.set_metadata(&metadata, Some(options)).await;
        let response = match response {
            Ok(response) => response,
            Err(e) => {
                let error = self.service_error("record the lock holder in", &e);
                let _ = client.release_lease(info.id.clone(), None).await;
                return Err(error);
            }
        };
        let etag = response.headers().get_optional_str(&azure_core::http::headers::ETAG).map(Etag::from);
        Ok((metadata, etag))
    }

    async fn holder(&self) -> Result<(bool, Option<LockInfo>), StateError> {
        let client = self.client(&self.location.key)?;
        let properties = match client.get_properties(None).await {
            Ok(properties) => properties,
            Err(e) if status_and_code(&e).0 == Some(StatusCode::NotFound) => return Ok((false, None)),
            Err(e) => return Err(self.service_error("read", &e)),
        };
        let leased = matches!(properties.lease_state(), Ok(Some(LeaseState::Leased | LeaseState::Breaking)));
        Ok((leased, properties.metadata().ok().and_then(|m| holder_from(&m))))
    }

    fn journal_key(&self) -> String {
        format!("{}.journal", self.location.key)
    }

    /// Appends `block` to the journal at `at`, its length so far, or as the first block of a
    /// new journal (over one a crashed run left, which the last read folded or found
    /// following an older document). The append is conditional on that position, so a retry
    /// of a block that landed is refused rather than appended twice.
    async fn append(&self, at: Option<u64>, block: Vec<u8>) -> Result<(), StateError> {
        let client = self.client(&self.journal_key())?.append_blob_client();
        if at.is_none() {
            let options = AppendBlobClientCreateOptions {
                blob_content_type: Some("application/x-ndjson".to_string()),
                ..Default::default()
            };
            client.create(Some(options)).await.map_err(|e| self.service_error("start the journal of", &e))?;
        }
        let length = block.len() as u64;
        let position = i64::try_from(at.unwrap_or(0)).unwrap_or(i64::MAX);
        let options = AppendBlobClientAppendBlockOptions { append_position: Some(position), ..Default::default() };
        client
            .append_block(RequestContent::from(block), length, Some(options))
            .await
            .map(|_| ())
            .map_err(|e| self.service_error("append to the journal of", &e))
    }

    /// The state blob's ETag now; `None` when it is gone.
    async fn etag(&self) -> Result<Option<Etag>, StateError> {
        let client = self.client(&self.location.key)?;
        match client.get_properties(None).await {
            Ok(properties) => Ok(properties.etag().ok().flatten()),
            Err(e) if status_and_code(&e).0 == Some(StatusCode::NotFound) => Ok(None),
            Err(e) => Err(self.service_error("read", &e)),
        }
    }

    /// When the lease was last renewed (or taken), if within `window`.
    fn renewed_within(&self, window: Duration) -> Option<Instant> {
        let renewed = *self.renewed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        renewed.filter(|at| at.elapsed() < window)
    }

    fn mark_renewed(&self) {
        *self.renewed.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
    }

    async fn delete_journal(&self) -> Result<(), StateError> {
        let client = self.client(&self.journal_key())?;
        match client.delete(None).await {
            Ok(_) => Ok(()),
            Err(e) if status_and_code(&e).0 == Some(StatusCode::NotFound) => Ok(()),
            Err(e) => Err(self.service_error("delete the journal of", &e)),
        }
    }

    async fn download(&self, name: &str) -> Result<Option<Download>, StateError> {
        let client = self.client(name)?;
        let response = match client.download(None).await {
            Ok(response) => response,
            Err(e) if status_and_code(&e) == (Some(StatusCode::NotFound), Some("BlobNotFound".to_string())) => {
                return Ok(None);
            }
            Err(e) => return Err(self.service_error("read", &e)),
        };
        let etag = response.properties.etag.clone();
        let versioned = response.properties.version_id.is_some();
        let bytes = response.body.collect().await.map_err(|e| self.error("read", describe_error(&e), ""))?;
        Ok(Some(Download { bytes: bytes.to_vec(), etag, versioned }))
    }

    /// Writes `bytes` over the state read last, under the lease; the new ETag.
    async fn upload(&self, held: &Held, bytes: Vec<u8>) -> Result<Option<Etag>, StateError> {
        if !held.versioned && !held.document.is_empty() {
            let backup = format!("{}.backup", self.location.key);
            let client = self.client(&backup)?;
            let options = BlobClientUploadOptions {
                blob_content_type: Some("application/json".to_string()),
                ..Default::default()
            };
            client
                .upload(RequestContent::from(held.document.clone()), Some(options))
                .await
                .map_err(|e| self.service_error("back up the previous state beside", &e))?;
        }
        let client = self.client(&self.location.key)?;
        let options = BlobClientUploadOptions {
            blob_content_type: Some("application/json".to_string()),
            if_match: held.etag.clone(),
            lease_id: Some(held.info.id.clone()),
            metadata: Some(held.metadata.clone()),
            ..Default::default()
        };
        let error = match client.upload(RequestContent::from(bytes), Some(options)).await {
            Ok(result) => return Ok(result.etag),
            Err(e) => e,
        };
        let lost = match status_and_code(&error) {
            // The blob changed. Under a lease still ours (it renews) that is another writer's
            // doing; a lease broken or taken over explains it better.
            (Some(StatusCode::PreconditionFailed), Some(code)) if code == "ConditionNotMet" => {
                match client.renew_lease(held.info.id.clone(), None).await {
                    Err(e) if status_and_code(&e).0.is_some_and(|s| s.is_client_error()) => {
                        lease_lost_reason(&status_and_code(&e).1.unwrap_or_default())
                    }
                    _ => return Err(StateError::ChangedSinceRead { origin: self.location.to_string() }),
                }
            }
            (Some(StatusCode::PreconditionFailed), Some(code)) if code.starts_with("Lease") => lease_lost_reason(&code),
            _ => return Err(self.service_error("write", &error)),
        };
        held.lost.send_replace(Some(lost.clone()));
        Err(StateError::LockLost { origin: self.location.to_string(), reason: lost })
    }

    /// Renews the lease until the guard stops it; when the lease cannot be renewed before it
    /// runs out, reports it lost.
    async fn renew(self: Arc<Self>, lease_id: String) {
        let every = self.lease / 4;
        let mut renewed = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(every).await;
            let result = match self.client(&self.location.key) {
                Ok(client) => client.renew_lease(lease_id.clone(), None).await.map(|_| ()).map_err(|e| {
                    let (status, code) = status_and_code(&e);
                    (status.is_some_and(|s| u16::from(s) < 500 && u16::from(s) != 408), code, describe_error(&e))
                }),
                Err(e) => Err((true, None, e.to_string())),
            };
            let reason = match result {
                Ok(()) => {
                    renewed = tokio::time::Instant::now();
                    self.mark_renewed();
                    continue;
                }
                // Refused: the lease is someone else's now, or was broken.
                Err((true, code, message)) => code.map_or(message, |code| lease_lost_reason(&code)),
                // The service could not be reached: tried again until the lease runs out.
                Err((false, _, message)) if renewed.elapsed() < self.lease => {
                    let _ = message;
                    continue;
                }
                Err((false, _, message)) => format!("it could not be renewed before it ran out ({message})"),
            };
            if let Some(held) = self.held().as_ref() {
                let _ = held.lost.send(Some(reason));
            }
            return;
        }
    }

    /// Clears the holder from the metadata and releases the lease.
    async fn release(&self, lease_id: String, metadata: HashMap<String, String>) -> Result<(), StateError> {
        let client = self.client(&self.location.key)?;
        let mut cleared = metadata;
        cleared.retain(|name, _| !LOCK_FIELDS.contains(&name.as_str()));
        let options = BlobClientSetMetadataOptions { lease_id: Some(lease_id.clone()), ..Default::default() };
        let cleared = client.set_metadata(&cleared, Some(options)).await;
        let released = client.release_lease(lease_id, Some(BlobClientReleaseLeaseOptions::default())).await;
        cleared.map_err(|e| self.service_error("clear the lock holder of", &e))?;
        released.map(|_| ()).map_err(|e| self.service_error("release the lock on", &e))
    }

    /// Breaks the lease at once and clears the holder from the metadata.
    async fn break_lease(&self) -> Result<(), StateError> {
        let client = self.client(&self.location.key)?;
        let options = BlobClientBreakLeaseOptions { break_period: Some(0), ..Default::default() };
        client.break_lease(Some(options)).await.map_err(|e| self.service_error("break the lock on", &e))?;
        let properties = client.get_properties(None).await.map_err(|e| self.service_error("read", &e))?;
        let mut metadata = properties.metadata().unwrap_or_default();
        metadata.retain(|name, _| !LOCK_FIELDS.contains(&name.as_str()));
        client.set_metadata(&metadata, None).await.map_err(|e| self.service_error("clear the lock holder of", &e))?;
        Ok(())
    }
}

/// The lease held by this process; dropping it releases the lease.
struct BlobLockGuard {
    shared: Arc<Shared>,
    io: Io,
    info: LockInfo,
    lost: watch::Receiver<Option<String>>,
    renewing: Option<tokio::task::JoinHandle<()>>,
}

impl BlobLockGuard {
    fn unlock(&mut self) -> Result<(), StateError> {
        let Some(renewing) = self.renewing.take() else { return Ok(()) };
        renewing.abort();
        let Some(held) = self.shared.held().take() else { return Ok(()) };
        if held.lost.borrow().is_some() {
            // Someone else may hold the lease now: nothing of theirs is touched.
            return Ok(());
        }
        let shared = Arc::clone(&self.shared);
        self.io.run(async move { shared.release(held.info.id.clone(), held.metadata).await })?
    }
}

impl LockGuard for BlobLockGuard {
    fn info(&self) -> &LockInfo {
        &self.info
    }

    fn release(mut self: Box<Self>) -> Result<(), StateError> {
        self.unlock()
    }

    fn lost(&self) -> Option<watch::Receiver<Option<String>>> {
        Some(self.lost.clone())
    }
}

impl Drop for BlobLockGuard {
    fn drop(&mut self) {
        // Unreleased, the lease runs out by itself within a minute.
        let _ = self.unlock();
    }
}

/// A runtime of its own on a thread of its own, so that the backend's blocking calls work
/// both from plain code and from inside the apply's runtime, and the lease is renewed
/// whatever the rest of the process is doing.
#[derive(Clone)]
struct Io {
    handle: tokio::runtime::Handle,
    _stop: Arc<StopOnDrop>,
}

struct StopOnDrop(Option<std::sync::mpsc::Sender<()>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.take();
    }
}

impl Io {
    fn start() -> std::io::Result<Io> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new().name("aksform-state-blob".into()).spawn(move || {
            // Returns when the sender is dropped; the runtime, and the renewal with it, ends.
            let _ = stopped.recv();
            runtime.shutdown_background();
        })?;
        Ok(Io { handle, _stop: Arc::new(StopOnDrop(Some(stop))) })
    }

    fn run<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> Result<T, StateError> {
        futures::executor::block_on(self.handle.spawn(future)).map_err(|e| StateError::Blob {
            origin: String::new(),
            action: "reach",
            message: format!("the request stopped unexpectedly: {e}"),
            hint: String::new(),
        })
    }
}

fn lock_metadata(info: &LockInfo) -> impl Iterator<Item = (String, String)> {
    let values = [
        info.id.clone(),
        info.pid.to_string(),
        info.user.clone(),
        info.host.clone(),
        info.command.clone(),
        info.created_at.clone(),
    ];
    LOCK_FIELDS.iter().zip(values).map(|(name, value)| (name.to_string(), ascii(&value)))
}

/// Metadata values go in HTTP headers: printable ASCII, other characters as `?`.
fn ascii(value: &str) -> String {
    value.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect()
}

fn holder_from(metadata: &HashMap<String, String>) -> Option<LockInfo> {
    let field = |name: &str| metadata.get(name).cloned();
    Some(LockInfo {
        id: field(LOCK_FIELDS[0])?,
        pid: field(LOCK_FIELDS[1])?.parse().ok()?,
        user: field(LOCK_FIELDS[2])?,
        host: field(LOCK_FIELDS[3])?,
        command: field(LOCK_FIELDS[4])?,
        created_at: field(LOCK_FIELDS[5])?,
    })
}

fn lease_lost_reason(code: &str) -> String {
    match code {
        "LeaseIdMismatchWithLeaseOperation" | "LeaseIdMismatchWithBlobOperation" => {
            "another run took the lock after this one's lease ran out".to_string()
        }
        "LeaseNotPresentWithLeaseOperation" | "LeaseNotPresentWithBlobOperation" | "LeaseLost" => {
            "the lease ran out or was broken (`aksform state force-unlock`)".to_string()
        }
        "LeaseIsBrokenAndCannotBeRenewed" => "the lock was broken (`aksform state force-unlock`)".to_string(),
        other => format!("the service refused the lease ({other})"),
    }
}

fn status_and_code(error: &azure_core::Error) -> (Option<StatusCode>, Option<String>) {
    match error.kind() {
        ErrorKind::HttpResponse { status, error_code, .. } => (Some(*status), error_code.clone()),
        _ => (error.http_status(), None),
    }
}

/// The service's error without its raw response (which can be long XML).
fn describe_error(error: &azure_core::Error) -> String {
    match error.kind() {
        ErrorKind::HttpResponse { status, error_code, .. } => match error_code {
            Some(code) => format!("{} {code}", u16::from(*status)),
            None => format!("HTTP {}", u16::from(*status)),
        },
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(endpoint: &str, key: &str) -> BlobLocation {
        BlobLocation {
            account: "acct".into(),
            endpoint: Url::parse(endpoint).unwrap(),
            container: "tfstate".into(),
            key: key.into(),
        }
    }

    #[test]
    fn blob_urls_keep_the_account_path_and_encode_the_key() {
        let azurite = location("http://127.0.0.1:10000/devstoreaccount1", "prod/shop one.json");
        assert_eq!(
            azurite.url_of(&azurite.key).unwrap().as_str(),
            "http://127.0.0.1:10000/devstoreaccount1/tfstate/prod/shop%20one.json"
        );
        let azure = location("https://acct.blob.core.windows.net", "shop.json");
        assert_eq!(
            azure.url_of("shop.json.backup").unwrap().as_str(),
            "https://acct.blob.core.windows.net/tfstate/shop.json.backup"
        );
        assert_eq!(azure.to_string(), "https://acct.blob.core.windows.net/tfstate/shop.json");
    }

    #[test]
    fn the_holder_round_trips_through_metadata() {
        let info = LockInfo {
            id: "3f0e8a4c-0000-4000-8000-000000000000".into(),
            pid: 7,
            user: "zoë".into(),
            host: "runner-1".into(),
            command: "aksform apply".into(),
            created_at: "2026-11-25T10:02:11Z".into(),
        };
        let metadata: HashMap<String, String> = lock_metadata(&info).collect();
        let read = holder_from(&metadata).unwrap();
        assert_eq!(read.user, "zo?", "metadata is ASCII");
        assert_eq!(LockInfo { user: info.user.clone(), ..read }, info);
        assert!(holder_from(&HashMap::new()).is_none());
    }
}
