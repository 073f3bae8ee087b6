//! Lowering of clusters: the cluster block, its network (plugin, ranges, outbound type) and
//! its node pools.

use super::azure::{AZURE_NAME, azure_name, location, resource_group_of, tags};
use super::{BlockFields, Lowering};
use crate::diag::Diagnostic;
use crate::model::address::{Address, Kind};
use crate::model::kinds::*;
use crate::model::names;
use crate::model::stack::Stack;
use crate::syntax::ast::{Block, ExprKind};

pub(super) fn cluster(cx: &mut Lowering, block: &Block, label: String, stack: &mut Stack) {
    let what = format!("cluster \"{label}\"");
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        what.clone(),
        block.header_span(),
        &[
            "name",
            "resource_group",
            "location",
            "kubernetes_version",
            "dns_prefix",
            "sku_tier",
            "identity",
            "node_resource_group",
            "allow_replace",
            "web_app_routing",
            "tags",
        ],
        &["network", "node_pool"],
    );
    let address = Address::new(Kind::Cluster, label.clone());
    let name = azure_name(cx, &f, &label, "cluster name", names::cluster);
    let rg = resource_group_of(cx, &f, stack);
    let kubernetes_version = cx.string(&f, "kubernetes_version", false).map(|v| v.value);
    let dns_prefix = cx.string(&f, "dns_prefix", false).unwrap_or_else(|| Spanned::new(name.clone(), f.span));
    cx.check_name(&dns_prefix.value, dns_prefix.span, "DNS prefix", names::dns_prefix(&dns_prefix.value), AZURE_NAME);
    let sku_tier = cx
        .word(&f, "sku_tier", &["free", "standard", "premium"], false)
        .map_or("Free".to_string(), |t| capitalize(&t.value));
    let identity = match cx.value(&f, "identity", false) {
        None => "SystemAssigned".to_string(),
        Some(expr) => match &expr.kind {
            ExprKind::Word(w) if w == "system_assigned" => "SystemAssigned".to_string(),
            ExprKind::Constructor { name, args, body: None } if name.name == "user_assigned" && args.len() == 1 => {
                match cx.expr_string(&args[0], "identity") {
                    Some(id) => format!("UserAssigned:{}", id.value),
                    None => "SystemAssigned".to_string(),
                }
            }
            _ => {
                cx.push(
                    Diagnostic::error(
                        "AKS012",
                        "`identity` must be `system_assigned` or `user_assigned \"<identity id>\"`",
                    )
                    .with_primary(expr.span, "unknown identity")
                    .with_help("write `identity = system_assigned`"),
                );
                "SystemAssigned".to_string()
            }
        },
    };
    let allow_replace = cx.boolean(&f, "allow_replace").unwrap_or(false) || cx.allow_replace(&address);
    let web_app_routing = cx.boolean(&f, "web_app_routing").unwrap_or(false);
    let tags = tags(cx, &f);
    let networks: Vec<&Block> = f.blocks("network").collect();
    let network = match networks.as_slice() {
        [one] => network(cx, one),
        [] => {
            cx.push(
                Diagnostic::error("AKS011", format!("{what} needs a `network` block"))
                    .with_primary(block.header_span(), "no network model")
                    .with_help("add `network kubenet { ... }`, `network azure_cni { subnet = ... }` or `network azure_cni overlay { ... }`"),
            );
            None
        }
        [first, second, ..] => {
            cx.push(
                Diagnostic::error("AKS013", format!("{what} has more than one `network` block"))
                    .with_primary(second.kind.span, "second network block")
                    .with_secondary(first.kind.span, "first one here")
                    .with_help("a cluster has one network model: keep one block"),
            );
            network(cx, first)
        }
    };
    let pools: Vec<&Block> = f.blocks("node_pool").collect();
    if pools.is_empty() {
        cx.push(
            Diagnostic::error("AKS011", format!("{what} needs at least one `node_pool`"))
                .with_primary(block.header_span(), "no node pools")
                .with_help("add `node_pool \"system\" { vm_size = \"Standard_D4s_v5\"  count = 3 }`"),
        );
    }
    // Without a valid network block, pools are still checked (against kubenet's defaults).
    let fallback = || Network {
        span: block.header_span(),
        plugin: NetworkPlugin::Kubenet,
        subnet: None,
        pod_subnet: None,
        pod_cidr: None,
        service_cidr: Spanned::new(default_net("10.0.0.0/16"), block.header_span()),
        dns_service_ip: Spanned::new([10, 0, 0, 10].into(), block.header_span()),
        outbound_type: String::new(),
        load_balancer_sku: String::new(),
        network_policy: String::new(),
    };
    let pool_network = network.clone().unwrap_or_else(fallback);
    for (index, pool) in pools.iter().enumerate() {
        node_pool(cx, pool, &address, &pool_network, index == 0, stack);
    }
    let (Some((resource_group, resource_group_address, rg_location)), Some(network)) = (rg, network) else { return };
    let location = location(cx, &f, &rg_location);
    let node_resource_group = match cx.string(&f, "node_resource_group", false) {
        Some(n) => {
            cx.check_name(&n.value, n.span, "resource group name", names::resource_group(&n.value), AZURE_NAME);
            n.value
        }
        None => format!("MC_{resource_group}_{name}_{location}"),
    };
    stack.clusters.push(Cluster {
        address,
        span: block.header_span(),
        name,
        resource_group,
        resource_group_address,
        location,
        kubernetes_version,
        dns_prefix,
        sku_tier,
        identity,
        node_resource_group,
        network,
        allow_replace,
        web_app_routing,
        tags,
    });
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

fn network(cx: &mut Lowering, block: &Block) -> Option<Network> {
    let labels = cx.labels_of(block);
    let words: Vec<&str> = labels
        .iter()
        .map(|l| match &l.kind {
            ExprKind::Word(w) => w.as_str(),
            _ => "?",
        })
        .collect();
    let plugin = match words.as_slice() {
        ["kubenet"] => NetworkPlugin::Kubenet,
        ["azure_cni"] => NetworkPlugin::AzureCni,
        ["azure_cni", "overlay"] => NetworkPlugin::AzureCniOverlay,
        _ => {
            let span = labels.first().map_or(block.kind.span, |l| l.span.to(labels[labels.len() - 1].span));
            cx.push(
                Diagnostic::error("AKS012", "unknown network model")
                    .with_primary(span, "expected kubenet, azure_cni or azure_cni overlay")
                    .with_help("write `network kubenet { ... }`, `network azure_cni { ... }` or `network azure_cni overlay { ... }`"),
            );
            return None;
        }
    };
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("network {}", plugin.keyword()),
        block.header_span(),
        &[
            "subnet",
            "pod_subnet",
            "pod_cidr",
            "service_cidr",
            "dns_service_ip",
            "outbound_type",
            "load_balancer_sku",
            "network_policy",
        ],
        &[],
    );
    let subnet = cx
        .reference(&f, "subnet", &[Kind::Subnet], plugin == NetworkPlugin::AzureCni)
        .map(|t| Spanned::new(t.address, t.span));
    let pod_subnet = cx.reference(&f, "pod_subnet", &[Kind::Subnet], false).map(|t| Spanned::new(t.address, t.span));
    let pod_cidr = cx.cidr(&f, "pod_cidr", false);
    if plugin == NetworkPlugin::AzureCni {
        if let Some(p) = &pod_cidr {
            cx.push(
                Diagnostic::error("AKS012", "Azure CNI gives pods IPs from the subnet: it takes no `pod_cidr`")
                    .with_primary(p.span, "not used by azure_cni")
                    .with_help("remove `pod_cidr`, or use `network azure_cni overlay` to give pods a private range"),
            );
        }
    } else if let Some(p) = &pod_subnet {
        cx.push(
            Diagnostic::error(
                "AKS012",
                format!("`pod_subnet` is for Azure CNI without overlay, not {}", plugin.keyword()),
            )
            .with_primary(p.span, "not used by this network model")
            .with_help("remove `pod_subnet`, or use `network azure_cni`"),
        );
    }
    let pod_cidr = match plugin {
        NetworkPlugin::AzureCni => None,
        _ => Some(pod_cidr.unwrap_or_else(|| Spanned::new(default_net("10.244.0.0/16"), f.span))),
    };
    let service_cidr =
        cx.cidr(&f, "service_cidr", false).unwrap_or_else(|| Spanned::new(default_net("10.0.0.0/16"), f.span));
    let dns_service_ip =
        cx.ip(&f, "dns_service_ip", false).unwrap_or_else(|| Spanned::new([10, 0, 0, 10].into(), f.span));
    let outbound_type = cx
        .word(
            &f,
            "outbound_type",
            &["load_balancer", "managed_nat_gateway", "user_assigned_nat_gateway", "user_defined_routing"],
            false,
        )
        .map_or("loadBalancer".to_string(), |w| camel(&w.value));
    let load_balancer_sku =
        cx.word(&f, "load_balancer_sku", &["standard", "basic"], false).map_or("standard".to_string(), |w| w.value);
    let network_policy = cx
        .word(&f, "network_policy", &["none", "calico", "azure", "cilium"], false)
        .map_or("none".to_string(), |w| w.value);
    Some(Network {
        span: block.header_span(),
        plugin,
        subnet,
        pod_subnet,
        pod_cidr,
        service_cidr,
        dns_service_ip,
        outbound_type,
        load_balancer_sku,
        network_policy,
    })
}

fn default_net(text: &str) -> ipnet::Ipv4Net {
    text.parse().unwrap_or_default()
}

/// `managed_nat_gateway` → `managedNATGateway`, as ARM spells outbound types.
fn camel(word: &str) -> String {
    match word {
        "load_balancer" => "loadBalancer",
        "managed_nat_gateway" => "managedNATGateway",
        "user_assigned_nat_gateway" => "userAssignedNATGateway",
        "user_defined_routing" => "userDefinedRouting",
        other => other,
    }
    .to_string()
}

fn node_pool(cx: &mut Lowering, block: &Block, cluster: &Address, network: &Network, first: bool, stack: &mut Stack) {
    let Some(label) = cx.block_name(block) else { return };
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("node_pool \"{label}\""),
        block.header_span(),
        &[
            "vm_size",
            "count",
            "autoscale",
            "max_pods",
            "mode",
            "os",
            "subnet",
            "pod_subnet",
            "zones",
            "max_surge",
            "labels",
            "taints",
        ],
        &[],
    );
    let os = cx.word(&f, "os", &["linux", "windows"], false);
    let windows = os.as_ref().is_some_and(|o| o.value == "windows");
    cx.check_name(&label, block.header_span(), "node pool name", names::node_pool(&label, windows), AZURE_NAME);
    let vm_size = cx.string(&f, "vm_size", true).map_or_else(String::new, |v| v.value);
    let count = match (f.get("count"), f.get("autoscale")) {
        (Some(c), Some(a)) => {
            cx.push(
                Diagnostic::error("AKS012", "a node pool has a fixed `count` or an `autoscale` range, not both")
                    .with_primary(a.key.span, "autoscale")
                    .with_secondary(c.key.span, "count")
                    .with_help("keep `count = N` for a fixed size, or `autoscale = MIN..MAX`"),
            );
            None
        }
        (_, Some(_)) => cx.value(&f, "autoscale", false).and_then(|e| match e.kind {
            ExprKind::Range { start, end } if start <= end && end <= 1000 => {
                Some(Spanned::new(NodeCount::Autoscale { min: start as u32, max: end as u32 }, e.span))
            }
            ExprKind::Range { .. } => {
                cx.push(
                    Diagnostic::error("AKS012", "`autoscale` must be MIN..MAX with MIN ≤ MAX ≤ 1000")
                        .with_primary(e.span, "invalid range")
                        .with_help("for example `autoscale = 3..20`"),
                );
                None
            }
            _ => {
                cx.type_error(&e, "autoscale", "a range", "3..20");
                None
            }
        }),
        (Some(_), None) => {
            cx.number(&f, "count", 0, 1000, false).map(|n| Spanned::new(NodeCount::Fixed(n.value), n.span))
        }
        (None, None) => Some(Spanned::new(NodeCount::Fixed(1), f.span)),
    };
    let own_subnet = cx.reference(&f, "subnet", &[Kind::Subnet], false).map(|t| Spanned::new(t.address, t.span));
    let own_pod_subnet =
        cx.reference(&f, "pod_subnet", &[Kind::Subnet], false).map(|t| Spanned::new(t.address, t.span));
    let pod_subnet = own_pod_subnet.or_else(|| network.pod_subnet.clone());
    let default_max_pods = match network.plugin {
        NetworkPlugin::Kubenet => 110,
        NetworkPlugin::AzureCni if pod_subnet.is_some() => 110,
        NetworkPlugin::AzureCni => 30,
        NetworkPlugin::AzureCniOverlay => 250,
    };
    let (max_pods, max_pods_default) = match cx.number(&f, "max_pods", 0, 1000, false) {
        Some(m) => (m, false),
        None => (Spanned::new(default_max_pods, f.span), true),
    };
    let system = cx.word(&f, "mode", &["system", "user"], false).map_or(first, |m| m.value == "system");
    let zones = cx.zones(&f);
    let max_surge = match cx.value(&f, "max_surge", false) {
        None => "1".to_string(),
        Some(e) => match &e.kind {
            ExprKind::Number(n) => n.to_string(),
            ExprKind::String(s)
                if s.strip_suffix('%').is_some_and(|p| p.parse::<u32>().is_ok_and(|p| (1..=100).contains(&p))) =>
            {
                s.clone()
            }
            _ => {
                cx.type_error(&e, "max_surge", "a node count or a percentage", "\"33%\"");
                "1".to_string()
            }
        },
    };
    let labels = cx.labels(&f, "labels", true, true).map(|l| l.value).unwrap_or_default();
    let taints = cx.string_list(&f, "taints").into_iter().map(|t| t.value).collect();
    let Some(count) = count else { return };
    stack.node_pools.push(NodePool {
        address: cluster.child(Kind::NodePool, label.clone()),
        span: block.header_span(),
        cluster: cluster.clone(),
        name: label,
        vm_size,
        count,
        max_pods,
        max_pods_default,
        system,
        windows,
        subnet: own_subnet.or_else(|| network.subnet.clone()),
        pod_subnet,
        zones,
        max_surge,
        labels,
        taints,
    });
}
