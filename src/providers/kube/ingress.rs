//! Ingresses (networking.k8s.io/v1): class, rules of hosts and paths, TLS, default backend;
//! `address` is the load balancer's once the ingress controller reports one.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    IngressTLS, ServiceBackendPort,
};

use super::metadata;
use crate::model::{Address, Value};
use crate::providers::attributes::{AttributeFields, Reader};
use crate::providers::{Attributes, ProviderError};

const SETTINGS: &[&str] =
    &["name", "namespace", "cluster", "class", "rules", "tls", "default_backend", "labels", "annotations", "address"];

pub(super) fn desired(fields: &AttributeFields<'_>, address: &Address) -> Result<Ingress, ProviderError> {
    fields.only(SETTINGS)?;
    let reader = fields.reader();
    let namespace = fields.required_str("namespace")?.to_string();
    let mut rules = Vec::new();
    for (i, rule) in fields.list("rules")?.iter().enumerate() {
        let rule_path = format!("rules[{i}]");
        let rule = reader.nested(&rule_path, rule)?;
        rule.only(&["host", "paths"])?;
        let mut paths = Vec::new();
        for (j, path) in rule.list("paths")?.iter().enumerate() {
            let path_path = format!("{rule_path}.paths[{j}]");
            let path = reader.nested(&path_path, path)?;
            path.only(&["path", "path_type", "backend"])?;
            let backend_path = format!("{path_path}.backend");
            let backend = path.value("backend")?.unwrap_or(&Value::Null);
            paths.push(HTTPIngressPath {
                path: path.str("path")?.map(str::to_string),
                path_type: path.required_str("path_type")?.to_string(),
                backend: backend_of(reader, &backend_path, backend)?,
            });
        }
        rules.push(IngressRule {
            host: rule.str("host")?.map(str::to_string),
            http: (!paths.is_empty()).then_some(HTTPIngressRuleValue { paths }),
        });
    }
    let mut tls = Vec::new();
    for (i, entry) in fields.list("tls")?.iter().enumerate() {
        let entry_path = format!("tls[{i}]");
        let entry = reader.nested(&entry_path, entry)?;
        entry.only(&["secret", "hosts"])?;
        let hosts = entry.string_list("hosts")?;
        tls.push(IngressTLS {
            secret_name: entry.str("secret")?.map(str::to_string),
            hosts: (!hosts.is_empty()).then_some(hosts),
        });
    }
    let default_backend = match fields.value("default_backend")? {
        None => None,
        Some(backend) => Some(backend_of(reader, "default_backend", backend)?),
    };
    Ok(Ingress {
        metadata: metadata::object_meta(fields, address, Some(namespace), BTreeMap::new())?,
        spec: Some(IngressSpec {
            ingress_class_name: fields.str("class")?.map(str::to_string),
            rules: (!rules.is_empty()).then_some(rules),
            tls: (!tls.is_empty()).then_some(tls),
            default_backend,
        }),
        status: None,
    })
}

/// `{service, port}`: a Service of the Ingress's namespace, by port name or number.
fn backend_of(reader: Reader<'_>, path: &str, value: &Value) -> Result<IngressBackend, ProviderError> {
    let backend = reader.nested(path, value)?;
    backend.only(&["service", "port"])?;
    let port = match backend.value("port")? {
        Some(Value::Str(name)) => ServiceBackendPort { name: Some(name.clone()), number: None },
        Some(Value::Int(_)) => ServiceBackendPort { name: None, number: backend.int32("port")? },
        other => {
            return Err(reader.invalid(
                &format!("{path}.port"),
                "a port name or number",
                other.unwrap_or(&Value::Null),
            ));
        }
    };
    Ok(IngressBackend {
        service: Some(IngressServiceBackend { name: backend.required_str("service")?.to_string(), port: Some(port) }),
        resource: None,
    })
}

pub(super) fn observed(live: &Ingress, recorded: &Attributes, cluster: &Address) -> Attributes {
    let mut out = metadata::observed(&live.metadata, recorded, cluster);
    let spec = live.spec.clone().unwrap_or_default();
    out.insert("class".into(), Value::opt_str(spec.ingress_class_name));
    let rules = spec.rules.unwrap_or_default().into_iter().map(|rule| {
        let paths = rule.http.map(|h| h.paths).unwrap_or_default().into_iter().map(|p| {
            Value::map([
                ("path", Value::opt_str(p.path)),
                ("path_type", Value::str(p.path_type)),
                ("backend", backend_value(p.backend)),
            ])
        });
        Value::map([("host", Value::opt_str(rule.host)), ("paths", Value::List(paths.collect()))])
    });
    out.insert("rules".into(), Value::List(rules.collect()));
    let tls = spec.tls.unwrap_or_default().into_iter().map(|t| {
        Value::map([("secret", Value::opt_str(t.secret_name)), ("hosts", Value::list(t.hosts.unwrap_or_default()))])
    });
    out.insert("tls".into(), Value::List(tls.collect()));
    out.insert("default_backend".into(), spec.default_backend.map_or(Value::Null, backend_value));
    out.extend(computed(live));
    out
}

fn backend_value(backend: IngressBackend) -> Value {
    // A resource backend (not a Service) is not something aksform writes: it reads as a
    // backend without a service, which differs from anything the model produces.
    let Some(service) = backend.service else { return Value::map([("service", Value::Null), ("port", Value::Null)]) };
    let port = match service.port {
        Some(ServiceBackendPort { name: Some(name), .. }) if !name.is_empty() => Value::str(name),
        Some(ServiceBackendPort { number: Some(number), .. }) => Value::Int(i64::from(number)),
        _ => Value::Null,
    };
    Value::map([("service", Value::str(service.name)), ("port", port)])
}

/// `address`: the first load-balancer ingress point the controller reported, or null.
pub(super) fn computed(live: &Ingress) -> Attributes {
    let first = live.status.as_ref().and_then(|s| s.load_balancer.as_ref()).and_then(|lb| lb.ingress.as_ref()?.first());
    let address = first.and_then(|i| i.ip.clone().or_else(|| i.hostname.clone()));
    [("address".to_string(), Value::opt_str(address))].into()
}
