//! Virtual networks (Microsoft.Network/virtualNetworks); their subnets and peerings are
//! kinds of their own.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::AttributeType as T;
use super::{
    ARM_GROUP_ATTRIBUTE, ARM_NAME_ATTRIBUTE, Brief, Flatten, KindSpec, Labels, Provider, Spanned, TAGS_ATTRIBUTE,
    attribute, flat, labels_value,
};
use crate::diag::Span;
use crate::model::{Address, Kind, Resource, Value};

#[derive(Debug, Clone)]
pub struct Vnet {
    pub address: Address,
    pub span: Span,
    pub name: String,
    pub resource_group: String,
    pub resource_group_address: Address,
    pub location: String,
    pub address_space: Vec<Spanned<Ipv4Net>>,
    pub dns_servers: Vec<Ipv4Addr>,
    pub tags: Labels,
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "vnet",
    noun: "virtual network",
    parent: None,
    provider: Provider::Arm,
    attributes: &[
        ARM_NAME_ATTRIBUTE,
        ARM_GROUP_ATTRIBUTE,
        attribute("location", T::Text).forces("a virtual network's location is fixed at creation"),
        attribute("address_space", T::CidrList),
        attribute("dns_servers", T::IpList),
        TAGS_ATTRIBUTE,
    ],
    in_use_refusal: None,
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    vec![b.show("address_space"), b.show("location")]
}

impl Flatten for Vnet {
    fn resource(&self) -> Resource {
        flat(
            Kind::Vnet,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name)),
                ("resource_group", Value::str(&self.resource_group)),
                ("location", Value::str(&self.location)),
                ("address_space", Value::list(self.address_space.iter().map(|c| c.value.to_string()))),
                ("dns_servers", Value::list(self.dns_servers.iter().map(|ip| ip.to_string()))),
                ("tags", labels_value(&self.tags)),
            ],
            vec![self.resource_group_address.clone()],
        )
    }
}
