//! The state's journal: what an apply records between two writes of the whole document, as
//! one line per batch of finished steps, appended and flushed to disk, so that recording a
//! step costs what the step changed, not the size of the state. A write of the document
//! folds the journal in (it is removed once the document is durable).
//!
//! The first line names the document the journal follows, by lineage and serial; a journal
//! that does not follow the document on disk (the document was written after it, and
//! removing it failed) is ignored. Each further line is an [`Entry`]. A crash while
//! appending can only cut the last line short: that line is left out; any other line that
//! does not parse is corruption, refused with its line number.

use serde::{Deserialize, Serialize};

use super::{ResourceState, State, StateError};
use crate::model::Address;

/// The journal's format.
const FORMAT: u32 = 1;

/// The first line: the document the entries follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub journal: u32,
    pub lineage: String,
    /// The serial of the document the entries apply to.
    pub serial: u64,
}

impl Header {
    pub fn new(lineage: &str, serial: u64) -> Header {
        Header { journal: FORMAT, lineage: lineage.to_string(), serial }
    }
}

/// What changed since the state was last written or recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delta {
    /// The resources recorded or changed, whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upsert: Vec<ResourceState>,
    /// The resources no longer recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<Address>,
}

impl Delta {
    /// The change at `addresses` in `state`: each recorded one whole, the others removed.
    pub fn of<'a>(state: &State, addresses: impl IntoIterator<Item = &'a Address>) -> Delta {
        let mut delta = Delta::default();
        for address in addresses {
            match state.get(address) {
                Some(resource) => delta.upsert.push(resource.clone()),
                None => delta.remove.push(address.clone()),
            }
        }
        delta
    }

    pub fn is_empty(&self) -> bool {
        self.upsert.is_empty() && self.remove.is_empty()
    }
}

/// One line after the header: a delta, and the serial the state has with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub serial: u64,
    #[serde(flatten)]
    pub delta: Delta,
}

/// `header` as the journal's first line, newline included.
pub fn header_line(header: &Header) -> Result<Vec<u8>, StateError> {
    line(header)
}

/// `entry` as a line, newline included.
pub fn entry_line(serial: u64, delta: &Delta) -> Result<Vec<u8>, StateError> {
    delta.upsert.iter().try_for_each(super::document::check_known)?;
    #[derive(Serialize)]
    struct Written<'a> {
        serial: u64,
        #[serde(flatten)]
        delta: &'a Delta,
    }
    line(&Written { serial, delta })
}

fn line(value: &impl Serialize) -> Result<Vec<u8>, StateError> {
    let mut bytes = serde_json::to_vec(value).map_err(StateError::Encode)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The header of a journal's bytes, if its first line is whole and one.
pub fn header_of(bytes: &[u8]) -> Option<Header> {
    let end = bytes.iter().position(|&b| b == b'\n')?;
    serde_json::from_slice(&bytes[..end]).ok()
}

/// How many of `bytes` a journal keeps: its header and the entries that parse, up to the
/// first that does not (a last line cut short by a crash). Appending goes on from there.
pub fn kept_length(bytes: &[u8]) -> usize {
    let mut kept = 0;
    for (index, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let whole = line.last() == Some(&b'\n');
        let text = &line[..line.len() - usize::from(whole)];
        let parses = match index {
            0 => serde_json::from_slice::<Header>(text).is_ok(),
            _ => serde_json::from_slice::<Entry>(text).is_ok(),
        };
        if !whole || !parses {
            break;
        }
        kept += line.len();
    }
    kept
}

/// Applies the journal `bytes` to `state`, the document it follows: returns how many entries
/// it applied (none when it follows another document).
pub fn replay(state: &mut State, bytes: &[u8], origin: &str) -> Result<usize, StateError> {
    match header_of(bytes) {
        Some(header) if header.journal > FORMAT => {
            return Err(StateError::NewerFormat { origin: origin.to_string(), found: u64::from(header.journal) });
        }
        Some(header) if header.lineage == state.lineage && header.serial == state.serial => {}
        _ => return Ok(0),
    }
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // `split` leaves what follows the last newline: empty when the last line is whole.
    let (whole, cut) = lines.split_at(lines.len() - 1);
    let cut_short = !cut[0].is_empty();
    let mut applied = 0;
    for (index, text) in whole.iter().enumerate().skip(1) {
        let entry: Entry = match serde_json::from_slice(text) {
            Ok(entry) => entry,
            // A last line cut short by a crash, even at a newline inside it, is left out.
            Err(_) if index == whole.len() - 1 && !cut_short => break,
            Err(e) => {
                return Err(StateError::Corrupt {
                    origin: origin.to_string(),
                    line: index + 1,
                    column: e.column(),
                    message: format!("the journal's line {} is not an entry: {e}", index + 1),
                    backup: None,
                });
            }
        };
        if entry.serial <= state.serial {
            return Err(StateError::Corrupt {
                origin: origin.to_string(),
                line: index + 1,
                column: 1,
                message: format!("the journal's serial {} does not follow {}", entry.serial, state.serial),
                backup: None,
            });
        }
        for resource in entry.delta.upsert {
            state.upsert(resource);
        }
        for address in &entry.delta.remove {
            state.remove(address);
        }
        state.serial = entry.serial;
        applied += 1;
    }
    if applied > 0 {
        state.sort_resources();
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(address: &str, id: &str) -> ResourceState {
        ResourceState { provider_id: Some(id.into()), ..ResourceState::new(address.parse().unwrap()) }
    }

    fn journal(state: &State, entries: &[(u64, Delta)]) -> Vec<u8> {
        let mut bytes = header_line(&Header::new(&state.lineage, state.serial)).unwrap();
        for (serial, delta) in entries {
            bytes.extend(entry_line(*serial, delta).unwrap());
        }
        bytes
    }

    fn base() -> State {
        let mut state = State::new("s");
        state.serial = 4;
        state.upsert(resource("namespace.apps", "a"));
        state.upsert(resource("service.old", "o"));
        state
    }

    #[test]
    fn entries_replayed_on_the_document_they_follow_give_the_state_they_recorded() {
        let state = base();
        let first = Delta { upsert: vec![resource("service.web", "w")], remove: vec!["service.old".parse().unwrap()] };
        let second =
            Delta { upsert: vec![resource("service.web", "w2"), resource("service.api", "x")], remove: vec![] };
        let bytes = journal(&state, &[(5, first), (6, second)]);
        let mut replayed = state.clone();
        assert_eq!(replay(&mut replayed, &bytes, "j").unwrap(), 2);
        assert_eq!(replayed.serial, 6);
        let ids: Vec<_> =
            replayed.resources.iter().map(|r| (r.address.to_string(), r.provider_id.clone().unwrap())).collect();
        assert_eq!(
            ids,
            [("namespace.apps", "a"), ("service.api", "x"), ("service.web", "w2")]
                .map(|(a, i)| (a.to_string(), i.to_string()))
        );
    }

    #[test]
    fn a_last_line_cut_short_is_left_out_and_any_other_bad_line_is_refused() {
        let state = base();
        let one = Delta { upsert: vec![resource("service.web", "w")], remove: vec![] };
        let whole = journal(&state, &[(5, one.clone()), (6, one.clone())]);
        for cut in [whole.len() - 1, whole.len() - 10] {
            let mut replayed = state.clone();
            assert_eq!(replay(&mut replayed, &whole[..cut], "j").unwrap(), 1, "cut at {cut}");
            assert_eq!(replayed.serial, 5);
        }
        let mut bad = journal(&state, &[(5, one.clone())]);
        bad.extend(b"{not json}\n");
        bad.extend(entry_line(6, &one).unwrap());
        let error = replay(&mut state.clone(), &bad, "j").unwrap_err();
        assert!(matches!(error, StateError::Corrupt { line: 3, .. }), "{error:?}");
    }

    #[test]
    fn appending_goes_on_after_the_last_whole_entry() {
        let state = base();
        let one = Delta { upsert: vec![resource("service.web", "w")], remove: vec![] };
        let whole = journal(&state, &[(5, one.clone())]);
        assert_eq!(kept_length(&whole), whole.len());
        let mut torn = whole.clone();
        torn.extend(&entry_line(6, &one).unwrap()[..20]);
        assert_eq!(kept_length(&torn), whole.len());
        assert_eq!(kept_length(b"{\"journal\":1"), 0);
    }

    #[test]
    fn a_journal_after_another_document_is_ignored() {
        let state = base();
        let one = Delta { upsert: vec![resource("service.web", "w")], remove: vec![] };
        let bytes = journal(&state, &[(5, one)]);
        let mut newer = state.clone();
        newer.serial = 7;
        assert_eq!(replay(&mut newer, &bytes, "j").unwrap(), 0);
        assert_eq!(newer, {
            let mut s = state.clone();
            s.serial = 7;
            s
        });
        let mut other = State::new("s");
        other.serial = 4;
        assert_eq!(replay(&mut other, &bytes, "j").unwrap(), 0);
    }
}
