//! Ingress rules (AKS4xx): hosts and paths as the Kubernetes API server validates them,
//! backends that exist where the Ingress can reach them, routes two Ingresses both claim,
//! TLS hosts that no rule serves, and the application routing class on a cluster without
//! the add-on that serves it.

use std::net::IpAddr;

use super::RuleInfo;
use super::index::Index;
use crate::diag::{Diagnostic, Span, closest};
use crate::model::{
    Backend, Ingress, IngressPath, PathType, PortRef, ServiceType, Spanned, TargetPort, WEB_APP_ROUTING_CLASS, names,
};

pub(super) const INGRESS_BACKEND_NOT_FOUND: RuleInfo = rule!(
    "AKS401",
    "ingress-backend-not-found",
    Error,
    "An Ingress backend is a Service of another cluster or namespace"
);
pub(super) const INGRESS_BACKEND_PORT_NOT_FOUND: RuleInfo = rule!(
    "AKS402",
    "ingress-backend-port-not-found",
    Error,
    "An Ingress backend names a port its Service does not expose"
);
pub(super) const INGRESS_BACKEND_EXTERNAL_NAME: RuleInfo =
    rule!("AKS403", "ingress-backend-external-name", Warning, "An Ingress backend is an ExternalName Service");
pub(super) const INGRESS_PATH_CONFLICT: RuleInfo = rule!(
    "AKS404",
    "ingress-path-conflict",
    Error,
    "Two Ingresses of one class claim the same host, path and path type"
);
pub(super) const INGRESS_TLS_HOST_NOT_ROUTED: RuleInfo =
    rule!("AKS405", "ingress-tls-host-not-routed", Warning, "A TLS host of an Ingress matches none of its rules");
pub(super) const INGRESS_HOST_INVALID: RuleInfo =
    rule!("AKS406", "ingress-host-invalid", Error, "An Ingress host is an IP address or not a valid DNS name");
pub(super) const INGRESS_PATH_INVALID: RuleInfo = rule!(
    "AKS407",
    "ingress-path-invalid",
    Error,
    "An Ingress path is not absolute or contains a sequence Kubernetes refuses"
);

pub(super) const INGRESS_CLASS_WITHOUT_APP_ROUTING: RuleInfo = rule!(
    "AKS408",
    "ingress-class-without-app-routing",
    Error,
    "An Ingress of the application routing class is on a cluster without the add-on"
);

pub(super) const RULES: &[RuleInfo] = &[
    INGRESS_BACKEND_NOT_FOUND,
    INGRESS_BACKEND_PORT_NOT_FOUND,
    INGRESS_BACKEND_EXTERNAL_NAME,
    INGRESS_PATH_CONFLICT,
    INGRESS_TLS_HOST_NOT_ROUTED,
    INGRESS_HOST_INVALID,
    INGRESS_PATH_INVALID,
    INGRESS_CLASS_WITHOUT_APP_ROUTING,
];

/// Sequences and endings the API server refuses in Exact and Prefix paths.
const INVALID_PATH_SEQUENCES: [&str; 5] = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES: [&str; 2] = ["/..", "/."];

pub(super) fn check(index: &Index, out: &mut Vec<Diagnostic>) {
    for ingress in &index.stack.ingresses {
        for rule in &ingress.rules {
            if let Some(host) = &rule.host {
                rule_host(ingress, host, out);
            }
            for path in &rule.paths {
                path_syntax(ingress, path, out);
                backend(index, ingress, &path.backend, out);
            }
        }
        if let Some(b) = &ingress.default_backend {
            backend(index, ingress, b, out);
        }
        tls_hosts(ingress, out);
        app_routing_class(index, ingress, out);
    }
    path_conflicts(index, out);
}

/// Only the add-on's controller serves its class: without it the Ingress never gets an
/// address, and whatever takes that address waits for it in vain.
fn app_routing_class(index: &Index, ingress: &Ingress, out: &mut Vec<Diagnostic>) {
    let Some(class) = ingress.class.as_ref().filter(|c| c.value == WEB_APP_ROUTING_CLASS) else { return };
    let Some((_, cluster)) = index.cluster(&ingress.cluster) else { return };
    if cluster.web_app_routing {
        return;
    }
    out.push(
        INGRESS_CLASS_WITHOUT_APP_ROUTING
            .diagnostic(format!(
                "{} has class {WEB_APP_ROUTING_CLASS}, but {} does not run the application routing add-on",
                ingress.address, cluster.address
            ))
            .with_primary(class.span, "no controller serves this class on the cluster")
            .with_secondary(cluster.span, format!("{} has no `web_app_routing = true`", cluster.address))
            .with_help(format!(
                "add `web_app_routing = true` to {}: AKS then runs the managed NGINX ingress controller that serves this class and gives the Ingress its address",
                cluster.address
            )),
    );
}

fn backend(index: &Index, ingress: &Ingress, backend: &Backend, out: &mut Vec<Diagnostic>) {
    let Some(service) = index.services.get(&backend.service) else { return };
    if service.cluster != ingress.cluster || service.namespace != ingress.namespace {
        out.push(
            INGRESS_BACKEND_NOT_FOUND
                .diagnostic(format!(
                    "{} routes to {}, which is in namespace {} of {}, not in namespace {} of {}",
                    ingress.address,
                    service.address,
                    service.namespace,
                    service.cluster,
                    ingress.namespace,
                    ingress.cluster
                ))
                .with_primary(backend.span, format!("not in namespace {} of {}", ingress.namespace, ingress.cluster))
                .with_secondary(
                    service.span,
                    format!("{} is in namespace {} of {}", service.address, service.namespace, service.cluster),
                )
                .with_help(format!(
                    "an Ingress reaches only Services of its own namespace: put {} and {} in the same namespace",
                    service.address, ingress.address
                )),
        );
        return;
    }
    if let ServiceType::ExternalName(host) = &service.service_type.value {
        out.push(
            INGRESS_BACKEND_EXTERNAL_NAME
                .diagnostic(format!("{} routes to {}, an ExternalName Service for {}", ingress.address, service.address, host.value))
                .with_primary(backend.span, "an ExternalName backend")
                .with_secondary(host.span, format!("an alias for {}", host.value))
                .with_help(format!(
                    "the ingress controller then proxies to {} outside the cluster, if it supports ExternalName backends at all; check that it does and that {} accepts the Host header and TLS it receives, or route to a ClusterIP Service",
                    host.value, host.value
                )),
        );
        // Controllers take the port of an ExternalName backend as written.
        if service.ports.is_empty() {
            return;
        }
    }
    let found = match &backend.port {
        PortRef::Name(name) => service.ports.iter().any(|p| &p.name.value == name),
        PortRef::Number(n) => service.ports.iter().any(|p| p.port.value == *n),
    };
    if found {
        return;
    }
    let exposed: Vec<String> = service.ports.iter().map(|p| format!("{} ({})", p.name.value, p.port.value)).collect();
    let (wanted, help) = match &backend.port {
        PortRef::Name(name) => {
            let near = closest(name, service.ports.iter().map(|p| p.name.value.as_str()));
            let help = match near {
                Some(near) => format!("did you mean `{}:{near}`?", service.address),
                None => format!("name one of the Service's ports: {}", exposed.join(", ")),
            };
            (format!("port `{name}`"), help)
        }
        PortRef::Number(n) => {
            let by_target = service.ports.iter().find(|p| p.target_port == TargetPort::Number(*n));
            let help = match by_target {
                Some(p) => format!(
                    "{n} is the target port of port {}; a backend names the Service port: `{}:{}`",
                    p.name.value, service.address, p.port.value
                ),
                None => format!("use one of the Service's ports: {}", exposed.join(", ")),
            };
            (format!("port {n}"), help)
        }
    };
    out.push(
        INGRESS_BACKEND_PORT_NOT_FOUND
            .diagnostic(format!(
                "{} routes to {wanted} of {}, which the Service does not expose",
                ingress.address, service.address
            ))
            .with_primary(backend.span, format!("no {wanted}"))
            .with_secondary(
                service.span,
                format!("ports: {}", if exposed.is_empty() { "none".into() } else { exposed.join(", ") }),
            )
            .with_help(help),
    );
}

/// `*.example.com` matches `shop.example.com`: a wildcard stands for exactly one label.
fn wildcard_matches(pattern: &str, host: &str) -> bool {
    match (pattern.strip_prefix("*."), host.split_once('.')) {
        (Some(suffix), Some((label, rest))) => !label.is_empty() && label != "*" && rest == suffix,
        _ => false,
    }
}

/// Why a host is not a valid DNS name or wildcard, as the API server decides it.
fn host_problem(host: &str) -> Option<String> {
    if host.contains('*') {
        let Some(rest) = host.strip_prefix("*.") else {
            return Some("a wildcard must be the whole first label, as in `*.example.com`".into());
        };
        return names::dns1123_subdomain(rest).err().map(|e| format!("after `*.`, the name {e}"));
    }
    names::dns1123_subdomain(host).err()
}

fn host_fix(host: &str) -> String {
    let lower = host.to_ascii_lowercase();
    if lower != host && host_problem(&lower).is_none() {
        return format!("hosts are lowercase: write `{lower}`");
    }
    if let Some((_, rest)) = host.split_once('.').filter(|_| host.contains('*'))
        && host_problem(&format!("*.{rest}")).is_none()
    {
        return format!("write `*.{rest}`, which matches one label in front of {rest}");
    }
    "write a DNS name such as `shop.example.com`, or `*.example.com` for every name one label under example.com".into()
}

fn rule_host(ingress: &Ingress, host: &Spanned<String>, out: &mut Vec<Diagnostic>) {
    let (problem, help) = if host.value.parse::<IpAddr>().is_ok() {
        (
            "an IP address; Ingress hosts are DNS names".to_string(),
            "use a DNS name that resolves to the address, or leave the host out to match every host".to_string(),
        )
    } else {
        match host_problem(&host.value) {
            Some(p) => (format!("not a valid host: {p}"), host_fix(&host.value)),
            None => return,
        }
    };
    out.push(
        INGRESS_HOST_INVALID
            .diagnostic(format!("the host `{}` of {} is {problem}", host.value, ingress.address))
            .with_primary(host.span, "rejected by Kubernetes")
            .with_help(help),
    );
}

fn tls_hosts(ingress: &Ingress, out: &mut Vec<Diagnostic>) {
    let rule_hosts: Vec<&Spanned<String>> = ingress.rules.iter().filter_map(|r| r.host.as_ref()).collect();
    // A rule without a host, or a default backend, serves every host.
    let catch_all = ingress.default_backend.is_some() || ingress.rules.iter().any(|r| r.host.is_none());
    for tls in &ingress.tls {
        for host in &tls.hosts {
            // TLS hosts may be IP addresses; only the name rules apply to them.
            if let Some(problem) = host_problem(&host.value) {
                out.push(
                    INGRESS_HOST_INVALID
                        .diagnostic(format!(
                            "the TLS host `{}` of {} is not valid: {problem}",
                            host.value, ingress.address
                        ))
                        .with_primary(host.span, "rejected by Kubernetes")
                        .with_help(host_fix(&host.value)),
                );
                continue;
            }
            let routed = catch_all
                || rule_hosts.iter().any(|r| {
                    r.value == host.value
                        || wildcard_matches(&r.value, &host.value)
                        || wildcard_matches(&host.value, &r.value)
                });
            if routed {
                continue;
            }
            let help = match closest(&host.value, rule_hosts.iter().map(|r| r.value.as_str())) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!(
                    "add `host \"{}\" {{ path \"/\" -> service.NAME:PORT }}`, or remove it from the tls block",
                    host.value
                ),
            };
            let mut d = INGRESS_TLS_HOST_NOT_ROUTED
                .diagnostic(format!(
                    "{} has a certificate for {}, but no rule routes that host",
                    ingress.address, host.value
                ))
                .with_primary(host.span, "no rule for this host");
            for r in &rule_hosts {
                d = d.with_secondary(r.span, "a routed host");
            }
            out.push(d.with_help(help));
        }
    }
}

fn path_syntax(ingress: &Ingress, path: &IngressPath, out: &mut Vec<Diagnostic>) {
    let p = path.path.value.as_str();
    let absolute = p.starts_with('/');
    let problem = match path.path_type {
        PathType::Exact | PathType::Prefix => {
            if !absolute {
                Some("must start with `/`".to_string())
            } else if let Some(seq) = INVALID_PATH_SEQUENCES.iter().find(|s| p.contains(*s)) {
                Some(format!("must not contain `{seq}`"))
            } else {
                INVALID_PATH_SUFFIXES.iter().find(|s| p.ends_with(*s)).map(|s| format!("must not end with `{s}`"))
            }
        }
        PathType::ImplementationSpecific => (!p.is_empty() && !absolute).then(|| "must start with `/`".to_string()),
    };
    let Some(problem) = problem else { return };
    let mut fixed = if absolute { p.to_string() } else { format!("/{p}") };
    while fixed.contains("//") {
        fixed = fixed.replace("//", "/");
    }
    let help = if fixed != p && !INVALID_PATH_SEQUENCES.iter().any(|s| fixed.contains(s)) {
        format!("write `path \"{fixed}\"`")
    } else {
        "write a normalized absolute path such as `/api`".to_string()
    };
    out.push(
        INGRESS_PATH_INVALID
            .diagnostic(format!("the {} path `{p}` of {} {problem}", path.path_type.kubernetes(), ingress.address))
            .with_primary(path.path.span, "rejected by Kubernetes")
            .with_help(help),
    );
}

fn path_conflicts(index: &Index, out: &mut Vec<Diagnostic>) {
    type Key<'a> = (usize, Option<&'a str>, Option<&'a str>, &'a str, &'static str);
    let mut claims: Vec<(Key, Span, &Ingress)> = Vec::new();
    for ingress in &index.stack.ingresses {
        let Some((cluster, _)) = index.cluster(&ingress.cluster) else { continue };
        let class = ingress.class.as_ref().map(|c| c.value.as_str());
        for rule in &ingress.rules {
            let host = rule.host.as_ref().map(|h| h.value.as_str());
            for path in &rule.paths {
                let key = (cluster, class, host, path.path.value.as_str(), path.path_type.kubernetes());
                claims.push((key, path.path.span, ingress));
            }
        }
    }
    claims.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut run_start = 0;
    for i in 0..claims.len() {
        if i > 0 && claims[i].0 != claims[i - 1].0 {
            run_start = i;
        }
        let ((_, class, host, path, path_type), span, ingress) = &claims[i];
        let Some((_, first_span, first)) = claims[run_start..i].iter().find(|c| c.2.address != ingress.address) else {
            continue;
        };
        let host = host.map_or_else(|| "every host".to_string(), str::to_string);
        let class = class.map_or_else(|| "the default class".to_string(), |c| format!("class {c}"));
        out.push(
            INGRESS_PATH_CONFLICT
                .diagnostic(format!(
                    "{} and {} both route {path_type} {path} on {host} with {class}",
                    first.address, ingress.address
                ))
                .with_primary(*span, format!("also claimed by {}", first.address))
                .with_secondary(*first_span, format!("{} claims it here", first.address))
                .with_help("the ingress controller serves one of them and ignores the other (NGINX's admission webhook rejects the second): remove the duplicate, or merge the two Ingresses"),
        );
    }
}

#[cfg(test)]
mod tests;
