//! The Kubernetes provider against a real control plane (kube-apiserver and
//! kube-controller-manager from the sandbox): what it applies reads back as the model wrote
//! it, changes made with kubectl read back as exactly those changes, the server's refusals
//! come back with its reasons, and deletes wait until the object is gone.
//!
//! One control plane serves every test of this file; each test works in namespaces of its own.

#[path = "kube_provider/support.rs"]
mod support;

use std::collections::BTreeMap;

use aksform::model::Value;
use aksform::providers::kube::KubeProvider;
use aksform::providers::{ApplyRequest, ErrorKind, Provider};
use support::*;

#[tokio::test]
async fn cluster_ip_and_headless_services_read_back_as_applied() {
    let resources = model(
        r#"
namespace "ns" {
  name        = "t-cluster-ip"
  cluster     = cluster.aks
  labels      = { team = "shop" }
  annotations = { "example.com/owner" = "shop" }
}

service "web" {
  namespace = namespace.ns
  selector  = { app = "web" }
  labels    = { tier = "front" }

  port http 80 -> 8080
  port metrics 9090 {
    app_protocol = "http"
  }
}

service "fixed" {
  namespace        = namespace.ns
  type             = cluster_ip { ip = 10.0.0.50 }
  selector         = { app = "fixed" }
  session_affinity = client_ip

  port grpc 50051 -> grpc
}

service "zk" {
  namespace = namespace.ns
  type      = headless
  selector  = { app = "zk" }

  port client 2181
  port peer 2888
}
"#,
    );
    let provider = provider().await;
    let recorded = apply_all(&provider, &resources).await;
    assert_eq!(recorded["namespace.ns"].provider_id, "k8s://cluster.aks/v1/Namespace/_/t-cluster-ip");
    assert_eq!(recorded["service.web"].provider_id, "k8s://cluster.aks/v1/Service/t-cluster-ip/web");
    assert_reads_as_recorded(&provider, &recorded).await;

    let cluster_ip = kubectl(&["-n", "t-cluster-ip", "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"]);
    assert_eq!(recorded["service.web"].attributes["address"], Value::str(cluster_ip));
    assert_eq!(recorded["service.web"].attributes["cluster_ip"], Value::Null);
    assert_eq!(recorded["service.fixed"].attributes["address"], Value::str("10.0.0.50"));
    assert_eq!(recorded["service.zk"].attributes["address"], Value::Null);
    assert_eq!(recorded["service.zk"].attributes["cluster_ip"], Value::str("None"));

    // The marks are on the objects, not in what is read.
    let web = kubectl_json(&["-n", "t-cluster-ip", "get", "svc", "web"]);
    assert_eq!(web["metadata"]["labels"]["app.kubernetes.io/managed-by"], "aksform");
    assert_eq!(web["metadata"]["annotations"]["aksform.io/address"], "service.web");
    let namespace = kubectl_json(&["get", "namespace", "t-cluster-ip"]);
    assert_eq!(namespace["metadata"]["annotations"]["aksform.io/address"], "namespace.ns");
    assert_eq!(namespace["metadata"]["annotations"]["example.com/owner"], "shop");

    assert_idempotent(&provider, &resources, &recorded).await;
}

#[tokio::test]
async fn node_port_services_read_back_without_the_ports_the_server_chose() {
    let resources = model(
        r#"
namespace "ns" {
  name    = "t-node-port"
  cluster = cluster.aks
}

service "dns" {
  namespace = namespace.ns
  type      = node_port
  selector  = { app = "dns" }

  port dns 53/udp -> 5353 {
    node_port = 30053
  }
  port dns-tcp 53/tcp -> 5353
}

service "edge" {
  namespace               = namespace.ns
  type                    = node_port
  selector                = { app = "edge" }
  external_traffic_policy = local

  port http 80 -> http
}
"#,
    );
    let provider = provider().await;
    let recorded = apply_all(&provider, &resources).await;
    assert_reads_as_recorded(&provider, &recorded).await;

    let dns = kubectl_json(&["-n", "t-node-port", "get", "svc", "dns"]);
    assert_eq!(dns["spec"]["ports"][0]["nodePort"], 30053);
    let allocated = dns["spec"]["ports"][1]["nodePort"].as_i64().unwrap();
    assert!((30000..=32767).contains(&allocated), "{allocated}");
    assert_eq!(dns["spec"]["externalTrafficPolicy"], "Cluster");
    assert_eq!(recorded["service.dns"].attributes["external_traffic_policy"], Value::Null);
    let ports = &recorded["service.dns"].attributes["ports"];
    let Value::List(ports) = ports else { panic!("{ports}") };
    let Value::Map(second) = &ports[1] else { panic!() };
    assert!(!second.contains_key("node_port"), "the allocated node port is not aksform's");

    assert_idempotent(&provider, &resources, &recorded).await;
}

#[tokio::test]
async fn load_balancer_services_carry_the_azure_annotations() {
    let resources = model(
        r#"
namespace "ns" {
  name    = "t-load-balancer"
  cluster = cluster.aks
}

public_ip "edge" {
  resource_group = resource_group.rg
  dns_label      = "aksform-test-edge"
}

service "edge" {
  namespace               = namespace.ns
  type                    = load_balancer { public_ip = public_ip.edge  dns_label = "shop-edge" }
  selector                = { app = "edge" }
  external_traffic_policy = local

  port http 80 -> http
  port https 443 -> https
}

service "api" {
  namespace = namespace.ns
  type      = load_balancer internal { subnet = vnet.net.subnet.ilb  ip = 10.1.8.10 }
  selector  = { app = "api" }

  port https 443 -> 8443
}
"#,
    );
    let provider = provider().await;
    let recorded = apply_all(&provider, &resources).await;
    assert_reads_as_recorded(&provider, &recorded).await;
    // Nothing assigns a frontend in the sandbox yet, and apply does not wait for one.
    assert_eq!(recorded["service.edge"].attributes["address"], Value::Null);

    let edge = kubectl_json(&["-n", "t-load-balancer", "get", "svc", "edge"]);
    let annotations = &edge["metadata"]["annotations"];
    assert_eq!(annotations["service.beta.kubernetes.io/azure-pip-name"], "edge");
    assert_eq!(annotations["service.beta.kubernetes.io/azure-load-balancer-resource-group"], "rg");
    assert_eq!(annotations["service.beta.kubernetes.io/azure-dns-label-name"], "shop-edge");
    assert_eq!(annotations["service.beta.kubernetes.io/azure-load-balancer-internal"], "false");
    assert_eq!(edge["spec"]["externalTrafficPolicy"], "Local");

    let api = kubectl_json(&["-n", "t-load-balancer", "get", "svc", "api"]);
    let annotations = &api["metadata"]["annotations"];
    assert_eq!(annotations["service.beta.kubernetes.io/azure-load-balancer-internal"], "true");
    assert_eq!(annotations["service.beta.kubernetes.io/azure-load-balancer-internal-subnet"], "ilb");
    assert_eq!(annotations["service.beta.kubernetes.io/azure-load-balancer-ipv4"], "10.1.8.10");
    assert_eq!(api["spec"]["loadBalancerIP"], serde_json::Value::Null, "the deprecated field stays unset");

    assert_idempotent(&provider, &resources, &recorded).await;
}

#[tokio::test]
async fn ingresses_and_external_names_read_back_as_applied() {
    let resources = model(
        r#"
namespace "ns" {
  name    = "t-ingress"
  cluster = cluster.aks
}

service "db" {
  namespace = namespace.ns
  type      = external_name "db.example.com"
}

service "catalog" {
  namespace = namespace.ns
  selector  = { app = "catalog" }

  port http 80 -> 8080
}

service "cart" {
  namespace = namespace.ns
  selector  = { app = "cart" }

  port http 80 -> 8080
}

ingress "front" {
  namespace       = namespace.ns
  class           = "nginx"
  default_backend = service.catalog:http
  labels          = { team = "shop" }

  tls "front-tls" {
    hosts = ["shop.example.com", "www.shop.example.com"]
  }

  host "shop.example.com" {
    path "/" -> service.catalog:http
    path "/cart" exact -> service.cart:80
  }

  host "www.shop.example.com" {
    path "/" -> service.catalog:http
  }
}
"#,
    );
    let provider = provider().await;
    let recorded = apply_all(&provider, &resources).await;
    assert_eq!(recorded["ingress.front"].provider_id, "k8s://cluster.aks/networking.k8s.io/v1/Ingress/t-ingress/front");
    assert_reads_as_recorded(&provider, &recorded).await;
    assert_eq!(recorded["service.db"].attributes["address"], Value::Null);
    assert_eq!(recorded["ingress.front"].attributes["address"], Value::Null);

    let front = kubectl_json(&["-n", "t-ingress", "get", "ingress", "front"]);
    assert_eq!(front["spec"]["ingressClassName"], "nginx");
    assert_eq!(front["spec"]["rules"][0]["http"]["paths"][1]["pathType"], "Exact");
    assert_eq!(front["spec"]["rules"][0]["http"]["paths"][1]["backend"]["service"]["port"]["number"], 80);
    assert_eq!(front["spec"]["defaultBackend"]["service"]["port"]["name"], "http");
    let db = kubectl_json(&["-n", "t-ingress", "get", "svc", "db"]);
    assert_eq!(db["spec"]["externalName"], "db.example.com");

    assert_idempotent(&provider, &resources, &recorded).await;
}

#[tokio::test]
async fn changes_made_with_kubectl_read_back_as_exactly_those_changes_and_apply_undoes_them() {
    let resources = model(
        r#"
namespace "ns" {
  name    = "t-drift"
  cluster = cluster.aks
  labels  = { team = "shop" }
}

service "web" {
  namespace   = namespace.ns
  selector    = { app = "web" }
  labels      = { team = "shop", tier = "front" }
  annotations = { "example.com/owner" = "shop" }

  port http 80 -> 8080
}

service "lb" {
  namespace = namespace.ns
  type      = load_balancer { dns_label = "shop-drift" }
  selector  = { app = "lb" }

  port http 80 -> 8080
}
"#,
    );
    let provider = provider().await;
    let recorded = apply_all(&provider, &resources).await;
    assert_reads_as_recorded(&provider, &recorded).await;

    let drift = |args: &[&str]| kubectl_in("t-drift", args);
    drift(&[
        "patch",
        "svc",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/ports/0/port","value":81}]"#,
    ]);
    drift(&["label", "svc", "web", "team=edited", "--overwrite"]);
    drift(&["label", "svc", "web", "added-by-hand=yes"]);
    drift(&["annotate", "svc", "web", "example.com/owner-"]);
    drift(&["annotate", "svc", "web", "example.com/note=by-hand"]);
    drift(&["patch", "svc", "lb", "-p", r#"{"spec":{"externalTrafficPolicy":"Local"}}"#]);
    drift(&["annotate", "svc", "lb", "service.beta.kubernetes.io/azure-dns-label-name=other", "--overwrite"]);
    drift(&["annotate", "svc", "lb", "service.beta.kubernetes.io/azure-pip-name=by-hand"]);
    kubectl(&["label", "namespace", "t-drift", "team-"]);

    let web = &recorded["service.web"];
    let Value::List(ports) = &web.attributes["ports"] else { panic!() };
    let Value::Map(port) = &ports[0] else { panic!() };
    let mut port = port.clone();
    port.insert("port".into(), Value::Int(81));
    let expected = with(
        &web.attributes,
        &[
            ("ports", Value::List(vec![Value::Map(port)])),
            ("labels", Value::map([("team", "edited"), ("tier", "front")])),
            ("annotations", Value::Map(BTreeMap::new())),
        ],
    );
    assert_eq!(read(&provider, web).await, Some(expected));

    let lb = &recorded["service.lb"];
    let expected = with(
        &lb.attributes,
        &[
            ("external_traffic_policy", Value::str("Local")),
            ("load_balancer", Value::map([("internal", Value::Bool(false)), ("dns_label", Value::str("other"))])),
        ],
    );
    assert_eq!(read(&provider, lb).await, Some(expected));

    let namespace = &recorded["namespace.ns"];
    let expected = with(&namespace.attributes, &[("labels", Value::Map(BTreeMap::new()))]);
    assert_eq!(read(&provider, namespace).await, Some(expected));

    // Applying the model again puts aksform's values back and leaves the others' alone.
    apply_all(&provider, &resources).await;
    assert_reads_as_recorded(&provider, &recorded).await;
    let web = kubectl_json(&["-n", "t-drift", "get", "svc", "web"]);
    assert_eq!(web["spec"]["ports"].as_array().unwrap().len(), 1, "{}", web["spec"]["ports"]);
    assert_eq!(web["spec"]["ports"][0]["port"], 80);
    assert_eq!(web["metadata"]["labels"]["added-by-hand"], "yes");
    assert_eq!(web["metadata"]["annotations"]["example.com/note"], "by-hand");
    let lb = kubectl_json(&["-n", "t-drift", "get", "svc", "lb"]);
    assert_eq!(lb["spec"]["externalTrafficPolicy"], "Cluster");
    assert_eq!(lb["metadata"]["annotations"]["service.beta.kubernetes.io/azure-dns-label-name"], "shop-drift");
}

#[tokio::test]
async fn the_servers_refusal_comes_back_with_its_reason() {
    let resources = model(
        r#"
namespace "ns" {
  name    = "t-refused"
  cluster = cluster.aks
}

service "first" {
  namespace = namespace.ns
  type      = node_port
  selector  = { app = "first" }

  port ssh 22 {
    node_port = 30022
  }
}
"#,
    );
    let provider = provider().await;
    apply_all(&provider, &resources).await;

    let second = model(
        r#"
service "second" {
  cluster   = cluster.aks
  namespace = "t-refused"
  type      = node_port
  selector  = { app = "second" }

  port ssh 22 {
    node_port = 30022
  }
}
"#,
    );
    let request = ApplyRequest { address: &second[0].address, attributes: &second[0].attributes, provider_id: None };
    let error = provider.apply(request).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Rejected);
    assert_eq!(
        error.message,
        "Service \"second\" is invalid: spec.ports[0].nodePort: Invalid value: 30022: provided port is already allocated"
    );

    // Another cluster's object is not applied here.
    let mut attributes = second[0].attributes.clone();
    attributes.insert("cluster".into(), Value::str("cluster.other"));
    let request = ApplyRequest { address: &second[0].address, attributes: &attributes, provider_id: None };
    let error = provider.apply(request).await.unwrap_err();
    assert_eq!(error.message, "service.second belongs to cluster.other, not to cluster.aks");

    // A namespace that does not exist.
    let mut attributes = second[0].attributes.clone();
    attributes.insert("namespace".into(), Value::str("t-nowhere"));
    let request = ApplyRequest { address: &second[0].address, attributes: &attributes, provider_id: None };
    let error = provider.apply(request).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Rejected);
    assert!(error.message.contains("namespaces \"t-nowhere\" not found"), "{}", error.message);
}

#[tokio::test]
async fn delete_returns_once_the_object_is_gone() {
    let resources = model(
        r#"
namespace "ns" {
  name    = "t-delete"
  cluster = cluster.aks
}

service "web" {
  namespace = namespace.ns
  selector  = { app = "web" }

  port http 80
}

ingress "web" {
  namespace       = namespace.ns
  default_backend = service.web:http
}
"#,
    );
    let provider = provider().await;
    let recorded = apply_all(&provider, &resources).await;
    for key in ["ingress.web", "service.web", "namespace.ns"] {
        let r = &recorded[key];
        provider.delete(r.existing()).await.unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(read(&provider, r).await, None, "{key}");
        // Deleting what is gone is success.
        provider.delete(r.existing()).await.unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    // Gone from the server, not just terminating: the namespace controller has finished.
    let output = kubectl_output(&["get", "namespace", "t-delete"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("NotFound"), "{output:?}");
}

#[tokio::test]
async fn list_owned_finds_what_aksform_created_and_nothing_else() {
    let resources = model(
        r#"
namespace "ns" {
  name    = "t-owned"
  cluster = cluster.aks
}

service "web" {
  namespace = namespace.ns
  selector  = { app = "web" }

  port http 80
}

ingress "web" {
  namespace       = namespace.ns
  default_backend = service.web:http
}
"#,
    );
    let provider = provider().await;
    let recorded = apply_all(&provider, &resources).await;
    kubectl(&["-n", "t-owned", "create", "service", "clusterip", "by-hand", "--tcp=80:8080"]);

    let owned = provider.list_owned().await.unwrap();
    let ours: BTreeMap<String, String> = owned
        .iter()
        .filter(|o| o.provider_id.contains("/t-owned"))
        .map(|o| (o.address.to_string(), o.provider_id.clone()))
        .collect();
    let expected: BTreeMap<String, String> = recorded.iter().map(|(k, r)| (k.clone(), r.provider_id.clone())).collect();
    assert_eq!(ours, expected);
}

#[tokio::test]
async fn credentials_and_reachability_errors_say_whether_to_retry() {
    let sandbox = sandbox();
    let provider = provider().await;
    let shown = format!("{provider:?}");
    assert!(!shown.contains(&sandbox.token), "Debug shows the token: {shown}");
    assert!(shown.contains("cluster.aks"), "{shown}");

    let wrong_token = sandbox.yaml.replace(&sandbox.token, "0123456789abcdef0123456789abcdef");
    let refused = KubeProvider::from_kubeconfig(&wrong_token, None, cluster()).await.unwrap();
    let error = refused.list_owned().await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized, "{error}");
    assert!(!error.message.contains(&sandbox.token));

    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let server = sandbox.yaml.lines().find_map(|l| l.trim().strip_prefix("server: ")).unwrap().to_string();
    let unreachable = sandbox.yaml.replace(&server, &format!("https://127.0.0.1:{port}"));
    let down = KubeProvider::from_kubeconfig(&unreachable, None, cluster()).await.unwrap();
    let error = down.list_owned().await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unreachable, "{error}");
    assert!(error.message.contains(&format!("127.0.0.1:{port}")), "{error}");

    let error = KubeProvider::from_kubeconfig("{ not yaml: [", None, cluster()).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Rejected);
    let error = KubeProvider::from_kubeconfig(&sandbox.yaml, Some("elsewhere"), cluster()).await.unwrap_err();
    assert!(error.message.contains("elsewhere"), "{error}");
    assert!(!error.message.contains(&sandbox.token));
}

#[tokio::test]
async fn a_service_changes_type_in_place() {
    let stack = |service_type: &str| {
        model(&format!(
            r#"
namespace "ns" {{
  name    = "t-type-change"
  cluster = cluster.aks
}}

service "web" {{
  namespace = namespace.ns
  type      = {service_type}
  selector  = {{ app = "web" }}

  port http 80 -> 8080
}}
"#
        ))
    };
    let provider = provider().await;
    for service_type in ["load_balancer { dns_label = \"shop-web\" }", "cluster_ip", "node_port", "cluster_ip"] {
        let resources = stack(service_type);
        let recorded = apply_all(&provider, &resources).await;
        assert_reads_as_recorded(&provider, &recorded).await;
        let web = kubectl_json(&["-n", "t-type-change", "get", "svc", "web"]);
        let azure_annotations = web["metadata"]["annotations"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("service.beta.kubernetes.io/"))
            .count();
        let is_load_balancer = service_type.starts_with("load_balancer");
        assert_eq!(azure_annotations, if is_load_balancer { 2 } else { 0 }, "{service_type}: {web}");
    }
}

#[tokio::test]
async fn a_service_of_this_stack_found_on_create_is_taken_back_with_exactly_its_ports() {
    let resources = model(
        r#"
namespace "ns" {
  name    = "t-taken-over"
  cluster = cluster.aks
}

service "cache" {
  namespace = namespace.ns
  type      = node_port
  selector  = { app = "cache" }

  port redis 6379 {
    node_port = 30379
  }
}

service "web" {
  namespace = namespace.ns
  selector  = { app = "web" }

  port http 80 -> 8080
}
"#,
    );
    let provider = provider().await.with_lineage(Some("lineage-1".into()));
    // There before aksform's create, marked as this stack's (a create stored by a server that
    // died before it answered, then changed by hand): one holds aksform's node port under
    // another port number, which makes the server refuse a plain apply; the other has an
    // extra port.
    kubectl(&["create", "namespace", "t-taken-over"]);
    mark(&["namespace", "t-taken-over"], "namespace.ns", "lineage-1");
    kubectl_in("t-taken-over", &["create", "service", "nodeport", "cache", "--tcp=6380:6380", "--node-port=30379"]);
    kubectl_in("t-taken-over", &["create", "service", "clusterip", "web", "--tcp=80:8080", "--tcp=81:8081"]);
    mark(&["-n", "t-taken-over", "service", "cache"], "service.cache", "lineage-1");
    mark(&["-n", "t-taken-over", "service", "web"], "service.web", "lineage-1");

    let recorded = apply_all(&provider, &resources).await;
    assert_reads_as_recorded(&provider, &recorded).await;
    let cache = kubectl_json(&["-n", "t-taken-over", "get", "svc", "cache"]);
    let ports: Vec<(i64, i64)> = cache["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["port"].as_i64().unwrap(), p["nodePort"].as_i64().unwrap()))
        .collect();
    assert_eq!(ports, [(6379, 30379)]);
    let web = kubectl_json(&["-n", "t-taken-over", "get", "svc", "web"]);
    let ports: Vec<i64> =
        web["spec"]["ports"].as_array().unwrap().iter().map(|p| p["port"].as_i64().unwrap()).collect();
    assert_eq!(ports, [80]);
    assert_idempotent(&provider, &resources, &recorded).await;
}

/// Puts aksform's marks on an object, as an apply of the stack whose state has `lineage` would.
fn mark(object: &[&str], address: &str, lineage: &str) {
    kubectl(&[&["label"], object, &["app.kubernetes.io/managed-by=aksform"]].concat());
    let annotations = [format!("aksform.io/address={address}"), format!("aksform.io/lineage={lineage}")];
    kubectl(&[&["annotate"], object, &[annotations[0].as_str(), annotations[1].as_str()]].concat());
}

#[tokio::test]
async fn a_create_refuses_what_another_made_and_leaves_it_untouched() {
    let resources = model(
        r#"
service "web" {
  namespace = "t-not-ours"
  cluster   = cluster.aks
  selector  = { app = "web" }

  port http 80 -> 8080
}

service "api" {
  namespace = "t-not-ours"
  cluster   = cluster.aks
  selector  = { app = "api" }

  port http 80 -> 8080
}

service "free" {
  namespace = "t-not-ours"
  cluster   = cluster.aks
  selector  = { app = "free" }

  port http 80 -> 8080
}
"#,
    );
    kubectl(&["create", "namespace", "t-not-ours"]);
    // `web` made by hand; `api` made by another stack with the same address.
    kubectl_in("t-not-ours", &["create", "service", "clusterip", "web", "--tcp=81:81"]);
    kubectl_in("t-not-ours", &["create", "service", "clusterip", "api", "--tcp=82:82"]);
    mark(&["-n", "t-not-ours", "service", "api"], "service.api", "lineage-other");
    let before =
        |name: &str| kubectl_json(&["-n", "t-not-ours", "get", "svc", name])["metadata"]["resourceVersion"].clone();
    let versions = (before("web"), before("api"));

    let provider = provider().await.with_lineage(Some("lineage-mine".into()));
    let request = |name: &str| {
        let resource = resources.iter().find(|r| r.address.to_string() == format!("service.{name}")).unwrap();
        (resource.address.clone(), resource.attributes.clone())
    };
    for (name, why) in
        [("web", "it was not made by aksform"), ("api", "another stack made it (state lineage lineage-other)")]
    {
        let (address, attributes) = request(name);
        let request = ApplyRequest { address: &address, attributes: &attributes, provider_id: None };
        let refused = provider.check_create(request).await.unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Rejected);
        assert!(refused.message.contains(why), "{}", refused.message);
        assert!(refused.message.contains(&format!("aksform import service.{name}")), "{}", refused.message);
        // The create itself refuses too, before it writes.
        let refused = provider.apply(request).await.unwrap_err();
        assert!(refused.message.contains("already exists and is not this stack's"), "{}", refused.message);
    }
    assert_eq!((before("web"), before("api")), versions, "untouched");
    // What is not there may be made.
    let (address, attributes) = request("free");
    let request = ApplyRequest { address: &address, attributes: &attributes, provider_id: None };
    provider.check_create(request).await.unwrap();
    provider.apply(request).await.unwrap();
    let free = kubectl_json(&["-n", "t-not-ours", "get", "svc", "free"]);
    assert_eq!(free["metadata"]["annotations"]["aksform.io/lineage"], "lineage-mine");
}
