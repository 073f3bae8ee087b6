//! Everything that can go wrong reading, writing, locking or editing state, each message
//! saying what happened to the state (usually: nothing) and what to do.

use std::io;
use std::path::Path;

use super::{FORMAT_VERSION, LockInfo};
use crate::model::Address;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },

    #[error(
        "{state} is locked by {}; try again when it has finished, or pass --lock-timeout 10m to wait for it ({}){}",
        holder_text(holder),
        if *remote { "the lock is released when that run ends, or within a minute if it died" } else { "the lock is released as soon as that process exits" },
        force_hint(holder, *remote)
    )]
    Locked { state: String, holder: Option<Box<LockInfo>>, remote: bool },

    #[error(
        "{origin} was written by someone else since this run read it. Nothing was written over it; run the command again so that it starts from the current state"
    )]
    ChangedSinceRead { origin: String },

    #[error(
        "the lock on {origin} was lost: {reason}. Nothing more was written to the state; check what the other run did, then run the command again"
    )]
    LockLost { origin: String, reason: String },

    #[error("{origin} is not locked: there is nothing to unlock")]
    NotLockedNow { origin: String },

    #[error(
        "{origin} is locked by {holder} with the lock id {}, not {given}: nothing was unlocked. Pass the id the lock was taken with",
        holder.id
    )]
    WrongLockId { origin: String, given: String, holder: Box<LockInfo> },

    #[error(
        "{origin} is locked by {holder}, a process that is still running: stop it instead (a local lock is released as soon as its process exits, so it never needs forcing)"
    )]
    HeldByLiveProcess { origin: String, holder: String },

    #[error("could not {action} {origin}: {message}{}", if hint.is_empty() { String::new() } else { format!("; {hint}") })]
    Blob { origin: String, action: &'static str, message: String, hint: String },

    #[error(
        "{origin} cannot be read: {message} at line {line}, column {column}. The file was left untouched; {}",
        restore_hint(backup)
    )]
    Corrupt { origin: String, line: usize, column: usize, message: String, backup: Option<String> },

    #[error(
        "{origin} was written by a newer aksform (format {found}); this build reads format {FORMAT_VERSION}: upgrade aksform. The file was left untouched"
    )]
    NewerFormat { origin: String, found: u64 },

    #[error(
        "{origin} declares state format {found}, which no aksform writes (this build reads format {FORMAT_VERSION}). The file was left untouched; {}",
        restore_hint(backup)
    )]
    UnknownFormat { origin: String, found: u64, backup: Option<String> },

    #[error(
        "{origin} records {address} more than once. The file was left untouched; keep one of the entries by editing it, or {}",
        restore_hint(backup)
    )]
    DuplicateInFile { origin: String, address: Address, backup: Option<String> },

    #[error("refusing to write a state that records {address} more than once (a bug in aksform: please report it)")]
    DuplicateToWrite { address: Address },

    #[error(
        "refusing to record {address}.{attribute}: its value is not known yet (a bug in aksform: please report it)"
    )]
    UnknownValue { address: Address, attribute: String },

    #[error(
        "refusing to write a state of format {found}; this build writes format {FORMAT_VERSION} (a bug in aksform: please report it)"
    )]
    WrongFormatToWrite { found: u32 },

    #[error("could not encode the state: {0}")]
    Encode(#[source] serde_json::Error),

    #[error("refusing to write {origin} without holding its lock (a bug in aksform: please report it)")]
    NotLocked { origin: String },

    #[error(
        "refusing to overwrite {origin}: it holds another state (lineage {on_disk}) than the one being written (lineage {writing}). Nothing was written; check that the state location belongs to this stack"
    )]
    LineageMismatch { origin: String, on_disk: String, writing: String },

    #[error(
        "refusing to overwrite {origin}: it was written by someone else since it was read (serial {on_disk} on disk, this write has serial {writing}). Nothing was written; run the command again so that it starts from the current state"
    )]
    StaleSerial { origin: String, on_disk: u64, writing: u64 },

    #[error("{address} is not in the state{}; `aksform state list` shows what is", did_you_mean(suggestion))]
    NotInState { address: Address, suggestion: Option<String> },

    #[error(
        "{address} is already in the state; pick another address, or forget the one recorded with `aksform state rm {address}`"
    )]
    AlreadyInState { address: Address },

    #[error("{address} is both where to move from and where to move to: nothing to move")]
    MoveToSameAddress { address: Address },

    #[error("cannot move {from} to {to}: a {} can only move to another {} address (`{}.<new name>`)", from.kind.noun(), from.kind, from.kind)]
    KindMismatch { from: Box<Address>, to: Box<Address> },

    #[error("cannot move to {to}: {parent} is not in the state; move {parent} first (its children move with it)")]
    ParentNotInState { to: Box<Address>, parent: Box<Address> },
}

impl StateError {
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        StateError::Io { action, path: path.display().to_string(), source }
    }

    /// Names `backup` as the version to restore, for errors about an unreadable document.
    pub(crate) fn with_backup(mut self, backup_path: Option<String>) -> Self {
        if let StateError::Corrupt { backup, .. }
        | StateError::UnknownFormat { backup, .. }
        | StateError::DuplicateInFile { backup, .. } = &mut self
        {
            *backup = backup_path;
        }
        self
    }
}

fn holder_text(holder: &Option<Box<LockInfo>>) -> String {
    match holder {
        Some(info) => info.to_string(),
        // The holder writes its details just after taking the lock, so they can be missing
        // for a moment; Windows also keeps a locked file from being read.
        None => "another process whose details could not be read".to_string(),
    }
}

fn force_hint(holder: &Option<Box<LockInfo>>, remote: bool) -> String {
    match holder {
        Some(info) if remote => format!("; if that run is gone for good, `aksform state force-unlock {}`", info.id),
        _ => String::new(),
    }
}

fn restore_hint(backup: &Option<String>) -> String {
    match backup {
        Some(path) => format!("if it was damaged, restore the previous version from {path}"),
        None => "there is no previous version to restore, so fix it by hand".to_string(),
    }
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}
