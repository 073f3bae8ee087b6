//! Lowering of the stack block and the Azure resources: resource groups, virtual networks
//! with subnets and peerings, public IPs, DNS zones and records; clusters are lowered in
//! [`super::cluster`], route tables and NAT gateways in their kind files.

use std::borrow::Cow;

use super::{BlockFields, Lowering};
use crate::diag::Diagnostic;
use crate::model::address::{Address, Kind};
use crate::model::kinds::*;
use crate::model::names;
use crate::model::stack::{Stack, StateSetting};
use crate::model::value::AttributeRef;
use crate::syntax::ast::{Block, ExprKind};

pub(crate) const AZURE_NAME: &str = "AKS016";

pub(super) fn stack(cx: &mut Lowering, block: &Block, stack: &mut Stack) {
    let Some(name) = cx.block_name(block) else { return };
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("stack \"{name}\""),
        block.header_span(),
        &["subscription", "location", "state"],
        &[],
    );
    stack.name = name;
    stack.span = Some(block.header_span());
    if let Some(attribute) = f.get("subscription") {
        // An unset environment variable is allowed here: only apply needs the subscription,
        // and it says so then.
        let unset_env = match &attribute.value.kind {
            ExprKind::Call { function, args } if function.name == "env" && args.len() == 1 => match &args[0].kind {
                ExprKind::String(var) if (cx.input.env)(var).is_none() => Some(var.clone()),
                _ => None,
            },
            _ => None,
        };
        if unset_env.is_none() {
            stack.subscription = cx.string(&f, "subscription", false).map(|s| s.value);
        }
    }
    stack.location = cx.word(&f, "location", &[], true).map_or_else(String::new, |l| l.value.to_lowercase());
    if let Some(expr) = cx.value(&f, "state", false) {
        stack.state = Some(state_setting(cx, &expr));
    }
}

fn state_setting(cx: &mut Lowering, expr: &crate::syntax::ast::Expr) -> StateSetting {
    match &expr.kind {
        ExprKind::Constructor { name, args, body } if name.name == "local" && args.is_empty() => {
            let sf = BlockFields::new(cx, body.as_ref(), "state local", expr.span, &["path"], &[]);
            cx.string(&sf, "path", true).map_or(StateSetting::Local, |p| StateSetting::LocalPath(p.value))
        }
        ExprKind::Constructor { name, args, body } if name.name == "azure_blob" && args.is_empty() => {
            let sf = BlockFields::new(
                cx,
                body.as_ref(),
                "state azure_blob",
                expr.span,
                &["account", "container", "key"],
                &[],
            );
            let mut part = |field: &str| cx.string(&sf, field, false).map(|s| s.value);
            let (account, container, key) = (part("account"), part("container"), part("key"));
            StateSetting::AzureBlob { account, container, key }
        }
        ExprKind::Word(w) if w == "local" => StateSetting::Local,
        ExprKind::Word(w) if w == "azure_blob" => StateSetting::AzureBlob { account: None, container: None, key: None },
        _ => {
            cx.push(
                Diagnostic::error("AKS012", "`state` must be `local { path = \"...\" }` or `azure_blob { ... }`")
                    .with_primary(expr.span, "unsupported state backend")
                    .with_help(
                        "write `state = local { path = \"state/prod.json\" }` (without it the state is \
                         state/<stack>.json beside the stack), or `state = azure_blob { account = \"...\" \
                         container = \"...\" key = \"prod.json\" }`",
                    ),
            );
            StateSetting::Local
        }
    }
}

/// `name = "..."` when set, else the block's label; checked against the Azure rule.
pub(crate) fn azure_name(
    cx: &mut Lowering,
    f: &BlockFields,
    label: &str,
    what: &str,
    rule: fn(&str) -> names::NameCheck,
) -> String {
    let (name, span) = match cx.string(f, "name", false) {
        Some(n) => (n.value, n.span),
        None => (label.to_string(), f.span),
    };
    cx.check_name(&name, span, what, rule(&name), AZURE_NAME);
    name
}

pub(crate) fn tags(cx: &mut Lowering, f: &BlockFields) -> Labels {
    cx.labels(f, "tags", false, false).map(|t| t.value).unwrap_or_default()
}

/// The resource group a resource lives in: its Azure name, address and location.
pub(crate) fn resource_group_of(
    cx: &mut Lowering,
    f: &BlockFields,
    stack: &Stack,
) -> Option<(String, Address, String)> {
    let target = cx.reference(f, "resource_group", &[Kind::ResourceGroup], true)?;
    let rg = stack.resource_groups.iter().find(|rg| rg.address == target.address)?;
    Some((rg.name.clone(), rg.address.clone(), rg.location.clone()))
}

pub(crate) fn location(cx: &mut Lowering, f: &BlockFields, default: &str) -> String {
    cx.word(f, "location", &[], false).map_or_else(|| default.to_string(), |l| l.value.to_lowercase())
}

pub(super) fn resource_group(cx: &mut Lowering, block: &Block, label: String, stack: &mut Stack) {
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("resource_group \"{label}\""),
        block.header_span(),
        &["name", "location", "tags"],
        &[],
    );
    let name = azure_name(cx, &f, &label, "resource group name", names::resource_group);
    let location = location(cx, &f, &cx.location.clone());
    let tags = tags(cx, &f);
    stack.resource_groups.push(ResourceGroup {
        address: Address::new(Kind::ResourceGroup, label),
        span: block.header_span(),
        name,
        location,
        tags,
    });
}

pub(super) fn vnet(cx: &mut Lowering, block: &Block, label: String, stack: &mut Stack) {
    let what = format!("vnet \"{label}\"");
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        what,
        block.header_span(),
        &["name", "resource_group", "location", "address_space", "dns_servers", "tags"],
        &["subnet", "peering"],
    );
    let address = Address::new(Kind::Vnet, label.clone());
    let name = azure_name(cx, &f, &label, "virtual network name", |n| names::azure_network_name(n, 2, 64));
    let rg = resource_group_of(cx, &f, stack);
    let address_space = cx.cidr_list(&f, "address_space", true);
    let dns_servers = cx.ip_list(&f, "dns_servers").into_iter().map(|ip| ip.value).collect();
    let tags = tags(cx, &f);
    for sb in f.blocks("subnet") {
        let Some(sub_label) = cx.block_name(sb) else { continue };
        let sf = BlockFields::new(
            cx,
            sb.body.as_ref(),
            format!("subnet \"{sub_label}\""),
            sb.header_span(),
            &["name", "prefix", "service_endpoints", "route_table", "nat_gateway"],
            &[],
        );
        let sub_name = azure_name(cx, &sf, &sub_label, "subnet name", |n| names::azure_network_name(n, 1, 80));
        let Some(prefix) = cx.cidr(&sf, "prefix", true) else { continue };
        let service_endpoints = cx.string_list(&sf, "service_endpoints").into_iter().map(|s| s.value).collect();
        let association = |cx: &mut Lowering, key: &str, kind: Kind| {
            cx.reference(&sf, key, &[kind], false).map(|t| Spanned::new(t.address, t.span))
        };
        let route_table = association(cx, "route_table", Kind::RouteTable);
        let nat_gateway = association(cx, "nat_gateway", Kind::NatGateway);
        stack.subnets.push(Subnet {
            address: address.child(Kind::Subnet, sub_label),
            span: sb.header_span(),
            vnet: address.clone(),
            name: sub_name,
            prefix,
            service_endpoints,
            route_table,
            nat_gateway,
        });
    }
    for pb in f.blocks("peering") {
        let Some(peer_label) = cx.block_name(pb) else { continue };
        let pf = BlockFields::new(
            cx,
            pb.body.as_ref(),
            format!("peering \"{peer_label}\""),
            pb.header_span(),
            &["name", "remote", "allow_forwarded_traffic", "allow_gateway_transit", "use_remote_gateways"],
            &[],
        );
        let peer_name = azure_name(cx, &pf, &peer_label, "peering name", |n| names::azure_network_name(n, 1, 80));
        let Some(remote) = cx.reference(&pf, "remote", &[Kind::Vnet], true) else { continue };
        if remote.address == address {
            cx.push(
                Diagnostic::error("AKS012", "a virtual network cannot peer with itself")
                    .with_primary(remote.span, "this is the same network")
                    .with_help("point `remote` at another vnet"),
            );
            continue;
        }
        stack.peerings.push(Peering {
            address: address.child(Kind::Peering, peer_label),
            span: pb.header_span(),
            vnet: address.clone(),
            name: peer_name,
            remote: Spanned::new(remote.address, remote.span),
            allow_forwarded_traffic: cx.boolean(&pf, "allow_forwarded_traffic").unwrap_or(false),
            allow_gateway_transit: cx.boolean(&pf, "allow_gateway_transit").unwrap_or(false),
            use_remote_gateways: cx.boolean(&pf, "use_remote_gateways").unwrap_or(false),
        });
    }
    let Some((resource_group, resource_group_address, rg_location)) = rg else { return };
    let location = location(cx, &f, &rg_location);
    stack.vnets.push(Vnet {
        address,
        span: block.header_span(),
        name,
        resource_group,
        resource_group_address,
        location,
        address_space,
        dns_servers,
        tags,
    });
}

pub(super) fn public_ip(cx: &mut Lowering, block: &Block, label: String, stack: &mut Stack) {
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("public_ip \"{label}\""),
        block.header_span(),
        &["name", "resource_group", "location", "sku", "allocation", "zones", "dns_label", "idle_timeout", "tags"],
        &[],
    );
    let name = azure_name(cx, &f, &label, "public IP name", |n| names::azure_network_name(n, 1, 80));
    // The resource group is a resource group, or a cluster's node resource group.
    let rg = match cx.value(&f, "resource_group", true) {
        Some(expr) => match &expr.kind {
            ExprKind::Reference(r) => {
                cx.target(r, expr.span).and_then(|t| match (t.address.kind, t.attribute.as_deref()) {
                    (Kind::ResourceGroup, None) => stack
                        .resource_groups
                        .iter()
                        .find(|rg| rg.address == t.address)
                        .map(|rg| (rg.name.clone(), rg.address.clone(), rg.location.clone())),
                    (Kind::Cluster, Some("node_resource_group")) => stack
                        .clusters
                        .iter()
                        .find(|c| c.address == t.address)
                        .map(|c| (c.node_resource_group.clone(), c.address.clone(), c.location.clone())),
                    _ => {
                        cx.push(
                            Diagnostic::error(
                                "AKS012",
                                "`resource_group` must refer to a resource group or a cluster's node resource group",
                            )
                            .with_primary(expr.span, "not a resource group")
                            .with_help(
                                "write `resource_group = resource_group.NAME` or `cluster.NAME.node_resource_group`",
                            ),
                        );
                        None
                    }
                })
            }
            _ => {
                cx.type_error(&expr, "resource_group", "a reference to a resource group", "resource_group.NAME");
                None
            }
        },
        None => None,
    };
    let sku = match cx.word(&f, "sku", &["standard", "basic"], false) {
        Some(s) => Spanned::new(if s.value == "basic" { PublicIpSku::Basic } else { PublicIpSku::Standard }, s.span),
        None => Spanned::new(PublicIpSku::Standard, f.span),
    };
    let allocation = match cx.word(&f, "allocation", &["static", "dynamic"], false) {
        Some(a) => Spanned::new(if a.value == "dynamic" { Allocation::Dynamic } else { Allocation::Static }, a.span),
        None => Spanned::new(Allocation::Static, f.span),
    };
    let zones = cx.zones(&f);
    let dns_label = cx.string(&f, "dns_label", false);
    if let Some(l) = &dns_label {
        cx.check_name(&l.value, l.span, "DNS label", names::public_ip_dns_label(&l.value), AZURE_NAME);
    }
    let idle_timeout_minutes = cx.number(&f, "idle_timeout", 4, 30, false).map_or(4, |n| n.value);
    let tags = tags(cx, &f);
    let Some((resource_group, resource_group_owner, rg_location)) = rg else { return };
    let location = location(cx, &f, &rg_location);
    stack.public_ips.push(PublicIp {
        address: Address::new(Kind::PublicIp, label),
        span: block.header_span(),
        name,
        resource_group,
        resource_group_owner,
        location,
        sku,
        allocation,
        zones,
        dns_label,
        idle_timeout_minutes,
        tags,
    });
}

pub(super) fn dns_zone(cx: &mut Lowering, block: &Block, label: String, stack: &mut Stack) {
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("dns_zone \"{label}\""),
        block.header_span(),
        &["resource_group", "tags"],
        &[],
    );
    cx.check_name(&label, block.header_span(), "DNS zone name", names::dns_name(&label), AZURE_NAME);
    let rg = resource_group_of(cx, &f, stack);
    let tags = tags(cx, &f);
    let Some((resource_group, resource_group_address, _)) = rg else { return };
    stack.dns_zones.push(DnsZone {
        address: Address::new(Kind::DnsZone, label.clone()),
        span: block.header_span(),
        name: label.trim_end_matches('.').to_string(),
        resource_group,
        resource_group_address,
        tags,
    });
}

pub(super) fn dns_record(cx: &mut Lowering, block: &Block, label: String, stack: &mut Stack) {
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("dns_record \"{label}\""),
        block.header_span(),
        &["name", "zone", "ttl", "a", "cname"],
        &[],
    );
    let name = match cx.string(&f, "name", false) {
        Some(n) => n,
        None => Spanned::new(label.clone(), block.header_span()),
    };
    cx.check_name(&name.value, name.span, "record name", names::dns_record_name(&name.value), AZURE_NAME);
    let zone = cx.reference(&f, "zone", &[Kind::DnsZone], true);
    let ttl = cx.number(&f, "ttl", 1, 2_147_483_647, false).map_or(300, |t| t.value);
    let mut sources = Vec::new();
    let data = match (f.get("a"), f.get("cname")) {
        (Some(a), Some(c)) => {
            cx.push(
                Diagnostic::error("AKS012", "a record set is either `a` or `cname`")
                    .with_primary(c.key.span, "cname")
                    .with_secondary(a.key.span, "a")
                    .with_help("use two dns_record blocks with different names"),
            );
            None
        }
        (None, None) => {
            cx.push(
                Diagnostic::error("AKS011", format!("dns_record \"{label}\" needs `a` or `cname`"))
                    .with_primary(block.header_span(), "no record data")
                    .with_help("write `a = public_ip.web.address` or `cname = \"target.example.com\"`"),
            );
            None
        }
        (Some(_), None) => {
            let expr = cx.value(&f, "a", true);
            let items: Vec<_> = match expr.map(Cow::into_owned) {
                Some(e) => match e.kind {
                    ExprKind::List(items) => items.iter().filter_map(|i| cx.resolve(i).map(Cow::into_owned)).collect(),
                    _ => vec![e],
                },
                None => Vec::new(),
            };
            let values: Vec<_> = items
                .iter()
                .filter_map(|e| match &e.kind {
                    ExprKind::Ip(ip) => Some(Spanned::new(RecordValue::Literal(ip.to_string()), e.span)),
                    ExprKind::Reference(r) => {
                        let t = cx.target(r, e.span)?;
                        match t.attribute.as_deref() {
                            Some("address") => {
                                sources.push(t.address.clone());
                                Some(Spanned::new(RecordValue::Ref(AttributeRef { address: t.address, attribute: "address".into() }), e.span))
                            }
                            _ => {
                                cx.push(
                                    Diagnostic::error("AKS012", "an A record takes IP addresses")
                                        .with_primary(e.span, "not an address")
                                        .with_help("refer to an address: `public_ip.NAME.address`, `service.NAME.address` or `ingress.NAME.address`"),
                                );
                                None
                            }
                        }
                    }
                    _ => {
                        cx.type_error(e, "a", "an IP address or a reference to one", "public_ip.web.address");
                        None
                    }
                })
                .collect();
            (!values.is_empty()).then_some(RecordData::A(values))
        }
        (None, Some(_)) => cx.value(&f, "cname", true).and_then(|e| match &e.kind {
            ExprKind::String(s) => {
                cx.check_name(s, e.span, "DNS name", names::dns_name(s), AZURE_NAME);
                Some(RecordData::Cname(Spanned::new(RecordValue::Literal(s.clone()), e.span)))
            }
            ExprKind::Reference(r) => {
                let t = cx.target(r, e.span)?;
                match t.attribute.as_deref() {
                    Some("fqdn") => {
                        sources.push(t.address.clone());
                        Some(RecordData::Cname(Spanned::new(
                            RecordValue::Ref(AttributeRef { address: t.address, attribute: "fqdn".into() }),
                            e.span,
                        )))
                    }
                    _ => {
                        cx.push(
                            Diagnostic::error("AKS012", "a CNAME record takes a host name")
                                .with_primary(e.span, "not a host name")
                                .with_help("write a string, or refer to `public_ip.NAME.fqdn` or `cluster.NAME.fqdn`"),
                        );
                        None
                    }
                }
            }
            _ => {
                cx.type_error(&e, "cname", "a host name", "\"target.example.com\"");
                None
            }
        }),
    };
    let (Some(zone), Some(data)) = (zone, data) else { return };
    let Some(zone_name) = stack.dns_zones.iter().find(|z| z.address == zone.address).map(|z| z.name.clone()) else {
        return;
    };
    stack.dns_records.push(DnsRecord {
        address: Address::new(Kind::DnsRecord, label),
        span: block.header_span(),
        zone: zone.address,
        zone_name,
        name: name.value,
        ttl,
        data,
        sources,
    });
}
