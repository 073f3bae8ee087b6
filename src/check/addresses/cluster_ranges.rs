//! Each cluster's ranges (AKS107-AKS114): the service CIDR against the cluster's subnets,
//! its networks, peered networks and the pod CIDR; the pod CIDR against the networks; the
//! ranges AKS reserves; and the DNS service IP within the service CIDR.

use std::collections::HashSet;

use ipnet::Ipv4Net;

use super::{all_address_spaces, range_label};
use crate::check::RuleInfo;
use crate::check::index::Index;
use crate::check::ranges::{AKS_RESERVED_RANGES, Range, free_private_block, nth, overlaps};
use crate::diag::{Diagnostic, Span};
use crate::model::{Address, Cluster, Spanned, Subnet, Vnet};

pub(super) const SERVICE_CIDR_OVERLAPS_SUBNET: RuleInfo =
    rule!("AKS107", "service-cidr-overlaps-subnet", Error, "A service CIDR overlaps a subnet of the cluster's network");
pub(super) const SERVICE_CIDR_OVERLAPS_VNET: RuleInfo = rule!(
    "AKS108",
    "service-cidr-overlaps-vnet",
    Error,
    "A service CIDR overlaps the cluster's virtual network or a peered one"
);
pub(super) const SERVICE_CIDR_OVERLAPS_POD_CIDR: RuleInfo =
    rule!("AKS109", "service-cidr-overlaps-pod-cidr", Error, "A service CIDR overlaps the cluster's pod CIDR");
pub(super) const POD_CIDR_OVERLAPS_VNET: RuleInfo = rule!(
    "AKS110",
    "pod-cidr-overlaps-vnet",
    Error,
    "A pod CIDR overlaps the cluster's virtual network or a peered one"
);
pub(super) const RANGE_RESERVED_BY_AKS: RuleInfo = rule!(
    "AKS111",
    "range-reserved-by-aks",
    Error,
    "A service, pod or cluster network range uses addresses AKS reserves"
);
pub(super) const SERVICE_CIDR_TOO_LARGE: RuleInfo =
    rule!("AKS112", "service-cidr-too-large", Error, "A service CIDR is larger than /12");
pub(super) const DNS_SERVICE_IP_OUTSIDE_SERVICE_CIDR: RuleInfo =
    rule!("AKS113", "dns-service-ip-outside-service-cidr", Error, "The DNS service IP is not inside the service CIDR");
pub(super) const DNS_SERVICE_IP_RESERVED: RuleInfo = rule!(
    "AKS114",
    "dns-service-ip-reserved",
    Error,
    "The DNS service IP is the service CIDR's network, first or broadcast address"
);

/// A replacement service CIDR (with its DNS service IP) clear of every network and the pod CIDR.
fn service_cidr_proposal(index: &Index, cluster: &Cluster) -> String {
    let network = &cluster.network;
    let mut used = all_address_spaces(index);
    used.extend(network.pod_cidr.as_ref().map(|p| p.value));
    let prefix = network.service_cidr.value.prefix_len().max(16);
    match free_private_block(&used, prefix) {
        Some(free) => format!("use e.g. `service_cidr = {free}` with `dns_service_ip = {}`", nth(free, 10)),
        None => "pick a private range that no network of the stack uses".to_string(),
    }
}

/// A replacement pod CIDR of `prefix` clear of every network and the service CIDR.
pub(in crate::check) fn pod_cidr_proposal(index: &Index, cluster: &Cluster, prefix: u8) -> String {
    let mut used = all_address_spaces(index);
    used.push(cluster.network.service_cidr.value);
    match free_private_block(&used, prefix) {
        Some(free) => format!("use e.g. `pod_cidr = {free}`"),
        None => "pick a private range that no network of the stack uses".to_string(),
    }
}

pub(super) fn reserved_ranges(index: &Index, out: &mut Vec<Diagnostic>) {
    let reserved_overlap = |n: Ipv4Net| AKS_RESERVED_RANGES.iter().find(|(r, _)| overlaps(*r, n));
    let mut seen_vnets: HashSet<&Address> = HashSet::new();
    let mut seen_subnets: HashSet<&Address> = HashSet::new();
    for cluster in &index.stack.clusters {
        let network = &cluster.network;
        let service = &network.service_cidr;
        if let Some((reserved, why)) = reserved_overlap(service.value) {
            out.push(
                RANGE_RESERVED_BY_AKS
                    .diagnostic(format!(
                        "the service CIDR {} of {} overlaps {reserved} ({why})",
                        service.value, cluster.address
                    ))
                    .with_primary(service.span, range_label("service CIDR", service.value, service.span, cluster))
                    .with_help(format!("AKS refuses {}; {}", reserved_list(), service_cidr_proposal(index, cluster))),
            );
        }
        if let Some(pod) = &network.pod_cidr
            && let Some((reserved, why)) = reserved_overlap(pod.value)
        {
            out.push(
                RANGE_RESERVED_BY_AKS
                    .diagnostic(format!(
                        "the pod CIDR {} of {} overlaps {reserved} ({why})",
                        pod.value, cluster.address
                    ))
                    .with_primary(pod.span, range_label("pod CIDR", pod.value, pod.span, cluster))
                    .with_help(format!(
                        "AKS refuses {}; {}",
                        reserved_list(),
                        pod_cidr_proposal(index, cluster, pod.value.prefix_len())
                    )),
            );
        }
        // A network address space wholly inside a reserved range, else the subnets the
        // cluster uses: a large space that merely contains a reserved range is fine as long
        // as the cluster's subnets stay out of it.
        let mut flagged_spaces: Vec<Ipv4Net> = Vec::new();
        for vnet in index.cluster_vnets(cluster) {
            for space in &vnet.address_space {
                let Some((reserved, why)) = AKS_RESERVED_RANGES.iter().find(|(r, _)| r.contains(&space.value)) else {
                    continue;
                };
                flagged_spaces.push(space.value);
                if seen_vnets.insert(&vnet.address) {
                    out.push(
                        RANGE_RESERVED_BY_AKS
                            .diagnostic(format!(
                                "the address space {} of {} is inside {reserved} ({why}), and {} uses the network",
                                space.value, vnet.address, cluster.address
                            ))
                            .with_primary(space.span, format!("inside {reserved}"))
                            .with_help(format!(
                                "AKS refuses cluster networks in {}; move the network to another private range",
                                reserved_list()
                            )),
                    );
                }
            }
        }
        for subnet in index.cluster_subnets(cluster) {
            if flagged_spaces.iter().any(|s| s.contains(&subnet.prefix.value)) {
                continue;
            }
            let Some((reserved, why)) = reserved_overlap(subnet.prefix.value) else { continue };
            if seen_subnets.insert(&subnet.address) {
                out.push(
                    RANGE_RESERVED_BY_AKS
                        .diagnostic(format!(
                            "{} ({}) overlaps {reserved} ({why}), and {} places nodes or pods in it",
                            subnet.address, subnet.prefix.value, cluster.address
                        ))
                        .with_primary(subnet.prefix.span, format!("overlaps {reserved}"))
                        .with_secondary(network.span, format!("{} uses this subnet", cluster.address))
                        .with_help(format!(
                            "AKS refuses cluster subnets in {}; move the subnet to another range",
                            reserved_list()
                        )),
                );
            }
        }
    }
}

fn reserved_list() -> String {
    let ranges: Vec<String> = AKS_RESERVED_RANGES.iter().map(|(r, _)| r.to_string()).collect();
    ranges.join(", ")
}

pub(super) fn service_range(index: &Index, cluster: &Cluster, out: &mut Vec<Diagnostic>) {
    let network = &cluster.network;
    let service: &Spanned<Ipv4Net> = &network.service_cidr;
    let service_label = range_label("service CIDR", service.value, service.span, cluster);
    if service.value.prefix_len() < 12 {
        let smaller = Ipv4Net::new(service.value.network(), 16).map(|n| n.trunc()).unwrap_or(service.value);
        out.push(
            SERVICE_CIDR_TOO_LARGE
                .diagnostic(format!("the service CIDR {} of {} is larger than /12", service.value, cluster.address))
                .with_primary(service.span, format!("a /{}", service.value.prefix_len()))
                .with_help(format!(
                    "AKS accepts service CIDRs up to a /12; a /16 (65,536 Service IPs) is plenty: e.g. `service_cidr = {smaller}`"
                )),
        );
    }
    let vnets = index.cluster_vnets(cluster);
    let mut subnet_hits: Vec<&Subnet> = Vec::new();
    let mut space_hits: Vec<(&Vnet, &Spanned<Ipv4Net>, Option<Span>)> = Vec::new();
    for vnet in &vnets {
        let hits: Vec<&Subnet> = index
            .subnets_in(&vnet.address)
            .iter()
            .copied()
            .filter(|s| overlaps(service.value, s.prefix.value))
            .collect();
        if hits.is_empty() {
            space_hits.extend(
                vnet.address_space.iter().filter(|s| overlaps(service.value, s.value)).map(|s| (*vnet, s, None)),
            );
        }
        subnet_hits.extend(hits);
    }
    for vnet in &vnets {
        for (peer, peering) in index.peers_of(&vnet.address) {
            let Some(peer) = index.vnets.get(peer) else { continue };
            if vnets.iter().any(|v| v.address == peer.address)
                || space_hits.iter().any(|(v, _, _)| v.address == peer.address)
            {
                continue;
            }
            space_hits.extend(
                peer.address_space
                    .iter()
                    .filter(|s| overlaps(service.value, s.value))
                    .map(|s| (*peer, s, Some(peering.span))),
            );
        }
    }
    if let Some(first) = subnet_hits.first() {
        let more = match subnet_hits.len() - 1 {
            0 => String::new(),
            n => format!(" and {n} more subnet{}", if n == 1 { "" } else { "s" }),
        };
        let mut d = SERVICE_CIDR_OVERLAPS_SUBNET
            .diagnostic(format!(
                "the service CIDR {} of {} overlaps {} ({}){more}",
                service.value, cluster.address, first.address, first.prefix.value
            ))
            .with_primary(service.span, service_label.clone());
        for s in &subnet_hits {
            d = d.with_secondary(s.prefix.span, format!("{} is here", s.address));
        }
        out.push(d.with_help(format!(
            "AKS rejects the cluster with ServiceCidrOverlapExistingSubnetsCidr, at creation and before every upgrade; {}",
            service_cidr_proposal(index, cluster)
        )));
    }
    if let Some((vnet, space, _)) = space_hits.first() {
        let mut d = SERVICE_CIDR_OVERLAPS_VNET
            .diagnostic(format!(
                "the service CIDR {} of {} overlaps the address space {} of {}",
                service.value, cluster.address, space.value, vnet.address
            ))
            .with_primary(service.span, service_label.clone());
        for (vnet, space, peering) in &space_hits {
            d = match peering {
                Some(p) => d
                    .with_secondary(space.span, format!("address space of {}, a peered network", vnet.address))
                    .with_secondary(*p, "peered here"),
                None => {
                    d.with_secondary(space.span, format!("address space of {}, the cluster's network", vnet.address))
                }
            };
        }
        out.push(d.with_help(format!(
            "pods cannot reach addresses of a connected network that fall in the service CIDR; {}",
            service_cidr_proposal(index, cluster)
        )));
    }
    if let Some(pod) = &network.pod_cidr
        && overlaps(service.value, pod.value)
    {
        out.push(
            SERVICE_CIDR_OVERLAPS_POD_CIDR
                .diagnostic(format!(
                    "the service CIDR {} of {} overlaps its pod CIDR {}",
                    service.value, cluster.address, pod.value
                ))
                .with_primary(service.span, service_label)
                .with_secondary(pod.span, range_label("pod CIDR", pod.value, pod.span, cluster))
                .with_help(format!(
                    "Service IPs and pod IPs must not collide; {}",
                    service_cidr_proposal(index, cluster)
                )),
        );
    }
}

pub(super) fn pod_range(index: &Index, cluster: &Cluster, out: &mut Vec<Diagnostic>) {
    let Some(pod) = &cluster.network.pod_cidr else { return };
    let vnets = index.cluster_vnets(cluster);
    let mut hits: Vec<(&Vnet, &Spanned<Ipv4Net>, Option<Span>)> = Vec::new();
    for vnet in &vnets {
        hits.extend(vnet.address_space.iter().filter(|s| overlaps(pod.value, s.value)).map(|s| (*vnet, s, None)));
        for (peer, peering) in index.peers_of(&vnet.address) {
            let Some(peer) = index.vnets.get(peer) else { continue };
            if vnets.iter().any(|v| v.address == peer.address) || hits.iter().any(|(v, _, _)| v.address == peer.address)
            {
                continue;
            }
            hits.extend(
                peer.address_space
                    .iter()
                    .filter(|s| overlaps(pod.value, s.value))
                    .map(|s| (*peer, s, Some(peering.span))),
            );
        }
    }
    let Some((vnet, space, _)) = hits.first() else { return };
    let mut d = POD_CIDR_OVERLAPS_VNET
        .diagnostic(format!(
            "the pod CIDR {} of {} overlaps the address space {} of {}",
            pod.value, cluster.address, space.value, vnet.address
        ))
        .with_primary(pod.span, range_label("pod CIDR", pod.value, pod.span, cluster));
    for (vnet, space, peering) in &hits {
        d = match peering {
            Some(p) => d
                .with_secondary(space.span, format!("address space of {}, a peered network", vnet.address))
                .with_secondary(*p, "peered here"),
            None => d.with_secondary(space.span, format!("address space of {}, the cluster's network", vnet.address)),
        };
    }
    out.push(d.with_help(format!(
        "{} pod addresses are not routed in the network, so they must not overlap it or anything connected to it; {}",
        cluster.network.plugin.keyword(),
        pod_cidr_proposal(index, cluster, pod.value.prefix_len())
    )));
}

pub(super) fn dns_service_ip(cluster: &Cluster, out: &mut Vec<Diagnostic>) {
    let network = &cluster.network;
    let (service, dns) = (&network.service_cidr, &network.dns_service_ip);
    let dns_label = range_label("DNS service IP", dns.value, dns.span, cluster);
    let suggestion = nth(service.value, 10);
    if !service.value.contains(&dns.value) {
        out.push(
            DNS_SERVICE_IP_OUTSIDE_SERVICE_CIDR
                .diagnostic(format!(
                    "the DNS service IP {} of {} is outside its service CIDR {}",
                    dns.value, cluster.address, service.value
                ))
                .with_primary(dns.span, dns_label)
                .with_secondary(service.span, range_label("service CIDR", service.value, service.span, cluster))
                .with_help(format!(
                    "AKS rejects it with DnsServiceIpOutOfServiceCidr; use an address inside the range, e.g. `dns_service_ip = {suggestion}`"
                )),
        );
        return;
    }
    let range = Range::from(service.value);
    let ip = u32::from(dns.value);
    let why = if ip == range.start {
        "the network address of the service CIDR, which Kubernetes never assigns"
    } else if ip == range.start.wrapping_add(1) {
        "the first address of the service CIDR, which Kubernetes gives the `kubernetes` Service"
    } else if ip == range.end {
        "the broadcast address of the service CIDR, which Kubernetes never assigns"
    } else {
        return;
    };
    out.push(
        DNS_SERVICE_IP_RESERVED
            .diagnostic(format!("the DNS service IP {} of {} is {why}", dns.value, cluster.address))
            .with_primary(dns.span, dns_label)
            .with_secondary(service.span, range_label("service CIDR", service.value, service.span, cluster))
            .with_help(format!("CoreDNS would get no address and name resolution in the cluster fails; use e.g. `dns_service_ip = {suggestion}`")),
    );
}
