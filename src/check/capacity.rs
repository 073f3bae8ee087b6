//! Capacity rules (AKS2xx): whether subnets and pod ranges hold every node, pod and
//! load-balancer frontend at full scale, and the limits AKS sets on pools and nodes.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::RuleInfo;
use super::addresses::pod_cidr_proposal;
use super::index::Index;
use super::ranges::{count, free_block, smallest_subnet_prefix, thousands, usable};
use crate::diag::{Diagnostic, Span};
use crate::model::{Address, Cluster, NetworkPlugin, NodePool, ServiceType, Value};

pub(super) const SUBNET_TOO_SMALL: RuleInfo = rule!(
    "AKS201",
    "subnet-too-small",
    Error,
    "A subnet cannot hold the nodes, pods and internal load balancers placed in it at full scale"
);
pub(super) const POD_CIDR_TOO_SMALL: RuleInfo = rule!(
    "AKS202",
    "pod-cidr-too-small",
    Error,
    "A kubenet or overlay pod CIDR has fewer /24 blocks than the cluster has nodes"
);
pub(super) const KUBENET_NODE_LIMIT: RuleInfo =
    rule!("AKS203", "kubenet-node-limit", Error, "A kubenet cluster can grow past 400 nodes");
pub(super) const KUBENET_WINDOWS_POOL: RuleInfo =
    rule!("AKS204", "kubenet-windows-pool", Error, "A Windows node pool in a kubenet cluster");
pub(super) const MAX_PODS_OUT_OF_RANGE: RuleInfo =
    rule!("AKS205", "max-pods-out-of-range", Error, "A node pool's max_pods is outside 10 to 250");
pub(super) const POOL_BELOW_30_PODS: RuleInfo =
    rule!("AKS206", "pool-below-30-pods", Error, "A node pool with max_pods under 30 has room for fewer than 30 pods");
pub(super) const NO_SYSTEM_POOL: RuleInfo =
    rule!("AKS207", "no-system-pool", Error, "A cluster has no system node pool");
pub(super) const WINDOWS_SYSTEM_POOL: RuleInfo =
    rule!("AKS208", "windows-system-pool", Error, "A system node pool runs Windows");
pub(super) const TOO_MANY_POOLS: RuleInfo =
    rule!("AKS209", "too-many-pools", Error, "A cluster has more than 100 node pools");
pub(super) const CLUSTER_NODE_LIMIT: RuleInfo =
    rule!("AKS210", "cluster-node-limit", Error, "A cluster can grow past 5,000 nodes");

pub(super) const RULES: &[RuleInfo] = &[
    SUBNET_TOO_SMALL,
    POD_CIDR_TOO_SMALL,
    KUBENET_NODE_LIMIT,
    KUBENET_WINDOWS_POOL,
    MAX_PODS_OUT_OF_RANGE,
    POOL_BELOW_30_PODS,
    NO_SYSTEM_POOL,
    WINDOWS_SYSTEM_POOL,
    TOO_MANY_POOLS,
    CLUSTER_NODE_LIMIT,
];

const MAX_PODS_RANGE: std::ops::RangeInclusive<u32> = 10..=250;
const MIN_PODS_PER_POOL: u64 = 30;
const KUBENET_MAX_NODES: u64 = 400;
const MAX_POOLS: usize = 100;
const MAX_NODES: u64 = 5_000;

/// One contribution to a subnet's demand, with where it was written.
pub(super) struct Part {
    pub span: Span,
    pub label: String,
}

/// Node and pod addresses a subnet must give out at full scale. Azure hands them out from
/// the low end of the subnet.
#[derive(Default)]
pub(super) struct HostDemand {
    pub addresses: u64,
    pub parts: Vec<Part>,
}

/// A pool's nodes at full scale: the autoscaler's maximum plus the upgrade surge (a pool
/// kept at zero nodes has nothing to surge).
fn full_scale(pool: &NodePool) -> (u64, String) {
    let max = u64::from(pool.count.value.max());
    let surge = if max == 0 { 0 } else { u64::from(pool.surge_nodes()) };
    (max + surge, format!("({max} + {surge} surge)"))
}

/// Node and pod addresses per subnet, summed over every pool of every cluster placed in it.
pub(super) fn host_demand<'a>(index: &Index<'a>) -> HashMap<&'a Address, HostDemand> {
    let mut demand: HashMap<&Address, HostDemand> = HashMap::new();
    let mut add = |subnet: &'a Address, span: Span, label: String, addresses: u64| {
        let d = demand.entry(subnet).or_default();
        d.addresses += addresses;
        d.parts.push(Part { span, label });
    };
    for pool in &index.stack.node_pools {
        let Some((_, cluster)) = index.cluster(&pool.cluster) else { continue };
        let (nodes, nodes_text) = full_scale(pool);
        let pods = u64::from(pool.max_pods.value);
        let name = &pool.name;
        match (cluster.network.plugin, &pool.subnet, &pool.pod_subnet) {
            (NetworkPlugin::AzureCni, Some(subnet), Some(pod_subnet)) => {
                add(
                    &subnet.value,
                    pool.count.span,
                    format!("{name}: {nodes_text} nodes = {}", thousands(nodes)),
                    nodes,
                );
                let label = format!("{name}: {nodes_text} nodes × {pods} pods = {}", thousands(nodes * pods));
                add(&pod_subnet.value, pool.count.span, label, nodes * pods);
            }
            (NetworkPlugin::AzureCni, Some(subnet), None) => {
                let label =
                    format!("{name}: {nodes_text} nodes × ({pods} pods + 1) = {}", thousands(nodes * (pods + 1)));
                add(&subnet.value, pool.count.span, label, nodes * (pods + 1));
            }
            (_, Some(subnet), _) => {
                add(
                    &subnet.value,
                    pool.count.span,
                    format!("{name}: {nodes_text} nodes = {}", thousands(nodes)),
                    nodes,
                );
            }
            (_, None, _) => {}
        }
    }
    demand
}

pub(super) fn check(index: &Index, out: &mut Vec<Diagnostic>) {
    subnet_sizes(index, out);
    for cluster in &index.stack.clusters {
        let pools = index.pools(&cluster.address);
        pod_ranges(index, cluster, pools, out);
        pool_rules(cluster, pools, out);
    }
}

fn subnet_sizes(index: &Index, out: &mut Vec<Diagnostic>) {
    let mut demand = host_demand(index);
    // Internal load balancer frontends take one address each; Services that ask for the
    // same address share one frontend.
    let mut static_frontends: HashSet<(&Address, Ipv4Addr)> = HashSet::new();
    for service in &index.stack.services {
        let ServiceType::LoadBalancer(lb) = &service.service_type.value else { continue };
        if !lb.internal {
            continue;
        }
        let Some((_, cluster)) = index.cluster(&service.cluster) else { continue };
        let subnet = match &lb.subnet {
            Some(s) => &s.value,
            None => match index.load_balancer_subnet(cluster) {
                Some(s) => &s.address,
                None => continue,
            },
        };
        if let Some(ip) = &lb.ip
            && !static_frontends.insert((subnet, ip.value))
        {
            continue;
        }
        let d = demand.entry(subnet).or_default();
        d.addresses += 1;
        let span = lb.ip.as_ref().map_or(lb.span, |ip| ip.span);
        d.parts.push(Part { span, label: format!("{}: 1 load balancer frontend", service.address) });
    }
    for subnet in &index.stack.subnets {
        let Some(d) = demand.get_mut(&subnet.address) else { continue };
        let others = held_by_others(index, &subnet.address);
        if others > 0 {
            d.addresses += others;
            let held = count(others, "address", "addresses");
            d.parts.push(Part { span: subnet.span, label: format!("{held} already held by others (read from Azure)") });
        }
        let d = &*d;
        let available = usable(subnet.prefix.value);
        if d.addresses <= available {
            continue;
        }
        let mut diagnostic = SUBNET_TOO_SMALL
            .diagnostic(format!(
                "{} ({}) needs {} at full scale but has {} usable",
                subnet.address,
                subnet.prefix.value,
                count(d.addresses, "address", "addresses"),
                thousands(available)
            ))
            .with_primary(
                subnet.prefix.span,
                format!("{} usable (Azure keeps 5 of every subnet)", thousands(available)),
            );
        for part in &d.parts {
            diagnostic = diagnostic.with_secondary(part.span, part.label.clone());
        }
        out.push(diagnostic.with_help(bigger_subnet_help(index, &subnet.address, subnet.prefix.value, d.addresses)));
    }
}

/// Of an existing subnet, the addresses held by what the stack does not make: its IP
/// configurations (network interfaces, load balancer frontends, gateways) outside the node
/// resource groups of the stack's clusters, whose nodes and frontends the demand counts.
fn held_by_others(index: &Index, subnet: &Address) -> u64 {
    let Some(Value::List(configurations)) = index.stack.existing.get(subnet).and_then(|v| v.get("ip_configurations"))
    else {
        return 0;
    };
    configurations.iter().filter_map(Value::as_str).filter(|id| !in_node_resource_group(index, id)).count() as u64
}

/// Whether an ARM id is in the node resource group of one of the stack's clusters (its nodes,
/// its load balancers' frontends: what the stack makes, not what others hold).
fn in_node_resource_group(index: &Index, id: &str) -> bool {
    let id = id.to_ascii_lowercase();
    index
        .stack
        .clusters
        .iter()
        .any(|c| id.contains(&format!("/resourcegroups/{}/", c.node_resource_group.to_ascii_lowercase())))
}

/// Of an existing subnet, the private addresses its IP configurations hold (as read from
/// Azure: a NIC's, a load balancer frontend's), each with the id of its configuration; those
/// of the stack's own clusters are left out.
pub(super) fn held_addresses<'a>(index: &'a Index, subnet: &Address) -> Vec<(Ipv4Addr, &'a str)> {
    let Some(Value::Map(addresses)) = index.stack.existing.get(subnet).and_then(|v| v.get("ip_addresses")) else {
        return Vec::new();
    };
    addresses
        .iter()
        .filter(|(id, _)| !in_node_resource_group(index, id))
        .filter_map(|(id, ip)| Some((ip.as_str()?.parse().ok()?, id.as_str())))
        .collect()
}

fn bigger_subnet_help(index: &Index, subnet: &Address, prefix: Ipv4Net, needed: u64) -> String {
    let Some(fits) = smallest_subnet_prefix(needed) else {
        return "no single subnet is that large: spread the pools over several subnets, lower max_pods, or use `network azure_cni overlay`".into();
    };
    let mut help = format!(
        "a /{fits} ({} usable) fits",
        thousands(usable(Ipv4Net::new(prefix.network(), fits).unwrap_or(prefix)))
    );
    if index.stack.existing.contains_key(subnet) {
        help.push_str(
            ", but the subnet is existing, not the stack's to resize: ask its owners for a bigger one, place some \
             pools in another subnet, or lower the pools' maximum node count or max_pods",
        );
        return help;
    }
    let vnet = index.subnets.get(subnet).and_then(|s| index.vnets.get(&s.vnet));
    if let Some(vnet) = vnet {
        let spaces: Vec<Ipv4Net> = vnet.address_space.iter().map(|s| s.value).collect();
        let others: Vec<Ipv4Net> =
            index.subnets_in(&vnet.address).iter().filter(|s| &s.address != subnet).map(|s| s.prefix.value).collect();
        match free_block(&spaces, &others, fits) {
            Some(free) => help.push_str(&format!(": e.g. `prefix = {free}`, free in {}", vnet.address)),
            None => help.push_str(&format!(", but {} has no free /{fits}: add an address space", vnet.address)),
        }
    }
    help.push_str("; or lower the pools' maximum node count or max_pods");
    help
}

fn pod_ranges(index: &Index, cluster: &Cluster, pools: &[&NodePool], out: &mut Vec<Diagnostic>) {
    let network = &cluster.network;
    let nodes: u64 = pools.iter().map(|p| full_scale(p).0).sum();
    let pool_labels = |mut d: Diagnostic, with_surge: bool| {
        for pool in pools {
            let label = if with_surge {
                let (n, text) = full_scale(pool);
                format!("{}: {text} = {}", pool.name, count(n, "node", "nodes"))
            } else {
                format!("{}: up to {}", pool.name, count(u64::from(pool.count.value.max()), "node", "nodes"))
            };
            d = d.with_secondary(pool.count.span, label);
        }
        d
    };
    if let Some(pod) = &network.pod_cidr {
        let prefix = pod.value.prefix_len();
        let blocks = if prefix <= 24 { 1u64 << (24 - prefix) } else { 0 };
        if nodes > blocks {
            let fits = 24 - nodes.next_power_of_two().trailing_zeros().min(24) as u8;
            let d = POD_CIDR_TOO_SMALL
                .diagnostic(format!(
                    "the pod CIDR {} of {} has {} but the cluster can reach {} with upgrade surge",
                    pod.value,
                    cluster.address,
                    count(blocks, "/24 block", "/24 blocks"),
                    count(nodes, "node", "nodes")
                ))
                .with_primary(pod.span, format!("room for {} (one /24 each)", count(blocks, "node", "nodes")));
            let proposal = pod_cidr_proposal(index, cluster, fits);
            out.push(pool_labels(d, true).with_help(format!(
                "{} gives every node a /24 of the pod CIDR; a /{fits} holds {}: {proposal}",
                network.plugin.keyword(),
                count(1u64 << (24 - fits), "node", "nodes")
            )));
        }
    }
    if network.plugin == NetworkPlugin::Kubenet && nodes > KUBENET_MAX_NODES {
        let d = KUBENET_NODE_LIMIT
            .diagnostic(format!(
                "{} uses kubenet and can reach {} with upgrade surge; kubenet supports at most 400",
                cluster.address,
                count(nodes, "node", "nodes")
            ))
            .with_primary(network.span, "kubenet: at most 400 nodes");
        out.push(pool_labels(d, true).with_help(
            "kubenet needs one route per node and a route table holds 400: lower the pools' maximum, or use `network azure_cni overlay`",
        ));
    }
    let max_nodes: u64 = pools.iter().map(|p| u64::from(p.count.value.max())).sum();
    if max_nodes > MAX_NODES {
        let d = CLUSTER_NODE_LIMIT
            .diagnostic(format!(
                "{} can reach {}; AKS supports at most 5,000 per cluster",
                cluster.address,
                count(max_nodes, "node", "nodes")
            ))
            .with_primary(cluster.span, format!("up to {}", count(max_nodes, "node", "nodes")));
        out.push(
            pool_labels(d, false)
                .with_help("lower the pools' maximum node counts, or split the workloads over several clusters"),
        );
    }
}

fn pool_rules(cluster: &Cluster, pools: &[&NodePool], out: &mut Vec<Diagnostic>) {
    let network = &cluster.network;
    for pool in pools {
        let max_pods = pool.max_pods.value;
        if !MAX_PODS_RANGE.contains(&max_pods) {
            let nearest = max_pods.clamp(*MAX_PODS_RANGE.start(), *MAX_PODS_RANGE.end());
            out.push(
                MAX_PODS_OUT_OF_RANGE
                    .diagnostic(format!("node pool {} has max_pods = {max_pods}; AKS accepts 10 to 250", pool.address))
                    .with_primary(pool.max_pods.span, "outside 10 to 250")
                    .with_help(format!("write `max_pods = {nearest}`, or another value from 10 to 250")),
            );
        } else {
            let nodes = u64::from(pool.count.value.max());
            let room = nodes * u64::from(max_pods);
            if room < MIN_PODS_PER_POOL {
                let nodes_needed = MIN_PODS_PER_POOL.div_ceil(u64::from(max_pods));
                let raise = if nodes > 0 {
                    format!(", or raise max_pods to {}", MIN_PODS_PER_POOL.div_ceil(nodes))
                } else {
                    String::new()
                };
                out.push(
                    POOL_BELOW_30_PODS
                        .diagnostic(format!(
                            "node pool {} has room for {} ({} × {max_pods}); AKS requires room for at least 30 in every pool",
                            pool.address,
                            count(room, "pod", "pods"),
                            count(nodes, "node", "nodes")
                        ))
                        .with_primary(pool.max_pods.span, format!("max_pods = {max_pods}"))
                        .with_secondary(pool.count.span, count(nodes, "node", "nodes"))
                        .with_help(format!(
                            "a max_pods under 30 is allowed only when the pool holds 30 pods: give it at least {nodes_needed} nodes{raise}"
                        )),
                );
            }
        }
        if pool.windows && network.plugin == NetworkPlugin::Kubenet {
            out.push(
                KUBENET_WINDOWS_POOL
                    .diagnostic(format!("node pool {} runs Windows, which kubenet does not support", pool.address))
                    .with_primary(pool.span, "a Windows pool")
                    .with_secondary(network.span, "the cluster uses kubenet")
                    .with_help("Windows nodes need `network azure_cni` or `network azure_cni overlay`"),
            );
        }
        if pool.windows && pool.system {
            out.push(
                WINDOWS_SYSTEM_POOL
                    .diagnostic(format!(
                        "node pool {} is a system pool running Windows; system pools run Linux",
                        pool.address
                    ))
                    .with_primary(pool.span, "a Windows system pool")
                    .with_help(format!(
                        "write `mode = user` in node_pool \"{}\" and keep a Linux pool with `mode = system`",
                        pool.name
                    )),
            );
        }
    }
    if !pools.is_empty() && !pools.iter().any(|p| p.system) {
        let mut d = NO_SYSTEM_POOL
            .diagnostic(format!("{} has no system node pool", cluster.address))
            .with_primary(cluster.span, "no pool with `mode = system`");
        for pool in pools {
            d = d.with_secondary(pool.span, "a user pool");
        }
        out.push(
            d.with_help("AKS runs CoreDNS and other system pods on system pools: set `mode = system` on a Linux pool"),
        );
    }
    if let Some(extra) = pools.get(MAX_POOLS) {
        out.push(
            TOO_MANY_POOLS
                .diagnostic(format!("{} has {} node pools; AKS allows at most 100", cluster.address, pools.len()))
                .with_primary(extra.span, "pool number 101")
                .with_secondary(cluster.span, "in this cluster")
                .with_help(
                    "merge pools with the same VM size and settings, or split the workloads over several clusters",
                ),
        );
    }
}

#[cfg(test)]
mod tests;
