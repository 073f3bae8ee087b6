//! The state document on the wire: bytes to [`State`] and back, the same for every
//! backend. Decoding never guesses: anything it cannot read exactly is an error, so that a
//! later write cannot lose data.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{FORMAT_VERSION, ResourceState, State, StateError, address_order};

/// Reads only the format version, so that a newer document is recognised as such even when
/// the rest of it would not parse as this format.
#[derive(Deserialize)]
struct FormatProbe {
    version: Option<u64>,
}

/// A [`State`] document with each resource left as its text, so that the resources can be
/// read on every core. The same fields and rules as [`State`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Outline<'a> {
    version: u32,
    serial: u64,
    lineage: String,
    stack: String,
    aksform_version: String,
    #[serde(borrow)]
    resources: Vec<&'a RawValue>,
    #[serde(default)]
    existing: Vec<ResourceState>,
}

/// The state, its resources read on every core; `None` when any part does not parse, to be
/// read again in one piece for an error that names the place.
fn decode_in_parallel(bytes: &[u8]) -> Option<State> {
    let outline: Outline = serde_json::from_slice(bytes).ok()?;
    let parts = crate::parallel::map_chunks(&outline.resources, |part| {
        let mut resources = Vec::with_capacity(part.len());
        for raw in part {
            resources.push(serde_json::from_str::<ResourceState>(raw.get()).ok()?);
        }
        Some(resources)
    });
    let mut resources = Vec::with_capacity(outline.resources.len());
    for part in parts {
        resources.extend(part?);
    }
    let Outline { version, serial, lineage, stack, aksform_version, existing, .. } = outline;
    Some(State { version, serial, lineage, stack, aksform_version, resources, existing })
}

/// Parses a state document. `origin` names it in errors (`state/shop.json`). The resources
/// come back sorted, whatever order the document had them in.
pub fn decode(bytes: &[u8], origin: &str) -> Result<State, StateError> {
    // The full parse comes first, as it nearly always succeeds; only when it fails is the
    // version read alone, so that a newer document is reported as such.
    let parsed = match decode_in_parallel(bytes) {
        Some(state) => Ok(state),
        None => serde_json::from_slice(bytes),
    };
    let mut state: State = match parsed {
        Ok(state) => state,
        Err(error) => {
            let probe: FormatProbe = serde_json::from_slice(bytes).map_err(|e| corrupt(origin, &e))?;
            check_version(probe.version, origin)?;
            return Err(corrupt(origin, &error));
        }
    };
    check_version(Some(u64::from(state.version)), origin)?;
    if let Some(address) = first_duplicate(&state) {
        return Err(StateError::DuplicateInFile { origin: origin.to_string(), address, backup: None });
    }
    state.sort_resources();
    Ok(state)
}

fn check_version(version: Option<u64>, origin: &str) -> Result<(), StateError> {
    match version {
        Some(found) if found > u64::from(FORMAT_VERSION) => {
            Err(StateError::NewerFormat { origin: origin.to_string(), found })
        }
        Some(found) if found < u64::from(FORMAT_VERSION) => {
            Err(StateError::UnknownFormat { origin: origin.to_string(), found, backup: None })
        }
        // A missing version is reported by the full parse, with its position.
        _ => Ok(()),
    }
}

/// Refuses a resource with a value not known yet: the state records only what is.
pub(crate) fn check_known(resource: &super::ResourceState) -> Result<(), StateError> {
    match resource.attributes.iter().find(|(_, value)| value.is_unknown()) {
        Some((attribute, _)) => {
            Err(StateError::UnknownValue { address: resource.address.clone(), attribute: attribute.clone() })
        }
        None => Ok(()),
    }
}

/// The document for `state`: pretty JSON, resources sorted, a trailing newline, so that
/// the file diffs well in review.
pub fn encode(state: &State) -> Result<Vec<u8>, StateError> {
    if state.version != FORMAT_VERSION {
        return Err(StateError::WrongFormatToWrite { found: state.version });
    }
    if let Some(address) = first_duplicate(state) {
        return Err(StateError::DuplicateToWrite { address });
    }
    state.resources.iter().try_for_each(check_known)?;
    // `commit` sorts before every write, so a copy to sort is rarely needed; a large apply
    // writes the state hundreds of times.
    let in_order = state.resources.is_sorted_by(|a, b| address_order(&a.address, &b.address).is_le());
    let mut bytes = if in_order {
        serde_json::to_vec_pretty(state)
    } else {
        let mut sorted = state.clone();
        sorted.sort_resources();
        serde_json::to_vec_pretty(&sorted)
    }
    .map_err(StateError::Encode)?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn first_duplicate(state: &State) -> Option<crate::model::Address> {
    let mut seen = HashSet::new();
    state.addresses().find(|address| !seen.insert(*address)).cloned()
}

fn corrupt(origin: &str, error: &serde_json::Error) -> StateError {
    // serde_json appends the position to its message; it is reported separately here.
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let message = text.strip_suffix(&position).unwrap_or(&text).to_string();
    StateError::Corrupt {
        origin: origin.to_string(),
        line: error.line(),
        column: error.column(),
        message,
        backup: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Address, Value};
    use crate::state::ResourceState;

    fn address(text: &str) -> Address {
        text.parse().unwrap()
    }

    fn sample() -> State {
        let mut state = State::new("shop");
        state.lineage = "7d3c1a52-0000-4000-8000-000000000000".into();
        state.serial = 3;
        state.aksform_version = "0.1.0".into();
        let mut vnet = ResourceState::new(address("vnet.shop"));
        vnet.provider_id =
            Some("/subscriptions/0000/resourceGroups/shop/providers/Microsoft.Network/virtualNetworks/shop".into());
        vnet.attributes.insert("address_space".into(), Value::list(["10.0.0.0/16"]));
        vnet.attributes.insert("location".into(), Value::str("westeurope"));
        vnet.dependencies.push(address("resource_group.shop"));
        state.upsert(vnet);
        let mut subnet = ResourceState::new(address("vnet.shop.subnet.nodes"));
        subnet.attributes.insert("cidr".into(), Value::str("10.0.1.0/24"));
        subnet.attributes.insert("delegated".into(), Value::Bool(false));
        subnet.attributes.insert("port".into(), Value::Int(443));
        subnet.attributes.insert("gateway".into(), Value::Null);
        subnet.attributes.insert("tags".into(), Value::map([("team", "web")]));
        state.upsert(subnet);
        state.upsert(ResourceState::new(address("resource_group.shop")));
        state
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn round_trips() {
        let state = sample();
        assert_eq!(decode(&encode(&state).unwrap(), "s.json").unwrap(), state);
    }

    #[test]
    fn encodes_pretty_sorted_with_a_trailing_newline() {
        let mut state = sample();
        state.resources.reverse();
        insta::assert_snapshot!(text(&encode(&state).unwrap()), @r#"
        {
          "version": 1,
          "serial": 3,
          "lineage": "7d3c1a52-0000-4000-8000-000000000000",
          "stack": "shop",
          "aksform_version": "0.1.0",
          "resources": [
            {
              "address": "resource_group.shop",
              "attributes": {}
            },
            {
              "address": "vnet.shop",
              "provider_id": "/subscriptions/0000/resourceGroups/shop/providers/Microsoft.Network/virtualNetworks/shop",
              "attributes": {
                "address_space": [
                  "10.0.0.0/16"
                ],
                "location": "westeurope"
              },
              "dependencies": [
                "resource_group.shop"
              ]
            },
            {
              "address": "vnet.shop.subnet.nodes",
              "attributes": {
                "cidr": "10.0.1.0/24",
                "delegated": false,
                "gateway": null,
                "port": 443,
                "tags": {
                  "team": "web"
                }
              }
            }
          ]
        }
        "#);
        assert!(encode(&state).unwrap().ends_with(b"}\n"));
    }

    #[test]
    fn decoding_sorts_resources() {
        let mut state = sample();
        state.resources.reverse();
        let bytes = serde_json::to_vec(&state).unwrap();
        assert_eq!(decode(&bytes, "s.json").unwrap(), sample());
    }

    #[test]
    fn corrupt_json_names_the_place() {
        let error = decode(b"{\n  \"version\": 1,\n  \"serial\": ,\n}", "state/shop.json").unwrap_err();
        insta::assert_snapshot!(error, @"state/shop.json cannot be read: expected value at line 3, column 13. The file was left untouched; there is no previous version to restore, so fix it by hand");
    }

    #[test]
    fn unknown_fields_are_refused_not_dropped() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["resources"][1]["owner"] = "team-web".into();
        let error = decode(&serde_json::to_vec_pretty(&value).unwrap(), "s.json").unwrap_err();
        assert!(error.to_string().contains("unknown field `owner`"), "{error}");
        let mut value = serde_json::to_value(sample()).unwrap();
        value["outputs"] = serde_json::json!({});
        let error = decode(&serde_json::to_vec(&value).unwrap(), "s.json").unwrap_err();
        assert!(error.to_string().contains("unknown field `outputs`"), "{error}");
    }

    #[test]
    fn newer_formats_are_recognised_even_with_fields_this_build_does_not_know() {
        let error = decode(br#"{"version": 2, "serial": 1, "checks": []}"#, "state/shop.json").unwrap_err();
        insta::assert_snapshot!(error, @"state/shop.json was written by a newer aksform (format 2); this build reads format 1: upgrade aksform. The file was left untouched");
    }

    #[test]
    fn format_zero_and_a_missing_version_are_refused() {
        let error = decode(br#"{"version": 0}"#, "s.json").unwrap_err();
        assert!(matches!(error, StateError::UnknownFormat { found: 0, .. }), "{error}");
        let error = decode(br#"{"serial": 1}"#, "s.json").unwrap_err();
        assert!(error.to_string().contains("missing field `version`"), "{error}");
    }

    #[test]
    fn only_values_aksform_can_hold_are_accepted() {
        let with_value = |value: &str| {
            let document = format!(
                r#"{{"version": 1, "serial": 1, "lineage": "l", "stack": "s", "aksform_version": "0.1.0",
                    "resources": [{{"address": "dns_zone.\"example.com\"", "attributes": {{"v": {value}}}}}]}}"#
            );
            decode(document.as_bytes(), "s.json")
        };
        for accepted in ["null", "true", "-9223372036854775808", "\"x\"", "[1, [\"a\"]]", "{\"k\": {}}"] {
            let state = with_value(accepted).unwrap();
            assert_eq!(state.resources[0].address.to_string(), "dns_zone.\"example.com\"");
            assert_eq!(decode(&encode(&state).unwrap(), "s.json").unwrap(), state);
        }
        for refused in ["1.5", "1e2", "9223372036854775808"] {
            assert!(matches!(with_value(refused), Err(StateError::Corrupt { .. })), "{refused}");
        }
    }

    /// The first JSON block of a document page.
    fn first_json_block(page: &str) -> &str {
        let start = page.find("```json\n").unwrap() + "```json\n".len();
        let length = page[start..].find("```").unwrap();
        &page[start..start + length]
    }

    #[test]
    fn documented_examples_are_valid_and_in_written_form() {
        for page in [include_str!("../../docs/state-format.md"), include_str!("../../examples/shop/state/README.md")] {
            let example = first_json_block(page);
            let state = decode(example.as_bytes(), "example").unwrap();
            assert_eq!(text(&encode(&state).unwrap()), example);
        }
    }

    #[test]
    fn duplicate_addresses_are_refused_both_ways() {
        let mut state = sample();
        state.resources.push(state.resources[0].clone());
        assert!(matches!(encode(&state), Err(StateError::DuplicateToWrite { .. })));
        let bytes = serde_json::to_vec(&state).unwrap();
        assert!(matches!(decode(&bytes, "s.json"), Err(StateError::DuplicateInFile { .. })));
    }

    #[test]
    fn unknown_values_are_never_recorded() {
        let mut state = sample();
        state.resources[0].attributes.insert("ip".into(), Value::Unknown);
        let error = encode(&state).unwrap_err();
        assert_eq!(
            error.to_string(),
            "refusing to record resource_group.shop.ip: its value is not known yet (a bug in aksform: please report it)"
        );
    }
}
