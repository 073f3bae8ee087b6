//! Generators of large, realistic and valid stacks, to measure aksform on a big estate and
//! to test it on many resources. Their output passes every rule without a diagnostic (the
//! rules' tests check it).

use std::fmt::Write;
use std::net::Ipv4Addr;

/// Spoke networks take 10.1.0.0/16, 10.2.0.0/16, ...; 10.0.0.0/16 is the hub.
const MAX_CLUSTERS: usize = 250;
const NAMESPACES: usize = 5;
const PUBLIC_IPS: usize = 4;
/// AKS's limit of LoadBalancer Services per cluster; later ones become ClusterIP Services.
const MAX_LOAD_BALANCERS: usize = 300;
const NODE_PORTS: std::ops::RangeInclusive<u32> = 30000..=32767;
const INGRESS_CLASS: &str = "webapprouting.kubernetes.azure.com";

/// What a generated cluster has handed out so far.
#[derive(Default)]
struct ClusterState {
    services: usize,
    node_ports: u32,
    load_balancers: usize,
    internal_ips: u32,
    /// Next free port per public IP.
    public_ip_ports: [u32; PUBLIC_IPS],
    /// ClusterIP Services per namespace, for Ingress backends.
    cluster_ip_services: [Vec<usize>; NAMESPACES],
}

/// A stack of `clusters` AKS clusters (at most 250), each in its own spoke network peered
/// with a hub, spread over the four network models; `services` Services of all four types
/// (node ports, internal load balancers with static IPs, Services sharing public IPs on
/// distinct ports) spread over the clusters and their namespaces; and `ingresses` Ingresses
/// with TLS routing to ClusterIP Services of their namespace. Services past a cluster's
/// node ports or load balancer limit become ClusterIP Services, so the stack stays valid.
pub fn generate_benchmark_stack(clusters: usize, services: usize, ingresses: usize) -> String {
    let clusters = clusters.clamp(1, MAX_CLUSTERS);
    let mut out = String::with_capacity(400 * (services + ingresses) + 2000 * clusters);
    out.push_str(
        "stack \"bench\" {\n  location = westeurope\n}\n\nresource_group \"net\" {}\n\nresource_group \"aks\" {}\n",
    );
    hub(&mut out, clusters);
    for c in 0..clusters {
        spoke(&mut out, c);
        cluster(&mut out, c);
    }
    let mut state: Vec<ClusterState> = (0..clusters).map(|_| ClusterState::default()).collect();
    for i in 0..services {
        let c = i % clusters;
        service(&mut out, i, c, &mut state[c]);
    }
    for k in 0..ingresses {
        let c = k % clusters;
        ingress(&mut out, k, c, &state[c]);
    }
    out
}

/// A stack whose Kubernetes part is one namespace of `services` ClusterIP Services with two
/// ports each (`svc-0000`, `svc-0001`, ...), in one kubenet cluster: what the tests of a long
/// apply and the benchmark against kubectl apply with `--target namespace --target service`.
pub fn generate_services_stack(stack: &str, namespace: &str, services: usize) -> String {
    let mut out = String::with_capacity(160 * services + 400);
    let _ = write!(
        out,
        r#"stack "{stack}" {{
  location = westeurope
}}

resource_group "rg" {{}}

cluster "c" {{
  resource_group = resource_group.rg
  network kubenet {{}}
  node_pool "system" {{ vm_size = "Standard_D2s_v5" }}
}}

namespace "{namespace}" {{ cluster = cluster.c }}
"#
    );
    for i in 0..services {
        let _ = write!(
            out,
            "\nservice \"svc-{i:04}\" {{\n  namespace = namespace.{namespace}\n  selector  = {{ app = \"svc-{i:04}\" }}\n  port http 80 -> 8080\n  port metrics 9090\n}}\n"
        );
    }
    out
}

/// Azure resources to add to a stack, many of a type in one place: `groups` resource groups
/// (`g0`, `g1`, ...) with a vnet each (10.100.0.0/16, 10.101.0.0/16, ...), and in the first
/// `subnets` subnets of its vnet, `ips` public IPs and a DNS zone of `records` A records:
/// `groups * 2 + subnets + ips + 1 + records` resources (at most 200 groups, 256 subnets and
/// 256 records).
pub fn generate_azure_resources(groups: usize, ips: usize, subnets: usize, records: usize) -> String {
    let (groups, subnets, records) = (groups.clamp(1, 200), subnets.min(256), records.min(256));
    let mut out = String::with_capacity(80 * (groups * 2 + subnets + ips + records));
    for g in 0..groups {
        let _ = write!(
            out,
            "\nresource_group \"g{g}\" {{}}\n\nvnet \"v{g}\" {{\n  resource_group = resource_group.g{g}\n  address_space  = [10.{}.0.0/16]\n",
            100 + g
        );
        if g == 0 {
            for s in 0..subnets {
                let _ = write!(out, "\n  subnet \"s{s}\" {{\n    prefix = 10.100.{s}.0/24\n  }}\n");
            }
        }
        out.push_str("}\n");
    }
    for i in 0..ips {
        let _ = write!(out, "\npublic_ip \"ip{i}\" {{\n  resource_group = resource_group.g0\n}}\n");
    }
    out.push_str("\ndns_zone \"example.com\" {\n  resource_group = resource_group.g0\n}\n");
    for r in 0..records {
        let _ =
            write!(out, "\ndns_record \"r{r}\" {{\n  zone = dns_zone.\"example.com\"\n  a    = [203.0.113.{r}]\n}}\n");
    }
    out
}

fn hub(out: &mut String, clusters: usize) {
    out.push_str("\nvnet \"hub\" {\n  resource_group = resource_group.net\n  address_space  = [10.0.0.0/16]\n\n  subnet \"shared\" {\n    prefix = 10.0.0.0/24\n  }\n");
    for c in 0..clusters {
        let _ = write!(
            out,
            "\n  peering \"to-spoke{c}\" {{\n    remote                  = vnet.spoke{c}\n    allow_forwarded_traffic = true\n  }}\n"
        );
    }
    out.push_str("}\n");
}

fn spoke(out: &mut String, c: usize) {
    let b = c + 1;
    let _ = write!(
        out,
        r#"
vnet "spoke{c}" {{
  resource_group = resource_group.net
  address_space  = [10.{b}.0.0/16]

  subnet "nodes" {{
    prefix = 10.{b}.0.0/20
  }}

  subnet "pods" {{
    prefix = 10.{b}.16.0/20
  }}

  subnet "ilb" {{
    prefix = 10.{b}.32.0/22
  }}

  peering "to-hub" {{
    remote = vnet.hub
  }}
}}
"#
    );
}

fn cluster(out: &mut String, c: usize) {
    // The four network models in turn, with their usual max_pods.
    let (network, system_pods, windows) = match c % 4 {
        0 => (format!("azure_cni {{\n    subnet         = vnet.spoke{c}.subnet.nodes\n"), 30, true),
        1 => (
            format!(
                "azure_cni {{\n    subnet         = vnet.spoke{c}.subnet.nodes\n    pod_subnet     = vnet.spoke{c}.subnet.pods\n"
            ),
            110,
            false,
        ),
        2 => (
            format!(
                "azure_cni overlay {{\n    subnet         = vnet.spoke{c}.subnet.nodes\n    pod_cidr       = 100.64.0.0/16\n"
            ),
            250,
            true,
        ),
        _ => (
            format!(
                "kubenet {{\n    subnet         = vnet.spoke{c}.subnet.nodes\n    pod_cidr       = 100.64.0.0/16\n"
            ),
            110,
            false,
        ),
    };
    let windows_pool = if windows {
        "\n  node_pool \"win\" {\n    vm_size   = \"Standard_D8s_v5\"\n    os        = windows\n    mode      = user\n    autoscale = 0..5\n    max_pods  = 30\n  }\n"
    } else {
        ""
    };
    let _ = write!(
        out,
        r#"
cluster "c{c}" {{
  resource_group     = resource_group.aks
  kubernetes_version = "1.30"
  web_app_routing    = true

  network {network}    service_cidr   = 172.16.0.0/16
    dns_service_ip = 172.16.0.10
    network_policy = azure
  }}

  node_pool "system" {{
    vm_size  = "Standard_D4s_v5"
    count    = 3
    max_pods = {system_pods}
  }}

  node_pool "apps" {{
    vm_size   = "Standard_D8s_v5"
    autoscale = 3..20
    max_pods  = 50
    max_surge = "10%"
  }}
{windows_pool}}}
"#
    );
    for n in 0..NAMESPACES {
        let _ = write!(out, "\nnamespace \"c{c}-team{n}\" {{\n  cluster = cluster.c{c}\n  name    = \"team{n}\"\n}}\n");
    }
    for p in 0..PUBLIC_IPS {
        let _ =
            write!(out, "\npublic_ip \"c{c}-pip{p}\" {{\n  resource_group = cluster.c{c}.node_resource_group\n}}\n");
    }
}

/// The address `offset` places into a block starting at `base`.
fn address(base: [u8; 4], offset: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::from(base)) + offset)
}

fn service(out: &mut String, i: usize, c: usize, state: &mut ClusterState) {
    let j = state.services;
    state.services += 1;
    let n = j % NAMESPACES;
    let b = (c + 1) as u8;
    let selector = format!("  selector  = {{ app = \"s{i}\" }}\n");
    let mut body = match j % 4 {
        1 if NODE_PORTS.contains(&(NODE_PORTS.start() + state.node_ports)) => {
            let node_port = NODE_PORTS.start() + state.node_ports;
            state.node_ports += 1;
            format!(
                "  type      = node_port\n{selector}\n  port http 80 -> 8080 {{\n    node_port = {node_port}\n  }}\n"
            )
        }
        2 if state.load_balancers < MAX_LOAD_BALANCERS => {
            let lb = state.load_balancers;
            state.load_balancers += 1;
            match lb % 4 {
                0 => {
                    let p = (lb / 4) % PUBLIC_IPS;
                    let port = 1024 + state.public_ip_ports[p];
                    state.public_ip_ports[p] += 2;
                    format!(
                        "  type      = load_balancer {{ public_ip = public_ip.c{c}-pip{p} }}\n{selector}  external_traffic_policy = local\n\n  port http {port} -> 8080\n  port https {} -> 8443\n",
                        port + 1
                    )
                }
                1 | 2 => {
                    // Static frontends in the subnet kept for internal load balancers.
                    let ip = address([10, b, 32, 0], 4 + state.internal_ips);
                    state.internal_ips += 1;
                    format!(
                        "  type      = load_balancer internal {{ subnet = vnet.spoke{c}.subnet.ilb  ip = {ip} }}\n{selector}\n  port grpc 50051\n"
                    )
                }
                // A dynamic frontend in the node subnet, next to the nodes.
                _ => format!("  type      = load_balancer internal\n{selector}\n  port api 8080\n"),
            }
        }
        3 => format!("  type      = external_name \"s{i}.legacy.example.com\"\n"),
        _ => String::new(),
    };
    if body.is_empty() {
        state.cluster_ip_services[n].push(i);
        let ip = if j.is_multiple_of(16) {
            format!("  type      = cluster_ip {{ ip = {} }}\n", address([172, 16, 0, 0], 1000 + j as u32))
        } else {
            String::new()
        };
        body = format!("{ip}{selector}\n  port http 80 -> 8080\n  port metrics 9090\n");
    }
    let _ = write!(out, "\nservice \"s{i}\" {{\n  namespace = namespace.c{c}-team{n}\n{body}}}\n");
}

fn ingress(out: &mut String, k: usize, c: usize, state: &ClusterState) {
    let start = (k / NAMESPACES) % NAMESPACES;
    // The first namespace, from a rotating start, that has ClusterIP Services to route to.
    let Some((n, backends)) = (0..NAMESPACES)
        .map(|d| (start + d) % NAMESPACES)
        .map(|n| (n, &state.cluster_ip_services[n]))
        .find(|(_, s)| !s.is_empty())
    else {
        return;
    };
    let pick = |offset: usize| backends[(k + offset) % backends.len()];
    let host = format!("app{k}.c{c}.example.com");
    let _ = write!(
        out,
        r#"
ingress "i{k}" {{
  namespace = namespace.c{c}-team{n}
  class     = "{INGRESS_CLASS}"

  tls "i{k}-tls" {{
    hosts = ["{host}"]
  }}

  host "{host}" {{
    path "/" -> service.s{}:http
    path "/api" -> service.s{}:http
    path "/metrics" exact -> service.s{}:9090
  }}
}}
"#,
        pick(0),
        pick(1),
        pick(2)
    );
}
