use crate::diag::{RenderOptions, SourceMap, render_terminal};
use crate::loading::{Loaded, from_sources};
use crate::model::stack::StateSetting;
use crate::model::*;

const BASE: &str = r#"
stack "t" { location = westeurope }
resource_group "rg" {}
vnet "net" {
  resource_group = resource_group.rg
  address_space  = [10.1.0.0/16]
  subnet "nodes" { prefix = 10.1.0.0/20 }
  subnet "ilb" { prefix = 10.1.16.0/24 }
}
"#;

fn load_with(text: &str, vars: &[&str], env: &Env) -> Loaded {
    let mut sources = SourceMap::new();
    sources.add("main.aks", "main.aks", format!("{BASE}{text}"));
    let cli = (!vars.is_empty()).then(|| sources.add("<command line>", "<command line>", vars.join("\n")));
    from_sources(sources, Vec::new(), cli, &[], env)
}

fn load(text: &str) -> Loaded {
    load_with(text, &[], &|_| None)
}

/// A stack that lowers without a diagnostic of its own; what the rules of `check` find
/// in it is theirs to test.
fn ok(text: &str) -> Stack {
    let loaded = load(text);
    let lowering = loaded.diagnostics.iter().filter(|d| crate::check::explain(d.code).is_none()).count();
    assert_eq!(lowering, 0, "{}", rendered(&loaded));
    loaded.stack
}

fn rendered(loaded: &Loaded) -> String {
    render_terminal(&loaded.diagnostics.0, &loaded.sources, RenderOptions { color: false, unicode: true, width: 100 })
}

fn codes(loaded: &Loaded) -> Vec<&'static str> {
    loaded.diagnostics.iter().map(|d| d.code).collect()
}

const CLUSTER: &str = r#"
cluster "c" {
  resource_group = resource_group.rg
  network azure_cni { subnet = vnet.net.subnet.nodes }
  node_pool "system" { vm_size = "Standard_D4s_v5" count = 3 }
  node_pool "apps" { vm_size = "Standard_D4s_v5" autoscale = 1..5 }
}
"#;

#[test]
fn cluster_defaults_follow_azure() {
    let stack = ok(CLUSTER);
    let c = &stack.clusters[0];
    assert_eq!(c.node_resource_group, "MC_rg_c_westeurope");
    assert_eq!(c.location, "westeurope");
    assert_eq!(c.dns_prefix.value, "c");
    assert_eq!(c.network.service_cidr.value.to_string(), "10.0.0.0/16");
    assert_eq!(c.network.dns_service_ip.value.to_string(), "10.0.0.10");
    assert_eq!(c.network.pod_cidr, None);
    assert_eq!(c.network.outbound_type, "loadBalancer");
    let pools = &stack.node_pools;
    assert_eq!(pools[0].max_pods.value, 30, "Azure CNI on the node subnet defaults to 30 pods");
    assert!(pools[0].system && !pools[1].system, "the first pool is the system pool");
    assert_eq!(pools[1].count.value, NodeCount::Autoscale { min: 1, max: 5 });
    assert_eq!(pools[1].subnet.as_ref().map(|s| s.value.to_string()).as_deref(), Some("vnet.net.subnet.nodes"));
}

#[test]
fn max_pods_default_depends_on_the_network_model() {
    for (network, expected) in [
        ("network kubenet {}", 110),
        ("network azure_cni overlay { subnet = vnet.net.subnet.nodes }", 250),
        ("network azure_cni { subnet = vnet.net.subnet.nodes  pod_subnet = vnet.net.subnet.ilb }", 110),
    ] {
        let stack = ok(&format!(
            "cluster \"c\" {{ resource_group = resource_group.rg\n {network}\n node_pool \"system\" {{ vm_size = \"x\" }} }}"
        ));
        assert_eq!(stack.node_pools[0].max_pods.value, expected, "{network}");
    }
}

#[test]
fn variables_come_from_defaults_the_command_line_and_strings() {
    let text = r#"
var "count" { default = 2 }
var "env" { default = "dev" }
cluster "c" {
  resource_group = resource_group.rg
  dns_prefix = "shop-${var.env}"
  network kubenet {}
  node_pool "system" { vm_size = "x" count = var.count }
}
"#;
    let loaded = load_with(text, &["count=5", "env=prod"], &|_| None);
    assert!(loaded.diagnostics.is_empty(), "{}", rendered(&loaded));
    assert_eq!(loaded.stack.node_pools[0].count.value, NodeCount::Fixed(5));
    assert_eq!(loaded.stack.clusters[0].dns_prefix.value, "shop-prod");
    let defaults = load(text);
    assert_eq!(defaults.stack.node_pools[0].count.value, NodeCount::Fixed(2));
}

#[test]
fn env_reads_the_environment_with_an_optional_default() {
    let text = r#"resource_group "x" { name = env("RG_NAME", "fallback") }"#;
    let loaded = load_with(text, &[], &|name| (name == "RG_NAME").then(|| "from-env".to_string()));
    assert_eq!(loaded.stack.resource_groups[1].name, "from-env");
    assert_eq!(load(text).stack.resource_groups[1].name, "fallback");
    let missing = load(r#"resource_group "x" { name = env("NOPE") }"#);
    assert_eq!(codes(&missing), ["AKS017"]);
}

#[test]
fn unset_subscription_is_fine_until_apply() {
    let mut sources = SourceMap::new();
    sources.add(
        "main.aks",
        "main.aks",
        r#"stack "s" { subscription = env("AZURE_SUBSCRIPTION_ID") location = westeurope }"#.into(),
    );
    let loaded = from_sources(sources, Vec::new(), None, &[], &|_| None);
    assert!(loaded.diagnostics.is_empty());
    assert_eq!(loaded.stack.subscription, None);
}

#[test]
fn services_of_every_type() {
    let stack = ok(&format!(
        r#"{CLUSTER}
namespace "ns" {{ cluster = cluster.c }}
public_ip "pip" {{ resource_group = resource_group.rg }}
service "a" {{ namespace = namespace.ns  port http 80 -> 8080 }}
service "b" {{ namespace = namespace.ns  type = node_port
  port dns 53/udp -> dns {{ node_port = 30053 }} }}
service "c" {{ namespace = namespace.ns  type = load_balancer {{ public_ip = public_ip.pip }}  port https 443 }}
service "d" {{ namespace = namespace.ns  type = load_balancer internal {{ subnet = vnet.net.subnet.ilb  ip = 10.1.16.10 }}  port api 8080 }}
service "e" {{ namespace = "default"  cluster = cluster.c  type = external_name "db.example.com" }}
"#
    ));
    let s = &stack.services;
    assert!(matches!(s[0].service_type.value, ServiceType::ClusterIp { ip: None, headless: false }));
    assert_eq!(s[1].ports[0].protocol, Protocol::Udp);
    assert_eq!(s[1].ports[0].target_port, TargetPort::Name("dns".into()));
    assert_eq!(s[1].ports[0].node_port.as_ref().map(|n| n.value), Some(30053));
    let ServiceType::LoadBalancer(lb) = &s[2].service_type.value else { panic!("not a load balancer") };
    assert_eq!(lb.public_ip_name.as_deref(), Some("pip"));
    assert_eq!(lb.resource_group.as_deref(), Some("rg"), "an IP outside the node resource group names its group");
    let ServiceType::LoadBalancer(lb) = &s[3].service_type.value else { panic!("not a load balancer") };
    assert!(lb.internal);
    assert_eq!(lb.ip.as_ref().map(|i| i.value.to_string()).as_deref(), Some("10.1.16.10"));
    assert_eq!(s[4].namespace, "default");
    assert_eq!(s[4].cluster, Address::new(Kind::Cluster, "c"));
}

#[test]
fn ingress_paths_hosts_and_backends() {
    let stack = ok(&format!(
        r#"{CLUSTER}
namespace "ns" {{ cluster = cluster.c }}
service "web" {{ namespace = namespace.ns  port http 80 }}
ingress "i" {{
  namespace = namespace.ns
  default_backend = service.web:http
  tls "cert" {{ hosts = ["a.example.com"] }}
  host "a.example.com" {{
    path "/" -> service.web:http
    path "/x" exact -> service.web:80
  }}
}}
"#
    ));
    let i = &stack.ingresses[0];
    assert_eq!(i.rules[0].paths.len(), 2);
    assert_eq!(i.rules[0].paths[1].path_type, PathType::Exact);
    assert_eq!(i.rules[0].paths[1].backend.port, PortRef::Number(80));
    assert_eq!(i.tls[0].secret, "cert");
    let resources = stack.resources();
    let ingress = resources.iter().find(|r| r.address.kind == Kind::Ingress).unwrap();
    assert!(ingress.depends_on.contains(&Address::new(Kind::Service, "web")));
}

#[test]
fn dns_records_take_addresses_known_after_apply() {
    let stack = ok(r#"
public_ip "pip" { resource_group = resource_group.rg  dns_label = "my-app" }
dns_zone "example.com" { resource_group = resource_group.rg }
dns_record "www" { zone = dns_zone."example.com"  a = public_ip.pip.address }
dns_record "alias" { zone = dns_zone."example.com"  cname = public_ip.pip.fqdn }
"#);
    let records: Vec<Resource> = stack.resources().into_iter().filter(|r| r.address.kind == Kind::DnsRecord).collect();
    assert!(records[0].attributes["records"].is_unknown());
    assert!(records[0].depends_on.contains(&Address::new(Kind::PublicIp, "pip")));
    assert_eq!(stack.public_ips[0].fqdn().as_deref(), Some("my-app.westeurope.cloudapp.azure.com"));
}

#[test]
fn every_error_is_reported_with_a_hint() {
    let loaded = load(
        r#"
cluster "c" {
  resource_group = resource_group.rgg
  netwrk kubenet {}
  node_pool "Sys" { vm_size = "x" count = "3" }
}
service "s" { namespace = namespace.nope  port http 80 }
vnet "net" { resource_group = resource_group.rg  address_space = [10.9.0.0/16] }
"#,
    );
    insta::assert_snapshot!(rendered(&loaded));
}

#[test]
fn references_must_point_at_the_right_kind() {
    let loaded =
        load(r#"cluster "c" { resource_group = vnet.net  network kubenet {}  node_pool "system" { vm_size = "x" } }"#);
    assert_eq!(codes(&loaded), ["AKS012"]);
    assert!(loaded.diagnostics.0[0].message.contains("must refer to a resource group"));
}

#[test]
fn oversized_port_numbers_do_not_wrap() {
    let stack = ok(&format!(
        "{CLUSTER}\nservice \"web\" {{ cluster = cluster.c  namespace = \"apps\"  port http 4294967376 -> 4294967377 }}\n"
    ));
    let port = &stack.services[0].ports[0];
    assert_eq!(port.port.value, u32::MAX);
    assert_eq!(port.target_port, TargetPort::Number(u32::MAX));
}

#[test]
fn external_traffic_policy_keeps_its_span() {
    let stack = ok(&format!(
        "{CLUSTER}\nservice \"web\" {{ cluster = cluster.c  namespace = \"apps\"  type = node_port  external_traffic_policy = local  port http 80 }}\n"
    ));
    let policy = stack.services[0].external_traffic_policy.as_ref().expect("a policy");
    assert_eq!(policy.value, "Local");
    assert!(!policy.span.is_empty());
}

#[test]
fn public_ip_in_another_clusters_node_group_names_its_resource_group() {
    let stack = ok(&format!(
        r#"{CLUSTER}
cluster "d" {{
  resource_group = resource_group.rg
  network azure_cni overlay {{}}
  node_pool "system" {{ vm_size = "Standard_D4s_v5" count = 3 }}
}}
public_ip "pip" {{ resource_group = cluster.c.node_resource_group }}
service "in-c" {{ cluster = cluster.c  namespace = "apps"  type = load_balancer {{ public_ip = public_ip.pip }}  port http 80 }}
service "in-d" {{ cluster = cluster.d  namespace = "apps"  type = load_balancer {{ public_ip = public_ip.pip }}  port http 80 }}
"#
    ));
    let group = |i: usize| match &stack.services[i].service_type.value {
        ServiceType::LoadBalancer(lb) => lb.resource_group.clone(),
        other => panic!("not a load balancer: {other:?}"),
    };
    assert_eq!(group(0), None, "in its own cluster's node resource group");
    assert_eq!(group(1), Some("MC_rg_c_westeurope".to_string()));
}

#[test]
fn ingress_backends_use_the_services_kubernetes_name() {
    let stack = ok(&format!(
        r#"{CLUSTER}
namespace "ns" {{ cluster = cluster.c }}
service "web-blue" {{ name = "web"  namespace = namespace.ns  selector = {{ app = "web" }}  port http 80 }}
ingress "i" {{ namespace = namespace.ns  default_backend = service.web-blue:http }}
"#
    ));
    let resources = stack.resources();
    let ingress = resources.iter().find(|r| r.address.kind == Kind::Ingress).unwrap();
    let Value::Map(backend) = &ingress.attributes["default_backend"] else { panic!("no backend") };
    assert_eq!(backend["service"], Value::str("web"));
}

#[test]
fn an_unknown_reference_suggests_the_same_name_every_time() {
    // Ten equally close names: the symbols are hashed, so only candidates in a fixed order
    // give one answer.
    let services: String = (0..10)
        .rev()
        .map(|i| format!("service \"web-{i}\" {{\n  namespace = \"a\"\n  cluster = cluster.c\n  port http 80\n}}\n"))
        .collect();
    let text = format!(
        "{CLUSTER}{services}ingress \"i\" {{\n  namespace = \"a\"\n  cluster = cluster.c\n  default_backend = service.web:http\n}}\n"
    );
    for _ in 0..5 {
        let loaded = load(&text);
        let d = loaded.diagnostics.iter().find(|d| d.code == "AKS014").expect("the unknown Service is reported");
        assert_eq!(d.help.as_deref(), Some("did you mean `service.web-9`?"));
    }
}

#[test]
fn every_kind_is_lowered_once_and_children_with_their_parents() {
    let mut order = super::LOWERING_ORDER;
    order.sort();
    assert_eq!(order, Kind::ALL, "LOWERING_ORDER must list every kind once");
    for (i, kind) in super::LOWERING_ORDER.iter().enumerate() {
        if let Some(parent) = kind.parent() {
            assert!(super::LOWERING_ORDER[..i].contains(&parent), "{kind} is lowered before its parent {parent}");
        }
    }
}

#[test]
fn route_tables_lower_with_their_routes_and_subnets_refer_to_them() {
    let stack = ok(r#"
route_table "egress" {
  resource_group = resource_group.rg
  route "default" { prefix = 0.0.0.0/0  next_hop = virtual_appliance  next_hop_ip = 10.1.0.4 }
  route "onprem" { prefix = 192.168.0.0/16  next_hop = virtual_network_gateway }
}
vnet "spoke" {
  resource_group = resource_group.rg
  address_space  = [10.2.0.0/16]
  subnet "nodes" {
    prefix      = 10.2.0.0/22
    route_table = route_table.egress
  }
}
"#);
    let table = &stack.route_tables[0];
    assert_eq!((table.name.as_str(), table.location.as_str()), ("egress", "westeurope"));
    assert_eq!(table.routes.len(), 2);
    assert_eq!(table.default_route().map(|r| r.name.as_str()), Some("default"));
    assert_eq!(table.routes[1].next_hop.value, NextHop::VirtualNetworkGateway);
    let subnet = stack.subnets.iter().find(|s| s.name == "nodes" && s.vnet.to_string() == "vnet.spoke").unwrap();
    assert_eq!(subnet.route_table.as_ref().map(|t| t.value.to_string()), Some("route_table.egress".into()));
    let resource = stack.resources().into_iter().find(|r| r.address == subnet.address).unwrap();
    assert!(resource.depends_on.contains(&table.address), "{:?}", resource.depends_on);
}

#[test]
fn routes_are_checked_as_azure_checks_them() {
    let table = |routes: &str| format!("route_table \"t\" {{\n  resource_group = resource_group.rg\n{routes}\n}}\n");
    let cases = [
        (r#"route "a" { prefix = 0.0.0.0/0  next_hop = virtual_appliance }"#, "without its address"),
        (
            r#"route "a" { prefix = 0.0.0.0/0  next_hop = internet  next_hop_ip = 10.1.0.4 }"#,
            "does not go to an appliance",
        ),
        (
            "route \"a\" { prefix = 10.9.0.0/16  next_hop = none }\nroute \"A\" { prefix = 10.8.0.0/16  next_hop = none }",
            "two routes named",
        ),
        (
            "route \"a\" { prefix = 10.9.0.0/16  next_hop = none }\nroute \"b\" { prefix = 10.9.0.0/16  next_hop = internet }",
            "two routes for 10.9.0.0/16",
        ),
        (r#"route "a" { prefix = 10.9.0.0/16  next_hop = firewall }"#, "firewall"),
    ];
    for (routes, expected) in cases {
        let loaded = load(&table(routes));
        let text = rendered(&loaded);
        assert!(codes(&loaded).contains(&"AKS012"), "{routes}: {text}");
        assert!(text.contains(expected), "{routes}: expected {expected:?} in\n{text}");
    }
}

#[test]
fn a_nat_gateway_needs_a_public_ip() {
    let gateway = |ips: &str| {
        format!(
            "public_ip \"ip\" {{ resource_group = resource_group.rg }}\nnat_gateway \"n\" {{\n  resource_group = resource_group.rg\n  {ips}\n}}\n"
        )
    };
    let stack = ok(&gateway("public_ips = [public_ip.ip]"));
    assert_eq!(stack.nat_gateways[0].public_ips[0].value.to_string(), "public_ip.ip");
    for (ips, expected) in [
        ("public_ips = []", "has no public IP"),
        ("", "public_ips"),
        ("public_ips = [vnet.net]", "must refer to a public IP"),
    ] {
        let loaded = load(&gateway(ips));
        let text = rendered(&loaded);
        assert!(codes(&loaded).iter().any(|c| c.starts_with("AKS01")), "{ips}: {text}");
        assert!(text.contains(expected), "{ips}: expected {expected:?} in\n{text}");
        assert!(loaded.stack.nat_gateways.is_empty(), "{ips}");
    }
}

fn stack_with_state(state: &str) -> Loaded {
    let mut sources = SourceMap::new();
    sources.add("main.aks", "main.aks", format!("stack \"t\" {{\n  location = westeurope\n  state = {state}\n}}\n"));
    from_sources(sources, Vec::new(), None, &[], &|_| None)
}

#[test]
fn the_state_setting_names_a_local_file_or_a_blob() {
    let blob = stack_with_state(r#"azure_blob { account = "acct" container = "aksform" key = "t.json" }"#);
    assert_eq!(codes(&blob), Vec::<&str>::new(), "{}", rendered(&blob));
    assert_eq!(
        blob.stack.state,
        Some(StateSetting::AzureBlob {
            account: Some("acct".into()),
            container: Some("aksform".into()),
            key: Some("t.json".into())
        })
    );
    // The account may come from the command line, as a CI job sets it.
    let partial = stack_with_state(r#"azure_blob { key = "t.json" }"#);
    assert_eq!(
        partial.stack.state,
        Some(StateSetting::AzureBlob { account: None, container: None, key: Some("t.json".into()) })
    );
    let local = stack_with_state(r#"local { path = "elsewhere/t.json" }"#);
    assert_eq!(local.stack.state, Some(StateSetting::LocalPath("elsewhere/t.json".into())));

    let typo = stack_with_state(r#"azure_blob { acount = "acct" }"#);
    assert_eq!(codes(&typo), ["AKS010"], "{}", rendered(&typo));
    let unknown = stack_with_state(r#"s3 { bucket = "b" }"#);
    assert_eq!(codes(&unknown), ["AKS012"]);
    assert!(rendered(&unknown).contains("azure_blob"), "{}", rendered(&unknown));
}
