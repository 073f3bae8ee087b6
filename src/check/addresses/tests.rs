use crate::check::test_support::*;

fn vnets(hub: &str, spoke: &str, peered: bool) -> String {
    let peering = if peered { "\n  peering \"to-spoke\" {\n    remote = vnet.spoke\n  }\n" } else { "" };
    stack(&[&format!(
        r#"
vnet "hub" {{
  resource_group = resource_group.rg
  address_space  = [{hub}]
{peering}}}

vnet "spoke" {{
  resource_group = resource_group.rg
  address_space  = [{spoke}]
}}
"#
    )])
}

#[test]
fn peered_vnets_overlap() {
    insta::assert_snapshot!(failing(&vnets("10.0.0.0/16", "10.0.128.0/17", true), "AKS101"));
    passing(&vnets("10.0.0.0/16", "10.1.0.0/16", true));
}

#[test]
fn vnets_overlap_through_a_hub() {
    let text = stack(&[r#"
vnet "hub" {
  resource_group = resource_group.rg
  address_space  = [10.0.0.0/16]

  peering "to-east" {
    remote = vnet.east
  }

  peering "to-west" {
    remote = vnet.west
  }
}

vnet "east" {
  resource_group = resource_group.rg
  address_space  = [10.1.0.0/16]
}

vnet "west" {
  resource_group = resource_group.rg
  address_space  = [10.1.0.0/24]
}
"#]);
    insta::assert_snapshot!(failing(&text, "AKS101"));
    passing(&text.replace("10.1.0.0/24", "10.2.0.0/24"));
}

#[test]
fn unpeered_vnets_overlap() {
    insta::assert_snapshot!(failing(&vnets("10.0.0.0/16", "10.0.0.0/16", false), "AKS102"));
    passing(&vnets("10.0.0.0/16", "10.1.0.0/16", false));
}

#[test]
fn vnet_address_spaces_overlap() {
    let text = stack(&[&NETWORK.replace("[10.1.0.0/16]", "[10.1.0.0/16, 10.1.4.0/24]")]);
    insta::assert_snapshot!(failing(&text, "AKS103"));
    passing(&stack(&[&NETWORK.replace("[10.1.0.0/16]", "[10.1.0.0/16, 10.2.0.0/24]")]));
}

#[test]
fn subnet_outside_vnet() {
    let text = stack(&[&NETWORK.replace("10.1.8.0/24", "10.2.8.0/24")]);
    insta::assert_snapshot!(failing(&text, "AKS104"));
    passing(&stack(&[NETWORK]));
}

#[test]
fn subnets_overlap() {
    let text = stack(&[&NETWORK.replace("10.1.8.0/24", "10.1.2.0/24")]);
    insta::assert_snapshot!(failing(&text, "AKS105"));
    passing(&stack(&[NETWORK]));
}

#[test]
fn subnet_prefix_out_of_range() {
    let text = stack(&[&NETWORK.replace("10.1.8.0/24", "10.1.8.0/30")]);
    insta::assert_snapshot!(failing(&text, "AKS106"));
    passing(&stack(&[&NETWORK.replace("10.1.8.0/24", "10.1.8.0/29")]));
}

fn cluster_with(service_cidr: &str, dns: &str) -> String {
    stack(&[NETWORK, &CLUSTER.replace("10.0.0.0/16", service_cidr).replace("10.0.0.10", dns)])
}

#[test]
fn service_cidr_overlaps_subnet() {
    insta::assert_snapshot!(failing(&cluster_with("10.1.0.0/22", "10.1.0.10"), "AKS107"));
    passing(&cluster_with("10.0.0.0/16", "10.0.0.10"));
}

#[test]
fn service_cidr_overlaps_peered_vnet() {
    let hub = r#"
vnet "hub" {
  resource_group = resource_group.rg
  address_space  = [10.0.0.0/16]

  peering "to-net" {
    remote = vnet.net
  }
}
"#;
    insta::assert_snapshot!(failing(&stack(&[NETWORK, CLUSTER, hub]), "AKS108"));
    passing(&stack(&[NETWORK, CLUSTER, &hub.replace("10.0.0.0/16", "10.2.0.0/16")]));
}

fn overlay(pod_cidr: &str) -> String {
    stack(&[
        NETWORK,
        &format!(
            r#"
cluster "aks" {{
  resource_group = resource_group.rg

  network azure_cni overlay {{
    subnet         = vnet.net.subnet.nodes
    pod_cidr       = {pod_cidr}
    service_cidr   = 10.0.0.0/16
    dns_service_ip = 10.0.0.10
  }}

  node_pool "system" {{
    vm_size = "Standard_D4s_v5"
    count   = 3
  }}
}}
"#
        ),
    ])
}

#[test]
fn service_cidr_overlaps_pod_cidr() {
    insta::assert_snapshot!(failing(&overlay("10.0.0.0/16"), "AKS109"));
    passing(&overlay("192.168.0.0/16"));
}

#[test]
fn pod_cidr_overlaps_vnet() {
    insta::assert_snapshot!(failing(&overlay("10.1.128.0/17"), "AKS110"));
    passing(&overlay("10.244.0.0/16"));
}

#[test]
fn service_cidr_in_reserved_range() {
    insta::assert_snapshot!(failing(&cluster_with("172.30.0.0/16", "172.30.0.10"), "AKS111"));
    passing(&cluster_with("172.16.0.0/16", "172.16.0.10"));
}

#[test]
fn cluster_subnet_in_reserved_range() {
    let network = NETWORK
        .replace("[10.1.0.0/16]", "[172.16.0.0/12]")
        .replace("10.1.0.0/22", "172.31.0.0/22")
        .replace("10.1.8.0/24", "172.16.8.0/24");
    let text = stack(&[&network, CLUSTER]);
    insta::assert_snapshot!(failing(&text, "AKS111"));
    passing(&stack(&[&network.replace("172.31.0.0/22", "172.16.0.0/22"), CLUSTER]));
}

#[test]
fn service_cidr_too_large() {
    insta::assert_snapshot!(failing(&cluster_with("100.64.0.0/10", "100.64.0.10"), "AKS112"));
    passing(&cluster_with("100.64.0.0/12", "100.64.0.10"));
}

#[test]
fn dns_service_ip_outside_service_cidr() {
    insta::assert_snapshot!(failing(&cluster_with("10.0.0.0/16", "10.2.0.10"), "AKS113"));
    passing(&cluster_with("10.0.0.0/16", "10.0.255.254"));
}

#[test]
fn default_dns_service_ip_outside_a_custom_service_cidr() {
    let text = stack(&[
        NETWORK,
        &CLUSTER.replace("10.0.0.0/16", "10.3.0.0/16").replace("    dns_service_ip = 10.0.0.10\n", ""),
    ]);
    insta::assert_snapshot!(failing(&text, "AKS113"));
}

#[test]
fn dns_service_ip_reserved() {
    insta::assert_snapshot!(failing(&cluster_with("10.0.0.0/16", "10.0.0.1"), "AKS114"));
    assert_eq!(codes(&cluster_with("10.0.0.0/16", "10.0.0.0")), ["AKS114"]);
    assert_eq!(codes(&cluster_with("10.0.0.0/16", "10.0.255.255")), ["AKS114"]);
    passing(&cluster_with("10.0.0.0/16", "10.0.0.2"));
}

#[test]
fn a_spoke_peered_with_an_existing_hub_must_not_overlap_the_hubs_other_peers() {
    use crate::model::{Address, Kind, Value};
    let text = stack(&["existing resource_group \"network\" { name = \"rg-network\" }\n\
         existing vnet \"hub\" { resource_group = resource_group.network }\n\
         vnet \"spoke\" {\n  resource_group = resource_group.rg\n  address_space  = [10.60.0.0/16]\n\n  \
         peering \"hub\" {\n    remote = vnet.hub\n  }\n}\n"]);
    let peer = |id: &str, space: &str| {
        Value::map([("remote", Value::str(id)), ("address_space", Value::list([space.to_string()]))])
    };
    let load = |spaces: &str| {
        let hub = [
            ("location".to_string(), Value::str("westeurope")),
            ("address_space".to_string(), Value::list(["10.0.0.0/16".to_string()])),
            (
                "peerings".to_string(),
                Value::List(vec![
                    peer(
                        "/subscriptions/s/resourceGroups/rg-other/providers/Microsoft.Network/virtualNetworks/legacy",
                        spaces,
                    ),
                    // Its peering with the spoke itself, from an earlier apply.
                    peer(
                        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/spoke",
                        "10.60.0.0/16",
                    ),
                ]),
            ),
        ];
        let existing = crate::model::existing::ExistingValues::from([
            (Address::new(Kind::ResourceGroup, "network"), [("location".to_string(), Value::str("westeurope"))].into()),
            (Address::new(Kind::Vnet, "hub"), hub.into()),
        ]);
        let mut sources = crate::diag::SourceMap::new();
        sources.add("main.aks", "main.aks", text.clone());
        let options = crate::loading::Options { existing, ..Default::default() };
        crate::loading::from_sources_with(sources, Vec::new(), None, &options, &|_| None)
    };
    let clean = load("10.70.0.0/16");
    assert!(clean.diagnostics.is_empty(), "{:?}", clean.diagnostics);
    let clash = load("10.60.128.0/17");
    let found: Vec<&str> = clash.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        found,
        [
            "vnet.spoke (10.60.0.0/16) overlaps 10.60.128.0/17 of /subscriptions/s/resourceGroups/rg-other/providers/Microsoft.Network/virtualNetworks/legacy, which vnet.hub is already peered with"
        ]
    );
    assert!(clash.diagnostics.iter().all(|d| d.code == "AKS101"));
}
