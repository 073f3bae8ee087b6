//! Static public IP addresses (Microsoft.Network/publicIPAddresses), with DNS labels.

use super::AttributeType as T;
use super::{
    ARM_GROUP_ATTRIBUTE, ARM_NAME_ATTRIBUTE, Brief, Flatten, KindSpec, Labels, Provider, Spanned, TAGS_ATTRIBUTE,
    attribute, flat, labels_value,
};
use crate::diag::Span;
use crate::model::{Address, Kind, Resource, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicIpSku {
    Standard,
    Basic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    Static,
    Dynamic,
}

#[derive(Debug, Clone)]
pub struct PublicIp {
    pub address: Address,
    pub span: Span,
    pub name: String,
    pub resource_group: String,
    /// The resource group resource, or the cluster whose node resource group holds the IP.
    pub resource_group_owner: Address,
    pub location: String,
    pub sku: Spanned<PublicIpSku>,
    pub allocation: Spanned<Allocation>,
    pub zones: Vec<String>,
    pub dns_label: Option<Spanned<String>>,
    pub idle_timeout_minutes: u32,
    pub tags: Labels,
}

impl PublicIp {
    /// `<label>.<location>.cloudapp.azure.com` when a DNS label is set.
    pub fn fqdn(&self) -> Option<String> {
        self.dns_label.as_ref().map(|l| format!("{}.{}.cloudapp.azure.com", l.value, self.location))
    }
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "public_ip",
    noun: "public IP",
    parent: None,
    provider: Provider::Arm,
    attributes: &[
        attribute("address", T::IpAddress).computed().referable(),
        attribute("fqdn", T::Text).referable(),
        ARM_NAME_ATTRIBUTE,
        ARM_GROUP_ATTRIBUTE,
        attribute("location", T::Text).forces("a public IP's location is fixed at creation"),
        attribute("sku", T::Text).forces("the SKU of a public IP cannot change in place"),
        attribute("allocation", T::Text),
        attribute("version", T::Text).forces("the IP version of a public IP is fixed at creation"),
        attribute("zones", T::TextList).forces("zones of a public IP are fixed at creation"),
        attribute("dns_label", T::Text),
        attribute("idle_timeout_minutes", T::Integer),
        TAGS_ATTRIBUTE,
    ],
    in_use_refusal: Some("PublicIPAddressCannotBeDeleted"),
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    vec![b.show("sku"), b.show("allocation"), b.show("dns_label").map(|l| format!("dns label {l}"))]
}

impl Flatten for PublicIp {
    fn resource(&self) -> Resource {
        let sku = if self.sku.value == PublicIpSku::Standard { "Standard" } else { "Basic" };
        let allocation = if self.allocation.value == Allocation::Static { "Static" } else { "Dynamic" };
        flat(
            Kind::PublicIp,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name)),
                ("resource_group", Value::str(&self.resource_group)),
                ("location", Value::str(&self.location)),
                ("sku", Value::str(sku)),
                ("allocation", Value::str(allocation)),
                ("version", Value::str("IPv4")),
                ("zones", Value::list(self.zones.iter().cloned())),
                ("dns_label", Value::opt_str(self.dns_label.as_ref().map(|l| l.value.clone()))),
                ("fqdn", Value::opt_str(self.fqdn())),
                ("idle_timeout_minutes", self.idle_timeout_minutes.into()),
                ("tags", labels_value(&self.tags)),
            ],
            vec![self.resource_group_owner.clone()],
        )
    }
}
