//! Kubernetes Services of the four types: ClusterIP (headless too), NodePort, LoadBalancer
//! (an Azure load balancer, external or internal) and ExternalName.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::AttributeType as T;
use super::{
    Brief, Flatten, KUBE_CLUSTER_ATTRIBUTE, KUBE_NAME_ATTRIBUTE, KUBE_NAMESPACE_ATTRIBUTE, KindSpec, Labels, Provider,
    Spanned, attribute, counted, flat, labels_value,
};
use crate::diag::Span;
use crate::model::{Address, Kind, Resource, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn kubernetes(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPort {
    Number(u32),
    Name(String),
}

#[derive(Debug, Clone)]
pub struct ServicePort {
    pub span: Span,
    pub name: Spanned<String>,
    pub port: Spanned<u32>,
    pub protocol: Protocol,
    pub target_port: TargetPort,
    pub node_port: Option<Spanned<u32>>,
    pub app_protocol: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LoadBalancer {
    pub span: Span,
    pub internal: bool,
    pub public_ip: Option<Spanned<Address>>,
    /// The Azure name of that public IP (the `azure-pip-name` annotation).
    pub public_ip_name: Option<String>,
    /// A requested frontend IP (internal), or the static public IP's address when known.
    pub ip: Option<Spanned<Ipv4Addr>>,
    pub subnet: Option<Spanned<Address>>,
    pub dns_label: Option<String>,
    /// Resource group of a public IP outside the node resource group.
    pub resource_group: Option<String>,
}

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per Service; boxing buys nothing here
pub enum ServiceType {
    ClusterIp { ip: Option<Spanned<Ipv4Addr>>, headless: bool },
    NodePort,
    LoadBalancer(LoadBalancer),
    ExternalName(Spanned<String>),
}

impl ServiceType {
    pub fn keyword(&self) -> &'static str {
        match self {
            ServiceType::ClusterIp { .. } => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer(_) => "LoadBalancer",
            ServiceType::ExternalName(_) => "ExternalName",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Service {
    pub address: Address,
    pub span: Span,
    pub cluster: Address,
    /// The namespace resource, when the namespace is managed in this stack.
    pub namespace_address: Option<Address>,
    pub namespace: String,
    pub name: Spanned<String>,
    pub service_type: Spanned<ServiceType>,
    pub selector: Option<Spanned<Labels>>,
    pub ports: Vec<ServicePort>,
    pub session_affinity: String,
    /// `Cluster` or `Local`, where it was written.
    pub external_traffic_policy: Option<Spanned<String>>,
    pub labels: Labels,
    pub annotations: Labels,
    /// The role assignments its load balancer needs made first (its cluster's, on the
    /// subnet or public IP it is joined to).
    pub waits_for: Vec<Address>,
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "service",
    noun: "service",
    parent: None,
    provider: Provider::Kubernetes,
    attributes: &[
        attribute("address", T::IpAddress).computed().referable(),
        KUBE_NAME_ATTRIBUTE,
        KUBE_NAMESPACE_ATTRIBUTE,
        KUBE_CLUSTER_ATTRIBUTE,
        attribute("type", T::Text),
        attribute("selector", T::TextMap),
        attribute("ports", T::ObjectList),
        attribute("cluster_ip", T::IpAddress).forces("spec.clusterIP is immutable"),
        attribute("external_name", T::Text),
        attribute("load_balancer", T::Object),
        attribute("session_affinity", T::Text),
        attribute("external_traffic_policy", T::Text),
        attribute("labels", T::TextMap),
        attribute("annotations", T::TextMap),
    ],
    in_use_refusal: None,
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    vec![b.show("type"), b.len("ports").map(|n| counted(n, "port", "ports"))]
}

fn port_value(p: &ServicePort) -> Value {
    let target = match &p.target_port {
        TargetPort::Number(n) => Value::from(*n),
        TargetPort::Name(n) => Value::str(n.clone()),
    };
    let mut m = BTreeMap::new();
    m.insert("name".to_string(), Value::str(&p.name.value));
    m.insert("port".to_string(), p.port.value.into());
    m.insert("protocol".to_string(), Value::str(p.protocol.kubernetes()));
    m.insert("target_port".to_string(), target);
    if let Some(np) = &p.node_port {
        m.insert("node_port".to_string(), np.value.into());
    }
    if let Some(ap) = &p.app_protocol {
        m.insert("app_protocol".to_string(), Value::str(ap.clone()));
    }
    Value::Map(m)
}

fn load_balancer_value(lb: &LoadBalancer) -> Value {
    let mut m = BTreeMap::new();
    m.insert("internal".to_string(), lb.internal.into());
    if let Some(ip) = &lb.public_ip {
        m.insert("public_ip".to_string(), Value::opt_str(lb.public_ip_name.clone().or(Some(ip.value.name.clone()))));
    }
    if let Some(ip) = &lb.ip {
        m.insert("ip".to_string(), Value::str(ip.value.to_string()));
    }
    if let Some(subnet) = &lb.subnet {
        m.insert("subnet".to_string(), Value::str(subnet.value.name.clone()));
    }
    if let Some(label) = &lb.dns_label {
        m.insert("dns_label".to_string(), Value::str(label.clone()));
    }
    if let Some(rg) = &lb.resource_group {
        m.insert("resource_group".to_string(), Value::str(rg.clone()));
    }
    Value::Map(m)
}

impl Flatten for Service {
    fn resource(&self) -> Resource {
        let ports = Value::List(self.ports.iter().map(port_value).collect());
        let (cluster_ip, external_name, load_balancer) = match &self.service_type.value {
            ServiceType::ClusterIp { ip, headless } => {
                let ip = if *headless {
                    Value::str("None")
                } else {
                    Value::opt_str(ip.as_ref().map(|i| i.value.to_string()))
                };
                (ip, Value::Null, Value::Null)
            }
            ServiceType::NodePort => (Value::Null, Value::Null, Value::Null),
            ServiceType::ExternalName(host) => (Value::Null, Value::str(&host.value), Value::Null),
            ServiceType::LoadBalancer(lb) => (Value::Null, Value::Null, load_balancer_value(lb)),
        };
        let mut depends_on = vec![self.cluster.clone()];
        depends_on.extend(self.namespace_address.iter().cloned());
        if let ServiceType::LoadBalancer(lb) = &self.service_type.value {
            depends_on.extend(lb.public_ip.iter().chain(&lb.subnet).map(|a| a.value.clone()));
        }
        depends_on.extend(self.waits_for.iter().cloned());
        flat(
            Kind::Service,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name.value)),
                ("namespace", Value::str(&self.namespace)),
                ("cluster", Value::str(self.cluster.to_string())),
                ("type", Value::str(self.service_type.value.keyword())),
                ("selector", self.selector.as_ref().map_or(Value::Null, |sel| labels_value(&sel.value))),
                ("ports", ports),
                ("cluster_ip", cluster_ip),
                ("external_name", external_name),
                ("load_balancer", load_balancer),
                ("session_affinity", Value::str(&self.session_affinity)),
                (
                    "external_traffic_policy",
                    Value::opt_str(self.external_traffic_policy.as_ref().map(|p| p.value.clone())),
                ),
                ("labels", labels_value(&self.labels)),
                ("annotations", labels_value(&self.annotations)),
            ],
            depends_on,
        )
    }
}
