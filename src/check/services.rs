//! Service rules (AKS301-AKS312): ports, node ports, cluster IPs, ExternalName targets and
//! selectors, as the Kubernetes API server validates and allocates them.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::RuleInfo;
use super::index::Index;
use super::ranges::Range;
use crate::diag::{Diagnostic, Span};
use crate::model::{Address, Protocol, Service, ServicePort, ServiceType, TargetPort, names};

pub(super) const PORT_OUT_OF_RANGE: RuleInfo =
    rule!("AKS301", "port-out-of-range", Error, "A Service port or target port is outside 1 to 65535");
pub(super) const DUPLICATE_SERVICE_PORT: RuleInfo =
    rule!("AKS302", "duplicate-service-port", Error, "A Service exposes the same port and protocol twice");
pub(super) const DUPLICATE_PORT_NAME: RuleInfo =
    rule!("AKS303", "duplicate-port-name", Error, "Two ports of a Service have the same name");
pub(super) const NODE_PORT_OUT_OF_RANGE: RuleInfo =
    rule!("AKS304", "node-port-out-of-range", Error, "A node port is outside 30000 to 32767");
pub(super) const NODE_PORT_CONFLICT: RuleInfo =
    rule!("AKS305", "node-port-conflict", Error, "Two Services of a cluster ask for the same node port");
pub(super) const NODE_PORT_ON_CLUSTER_IP: RuleInfo =
    rule!("AKS306", "node-port-on-cluster-ip", Error, "A ClusterIP Service sets a node port");
pub(super) const EXTERNAL_TRAFFIC_POLICY_NOT_EXTERNAL: RuleInfo = rule!(
    "AKS307",
    "external-traffic-policy-not-external",
    Error,
    "external_traffic_policy on a Service that is not a NodePort or LoadBalancer"
);
pub(super) const CLUSTER_IP_OUTSIDE_SERVICE_CIDR: RuleInfo =
    rule!("AKS308", "cluster-ip-outside-service-cidr", Error, "A requested cluster IP is outside the service CIDR");
pub(super) const CLUSTER_IP_TAKEN: RuleInfo =
    rule!("AKS309", "cluster-ip-taken", Error, "A requested cluster IP is reserved or requested by another Service");
pub(super) const EXTERNAL_NAME_INVALID: RuleInfo =
    rule!("AKS310", "external-name-invalid", Error, "An ExternalName is not a valid lowercase DNS name");
pub(super) const EXTERNAL_NAME_IGNORED_FIELDS: RuleInfo = rule!(
    "AKS311",
    "external-name-ignored-fields",
    Warning,
    "An ExternalName Service has a selector or ports, which do nothing"
);
pub(super) const SERVICE_WITHOUT_SELECTOR: RuleInfo = rule!(
    "AKS312",
    "service-without-selector",
    Warning,
    "A Service that receives traffic has no selector, so no endpoints"
);

pub(super) const RULES: &[RuleInfo] = &[
    PORT_OUT_OF_RANGE,
    DUPLICATE_SERVICE_PORT,
    DUPLICATE_PORT_NAME,
    NODE_PORT_OUT_OF_RANGE,
    NODE_PORT_CONFLICT,
    NODE_PORT_ON_CLUSTER_IP,
    EXTERNAL_TRAFFIC_POLICY_NOT_EXTERNAL,
    CLUSTER_IP_OUTSIDE_SERVICE_CIDR,
    CLUSTER_IP_TAKEN,
    EXTERNAL_NAME_INVALID,
    EXTERNAL_NAME_IGNORED_FIELDS,
    SERVICE_WITHOUT_SELECTOR,
];

const PORTS: std::ops::RangeInclusive<u32> = 1..=65535;
/// AKS's node port range; the API server flag that sets it cannot be changed on AKS.
const NODE_PORTS: std::ops::RangeInclusive<u32> = 30000..=32767;

pub(super) fn check(index: &Index, out: &mut Vec<Diagnostic>) {
    let routed = ingress_backends(index);
    for service in &index.stack.services {
        ports(service, out);
        service_type(service, &routed, out);
    }
    node_ports(index, out);
    cluster_ips(index, out);
}

/// Where Ingresses send traffic to each Service: the backend reference and the Ingress.
fn ingress_backends<'a>(index: &Index<'a>) -> HashMap<&'a Address, Vec<(Span, &'a Address)>> {
    let mut routed: HashMap<&Address, Vec<(Span, &Address)>> = HashMap::new();
    for ingress in &index.stack.ingresses {
        let backends =
            ingress.rules.iter().flat_map(|r| r.paths.iter().map(|p| &p.backend)).chain(&ingress.default_backend);
        for backend in backends {
            routed.entry(&backend.service).or_default().push((backend.span, &ingress.address));
        }
    }
    routed
}

fn ports(service: &Service, out: &mut Vec<Diagnostic>) {
    let mut by_port: HashMap<(u32, Protocol), &ServicePort> = HashMap::new();
    let mut by_name: HashMap<&str, &ServicePort> = HashMap::new();
    for port in &service.ports {
        if !PORTS.contains(&port.port.value) {
            out.push(
                PORT_OUT_OF_RANGE
                    .diagnostic(format!(
                        "port {} of {} is {}, outside 1 to 65535",
                        port.name.value,
                        service.address,
                        shown(port.port.value)
                    ))
                    .with_primary(port.port.span, "not a port number")
                    .with_help("Kubernetes accepts ports from 1 to 65535"),
            );
        }
        if let TargetPort::Number(target) = port.target_port {
            // A target port left out takes the port's value, already reported above.
            if !PORTS.contains(&target) && target != port.port.value {
                out.push(
                    PORT_OUT_OF_RANGE
                        .diagnostic(format!(
                            "the target port of port {} of {} is {}, outside 1 to 65535",
                            port.name.value,
                            service.address,
                            shown(target)
                        ))
                        .with_primary(port.span, format!("target port {}", shown(target)))
                        .with_help("Kubernetes accepts target ports from 1 to 65535, or the name of a container port"),
                );
            }
        }
        let protocol = port.protocol.kubernetes();
        if let Some(first) = by_port.get(&(port.port.value, port.protocol)) {
            out.push(
                DUPLICATE_SERVICE_PORT
                    .diagnostic(format!("{} exposes {}/{protocol} twice", service.address, port.port.value))
                    .with_primary(port.port.span, format!("{}/{protocol} again", port.port.value))
                    .with_secondary(first.port.span, format!("first as port {}", first.name.value))
                    .with_help("Kubernetes rejects a Service with the same port and protocol twice: remove one, or give it another port"),
            );
        } else {
            by_port.insert((port.port.value, port.protocol), port);
        }
        if let Some(first) = by_name.get(port.name.value.as_str()) {
            out.push(
                DUPLICATE_PORT_NAME
                    .diagnostic(format!("{} has two ports named {}", service.address, port.name.value))
                    .with_primary(port.name.span, "same name again")
                    .with_secondary(first.name.span, "first port with this name")
                    .with_help(format!(
                        "port names are unique within a Service: rename one, e.g. `{}-{}`",
                        port.name.value, port.port.value
                    )),
            );
        } else {
            by_name.insert(&port.name.value, port);
        }
    }
}

/// A port number for messages; the model saturates numbers too large to hold.
fn shown(port: u32) -> String {
    if port == u32::MAX { "a number above 4294967294".to_string() } else { port.to_string() }
}

fn service_type(service: &Service, routed: &HashMap<&Address, Vec<(Span, &Address)>>, out: &mut Vec<Diagnostic>) {
    let kind = &service.service_type;
    let keyword = kind.value.keyword();
    let type_label =
        if kind.span == service.span { format!("type {keyword}, the default") } else { format!("type {keyword}") };
    if let ServiceType::ClusterIp { .. } = kind.value {
        for port in &service.ports {
            let Some(node_port) = &port.node_port else { continue };
            out.push(
                NODE_PORT_ON_CLUSTER_IP
                    .diagnostic(format!("port {} of {} sets a node port, but the Service is ClusterIP", port.name.value, service.address))
                    .with_primary(node_port.span, "node port")
                    .with_secondary(kind.span, type_label.clone())
                    .with_help("Kubernetes rejects node ports on ClusterIP Services: use `type = node_port` or `load_balancer`, or remove `node_port`"),
            );
        }
    }
    let external = matches!(kind.value, ServiceType::NodePort | ServiceType::LoadBalancer(_));
    if let (Some(policy), false) = (&service.external_traffic_policy, external) {
        out.push(
            EXTERNAL_TRAFFIC_POLICY_NOT_EXTERNAL
                .diagnostic(format!("{} sets external_traffic_policy but is a {keyword} Service", service.address))
                .with_primary(policy.span, "only for NodePort and LoadBalancer Services")
                .with_secondary(kind.span, type_label)
                .with_help(
                    "Kubernetes accepts external_traffic_policy only on NodePort and LoadBalancer Services: remove it",
                ),
        );
    }
    let selector = service.selector.as_ref().filter(|s| !s.value.is_empty());
    if let ServiceType::ExternalName(host) = &kind.value {
        external_name(service, host, selector.map(|s| s.span), routed.contains_key(&service.address), out);
        return;
    }
    if selector.is_some() {
        return;
    }
    let routes = routed.get(&service.address).map_or(&[][..], Vec::as_slice);
    if !external && routes.is_empty() {
        // A plain ClusterIP Service without a selector is how endpoints managed elsewhere are
        // published; only traffic sent to it from outside makes a missing selector suspect.
        return;
    }
    let mut d = SERVICE_WITHOUT_SELECTOR
        .diagnostic(format!(
            "{} has no selector, so it has no endpoints unless something else manages its EndpointSlices",
            service.address
        ))
        .with_primary(service.span, "no selector");
    if external {
        d = d.with_secondary(kind.span, format!("exposed as {keyword}"));
    }
    for (span, ingress) in routes {
        d = d.with_secondary(*span, format!("{ingress} routes here"));
    }
    out.push(d.with_help(
        "add `selector = { app = \"...\" }` matching the pods' labels; leave it out only when a controller manages the Service's EndpointSlices",
    ));
}

fn external_name(
    service: &Service,
    host: &crate::model::Spanned<String>,
    selector: Option<Span>,
    routed: bool,
    out: &mut Vec<Diagnostic>,
) {
    let name = host.value.strip_suffix('.').unwrap_or(&host.value);
    if let Err(reason) = names::dns1123_subdomain(name) {
        let lower = name.to_ascii_lowercase();
        let help = if lower != name && names::dns1123_subdomain(&lower).is_ok() {
            format!("Kubernetes accepts only lowercase DNS names: write `external_name \"{lower}\"`")
        } else {
            "an ExternalName is a DNS name such as `billing.example.com`: lowercase letters, digits, '-' and '.'"
                .to_string()
        };
        out.push(
            EXTERNAL_NAME_INVALID
                .diagnostic(format!(
                    "the ExternalName `{}` of {} is not a valid DNS name: {reason}",
                    host.value, service.address
                ))
                .with_primary(host.span, "not a DNS name")
                .with_help(help),
        );
    }
    // Ports of an ExternalName Service matter only to ingress controllers that look the
    // backend port up by name; without an Ingress sending traffic to it they do nothing.
    let ignored_ports: Vec<&ServicePort> = if routed { Vec::new() } else { service.ports.iter().collect() };
    if selector.is_none() && ignored_ports.is_empty() {
        return;
    }
    let what = match (selector.is_some(), !ignored_ports.is_empty()) {
        (true, true) => "its selector and ports",
        (true, false) => "its selector",
        _ => "its ports",
    };
    let mut d = EXTERNAL_NAME_IGNORED_FIELDS
        .diagnostic(format!("{} is an ExternalName Service: Kubernetes ignores {what}", service.address))
        .with_primary(host.span, format!("only a DNS alias for {}", host.value));
    if let Some(span) = selector {
        d = d.with_secondary(span, "ignored");
    }
    for port in ignored_ports {
        d = d.with_secondary(port.span, "ignored");
    }
    out.push(d.with_help(format!(
        "the Service only answers DNS lookups with a CNAME to {}: remove {what}, or use a ClusterIP Service to reach pods",
        host.value
    )));
}

/// A node port asked for by a Service port.
struct NodePortEntry<'a> {
    cluster: usize,
    node_port: u32,
    service: &'a Service,
    port: &'a ServicePort,
    span: Span,
}

fn node_ports(index: &Index, out: &mut Vec<Diagnostic>) {
    let mut entries = Vec::new();
    for service in &index.stack.services {
        if matches!(service.service_type.value, ServiceType::ClusterIp { .. } | ServiceType::ExternalName(_)) {
            continue;
        }
        let Some((cluster, _)) = index.cluster(&service.cluster) else { continue };
        for port in &service.ports {
            let Some(node_port) = &port.node_port else { continue };
            // 0 asks Kubernetes to choose, as in the API.
            if node_port.value == 0 {
                continue;
            }
            if !NODE_PORTS.contains(&node_port.value) {
                out.push(
                    NODE_PORT_OUT_OF_RANGE
                        .diagnostic(format!(
                            "node port {} of {} is outside 30000 to 32767",
                            node_port.value, service.address
                        ))
                        .with_primary(node_port.span, "outside the node port range")
                        .with_help("AKS serves node ports from 30000 to 32767 and the range cannot be changed: pick a port in it, or remove `node_port` to let Kubernetes choose"),
                );
                continue;
            }
            entries.push(NodePortEntry { cluster, node_port: node_port.value, service, port, span: node_port.span });
        }
    }
    entries.sort_by_key(|e| (e.cluster, e.node_port, e.span));
    let mut run_start = 0;
    for i in 0..entries.len() {
        if i > 0 && (entries[i].cluster, entries[i].node_port) != (entries[i - 1].cluster, entries[i - 1].node_port) {
            run_start = i;
        }
        let e = &entries[i];
        // Within one Service a node port may serve two protocols; across Services it may not.
        let Some(first) = entries[run_start..i]
            .iter()
            .find(|f| f.service.address != e.service.address || f.port.protocol == e.port.protocol)
        else {
            continue;
        };
        let free = first_free_node_port(&entries, e.cluster);
        let pick = free.map_or_else(|| "another port".to_string(), |p| format!("a free one, e.g. `node_port = {p}`"));
        let message = if first.service.address == e.service.address {
            format!("{} uses node port {}/{} twice", e.service.address, e.node_port, e.port.protocol.kubernetes())
        } else {
            format!(
                "node port {} is asked for by both {} and {}",
                e.node_port, first.service.address, e.service.address
            )
        };
        out.push(
            NODE_PORT_CONFLICT
                .diagnostic(message)
                .with_primary(e.span, format!("node port {} of {}", e.node_port, e.service.address))
                .with_secondary(first.span, format!("also asked for by {}", first.service.address))
                .with_help(format!(
                    "a node port opens on every node, so it is unique in the cluster: use {pick}, or remove `node_port` to let Kubernetes choose"
                )),
        );
    }
}

/// The lowest node port no Service of the cluster asks for. `entries` is sorted by cluster and port.
fn first_free_node_port(entries: &[NodePortEntry], cluster: usize) -> Option<u32> {
    let mut candidate = *NODE_PORTS.start();
    for port in entries.iter().filter(|e| e.cluster == cluster).map(|e| e.node_port) {
        if port == candidate {
            candidate += 1;
        } else if port > candidate {
            break;
        }
    }
    NODE_PORTS.contains(&candidate).then_some(candidate)
}

fn cluster_ips(index: &Index, out: &mut Vec<Diagnostic>) {
    let mut requested: Vec<(usize, Ipv4Addr, Span, &Service)> = Vec::new();
    for service in &index.stack.services {
        let ServiceType::ClusterIp { ip: Some(ip), headless: false } = &service.service_type.value else { continue };
        let Some((cluster_index, cluster)) = index.cluster(&service.cluster) else { continue };
        let network = &cluster.network;
        let range = Range::from(network.service_cidr.value);
        let help_other = format!(
            "choose another address in {}, or remove `ip` to let Kubernetes choose",
            network.service_cidr.value
        );
        if !range.contains_ip(ip.value) {
            out.push(
                CLUSTER_IP_OUTSIDE_SERVICE_CIDR
                    .diagnostic(format!(
                        "{} asks for cluster IP {}, outside the service CIDR {} of {}",
                        service.address, ip.value, network.service_cidr.value, cluster.address
                    ))
                    .with_primary(ip.span, "not in the service CIDR")
                    .with_secondary(network.service_cidr.span, format!("service CIDR of {}", cluster.address))
                    .with_help(format!("Kubernetes assigns cluster IPs only from the service CIDR: {help_other}")),
            );
            continue;
        }
        let value = u32::from(ip.value);
        let taken = if value == range.start || value == range.end {
            Some("the network or broadcast address of the service CIDR, which Kubernetes never assigns".to_string())
        } else if value == range.start.wrapping_add(1) {
            Some("taken by the `kubernetes` Service, which always gets the first address".to_string())
        } else if ip.value == network.dns_service_ip.value {
            Some(format!("the cluster's DNS service IP, taken by CoreDNS ({})", network.dns_service_ip.value))
        } else {
            None
        };
        match taken {
            Some(why) => out.push(
                CLUSTER_IP_TAKEN
                    .diagnostic(format!("{} asks for cluster IP {}, which is {why}", service.address, ip.value))
                    .with_primary(ip.span, "already taken")
                    .with_secondary(network.dns_service_ip.span, "the cluster's DNS service IP")
                    .with_help(format!(
                        "Kubernetes rejects it with \"provided IP is already allocated\": {help_other}"
                    )),
            ),
            None => requested.push((cluster_index, ip.value, ip.span, service)),
        }
    }
    requested.sort_by_key(|(cluster, ip, span, _)| (*cluster, *ip, *span));
    for pair in requested.windows(2) {
        let ((ca, ipa, span_a, a), (cb, ipb, span_b, b)) = (&pair[0], &pair[1]);
        if ca != cb || ipa != ipb {
            continue;
        }
        out.push(
            CLUSTER_IP_TAKEN
                .diagnostic(format!("{} and {} both ask for cluster IP {ipb}", a.address, b.address))
                .with_primary(*span_b, format!("also asked for by {}", a.address))
                .with_secondary(*span_a, format!("{} asks for it here", a.address))
                .with_help("Kubernetes gives a cluster IP to one Service only: choose another address, or remove `ip` to let Kubernetes choose"),
        );
    }
}

#[cfg(test)]
mod tests;
