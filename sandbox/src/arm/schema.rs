//! Request-body checking as the resource providers do it: every member must be one the type
//! defines (`InvalidRequestContent` otherwise); a read-only member is ignored when it is null or
//! equals the resource's current value (what a GET shows, so that a client may PUT back what it
//! read) and refused otherwise (`ReadOnlyPropertyNotAllowed`), as ARM's RPC has it; member names
//! match case-insensitively and are stored in the casing the API defines.
//!
//! A schema is written as property paths: `properties.addressSpace.addressPrefixes[]` (`[]` = array
//! items), `tags.*` (`*` = any key), a trailing `~` accepts any value below the path, and a
//! trailing `!` marks the path read-only.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::errors::ArmError;

#[derive(Debug, Default)]
struct Node {
    /// Keyed by the lowercased member name; holds the canonical name.
    members: BTreeMap<String, (String, Node)>,
    any_member: Option<Box<Node>>,
    items: Option<Box<Node>>,
    read_only: bool,
    free: bool,
}

/// The members one request body may carry.
#[derive(Debug)]
pub struct Schema {
    type_name: &'static str,
    root: Node,
}

impl Schema {
    /// Builds a schema from property paths (see the module documentation).
    pub fn new(type_name: &'static str, paths: &[&str]) -> Schema {
        let mut root = Node::default();
        for path in paths {
            let (path, read_only) = match path.strip_suffix('!') {
                Some(path) => (path, true),
                None => (*path, false),
            };
            let (path, free) = match path.strip_suffix('~') {
                Some(path) => (path, true),
                None => (path, false),
            };
            let mut node = &mut root;
            for segment in path.split('.') {
                let (name, arrays) = strip_arrays(segment);
                node = if name == "*" {
                    node.any_member.get_or_insert_with(Default::default)
                } else {
                    &mut node
                        .members
                        .entry(name.to_ascii_lowercase())
                        .or_insert_with(|| (name.to_string(), Node::default()))
                        .1
                };
                for _ in 0..arrays {
                    node = node.items.get_or_insert_with(Default::default);
                }
            }
            node.read_only |= read_only;
            node.free |= free;
        }
        Schema { type_name, root }
    }

    /// Checks `body` against the resource as a GET shows it now (`current`; for a new resource
    /// its id, name and type) and returns it with member names in their canonical casing and
    /// without its read-only members.
    pub fn check(&self, body: &Value, current: &Value) -> Result<Value, ArmError> {
        Ok(check_value(self.type_name, &self.root, body, "", Some(current))?.unwrap_or(Value::Null))
    }
}

fn strip_arrays(segment: &str) -> (&str, usize) {
    let mut name = segment;
    let mut arrays = 0;
    while let Some(stripped) = name.strip_suffix("[]") {
        name = stripped;
        arrays += 1;
    }
    (name, arrays)
}

/// The checked value, or `None` for a read-only member to leave out.
fn check_value(
    type_name: &str,
    node: &Node,
    value: &Value,
    path: &str,
    current: Option<&Value>,
) -> Result<Option<Value>, ArmError> {
    if node.read_only && !path.is_empty() {
        if value.is_null() || current.is_some_and(|current| equivalent(current, value)) {
            return Ok(None);
        }
        return Err(read_only(type_name, path, value, current));
    }
    if node.free {
        return Ok(Some(value.clone()));
    }
    match value {
        Value::Object(members) => {
            let mut out = Map::new();
            for (key, member) in members {
                let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                let (name, child) = match node.members.get(&key.to_ascii_lowercase()) {
                    Some((name, child)) => (name.clone(), child),
                    None => match &node.any_member {
                        Some(child) => (key.clone(), child.as_ref()),
                        None => return Err(unknown_member(type_name, key, &child_path)),
                    },
                };
                let current_member = current.and_then(|current| member_of(current, &name));
                if let Some(checked) = check_value(type_name, child, member, &child_path, current_member)? {
                    out.insert(name, checked);
                }
            }
            Ok(Some(Value::Object(out)))
        }
        Value::Array(items) => {
            let Some(item_node) = &node.items else {
                if node.members.is_empty() && node.any_member.is_none() {
                    return Err(wrong_type(type_name, path, "a single value", "an array"));
                }
                return Err(wrong_type(type_name, path, "an object", "an array"));
            };
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let current_item = current.and_then(|current| item_of(current, item, index));
                let item_path = format!("{path}[{index}]");
                out.extend(check_value(type_name, item_node, item, &item_path, current_item)?);
            }
            Ok(Some(Value::Array(out)))
        }
        Value::Null => Ok(Some(Value::Null)),
        scalar => {
            if !node.members.is_empty() || node.any_member.is_some() {
                return Err(wrong_type(type_name, path, "an object", &describe(scalar)));
            }
            if node.items.is_some() {
                return Err(wrong_type(type_name, path, "an array", &describe(scalar)));
            }
            Ok(Some(scalar.clone()))
        }
    }
}

/// A member of the current value, by name in any casing.
fn member_of<'a>(current: &'a Value, name: &str) -> Option<&'a Value> {
    current.as_object().and_then(|members| member(members, name))
}

fn member<'a>(members: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    members.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
}

/// The current counterpart of an array item: the item of the same `name` (subnets, routes,
/// rules, pools have one), else the one at the same index.
fn item_of<'a>(current: &'a Value, item: &Value, index: usize) -> Option<&'a Value> {
    let items = current.as_array()?;
    let name_of = |value: &Value| member_of(value, "name").and_then(Value::as_str).map(str::to_ascii_lowercase);
    match name_of(item) {
        Some(name) => items.iter().find(|candidate| name_of(candidate).as_deref() == Some(name.as_str())),
        None => items.get(index),
    }
}

/// The same value, as the providers compare them: strings and member names in any casing.
fn equivalent(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| equivalent(a, b)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter().all(|(key, value)| member(b, key).is_some_and(|other| equivalent(value, other)))
        }
        _ => a == b,
    }
}

/// A read-only member sent with another value than the resource has (or for a resource that
/// has none yet).
fn read_only(type_name: &str, path: &str, value: &Value, current: Option<&Value>) -> ArmError {
    let now = match current {
        Some(current) => format!("its current value is {current}"),
        None => "the resource has no value for it".to_string(),
    };
    ArmError::bad_request(
        "ReadOnlyPropertyNotAllowed",
        format!("The property '{path}' of '{type_name}' is read-only and is set by the service: the request gives {value}, but {now}. Remove it from the request body or send the current value."),
    )
    .with_target(path)
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(text) => format!("the string {text:?}"),
        other => format!("the value {other}"),
    }
}

/// ARM's deserializer message for a member the type does not define.
fn unknown_member(type_name: &str, member: &str, path: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: 'Could not find member '{member}' on object of type '{type_name}'. Path '{path}'.'."),
    )
    .with_target(path)
}

fn wrong_type(type_name: &str, path: &str, expected: &str, found: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: 'Error converting {found} at path '{path}' of '{type_name}': expected {expected}.'."),
    )
    .with_target(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        Schema::new(
            "VirtualNetwork",
            &[
                "location",
                "tags.*",
                "id!",
                "properties.addressSpace.addressPrefixes[]",
                "properties.provisioningState!",
                "properties.extra~",
            ],
        )
    }

    #[test]
    fn known_members_pass_and_take_the_canonical_casing() {
        let body = json!({"Location": "eastus", "tags": {"Env": "x"}, "properties": {"AddressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "extra": {"any": [1]}}});
        let checked = schema().check(&body, &json!({})).unwrap();
        assert_eq!(
            checked,
            json!({"location": "eastus", "tags": {"Env": "x"}, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "extra": {"any": [1]}}})
        );
    }

    #[test]
    fn unknown_members_are_named_with_their_path() {
        let error = schema().check(&json!({"properties": {"addresSpace": {}}}), &json!({})).unwrap_err();
        assert_eq!(error.code, "InvalidRequestContent");
        assert_eq!(error.target.as_deref(), Some("properties.addresSpace"));
        assert!(error.message.contains("'addresSpace'"), "{}", error.message);
    }

    #[test]
    fn read_only_members_with_another_value_are_refused() {
        let none = json!({});
        let error = schema().check(&json!({"properties": {"provisioningState": "Succeeded"}}), &none).unwrap_err();
        assert_eq!(error.code, "ReadOnlyPropertyNotAllowed");
        assert_eq!(error.target.as_deref(), Some("properties.provisioningState"));
        let current = json!({"id": "/v", "properties": {"provisioningState": "Succeeded"}});
        assert_eq!(schema().check(&json!({"id": "/x"}), &current).unwrap_err().code, "ReadOnlyPropertyNotAllowed");
        let changed = json!({"properties": {"provisioningState": "Failed"}});
        assert_eq!(
            schema().check(&changed, &current).unwrap_err().target.as_deref(),
            Some("properties.provisioningState")
        );
    }

    #[test]
    fn read_only_members_with_the_current_value_or_null_are_left_out() {
        let current = json!({"id": "/V", "properties": {"provisioningState": "Succeeded"}});
        let body = json!({"id": "/v", "location": "eastus", "properties": {"provisioningState": "succeeded"}});
        assert_eq!(schema().check(&body, &current).unwrap(), json!({"location": "eastus", "properties": {}}));
        assert_eq!(schema().check(&json!({"id": null}), &json!({})).unwrap(), json!({}));
    }

    #[test]
    fn array_items_are_compared_with_the_current_item_of_the_same_name() {
        let schema = Schema::new("VirtualNetwork", &["properties.subnets[].name", "properties.subnets[].etag!"]);
        let current = json!({"properties": {"subnets": [{"name": "a", "etag": "1"}, {"name": "b", "etag": "2"}]}});
        let reordered = json!({"properties": {"subnets": [{"name": "B", "etag": "2"}, {"name": "a", "etag": "1"}]}});
        assert_eq!(
            schema.check(&reordered, &current).unwrap(),
            json!({"properties": {"subnets": [{"name": "B"}, {"name": "a"}]}})
        );
        let stale = json!({"properties": {"subnets": [{"name": "a", "etag": "2"}]}});
        assert_eq!(schema.check(&stale, &current).unwrap_err().target.as_deref(), Some("properties.subnets[0].etag"));
    }

    #[test]
    fn shapes_are_checked() {
        let error = schema()
            .check(&json!({"properties": {"addressSpace": {"addressPrefixes": "10.0.0.0/16"}}}), &json!({}))
            .unwrap_err();
        assert_eq!(error.code, "InvalidRequestContent");
        assert_eq!(error.target.as_deref(), Some("properties.addressSpace.addressPrefixes"));
    }
}
