//! The emulator with a client no one here wrote: Microsoft's Python management SDKs (from
//! PyPI, pinned), which send their own default api-versions, poll long-running operations
//! their way, follow `nextLink` with their pagers and PUT back what they read. Each test runs
//! one script (after `testkit/python/azure_mgmt_prelude.py`) against an emulator of its own that pages every
//! two resources, and checks what the script saw and what the emulator holds.

mod common;

use aksform_sandbox::arm::{
    CONTAINER_SERVICE_API_VERSIONS, DNS_API_VERSIONS, EmulatorOptions, LatencySettings, NETWORK_API_VERSIONS,
    RESOURCES_API_VERSIONS,
};
use aksform_testkit::azure_mgmt;
use common::{Arm, SUB, network, rg};
use serde_json::{Value, json};

/// The api-versions those packages send by default (their `_configuration.py`).
const SDK_VERSIONS: [(&str, &[&str]); 4] = [
    ("2025-04-01", RESOURCES_API_VERSIONS),
    ("2026-03-01", NETWORK_API_VERSIONS),
    ("2026-08-01", CONTAINER_SERVICE_API_VERSIONS),
    ("2018-05-01", DNS_API_VERSIONS),
];

/// An emulator whose lists page every two resources.
fn emulator() -> Arm {
    Arm::start_with(EmulatorOptions {
        latency: LatencySettings { default_ms: 30, ..Default::default() },
        page_size: 2,
        ..Default::default()
    })
}

/// Runs the prelude and `script` against `arm`; every line the script printed, as JSON.
fn python(arm: &Arm, script: &str) -> Vec<Value> {
    let target = azure_mgmt::Target { url: arm.emulator.url(), token: arm.emulator.token(), subscription: SUB };
    azure_mgmt::run(&target, script)
}

/// [`python`] against a new emulator that has the resource group `rg`.
fn in_group(script: &str) -> (Arm, Vec<Value>) {
    let arm = emulator();
    arm.group("rg");
    let seen = python(&arm, script);
    (arm, seen)
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().unwrap_or_else(|| panic!("not an array: {value}")).iter().map(|v| v.as_str().unwrap()).collect()
}

/// Every api-version the script sent is one the emulator serves, and the SDKs' defaults are
/// among them.
fn sent_the_sdk_defaults(versions: &Value, expected: &[&str]) {
    let versions = strings(versions);
    for version in expected {
        assert!(versions.contains(version), "{version} not sent: {versions:?}");
    }
    for version in &versions {
        assert!(SDK_VERSIONS.iter().any(|(_, served)| served.contains(version)), "{version} is not served");
    }
}

#[test]
fn groups_networks_and_public_ips_are_created_polled_and_listed_page_by_page() {
    let arm = emulator();
    let seen = python(
        &arm,
        r#"
for name in ["one", "two", "three"]:
    group = resources.resource_groups.create_or_update(name, {"location": "eastus", "tags": {"by": "python"}})
out({"group": group.as_dict()})
out({"groupPages": [[g.name for g in page] for page in resources.resource_groups.list().by_page()]})

poller = network.virtual_networks.begin_create_or_update("one", "hub", {
    "location": "eastus",
    "properties": {
        "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
        "subnets": [{"name": n, "properties": {"addressPrefix": p}}
                    for n, p in [("a", "10.1.0.0/24"), ("b", "10.1.1.0/24"), ("c", "10.1.2.0/24")]],
    },
})
vnet = poller.result()
out({"pollerStatus": poller.status(), "vnet": vnet.as_dict()})
create_vnet("one", "spoke", "10.2.0.0/16")
network.virtual_networks.begin_create_or_update("two", "edge", {
    "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.3.0.0/16"]}}}).result()
ip = network.public_ip_addresses.begin_create_or_update("one", "ingress", {
    "location": "eastus", "sku": {"name": "Standard"},
    "properties": {"publicIPAllocationMethod": "Static", "dnsSettings": {"domainNameLabel": "shop"}}}).result()
out({"ip": ip.as_dict()})

out({"subnetPages": [[s.name for s in page] for page in network.subnets.list("one", "hub").by_page()]})
out({"vnetsInOne": [v.name for v in network.virtual_networks.list("one")]})
out({"allVnetPages": [[v.name for v in page] for page in network.virtual_networks.list_all().by_page()]})
out({"ips": [i.ip_address for i in network.public_ip_addresses.list_all()]})
out({"versions": versions_sent(),
     "asyncPolls": len([r for r in SENT if "/operations/" in r["path"]])})
"#,
    );
    let group = &seen[0]["group"];
    assert_eq!(group["id"], rg("three"));
    assert_eq!(group["properties"]["provisioningState"], "Succeeded");
    assert_eq!(seen[1]["groupPages"], json!([["one", "two"], ["three"]]));

    assert_eq!(seen[2]["pollerStatus"], "Succeeded");
    let vnet = &seen[2]["vnet"];
    assert_eq!(vnet["properties"]["provisioningState"], "Succeeded");
    let subnets = vnet["properties"]["subnets"].as_array().unwrap();
    assert_eq!(subnets.len(), 3);
    assert!(subnets.iter().all(|s| s["properties"]["provisioningState"] == "Succeeded"), "{subnets:?}");
    let ip = &seen[3]["ip"];
    assert!(ip["properties"]["ipAddress"].as_str().unwrap().starts_with("203.0.113."), "{ip}");
    assert_eq!(ip["properties"]["dnsSettings"]["fqdn"], "shop.eastus.cloudapp.azure.com");

    // Three subnets at two a page: the pager followed one nextLink.
    assert_eq!(seen[4]["subnetPages"], json!([["a", "b"], ["c"]]));
    assert_eq!(seen[5]["vnetsInOne"], json!(["hub", "spoke"]));
    assert_eq!(seen[6]["allVnetPages"], json!([["hub", "spoke"], ["edge"]]));
    assert_eq!(strings(&seen[7]["ips"]), [ip["properties"]["ipAddress"].as_str().unwrap()]);
    sent_the_sdk_defaults(&seen[8]["versions"], &["2025-04-01", "2026-03-01"]);
    assert!(seen[8]["asyncPolls"].as_u64().unwrap() >= 4, "the SDK polled Azure-AsyncOperation: {}", seen[8]);

    let held =
        arm.emulator.resource(&format!("{}/providers/Microsoft.Network/virtualNetworks/hub/subnets/c", rg("one")));
    assert_eq!(held.expect("subnet c")["properties"]["addressPrefix"], "10.1.2.0/24");
}

#[test]
fn a_virtual_network_read_modified_and_put_back_keeps_what_it_had() {
    let (arm, seen) = in_group(
        r#"
create_vnet("rg", "hub", "10.1.0.0/16", [("aks", "10.1.0.0/22")])
from azure.mgmt.network.models import Subnet

def last_put():
    return [r for r in SENT if r["method"] == "PUT"][-1]["body"]

# The model: the SDK leaves out what its API marks read-only and sends the rest back.
vnet = network.virtual_networks.get("rg", "hub")
before = vnet.as_dict()
vnet.address_space.address_prefixes.append("10.2.0.0/16")
vnet.subnets.append(Subnet(name="pods", address_prefix="10.2.0.0/20"))
vnet.tags = {"env": "prod"}
after = network.virtual_networks.begin_create_or_update("rg", "hub", vnet).result()
out({"before": before, "after": after.as_dict(), "put": last_put()})

# The body as read, read-only members and all, with one change.
body = network.virtual_networks.get("rg", "hub").as_dict()
body["properties"]["subnets"] = [s for s in body["properties"]["subnets"] if s["name"] != "pods"]
again = network.virtual_networks.begin_create_or_update("rg", "hub", body).result()
out({"put": last_put(), "after": again.as_dict()})

stale = network.virtual_networks.get("rg", "hub").as_dict()
stale["properties"]["resourceGuid"] = "00000000-0000-0000-0000-000000000000"
moved = network.virtual_networks.get("rg", "hub")
moved.subnets[0].id = moved.id + "/subnets/elsewhere"
out({"changedGuid": error_of(lambda: network.virtual_networks.begin_create_or_update("rg", "hub", stale).result()),
     "changedSubnetId": error_of(lambda: network.virtual_networks.begin_create_or_update("rg", "hub", moved).result())})
"#,
    );
    let (before, after, put) = (&seen[0]["before"], &seen[0]["after"], &seen[0]["put"]);
    // The model went back with its ids and (empty) peerings, which ARM does not let a PUT set.
    assert_eq!(put["id"], before["id"]);
    assert_eq!(put["properties"]["subnets"][0]["id"], before["properties"]["subnets"][0]["id"]);
    assert_eq!(put["properties"]["virtualNetworkPeerings"], json!([]));
    assert_eq!(after["properties"]["resourceGuid"], before["properties"]["resourceGuid"]);
    assert_eq!(after["properties"]["addressSpace"]["addressPrefixes"], json!(["10.1.0.0/16", "10.2.0.0/16"]));
    let names = |vnet: &Value| -> Vec<String> {
        vnet["properties"]["subnets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(after), ["aks", "pods"]);
    assert_eq!(after["tags"], json!({ "env": "prod" }));
    assert_ne!(after["etag"], before["etag"], "a write gives a new etag");

    // The whole body as read: etags, states and the guid equal the current ones and are ignored.
    let (put, again) = (&seen[1]["put"], &seen[1]["after"]);
    assert_eq!(put["etag"], after["etag"]);
    assert_eq!(put["properties"]["provisioningState"], "Succeeded");
    assert_eq!(put["properties"]["resourceGuid"], before["properties"]["resourceGuid"]);
    assert!(put["properties"]["subnets"][0]["etag"].is_string(), "{put}");
    assert_eq!(names(again), ["aks"]);
    assert_eq!(again["properties"]["resourceGuid"], before["properties"]["resourceGuid"]);

    for (refused, target) in [
        (&seen[2]["changedGuid"], "properties.resourceGuid"),
        (&seen[2]["changedSubnetId"], "properties.subnets[0].id"),
    ] {
        assert_eq!(
            (refused["status"].as_u64(), refused["code"].as_str()),
            (Some(400), Some("ReadOnlyPropertyNotAllowed"))
        );
        assert!(refused["message"].as_str().unwrap().contains(&format!("'{target}'")), "{refused}");
    }
    let held = arm.emulator.resource(&format!("{}/providers/Microsoft.Network/virtualNetworks/hub", rg("rg"))).unwrap();
    assert_eq!(held["properties"]["resourceGuid"], before["properties"]["resourceGuid"]);
    assert_eq!(names(&held), ["aks"]);
}

#[test]
fn providers_read_registered_with_the_versions_the_sdks_send() {
    let arm = emulator();
    let seen = python(
        &arm,
        r#"
provider = resources.providers.get("Microsoft.Network")
out({"provider": provider.as_dict()})
out({"namespaces": [p.namespace for p in resources.providers.list()]})
out({"missing": error_of(lambda: resources.providers.get("Microsoft.Compute"))})
"#,
    );
    let provider = &seen[0]["provider"];
    assert_eq!(provider["namespace"], "Microsoft.Network");
    assert_eq!(provider["registrationState"], "Registered");
    let types = provider["resourceTypes"].as_array().unwrap();
    let vnets = types.iter().find(|t| t["resourceType"] == "virtualNetworks").expect("virtualNetworks");
    assert!(strings(&vnets["apiVersions"]).contains(&"2026-03-01"));
    assert!(strings(&vnets["locations"]).contains(&"East US"));
    let zones = types.iter().find(|t| t["resourceType"] == "dnsZones").expect("dnsZones");
    assert_eq!(zones["locations"], json!(["global"]));
    // Three namespaces at two a page: one nextLink.
    assert_eq!(
        seen[1]["namespaces"],
        json!(["Microsoft.Resources", "Microsoft.Network", "Microsoft.ContainerService"])
    );
    assert_eq!(seen[2]["missing"]["code"], "InvalidResourceNamespace");
}

#[test]
fn a_subnet_naming_a_missing_route_table_or_security_group_is_refused_as_azure_does() {
    let (_arm, seen) = in_group(
        r#"
create_vnet("rg", "hub", "10.1.0.0/16")
table = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/egress"
group = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nodes"
out({"routeTable": error_of(lambda: network.subnets.begin_create_or_update("rg", "hub", "aks", {
    "properties": {"addressPrefix": "10.1.0.0/22", "routeTable": {"id": table}}}).result())})
out({"securityGroup": error_of(lambda: network.subnets.begin_create_or_update("rg", "hub", "aks", {
    "properties": {"addressPrefix": "10.1.0.0/22", "networkSecurityGroup": {"id": group}}}).result())})
network.route_tables.begin_create_or_update("rg", "egress", {"location": "eastus", "properties": {"routes": [
    {"name": "default", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "Internet"}}]}}).result()
subnet = network.subnets.begin_create_or_update("rg", "hub", "aks", {
    "properties": {"addressPrefix": "10.1.0.0/22", "routeTable": {"id": table}}}).result()
out({"subnet": subnet.as_dict(), "tableSubnets": [s.id for s in network.route_tables.get("rg", "egress").subnets]})
"#,
    );
    let table_id = format!("{}/providers/Microsoft.Network/routeTables/egress", rg("rg"));
    let subnet_id = format!("{}/providers/Microsoft.Network/virtualNetworks/hub/subnets/aks", rg("rg"));
    let refused = &seen[0]["routeTable"];
    assert_eq!((refused["status"].as_u64(), refused["code"].as_str()), (Some(400), Some("InvalidResourceReference")));
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("Resource {table_id} referenced by resource {subnet_id} was not found")),
        "{message}"
    );
    assert_eq!(seen[1]["securityGroup"]["code"], "InvalidResourceReference");
    // Once the table exists the same subnet is made, and the table lists it back.
    assert_eq!(seen[2]["subnet"]["properties"]["routeTable"]["id"], table_id);
    assert_eq!(seen[2]["tableSubnets"], json!([subnet_id]));
}

#[test]
fn container_service_and_dns_clients_list_at_their_default_versions() {
    let (arm, seen) = in_group(
        r#"
out({"clusters": [c.name for c in containers.managed_clusters.list()],
     "inGroup": [c.name for c in containers.managed_clusters.list_by_resource_group("rg")]})
out({"pools": error_of(lambda: list(containers.agent_pools.list("rg", "absent")))})
dns.zones.create_or_update("rg", "example.com", {"location": "global"})
for name in ["www", "api", "cdn"]:
    dns.record_sets.create_or_update("rg", "example.com", name, "A",
                                     {"ttl": 300, "a_records": [{"ipv4_address": "203.0.113.9"}]})
dns.record_sets.create_or_update("rg", "example.com", "shop", "CNAME",
                                 {"ttl": 300, "cname_record": {"cname": "www.example.com"}})
out({"recordPages": [[r.name for r in page] for page in dns.record_sets.list_by_dns_zone("rg", "example.com").by_page()],
     "aRecords": [r.name for r in dns.record_sets.list_by_type("rg", "example.com", "A")],
     "zones": [z.name for z in dns.zones.list_by_resource_group("rg")]})
out({"versions": versions_sent()})
"#,
    );
    assert_eq!(seen[0], json!({ "clusters": [], "inGroup": [] }));
    assert_eq!(
        (seen[1]["pools"]["status"].as_u64(), seen[1]["pools"]["code"].as_str()),
        (Some(404), Some("ResourceNotFound"))
    );
    assert_eq!(seen[2]["recordPages"], json!([["www", "api"], ["cdn", "shop"]]));
    assert_eq!(seen[2]["aRecords"], json!(["www", "api", "cdn"]));
    assert_eq!(seen[2]["zones"], json!(["example.com"]));
    sent_the_sdk_defaults(&seen[3]["versions"], &["2026-08-01", "2018-05-01"]);
    let zone = arm.get(&network("rg", "dnsZones/example.com")).expect(&[200]);
    assert_eq!(zone.body["properties"]["numberOfRecordSets"], 6);
}
