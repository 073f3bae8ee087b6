//! The storage boundary for state: a [`Backend`] reads, writes and locks one state
//! document, wherever it lives (a local file now, an Azure Blob with a lease later).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::journal::Delta;
use super::{State, StateError};

/// Where a state document is kept.
///
/// The contract is shaped so that an Azure Blob backend fits it: `lock` maps to acquiring
/// a blob lease (the guard renews and releases it), `read` remembers the blob's ETag, and
/// `write` is an `If-Match` conditional put with the lease id, so that a write can never
/// replace a state it did not read.
pub trait Backend: Send + Sync {
    /// Takes the exclusive lock on the state, or fails at once (never waits) with
    /// [`StateError::Locked`] naming who holds it. The lock is held until the guard is
    /// released or dropped.
    fn lock(&self, info: LockInfo) -> Result<Box<dyn LockGuard>, StateError>;

    /// The recorded state, or `None` when nothing has been recorded yet.
    fn read(&self) -> Result<Option<State>, StateError>;

    /// Replaces the recorded state with `state`, all at once. Requires the lock. Changes
    /// nothing in `state`: the caller calls [`State::commit`] first. Refuses a state of
    /// another lineage or one whose serial is not greater than the recorded one.
    fn write(&self, state: &State) -> Result<(), StateError>;

    /// Records `delta`, what changed in `state` since it was last written or recorded (the
    /// caller has committed it). A backend with a journal ([`super::journal`]) appends the
    /// delta, at a cost that follows the change, and returns true: its next
    /// [`Backend::write`] folds the journal into the document. By default `state` is written
    /// whole, and this returns false.
    fn record(&self, state: &State, delta: &Delta) -> Result<bool, StateError> {
        let _ = delta;
        self.write(state).map(|()| false)
    }

    /// Breaks the lock whose id is `id` (the one a refused run was told), for a run that is
    /// gone for good; refused when the lock has another id. Returns who held it.
    fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError>;

    /// Where the state lives, for messages (`state/shop.json`).
    fn describe(&self) -> String;
}

/// A held state lock. Dropping it releases the lock; [`LockGuard::release`] does the same
/// and reports a failure to release (a remote lease can fail to release; a local lock
/// cannot).
pub trait LockGuard: Send {
    /// Who holds the lock: this process.
    fn info(&self) -> &LockInfo;

    fn release(self: Box<Self>) -> Result<(), StateError>;

    /// For a lock that can be lost while held (a lease that could not be renewed): becomes
    /// `Some(why)` when it is. A local lock is held until released.
    fn lost(&self) -> Option<tokio::sync::watch::Receiver<Option<String>>> {
        None
    }
}

/// Who holds a state lock, recorded with the lock so that whoever is refused can be told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A fresh UUID for each lock taken.
    pub id: String,
    pub pid: u32,
    pub user: String,
    pub host: String,
    /// The command that took the lock (`aksform apply`).
    pub command: String,
    /// When the lock was taken, RFC 3339 in UTC (`2026-11-25T10:02:11Z`).
    pub created_at: String,
}

impl LockInfo {
    /// Lock details for this process running `command`.
    pub fn new(command: impl Into<String>) -> Self {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            pid: std::process::id(),
            user: current_user(),
            host: current_host(),
            command: command.into(),
            created_at: rfc3339_utc(SystemTime::now()),
        }
    }
}

impl fmt::Display for LockInfo {
    /// "`aksform apply` (pid 4242, alice@build-7) since 2026-11-25T10:02:11Z"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` (pid {}, {}@{}) since {}", self.command, self.pid, self.user, self.host, self.created_at)
    }
}

fn current_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|value| value.trim().to_string())
        .find(|value| !value.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

fn current_host() -> String {
    // Shells rarely export HOSTNAME, so the kernel's own answer comes first.
    let from_files = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .into_iter()
        .filter_map(|path| std::fs::read_to_string(path).ok());
    let from_env = ["COMPUTERNAME", "HOSTNAME"].into_iter().filter_map(|name| std::env::var(name).ok());
    from_files
        .chain(from_env)
        .map(|value| value.trim().to_string())
        .find(|value| !value.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// `time` as RFC 3339 in UTC to the second (`2026-11-25T10:02:11Z`). Times before 1970
/// (a badly set clock) are shown as the epoch.
pub fn rfc3339_utc(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = seconds / 86_400;
    let second_of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's algorithm,
/// restricted to dates after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(seconds: u64) -> String {
        rfc3339_utc(UNIX_EPOCH + Duration::from_secs(seconds))
    }

    #[test]
    fn formats_times_as_rfc3339_utc() {
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(1_795_600_931), "2026-11-25T10:02:11Z");
        assert_eq!(at(951_868_799), "2000-02-29T23:59:59Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
        assert_eq!(rfc3339_utc(UNIX_EPOCH - Duration::from_secs(5)), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn lock_info_reads_as_who_where_and_since_when() {
        let info = LockInfo {
            id: "x".into(),
            pid: 4242,
            user: "alice".into(),
            host: "build-7".into(),
            command: "aksform apply".into(),
            created_at: "2026-11-25T10:02:11Z".into(),
        };
        assert_eq!(info.to_string(), "`aksform apply` (pid 4242, alice@build-7) since 2026-11-25T10:02:11Z");
    }

    #[test]
    fn lock_info_describes_this_process() {
        let info = LockInfo::new("aksform plan");
        assert_eq!(info.pid, std::process::id());
        assert_eq!(info.command, "aksform plan");
        assert!(!info.user.is_empty() && !info.host.is_empty());
        assert!(uuid::Uuid::parse_str(&info.id).is_ok());
        assert!(info.created_at.ends_with('Z') && info.created_at.len() == 20);
    }
}
