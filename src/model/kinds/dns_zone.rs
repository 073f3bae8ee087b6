//! Public DNS zones (Microsoft.Network/dnsZones); their name servers are known after apply.

use super::AttributeType as T;
use super::{
    ARM_GROUP_ATTRIBUTE, ARM_NAME_ATTRIBUTE, Flatten, KindSpec, Labels, Provider, TAGS_ATTRIBUTE, attribute, flat,
    labels_value, no_brief,
};
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
        ARM_NAME_ATTRIBUTE,
        ARM_GROUP_ATTRIBUTE,
        TAGS_ATTRIBUTE,
    ],
    in_use_refusal: None,
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
