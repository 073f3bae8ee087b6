//! Kubernetes Ingresses: layer-7 routing by host and path to Services of the stack, with TLS.

use super::AttributeType as T;
use super::{
    Brief, Flatten, KUBE_CLUSTER_ATTRIBUTE, KUBE_NAME_ATTRIBUTE, KUBE_NAMESPACE_ATTRIBUTE, KindSpec, Labels, Provider,
    Spanned, attribute, flat, labels_value,
};
use crate::diag::Span;
use crate::model::{Address, Kind, Resource, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathType {
    Prefix,
    Exact,
    ImplementationSpecific,
}

impl PathType {
    pub fn kubernetes(self) -> &'static str {
        match self {
            PathType::Prefix => "Prefix",
            PathType::Exact => "Exact",
            PathType::ImplementationSpecific => "ImplementationSpecific",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRef {
    Name(String),
    Number(u32),
}

#[derive(Debug, Clone)]
pub struct Backend {
    pub span: Span,
    pub service: Address,
    /// The Service's Kubernetes name.
    pub service_name: String,
    pub port: PortRef,
}

#[derive(Debug, Clone)]
pub struct IngressPath {
    pub span: Span,
    pub path: Spanned<String>,
    pub path_type: PathType,
    pub backend: Backend,
}

#[derive(Debug, Clone)]
pub struct IngressRule {
    pub span: Span,
    pub host: Option<Spanned<String>>,
    pub paths: Vec<IngressPath>,
}

#[derive(Debug, Clone)]
pub struct IngressTls {
    pub span: Span,
    pub secret: String,
    pub hosts: Vec<Spanned<String>>,
}

#[derive(Debug, Clone)]
pub struct Ingress {
    pub address: Address,
    pub span: Span,
    pub cluster: Address,
    pub namespace_address: Option<Address>,
    pub namespace: String,
    pub name: Spanned<String>,
    pub class: Option<Spanned<String>>,
    pub tls: Vec<IngressTls>,
    pub rules: Vec<IngressRule>,
    pub default_backend: Option<Backend>,
    pub labels: Labels,
    pub annotations: Labels,
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "ingress",
    noun: "ingress",
    parent: None,
    provider: Provider::Kubernetes,
    attributes: &[
        attribute("address", T::IpAddress).computed().referable(),
        KUBE_NAME_ATTRIBUTE,
        KUBE_NAMESPACE_ATTRIBUTE,
        KUBE_CLUSTER_ATTRIBUTE,
        attribute("class", T::Text),
        attribute("rules", T::ObjectList),
        attribute("tls", T::ObjectList),
        attribute("default_backend", T::Object),
        attribute("labels", T::TextMap),
        attribute("annotations", T::TextMap),
    ],
    in_use_refusal: None,
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    vec![b.show("class")]
}

fn backend_value(b: &Backend, services: &mut Vec<Address>) -> Value {
    services.push(b.service.clone());
    let port = match &b.port {
        PortRef::Name(n) => Value::str(n.clone()),
        PortRef::Number(n) => Value::from(*n),
    };
    Value::map([("service", Value::str(b.service_name.clone())), ("port", port)])
}

fn rule_value(rule: &IngressRule, services: &mut Vec<Address>) -> Value {
    let paths = Value::List(
        rule.paths
            .iter()
            .map(|p| {
                Value::map([
                    ("path", Value::str(&p.path.value)),
                    ("path_type", Value::str(p.path_type.kubernetes())),
                    ("backend", backend_value(&p.backend, services)),
                ])
            })
            .collect(),
    );
    Value::map([("host", Value::opt_str(rule.host.as_ref().map(|h| h.value.clone()))), ("paths", paths)])
}

impl Flatten for Ingress {
    fn resource(&self) -> Resource {
        let mut services = Vec::new();
        let rules = Value::List(self.rules.iter().map(|rule| rule_value(rule, &mut services)).collect());
        let tls = Value::List(
            self.tls
                .iter()
                .map(|t| {
                    Value::map([
                        ("secret", Value::str(&t.secret)),
                        ("hosts", Value::list(t.hosts.iter().map(|h| h.value.clone()))),
                    ])
                })
                .collect(),
        );
        let default_backend = self.default_backend.as_ref().map_or(Value::Null, |b| backend_value(b, &mut services));
        let mut depends_on = vec![self.cluster.clone()];
        depends_on.extend(self.namespace_address.iter().cloned());
        depends_on.extend(services);
        flat(
            Kind::Ingress,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name.value)),
                ("namespace", Value::str(&self.namespace)),
                ("cluster", Value::str(self.cluster.to_string())),
                ("class", Value::opt_str(self.class.as_ref().map(|c| c.value.clone()))),
                ("rules", rules),
                ("tls", tls),
                ("default_backend", default_backend),
                ("labels", labels_value(&self.labels)),
                ("annotations", labels_value(&self.annotations)),
            ],
            depends_on,
        )
    }
}
