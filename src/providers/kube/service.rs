//! Services of the four types, with the AKS load-balancer annotations; `address` is the
//! cluster IP, or the load balancer's frontend once one is assigned.
//!
//! Read back, a field the server fills in (an allocated cluster IP or node port, the default
//! external traffic policy) reads as the model writes it when aksform left it to the server,
//! so that a plan after an apply is empty.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::metadata;
use super::metadata::string_map_value;
use crate::model::{Address, Value};
use crate::providers::attributes::AttributeFields;
use crate::providers::{Attributes, ProviderError};

const SETTINGS: &[&str] = &[
    "name",
    "namespace",
    "cluster",
    "type",
    "selector",
    "ports",
    "cluster_ip",
    "external_name",
    "load_balancer",
    "session_affinity",
    "external_traffic_policy",
    "labels",
    "annotations",
    "address",
];

const TYPES: &[&str] = &["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];

/// The `load_balancer` settings and the cloud-provider-azure annotations they become.
const LOAD_BALANCER_ANNOTATIONS: &[(&str, &str)] = &[
    ("internal", "service.beta.kubernetes.io/azure-load-balancer-internal"),
    ("subnet", "service.beta.kubernetes.io/azure-load-balancer-internal-subnet"),
    ("public_ip", "service.beta.kubernetes.io/azure-pip-name"),
    ("resource_group", "service.beta.kubernetes.io/azure-load-balancer-resource-group"),
    ("dns_label", "service.beta.kubernetes.io/azure-dns-label-name"),
    // Not spec.loadBalancerIP: deprecated, and unable to say which address family.
    ("ip", "service.beta.kubernetes.io/azure-load-balancer-ipv4"),
];

/// What Kubernetes applies when externalTrafficPolicy is left out on an external Service.
const DEFAULT_EXTERNAL_TRAFFIC_POLICY: &str = "Cluster";

fn is_external(service_type: &str) -> bool {
    matches!(service_type, "NodePort" | "LoadBalancer")
}

pub(super) fn desired(fields: &AttributeFields<'_>, address: &Address) -> Result<Service, ProviderError> {
    fields.only(SETTINGS)?;
    let reader = fields.reader();
    let namespace = fields.required_str("namespace")?.to_string();
    let service_type = fields.required_str("type")?;
    if !TYPES.contains(&service_type) {
        return Err(reader.invalid(
            "type",
            "ClusterIP, NodePort, LoadBalancer or ExternalName",
            &Value::str(service_type),
        ));
    }
    let mut ports = Vec::new();
    for (i, port) in fields.list("ports")?.iter().enumerate() {
        let path = format!("ports[{i}]");
        let port = reader.nested(&path, port)?;
        port.only(&["name", "port", "protocol", "target_port", "node_port", "app_protocol"])?;
        let target_port = match port.value("target_port")? {
            None => None,
            Some(Value::Str(name)) => Some(IntOrString::String(name.clone())),
            Some(Value::Int(_)) => port.int32("target_port")?.map(IntOrString::Int),
            Some(other) => return Err(reader.invalid(&format!("{path}.target_port"), "a port name or number", other)),
        };
        ports.push(ServicePort {
            name: port.str("name")?.map(str::to_string),
            port: port.required_int32("port")?,
            protocol: port.str("protocol")?.map(str::to_string),
            target_port,
            node_port: port.int32("node_port")?,
            app_protocol: port.str("app_protocol")?.map(str::to_string),
        });
    }
    let annotations = if service_type == "LoadBalancer" { load_balancer_annotations(fields)? } else { BTreeMap::new() };
    // Sent even when it is the default: aksform then owns the field, and an apply puts it
    // back when someone else changed it.
    let external_traffic_policy = match fields.str("external_traffic_policy")? {
        Some(policy) => Some(policy.to_string()),
        None if is_external(service_type) => Some(DEFAULT_EXTERNAL_TRAFFIC_POLICY.to_string()),
        None => None,
    };
    let selector = fields.string_map("selector")?.filter(|s| !s.is_empty());
    Ok(Service {
        metadata: metadata::object_meta(fields, address, Some(namespace), annotations)?,
        spec: Some(ServiceSpec {
            type_: Some(service_type.to_string()),
            selector,
            ports: (!ports.is_empty()).then_some(ports),
            cluster_ip: fields.str("cluster_ip")?.map(str::to_string),
            external_name: fields.str("external_name")?.map(str::to_string),
            session_affinity: fields.str("session_affinity")?.map(str::to_string),
            external_traffic_policy,
            ..ServiceSpec::default()
        }),
        status: None,
    })
}

/// A port is known by its number and protocol (the keys server-side apply merges ports by).
fn port_key(port: &ServicePort) -> (i32, &str) {
    (port.port, port.protocol.as_deref().unwrap_or("TCP"))
}

/// A merge patch that sets `spec.ports` to the desired ports, when the live Service has ports
/// aksform does not want (one added by hand, or a port number changed with `kubectl edit`).
/// Server-side apply cannot remove them: they are another manager's. Node ports the server
/// allocated are kept; the resource version makes the patch fail rather than overwrite a
/// change made in between.
pub(super) fn ports_patch(live: &Service, desired: &Service) -> Option<serde_json::Value> {
    let live_ports = live.spec.as_ref()?.ports.clone().unwrap_or_default();
    let desired_spec = desired.spec.as_ref()?;
    let mut wanted = desired_spec.ports.clone().unwrap_or_default();
    let keys: BTreeSet<(i32, &str)> = wanted.iter().map(port_key).collect();
    if live_ports.iter().all(|p| keys.contains(&port_key(p))) {
        return None;
    }
    if desired_spec.type_.as_deref().is_some_and(is_external) {
        for port in wanted.iter_mut().filter(|p| p.node_port.is_none()) {
            port.node_port = live_ports.iter().find(|l| port_key(l) == port_key(port)).and_then(|l| l.node_port);
        }
    }
    Some(serde_json::json!({
        "metadata": { "resourceVersion": live.metadata.resource_version },
        "spec": { "ports": wanted },
    }))
}

/// `recorded` with what a Service read as the stack's own holds besides its labels: every
/// load-balancer setting its annotations give, and the node ports of a NodePort Service.
pub(super) fn as_own(live: &Service, mut recorded: Attributes) -> Attributes {
    let settings = LOAD_BALANCER_ANNOTATIONS.iter().map(|(key, _)| (key.to_string(), Value::Bool(true)));
    recorded.insert("load_balancer".into(), Value::Map(settings.collect()));
    let spec = live.spec.as_ref();
    if spec.and_then(|s| s.type_.as_deref()) == Some("NodePort") {
        let ports = spec.and_then(|s| s.ports.as_ref()).into_iter().flatten().map(|p| {
            Value::map([
                ("name", Value::str(p.name.clone().unwrap_or_default())),
                ("node_port", p.node_port.map_or(Value::Null, |n| Value::Int(i64::from(n)))),
            ])
        });
        recorded.insert("ports".into(), Value::List(ports.collect()));
    }
    recorded
}

/// `internal` is always written ("true" or "false") so that aksform owns it and an apply
/// undoes a change made by hand; the others only when set.
fn load_balancer_annotations(fields: &AttributeFields<'_>) -> Result<BTreeMap<String, String>, ProviderError> {
    let mut out = BTreeMap::new();
    let Some(value) = fields.value("load_balancer")? else {
        out.insert(LOAD_BALANCER_ANNOTATIONS[0].1.to_string(), "false".to_string());
        return Ok(out);
    };
    let settings = fields.reader().nested("load_balancer", value)?;
    settings.only(&LOAD_BALANCER_ANNOTATIONS.iter().map(|(k, _)| *k).collect::<Vec<_>>())?;
    for (key, annotation) in LOAD_BALANCER_ANNOTATIONS {
        let text = if *key == "internal" {
            Some(settings.bool(key)?.unwrap_or(false).to_string())
        } else {
            settings.str(key)?.map(str::to_string)
        };
        if let Some(text) = text {
            out.insert(annotation.to_string(), text);
        }
    }
    Ok(out)
}

pub(super) fn observed(live: &Service, recorded: &Attributes, cluster: &Address) -> Attributes {
    let mut out = metadata::observed(&live.metadata, recorded, cluster);
    let spec = live.spec.clone().unwrap_or_default();
    let service_type = spec.type_.clone().unwrap_or_else(|| "ClusterIP".to_string());
    let recorded_null = |key: &str| matches!(recorded.get(key), None | Some(Value::Null));

    // Node ports the server allocated are not aksform's; those the user chose are (recorded
    // per port name).
    let chosen_node_ports: BTreeSet<&str> = match recorded.get("ports") {
        Some(Value::List(ports)) => ports
            .iter()
            .filter_map(|p| match p {
                Value::Map(m) if m.get("node_port").is_some_and(|n| *n != Value::Null) => m.get("name")?.as_str(),
                _ => None,
            })
            .collect(),
        _ => BTreeSet::new(),
    };
    let ports = spec.ports.clone().unwrap_or_default().into_iter().map(|p| {
        let mut m = BTreeMap::new();
        let name = p.name.unwrap_or_default();
        if chosen_node_ports.contains(name.as_str())
            && let Some(node_port) = p.node_port
        {
            m.insert("node_port".to_string(), Value::Int(i64::from(node_port)));
        }
        m.insert("name".to_string(), Value::str(name));
        m.insert("port".to_string(), Value::Int(i64::from(p.port)));
        m.insert("protocol".to_string(), Value::str(p.protocol.unwrap_or_else(|| "TCP".to_string())));
        let target = match p.target_port {
            Some(IntOrString::Int(n)) => Value::Int(i64::from(n)),
            Some(IntOrString::String(s)) => Value::str(s),
            // The server defaults it to the port; the model does the same.
            None => Value::Int(i64::from(p.port)),
        };
        m.insert("target_port".to_string(), target);
        if let Some(app_protocol) = p.app_protocol {
            m.insert("app_protocol".to_string(), Value::str(app_protocol));
        }
        Value::Map(m)
    });
    out.insert("ports".into(), Value::List(ports.collect()));

    out.insert("type".into(), Value::str(service_type.clone()));
    let selector = match spec.selector.as_ref().filter(|s| !s.is_empty()) {
        Some(selector) => string_map_value(selector),
        // An empty selector is not stored; read it back as the model wrote it.
        None => match recorded.get("selector") {
            Some(Value::Map(m)) if m.is_empty() => Value::Map(BTreeMap::new()),
            _ => Value::Null,
        },
    };
    out.insert("selector".into(), selector);

    let cluster_ip = match spec.cluster_ip.as_deref() {
        None | Some("") => Value::Null,
        Some("None") => Value::str("None"),
        // Allocated by the server unless aksform asked for this address.
        Some(_) if recorded_null("cluster_ip") => Value::Null,
        Some(ip) => Value::str(ip),
    };
    out.insert("cluster_ip".into(), cluster_ip);
    out.insert("external_name".into(), Value::opt_str(spec.external_name.clone()));
    out.insert("session_affinity".into(), Value::str(spec.session_affinity.clone().unwrap_or_else(|| "None".into())));
    let policy = match spec.external_traffic_policy.as_deref() {
        None | Some("") => Value::Null,
        Some(DEFAULT_EXTERNAL_TRAFFIC_POLICY) if recorded_null("external_traffic_policy") => Value::Null,
        Some(policy) => Value::str(policy),
    };
    out.insert("external_traffic_policy".into(), policy);
    out.insert(
        "load_balancer".into(),
        if service_type == "LoadBalancer" {
            load_balancer_settings(live.metadata.annotations.as_ref(), recorded.get("load_balancer"))
        } else {
            Value::Null
        },
    );
    out.extend(computed(live));
    out
}

/// The `load_balancer` map back from the annotations: `internal` always, the other settings
/// when aksform set them (recorded), so that one added by hand is not reported as aksform's.
fn load_balancer_settings(annotations: Option<&BTreeMap<String, String>>, recorded: Option<&Value>) -> Value {
    let get = |annotation: &str| annotations.and_then(|a| a.get(annotation));
    let mut out = BTreeMap::new();
    let (internal_key, internal_annotation) = LOAD_BALANCER_ANNOTATIONS[0];
    out.insert(internal_key.to_string(), Value::Bool(get(internal_annotation).is_some_and(|v| v == "true")));
    let recorded_keys = match recorded {
        Some(Value::Map(m)) => m.keys().cloned().collect(),
        _ => BTreeSet::new(),
    };
    for (key, annotation) in &LOAD_BALANCER_ANNOTATIONS[1..] {
        if recorded_keys.contains(*key)
            && let Some(value) = get(annotation)
        {
            out.insert(key.to_string(), Value::str(value.clone()));
        }
    }
    Value::Map(out)
}

/// `address`: the load balancer's frontend (null until assigned), else the cluster IP (null
/// for headless and ExternalName Services).
pub(super) fn computed(live: &Service) -> Attributes {
    let spec = live.spec.as_ref();
    let address = match spec.and_then(|s| s.type_.as_deref()) {
        Some("LoadBalancer") => {
            let first =
                live.status.as_ref().and_then(|s| s.load_balancer.as_ref()).and_then(|lb| lb.ingress.as_ref()?.first());
            first.and_then(|i| i.ip.clone().or_else(|| i.hostname.clone()))
        }
        Some("ExternalName") => None,
        _ => spec.and_then(|s| s.cluster_ip.clone()).filter(|ip| !ip.is_empty() && ip != "None"),
    };
    [("address".to_string(), Value::opt_str(address))].into()
}

/// The message of a `SyncLoadBalancerFailed` event of the Service `id` since `since` that the
/// cloud provider will not retry (`Retriable: false`, as an authorization failure is).
pub(super) async fn load_balancer_failure(
    client: &kube::Client,
    id: &super::ObjectId,
    since: k8s_openapi::jiff::Timestamp,
) -> Result<Option<String>, kube::Error> {
    use k8s_openapi::api::core::v1::Event;
    let Some(namespace) = id.namespace.as_deref() else { return Ok(None) };
    let events: kube::Api<Event> = kube::Api::namespaced(client.clone(), namespace);
    let selector = format!("involvedObject.kind=Service,involvedObject.name={},reason=SyncLoadBalancerFailed", id.name);
    let listed = events.list(&kube::api::ListParams::default().fields(&selector)).await?;
    Ok(listed.items.into_iter().find_map(|event| {
        let at = event.last_timestamp.map(|t| t.0).or(event.metadata.creation_timestamp.map(|t| t.0))?;
        let message = event.message?;
        (at >= since && message.contains("Retriable: false")).then_some(message)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn service_attributes(extra: &[(&str, Value)]) -> Attributes {
        let mut attributes: Attributes = [
            ("name", Value::str("web")),
            ("namespace", Value::str("shop")),
            ("cluster", Value::str("cluster.shop")),
            ("type", Value::str("LoadBalancer")),
            ("selector", Value::map([("app", "web")])),
            (
                "ports",
                Value::List(vec![Value::map([
                    ("name", Value::str("http")),
                    ("port", Value::Int(80)),
                    ("protocol", Value::str("TCP")),
                    ("target_port", Value::str("http")),
                ])]),
            ),
            ("session_affinity", Value::str("None")),
            ("labels", Value::map([("team", "shop")])),
            ("annotations", Value::Map(BTreeMap::new())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (k, v) in extra {
            attributes.insert(k.to_string(), v.clone());
        }
        attributes
    }

    #[test]
    fn load_balancer_settings_become_azure_annotations() {
        let address = Address::new(Kind::Service, "web");
        let attributes = service_attributes(&[(
            "load_balancer",
            Value::map([
                ("internal", Value::Bool(true)),
                ("subnet", Value::str("ilb")),
                ("ip", Value::str("10.1.16.10")),
            ]),
        )]);
        let fields = crate::providers::attributes::Reader::new(&address).top(&attributes);
        let service = desired(&fields, &address).unwrap();
        let annotations = service.metadata.annotations.clone().unwrap();
        assert_eq!(annotations["service.beta.kubernetes.io/azure-load-balancer-internal"], "true");
        assert_eq!(annotations["service.beta.kubernetes.io/azure-load-balancer-internal-subnet"], "ilb");
        assert_eq!(annotations["service.beta.kubernetes.io/azure-load-balancer-ipv4"], "10.1.16.10");
        assert_eq!(annotations[metadata::ADDRESS_ANNOTATION], "service.web");
        assert_eq!(service.metadata.labels.clone().unwrap()[metadata::MANAGED_BY_LABEL], "aksform");
        let spec = service.spec.clone().unwrap();
        assert_eq!(spec.load_balancer_ip, None);
        assert_eq!(spec.external_traffic_policy.as_deref(), Some("Cluster"));

        // Read back, the marks and the load-balancer annotations are not user annotations.
        let observed = observed(&service, &attributes, &Address::new(Kind::Cluster, "shop"));
        assert_eq!(observed["annotations"], Value::Map(BTreeMap::new()));
        assert_eq!(observed["labels"], Value::map([("team", "shop")]));
        assert_eq!(observed["external_traffic_policy"], Value::Null);
        assert_eq!(annotations.keys().filter(|k| k.starts_with("service.beta.kubernetes.io/")).count(), 3);
    }

    fn port(name: &str, number: i32, node_port: Option<i32>) -> ServicePort {
        ServicePort {
            name: Some(name.into()),
            port: number,
            protocol: Some("TCP".into()),
            node_port,
            ..ServicePort::default()
        }
    }

    fn node_port_service(ports: Vec<ServicePort>) -> Service {
        let mut service = Service {
            spec: Some(ServiceSpec { type_: Some("NodePort".into()), ports: Some(ports), ..ServiceSpec::default() }),
            ..Service::default()
        };
        service.metadata.resource_version = Some("42".into());
        service
    }

    #[test]
    fn ports_are_replaced_only_when_the_live_service_has_others() {
        let desired = node_port_service(vec![port("http", 80, None), port("admin", 9000, Some(30900))]);
        let same = node_port_service(vec![port("http", 80, Some(31000)), port("admin", 9000, Some(30900))]);
        assert_eq!(ports_patch(&same, &desired), None);

        // Port 80 edited to 81 by hand: the list is set back; port 80 gets a node port anew,
        // port 9000 keeps the one chosen.
        let edited = node_port_service(vec![port("http", 81, Some(31000)), port("admin", 9000, Some(30900))]);
        let patch = ports_patch(&edited, &desired).unwrap();
        assert_eq!(patch["metadata"]["resourceVersion"], "42");
        let ports = patch["spec"]["ports"].as_array().unwrap();
        assert_eq!(ports.len(), 2);
        assert_eq!((ports[0]["port"].as_i64(), ports[0].get("nodePort")), (Some(80), None));
        assert_eq!(ports[1]["nodePort"], 30900);

        // A port added by hand next to aksform's: an allocated node port of a kept port stays.
        let added = node_port_service(vec![port("http", 80, Some(31000)), port("extra", 8080, Some(31001))]);
        let patch = ports_patch(&added, &desired).unwrap();
        let ports = patch["spec"]["ports"].as_array().unwrap();
        assert_eq!(ports.len(), 2);
        assert_eq!(ports[0]["nodePort"], 31000);
    }

    #[test]
    fn settings_the_provider_does_not_know_are_refused() {
        let address = Address::new(Kind::Service, "web");
        let attributes = service_attributes(&[("load_balancer", Value::map([("sku", "Standard")]))]);
        let fields = crate::providers::attributes::Reader::new(&address).top(&attributes);
        let error = desired(&fields, &address).unwrap_err();
        assert!(error.message.contains("`load_balancer.sku`"), "{}", error.message);
    }
}
