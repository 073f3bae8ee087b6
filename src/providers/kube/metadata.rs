//! Object metadata: names, the labels and annotations the user gave, and the two marks that
//! say an object is aksform's (which `list_owned` finds and `read` never reports).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::model::{Address, Value};
use crate::providers::attributes::AttributeFields;
use crate::providers::{Attributes, ProviderError};

/// The field manager of every apply: the fields aksform sends are owned under this name.
pub const FIELD_MANAGER: &str = "aksform";
/// The label on every object aksform creates, and its value.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "aksform";
/// The annotation that holds the object's resource address (`service.web`).
pub const ADDRESS_ANNOTATION: &str = "aksform.io/address";
/// The annotation with the lineage of the stack's state: which stack's object it is.
pub const LINEAGE_ANNOTATION: &str = "aksform.io/lineage";

/// Metadata from `name`, `labels` and `annotations`, plus `extra` annotations (those other
/// attributes turn into) and the marks. The marks come last so that they always hold.
pub(super) fn object_meta(
    fields: &AttributeFields<'_>,
    address: &Address,
    namespace: Option<String>,
    extra: BTreeMap<String, String>,
) -> Result<ObjectMeta, ProviderError> {
    let mut labels = fields.string_map("labels")?.unwrap_or_default();
    labels.insert(MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string());
    let mut annotations = fields.string_map("annotations")?.unwrap_or_default();
    annotations.extend(extra);
    annotations.insert(ADDRESS_ANNOTATION.to_string(), address.to_string());
    Ok(ObjectMeta {
        name: Some(fields.required_str("name")?.to_string()),
        namespace,
        labels: Some(labels),
        annotations: Some(annotations),
        ..ObjectMeta::default()
    })
}

/// `name`, `namespace` (for namespaced objects), `cluster`, and the labels and annotations
/// aksform manages, as read back.
pub(super) fn observed(meta: &ObjectMeta, recorded: &Attributes, cluster: &Address) -> Attributes {
    let mut out = Attributes::new();
    out.insert("name".into(), Value::opt_str(meta.name.clone()));
    if let Some(namespace) = &meta.namespace {
        out.insert("namespace".into(), Value::str(namespace.clone()));
    }
    out.insert("cluster".into(), Value::str(cluster.to_string()));
    out.insert("labels".into(), managed_entries(meta.labels.as_ref(), recorded.get("labels")));
    out.insert("annotations".into(), managed_entries(meta.annotations.as_ref(), recorded.get("annotations")));
    out
}

/// The resource address an object is marked with, if it carries aksform's marks.
pub(super) fn marked_address(meta: &ObjectMeta) -> Option<Address> {
    let managed = meta.labels.as_ref().and_then(|l| l.get(MANAGED_BY_LABEL)).is_some_and(|v| v == MANAGED_BY);
    if !managed {
        return None;
    }
    meta.annotations.as_ref()?.get(ADDRESS_ANNOTATION)?.parse().ok()
}

/// Whose an object is, by its marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Marks {
    managed: bool,
    address: Option<String>,
    lineage: Option<String>,
}

impl Marks {
    pub(super) fn of(meta: &ObjectMeta) -> Marks {
        let annotation = |key: &str| meta.annotations.as_ref().and_then(|a| a.get(key)).cloned();
        Marks {
            managed: meta.labels.as_ref().and_then(|l| l.get(MANAGED_BY_LABEL)).is_some_and(|v| v == MANAGED_BY),
            address: annotation(ADDRESS_ANNOTATION),
            lineage: annotation(LINEAGE_ANNOTATION),
        }
    }

    /// Why these marks do not say the object is `address` of the stack whose state has
    /// `lineage`; `None` when they do.
    pub(super) fn not_ours(&self, address: &Address, lineage: Option<&str>) -> Option<String> {
        let marked = self.address.as_deref().filter(|_| self.managed);
        crate::providers::not_ours(marked, self.lineage.as_deref(), address, lineage)
    }
}

/// Labels or annotations as read back: the keys aksform set (those recorded), with their live
/// values. Keys other tools add are not aksform's and are left out; a recorded key that is gone
/// is left out too, so its removal shows as a change.
pub(crate) fn managed_entries(live: Option<&BTreeMap<String, String>>, recorded: Option<&Value>) -> Value {
    let Some(Value::Map(recorded)) = recorded else { return Value::Map(BTreeMap::new()) };
    Value::Map(
        recorded
            .keys()
            .filter_map(|key| live.and_then(|l| l.get(key)).map(|v| (key.clone(), Value::str(v.clone()))))
            .collect(),
    )
}

/// A map of strings as a value.
pub(crate) fn string_map_value(map: &BTreeMap<String, String>) -> Value {
    Value::map(map.iter().map(|(k, v)| (k.clone(), Value::str(v.clone()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_recorded_keys_are_read_back() {
        let live: BTreeMap<String, String> =
            [("app", "web"), ("team", "edited"), ("added-by-someone", "x")].map(|(k, v)| (k.into(), v.into())).into();
        let recorded = Value::map([("app", "web"), ("team", "shop"), ("removed", "y")]);
        assert_eq!(managed_entries(Some(&live), Some(&recorded)), Value::map([("app", "web"), ("team", "edited")]));
        assert_eq!(managed_entries(None, Some(&recorded)), Value::Map(BTreeMap::new()));
    }
}
