use crate::check::test_support::*;

fn service(name: &str, body: &str) -> String {
    format!("\nservice \"{name}\" {{\n  namespace = namespace.apps\n{body}}}\n")
}

/// The network, the cluster, the namespace and the given Services.
fn with(services: &[String]) -> String {
    let mut parts: Vec<&str> = vec![NETWORK, CLUSTER, NAMESPACE];
    parts.extend(services.iter().map(String::as_str));
    stack(&parts)
}

const SELECTOR: &str = "  selector  = { app = \"web\" }\n";

#[test]
fn port_out_of_range() {
    let text = with(&[service("web", &format!("{SELECTOR}\n  port http 70000\n  port admin 9000 -> 0\n"))]);
    insta::assert_snapshot!(failing(&text, "AKS301"));
    passing(&with(&[service("web", &format!("{SELECTOR}\n  port http 65535\n  port admin 9000 -> 1\n"))]));
}

#[test]
fn duplicate_service_port() {
    let text = with(&[service("web", &format!("{SELECTOR}\n  port http 80\n  port web 80 -> 8080\n"))]);
    insta::assert_snapshot!(failing(&text, "AKS302"));
    passing(&with(&[service("web", &format!("{SELECTOR}\n  port http 80\n  port web 80/udp\n"))]));
}

#[test]
fn duplicate_port_name() {
    let text = with(&[service("web", &format!("{SELECTOR}\n  port http 80\n  port http 8080\n"))]);
    insta::assert_snapshot!(failing(&text, "AKS303"));
    passing(&with(&[service("web", &format!("{SELECTOR}\n  port http 80\n  port alt 8080\n"))]));
}

fn node_port_service(name: &str, node_port: u32) -> String {
    service(
        name,
        &format!("  type      = node_port\n{SELECTOR}\n  port http 80 {{\n    node_port = {node_port}\n  }}\n"),
    )
}

#[test]
fn node_port_out_of_range() {
    insta::assert_snapshot!(failing(&with(&[node_port_service("web", 8080)]), "AKS304"));
    passing(&with(&[node_port_service("web", 32767)]));
}

#[test]
fn node_port_conflict_between_services() {
    let text = with(&[node_port_service("web", 30080), node_port_service("admin", 30080)]);
    insta::assert_snapshot!(failing(&text, "AKS305"));
    passing(&with(&[node_port_service("web", 30080), node_port_service("admin", 30081)]));
}

#[test]
fn node_port_conflict_within_a_service() {
    let ports = "  port http 80 {\n    node_port = 30080\n  }\n\n  port alt 81 {\n    node_port = 30080\n  }\n";
    let text = with(&[service("web", &format!("  type      = node_port\n{SELECTOR}\n{ports}"))]);
    insta::assert_snapshot!(failing(&text, "AKS305"));
    // The same node port may serve TCP and UDP of one Service.
    let dns = "  port dns 53 {\n    node_port = 30053\n  }\n\n  port dns-udp 53/udp {\n    node_port = 30053\n  }\n";
    passing(&with(&[service("dns", &format!("  type      = node_port\n{SELECTOR}\n{dns}"))]));
}

#[test]
fn node_port_on_cluster_ip() {
    let text = with(&[service("web", &format!("{SELECTOR}\n  port http 80 {{\n    node_port = 30080\n  }}\n"))]);
    insta::assert_snapshot!(failing(&text, "AKS306"));
    passing(&with(&[node_port_service("web", 30080)]));
}

#[test]
fn external_traffic_policy_not_external() {
    let text = with(&[service("web", &format!("{SELECTOR}  external_traffic_policy = local\n\n  port http 80\n"))]);
    insta::assert_snapshot!(failing(&text, "AKS307"));
    let lb = format!("  type      = load_balancer\n{SELECTOR}  external_traffic_policy = local\n\n  port http 80\n");
    passing(&with(&[service("web", &lb)]));
}

fn cluster_ip(name: &str, ip: &str) -> String {
    service(name, &format!("  type      = cluster_ip {{ ip = {ip} }}\n{SELECTOR}\n  port http 80\n"))
}

#[test]
fn cluster_ip_outside_service_cidr() {
    insta::assert_snapshot!(failing(&with(&[cluster_ip("web", "10.5.0.20")]), "AKS308"));
    passing(&with(&[cluster_ip("web", "10.0.0.20")]));
}

#[test]
fn cluster_ip_taken_by_dns() {
    insta::assert_snapshot!(failing(&with(&[cluster_ip("web", "10.0.0.10")]), "AKS309"));
    assert_eq!(codes(&with(&[cluster_ip("web", "10.0.0.1")])), ["AKS309"]);
    assert_eq!(codes(&with(&[cluster_ip("web", "10.0.255.255")])), ["AKS309"]);
}

#[test]
fn cluster_ip_taken_by_another_service() {
    let text = with(&[cluster_ip("web", "10.0.0.20"), cluster_ip("admin", "10.0.0.20")]);
    insta::assert_snapshot!(failing(&text, "AKS309"));
    passing(&with(&[cluster_ip("web", "10.0.0.20"), cluster_ip("admin", "10.0.0.21")]));
}

fn external(host: &str, extra: &str) -> String {
    service("billing", &format!("  type      = external_name \"{host}\"\n{extra}"))
}

#[test]
fn external_name_invalid() {
    insta::assert_snapshot!(failing(&with(&[external("Billing.Example.com", "")]), "AKS310"));
    assert_eq!(codes(&with(&[external("billing_db.example.com", "")])), ["AKS310"]);
    passing(&with(&[external("billing.example.com.", "")]));
}

#[test]
fn external_name_ignored_fields() {
    let text = with(&[external("billing.example.com", &format!("{SELECTOR}\n  port http 80\n"))]);
    insta::assert_snapshot!(failing(&text, "AKS311"));
    passing(&with(&[external("billing.example.com", "")]));
}

const INGRESS: &str = r#"
ingress "web" {
  namespace = namespace.apps

  host "shop.example.com" {
    path "/" -> service.web:http
  }
}
"#;

#[test]
fn routed_service_without_selector() {
    let text = with(&[service("web", "\n  port http 80\n"), INGRESS.to_string()]);
    insta::assert_snapshot!(failing(&text, "AKS312"));
    passing(&with(&[service("web", &format!("{SELECTOR}\n  port http 80\n")), INGRESS.to_string()]));
    // Without traffic routed to it, a Service without a selector publishes endpoints managed elsewhere.
    passing(&with(&[service("web", "\n  port http 80\n")]));
}

#[test]
fn load_balancer_without_selector() {
    let text = with(&[service("web", "  type      = load_balancer\n\n  port http 80\n")]);
    insta::assert_snapshot!(failing(&text, "AKS312"));
}

#[test]
fn external_name_ports_used_by_an_ingress_are_not_reported() {
    let ingress = INGRESS.replace("service.web:http", "service.billing:http");
    let text = with(&[external("billing.example.com", "\n  port http 80\n"), ingress]);
    assert!(!codes(&text).contains(&"AKS311"));
}
