//! Peerings of a virtual network with another (Microsoft.Network/virtualNetworks/virtualNetworkPeerings).

use super::AttributeType as T;
use super::{ARM_NAME_ATTRIBUTE, Brief, Flatten, KindSpec, Provider, Spanned, attribute, flat};
use crate::diag::Span;
use crate::model::{Address, Kind, Resource, Value};

#[derive(Debug, Clone)]
pub struct Peering {
    pub address: Address,
    pub span: Span,
    pub vnet: Address,
    pub name: String,
    pub remote: Spanned<Address>,
    pub allow_forwarded_traffic: bool,
    pub allow_gateway_transit: bool,
    pub use_remote_gateways: bool,
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "peering",
    noun: "peering",
    parent: Some(Kind::Vnet),
    provider: Provider::Arm,
    attributes: &[
        ARM_NAME_ATTRIBUTE,
        attribute("remote_vnet", T::Address)
            .placement("a peering's remote virtual network cannot change; add a new peering"),
        attribute("allow_forwarded_traffic", T::Boolean),
        attribute("allow_gateway_transit", T::Boolean),
        attribute("use_remote_gateways", T::Boolean),
    ],
    in_use_refusal: None,
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    vec![b.show("remote_vnet").map(|v| format!("to {v}"))]
}

impl Flatten for Peering {
    fn resource(&self) -> Resource {
        flat(
            Kind::Peering,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name)),
                ("remote_vnet", Value::str(self.remote.value.to_string())),
                ("allow_forwarded_traffic", self.allow_forwarded_traffic.into()),
                ("allow_gateway_transit", self.allow_gateway_transit.into()),
                ("use_remote_gateways", self.use_remote_gateways.into()),
            ],
            vec![self.vnet.clone(), self.remote.value.clone()],
        )
    }
}
