use crate::check::test_support::*;

const WEB: &str = r#"
service "web" {
  namespace = namespace.apps
  selector  = { app = "web" }

  port http 80 -> 8080
}
"#;

fn ingress(name: &str, body: &str) -> String {
    format!("\ningress \"{name}\" {{\n  namespace = namespace.apps\n  class     = \"nginx\"\n{body}}}\n")
}

fn route(host: &str, path: &str, backend: &str) -> String {
    format!("\n  host \"{host}\" {{\n    path \"{path}\" -> {backend}\n  }}\n")
}

fn with(parts: &[String]) -> String {
    let mut all: Vec<&str> = vec![NETWORK, CLUSTER, NAMESPACE, WEB];
    all.extend(parts.iter().map(String::as_str));
    stack(&all)
}

#[test]
fn ingress_backend_in_another_namespace() {
    let other = "\nservice \"admin\" {\n  cluster   = cluster.aks\n  namespace = \"ops\"\n  selector  = { app = \"admin\" }\n\n  port http 80\n}\n";
    let text = with(&[other.into(), ingress("shop", &route("shop.example.com", "/", "service.admin:http"))]);
    insta::assert_snapshot!(failing(&text, "AKS401"));
    passing(&with(&[ingress("shop", &route("shop.example.com", "/", "service.web:http"))]));
}

#[test]
fn ingress_backend_port_name_not_found() {
    let text = with(&[ingress("shop", &route("shop.example.com", "/", "service.web:htp"))]);
    insta::assert_snapshot!(failing(&text, "AKS402"));
    passing(&with(&[ingress("shop", &route("shop.example.com", "/", "service.web:80"))]));
}

#[test]
fn ingress_backend_target_port_instead_of_port() {
    let text = with(&[ingress("shop", &route("shop.example.com", "/", "service.web:8080"))]);
    insta::assert_snapshot!(failing(&text, "AKS402"));
}

#[test]
fn ingress_backend_external_name() {
    let billing = "\nservice \"billing\" {\n  namespace = namespace.apps\n  type      = external_name \"billing.example.com\"\n}\n";
    let text = with(&[billing.into(), ingress("shop", &route("shop.example.com", "/", "service.billing:443"))]);
    insta::assert_snapshot!(failing(&text, "AKS403"));
}

#[test]
fn ingress_path_conflict() {
    let a = ingress("shop", &route("shop.example.com", "/", "service.web:http"));
    let b = ingress("shop-v2", &route("shop.example.com", "/", "service.web:http"));
    insta::assert_snapshot!(failing(&with(&[a.clone(), b]), "AKS404"));
    // Another class, another host or another path type is another route.
    let other_class =
        ingress("shop-v2", &route("shop.example.com", "/", "service.web:http")).replace("\"nginx\"", "\"traefik\"");
    passing(&with(&[a.clone(), other_class]));
    let exact = ingress("shop-v2", "\n  host \"shop.example.com\" {\n    path \"/\" exact -> service.web:http\n  }\n");
    passing(&with(&[a, exact]));
}

fn tls(hosts: &str, rules: &str) -> String {
    ingress("shop", &format!("\n  tls \"shop-tls\" {{\n    hosts = [{hosts}]\n  }}\n{rules}"))
}

#[test]
fn ingress_tls_host_not_routed() {
    let rules = route("shop.example.com", "/", "service.web:http");
    let text = with(&[tls("\"shop.example.com\", \"shop.exmaple.com\"", &rules)]);
    insta::assert_snapshot!(failing(&text, "AKS405"));
    passing(&with(&[tls("\"shop.example.com\", \"*.example.com\"", &rules)]));
    passing(&with(&[tls("\"www.example.com\"", &route("*.example.com", "/", "service.web:http"))]));
}

#[test]
fn ingress_host_invalid() {
    let text = with(&[ingress("shop", &route("Shop.example.com", "/", "service.web:http"))]);
    insta::assert_snapshot!(failing(&text, "AKS406"));
    assert_eq!(codes(&with(&[ingress("shop", &route("10.0.0.1", "/", "service.web:http"))])), ["AKS406"]);
    assert_eq!(codes(&with(&[ingress("shop", &route("shop*.example.com", "/", "service.web:http"))])), ["AKS406"]);
    assert_eq!(codes(&with(&[ingress("shop", &route("*.*.example.com", "/", "service.web:http"))])), ["AKS406"]);
    // A TLS host may be an IP address; a rule host may not.
    passing(&with(&[tls("\"10.0.0.1\"", "\n  path \"/\" -> service.web:http\n")]));
    passing(&with(&[ingress("shop", &route("*.example.com", "/", "service.web:http"))]));
}

#[test]
fn ingress_ip_host() {
    insta::assert_snapshot!(failing(&with(&[ingress("shop", &route("10.0.0.1", "/", "service.web:http"))]), "AKS406"));
}

#[test]
fn ingress_path_invalid() {
    let text = with(&[ingress("shop", &route("shop.example.com", "api", "service.web:http"))]);
    insta::assert_snapshot!(failing(&text, "AKS407"));
    assert_eq!(codes(&with(&[ingress("shop", &route("shop.example.com", "/a//b", "service.web:http"))])), ["AKS407"]);
    assert_eq!(codes(&with(&[ingress("shop", &route("shop.example.com", "/a/..", "service.web:http"))])), ["AKS407"]);
    let specific =
        "\n  host \"shop.example.com\" {\n    path \"api\" implementation_specific -> service.web:http\n  }\n";
    assert_eq!(codes(&with(&[ingress("shop", specific)])), ["AKS407"]);
    // A Prefix path may end in `/`: Kubernetes accepts it.
    passing(&with(&[ingress("shop", &route("shop.example.com", "/api/", "service.web:http"))]));
}

#[test]
fn ingress_class_without_app_routing() {
    let app_routing = |text: String| text.replace("\"nginx\"", "\"webapprouting.kubernetes.azure.com\"");
    let shop = app_routing(ingress("shop", &route("shop.example.com", "/", "service.web:http")));
    insta::assert_snapshot!(failing(&with(std::slice::from_ref(&shop)), "AKS408"));
    // With the add-on the class is served; another class is not the add-on's business.
    let enabled = CLUSTER
        .replace("resource_group = resource_group.rg", "resource_group  = resource_group.rg\n  web_app_routing = true");
    passing(&stack(&[NETWORK, &enabled, NAMESPACE, WEB, &shop]));
    passing(&with(&[ingress("shop", &route("shop.example.com", "/", "service.web:http"))]));
}
