use super::*;

fn read(pairs: &[(&str, Value)]) -> Read {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn cluster() -> ClusterRead {
    let subnet = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/net/subnets/nodes";
    ClusterRead {
        stack: "app".into(),
        subscription: "s".into(),
        location: "westeurope".into(),
        groups: vec![GroupRead {
            label: "rg".into(),
            attributes: read(&[("name", Value::str("rg")), ("location", Value::str("westeurope"))]),
            existing: false,
        }],
        cluster_label: "app".into(),
        cluster: read(&[
            ("name", Value::str("app")),
            ("location", Value::str("westeurope")),
            ("dns_prefix", Value::str("app")),
            ("sku_tier", Value::str("Free")),
            ("node_resource_group", Value::str("MC_rg_app_westeurope")),
            ("network_plugin", Value::str("azure")),
            ("network_plugin_mode", Value::str("overlay")),
            ("pod_cidr", Value::str("10.244.0.0/16")),
            ("service_cidr", Value::str("10.1.0.0/16")),
            ("dns_service_ip", Value::str("10.1.0.10")),
            ("outbound_type", Value::str("managedNATGateway")),
            ("network_policy", Value::str("none")),
        ]),
        pools: vec![(
            "system".into(),
            read(&[
                ("vm_size", Value::str("Standard_D4s_v5")),
                ("count", Value::Int(1)),
                ("max_pods", Value::Int(250)),
                ("mode", Value::str("System")),
                ("subnet", Value::str(subnet)),
                ("max_surge", Value::str("1")),
            ]),
        )],
        subnet_references: [(subnet.to_lowercase(), "vnet.net.subnet.nodes".to_string())].into(),
        services: vec![ObjectRead {
            label: "dns".into(),
            attributes: read(&[
                ("name", Value::str("dns")),
                ("namespace", Value::str("default")),
                ("type", Value::str("NodePort")),
                (
                    "ports",
                    Value::List(vec![Value::map([
                        ("name", Value::str("dns")),
                        ("port", Value::Int(53)),
                        ("protocol", Value::str("UDP")),
                        ("target_port", Value::Int(5353)),
                        ("node_port", Value::Int(30053)),
                    ])]),
                ),
            ]),
        }],
        ..ClusterRead::default()
    }
}

#[test]
fn defaults_are_left_out_and_what_differs_is_written_with_references() {
    let generated = generate(&cluster()).unwrap();
    assert_eq!(
        generated.azure,
        "stack \"app\" {\n  subscription = \"s\"\n  location     = westeurope\n}\n\nresource_group \"rg\" {}\n\n\
         cluster \"app\" {\n  resource_group = resource_group.rg\n\n  network azure_cni overlay {\n    \
         subnet         = vnet.net.subnet.nodes\n    service_cidr   = 10.1.0.0/16\n    dns_service_ip = 10.1.0.10\n    \
         outbound_type  = managed_nat_gateway\n  }\n\n  node_pool \"system\" {\n    vm_size = \"Standard_D4s_v5\"\n  }\n}\n"
    );
}

#[test]
fn a_service_outside_the_stacks_namespaces_names_its_namespace_and_cluster() {
    let generated = generate(&cluster()).unwrap();
    assert_eq!(
        generated.kubernetes,
        "service \"dns\" {\n  namespace = \"default\"\n  cluster   = cluster.app\n  type      = node_port\n\n  \
         port dns 53/udp -> 5353 {\n    node_port = 30053\n  }\n}\n"
    );
}

#[test]
fn import_blocks_quote_what_addresses_need() {
    let blocks = import_blocks(&[
        ("dns_zone.\"example.com\"".into(), "/subscriptions/s/x".into()),
        ("service.web".into(), "shop/web".into()),
    ])
    .unwrap();
    assert_eq!(
        blocks,
        "import {\n  to = dns_zone.\"example.com\"\n  id = \"/subscriptions/s/x\"\n}\n\nimport {\n  to = service.web\n  \
         id = \"shop/web\"\n}\n"
    );
}
