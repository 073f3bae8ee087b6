//! Lowering of the Kubernetes objects: namespaces, Services of the four types with their
//! ports, and Ingresses with hosts, paths and TLS.

use super::{BlockFields, Lowering, Target};
use crate::diag::{Diagnostic, Span};
use crate::model::address::{Address, Kind};
use crate::model::kinds::*;
use crate::model::names;
use crate::model::stack::Stack;
use crate::syntax::ast::{Block, Expr, ExprKind};

const KUBE_NAME: &str = "AKS015";

/// `name = "..."` when set, else the label; checked against a Kubernetes rule.
fn object_name(
    cx: &mut Lowering,
    f: &BlockFields,
    label: &str,
    what: &str,
    rule: fn(&str) -> names::NameCheck,
) -> Spanned<String> {
    let name = cx.string(f, "name", false).unwrap_or_else(|| Spanned::new(label.to_string(), f.span));
    cx.check_name(&name.value, name.span, what, rule(&name.value), KUBE_NAME);
    name
}

pub(super) fn namespace(cx: &mut Lowering, block: &Block, label: String, stack: &mut Stack) {
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("namespace \"{label}\""),
        block.header_span(),
        &["name", "cluster", "labels", "annotations"],
        &[],
    );
    let name = object_name(cx, &f, &label, "namespace name (DNS-1123 label)", names::dns1123_label);
    let cluster = cx.reference(&f, "cluster", &[Kind::Cluster], true);
    let labels = cx.labels(&f, "labels", true, true).map(|l| l.value).unwrap_or_default();
    let annotations = cx.labels(&f, "annotations", true, false).map(|l| l.value).unwrap_or_default();
    let Some(cluster) = cluster else { return };
    stack.namespaces.push(Namespace {
        address: Address::new(Kind::Namespace, label),
        span: block.header_span(),
        cluster: cluster.address,
        name: name.value,
        labels,
        annotations,
    });
}

/// Where a Service or Ingress lives: its cluster, the namespace resource (when managed
/// here) and the namespace name. `namespace` is a reference, or a name with `cluster`.
fn placement(cx: &mut Lowering, f: &BlockFields, stack: &Stack) -> Option<(Address, Option<Address>, String)> {
    let expr = cx.value(f, "namespace", true)?;
    match &expr.kind {
        ExprKind::String(name) => {
            cx.check_name(name, expr.span, "namespace name", names::dns1123_label(name), KUBE_NAME);
            let cluster = cx.reference(f, "cluster", &[Kind::Cluster], false);
            match cluster {
                Some(c) => Some((c.address, None, name.clone())),
                None => {
                    if !f.has("cluster") {
                        cx.push(
                            Diagnostic::error("AKS011", format!("{} names its namespace, so it needs `cluster`", f.what))
                                .with_primary(expr.span, "a namespace outside this stack")
                                .with_help("add `cluster = cluster.NAME`, or refer to a namespace of the stack: `namespace = namespace.NAME`"),
                        );
                    }
                    None
                }
            }
        }
        _ => {
            let target = cx.expr_reference(&expr, "namespace", &[Kind::Namespace])?;
            if let Some(c) = f.get("cluster") {
                cx.push(
                    Diagnostic::error("AKS012", "the namespace already names the cluster")
                        .with_primary(c.key.span, "not needed")
                        .with_help("remove `cluster`; it is taken from the namespace"),
                );
            }
            let ns = cx.lowered(&target.address).and_then(|i| stack.namespaces.get(i))?;
            Some((ns.cluster.clone(), Some(ns.address.clone()), ns.name.clone()))
        }
    }
}

pub(super) fn service(cx: &mut Lowering, block: &Block, label: String, stack: &Stack) -> Option<Service> {
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("service \"{label}\""),
        block.header_span(),
        &[
            "name",
            "namespace",
            "cluster",
            "type",
            "selector",
            "labels",
            "annotations",
            "session_affinity",
            "external_traffic_policy",
        ],
        &["port"],
    );
    let name = object_name(cx, &f, &label, "Service name (DNS-1035 label)", names::dns1035_label);
    let place = placement(cx, &f, stack);
    let service_type = match cx.value(&f, "type", false) {
        None => Some(Spanned::new(ServiceType::ClusterIp { ip: None, headless: false }, f.span)),
        Some(expr) => {
            let cluster = place.as_ref().map(|(c, _, _)| c);
            service_type(cx, &expr, cluster, stack).map(|t| Spanned::new(t, expr.span))
        }
    };
    let selector = cx.labels(&f, "selector", true, true);
    let labels = cx.labels(&f, "labels", true, true).map(|l| l.value).unwrap_or_default();
    let annotations = cx.labels(&f, "annotations", true, false).map(|l| l.value).unwrap_or_default();
    let session_affinity = cx
        .word(&f, "session_affinity", &["none", "client_ip"], false)
        .map_or("None", |w| if w.value == "client_ip" { "ClientIP" } else { "None" });
    let external_traffic_policy = cx
        .word(&f, "external_traffic_policy", &["cluster", "local"], false)
        .map(|w| Spanned::new(if w.value == "local" { "Local".to_string() } else { "Cluster".to_string() }, w.span));
    let ports: Vec<ServicePort> = f.blocks("port").filter_map(|b| port(cx, b)).collect();
    let (Some((cluster, namespace_address, namespace)), Some(service_type)) = (place, service_type) else {
        return None;
    };
    if ports.is_empty() && !matches!(service_type.value, ServiceType::ExternalName(_)) {
        cx.push(
            Diagnostic::error("AKS011", format!("service \"{label}\" needs at least one `port`"))
                .with_primary(block.header_span(), "no ports")
                .with_help("add `port http 80 -> 8080` (name, port, target port)"),
        );
    }
    Some(Service {
        address: Address::new(Kind::Service, label),
        span: block.header_span(),
        cluster,
        namespace_address,
        namespace,
        name,
        service_type,
        selector,
        ports,
        session_affinity: session_affinity.to_string(),
        external_traffic_policy,
        labels,
        annotations,
        waits_for: Vec::new(),
    })
}

fn service_type(cx: &mut Lowering, expr: &Expr, cluster: Option<&Address>, stack: &Stack) -> Option<ServiceType> {
    const TYPES: &[&str] = &["cluster_ip", "headless", "node_port", "load_balancer", "external_name"];
    let (name, args, body) = match &expr.kind {
        ExprKind::Word(w) => (w.as_str(), &[][..], None),
        ExprKind::Constructor { name, args, body } => (name.name.as_str(), args.as_slice(), body.as_ref()),
        _ => {
            cx.type_error(expr, "type", "a Service type", "cluster_ip");
            return None;
        }
    };
    let bad_args = |cx: &mut Lowering, usage: &str| {
        cx.push(
            Diagnostic::error("AKS012", format!("unexpected settings for `{name}`"))
                .with_primary(expr.span, "this type")
                .with_help(format!("write `type = {usage}`")),
        );
    };
    match name {
        "cluster_ip" | "headless" => {
            if !args.is_empty() {
                bad_args(cx, "cluster_ip { ip = 10.0.0.50 }");
                return None;
            }
            if name == "headless" {
                if body.is_some() {
                    bad_args(cx, "headless");
                }
                return Some(ServiceType::ClusterIp { ip: None, headless: true });
            }
            let f = BlockFields::new(cx, body, "cluster_ip", expr.span, &["ip"], &[]);
            Some(ServiceType::ClusterIp { ip: cx.ip(&f, "ip", false), headless: false })
        }
        "node_port" => {
            if !args.is_empty() || body.is_some() {
                bad_args(cx, "node_port");
            }
            Some(ServiceType::NodePort)
        }
        "external_name" => match args {
            [host] if body.is_none() => {
                let host = cx.resolve(host).and_then(|h| cx.expr_string(&h, "external_name"))?;
                Some(ServiceType::ExternalName(host))
            }
            _ => {
                bad_args(cx, "external_name \"db.example.com\"");
                None
            }
        },
        "load_balancer" => {
            let internal = match args {
                [] => false,
                [Expr { kind: ExprKind::Word(w), .. }] if w == "internal" => true,
                [Expr { kind: ExprKind::Word(w), .. }] if w == "external" => false,
                _ => {
                    bad_args(cx, "load_balancer, load_balancer internal or load_balancer external");
                    return None;
                }
            };
            let allowed: &[&str] =
                if internal { &["ip", "subnet"] } else { &["public_ip", "ip", "dns_label", "resource_group"] };
            let what = if internal { "load_balancer internal" } else { "load_balancer" };
            let f = BlockFields::new(cx, body, what, expr.span, allowed, &[]);
            let public_ip = cx.reference(&f, "public_ip", &[Kind::PublicIp], false);
            let ip = cx.ip(&f, "ip", false);
            let subnet = cx.reference(&f, "subnet", &[Kind::Subnet], false).map(|t| Spanned::new(t.address, t.span));
            let dns_label = cx.string(&f, "dns_label", false);
            if let Some(l) = &dns_label {
                cx.check_name(&l.value, l.span, "DNS label", names::public_ip_dns_label(&l.value), "AKS016");
            }
            let mut resource_group = cx.string(&f, "resource_group", false).map(|r| r.value);
            let mut public_ip_name = None;
            if let Some(t) = &public_ip
                && let Some(ip) = stack.public_ips.iter().find(|p| p.address == t.address)
            {
                public_ip_name = Some(ip.name.clone());
                // A public IP outside the node resource group of the Service's own cluster
                // needs its group named (resource group names ignore case).
                let in_node_group = stack
                    .clusters
                    .iter()
                    .filter(|c| Some(&c.address) == cluster)
                    .any(|c| c.node_resource_group.eq_ignore_ascii_case(&ip.resource_group));
                if resource_group.is_none() && !in_node_group {
                    resource_group = Some(ip.resource_group.clone());
                }
            }
            Some(ServiceType::LoadBalancer(LoadBalancer {
                span: expr.span,
                internal,
                public_ip: public_ip.map(|t| Spanned::new(t.address, t.span)),
                public_ip_name,
                ip,
                subnet,
                dns_label: dns_label.map(|l| l.value),
                resource_group,
            }))
        }
        other => {
            let help = match crate::diag::closest(other, TYPES.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("the types are: {}", TYPES.join(", ")),
            };
            cx.push(
                Diagnostic::error("AKS012", format!("`{other}` is not a Service type"))
                    .with_primary(expr.span, "unknown type")
                    .with_help(help),
            );
            None
        }
    }
}

fn protocol(cx: &mut Lowering, word: &str, span: Span) -> Option<Protocol> {
    match word.to_ascii_lowercase().as_str() {
        "tcp" => Some(Protocol::Tcp),
        "udp" => Some(Protocol::Udp),
        "sctp" => Some(Protocol::Sctp),
        _ => {
            cx.push(
                Diagnostic::error("AKS012", format!("`{word}` is not a protocol"))
                    .with_primary(span, "unknown protocol")
                    .with_help("use tcp, udp or sctp, e.g. `53/udp`"),
            );
            None
        }
    }
}

/// `port NAME PORT[/PROTOCOL] [-> TARGET] [{ node_port = N  app_protocol = "..." }]`
fn port(cx: &mut Lowering, block: &Block) -> Option<ServicePort> {
    let usage = "write `port NAME PORT -> TARGET`, e.g. `port http 80 -> 8080` or `port dns 53/udp`";
    let labels = cx.labels_of(block);
    let (name, spec) = match labels.as_slice() {
        [Expr { kind: ExprKind::Word(name), span }, spec] => (Spanned::new(name.clone(), *span), spec.clone()),
        _ => {
            cx.push(
                Diagnostic::error("AKS012", "a port needs a name and a port number")
                    .with_primary(block.header_span(), "incomplete port")
                    .with_help(usage),
            );
            return None;
        }
    };
    cx.check_name(&name.value, name.span, "port name (DNS-1123 label)", names::dns1123_label(&name.value), KUBE_NAME);
    let (front, target) = match &spec.kind {
        ExprKind::Mapping { from, to } => ((**from).clone(), Some((**to).clone())),
        _ => (spec.clone(), None),
    };
    let (port, mut protocol) = match &front.kind {
        ExprKind::Number(n) => (*n, Protocol::Tcp),
        ExprKind::PortProtocol { port, protocol: p } => (*port, protocol(cx, &p.name, p.span)?),
        _ => {
            cx.push(
                Diagnostic::error("AKS012", "expected a port number")
                    .with_primary(front.span, format!("found {}", front.kind.describe()))
                    .with_help(usage),
            );
            return None;
        }
    };
    // Saturate rather than wrap, so an oversized number stays out of range for the checks.
    let port = Spanned::new(u32::try_from(port).unwrap_or(u32::MAX), front.span);
    let target_port = match target.as_ref().map(|t| &t.kind) {
        None => TargetPort::Number(port.value),
        Some(ExprKind::Number(n)) => TargetPort::Number(u32::try_from(*n).unwrap_or(u32::MAX)),
        Some(ExprKind::Word(w)) | Some(ExprKind::String(w)) => TargetPort::Name(w.clone()),
        Some(other) => {
            let span = target.as_ref().map_or(spec.span, |t| t.span);
            cx.push(
                Diagnostic::error(
                    "AKS012",
                    format!("a target port is a number or a container port name, found {}", other.describe()),
                )
                .with_primary(span, "invalid target port")
                .with_help(usage),
            );
            return None;
        }
    };
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("port \"{}\"", name.value),
        block.header_span(),
        &["node_port", "app_protocol", "protocol"],
        &[],
    );
    let node_port = cx.number(&f, "node_port", 0, 65535, false);
    let app_protocol = cx.string(&f, "app_protocol", false).map(|a| a.value);
    if let Some(p) = cx.word(&f, "protocol", &["tcp", "udp", "sctp"], false) {
        protocol = self::protocol(cx, &p.value, p.span)?;
    }
    Some(ServicePort { span: block.header_span(), name, port, protocol, target_port, node_port, app_protocol })
}

pub(super) fn ingress(cx: &mut Lowering, block: &Block, label: String, stack: &Stack) -> Option<Ingress> {
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("ingress \"{label}\""),
        block.header_span(),
        &["name", "namespace", "cluster", "class", "default_backend", "labels", "annotations"],
        &["tls", "host", "path"],
    );
    let name = object_name(cx, &f, &label, "Ingress name (DNS-1123 subdomain)", names::dns1123_subdomain);
    let place = placement(cx, &f, stack);
    let class = cx.string(&f, "class", false);
    let default_backend = cx.value(&f, "default_backend", false).and_then(|e| backend(cx, &e, stack));
    let labels = cx.labels(&f, "labels", true, true).map(|l| l.value).unwrap_or_default();
    let annotations = cx.labels(&f, "annotations", true, false).map(|l| l.value).unwrap_or_default();
    let mut tls = Vec::new();
    for tb in f.blocks("tls") {
        let Some(secret) = cx.block_name(tb) else { continue };
        cx.check_name(
            &secret,
            tb.header_span(),
            "Secret name (DNS-1123 subdomain)",
            names::dns1123_subdomain(&secret),
            KUBE_NAME,
        );
        let tf = BlockFields::new(cx, tb.body.as_ref(), format!("tls \"{secret}\""), tb.header_span(), &["hosts"], &[]);
        let hosts = cx.string_list(&tf, "hosts");
        tls.push(IngressTls { span: tb.header_span(), secret, hosts });
    }
    let mut rules = Vec::new();
    let loose_paths: Vec<IngressPath> = f.blocks("path").filter_map(|p| path(cx, p, stack)).collect();
    if !loose_paths.is_empty() {
        rules.push(IngressRule { span: f.span, host: None, paths: loose_paths });
    }
    for hb in f.blocks("host") {
        let Some(host) = cx.block_name(hb) else { continue };
        let hf = BlockFields::new(cx, hb.body.as_ref(), format!("host \"{host}\""), hb.header_span(), &[], &["path"]);
        let paths: Vec<IngressPath> = hf.blocks("path").filter_map(|p| path(cx, p, stack)).collect();
        let host_span = hb.labels.first().map_or(hb.header_span(), |l| l.span);
        if paths.is_empty() {
            cx.push(
                Diagnostic::error("AKS011", format!("host \"{host}\" has no paths"))
                    .with_primary(hb.header_span(), "no paths")
                    .with_help("add `path \"/\" -> service.NAME:PORT`"),
            );
        }
        rules.push(IngressRule { span: hb.header_span(), host: Some(Spanned::new(host, host_span)), paths });
    }
    if rules.is_empty() && default_backend.is_none() {
        cx.push(
            Diagnostic::error("AKS011", format!("ingress \"{label}\" routes nothing"))
                .with_primary(block.header_span(), "no hosts, paths or default backend")
                .with_help("add `host \"shop.example.com\" { path \"/\" -> service.web:http }` or `default_backend = service.web:http`"),
        );
    }
    let (cluster, namespace_address, namespace) = place?;
    Some(Ingress {
        address: Address::new(Kind::Ingress, label),
        span: block.header_span(),
        cluster,
        namespace_address,
        namespace,
        name,
        class,
        tls,
        rules,
        default_backend,
        labels,
        annotations,
    })
}

/// `path "/api" -> service.api:http` or `path "/api" exact -> service.api:http`
fn path(cx: &mut Lowering, block: &Block, stack: &Stack) -> Option<IngressPath> {
    let usage =
        "write `path \"/api\" -> service.NAME:PORT`, with `exact` or `implementation_specific` before `->` if needed";
    let labels = cx.labels_of(block);
    let (path, path_type, to) = match labels.as_slice() {
        [Expr { kind: ExprKind::Mapping { from, to }, .. }] => match &from.kind {
            ExprKind::String(p) => (Spanned::new(p.clone(), from.span), PathType::Prefix, (**to).clone()),
            _ => (Spanned::new(String::new(), from.span), PathType::Prefix, (**to).clone()),
        },
        [Expr { kind: ExprKind::String(p), span }, Expr { kind: ExprKind::Mapping { from, to }, .. }] => {
            let path_type = match &from.kind {
                ExprKind::Word(w) if w == "prefix" => PathType::Prefix,
                ExprKind::Word(w) if w == "exact" => PathType::Exact,
                ExprKind::Word(w) if w == "implementation_specific" => PathType::ImplementationSpecific,
                _ => {
                    cx.push(
                        Diagnostic::error("AKS012", "unknown path type")
                            .with_primary(from.span, "expected prefix, exact or implementation_specific")
                            .with_help(usage),
                    );
                    return None;
                }
            };
            (Spanned::new(p.clone(), *span), path_type, (**to).clone())
        }
        _ => {
            cx.push(
                Diagnostic::error("AKS012", "a path needs a path and a backend")
                    .with_primary(block.header_span(), "incomplete path")
                    .with_help(usage),
            );
            return None;
        }
    };
    if path.value.is_empty() {
        cx.push(
            Diagnostic::error("AKS012", "the path must be a string")
                .with_primary(path.span, "not a path")
                .with_help(usage),
        );
        return None;
    }
    let backend = backend(cx, &to, stack)?;
    Some(IngressPath { span: block.header_span(), path, path_type, backend })
}

/// `service.web:http` or `service.web:80`
fn backend(cx: &mut Lowering, expr: &Expr, stack: &Stack) -> Option<Backend> {
    let Target { address, port, span, .. } = cx.expr_reference(expr, "backend", &[Kind::Service])?;
    let Some(port) = port else {
        cx.push(
            Diagnostic::error("AKS012", format!("the backend {address} needs a port"))
                .with_primary(span, "which port?")
                .with_help(format!("write `{address}:PORT_NAME` or `{address}:80`")),
        );
        return None;
    };
    let port = match port.name.parse::<u32>() {
        Ok(n) => PortRef::Number(n),
        Err(_) => PortRef::Name(port.name),
    };
    // The Kubernetes name, which `name = "..."` may set apart from the block label.
    let service_name = cx
        .lowered(&address)
        .and_then(|i| stack.services.get(i))
        .map_or_else(|| address.name.clone(), |s| s.name.value.clone());
    Some(Backend { span, service: address, service_name, port })
}
