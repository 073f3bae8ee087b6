//! Properties of the local state loader: whatever bytes are in a state file, loading
//! never panics and never changes the file, and whatever it accepts survives a rewrite.

use std::fs;
use std::path::Path;

use aksform::model::{Address, Value};
use aksform::state::{Backend, LocalBackend, ResourceState, State, document};
use proptest::prelude::*;

/// A valid state document, as a starting point for damage.
fn valid_document() -> Vec<u8> {
    let mut state = State::new("shop");
    state.serial = 4;
    let vnet: Address = "vnet.shop".parse().unwrap();
    let mut resource = ResourceState::new(vnet.clone());
    resource.provider_id =
        Some("/subscriptions/0000/resourceGroups/shop/providers/Microsoft.Network/virtualNetworks/shop".into());
    resource.attributes.insert("address_space".into(), Value::list(["10.0.0.0/16"]));
    resource.attributes.insert("tags".into(), Value::map([("team", Value::str("web")), ("tier", Value::Int(1))]));
    state.upsert(resource);
    let mut subnet = ResourceState::new(vnet.child(aksform::model::Kind::Subnet, "nodes"));
    subnet.attributes.insert("private".into(), Value::Bool(true));
    subnet.attributes.insert("gateway".into(), Value::Null);
    subnet.dependencies.push(vnet);
    state.upsert(subnet);
    document::encode(&state).unwrap()
}

#[derive(Debug, Clone)]
enum Damage {
    Replace(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Truncate(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Damage::Replace(at, byte)),
        (any::<usize>(), 1usize..16).prop_map(|(at, len)| Damage::Delete(at, len)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(at, bytes)| Damage::Insert(at, bytes)),
        // JSON's own punctuation and keywords do the most interesting damage.
        (
            any::<usize>(),
            prop::sample::select(vec![
                "{",
                "}",
                "[",
                "]",
                ",",
                ":",
                "\"",
                "null",
                "2",
                "-1",
                "1e999",
                "\\u0000",
                "\"x\": 1,"
            ])
        )
            .prop_map(|(at, text)| Damage::Insert(at, text.as_bytes().to_vec())),
        any::<usize>().prop_map(Damage::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, damage: &Damage) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
    match damage {
        Damage::Replace(i, byte) => {
            if !bytes.is_empty() {
                let i = i % bytes.len();
                bytes[i] = *byte;
            }
        }
        Damage::Delete(i, len) => {
            let start = at(*i, bytes.len());
            let end = (start + len).min(bytes.len());
            bytes.drain(start..end);
        }
        Damage::Insert(i, inserted) => {
            let start = at(*i, bytes.len());
            bytes.splice(start..start, inserted.iter().copied());
        }
        Damage::Truncate(i) => bytes.truncate(at(*i, bytes.len())),
    }
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Loads `bytes` from a state file and checks the properties.
fn load_and_check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.json");
    fs::write(&path, bytes).unwrap();
    let backend = LocalBackend::new(&path);

    let loaded = backend.read();

    prop_assert_eq!(fs::read(&path).unwrap(), bytes, "loading changed the file");
    prop_assert_eq!(file_names(dir.path()), ["shop.json"], "loading created files");
    if let Ok(Some(state)) = loaded {
        // Whatever was accepted is written back whole: nothing in it was ignored.
        let rewritten = document::encode(&state).unwrap();
        prop_assert_eq!(document::decode(&rewritten, "rewritten").unwrap(), state);
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_loader_or_change_the_file(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        load_and_check(&bytes)?;
    }

    #[test]
    fn damaged_state_files_never_panic_the_loader_or_change_the_file(damages in prop::collection::vec(damage(), 1..4)) {
        let mut bytes = valid_document();
        for damage in &damages {
            apply(&mut bytes, damage);
        }
        load_and_check(&bytes)?;
    }

    #[test]
    fn json_shaped_text_never_panics_the_loader_or_changes_the_file(text in r#"[{}\[\]":,0-9a-z_. \n-]{0,200}"#) {
        load_and_check(text.as_bytes())?;
    }
}

#[test]
fn the_undamaged_document_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.json");
    fs::write(&path, valid_document()).unwrap();
    let state = LocalBackend::new(&path).read().unwrap().unwrap();
    assert_eq!(state.resources.len(), 2);
}
