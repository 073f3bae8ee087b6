//! DNS record sets in a zone of the stack (A and CNAME), whose values may come from other
//! resources once they are applied.

use super::AttributeType as T;
use super::{ARM_NAME_ATTRIBUTE, Brief, Flatten, KindSpec, Provider, Spanned, attribute, flat};
use crate::diag::Span;
use crate::model::value::AttributeRef;
use crate::model::{Address, Kind, Resource, Value};

/// A record value: written out, or taken from another resource when it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordValue {
    Literal(String),
    Ref(AttributeRef),
}

impl RecordValue {
    fn value(&self) -> Value {
        match self {
            RecordValue::Literal(s) => Value::str(s.clone()),
            RecordValue::Ref(r) => Value::Ref(Box::new(r.clone())),
        }
    }
}

#[derive(Debug, Clone)]
pub enum RecordData {
    A(Vec<Spanned<RecordValue>>),
    Cname(Spanned<RecordValue>),
}

#[derive(Debug, Clone)]
pub struct DnsRecord {
    pub address: Address,
    pub span: Span,
    pub zone: Address,
    pub zone_name: String,
    pub name: String,
    pub ttl: u32,
    pub data: RecordData,
    /// Resources whose attributes the record takes.
    pub sources: Vec<Address>,
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "dns_record",
    noun: "DNS record",
    parent: None,
    provider: Provider::Arm,
    attributes: &[
        ARM_NAME_ATTRIBUTE,
        attribute("zone", T::Text).placement("a record set cannot move to another zone"),
        attribute("type", T::Text).forces("a record set's type is part of its Azure resource id"),
        attribute("ttl", T::Integer),
        attribute("records", T::ValueList),
        attribute("cname", T::Text),
    ],
    in_use_refusal: None,
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    vec![b.show("type"), b.show("records").or_else(|| b.show("cname"))]
}

impl Flatten for DnsRecord {
    fn resource(&self) -> Resource {
        let (kind, records, cname) = match &self.data {
            RecordData::A(values) => ("A", Value::List(values.iter().map(|v| v.value.value()).collect()), Value::Null),
            RecordData::Cname(v) => ("CNAME", Value::Null, v.value.value()),
        };
        let mut depends_on = vec![self.zone.clone()];
        depends_on.extend(self.sources.iter().cloned());
        flat(
            Kind::DnsRecord,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name)),
                ("zone", Value::str(&self.zone_name)),
                ("type", Value::str(kind)),
                ("ttl", self.ttl.into()),
                ("records", records),
                ("cname", cname),
            ],
            depends_on,
        )
    }
}
