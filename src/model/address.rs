//! Resource kinds and addresses (`vnet.shop.subnet.nodes`): the names by which the plan,
//! the state and the user refer to a resource. Addresses are types, never bare strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use super::kinds::Kind;

/// `kind.name` or, for a child, `parent_kind.parent_name.kind.name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    pub parent: Option<(Kind, String)>,
    pub kind: Kind,
    pub name: String,
}

impl Address {
    pub fn new(kind: Kind, name: impl Into<String>) -> Self {
        Address { parent: None, kind, name: name.into() }
    }

    pub fn child(&self, kind: Kind, name: impl Into<String>) -> Self {
        Address { parent: Some((self.kind, self.name.clone())), kind, name: name.into() }
    }

    /// The address of the resource this child belongs to.
    pub fn parent_address(&self) -> Option<Address> {
        self.parent.as_ref().map(|(kind, name)| Address::new(*kind, name.clone()))
    }
}

fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.ends_with('-');
    if plain { f.write_str(name) } else { write!(f, "\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\"")) }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((kind, name)) = &self.parent {
            write!(f, "{kind}.")?;
            write_name(f, name)?;
            f.write_str(".")?;
        }
        write!(f, "{}.", self.kind)?;
        write_name(f, &self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a resource address: {reason}")]
pub struct AddressParseError {
    pub text: String,
    pub reason: String,
}

/// Splits `a."b.c".d` into its segments.
fn segments(text: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut segment = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => segment.push(chars.next()?),
                    c => segment.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                segment.push(c);
                chars.next();
            }
        }
        if segment.is_empty() {
            return None;
        }
        out.push(segment);
        match chars.next() {
            None => return Some(out),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}

impl FromStr for Address {
    type Err = AddressParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: &str| AddressParseError { text: text.to_string(), reason: reason.to_string() };
        let parts = segments(text).ok_or_else(|| error("expected `kind.name`"))?;
        let kind_of = |word: &str| {
            Kind::from_keyword(word).ok_or_else(|| {
                let known: Vec<&str> = Kind::ALL.iter().map(|k| k.keyword()).collect();
                error(&format!("unknown kind `{word}` (kinds: {})", known.join(", ")))
            })
        };
        match parts.as_slice() {
            [kind, name] => {
                let kind = kind_of(kind)?;
                if !kind.is_top_level() {
                    return Err(error(&format!(
                        "a {kind} lives inside a {}",
                        kind.parent().map_or("", |p| p.keyword())
                    )));
                }
                Ok(Address::new(kind, name.clone()))
            }
            [parent_kind, parent_name, kind, name] => {
                let parent_kind = kind_of(parent_kind)?;
                let kind = kind_of(kind)?;
                if kind.parent() != Some(parent_kind) {
                    return Err(error(&format!("a {parent_kind} has no {kind}")));
                }
                Ok(Address::new(parent_kind, parent_name.clone()).child(kind, name.clone()))
            }
            _ => Err(error("expected `kind.name` or `kind.name.child_kind.child_name`")),
        }
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The parse error is raised once the string is read, where it always was raised.
        deserializer.deserialize_str(AddressVisitor)?.map_err(serde::de::Error::custom)
    }
}

/// Parses the text where it lies in the input, without copying it first.
struct AddressVisitor;

impl serde::de::Visitor<'_> for AddressVisitor {
    type Value = Result<Address, AddressParseError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(text.parse())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_text() {
        for text in ["vnet.shop", "vnet.shop.subnet.nodes", "dns_zone.\"example.com\"", "cluster.a.node_pool.apps"] {
            let address: Address = text.parse().unwrap();
            assert_eq!(address.to_string(), text);
        }
    }

    #[test]
    fn bad_addresses_say_why() {
        assert!("vnet".parse::<Address>().is_err());
        assert!("subnet.x".parse::<Address>().unwrap_err().reason.contains("inside a vnet"));
        assert!("cluster.a.subnet.b".parse::<Address>().unwrap_err().reason.contains("has no subnet"));
        assert!("vnett.a".parse::<Address>().unwrap_err().reason.contains("unknown kind"));
    }
}
