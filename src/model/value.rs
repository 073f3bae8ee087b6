//! Attribute values as the state records them and the plan compares them.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::address::Address;

/// A field value of a resource, in aksform's own normalized form.
///
/// Written untagged (`null`, `true`, `3`, `"a"`, `[...]`, `{...}`); read back by a visitor
/// rather than serde's untagged matching, which buffers every value and tries each variant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
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
    /// unknown until that resource is applied. Never written to the state. Boxed, as it is
    /// rare and several times the size of the other variants.
    #[serde(skip)]
    Ref(Box<AttributeRef>),
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

    /// The value in a one-line summary: strings without quotes, lists joined by commas.
    pub fn plain(&self) -> String {
        match self {
            Value::Str(text) => text.clone(),
            Value::Ref(_) => Value::Unknown.to_string(),
            Value::List(items) => items.iter().map(Value::plain).collect::<Vec<_>>().join(", "),
            other => other.to_string(),
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
        self.for_each_ref(&mut |r| out.push(r.clone()));
    }

    /// Calls `f` with every reference inside the value.
    pub fn for_each_ref<'a>(&'a self, f: &mut impl FnMut(&'a AttributeRef)) {
        match self {
            Value::Ref(r) => f(r),
            Value::List(items) => items.iter().for_each(|v| v.for_each_ref(f)),
            Value::Map(map) => map.values().for_each(|v| v.for_each_ref(f)),
            _ => {}
        }
    }

    /// True when the value holds a reference somewhere inside.
    pub fn has_refs(&self) -> bool {
        match self {
            Value::Ref(_) => true,
            Value::List(items) => items.iter().any(Value::has_refs),
            Value::Map(map) => map.values().any(Value::has_refs),
            _ => false,
        }
    }
}

/// The message serde's untagged matching gives for a value no variant holds, kept so that
/// errors in state and plan files read as they always have.
const NOT_A_VALUE: &str = "data did not match any variant of untagged enum Value";

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Raised here, after the whole value is read, so that the error carries the position
        // of the value's end, as with untagged matching.
        Loose::deserialize(deserializer)?.0.ok_or_else(|| de::Error::custom(NOT_A_VALUE))
    }
}

/// A JSON value read whole, or `None` when it holds something a [`Value`] cannot (a
/// fraction, an integer beyond `i64`), anywhere inside.
struct Loose(Option<Value>);

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LooseVisitor).map(Loose)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null, a boolean, an integer, a string, a list or a map")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Some(Value::Null))
    }

    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Some(Value::Bool(b)))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
        Ok(Some(Value::Int(i)))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(u).ok().map(Value::Int))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(Value::Str(s.to_string())))
    }

    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Some(Value::Str(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(Loose(item)) = seq.next_element()? {
            match item {
                Some(item) => items.push(item),
                None => return rest_of_seq(seq),
            }
        }
        Ok(Some(Value::List(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some((key, Loose(value))) = map.next_entry::<String, Loose>()? {
            match value {
                Some(value) => entries.insert(key, value),
                None => return rest_of_map(map),
            };
        }
        Ok(Some(Value::Map(entries)))
    }
}

/// Reads what is left of a list already known not to be a [`Value`]: a syntax error further
/// on is still reported first.
fn rest_of_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Value>, A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(None)
}

fn rest_of_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Value>, A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(None)
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
