//! Resource groups (Microsoft.Resources/resourceGroups).

use super::AttributeType as T;
use super::{
    ARM_NAME_ATTRIBUTE, Brief, Flatten, KindSpec, Labels, Provider, TAGS_ATTRIBUTE, attribute, flat, labels_value,
};
use crate::diag::Span;
use crate::model::{Address, Kind, Resource, Value};

#[derive(Debug, Clone)]
pub struct ResourceGroup {
    pub address: Address,
    pub span: Span,
    pub name: String,
    pub location: String,
    pub tags: Labels,
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "resource_group",
    noun: "resource group",
    parent: None,
    provider: Provider::Arm,
    attributes: &[
        ARM_NAME_ATTRIBUTE,
        attribute("location", T::Text).forces("a resource group's location cannot change"),
        TAGS_ATTRIBUTE,
    ],
    in_use_refusal: None,
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    vec![b.show("location")]
}

impl Flatten for ResourceGroup {
    fn resource(&self) -> Resource {
        flat(
            Kind::ResourceGroup,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name)),
                ("location", Value::str(&self.location)),
                ("tags", labels_value(&self.tags)),
            ],
            vec![],
        )
    }
}
