use crate::check::test_support::*;

fn service(name: &str, kind: &str, ports: &str) -> String {
    format!(
        "\nservice \"{name}\" {{\n  namespace = namespace.apps\n  type      = {kind}\n  selector  = {{ app = \"{name}\" }}\n\n{ports}}}\n"
    )
}

fn with(parts: &[String]) -> String {
    let mut all: Vec<&str> = vec![NETWORK, CLUSTER, NAMESPACE];
    all.extend(parts.iter().map(String::as_str));
    stack(&all)
}

const PUBLIC_IP: &str = r#"
public_ip "web" {
  resource_group = cluster.aks.node_resource_group
}
"#;

#[test]
fn load_balancer_port_conflict() {
    let web = service("web", "load_balancer { public_ip = public_ip.web }", "  port https 443\n");
    let api = service("api", "load_balancer { public_ip = public_ip.web }", "  port https 443\n");
    insta::assert_snapshot!(failing(&with(&[PUBLIC_IP.into(), web.clone(), api]), "AKS320"));
    let api = service("api", "load_balancer { public_ip = public_ip.web }", "  port https 8443\n");
    passing(&with(&[PUBLIC_IP.into(), web, api]));
}

#[test]
fn internal_port_conflict_on_a_shared_address() {
    let kind = "load_balancer internal { subnet = vnet.net.subnet.ilb  ip = 10.1.8.10 }";
    let text = with(&[service("web", kind, "  port http 80\n"), service("api", kind, "  port http 80\n")]);
    assert_eq!(codes(&text), ["AKS320"]);
    passing(&with(&[service("web", kind, "  port http 80\n"), service("api", kind, "  port api 8080\n")]));
}

fn internal(ip: &str, subnet: bool) -> String {
    let subnet = if subnet { "subnet = vnet.net.subnet.ilb  " } else { "" };
    service("orders", &format!("load_balancer internal {{ {subnet}ip = {ip} }}"), "  port api 8080\n")
}

#[test]
fn internal_ip_outside_subnet() {
    insta::assert_snapshot!(failing(&with(&[internal("10.1.9.10", true)]), "AKS321"));
    passing(&with(&[internal("10.1.8.10", true)]));
}

#[test]
fn internal_ip_outside_the_node_subnet() {
    insta::assert_snapshot!(failing(&with(&[internal("10.1.8.10", false)]), "AKS321"));
    passing(&with(&[internal("10.1.3.250", false)]));
}

#[test]
fn internal_ip_reserved() {
    insta::assert_snapshot!(failing(&with(&[internal("10.1.8.1", true)]), "AKS322"));
    assert_eq!(codes(&with(&[internal("10.1.8.255", true)])), ["AKS322"]);
    assert_eq!(codes(&with(&[internal("10.1.8.3", true)])), ["AKS322"]);
    passing(&with(&[internal("10.1.8.4", true)]));
}

#[test]
fn internal_ip_taken_by_another_cluster() {
    let network = NETWORK
        .replace("  subnet \"ilb\" {", "  subnet \"nodes2\" {\n    prefix = 10.1.4.0/22\n  }\n\n  subnet \"ilb\" {");
    let second = CLUSTER.replace("cluster \"aks\"", "cluster \"aks2\"").replace("subnet.nodes", "subnet.nodes2");
    let namespace =
        NAMESPACE.replace("namespace \"apps\"", "namespace \"apps2\"").replace("cluster.aks", "cluster.aks2");
    let kind = "load_balancer internal { subnet = vnet.net.subnet.ilb  ip = 10.1.8.10 }";
    let other = service("billing", kind, "  port api 8080\n").replace("namespace.apps", "namespace.apps2");
    let text = stack(&[
        &network,
        CLUSTER,
        &second,
        NAMESPACE,
        &namespace,
        &service("orders", kind, "  port api 8080\n"),
        &other,
    ]);
    insta::assert_snapshot!(failing(&text, "AKS323"));
    passing(&text.replacen("ip = 10.1.8.10", "ip = 10.1.8.11", 1));
}

#[test]
fn internal_ip_in_node_range() {
    insta::assert_snapshot!(failing(&with(&[internal("10.1.0.50", false)]), "AKS324"));
    passing(&with(&[internal("10.1.0.128", false)]));
}

fn public_service(public_ip: &str) -> Vec<String> {
    vec![public_ip.to_string(), service("web", "load_balancer { public_ip = public_ip.web }", "  port https 443\n")]
}

#[test]
fn public_ip_not_standard_static() {
    let basic = PUBLIC_IP.replace("node_resource_group\n", "node_resource_group\n  sku            = basic\n");
    insta::assert_snapshot!(failing(&with(&public_service(&basic)), "AKS325"));
    let dynamic = PUBLIC_IP.replace("node_resource_group\n", "node_resource_group\n  allocation     = dynamic\n");
    assert_eq!(codes(&with(&public_service(&dynamic))), ["AKS325"]);
    passing(&with(&public_service(PUBLIC_IP)));
}

#[test]
fn public_ip_outside_node_resource_group() {
    let elsewhere = PUBLIC_IP.replace("cluster.aks.node_resource_group", "resource_group.rg");
    insta::assert_snapshot!(failing(&with(&public_service(&elsewhere)), "AKS326"));
}

#[test]
fn public_ip_shared_by_clusters() {
    let second = r#"
cluster "edge" {
  resource_group = resource_group.rg

  network azure_cni overlay {}

  node_pool "system" {
    vm_size = "Standard_D4s_v5"
    count   = 3
  }
}

namespace "edge" {
  cluster = cluster.edge
}
"#;
    let edge = service("edge", "load_balancer { public_ip = public_ip.web }", "  port https 443\n")
        .replace("namespace.apps", "namespace.edge");
    let mut parts = public_service(PUBLIC_IP);
    parts.extend([second.to_string(), edge]);
    insta::assert_snapshot!(failing(&with(&parts), "AKS327"));
}

#[test]
fn public_ip_region_mismatch() {
    let north = PUBLIC_IP.replace("node_resource_group\n", "node_resource_group\n  location       = northeurope\n");
    insta::assert_snapshot!(failing(&with(&public_service(&north)), "AKS328"));
}

#[test]
fn too_many_load_balancers() {
    let many = |n: usize| -> Vec<String> {
        (0..n).map(|i| service(&format!("web{i}"), "load_balancer", "  port http 80\n")).collect()
    };
    let loaded = load(&with(&many(301)));
    let messages: Vec<String> = loaded.diagnostics.iter().map(|d| format!("{}: {}", d.code, d.message)).collect();
    assert_eq!(messages, ["AKS329: cluster.aks has 301 LoadBalancer Services; AKS supports at most 300"]);
    passing(&with(&many(300)));
}

#[test]
fn internal_subnet_outside_cluster_network() {
    let other = r#"
vnet "other" {
  resource_group = resource_group.rg
  address_space  = [10.9.0.0/16]

  subnet "ilb" {
    prefix = 10.9.8.0/24
  }
}
"#;
    let orders = service("orders", "load_balancer internal { subnet = vnet.other.subnet.ilb }", "  port api 8080\n");
    insta::assert_snapshot!(failing(&with(&[other.into(), orders]), "AKS330"));
    passing(&with(&[internal("10.1.8.20", true)]));
}

/// A cluster in an existing hub subnet (10.50.1.0/24) as read from Azure, where a network
/// interface of the network team holds 10.50.1.200 and the cluster's own internal load
/// balancer (in its node resource group) holds 10.50.1.210; with an internal Service on `ip`.
fn in_existing_subnet(ip: &str) -> crate::loading::Loaded {
    use crate::model::Value;
    let cluster = CLUSTER.replace("vnet.net.subnet.nodes", "vnet.hub.subnet.aks");
    let service = format!(
        "\nservice \"orders\" {{\n  namespace = namespace.apps\n  type      = load_balancer internal {{ subnet = vnet.hub.subnet.aks  ip = {ip} }}\n  selector  = {{ app = \"orders\" }}\n\n  port api 8080\n}}\n"
    );
    let text = stack(&[EXISTING_HUB, &cluster, NAMESPACE, &service]);
    let nic = "/subscriptions/s/resourceGroups/rg-legacy/providers/Microsoft.Network/networkInterfaces/nic-db/ipConfigurations/ipconfig1";
    let frontend = "/subscriptions/s/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Network/loadBalancers/kubernetes-internal/frontendIPConfigurations/a1";
    load_with_existing_hub(
        text,
        vec![
            ("ip_configurations".to_string(), Value::list([nic.to_string(), frontend.to_string()])),
            ("ip_addresses".to_string(), Value::map([(nic, "10.50.1.200"), (frontend, "10.50.1.210")])),
        ],
    )
}

fn rendered(loaded: &crate::loading::Loaded) -> String {
    let options = crate::diag::RenderOptions { color: false, unicode: true, width: 100 };
    crate::diag::render_terminal(&loaded.diagnostics.0, &loaded.sources, options)
}

#[test]
fn internal_ip_held_by_another_in_an_existing_subnet() {
    let taken = in_existing_subnet("10.50.1.200");
    let shown = rendered(&taken);
    let codes: Vec<&str> = taken.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["AKS323"], "{shown}");
    let diagnostic = &taken.diagnostics.0[0];
    assert_eq!(
        diagnostic.message,
        "service.orders asks for 10.50.1.200, which network interface nic-db already holds in vnet.hub.subnet.aks"
    );
    assert!(shown.contains("held by network interface nic-db (read from Azure)"), "{shown}");
    let help = diagnostic.help.clone().unwrap_or_default();
    assert!(help.contains("/resourceGroups/rg-legacy/providers/Microsoft.Network/networkInterfaces/nic-db/"), "{help}");
    // The suggestion is free: neither held nor the Service's own.
    assert!(help.contains("e.g. `ip = 10.50.1.254`"), "{help}");
    let free = in_existing_subnet("10.50.1.201");
    assert!(free.diagnostics.is_empty(), "{}", rendered(&free));
    // The cluster's own frontend (its node resource group) is the Service's, not another's.
    let own = in_existing_subnet("10.50.1.210");
    assert!(own.diagnostics.is_empty(), "{}", rendered(&own));
}

#[test]
fn the_suggested_address_skips_those_held() {
    let taken = in_existing_subnet("10.50.1.200");
    assert!(!rendered(&taken).contains("e.g. `ip = 10.50.1.200`"));
    let index = crate::check::index::Index::new(&taken.stack);
    let subnet = crate::model::Address::new(crate::model::Kind::Vnet, "hub").child(crate::model::Kind::Subnet, "aks");
    let held: Vec<String> =
        crate::check::capacity::held_addresses(&index, &subnet).into_iter().map(|(ip, _)| ip.to_string()).collect();
    assert_eq!(held, ["10.50.1.200"], "the cluster's own frontend is left out");
}
