//! Subnets of a virtual network (Microsoft.Network/virtualNetworks/subnets).

use ipnet::Ipv4Net;

use super::AttributeType as T;
use super::{ARM_NAME_ATTRIBUTE, Brief, Flatten, KindSpec, Provider, Spanned, attribute, flat};
use crate::diag::Span;
use crate::model::{Address, Kind, Resource, Value};

#[derive(Debug, Clone)]
pub struct Subnet {
    pub address: Address,
    pub span: Span,
    pub vnet: Address,
    pub name: String,
    pub prefix: Spanned<Ipv4Net>,
    pub service_endpoints: Vec<String>,
    /// The route table associated with the subnet, when the stack associates one.
    pub route_table: Option<Spanned<Address>>,
    /// The NAT gateway associated with the subnet, when the stack associates one.
    pub nat_gateway: Option<Spanned<Address>>,
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "subnet",
    noun: "subnet",
    parent: Some(Kind::Vnet),
    provider: Provider::Arm,
    attributes: &[
        ARM_NAME_ATTRIBUTE,
        attribute("prefix", T::Cidr),
        attribute("service_endpoints", T::TextList),
        attribute("route_table", T::Address),
        attribute("nat_gateway", T::Address),
    ],
    in_use_refusal: None,
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    vec![b.show("prefix")]
}

impl Flatten for Subnet {
    fn resource(&self) -> Resource {
        let mut attributes = vec![
            ("name", Value::str(&self.name)),
            ("prefix", Value::str(self.prefix.value.to_string())),
            ("service_endpoints", Value::list(self.service_endpoints.iter().cloned())),
        ];
        let mut depends_on = vec![self.vnet.clone()];
        for (name, association) in [("route_table", &self.route_table), ("nat_gateway", &self.nat_gateway)] {
            if let Some(target) = association {
                attributes.push((name, Value::str(target.value.to_string())));
                depends_on.push(target.value.clone());
            }
        }
        flat(Kind::Subnet, &self.address, self.span, attributes, depends_on)
    }
}
