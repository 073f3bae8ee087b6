//! Namespaces: a name, labels and annotations.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;

use super::metadata;
use crate::model::Address;
use crate::providers::attributes::AttributeFields;
use crate::providers::{Attributes, ProviderError};

const SETTINGS: &[&str] = &["name", "cluster", "labels", "annotations"];

pub(super) fn desired(fields: &AttributeFields<'_>, address: &Address) -> Result<Namespace, ProviderError> {
    fields.only(SETTINGS)?;
    Ok(Namespace { metadata: metadata::object_meta(fields, address, None, BTreeMap::new())?, ..Namespace::default() })
}

pub(super) fn observed(live: &Namespace, recorded: &Attributes, cluster: &Address) -> Attributes {
    metadata::observed(&live.metadata, recorded, cluster)
}
