//! Kubernetes namespaces in a cluster of the stack.

use super::AttributeType as T;
use super::{
    Flatten, KUBE_CLUSTER_ATTRIBUTE, KUBE_NAME_ATTRIBUTE, KindSpec, Labels, Provider, attribute, flat, labels_value,
    no_brief,
};
use crate::diag::Span;
use crate::model::{Address, Kind, Resource, Value};

#[derive(Debug, Clone)]
pub struct Namespace {
    pub address: Address,
    pub span: Span,
    pub cluster: Address,
    pub name: String,
    pub labels: Labels,
    pub annotations: Labels,
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "namespace",
    noun: "namespace",
    parent: None,
    provider: Provider::Kubernetes,
    attributes: &[
        KUBE_NAME_ATTRIBUTE,
        KUBE_CLUSTER_ATTRIBUTE,
        attribute("labels", T::TextMap),
        attribute("annotations", T::TextMap),
    ],
    in_use_refusal: None,
    brief: no_brief,
};

impl Flatten for Namespace {
    fn resource(&self) -> Resource {
        flat(
            Kind::Namespace,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name)),
                ("cluster", Value::str(self.cluster.to_string())),
                ("labels", labels_value(&self.labels)),
                ("annotations", labels_value(&self.annotations)),
            ],
            vec![self.cluster.clone()],
        )
    }
}
