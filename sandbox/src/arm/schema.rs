//! Request-body checking as the resource providers do it: every member must be one the type
//! defines (`InvalidRequestContent` otherwise), read-only members may not be sent
//! (`ReadOnlyPropertyNotAllowed`), and member names match case-insensitively and are stored in
//! the casing the API defines.
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

    /// Checks `body` and returns it with member names in their canonical casing.
    pub fn check(&self, body: &Value) -> Result<Value, ArmError> {
        check_value(self.type_name, &self.root, body, "")
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

fn check_value(type_name: &str, node: &Node, value: &Value, path: &str) -> Result<Value, ArmError> {
    if node.read_only && !path.is_empty() {
        return Err(ArmError::bad_request(
            "ReadOnlyPropertyNotAllowed",
            format!("The property '{path}' of '{type_name}' is read-only and is set by the service; remove it from the request body."),
        )
        .with_target(path));
    }
    if node.free {
        return Ok(value.clone());
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
                out.insert(name, check_value(type_name, child, member, &child_path)?);
            }
            Ok(Value::Object(out))
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
                out.push(check_value(type_name, item_node, item, &format!("{path}[{index}]"))?);
            }
            Ok(Value::Array(out))
        }
        Value::Null => Ok(Value::Null),
        scalar => {
            if !node.members.is_empty() || node.any_member.is_some() {
                return Err(wrong_type(type_name, path, "an object", &describe(scalar)));
            }
            if node.items.is_some() {
                return Err(wrong_type(type_name, path, "an array", &describe(scalar)));
            }
            Ok(scalar.clone())
        }
    }
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
        let checked = schema().check(&body).unwrap();
        assert_eq!(
            checked,
            json!({"location": "eastus", "tags": {"Env": "x"}, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "extra": {"any": [1]}}})
        );
    }

    #[test]
    fn unknown_members_are_named_with_their_path() {
        let error = schema().check(&json!({"properties": {"addresSpace": {}}})).unwrap_err();
        assert_eq!(error.code, "InvalidRequestContent");
        assert_eq!(error.target.as_deref(), Some("properties.addresSpace"));
        assert!(error.message.contains("'addresSpace'"), "{}", error.message);
    }

    #[test]
    fn read_only_members_are_refused() {
        let error = schema().check(&json!({"properties": {"provisioningState": "Succeeded"}})).unwrap_err();
        assert_eq!(error.code, "ReadOnlyPropertyNotAllowed");
        assert_eq!(error.target.as_deref(), Some("properties.provisioningState"));
        assert_eq!(schema().check(&json!({"id": "/x"})).unwrap_err().code, "ReadOnlyPropertyNotAllowed");
    }

    #[test]
    fn shapes_are_checked() {
        let error =
            schema().check(&json!({"properties": {"addressSpace": {"addressPrefixes": "10.0.0.0/16"}}})).unwrap_err();
        assert_eq!(error.code, "InvalidRequestContent");
        assert_eq!(error.target.as_deref(), Some("properties.addressSpace.addressPrefixes"));
    }
}
