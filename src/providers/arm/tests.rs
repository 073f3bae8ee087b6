//! Request bodies against ARM's published examples, and reads back into the attributes the
//! model produces, for every Azure resource of every example stack.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value as Json, json};

use super::*;
use crate::model::{Resource, Value};
use crate::plan::diff;

const SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000001";

fn example(name: &str) -> Vec<Resource> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name);
    let env = |var: &str| (var == "AZURE_SUBSCRIPTION_ID").then(|| SUBSCRIPTION.to_string());
    let loaded = crate::loading::load(&dir, &crate::loading::Options::default(), &env).expect("example loads");
    let mut resources = loaded.stack.resources();
    // Values known only after apply, filled in as the executor would.
    for r in &mut resources {
        for v in r.attributes.values_mut() {
            *v = v.resolve(&mut |r| Value::str(format!("<{r}>")));
        }
    }
    resources
}

fn examples() -> Vec<String> {
    aksform_testkit::example_stacks()
        .iter()
        .map(|dir| dir.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// Every body an apply from empty sends for the example, by address, with its path.
fn create_bodies(resources: &[Resource]) -> BTreeMap<String, (String, Json)> {
    let resolver = Resolver::new(Some(SUBSCRIPTION.into()), resources, None);
    let provider = ArmProvider::new(
        ArmClient::new(
            cloud::Cloud::custom("http://127.0.0.1:1", None, None).unwrap(),
            Arc::new(credentials::Chain::from_token("t")),
        ),
        resolver,
    );
    resources
        .iter()
        .filter(|r| !r.address.kind.is_kubernetes())
        .map(|r| {
            let request = ApplyRequest { address: &r.address, attributes: &r.attributes, provider_id: None };
            let path = provider.resolver.path_of(&r.address).unwrap();
            let body = provider.body(&request, true).unwrap_or_else(|e| panic!("{}: {e}", r.address));
            (r.address.to_string(), (path, body))
        })
        .collect()
}

#[test]
fn create_bodies_of_every_example() {
    for name in examples() {
        let bodies: BTreeMap<String, Json> = create_bodies(&example(&name))
            .into_iter()
            .map(|(address, (path, body))| (address, json!({ "path": path, "body": body })))
            .collect();
        insta::assert_json_snapshot!(format!("create_bodies_{name}"), bodies);
    }
}

/// Property paths of a JSON body (`properties.networkProfile.serviceCidr`,
/// `properties.agentPoolProfiles[].name`); map keys under tags and the like become `*`.
fn paths(value: &Json, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Json::Object(map) => {
            let free_keys =
                ["tags", "nodeLabels", "userAssignedIdentities", "metadata"].iter().any(|k| prefix.ends_with(k));
            for (k, v) in map {
                let key = if free_keys { "*" } else { k.as_str() };
                let path = if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
                out.insert(path.clone());
                paths(v, &path, out);
            }
        }
        Json::Array(items) => {
            for item in items {
                paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// The request-body properties of Microsoft's examples for a resource type.
fn published(files: &[&str]) -> BTreeSet<String> {
    let dir = Path::new("/work/shared/reference/arm-examples");
    let mut out = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let example: Json = serde_json::from_str(&text).unwrap();
        let parameters = example["parameters"].as_object().unwrap();
        for key in ["parameters", "subnetParameters"] {
            if let Some(body) = parameters.get(key) {
                paths(body, "", &mut out);
            }
        }
        // One example puts `zones` beside the body rather than in it.
        if parameters.contains_key("zones") {
            out.insert("zones".into());
        }
    }
    out
}

/// Properties the specs define that no example at hand shows, with where they come from.
fn documented(kind: Kind) -> &'static [&'static str] {
    match kind {
        // arm-aks-facts.md §1.2 (2024-09-01 PUT body) and the examples README: azure, overlay
        // and vnetSubnetID bodies have the kubenet shape with these fields.
        Kind::Cluster => &[
            "identity.type",
            "properties.networkProfile.networkPlugin",
            "properties.networkProfile.networkPluginMode",
            "properties.networkProfile.networkPolicy",
            "properties.networkProfile.podCidr",
            "properties.networkProfile.serviceCidr",
            "properties.networkProfile.dnsServiceIP",
            "properties.nodeResourceGroup",
            // 2024-09-01 ManagedClusterIngressProfile: webAppRouting { enabled, dnsZoneResourceIds }.
            "properties.ingressProfile",
            "properties.ingressProfile.webAppRouting",
            "properties.ingressProfile.webAppRouting.enabled",
            "properties.agentPoolProfiles[].maxPods",
            "properties.agentPoolProfiles[].vnetSubnetID",
            "properties.agentPoolProfiles[].podSubnetID",
            "properties.agentPoolProfiles[].enableAutoScaling",
            "properties.agentPoolProfiles[].minCount",
            "properties.agentPoolProfiles[].maxCount",
            "properties.agentPoolProfiles[].upgradeSettings",
            "properties.agentPoolProfiles[].upgradeSettings.maxSurge",
            "properties.agentPoolProfiles[].nodeLabels",
            "properties.agentPoolProfiles[].nodeLabels.*",
            "properties.agentPoolProfiles[].nodeTaints",
            "properties.agentPoolProfiles[].tags",
            "properties.agentPoolProfiles[].tags.*",
        ],
        Kind::NodePool => &[
            "properties.type",
            "properties.maxPods",
            "properties.vnetSubnetID",
            "properties.podSubnetID",
            "properties.availabilityZones",
            "properties.enableAutoScaling",
            "properties.minCount",
            "properties.maxCount",
            "properties.upgradeSettings",
            "properties.upgradeSettings.maxSurge",
        ],
        // virtualNetwork.json 2024-05-01, VirtualNetworkPeeringPropertiesFormat.
        Kind::Peering => &[
            "properties",
            "properties.remoteVirtualNetwork",
            "properties.remoteVirtualNetwork.id",
            "properties.allowVirtualNetworkAccess",
            "properties.allowForwardedTraffic",
            "properties.allowGatewayTransit",
            "properties.useRemoteGateways",
        ],
        // routeTable.json 2024-05-01: RouteTable (location, tags, RouteTablePropertiesFormat) and
        // Route (name, RoutePropertiesFormat); no example of it is at hand.
        Kind::RouteTable => &[
            "location",
            "tags",
            "tags.*",
            "properties",
            "properties.disableBgpRoutePropagation",
            "properties.routes",
            "properties.routes[].name",
            "properties.routes[].properties",
            "properties.routes[].properties.addressPrefix",
            "properties.routes[].properties.nextHopType",
            "properties.routes[].properties.nextHopIpAddress",
        ],
        // natGateway.json 2024-05-01: NatGateway (location, tags, zones, sku.name,
        // NatGatewayPropertiesFormat); no example of it is at hand.
        Kind::NatGateway => &[
            "location",
            "tags",
            "tags.*",
            "zones",
            "sku",
            "sku.name",
            "properties",
            "properties.idleTimeoutInMinutes",
            "properties.publicIpAddresses",
            "properties.publicIpAddresses[].id",
        ],
        // arm-aks-facts.md §3.1: a subnet's `routeTable {id}` and `natGateway {id}`.
        Kind::Subnet => {
            &["properties.routeTable", "properties.routeTable.id", "properties.natGateway", "properties.natGateway.id"]
        }
        Kind::ResourceGroup | Kind::Vnet | Kind::PublicIp | Kind::DnsZone | Kind::DnsRecord => &["tags", "tags.*"],
        // Microsoft.Authorization 2022-04-01 RoleAssignmentCreateParameters: properties with
        // roleDefinitionId, principalId and principalType (Role Assignments - Create).
        Kind::RoleAssignment => {
            &["properties", "properties.roleDefinitionId", "properties.principalId", "properties.principalType"]
        }
        _ => &[],
    }
}

fn examples_of(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::ResourceGroup => &["resources/2024-07-01/CreateResourceGroup.json"],
        Kind::Vnet => &["network/2024-07-01/VirtualNetworkCreateSubnet.json"],
        Kind::Subnet => {
            &["network/2024-07-01/SubnetCreate.json", "network/2024-05-01/SubnetCreateServiceEndpoint.json"]
        }
        Kind::PublicIp => &[
            "network/2024-05-01/PublicIpAddressCreateCustomizedValues.json",
            "network/2024-07-01/PublicIpAddressCreateDns.json",
        ],
        Kind::Cluster => &[
            "containerservice/2024-09-01/ManagedClustersCreate_Update.json",
            "containerservice/2024-09-01/ManagedClustersCreate_DualStackNetworking.json",
            "containerservice/2024-09-01/ManagedClustersCreate_UserAssignedNATGateway.json",
        ],
        Kind::NodePool => &["containerservice/2024-09-01/AgentPoolsCreate_Update.json"],
        Kind::DnsZone => &["dns/2018-05-01/CreateOrUpdateZone.json"],
        Kind::DnsRecord => {
            &["dns/2018-05-01/CreateOrUpdateARecordset.json", "dns/2018-05-01/CreateOrUpdateCNAMERecordset.json"]
        }
        _ => &[],
    }
}

#[test]
fn bodies_use_only_published_property_names() {
    for name in examples() {
        let resources = example(&name);
        for (address, (_, body)) in create_bodies(&resources) {
            let kind: Address = address.parse().unwrap();
            let mut allowed = published(examples_of(kind.kind));
            allowed.extend(documented(kind.kind).iter().map(|s| s.to_string()));
            let mut sent = BTreeSet::new();
            paths(&body, "", &mut sent);
            // Never a read-only property, nor subnets in a virtual network.
            for forbidden in ["provisioningState", "fqdn", "ipAddress", "nameServers", "subnets"] {
                assert!(!sent.iter().any(|p| p.rsplit('.').next() == Some(forbidden)), "{address} sends {forbidden}");
            }
            assert!(!sent.contains("id") && !sent.contains("name") && !sent.contains("type"), "{address}: {sent:?}");
            let unknown: Vec<&String> = sent.iter().filter(|p| !allowed.contains(*p)).collect();
            assert!(
                unknown.is_empty(),
                "{name}: {address} sends properties no example or spec note shows: {unknown:?}"
            );
        }
    }
}

/// What ARM answers to a body: the body with the id, name and read-only fields it adds.
fn as_returned(path: &str, body: &Json, kind: Kind) -> Json {
    let mut live = body.clone();
    live["id"] = json!(path.replace("/resourceGroups/", "/resourcegroups/"));
    live["name"] = json!(path.rsplit('/').next().unwrap());
    if let Some(location) = live.get("location").and_then(Json::as_str) {
        live["location"] = json!(location.to_ascii_lowercase());
    }
    if live.get("properties").is_none() {
        live["properties"] = json!({});
    }
    live["properties"]["provisioningState"] = json!("Succeeded");
    match kind {
        Kind::PublicIp => live["properties"]["ipAddress"] = json!("20.0.0.1"),
        Kind::Cluster => {
            live["properties"]["fqdn"] = json!("shop-1.hcp.westeurope.azmk8s.io");
            live["properties"]["networkProfile"]["serviceCidrs"] =
                live["properties"]["networkProfile"]["serviceCidr"].clone();
        }
        Kind::DnsZone => live["properties"]["nameServers"] = json!(["ns1-01.azure-dns.com."]),
        Kind::DnsRecord => {
            live["type"] = json!(format!("Microsoft.Network/dnsZones/{}", path.rsplit('/').nth(1).unwrap()))
        }
        Kind::Subnet => {
            // The network echoes each endpoint with the locations it serves.
            if let Some(endpoints) = live["properties"]["serviceEndpoints"].as_array_mut() {
                for e in endpoints {
                    e["locations"] = json!(["westeurope"]);
                }
            }
        }
        _ => {}
    }
    live
}

#[test]
fn what_is_applied_reads_back_without_changes() {
    for name in examples() {
        let resources = example(&name);
        let bodies = create_bodies(&resources);
        let resolver = Resolver::new(Some(SUBSCRIPTION.into()), &resources, None);
        for r in resources.iter().filter(|r| !r.address.kind.is_kubernetes()) {
            let (path, body) = &bodies[&r.address.to_string()];
            let live = as_returned(path, body, r.address.kind);
            let recorded = &r.attributes;
            let observed = type_of(r.address.kind).unwrap().observed(&live, recorded, &resolver);
            let changes = diff::compare(r.address.kind, recorded, &observed, r.computed);
            assert!(changes.is_empty(), "{name}: {} reads back changed: {changes:?}", r.address);
            for field in r.computed {
                assert_ne!(observed.get(*field), None, "{}: computed {field} not read", r.address);
            }
        }
    }
}

#[test]
fn published_get_responses_read_into_attributes() {
    let read = |file: &str| -> Json {
        let text = std::fs::read_to_string(Path::new("/work/shared/reference/arm-examples").join(file)).unwrap();
        serde_json::from_str::<Json>(&text).unwrap()["responses"]["200"]["body"].clone()
    };
    let cluster = cluster::Cluster.observed(
        &read("containerservice/2024-09-01/ManagedClustersGet.json"),
        &Attributes::new(),
        &Resolver::default(),
    );
    assert_eq!(cluster["network_plugin"], Value::str("kubenet"));
    assert_eq!(cluster["service_cidr"], Value::str("10.0.0.0/16"));
    assert_eq!(cluster["dns_service_ip"], Value::str("10.0.0.10"));
    assert_eq!(cluster["pod_cidr"], Value::str("10.244.0.0/16"));
    assert_eq!(cluster["network_policy"], Value::str("none"));
    assert_eq!(cluster["fqdn"], Value::str("dnsprefix1-abcd1234.hcp.eastus.azmk8s.io"));
    assert_eq!(cluster["node_resource_group"], Value::str("MC_rg1_clustername1_location1"));
    assert_eq!(cluster["kubernetes_version"], Value::Null, "a version the stack leaves to AKS");
    assert_eq!(cluster["web_app_routing"], Value::Bool(false), "no ingressProfile: no add-on");

    let ip = public_ip::PublicIp.observed(
        &read("network/2024-05-01/PublicIpAddressGet.json"),
        &Attributes::new(),
        &Resolver::default(),
    );
    assert_eq!(ip["allocation"], Value::str("Dynamic"));
    assert_eq!(ip["idle_timeout_minutes"], Value::Int(4));
    assert_eq!(ip["resource_group"], Value::str("rg1"));

    let record = dns_record::DnsRecord.observed(
        &read("dns/2018-05-01/GetARecordset.json"),
        &Attributes::new(),
        &Resolver::default(),
    );
    assert_eq!(record["type"], Value::str("A"));
    assert_eq!(record["ttl"], Value::Int(3600));
    assert_eq!(record["records"], Value::list(["127.0.0.1"]));
    assert_eq!(record["cname"], Value::Null);

    let subnet =
        subnet::Subnet.observed(&read("network/2024-05-01/SubnetGet.json"), &Attributes::new(), &Resolver::default());
    assert!(matches!(&subnet["prefix"], Value::Str(p) if p.contains('/')), "{subnet:?}");

    let pool = node_pool::NodePool.observed(
        &read("containerservice/2024-09-01/AgentPoolsGet.json"),
        &Attributes::new(),
        &Resolver::default(),
    );
    assert_eq!(pool["os_type"], Value::str("Linux"));
}

#[test]
fn a_cluster_update_carries_no_pools_and_a_pool_update_no_autoscaled_count() {
    let resources = example("shop");
    let resolver = Resolver::new(Some(SUBSCRIPTION.into()), &resources, None);
    let find = |a: &str| resources.iter().find(|r| r.address.to_string() == a).unwrap();
    let cluster = find("cluster.shop");
    let body = cluster::Cluster
        .body(&BodyRequest {
            fields: &Reader::new(&cluster.address).top(&cluster.attributes),
            address: &cluster.address,
            resolver: &resolver,
            creating: false,
        })
        .unwrap();
    assert!(body["properties"].get("agentPoolProfiles").is_none());
    // The add-on is part of every cluster body, so that an update turns it on or off.
    assert_eq!(body["properties"]["ingressProfile"], json!({ "webAppRouting": { "enabled": true } }));
    let apps = find("cluster.shop.node_pool.apps");
    let fields = Reader::new(&apps.address).top(&apps.attributes);
    let request = BodyRequest { fields: &fields, address: &apps.address, resolver: &resolver, creating: true };
    let create = node_pool::NodePool.body(&request).unwrap();
    let update = node_pool::NodePool.body(&BodyRequest { creating: false, ..request }).unwrap();
    assert_eq!(create["properties"]["count"], json!(3));
    assert!(update["properties"].get("count").is_none());
    assert_eq!(update["properties"]["nodeLabels"], json!({}));
}

#[test]
fn an_ip_configurations_address_is_read_from_its_holder() {
    let group = "/subscriptions/s/resourceGroups/rg";
    let nic = format!("{group}/providers/Microsoft.Network/networkInterfaces/nic-db");
    assert_eq!(super::address_holder(&format!("{nic}/ipConfigurations/ipconfig1")), Some((nic, "ipConfigurations")));
    let lb = format!("{group}/providers/Microsoft.Network/loadBalancers/lb");
    assert_eq!(
        super::address_holder(&format!("{lb}/frontendIPConfigurations/fe")),
        Some((lb, "frontendIPConfigurations"))
    );
    // A scale set's interfaces and unknown holders have no address read.
    let vmss = format!(
        "{group}/providers/Microsoft.Compute/virtualMachineScaleSets/aks/virtualMachines/0/networkInterfaces/n/ipConfigurations/c"
    );
    assert_eq!(super::address_holder(&vmss), None);
    assert_eq!(super::address_holder(&format!("{group}/providers/Microsoft.Network/bastionHosts/b/x/y")), None);
}
