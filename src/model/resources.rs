//! Typed resources, with Azure's and Kubernetes' defaults filled in, and their generic
//! view ([`Resource`]) for the state and the planner.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::address::{Address, Kind};
use super::resource::Resource;
use super::value::{AttributeRef, Value};
use crate::diag::Span;

/// A value with the place it was written (or, for a default, the block it belongs to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

pub type Labels = BTreeMap<String, String>;

fn labels_value(labels: &Labels) -> Value {
    Value::map(labels.iter().map(|(k, v)| (k.clone(), Value::str(v.clone()))))
}

/// The whole stack, resolved.
#[derive(Debug, Clone, Default)]
pub struct Stack {
    pub name: String,
    pub span: Span,
    /// `None` when it comes from an environment variable that is not set (apply needs it).
    pub subscription: Option<String>,
    pub location: String,
    /// Local state path given in the stack (`state = local { path = "..." }`), relative to the stack folder.
    pub state_path: Option<String>,
    pub resource_groups: Vec<ResourceGroup>,
    pub vnets: Vec<Vnet>,
    pub subnets: Vec<Subnet>,
    pub peerings: Vec<Peering>,
    pub public_ips: Vec<PublicIp>,
    pub clusters: Vec<Cluster>,
    pub node_pools: Vec<NodePool>,
    pub namespaces: Vec<Namespace>,
    pub services: Vec<Service>,
    pub ingresses: Vec<Ingress>,
    pub dns_zones: Vec<DnsZone>,
    pub dns_records: Vec<DnsRecord>,
}

impl Default for Span {
    fn default() -> Self {
        Span::new(crate::diag::FileId(0), 0, 0)
    }
}

#[derive(Debug, Clone)]
pub struct ResourceGroup {
    pub address: Address,
    pub span: Span,
    pub name: String,
    pub location: String,
    pub tags: Labels,
}

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

#[derive(Debug, Clone)]
pub struct Subnet {
    pub address: Address,
    pub span: Span,
    pub vnet: Address,
    pub name: String,
    pub prefix: Spanned<Ipv4Net>,
    pub service_endpoints: Vec<String>,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkPlugin {
    Kubenet,
    /// Azure CNI with pods on the node subnet (or a pod subnet).
    AzureCni,
    AzureCniOverlay,
}

impl NetworkPlugin {
    pub fn keyword(self) -> &'static str {
        match self {
            NetworkPlugin::Kubenet => "kubenet",
            NetworkPlugin::AzureCni => "azure_cni",
            NetworkPlugin::AzureCniOverlay => "azure_cni overlay",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Network {
    pub span: Span,
    pub plugin: NetworkPlugin,
    /// The node subnet (required for Azure CNI without overlay; optional otherwise).
    pub subnet: Option<Spanned<Address>>,
    pub pod_subnet: Option<Spanned<Address>>,
    /// Pod CIDR (kubenet and overlay; `None` for Azure CNI where pods take subnet IPs).
    pub pod_cidr: Option<Spanned<Ipv4Net>>,
    pub service_cidr: Spanned<Ipv4Net>,
    pub dns_service_ip: Spanned<Ipv4Addr>,
    pub outbound_type: String,
    pub load_balancer_sku: String,
    pub network_policy: String,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub address: Address,
    pub span: Span,
    pub name: String,
    pub resource_group: String,
    pub resource_group_address: Address,
    pub location: String,
    pub kubernetes_version: Option<String>,
    pub dns_prefix: Spanned<String>,
    pub sku_tier: String,
    pub identity: String,
    pub node_resource_group: String,
    pub network: Network,
    pub allow_replace: bool,
    /// The application routing add-on (`web_app_routing = true`): a managed NGINX ingress
    /// controller that serves the Ingress class [`WEB_APP_ROUTING_CLASS`].
    pub web_app_routing: bool,
    pub tags: Labels,
}

/// The Ingress class of AKS's application routing add-on.
pub const WEB_APP_ROUTING_CLASS: &str = "webapprouting.kubernetes.azure.com";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeCount {
    Fixed(u32),
    Autoscale { min: u32, max: u32 },
}

impl NodeCount {
    /// The most nodes the pool can have (autoscale counted at its maximum).
    pub fn max(&self) -> u32 {
        match self {
            NodeCount::Fixed(n) => *n,
            NodeCount::Autoscale { max, .. } => *max,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NodePool {
    pub address: Address,
    pub span: Span,
    pub cluster: Address,
    pub name: String,
    pub vm_size: String,
    pub count: Spanned<NodeCount>,
    pub max_pods: Spanned<u32>,
    /// True when `max_pods` was not written and the network model's default applies.
    pub max_pods_default: bool,
    pub system: bool,
    pub windows: bool,
    /// The pool's node subnet: its own `subnet`, else the cluster's network subnet.
    pub subnet: Option<Spanned<Address>>,
    pub pod_subnet: Option<Spanned<Address>>,
    pub zones: Vec<String>,
    /// Extra nodes during upgrades (`max_surge`): a count, or a percentage of the pool.
    pub max_surge: String,
    pub labels: Labels,
    pub taints: Vec<String>,
}

impl NodePool {
    /// Surge nodes at the pool's maximum size (a percentage rounds up, as AKS does).
    pub fn surge_nodes(&self) -> u32 {
        let nodes = self.count.value.max();
        match self.max_surge.strip_suffix('%') {
            Some(percent) => percent.parse::<u32>().map_or(1, |p| (nodes * p).div_ceil(100)),
            None => self.max_surge.parse().unwrap_or(1),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Namespace {
    pub address: Address,
    pub span: Span,
    pub cluster: Address,
    pub name: String,
    pub labels: Labels,
    pub annotations: Labels,
}

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
}

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

#[derive(Debug, Clone)]
pub struct DnsZone {
    pub address: Address,
    pub span: Span,
    pub name: String,
    pub resource_group: String,
    pub resource_group_address: Address,
    pub tags: Labels,
}

/// A record value: written out, or taken from another resource when it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordValue {
    Literal(String),
    Ref(AttributeRef),
}

impl RecordValue {
    fn value(&self) -> Value {
        match self {
            RecordValue::Literal(s) => Value::str(s.clone()),
            RecordValue::Ref(r) => Value::Ref(Box::new(r.clone())),
        }
    }
}

#[derive(Debug, Clone)]
pub enum RecordData {
    A(Vec<Spanned<RecordValue>>),
    Cname(Spanned<RecordValue>),
}

#[derive(Debug, Clone)]
pub struct DnsRecord {
    pub address: Address,
    pub span: Span,
    pub zone: Address,
    pub zone_name: String,
    pub name: String,
    pub ttl: u32,
    pub data: RecordData,
    /// Resources whose attributes the record takes.
    pub sources: Vec<Address>,
}

fn sorted_unique(mut addresses: Vec<Address>) -> Vec<Address> {
    addresses.sort();
    addresses.dedup();
    addresses
}

fn resource(address: &Address, span: Span, attributes: Vec<(&str, Value)>, depends_on: Vec<Address>) -> Resource {
    Resource {
        address: address.clone(),
        attributes: attributes.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        computed: &[],
        depends_on: sorted_unique(depends_on),
        span,
        allow_replace: false,
    }
}

impl Stack {
    /// How many resources [`Stack::resources`] gives.
    fn resource_count(&self) -> usize {
        self.resource_groups.len()
            + self.vnets.len()
            + self.subnets.len()
            + self.peerings.len()
            + self.public_ips.len()
            + self.clusters.len()
            + self.node_pools.len()
            + self.namespaces.len()
            + self.services.len()
            + self.ingresses.len()
            + self.dns_zones.len()
            + self.dns_records.len()
    }

    /// Every resource in the generic form the planner and the state use.
    pub fn resources(&self) -> Vec<Resource> {
        // Sized once: growing a vector this large frees the old buffer each time, and glibc
        // then tidies every small free chunk it holds.
        let mut out = Vec::with_capacity(self.resource_count());
        for rg in &self.resource_groups {
            out.push(resource(
                &rg.address,
                rg.span,
                vec![
                    ("name", Value::str(&rg.name)),
                    ("location", Value::str(&rg.location)),
                    ("tags", labels_value(&rg.tags)),
                ],
                vec![],
            ));
        }
        for v in &self.vnets {
            out.push(resource(
                &v.address,
                v.span,
                vec![
                    ("name", Value::str(&v.name)),
                    ("resource_group", Value::str(&v.resource_group)),
                    ("location", Value::str(&v.location)),
                    ("address_space", Value::list(v.address_space.iter().map(|c| c.value.to_string()))),
                    ("dns_servers", Value::list(v.dns_servers.iter().map(|ip| ip.to_string()))),
                    ("tags", labels_value(&v.tags)),
                ],
                vec![v.resource_group_address.clone()],
            ));
        }
        for s in &self.subnets {
            out.push(resource(
                &s.address,
                s.span,
                vec![
                    ("name", Value::str(&s.name)),
                    ("prefix", Value::str(s.prefix.value.to_string())),
                    ("service_endpoints", Value::list(s.service_endpoints.iter().cloned())),
                ],
                vec![s.vnet.clone()],
            ));
        }
        for p in &self.peerings {
            out.push(resource(
                &p.address,
                p.span,
                vec![
                    ("name", Value::str(&p.name)),
                    ("remote_vnet", Value::str(p.remote.value.to_string())),
                    ("allow_forwarded_traffic", p.allow_forwarded_traffic.into()),
                    ("allow_gateway_transit", p.allow_gateway_transit.into()),
                    ("use_remote_gateways", p.use_remote_gateways.into()),
                ],
                vec![p.vnet.clone(), p.remote.value.clone()],
            ));
        }
        for ip in &self.public_ips {
            let mut r = resource(
                &ip.address,
                ip.span,
                vec![
                    ("name", Value::str(&ip.name)),
                    ("resource_group", Value::str(&ip.resource_group)),
                    ("location", Value::str(&ip.location)),
                    ("sku", Value::str(if ip.sku.value == PublicIpSku::Standard { "Standard" } else { "Basic" })),
                    (
                        "allocation",
                        Value::str(if ip.allocation.value == Allocation::Static { "Static" } else { "Dynamic" }),
                    ),
                    ("version", Value::str("IPv4")),
                    ("zones", Value::list(ip.zones.iter().cloned())),
                    ("dns_label", Value::opt_str(ip.dns_label.as_ref().map(|l| l.value.clone()))),
                    ("fqdn", Value::opt_str(ip.fqdn())),
                    ("idle_timeout_minutes", ip.idle_timeout_minutes.into()),
                    ("tags", labels_value(&ip.tags)),
                ],
                vec![ip.resource_group_owner.clone()],
            );
            r.computed = &["address"];
            out.push(r);
        }
        for c in &self.clusters {
            let n = &c.network;
            let (plugin, mode) = match n.plugin {
                NetworkPlugin::Kubenet => ("kubenet", Value::Null),
                NetworkPlugin::AzureCni => ("azure", Value::Null),
                NetworkPlugin::AzureCniOverlay => ("azure", Value::str("overlay")),
            };
            let mut depends_on = vec![c.resource_group_address.clone()];
            depends_on.extend(n.subnet.iter().chain(&n.pod_subnet).map(|s| s.value.clone()));
            let mut r = resource(
                &c.address,
                c.span,
                vec![
                    ("name", Value::str(&c.name)),
                    ("resource_group", Value::str(&c.resource_group)),
                    ("location", Value::str(&c.location)),
                    ("kubernetes_version", Value::opt_str(c.kubernetes_version.clone())),
                    ("dns_prefix", Value::str(&c.dns_prefix.value)),
                    ("sku_tier", Value::str(&c.sku_tier)),
                    ("identity", Value::str(&c.identity)),
                    ("node_resource_group", Value::str(&c.node_resource_group)),
                    ("network_plugin", Value::str(plugin)),
                    ("network_plugin_mode", mode),
                    ("network_policy", Value::str(&n.network_policy)),
                    ("pod_cidr", Value::opt_str(n.pod_cidr.as_ref().map(|c| c.value.to_string()))),
                    ("service_cidr", Value::str(n.service_cidr.value.to_string())),
                    ("dns_service_ip", Value::str(n.dns_service_ip.value.to_string())),
                    ("outbound_type", Value::str(&n.outbound_type)),
                    ("load_balancer_sku", Value::str(&n.load_balancer_sku)),
                    ("web_app_routing", c.web_app_routing.into()),
                    ("tags", labels_value(&c.tags)),
                ],
                depends_on,
            );
            r.computed = &["fqdn"];
            r.allow_replace = c.allow_replace;
            out.push(r);
        }
        for p in &self.node_pools {
            let (autoscale, count, min, max) = match p.count.value {
                NodeCount::Fixed(n) => (false, Value::from(n), Value::Null, Value::Null),
                NodeCount::Autoscale { min, max } => (true, Value::Null, Value::from(min), Value::from(max)),
            };
            let mut depends_on = vec![p.cluster.clone()];
            depends_on.extend(p.subnet.iter().chain(&p.pod_subnet).map(|s| s.value.clone()));
            out.push(resource(
                &p.address,
                p.span,
                vec![
                    ("name", Value::str(&p.name)),
                    ("vm_size", Value::str(&p.vm_size)),
                    ("count", count),
                    ("autoscale", autoscale.into()),
                    ("min_count", min),
                    ("max_count", max),
                    ("max_pods", p.max_pods.value.into()),
                    ("mode", Value::str(if p.system { "System" } else { "User" })),
                    ("os_type", Value::str(if p.windows { "Windows" } else { "Linux" })),
                    ("subnet", Value::opt_str(p.subnet.as_ref().map(|s| s.value.to_string()))),
                    ("pod_subnet", Value::opt_str(p.pod_subnet.as_ref().map(|s| s.value.to_string()))),
                    ("zones", Value::list(p.zones.iter().cloned())),
                    ("max_surge", Value::str(&p.max_surge)),
                    ("labels", labels_value(&p.labels)),
                    ("taints", Value::list(p.taints.iter().cloned())),
                ],
                depends_on,
            ));
        }
        for ns in &self.namespaces {
            out.push(resource(
                &ns.address,
                ns.span,
                vec![
                    ("name", Value::str(&ns.name)),
                    ("cluster", Value::str(ns.cluster.to_string())),
                    ("labels", labels_value(&ns.labels)),
                    ("annotations", labels_value(&ns.annotations)),
                ],
                vec![ns.cluster.clone()],
            ));
        }
        // Services and Ingresses are nearly all of a large stack: built on every core.
        for part in crate::parallel::map_chunks(&self.services, |part| part.iter().map(service_resource).collect()) {
            out.extend::<Vec<Resource>>(part);
        }
        for part in crate::parallel::map_chunks(&self.ingresses, |part| part.iter().map(ingress_resource).collect()) {
            out.extend::<Vec<Resource>>(part);
        }
        for z in &self.dns_zones {
            let mut r = resource(
                &z.address,
                z.span,
                vec![
                    ("name", Value::str(&z.name)),
                    ("resource_group", Value::str(&z.resource_group)),
                    ("tags", labels_value(&z.tags)),
                ],
                vec![z.resource_group_address.clone()],
            );
            r.computed = &["name_servers"];
            out.push(r);
        }
        for d in &self.dns_records {
            let (kind, records, cname) = match &d.data {
                RecordData::A(values) => {
                    ("A", Value::List(values.iter().map(|v| v.value.value()).collect()), Value::Null)
                }
                RecordData::Cname(v) => ("CNAME", Value::Null, v.value.value()),
            };
            let mut depends_on = vec![d.zone.clone()];
            depends_on.extend(d.sources.iter().cloned());
            out.push(resource(
                &d.address,
                d.span,
                vec![
                    ("name", Value::str(&d.name)),
                    ("zone", Value::str(&d.zone_name)),
                    ("type", Value::str(kind)),
                    ("ttl", d.ttl.into()),
                    ("records", records),
                    ("cname", cname),
                ],
                depends_on,
            ));
        }
        out
    }
}

fn service_resource(s: &Service) -> Resource {
    let ports = Value::List(
        s.ports
            .iter()
            .map(|p| {
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
            })
            .collect(),
    );
    let (cluster_ip, external_name, load_balancer) = match &s.service_type.value {
        ServiceType::ClusterIp { ip, headless } => {
            let ip =
                if *headless { Value::str("None") } else { Value::opt_str(ip.as_ref().map(|i| i.value.to_string())) };
            (ip, Value::Null, Value::Null)
        }
        ServiceType::NodePort => (Value::Null, Value::Null, Value::Null),
        ServiceType::ExternalName(host) => (Value::Null, Value::str(&host.value), Value::Null),
        ServiceType::LoadBalancer(lb) => {
            let mut m = BTreeMap::new();
            m.insert("internal".to_string(), lb.internal.into());
            if let Some(ip) = &lb.public_ip {
                m.insert(
                    "public_ip".to_string(),
                    Value::opt_str(lb.public_ip_name.clone().or(Some(ip.value.name.clone()))),
                );
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
            (Value::Null, Value::Null, Value::Map(m))
        }
    };
    let mut depends_on = vec![s.cluster.clone()];
    depends_on.extend(s.namespace_address.iter().cloned());
    if let ServiceType::LoadBalancer(lb) = &s.service_type.value {
        depends_on.extend(lb.public_ip.iter().chain(&lb.subnet).map(|a| a.value.clone()));
    }
    let mut r = resource(
        &s.address,
        s.span,
        vec![
            ("name", Value::str(&s.name.value)),
            ("namespace", Value::str(&s.namespace)),
            ("cluster", Value::str(s.cluster.to_string())),
            ("type", Value::str(s.service_type.value.keyword())),
            ("selector", s.selector.as_ref().map_or(Value::Null, |sel| labels_value(&sel.value))),
            ("ports", ports),
            ("cluster_ip", cluster_ip),
            ("external_name", external_name),
            ("load_balancer", load_balancer),
            ("session_affinity", Value::str(&s.session_affinity)),
            ("external_traffic_policy", Value::opt_str(s.external_traffic_policy.as_ref().map(|p| p.value.clone()))),
            ("labels", labels_value(&s.labels)),
            ("annotations", labels_value(&s.annotations)),
        ],
        depends_on,
    );
    r.computed = &["address"];
    r
}

fn backend_value(b: &Backend, services: &mut Vec<Address>) -> Value {
    services.push(b.service.clone());
    let port = match &b.port {
        PortRef::Name(n) => Value::str(n.clone()),
        PortRef::Number(n) => Value::from(*n),
    };
    Value::map([("service", Value::str(b.service_name.clone())), ("port", port)])
}

fn ingress_resource(i: &Ingress) -> Resource {
    let mut services = Vec::new();
    let rules = Value::List(
        i.rules
            .iter()
            .map(|rule| {
                let paths = Value::List(
                    rule.paths
                        .iter()
                        .map(|p| {
                            Value::map([
                                ("path", Value::str(&p.path.value)),
                                ("path_type", Value::str(p.path_type.kubernetes())),
                                ("backend", backend_value(&p.backend, &mut services)),
                            ])
                        })
                        .collect(),
                );
                Value::map([("host", Value::opt_str(rule.host.as_ref().map(|h| h.value.clone()))), ("paths", paths)])
            })
            .collect(),
    );
    let tls = Value::List(
        i.tls
            .iter()
            .map(|t| {
                Value::map([
                    ("secret", Value::str(&t.secret)),
                    ("hosts", Value::list(t.hosts.iter().map(|h| h.value.clone()))),
                ])
            })
            .collect(),
    );
    let default_backend = i.default_backend.as_ref().map_or(Value::Null, |b| backend_value(b, &mut services));
    let mut depends_on = vec![i.cluster.clone()];
    depends_on.extend(i.namespace_address.iter().cloned());
    depends_on.extend(services);
    let mut r = resource(
        &i.address,
        i.span,
        vec![
            ("name", Value::str(&i.name.value)),
            ("namespace", Value::str(&i.namespace)),
            ("cluster", Value::str(i.cluster.to_string())),
            ("class", Value::opt_str(i.class.as_ref().map(|c| c.value.clone()))),
            ("rules", rules),
            ("tls", tls),
            ("default_backend", default_backend),
            ("labels", labels_value(&i.labels)),
            ("annotations", labels_value(&i.annotations)),
        ],
        depends_on,
    );
    r.computed = &["address"];
    r
}

impl Kind {
    /// Attributes of a resource of this kind that other resources may reference
    /// (`public_ip.web.address`), and whether each is known only after apply.
    pub fn referable_attributes(self) -> &'static [(&'static str, bool)] {
        match self {
            Kind::PublicIp => &[("address", true), ("fqdn", false), ("name", false)],
            Kind::Cluster => &[("node_resource_group", false), ("fqdn", true), ("name", false)],
            Kind::Service => &[("address", true), ("name", false)],
            Kind::Ingress => &[("address", true), ("name", false)],
            Kind::DnsZone => &[("name_servers", true), ("name", false)],
            _ => &[("name", false)],
        }
    }
}
