//! Load balancer rules (AKS320-AKS330): frontends shared by several Services, the private
//! addresses of internal load balancers, and the public IPs of external ones, as Azure's
//! cloud provider for Kubernetes allocates them.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use super::RuleInfo;
use super::capacity::{HostDemand, held_addresses, host_demand};
use super::index::Index;
use super::ranges::{AZURE_RESERVED_PER_SUBNET, Range, count, nth};
use crate::diag::{Diagnostic, Span};
use crate::model::{
    Address, Allocation, Cluster, LoadBalancer, Protocol, PublicIpSku, Service, ServiceType, Spanned, Subnet,
};

pub(super) const LOAD_BALANCER_PORT_CONFLICT: RuleInfo = rule!(
    "AKS320",
    "load-balancer-port-conflict",
    Error,
    "Two LoadBalancer Services on one frontend IP use the same port and protocol"
);
pub(super) const INTERNAL_IP_OUTSIDE_SUBNET: RuleInfo =
    rule!("AKS321", "internal-ip-outside-subnet", Error, "An internal load balancer's IP is not inside its subnet");
pub(super) const INTERNAL_IP_RESERVED: RuleInfo = rule!(
    "AKS322",
    "internal-ip-reserved",
    Error,
    "An internal load balancer's IP is one of the 5 addresses Azure keeps"
);
pub(super) const INTERNAL_IP_TAKEN: RuleInfo =
    rule!("AKS323", "internal-ip-taken", Error, "Internal load balancers of two clusters ask for the same IP");
pub(super) const INTERNAL_IP_IN_NODE_RANGE: RuleInfo = rule!(
    "AKS324",
    "internal-ip-in-node-range",
    Warning,
    "An internal load balancer's IP lies in the addresses nodes and pods take"
);
pub(super) const PUBLIC_IP_NOT_STANDARD_STATIC: RuleInfo = rule!(
    "AKS325",
    "public-ip-not-standard-static",
    Error,
    "A Service uses a public IP that is not Standard and static"
);
pub(super) const PUBLIC_IP_OUTSIDE_NODE_RESOURCE_GROUP: RuleInfo = rule!(
    "AKS326",
    "public-ip-outside-node-resource-group",
    Warning,
    "A Service uses a public IP outside the cluster's node resource group"
);
pub(super) const PUBLIC_IP_SHARED_BY_CLUSTERS: RuleInfo =
    rule!("AKS327", "public-ip-shared-by-clusters", Error, "Services of two clusters use the same public IP");
pub(super) const PUBLIC_IP_REGION_MISMATCH: RuleInfo = rule!(
    "AKS328",
    "public-ip-region-mismatch",
    Error,
    "A Service uses a public IP in another region than its cluster"
);
pub(super) const TOO_MANY_LOAD_BALANCERS: RuleInfo =
    rule!("AKS329", "too-many-load-balancers", Error, "A cluster has more than 300 LoadBalancer Services");
pub(super) const INTERNAL_SUBNET_OUTSIDE_CLUSTER_NETWORK: RuleInfo = rule!(
    "AKS330",
    "internal-subnet-outside-cluster-network",
    Error,
    "An internal load balancer's subnet is not in the cluster's virtual network"
);

pub(super) const RULES: &[RuleInfo] = &[
    LOAD_BALANCER_PORT_CONFLICT,
    INTERNAL_IP_OUTSIDE_SUBNET,
    INTERNAL_IP_RESERVED,
    INTERNAL_IP_TAKEN,
    INTERNAL_IP_IN_NODE_RANGE,
    PUBLIC_IP_NOT_STANDARD_STATIC,
    PUBLIC_IP_OUTSIDE_NODE_RESOURCE_GROUP,
    PUBLIC_IP_SHARED_BY_CLUSTERS,
    PUBLIC_IP_REGION_MISMATCH,
    TOO_MANY_LOAD_BALANCERS,
    INTERNAL_SUBNET_OUTSIDE_CLUSTER_NETWORK,
];

const MAX_LOAD_BALANCERS: usize = 300;

/// A LoadBalancer Service with its cluster.
struct Balanced<'a> {
    service: &'a Service,
    lb: &'a LoadBalancer,
    cluster_index: usize,
    cluster: &'a Cluster,
}

pub(super) fn check(index: &Index, out: &mut Vec<Diagnostic>) {
    let balanced: Vec<Balanced> =
        index
            .stack
            .services
            .iter()
            .filter_map(|service| match &service.service_type.value {
                ServiceType::LoadBalancer(lb) => index
                    .cluster(&service.cluster)
                    .map(|(cluster_index, cluster)| Balanced { service, lb, cluster_index, cluster }),
                _ => None,
            })
            .collect();
    port_conflicts(&balanced, out);
    internal_ips(index, &balanced, out);
    public_ips(index, &balanced, out);
    load_balancer_count(index, &balanced, out);
}

/// The frontend IP a Service is reached on, when it names one; Services naming the same
/// frontend share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Frontend<'a> {
    PublicIp(&'a Address),
    Address { internal: bool, ip: Ipv4Addr },
}

fn frontend<'a>(lb: &'a LoadBalancer) -> Option<Frontend<'a>> {
    match (&lb.public_ip, &lb.ip) {
        (Some(pip), _) if !lb.internal => Some(Frontend::PublicIp(&pip.value)),
        (_, Some(ip)) => Some(Frontend::Address { internal: lb.internal, ip: ip.value }),
        _ => None,
    }
}

fn port_conflicts(balanced: &[Balanced], out: &mut Vec<Diagnostic>) {
    let mut entries: Vec<(usize, Frontend, u32, Protocol, Span, &Service)> = Vec::new();
    for b in balanced {
        let Some(front) = frontend(b.lb) else { continue };
        for port in &b.service.ports {
            entries.push((b.cluster_index, front, port.port.value, port.protocol, port.port.span, b.service));
        }
    }
    entries.sort_by_key(|(cluster, front, port, protocol, span, _)| (*cluster, *front, *port, *protocol, *span));
    let mut run_start = 0;
    for i in 0..entries.len() {
        let key = |j: usize| (entries[j].0, entries[j].1, entries[j].2, entries[j].3);
        if i > 0 && key(i) != key(i - 1) {
            run_start = i;
        }
        let (_, front, port, protocol, span, service) = &entries[i];
        // Two ports of one Service are the duplicate-port rule's to report.
        let Some((.., first_span, first)) = entries[run_start..i].iter().find(|e| e.5.address != service.address)
        else {
            continue;
        };
        let on = match front {
            Frontend::PublicIp(address) => format!("public IP {address}"),
            Frontend::Address { ip, .. } => format!("IP {ip}"),
        };
        out.push(
            LOAD_BALANCER_PORT_CONFLICT
                .diagnostic(format!(
                    "{} and {} both listen on {port}/{} of {on}",
                    first.address,
                    service.address,
                    protocol.kubernetes()
                ))
                .with_primary(*span, format!("{port}/{} again on {on}", protocol.kubernetes()))
                .with_secondary(*first_span, format!("{} listens here", first.address))
                .with_help(
                    "Services share a frontend IP only on different ports (one load-balancing rule per port and protocol): move one to another port, or give it its own IP",
                ),
        );
    }
}

/// The subnet an internal load balancer's frontend goes to, with the span that chose it.
fn frontend_subnet<'a>(index: &Index<'a>, b: &Balanced<'a>) -> Option<(&'a Subnet, Span)> {
    match &b.lb.subnet {
        Some(s) => index.subnets.get(&s.value).map(|subnet| (*subnet, s.span)),
        None => {
            let subnet = index.load_balancer_subnet(b.cluster)?;
            let span = b.cluster.network.subnet.as_ref().map_or(b.cluster.network.span, |s| s.span);
            Some((subnet, span))
        }
    }
}

fn internal_ips(index: &Index, balanced: &[Balanced], out: &mut Vec<Diagnostic>) {
    let demand = host_demand(index);
    let mut requested: HashMap<&Address, HashSet<Ipv4Addr>> = HashMap::new();
    let mut targets: Vec<(&Balanced, &Spanned<Ipv4Addr>, &Subnet, Span)> = Vec::new();
    for b in balanced.iter().filter(|b| b.lb.internal) {
        if let Some(s) = &b.lb.subnet {
            let Some(subnet) = index.subnets.get(&s.value) else { continue };
            let vnets = index.cluster_vnets(b.cluster);
            if !vnets.iter().any(|v| v.address == subnet.vnet) {
                let network = match vnets.first() {
                    Some(v) => format!("the cluster's network is {}", v.address),
                    None => "the cluster's network is managed by AKS".to_string(),
                };
                out.push(
                    INTERNAL_SUBNET_OUTSIDE_CLUSTER_NETWORK
                        .diagnostic(format!(
                            "{} puts its internal load balancer in {}, outside the network of {}",
                            b.service.address, subnet.address, b.cluster.address
                        ))
                        .with_primary(s.span, format!("{} is in {}", subnet.address, subnet.vnet))
                        .with_secondary(b.cluster.network.span, network)
                        .with_help("the cloud provider looks the subnet up by name in the cluster's own network: use a subnet of that network"),
                );
                continue;
            }
        }
        let (Some(ip), Some((subnet, chosen_by))) = (&b.lb.ip, frontend_subnet(index, b)) else { continue };
        requested.entry(&subnet.address).or_default().insert(ip.value);
        targets.push((b, ip, subnet, chosen_by));
    }
    // What others hold in an existing subnet is no free address to suggest.
    for (_, _, subnet, _) in &targets {
        let held: Vec<Ipv4Addr> = held_addresses(index, &subnet.address).into_iter().map(|(ip, _)| ip).collect();
        requested.entry(&subnet.address).or_default().extend(held);
    }
    let mut claims: Vec<(&Address, Ipv4Addr, usize, Span, &Balanced)> = Vec::new();
    for (b, ip, subnet, chosen_by) in targets {
        let range = Range::from(subnet.prefix.value);
        let hosts = demand.get(&subnet.address);
        let taken = requested.get(&subnet.address);
        let suggestion = free_address(subnet, hosts, taken).map_or_else(String::new, |a| format!(", e.g. `ip = {a}`"));
        let chosen_label = if b.lb.subnet.is_some() {
            format!("frontend subnet {} ({})", subnet.address, subnet.prefix.value)
        } else {
            format!(
                "without `subnet`, the frontend goes to the node subnet {} ({})",
                subnet.address, subnet.prefix.value
            )
        };
        if !range.contains_ip(ip.value) {
            let containing = index
                .cluster_vnets(b.cluster)
                .iter()
                .flat_map(|v| index.subnets_in(&v.address))
                .find(|s| s.prefix.value.contains(&ip.value))
                .map_or_else(String::new, |s| format!(", or write `subnet = {}`, which contains it", s.address));
            out.push(
                INTERNAL_IP_OUTSIDE_SUBNET
                    .diagnostic(format!(
                        "{} asks for {} but its frontend subnet {} is {}",
                        b.service.address, ip.value, subnet.address, subnet.prefix.value
                    ))
                    .with_primary(ip.span, format!("not in {}", subnet.prefix.value))
                    .with_secondary(chosen_by, chosen_label)
                    .with_help(format!("use a free address of {}{suggestion}{containing}", subnet.address)),
            );
            continue;
        }
        let offset = u64::from(u32::from(ip.value) - range.start);
        let reserved = match offset {
            0 => Some("the network address"),
            1 => Some("the default gateway"),
            2 | 3 => Some("kept for Azure DNS"),
            _ if u32::from(ip.value) == range.end => Some("the broadcast address"),
            _ => None,
        };
        if let Some(what) = reserved {
            out.push(
                INTERNAL_IP_RESERVED
                    .diagnostic(format!("{} asks for {}, {what} of {}", b.service.address, ip.value, subnet.address))
                    .with_primary(ip.span, format!("reserved by Azure: {what}"))
                    .with_secondary(chosen_by, chosen_label)
                    .with_help(format!(
                        "Azure keeps the first four and the last address of every subnet: use another address{suggestion}"
                    )),
            );
            continue;
        }
        if let Some((_, holder)) =
            held_addresses(index, &subnet.address).into_iter().find(|(held, _)| *held == ip.value)
        {
            out.push(
                INTERNAL_IP_TAKEN
                    .diagnostic(format!(
                        "{} asks for {}, which {} already holds in {}",
                        b.service.address,
                        ip.value,
                        holder_name(holder),
                        subnet.address
                    ))
                    .with_primary(ip.span, format!("held by {} (read from Azure)", holder_name(holder)))
                    .with_secondary(chosen_by, chosen_label)
                    .with_help(format!(
                        "{holder} holds it, and a private IP has one holder: the Service would stay pending with PrivateIPAddressInUse. Use a free address{suggestion}"
                    )),
            );
            continue;
        }
        claims.push((&subnet.vnet, ip.value, b.cluster_index, ip.span, b));
        let Some(hosts) = hosts else { continue };
        let first = 4u64;
        let last = first + hosts.addresses - 1;
        // A subnet that cannot hold its nodes and pods is the subnet-too-small rule's finding.
        let overflows = last >= u64::from(range.end - range.start);
        if hosts.addresses > 0 && !overflows && (first..=last).contains(&offset) {
            let mut d = INTERNAL_IP_IN_NODE_RANGE
                .diagnostic(format!(
                    "{} asks for {}, among the first {} of {}, which nodes and pods take",
                    b.service.address,
                    ip.value,
                    count(hosts.addresses, "address", "addresses"),
                    subnet.address
                ))
                .with_primary(
                    ip.span,
                    format!(
                        "{} to {} go to nodes and pods",
                        nth(subnet.prefix.value, first),
                        nth(subnet.prefix.value, last)
                    ),
                )
                .with_secondary(chosen_by, chosen_label);
            for part in &hosts.parts {
                d = d.with_secondary(part.span, part.label.clone());
            }
            out.push(d.with_help(format!(
                "Azure gives nodes and pods the lowest free addresses; if one holds {} when the Service is created, it stays pending with PrivateIPAddressInUse. Use an address above the nodes' range{suggestion}, or a subnet of its own for internal load balancers",
                ip.value
            )));
        }
    }
    claims.sort_by_key(|(vnet, ip, cluster, span, _)| (*vnet, *ip, *cluster, *span));
    let mut run_start = 0;
    for i in 0..claims.len() {
        if i > 0 && (claims[i].0, claims[i].1) != (claims[i - 1].0, claims[i - 1].1) {
            run_start = i;
        }
        let (_, ip, cluster, span, b) = &claims[i];
        // Services of one cluster asking for one address share its frontend.
        let Some((.., first_span, first)) = claims[run_start..i].iter().find(|c| c.2 != *cluster) else { continue };
        out.push(
            INTERNAL_IP_TAKEN
                .diagnostic(format!(
                    "{} of {} and {} of {} both ask for {ip}",
                    first.service.address, first.cluster.address, b.service.address, b.cluster.address
                ))
                .with_primary(*span, format!("also asked for by {}", first.service.address))
                .with_secondary(*first_span, format!("{} asks for it here", first.service.address))
                .with_help("each cluster has its own internal load balancer, and a private IP belongs to one of them: choose another address"),
        );
    }
}

/// The resource that holds an IP configuration, as `TYPE NAME` (`network interface nic-db`),
/// from the configuration's id; the id itself when it has no such shape.
fn holder_name(configuration: &str) -> String {
    let segments: Vec<&str> = configuration.trim_matches('/').split('/').collect();
    let at = segments.iter().position(|s| s.eq_ignore_ascii_case("providers"));
    match at.and_then(|at| segments.get(at + 2..at + 4)) {
        Some([kind, name]) => {
            let noun = match kind.to_ascii_lowercase().as_str() {
                "networkinterfaces" => "network interface",
                "loadbalancers" => "load balancer",
                "applicationgateways" => "application gateway",
                "privateendpoints" => "private endpoint",
                "virtualmachinescalesets" => "scale set",
                _ => kind,
            };
            format!("{noun} {name}")
        }
        _ => configuration.to_string(),
    }
}

/// The highest address of a subnet that Azure does not keep, nodes and pods do not take and
/// no internal load balancer asks for.
fn free_address(subnet: &Subnet, hosts: Option<&HostDemand>, taken: Option<&HashSet<Ipv4Addr>>) -> Option<Ipv4Addr> {
    let range = Range::from(subnet.prefix.value);
    let lowest = u64::from(range.start) + AZURE_RESERVED_PER_SUBNET - 1 + hosts.map_or(0, |h| h.addresses);
    let mut candidate = u64::from(range.end).checked_sub(1)?;
    while candidate >= lowest {
        let ip = Ipv4Addr::from(candidate as u32);
        if !taken.is_some_and(|t| t.contains(&ip)) {
            return Some(ip);
        }
        candidate = candidate.checked_sub(1)?;
    }
    None
}

fn public_ips(index: &Index, balanced: &[Balanced], out: &mut Vec<Diagnostic>) {
    // Services by public IP, in stack order.
    let mut users: Vec<(&Address, Vec<&Balanced>)> = Vec::new();
    for b in balanced {
        let Some(pip) = b.lb.public_ip.as_ref().filter(|_| !b.lb.internal) else { continue };
        match users.iter_mut().find(|(a, _)| *a == &pip.value) {
            Some((_, list)) => list.push(b),
            None => users.push((&pip.value, vec![b])),
        }
    }
    for (address, list) in &users {
        let Some(pip) = index.public_ips.get(address) else { continue };
        let reference = |b: &Balanced| b.lb.public_ip.as_ref().map_or(b.lb.span, |p| p.span);
        let (sku, allocation) = (pip.sku.value, pip.allocation.value);
        if sku != PublicIpSku::Standard || allocation != Allocation::Static {
            let primary = if sku != PublicIpSku::Standard { pip.sku.span } else { pip.allocation.span };
            let kind = format!(
                "{} {}",
                if sku == PublicIpSku::Standard { "Standard" } else { "Basic" },
                if allocation == Allocation::Static { "static" } else { "dynamic" }
            );
            let mut d = PUBLIC_IP_NOT_STANDARD_STATIC
                .diagnostic(format!("{address} is a {kind} public IP; AKS allocates only from Standard static IPs"))
                .with_primary(primary, kind);
            for b in list {
                d = d.with_secondary(reference(b), format!("used by {}", b.service.address));
            }
            out.push(d.with_help(format!(
                "the cluster's Standard load balancer takes only Standard static IPs: remove `sku` and `allocation` from public_ip \"{}\" (Standard and static are the defaults)",
                address.name
            )));
        }
        // Per cluster that uses the IP: placement and region.
        let mut clusters: Vec<&Balanced> = Vec::new();
        for b in list {
            if !clusters.iter().any(|c| c.cluster_index == b.cluster_index) {
                clusters.push(b);
            }
        }
        if let [first, second, ..] = clusters.as_slice() {
            out.push(
                PUBLIC_IP_SHARED_BY_CLUSTERS
                    .diagnostic(format!("{address} is used by Services of {} and {}", first.cluster.address, second.cluster.address))
                    .with_primary(reference(second), format!("{} of {}", second.service.address, second.cluster.address))
                    .with_secondary(reference(first), format!("{} of {}", first.service.address, first.cluster.address))
                    .with_help("a public IP belongs to one load balancer and every cluster has its own: give each cluster its own public IP"),
            );
        }
        for b in &clusters {
            let cluster = b.cluster;
            if pip.location != cluster.location {
                out.push(
                    PUBLIC_IP_REGION_MISMATCH
                        .diagnostic(format!(
                            "{} of {} ({}) uses {address}, which is in {}",
                            b.service.address, cluster.address, cluster.location, pip.location
                        ))
                        .with_primary(reference(b), format!("{} is in {}", address, pip.location))
                        .with_secondary(pip.span, format!("in {}", pip.location))
                        .with_help(format!(
                            "a load balancer takes public IPs of its own region: create the IP in {}",
                            cluster.location
                        )),
                );
            }
            let in_node_group = pip.resource_group_owner == cluster.address
                || pip.resource_group.eq_ignore_ascii_case(&cluster.node_resource_group);
            // An IP shared by clusters is outside some cluster's node group; that rule says why.
            if !in_node_group && clusters.len() == 1 {
                let annotation = match &b.lb.resource_group {
                    Some(rg) => format!(
                        "aksform sets the service.beta.kubernetes.io/azure-load-balancer-resource-group annotation to {rg}, but the cluster identity also needs"
                    ),
                    None => format!(
                        "write `resource_group = \"{}\"` in the load balancer; the cluster identity also needs",
                        pip.resource_group
                    ),
                };
                out.push(
                    PUBLIC_IP_OUTSIDE_NODE_RESOURCE_GROUP
                        .diagnostic(format!(
                            "{address} is in resource group {}, not in the node resource group {} of {}",
                            pip.resource_group, cluster.node_resource_group, cluster.address
                        ))
                        .with_primary(reference(b), format!("used by {}", b.service.address))
                        .with_secondary(pip.span, format!("in {}", pip.resource_group))
                        .with_help(format!(
                            "{annotation} the Network Contributor role on {}, which aksform does not grant; or create the IP with `resource_group = cluster.{}.node_resource_group`",
                            pip.resource_group, cluster.address.name
                        )),
                );
            }
        }
    }
}

fn load_balancer_count(index: &Index, balanced: &[Balanced], out: &mut Vec<Diagnostic>) {
    let mut per_cluster: HashMap<usize, Vec<&Balanced>> = HashMap::new();
    for b in balanced {
        per_cluster.entry(b.cluster_index).or_default().push(b);
    }
    for (cluster_index, list) in per_cluster {
        let cluster = &index.stack.clusters[cluster_index];
        if list.len() <= MAX_LOAD_BALANCERS || cluster.network.load_balancer_sku != "standard" {
            continue;
        }
        let extra = list[MAX_LOAD_BALANCERS];
        out.push(
            TOO_MANY_LOAD_BALANCERS
                .diagnostic(format!(
                    "{} has {} LoadBalancer Services; AKS supports at most 300",
                    cluster.address,
                    list.len()
                ))
                .with_primary(extra.service.service_type.span, "LoadBalancer Service number 301")
                .with_secondary(cluster.span, "in this cluster")
                .with_help(
                    "put HTTP Services behind an Ingress, or share frontends between Services on different ports",
                ),
        );
    }
}

#[cfg(test)]
mod tests;
