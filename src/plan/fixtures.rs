//! Hand-built resources and states for the planner's and renderers' tests.

use std::collections::BTreeMap;

use crate::diag::{FileId, Span};
use crate::model::{Address, AttributeRef, Kind, Resource, Value};
use crate::state::{ResourceState, State};

pub fn address(text: &str) -> Address {
    text.parse().unwrap()
}

/// `address.attribute` of another resource.
pub fn reference(address_text: &str, attribute: &str) -> Value {
    Value::Ref(Box::new(AttributeRef { address: address(address_text), attribute: attribute.to_string() }))
}

pub fn computed_of(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::PublicIp | Kind::Service | Kind::Ingress => &["address"],
        Kind::Cluster => &["fqdn"],
        Kind::DnsZone => &["name_servers"],
        _ => &[],
    }
}

pub fn resource(address_text: &str, attributes: &[(&str, Value)]) -> Resource {
    let address = address(address_text);
    Resource {
        computed: computed_of(address.kind),
        address,
        attributes: attributes.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        depends_on: Vec::new(),
        span: Span::new(FileId(0), 10, 20),
        allow_replace: false,
        existing: false,
    }
}

/// Adds the resources a resource's references name to its `depends_on`, as the model does.
pub fn with_reference_dependencies(mut resources: Vec<Resource>) -> Vec<Resource> {
    for resource in &mut resources {
        let mut refs = Vec::new();
        resource.attributes.values().for_each(|v| v.refs(&mut refs));
        for r in refs {
            if !resource.depends_on.contains(&r.address) {
                resource.depends_on.push(r.address);
            }
        }
    }
    resources
}

/// The state after applying `resource`, with references replaced by `values` (by
/// `address.attribute`) and computed fields set from `values` too.
pub fn recorded(resource: &Resource, values: &[(&str, Value)]) -> ResourceState {
    let lookup: BTreeMap<String, Value> = values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut attributes: BTreeMap<String, Value> = resource
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), v.resolve(&mut |r| lookup.get(&r.to_string()).cloned().unwrap_or_default())))
        .collect();
    for name in resource.computed {
        if let Some(value) = lookup.get(&format!("{}.{name}", resource.address)) {
            attributes.insert(name.to_string(), value.clone());
        }
    }
    ResourceState {
        address: resource.address.clone(),
        provider_id: Some(format!("/id/{}", resource.address)),
        attributes,
        dependencies: resource.depends_on.clone(),
    }
}

pub fn state(resources: Vec<ResourceState>) -> State {
    State {
        version: crate::state::FORMAT_VERSION,
        serial: 7,
        lineage: "3f6c1f0e-4a8e-4a53-9f3e-6f1d2c9b7a10".to_string(),
        stack: "shop-prod".to_string(),
        aksform_version: "0.1.0".to_string(),
        resources,
        existing: Vec::new(),
    }
}

/// Sets what a resource needs, as the model does from its references and nesting.
pub fn needing(mut resource: Resource, addresses: &[&str]) -> Resource {
    resource.depends_on.extend(addresses.iter().map(|a| address(a)));
    resource.depends_on.sort();
    resource.depends_on.dedup();
    resource
}

pub fn resource_group() -> Resource {
    resource(
        "resource_group.shop",
        &[
            ("name", Value::str("shop-prod")),
            ("location", Value::str("westeurope")),
            ("tags", Value::map([("env", "prod")])),
        ],
    )
}

pub fn vnet() -> Resource {
    let vnet = resource(
        "vnet.shop",
        &[
            ("name", Value::str("shop")),
            ("resource_group", Value::str("shop-prod")),
            ("location", Value::str("westeurope")),
            ("address_space", Value::list(["10.20.0.0/16"])),
            ("dns_servers", Value::List(vec![])),
            ("tags", Value::map::<&str, Value>([])),
        ],
    );
    needing(vnet, &["resource_group.shop"])
}

pub fn subnet(name: &str, prefix: &str) -> Resource {
    let subnet = resource(
        &format!("vnet.shop.subnet.{name}"),
        &[("name", Value::str(name)), ("prefix", Value::str(prefix)), ("service_endpoints", Value::List(vec![]))],
    );
    needing(subnet, &["vnet.shop"])
}

pub fn cluster(version: &str) -> Resource {
    let mut cluster = resource(
        "cluster.shop",
        &[
            ("name", Value::str("shop")),
            ("resource_group", Value::str("shop-prod")),
            ("location", Value::str("westeurope")),
            ("kubernetes_version", Value::str(version)),
            ("dns_prefix", Value::str("shop")),
            ("sku_tier", Value::str("Standard")),
            ("identity", Value::str("SystemAssigned")),
            ("node_resource_group", Value::str("MC_shop-prod_shop_westeurope")),
            ("network_plugin", Value::str("azure")),
            ("network_plugin_mode", Value::str("overlay")),
            ("network_policy", Value::str("cilium")),
            ("pod_cidr", Value::str("192.168.0.0/16")),
            ("service_cidr", Value::str("10.0.0.0/16")),
            ("dns_service_ip", Value::str("10.0.0.10")),
            ("outbound_type", Value::str("loadBalancer")),
            ("load_balancer_sku", Value::str("standard")),
            ("tags", Value::map::<&str, Value>([])),
        ],
    );
    cluster.allow_replace = false;
    needing(cluster, &["resource_group.shop"])
}

pub fn node_pool(name: &str, count: i64, max_pods: i64) -> Resource {
    let pool = resource(
        &format!("cluster.shop.node_pool.{name}"),
        &[
            ("name", Value::str(name)),
            ("vm_size", Value::str("Standard_D4s_v5")),
            ("count", Value::Int(count)),
            ("autoscale", Value::Bool(false)),
            ("min_count", Value::Null),
            ("max_count", Value::Null),
            ("max_pods", Value::Int(max_pods)),
            ("mode", Value::str(if name == "system" { "System" } else { "User" })),
            ("os_type", Value::str("Linux")),
            ("subnet", Value::str("vnet.shop.subnet.nodes")),
            ("pod_subnet", Value::Null),
            ("zones", Value::List(vec![])),
            ("max_surge", Value::str("1")),
            ("labels", Value::map([("pool", name)])),
            ("taints", Value::List(vec![])),
        ],
    );
    needing(pool, &["cluster.shop", "vnet.shop.subnet.nodes"])
}

/// A public IP in the cluster's node resource group, where AKS's load balancer can use it.
pub fn public_ip(name: &str) -> Resource {
    let ip = resource(
        &format!("public_ip.{name}"),
        &[
            ("name", Value::str(format!("shop-{name}"))),
            ("resource_group", Value::str("MC_shop-prod_shop_westeurope")),
            ("location", Value::str("westeurope")),
            ("sku", Value::str("Standard")),
            ("allocation", Value::str("Static")),
            ("version", Value::str("IPv4")),
            ("zones", Value::List(vec![])),
            ("dns_label", Value::str(format!("shop-{name}"))),
            ("fqdn", Value::str(format!("shop-{name}.westeurope.cloudapp.azure.com"))),
            ("idle_timeout_minutes", Value::Int(4)),
            ("tags", Value::map::<&str, Value>([])),
        ],
    );
    needing(ip, &["cluster.shop"])
}

pub fn namespace() -> Resource {
    let namespace = resource(
        "namespace.shop",
        &[
            ("name", Value::str("shop")),
            ("cluster", Value::str("cluster.shop")),
            ("labels", Value::map::<&str, Value>([])),
            ("annotations", Value::map::<&str, Value>([])),
        ],
    );
    needing(namespace, &["cluster.shop"])
}

/// A LoadBalancer Service on the public IP `public_ip.<ip>`.
pub fn service(ip: &str) -> Resource {
    let port = |name: &str, port: i64, target: i64| {
        Value::map([
            ("name", Value::str(name)),
            ("port", Value::Int(port)),
            ("protocol", Value::str("TCP")),
            ("target_port", Value::Int(target)),
        ])
    };
    let service = resource(
        "service.web",
        &[
            ("name", Value::str("web")),
            ("namespace", Value::str("shop")),
            ("cluster", Value::str("cluster.shop")),
            ("type", Value::str("LoadBalancer")),
            ("selector", Value::map([("app", "web")])),
            ("ports", Value::List(vec![port("http", 80, 8080), port("https", 443, 8443)])),
            ("cluster_ip", Value::Null),
            ("external_name", Value::Null),
            (
                "load_balancer",
                Value::map([("internal", Value::Bool(false)), ("public_ip", Value::str(format!("shop-{ip}")))]),
            ),
            ("session_affinity", Value::str("None")),
            ("labels", Value::map::<&str, Value>([])),
            ("annotations", Value::map::<&str, Value>([])),
        ],
    );
    needing(service, &["cluster.shop", "namespace.shop", &format!("public_ip.{ip}")])
}

pub fn dns_zone() -> Resource {
    let zone = resource(
        "dns_zone.\"example.com\"",
        &[
            ("name", Value::str("example.com")),
            ("resource_group", Value::str("shop-prod")),
            ("tags", Value::map::<&str, Value>([])),
        ],
    );
    needing(zone, &["resource_group.shop"])
}

/// An A record for the Service's load-balancer address.
pub fn dns_record() -> Resource {
    let record = resource(
        "dns_record.shop",
        &[
            ("name", Value::str("shop")),
            ("zone", Value::str("example.com")),
            ("type", Value::str("A")),
            ("ttl", Value::Int(300)),
            ("records", Value::List(vec![reference("service.web", "address")])),
            ("cname", Value::Null),
        ],
    );
    needing(record, &["dns_zone.\"example.com\"", "service.web"])
}

/// Values the cloud gave the recorded resources.
pub const RECORDED_VALUES: &[(&str, &str)] = &[
    ("cluster.shop.fqdn", "shop-1a2b3c4d.hcp.westeurope.azmk8s.io"),
    ("dns_zone.\"example.com\".name_servers", "ns1-01.azure-dns.com."),
    ("public_ip.old.address", "20.61.0.4"),
    ("public_ip.web.address", "20.61.0.9"),
    ("service.web.address", "20.61.0.9"),
];

pub fn recorded_values() -> Vec<(&'static str, Value)> {
    RECORDED_VALUES.iter().map(|(k, v)| (*k, Value::str(*v))).collect()
}

pub fn record(resource: &Resource) -> ResourceState {
    recorded(resource, &recorded_values())
}

/// A stack already applied, and the changed stack a user wants next: a new subnet, a newer
/// Kubernetes version, more system nodes, an apps pool with more pods per node (replaced), a
/// public IP and a Service behind it, a DNS record for it, and an old public IP gone.
pub fn realistic() -> (Vec<Resource>, State) {
    let before = vec![
        resource_group(),
        vnet(),
        subnet("nodes", "10.20.0.0/22"),
        cluster("1.29"),
        node_pool("system", 3, 110),
        node_pool("apps", 2, 30),
        public_ip("old"),
        namespace(),
        dns_zone(),
    ];
    let recorded_state = state(before.iter().map(record).collect());
    let mut apps = node_pool("apps", 2, 50);
    apps.attributes.insert("labels".into(), Value::map([("pool", "apps"), ("team", "checkout")]));
    let after = vec![
        resource_group(),
        vnet(),
        subnet("nodes", "10.20.0.0/22"),
        subnet("ilb", "10.20.8.0/24"),
        cluster("1.30"),
        node_pool("system", 5, 110),
        apps,
        public_ip("web"),
        namespace(),
        service("web"),
        dns_zone(),
        dns_record(),
    ];
    (after, recorded_state)
}

/// The resource without what it refers to: references replaced by the recorded values and
/// no dependencies, for tests that plan it alone.
pub fn standalone(mut resource: Resource) -> Resource {
    let values: BTreeMap<String, Value> = recorded_values().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    for value in resource.attributes.values_mut() {
        *value = value.resolve(&mut |r| values.get(&r.to_string()).cloned().unwrap_or_default());
    }
    resource.depends_on.clear();
    resource
}
