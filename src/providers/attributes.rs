//! Reading aksform's generic attributes into the fields a provider sends (ARM bodies,
//! Kubernetes objects), with messages that name the resource and the field when a value has
//! the wrong shape.

use std::collections::BTreeMap;

use crate::model::{Address, Value};
use crate::providers::{Attributes, ErrorKind, ProviderError};

/// The attributes of one resource, as sent to `apply`.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    address: &'a Address,
}

/// A map of attributes (the resource's, or a nested one) and where it sits (`ports[0]`).
#[derive(Clone, Copy)]
pub(crate) struct AttributeFields<'a> {
    reader: Reader<'a>,
    path: &'a str,
    map: &'a BTreeMap<String, Value>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(address: &'a Address) -> Self {
        Reader { address }
    }

    pub(crate) fn top(self, attributes: &'a Attributes) -> AttributeFields<'a> {
        AttributeFields { reader: self, path: "", map: attributes }
    }

    /// A value of the wrong shape: aksform's own model and this provider disagree.
    pub(crate) fn invalid(self, field: &str, expected: &str, found: &Value) -> ProviderError {
        ProviderError {
            kind: ErrorKind::Rejected,
            message: format!("{}: `{field}` should be {expected}, found {found}", self.address),
        }
    }

    /// A nested map, e.g. one port of `ports`.
    pub(crate) fn nested(self, path: &'a str, value: &'a Value) -> Result<AttributeFields<'a>, ProviderError> {
        match value {
            Value::Map(map) => Ok(AttributeFields { reader: self, path, map }),
            other => Err(self.invalid(path, "a map", other)),
        }
    }
}

impl<'a> AttributeFields<'a> {
    fn field(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) }
    }

    pub(crate) fn reader(&self) -> Reader<'a> {
        self.reader
    }

    /// The value, `None` when absent or null. A value still unknown is an error: the executor
    /// fills references in before it calls the provider.
    pub(crate) fn value(&self, key: &str) -> Result<Option<&'a Value>, ProviderError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) if v.is_unknown() => Err(ProviderError {
                kind: ErrorKind::Rejected,
                message: format!("{}: `{}` is not known yet ({v})", self.reader.address, self.field(key)),
            }),
            Some(v) => Ok(Some(v)),
        }
    }

    pub(crate) fn str(&self, key: &str) -> Result<Option<&'a str>, ProviderError> {
        match self.value(key)? {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(other) => Err(self.reader.invalid(&self.field(key), "a string", other)),
        }
    }

    pub(crate) fn required_str(&self, key: &str) -> Result<&'a str, ProviderError> {
        self.str(key)?.ok_or_else(|| self.reader.invalid(&self.field(key), "a string", &Value::Null))
    }

    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ProviderError> {
        match self.value(key)? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.reader.invalid(&self.field(key), "true or false", other)),
        }
    }

    /// A number that fits a 32-bit field (Kubernetes' and ARM's).
    pub(crate) fn int32(&self, key: &str) -> Result<Option<i32>, ProviderError> {
        match self.value(key)? {
            None => Ok(None),
            Some(Value::Int(i)) => i32::try_from(*i)
                .map(Some)
                .map_err(|_| self.reader.invalid(&self.field(key), "a number below 2^31", &Value::Int(*i))),
            Some(other) => Err(self.reader.invalid(&self.field(key), "a number", other)),
        }
    }

    pub(crate) fn required_int32(&self, key: &str) -> Result<i32, ProviderError> {
        self.int32(key)?.ok_or_else(|| self.reader.invalid(&self.field(key), "a number", &Value::Null))
    }

    /// A list; absent or null is empty.
    pub(crate) fn list(&self, key: &str) -> Result<&'a [Value], ProviderError> {
        match self.value(key)? {
            None => Ok(&[]),
            Some(Value::List(items)) => Ok(items),
            Some(other) => Err(self.reader.invalid(&self.field(key), "a list", other)),
        }
    }

    /// A nested map, `None` when absent or null.
    pub(crate) fn map(&self, key: &str) -> Result<Option<&'a BTreeMap<String, Value>>, ProviderError> {
        match self.value(key)? {
            None => Ok(None),
            Some(Value::Map(map)) => Ok(Some(map)),
            Some(other) => Err(self.reader.invalid(&self.field(key), "a map", other)),
        }
    }

    /// A map of strings (labels, annotations, a selector), `None` when absent or null.
    pub(crate) fn string_map(&self, key: &str) -> Result<Option<BTreeMap<String, String>>, ProviderError> {
        let Some(map) = self.map(key)? else { return Ok(None) };
        map.iter()
            .map(|(k, v)| match v {
                Value::Str(s) => Ok((k.clone(), s.clone())),
                other => Err(self.reader.invalid(&format!("{}.{k}", self.field(key)), "a string", other)),
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// A list of strings; absent or null is empty.
    pub(crate) fn string_list(&self, key: &str) -> Result<Vec<String>, ProviderError> {
        self.list(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Str(s) => Ok(s.clone()),
                other => Err(self.reader.invalid(&format!("{}[{i}]", self.field(key)), "a string", other)),
            })
            .collect()
    }

    /// Another resource's address (`vnet.hub`), `None` when absent or null.
    pub(crate) fn address(&self, key: &str) -> Result<Option<Address>, ProviderError> {
        self.str(key)?.map(|text| self.parse_address(&self.field(key), text)).transpose()
    }

    pub(crate) fn required_address(&self, key: &str) -> Result<Address, ProviderError> {
        self.address(key)?.ok_or_else(|| self.reader.invalid(&self.field(key), "an address", &Value::Null))
    }

    /// A list of addresses; absent or null is empty.
    pub(crate) fn address_list(&self, key: &str) -> Result<Vec<Address>, ProviderError> {
        let texts = self.string_list(key)?;
        texts
            .iter()
            .enumerate()
            .map(|(i, text)| self.parse_address(&format!("{}[{i}]", self.field(key)), text))
            .collect()
    }

    fn parse_address(&self, field: &str, text: &str) -> Result<Address, ProviderError> {
        text.parse().map_err(|e| self.reader.invalid(field, "an address", &Value::str(format!("{text} ({e})"))))
    }

    /// Every key of the map is one of `known`: a key this provider does not know would be
    /// silently dropped otherwise.
    pub(crate) fn only(&self, known: &[&str]) -> Result<(), ProviderError> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            None => Ok(()),
            Some(key) => Err(ProviderError {
                kind: ErrorKind::Rejected,
                message: format!(
                    "{}: `{}` is not a setting the Kubernetes provider knows",
                    self.reader.address,
                    self.field(key)
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttributeRef, Kind};

    #[test]
    fn wrong_shapes_name_the_resource_and_the_field() {
        let address = Address::new(Kind::Service, "web");
        let ports = Value::List(vec![Value::map([("port", Value::str("eighty"))])]);
        let attributes: Attributes = [("ports".to_string(), ports.clone())].into();
        let fields = Reader::new(&address).top(&attributes);
        let items = fields.list("ports").unwrap();
        let port = Reader::new(&address).nested("ports[0]", &items[0]).unwrap();
        let error = port.required_int32("port").unwrap_err();
        assert_eq!(error.message, "service.web: `ports[0].port` should be a number, found \"eighty\"");
        assert!(fields.str("ports").unwrap_err().message.contains("`ports` should be a string"));
    }

    #[test]
    fn unresolved_references_are_refused() {
        let address = Address::new(Kind::Service, "web");
        let reference = AttributeRef { address: Address::new(Kind::PublicIp, "ip"), attribute: "address".into() };
        let attributes: Attributes = [("external_name".to_string(), Value::Ref(Box::new(reference)))].into();
        let error = Reader::new(&address).top(&attributes).str("external_name").unwrap_err();
        assert!(error.message.contains("not known yet"), "{}", error.message);
    }
}
