//! Attribute values as the state records them and the plan compares them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::address::Address;

/// A field value of a resource, in aksform's own normalized form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(untagged)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// An attribute of another resource, resolved by the planner from the state or left
    /// unknown until that resource is applied. Never written to the state.
    #[serde(skip)]
    Ref(AttributeRef),
    /// Known only after apply.
    #[serde(skip)]
    Unknown,
}

/// `public_ip.web.address`: an attribute of a resource that is known after it is applied.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttributeRef {
    pub address: Address,
    pub attribute: String,
}

impl fmt::Display for AttributeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.address, self.attribute)
    }
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    pub fn opt_str(s: Option<impl Into<String>>) -> Value {
        s.map_or(Value::Null, |s| Value::Str(s.into()))
    }

    pub fn list<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }

    pub fn map<K: Into<String>, V: Into<Value>>(entries: impl IntoIterator<Item = (K, V)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// True when the value (or any part of it) is not yet known.
    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Unknown | Value::Ref(_) => true,
            Value::List(items) => items.iter().any(Value::is_unknown),
            Value::Map(map) => map.values().any(Value::is_unknown),
            _ => false,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// Replaces every reference with what `resolve` gives for it.
    pub fn resolve(&self, resolve: &mut dyn FnMut(&AttributeRef) -> Value) -> Value {
        match self {
            Value::Ref(r) => resolve(r),
            Value::List(items) => Value::List(items.iter().map(|v| v.resolve(resolve)).collect()),
            Value::Map(map) => Value::Map(map.iter().map(|(k, v)| (k.clone(), v.resolve(resolve))).collect()),
            other => other.clone(),
        }
    }

    /// Every reference inside the value.
    pub fn refs(&self, out: &mut Vec<AttributeRef>) {
        match self {
            Value::Ref(r) => out.push(r.clone()),
            Value::List(items) => items.iter().for_each(|v| v.refs(out)),
            Value::Map(map) => map.values().for_each(|v| v.refs(out)),
            _ => {}
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<u16> for Value {
    fn from(i: u16) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl fmt::Display for Value {
    /// A compact rendering for plans: strings quoted, lists in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                f.write_str("}")
            }
            Value::Ref(r) => write!(f, "{r}"),
            Value::Unknown => f.write_str("(known after apply)"),
        }
    }
}
