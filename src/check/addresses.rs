//! Address rules (AKS1xx): virtual networks, subnets and peerings against each other
//! ([`networks`]), and each cluster's service and pod ranges against its networks and the
//! ranges AKS reserves ([`cluster_ranges`]), and the way out each outbound type needs ([`egress`]).

mod cluster_ranges;
mod egress;
mod networks;

use ipnet::Ipv4Net;

use super::RuleInfo;
use super::index::Index;
use crate::diag::{Diagnostic, Span};
use crate::model::Cluster;
use cluster_ranges::*;
use egress::*;
use networks::*;

pub(in crate::check) use cluster_ranges::pod_cidr_proposal;

pub(super) const RULES: &[RuleInfo] = &[
    PEERED_VNETS_OVERLAP,
    VNETS_OVERLAP,
    VNET_ADDRESS_SPACES_OVERLAP,
    SUBNET_OUTSIDE_VNET,
    SUBNETS_OVERLAP,
    SUBNET_PREFIX_OUT_OF_RANGE,
    SERVICE_CIDR_OVERLAPS_SUBNET,
    SERVICE_CIDR_OVERLAPS_VNET,
    SERVICE_CIDR_OVERLAPS_POD_CIDR,
    POD_CIDR_OVERLAPS_VNET,
    RANGE_RESERVED_BY_AKS,
    SERVICE_CIDR_TOO_LARGE,
    DNS_SERVICE_IP_OUTSIDE_SERVICE_CIDR,
    DNS_SERVICE_IP_RESERVED,
    UDR_WITHOUT_DEFAULT_ROUTE,
    NAT_GATEWAY_NOT_ASSOCIATED,
    MANAGED_NAT_GATEWAY_WITH_OWN_SUBNET,
];

pub(super) fn check(index: &Index, out: &mut Vec<Diagnostic>) {
    vnet_overlaps(index, out);
    overlaps_with_existing_peers(index, out);
    subnet_placement(index, out);
    subnet_overlaps(index, out);
    reserved_ranges(index, out);
    for cluster in &index.stack.clusters {
        service_range(index, cluster, out);
        pod_range(index, cluster, out);
        dns_service_ip(cluster, out);
        egress(index, cluster, out);
    }
}

/// Every address space of the stack, to keep proposed ranges clear of all of them.
pub(super) fn all_address_spaces(index: &Index) -> Vec<Ipv4Net> {
    index.stack.vnets.iter().flat_map(|v| v.address_space.iter().map(|s| s.value)).collect()
}

/// A label for a cluster range, saying so when the range is AKS's default.
pub(super) fn range_label(what: &str, value: impl std::fmt::Display, span: Span, cluster: &Cluster) -> String {
    if span == cluster.network.span { format!("default {what} {value}") } else { format!("{what} {value}") }
}

#[cfg(test)]
mod tests;
