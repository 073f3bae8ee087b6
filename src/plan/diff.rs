//! Field-level comparison of desired attributes with recorded ones: which fields differ, down
//! to map keys, and which of those differences force a replacement.

use std::collections::{BTreeMap, BTreeSet};

use super::replace::{self, Attributes};
use super::{FieldChange, FieldPath};
use crate::model::{Kind, Value};

/// Null, an empty list and an empty map all mean "not set": Azure returns `null` for what
/// was sent as `[]`, and the other way round, so telling them apart would show perpetual diffs.
fn is_unset(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::List(items) => items.is_empty(),
        Value::Map(map) => map.is_empty(),
        _ => false,
    }
}

/// True when applying `after` over `before` changes nothing. A value not known yet could
/// differ from anything, so it never matches.
pub fn same(before: &Value, after: &Value) -> bool {
    !after.is_unknown() && (before == after || (is_unset(before) && is_unset(after)))
}

/// A map, or null as an empty map, so that adding a map shows its keys.
fn as_map<'a>(value: &'a Value, empty: &'a BTreeMap<String, Value>) -> Option<&'a BTreeMap<String, Value>> {
    match value {
        Value::Map(map) => Some(map),
        Value::Null => Some(empty),
        _ => None,
    }
}

/// Pushes the changes from `before` to `after` at `path`: one per differing key when both
/// sides are maps (or unset), one per differing element when both are lists of maps of one
/// length (`ports[0].port`), one for the whole value otherwise.
fn push_changes(path: FieldPath, before: &Value, after: &Value, reason: Option<&str>, out: &mut Vec<FieldChange>) {
    if same(before, after) {
        return;
    }
    let empty = BTreeMap::new();
    if let (Some(old), Some(new)) = (as_map(before, &empty), as_map(after, &empty))
        && (matches!(before, Value::Map(_)) || matches!(after, Value::Map(_)))
    {
        // Keys in order; a side that is empty (a map being added or removed) is skipped.
        let keys: Vec<&String> = match (old.is_empty(), new.is_empty()) {
            (true, _) => new.keys().collect(),
            (_, true) => old.keys().collect(),
            _ => old.keys().chain(new.keys()).collect::<BTreeSet<_>>().into_iter().collect(),
        };
        for key in keys {
            let old_value = old.get(key).unwrap_or(&Value::Null);
            let new_value = new.get(key).unwrap_or(&Value::Null);
            push_changes(path.key(key), old_value, new_value, reason, out);
        }
        return;
    }
    if let (Value::List(old), Value::List(new)) = (before, after)
        && old.len() == new.len()
        && old.iter().chain(new).any(|v| matches!(v, Value::Map(_)))
    {
        for (index, (old_value, new_value)) in old.iter().zip(new).enumerate() {
            push_changes(path.index(index), old_value, new_value, reason, out);
        }
        return;
    }
    out.push(FieldChange {
        path,
        before: before.clone(),
        after: after.clone(),
        replace_reason: reason.map(str::to_string),
    });
}

/// The changes that turn `recorded` into `desired` (whose references are already resolved,
/// unknown ones to [`Value::Unknown`]). Computed fields are set by the cloud and never differ.
pub fn compare(kind: Kind, recorded: &Attributes, desired: &Attributes, computed: &[&str]) -> Vec<FieldChange> {
    let names: BTreeSet<&String> = recorded.keys().chain(desired.keys()).collect();
    let mut changes = Vec::new();
    for name in names {
        if computed.contains(&name.as_str()) {
            continue;
        }
        let before = recorded.get(name).unwrap_or(&Value::Null);
        let after = desired.get(name).unwrap_or(&Value::Null);
        if same(before, after) {
            continue;
        }
        let reason = replace::replace_reason(kind, name, recorded, desired);
        push_changes(FieldPath::attribute(name), before, after, reason, &mut changes);
    }
    changes
}

/// Every field a new resource gets, with computed ones as known after apply.
pub fn creation(desired: &Attributes, computed: &[&str]) -> Vec<FieldChange> {
    let mut names: Vec<&str> = desired.keys().map(String::as_str).chain(computed.iter().copied()).collect();
    names.sort_unstable();
    names.dedup();
    let mut changes = Vec::with_capacity(names.len());
    for name in names {
        let after = if computed.contains(&name) { &Value::Unknown } else { desired.get(name).unwrap_or(&Value::Null) };
        push_changes(FieldPath::attribute(name), &Value::Null, after, None, &mut changes);
    }
    changes
}

/// Every recorded field of a resource being deleted.
pub fn deletion(recorded: &Attributes) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    for (name, before) in recorded {
        push_changes(FieldPath::attribute(name), before, &Value::Null, None, &mut changes);
    }
    changes
}

/// Computed fields of a replaced resource: the recorded values go, new ones come after apply.
pub fn recomputed(recorded: &Attributes, computed: &[&str]) -> Vec<FieldChange> {
    computed
        .iter()
        .map(|name| FieldChange {
            path: FieldPath::attribute(*name),
            before: recorded.get(*name).cloned().unwrap_or_default(),
            after: Value::Unknown,
            replace_reason: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, Value)]) -> Attributes {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn equal_attributes_have_no_changes() {
        let a = attrs(&[("count", Value::Int(3)), ("vm_size", Value::str("Standard_D4s_v5"))]);
        assert!(compare(Kind::NodePool, &a, &a, &[]).is_empty());
    }

    #[test]
    fn null_desired_matches_an_absent_or_empty_recorded_value() {
        let recorded = attrs(&[("zones", Value::List(vec![])), ("labels", Value::Map(BTreeMap::new()))]);
        let desired = attrs(&[("zones", Value::Null), ("taints", Value::Null)]);
        assert!(compare(Kind::NodePool, &recorded, &desired, &[]).is_empty());
    }

    #[test]
    fn lists_of_maps_change_element_by_element() {
        let port = |p: i64| Value::map([("name", Value::str("redis")), ("port", Value::Int(p))]);
        let recorded = attrs(&[("ports", Value::List(vec![port(6380)]))]);
        let desired = attrs(&[("ports", Value::List(vec![port(6379)]))]);
        let changes = compare(Kind::Service, &recorded, &desired, &[]);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path.to_string(), "ports[0].port");
        assert_eq!((changes[0].before.clone(), changes[0].after.clone()), (Value::Int(6380), Value::Int(6379)));
    }

    #[test]
    fn maps_change_key_by_key() {
        let recorded = attrs(&[("labels", Value::map([("team", "web"), ("tier", "front")]))]);
        let desired = attrs(&[("labels", Value::map([("team", "shop"), ("env", "prod")]))]);
        let changes = compare(Kind::NodePool, &recorded, &desired, &[]);
        let shown: Vec<String> = changes.iter().map(|c| format!("{}: {} → {}", c.path, c.before, c.after)).collect();
        assert_eq!(
            shown,
            ["labels.env: null → \"prod\"", "labels.team: \"web\" → \"shop\"", "labels.tier: \"front\" → null"]
        );
    }

    #[test]
    fn lists_change_whole() {
        let recorded = attrs(&[("address_space", Value::list(["10.0.0.0/16"]))]);
        let desired = attrs(&[("address_space", Value::list(["10.0.0.0/16", "10.1.0.0/16"]))]);
        let changes = compare(Kind::Vnet, &recorded, &desired, &[]);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path.to_string(), "address_space");
        assert_eq!(changes[0].replace_reason, None);
    }

    #[test]
    fn computed_fields_never_differ() {
        let recorded = attrs(&[("address", Value::str("20.1.2.3")), ("sku", Value::str("Standard"))]);
        let desired = attrs(&[("sku", Value::str("Standard"))]);
        assert!(compare(Kind::PublicIp, &recorded, &desired, &["address"]).is_empty());
    }

    #[test]
    fn unknown_desired_values_are_changes() {
        let recorded = attrs(&[("records", Value::list(["20.1.2.3"]))]);
        let desired = attrs(&[("records", Value::List(vec![Value::Unknown]))]);
        let changes = compare(Kind::DnsRecord, &recorded, &desired, &[]);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].after.to_string(), "[(known after apply)]");
    }

    #[test]
    fn forcing_fields_carry_their_reason() {
        let recorded = attrs(&[("max_pods", Value::Int(30)), ("count", Value::Int(3))]);
        let desired = attrs(&[("max_pods", Value::Int(50)), ("count", Value::Int(5))]);
        let changes = compare(Kind::NodePool, &recorded, &desired, &[]);
        assert_eq!(changes[0].path.to_string(), "count");
        assert_eq!(changes[0].replace_reason, None);
        assert_eq!(changes[1].replace_reason.as_deref(), Some("maxPods is fixed when a node pool is created"));
    }

    #[test]
    fn creation_lists_set_fields_and_computed_ones() {
        let desired = attrs(&[("name", Value::str("web")), ("dns_label", Value::Null)]);
        let changes = creation(&desired, &["address"]);
        let shown: Vec<String> = changes.iter().map(|c| format!("{}: {}", c.path, c.after)).collect();
        assert_eq!(shown, ["address: (known after apply)", "name: \"web\""]);
    }
}
