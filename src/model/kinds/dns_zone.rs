//! Public DNS zones (Microsoft.Network/dnsZones); their name servers are known after apply.

use super::AttributeType as T;
use super::{ARM_GROUP, ARM_NAME, Flatten, KindSpec, Labels, Provider, attribute, flat, labels_value, no_brief};
use crate::diag::Span;
use crate::model::{Address, Kind, Resource, Value};

#[derive(Debug, Clone)]
pub struct DnsZone {
    pub address: Address,
    pub span: Span,
    pub name: String,
    pub resource_group: String,
    pub resource_group_address: Address,
    pub tags: Labels,
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "dns_zone",
    noun: "DNS zone",
    parent: None,
    provider: Provider::Arm,
    attributes: &[
        attribute("name_servers", T::TextList).computed().referable(),
        attribute("name", T::Text).referable().forces(ARM_NAME),
        attribute("resource_group", T::Text).placement(ARM_GROUP),
        attribute("tags", T::TextMap),
    ],
    brief: no_brief,
};

impl Flatten for DnsZone {
    fn resource(&self) -> Resource {
        flat(
            Kind::DnsZone,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name)),
                ("resource_group", Value::str(&self.resource_group)),
                ("tags", labels_value(&self.tags)),
            ],
            vec![self.resource_group_address.clone()],
        )
    }
}
