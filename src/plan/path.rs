//! Paths to a field or a part of one (`labels.team`, `ports[0]`), as plans name changes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::Address;

/// One step into a value: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

/// A top-level attribute followed by map keys or list indices. Serialized as an array
/// (`["labels", "app.kubernetes.io/name"]`) so that keys with dots stay unambiguous.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct FieldPath(pub Vec<PathSegment>);

impl FieldPath {
    pub fn attribute(name: impl Into<String>) -> FieldPath {
        FieldPath(vec![PathSegment::Key(name.into())])
    }

    pub fn key(&self, key: impl Into<String>) -> FieldPath {
        let mut path = self.clone();
        path.0.push(PathSegment::Key(key.into()));
        path
    }

    pub fn index(&self, index: usize) -> FieldPath {
        let mut path = self.clone();
        path.0.push(PathSegment::Index(index));
        path
    }

    /// The top-level attribute the path starts at.
    pub fn top(&self) -> Option<&str> {
        match self.0.first() {
            Some(PathSegment::Key(key)) => Some(key),
            _ => None,
        }
    }

    /// The rest of `self` after `prefix`, if `prefix` is a prefix of it.
    pub fn strip_prefix(&self, prefix: &FieldPath) -> Option<&[PathSegment]> {
        self.0.strip_prefix(prefix.0.as_slice())
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Index(index) => write!(f, "[{index}]")?,
                PathSegment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_plain_key(key) {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// `a → b → c` for messages.
pub(crate) fn arrow_list(addresses: &[Address]) -> String {
    addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join(" → ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_keys_that_are_not_plain() {
        let path = FieldPath::attribute("labels").key("app.kubernetes.io/name");
        assert_eq!(path.to_string(), "labels.\"app.kubernetes.io/name\"");
        assert_eq!(FieldPath::attribute("ports").index(0).key("port").to_string(), "ports[0].port");
    }

    #[test]
    fn paths_serialize_as_arrays() {
        let path = FieldPath::attribute("ports").index(1);
        let json = serde_json::to_string(&path).unwrap();
        assert_eq!(json, r#"["ports",1]"#);
        assert_eq!(serde_json::from_str::<FieldPath>(&json).unwrap(), path);
    }
}
