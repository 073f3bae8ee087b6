//! ARM's protocol as the emulator serves it over HTTP: long-running operations, 404s, 409
//! while an operation runs, body checks, api-versions, authentication, request ids.

mod common;

use std::time::Duration;

use aksform_sandbox::arm::{EmulatorOptions, LatencySettings};
use common::{Arm, SUB, network, rg};
use serde_json::json;

fn vnet_body(prefix: &str) -> serde_json::Value {
    json!({ "location": "eastus", "properties": { "addressSpace": { "addressPrefixes": [prefix] } } })
}

#[test]
fn a_virtual_network_is_created_polled_updated_and_deleted_like_arm_does() {
    let arm = Arm::start_with(EmulatorOptions {
        latency: LatencySettings { default_ms: 300, ..Default::default() },
        ..Default::default()
    });
    arm.group("rg");
    let path = network("rg", "virtualNetworks/hub");

    let created = arm.put(&path, vnet_body("10.1.0.0/16")).expect(&[201]);
    assert_eq!(created.state(), "Creating");
    assert_eq!(
        created.body["id"],
        format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/hub")
    );
    assert_eq!(created.body["type"], "Microsoft.Network/virtualNetworks");
    let operation_url = created.header("azure-asyncoperation").unwrap();
    assert!(operation_url.contains("/providers/Microsoft.Network/locations/eastus/operations/"), "{operation_url}");
    assert!(operation_url.ends_with("?api-version=2024-05-01"));
    assert_eq!(created.header("retry-after"), Some("1"));
    // The time the operation still needs, for clients that read milliseconds.
    let millis: u64 = created.header("retry-after-ms").unwrap().parse().unwrap();
    assert!((250..=320).contains(&millis), "{millis}");
    assert_eq!(created.header("etag"), created.body["etag"].as_str());

    let running = arm.send(reqwest::Method::GET, operation_url, None).expect(&[200]);
    assert_eq!(running.body["status"], "InProgress");
    assert!(running.body["startTime"].is_string());
    assert_eq!(arm.get(&path).state(), "Creating");

    let done = arm.wait(&created);
    assert_eq!(done["status"], "Succeeded");
    assert!(done["endTime"].is_string());
    assert!(done.get("error").is_none());
    let shown = arm.get(&path).expect(&[200]).body;
    assert_eq!(shown["properties"]["provisioningState"], "Succeeded");
    assert!(shown["properties"]["resourceGuid"].is_string());
    assert_eq!(shown["properties"]["subnets"], json!([]));

    let updated = arm.put(&path, vnet_body("10.1.0.0/16")).expect(&[200]);
    assert_eq!(updated.state(), "Updating");
    assert_eq!(updated.body["properties"]["resourceGuid"], shown["properties"]["resourceGuid"]);
    arm.wait(&updated);

    let deleting = arm.delete(&path).expect(&[202]);
    let location = deleting.header("location").unwrap().to_string();
    assert!(deleting.header("azure-asyncoperation").is_some());
    assert!(deleting.header("retry-after").is_some());
    assert_eq!(arm.send(reqwest::Method::GET, &location, None).status, 202);
    assert_eq!(arm.get(&path).state(), "Deleting");
    arm.wait(&deleting);
    assert_eq!(arm.send(reqwest::Method::GET, &location, None).status, 204);
    arm.get(&path).expect_error(404, "ResourceNotFound");
    arm.delete(&path).expect(&[204]);
}

#[test]
fn every_network_and_dns_type_goes_through_create_and_delete() {
    let arm = Arm::start();
    let subnet = arm.network("rg");
    arm.create(&network("rg", "virtualNetworks/spoke"), vnet_body("10.2.0.0/16"));

    // Peering: Initiated until the other side peers back, then both Connected.
    let to_spoke = network("rg", "virtualNetworks/vnet/virtualNetworkPeerings/to-spoke");
    let spoke_id = format!("{}/providers/Microsoft.Network/virtualNetworks/spoke", rg("rg"));
    let vnet_id = format!("{}/providers/Microsoft.Network/virtualNetworks/vnet", rg("rg"));
    let peering = arm.create(&to_spoke, json!({ "properties": { "remoteVirtualNetwork": { "id": spoke_id } } }));
    assert_eq!(peering["properties"]["peeringState"], "Initiated");
    assert_eq!(peering["properties"]["remoteAddressSpace"]["addressPrefixes"], json!(["10.2.0.0/16"]));
    let to_vnet = network("rg", "virtualNetworks/spoke/virtualNetworkPeerings/to-vnet");
    let back = arm.create(
        &to_vnet,
        json!({ "properties": { "remoteVirtualNetwork": { "id": vnet_id }, "allowForwardedTraffic": true } }),
    );
    assert_eq!(back["properties"]["peeringState"], "Connected");
    assert_eq!(arm.get(&to_spoke).body["properties"]["peeringState"], "Connected");
    let vnet = arm.get(&network("rg", "virtualNetworks/vnet")).body;
    assert_eq!(vnet["properties"]["virtualNetworkPeerings"][0]["name"], "to-spoke");
    assert_eq!(vnet["properties"]["subnets"][0]["name"], "aks");
    arm.remove(&to_vnet);
    assert_eq!(arm.get(&to_spoke).body["properties"]["peeringState"], "Disconnected");

    // Public IP: static Standard address from the documentation range, DNS label fqdn.
    let pip_path = network("rg", "publicIPAddresses/ingress");
    let pip = arm.create(
        &pip_path,
        json!({ "location": "eastus", "sku": { "name": "Standard" }, "zones": ["1", "2", "3"],
                "properties": { "publicIPAllocationMethod": "Static", "dnsSettings": { "domainNameLabel": "shop" } } }),
    );
    let address = pip["properties"]["ipAddress"].as_str().unwrap();
    assert!(address.starts_with("203.0.113."), "{address}");
    assert_eq!(pip["properties"]["dnsSettings"]["fqdn"], "shop.eastus.cloudapp.azure.com");
    assert_eq!(pip["sku"], json!({ "name": "Standard", "tier": "Regional" }));
    let second = arm.create(
        &network("rg", "publicIPAddresses/other"),
        json!({ "location": "eastus", "sku": { "name": "Standard" } }),
    );
    assert_ne!(second["properties"]["ipAddress"], pip["properties"]["ipAddress"]);

    // DNS: zone and record sets are synchronous.
    let zone = network("rg", "dnsZones/example.com");
    let reply = arm.put(&zone, json!({ "location": "global" })).expect(&[201]);
    assert!(reply.header("azure-asyncoperation").is_none());
    assert_eq!(reply.body["properties"]["nameServers"].as_array().unwrap().len(), 4);
    let record = network("rg", "dnsZones/example.com/A/www");
    let reply = arm
        .put(&record, json!({ "properties": { "TTL": 300, "ARecords": [{ "ipv4Address": address }] } }))
        .expect(&[201]);
    assert_eq!(reply.body["type"], "Microsoft.Network/dnsZones/A");
    assert_eq!(reply.body["properties"]["fqdn"], "www.example.com.");
    let cname = network("rg", "dnsZones/example.com/CNAME/shop");
    arm.put(&cname, json!({ "properties": { "TTL": 3600, "CNAMERecord": { "cname": "www.example.com" } } }))
        .expect(&[201]);
    arm.put(&cname, json!({ "properties": { "TTL": 60, "CNAMERecord": { "cname": "www.example.com" } } }))
        .expect(&[200]);
    assert_eq!(arm.get(&zone).body["properties"]["numberOfRecordSets"], 4);
    arm.delete(&record).expect(&[200]);
    arm.get(&record).expect_error(404, "ResourceNotFound");
    arm.delete(&record).expect(&[204]);
    arm.remove(&zone);
    arm.get(&cname).expect_error(404, "ParentResourceNotFound");

    arm.remove(&subnet);
    arm.remove(&pip_path);
    // Deleting the group deletes what is left in it.
    arm.remove(&rg("rg"));
    assert!(arm.emulator.resources().is_empty(), "{:?}", arm.emulator.resources());
}

#[test]
fn missing_groups_resources_and_parents_are_404s_with_arm_codes() {
    let arm = Arm::start();
    arm.get(&rg("nope")).expect_error(404, "ResourceGroupNotFound");
    arm.put(&network("nope", "virtualNetworks/v"), vnet_body("10.0.0.0/16")).expect_error(404, "ResourceGroupNotFound");
    arm.group("rg");
    let missing = arm.get(&network("rg", "virtualNetworks/v")).expect_error(404, "ResourceNotFound");
    assert!(missing.body["error"]["message"].as_str().unwrap().contains("Microsoft.Network/virtualNetworks/v"));
    arm.put(&network("rg", "virtualNetworks/v/subnets/s"), json!({ "properties": { "addressPrefix": "10.0.0.0/24" } }))
        .expect_error(404, "ParentResourceNotFound");
    // A type the emulator does not serve is answered as ARM answers a type its namespace lacks.
    let unknown = arm.get(&network("rg", "applicationGateways/n")).expect_error(400, "InvalidResourceType");
    let put = arm.put(&network("rg", "applicationGateways/n"), json!({ "location": "eastus" }));
    let put = put.expect_error(400, "InvalidResourceType");
    assert_eq!(
        put.body,
        json!({ "error": {
            "code": "InvalidResourceType",
            "message": "The resource type 'applicationGateways' could not be found in the namespace 'Microsoft.Network' for api version '2024-05-01'."
        }})
    );
    assert_eq!(unknown.body, put.body);
    // Load balancers and security groups belong to the clusters' cloud provider: readable only.
    arm.put(&network("rg", "loadBalancers/kubernetes"), json!({ "location": "eastus" }))
        .expect_error(405, "MethodNotAllowed");
    arm.get(&network("rg", "networkSecurityGroups/nsg")).expect_error(404, "ResourceNotFound");
}

#[test]
fn a_second_write_while_an_operation_runs_is_a_409() {
    let arm = Arm::start();
    arm.emulator.set_type_latency("Microsoft.Network/virtualNetworks", Duration::from_millis(800));
    arm.group("rg");
    let path = network("rg", "virtualNetworks/v");
    let started = arm.put(&path, vnet_body("10.0.0.0/16")).expect(&[201]);
    arm.put(&path, vnet_body("10.0.0.0/16")).expect_error(409, "OperationNotAllowed");
    arm.delete(&path).expect_error(409, "OperationNotAllowed");
    arm.wait(&started);
    arm.put(&path, vnet_body("10.0.0.0/16")).expect(&[200]);
}

#[test]
fn unknown_and_read_only_members_are_refused_and_names_match_any_casing() {
    let arm = Arm::start();
    arm.group("rg");
    let path = network("rg", "virtualNetworks/v");
    let unknown = arm
        .put(&path, json!({ "location": "eastus", "properties": { "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] }, "subnetz": [] } }))
        .expect_error(400, "InvalidRequestContent");
    assert_eq!(unknown.body["error"]["target"], "properties.subnetz");
    assert!(unknown.body["error"]["message"].as_str().unwrap().contains("'subnetz'"));
    for (body, target) in [
        (
            json!({ "location": "eastus", "id": "/x", "properties": { "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] } } }),
            "id",
        ),
        (
            json!({ "location": "eastus", "properties": { "provisioningState": "Succeeded", "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] } } }),
            "properties.provisioningState",
        ),
        (
            json!({ "location": "eastus", "properties": { "resourceGuid": "x", "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] } } }),
            "properties.resourceGuid",
        ),
    ] {
        let reply = arm.put(&path, body).expect_error(400, "ReadOnlyPropertyNotAllowed");
        assert_eq!(reply.body["error"]["target"], target);
    }
    let pip = network("rg", "publicIPAddresses/p");
    arm.put(
        &pip,
        json!({ "location": "eastus", "sku": { "name": "Standard" }, "properties": { "ipAddress": "1.2.3.4" } }),
    )
    .expect_error(400, "ReadOnlyPropertyNotAllowed");
    arm.put(&pip, json!({ "location": "eastus", "sku": { "name": "Standard" }, "properties": { "dnsSettings": { "domainNameLabel": "a", "fqdn": "a.b" } } }))
        .expect_error(400, "ReadOnlyPropertyNotAllowed");
    arm.put(&path, json!({ "properties": { "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] } } }))
        .expect_error(400, "LocationRequired");
    arm.put(&path, json!({ "location": "eastus" })).expect_error(400, "InvalidAddressSpace");
    // JSON member names are matched case-insensitively and stored in the API's casing.
    let created = arm.create(
        &path,
        json!({ "Location": "East US", "Properties": { "AddressSpace": { "addressPrefixes": ["10.0.0.0/16"] } } }),
    );
    assert_eq!(created["location"], "eastus");
    assert_eq!(created["properties"]["addressSpace"]["addressPrefixes"], json!(["10.0.0.0/16"]));
    // Paths are case-insensitive; ids keep the canonical casing.
    let shown = arm
        .get(&format!("/subscriptions/{SUB}/RESOURCEGROUPS/rg/providers/microsoft.network/VirtualNetworks/V"))
        .expect(&[200]);
    assert_eq!(shown.body["name"], "v");
    arm.put(
        &path,
        json!({ "location": "westus", "properties": { "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] } } }),
    )
    .expect_error(409, "InvalidResourceLocation");
    arm.put(&path, json!(["not", "an", "object"])).expect_error(400, "InvalidRequestContent");
}

#[test]
fn api_versions_are_required_and_checked_per_provider() {
    let arm = Arm::start();
    let base = arm.emulator.url().to_string();
    let missing = arm.send(reqwest::Method::GET, &format!("{base}{}", rg("rg")), None);
    let missing = missing.expect_error(400, "MissingApiVersionParameter");
    assert!(missing.body["error"]["message"].as_str().unwrap().contains("api-version"));
    let wrong = arm.send(reqwest::Method::GET, &format!("{base}{}?api-version=2024-05-01", rg("rg")), None);
    let wrong = wrong.expect_error(400, "InvalidApiVersionParameter");
    // ARM names every version it serves, newest first.
    assert!(
        wrong.body["error"]["message"].as_str().unwrap().ends_with("are '2025-04-01,2024-03-01'."),
        "{}",
        wrong.body
    );
    let dns = arm.send(
        reqwest::Method::GET,
        &format!("{base}{}?api-version=2024-05-01", network("rg", "dnsZones/a.com")),
        None,
    );
    dns.expect_error(400, "InvalidApiVersionParameter");
}

#[test]
fn authentication_is_a_bearer_token_and_request_ids_come_back() {
    let arm = Arm::start();
    let url = arm.url(&rg("rg"));
    let anonymous = arm.http.get(&url).send().unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer "));
    let body: serde_json::Value = anonymous.json().unwrap();
    assert_eq!(body["error"]["code"], "AuthenticationFailed");
    let wrong = arm.http.get(&url).bearer_auth("not-the-token").send().unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let body: serde_json::Value = wrong.json().unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");

    let traced = arm
        .http
        .get(&url)
        .bearer_auth(arm.emulator.token())
        .header("x-ms-client-request-id", "client-1")
        .header("x-ms-correlation-request-id", "corr-1")
        .send()
        .unwrap();
    assert_eq!(traced.headers()["x-ms-client-request-id"], "client-1");
    assert_eq!(traced.headers()["x-ms-correlation-request-id"], "corr-1");
    assert!(!traced.headers()["x-ms-request-id"].is_empty());
    assert!(traced.headers().contains_key("x-ms-ratelimit-remaining-subscription-reads"));
    let control = arm.http.get(format!("{}/_emulator/resources", arm.emulator.url())).send().unwrap();
    assert_eq!(control.status().as_u16(), 401);
}

/// Follows `nextLink` from `path`; returns the names listed and how many pages there were.
fn list_all(arm: &Arm, path: &str) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut pages = 0;
    let mut url = arm.url(path);
    loop {
        let page = arm.send(reqwest::Method::GET, &url, None).expect(&[200]);
        pages += 1;
        let value = page.body["value"].as_array().unwrap_or_else(|| panic!("no value in {}", page.body));
        assert!(value.len() <= 2, "a page larger than the page size: {}", page.body);
        names.extend(value.iter().map(|item| item["name"].as_str().unwrap().to_string()));
        match page.body.get("nextLink").and_then(|link| link.as_str()) {
            Some(next) => {
                assert!(next.starts_with(arm.emulator.url()), "{next}");
                assert!(next.contains("$skipToken="), "{next}");
                url = next.to_string();
            }
            None => return (names, pages),
        }
    }
}

#[test]
fn lists_page_through_next_link_per_group_subscription_and_parent() {
    let arm = Arm::start_with(EmulatorOptions {
        latency: LatencySettings { default_ms: 10, ..Default::default() },
        page_size: 2,
        ..Default::default()
    });
    arm.group("one");
    arm.group("two");
    for (group, name, prefix) in [
        ("one", "a", "10.1.0.0/16"),
        ("one", "b", "10.2.0.0/16"),
        ("one", "c", "10.3.0.0/16"),
        ("two", "d", "10.4.0.0/16"),
    ] {
        arm.create(&network(group, &format!("virtualNetworks/{name}")), vnet_body(prefix));
    }
    for (name, prefix) in [("s1", "10.1.0.0/24"), ("s2", "10.1.1.0/24"), ("s3", "10.1.2.0/24")] {
        arm.create(
            &network("one", &format!("virtualNetworks/a/subnets/{name}")),
            json!({ "properties": { "addressPrefix": prefix } }),
        );
    }

    assert_eq!(list_all(&arm, &network("one", "virtualNetworks")), (vec!["a".into(), "b".into(), "c".into()], 2));
    let everywhere = list_all(&arm, &format!("/subscriptions/{SUB}/providers/Microsoft.Network/virtualNetworks"));
    assert_eq!(everywhere, (vec!["a".into(), "b".into(), "c".into(), "d".into()], 2));
    assert_eq!(list_all(&arm, &network("ONE", "virtualnetworks/A/subnets")).0, ["s1", "s2", "s3"]);
    assert_eq!(list_all(&arm, &format!("/subscriptions/{SUB}/resourcegroups")).0, ["one", "two"]);

    // Each item is the resource as a GET shows it.
    let first = arm.get(&network("one", "virtualNetworks")).expect(&[200]);
    assert_eq!(first.body["value"][0], arm.get(&network("one", "virtualNetworks/a")).body);
    // An empty list is one page without nextLink.
    let empty = arm.get(&network("two", "publicIPAddresses")).expect(&[200]);
    assert_eq!(empty.body, json!({ "value": [] }));

    arm.get(&network("nowhere", "virtualNetworks")).expect_error(404, "ResourceGroupNotFound");
    arm.get(&network("one", "virtualNetworks/missing/subnets")).expect_error(404, "ResourceNotFound");
    let bad_token = format!("{}&$skipToken=garbage", arm.url(&network("one", "virtualNetworks")));
    arm.send(reqwest::Method::GET, &bad_token, None).expect_error(400, "InvalidSkipToken");
    let base = arm.emulator.url();
    let old = format!("{base}{}?api-version=2019-01-01", network("one", "virtualNetworks"));
    arm.send(reqwest::Method::GET, &old, None).expect_error(400, "InvalidApiVersionParameter");
    let newer = format!("{base}{}?api-version=2026-03-01", network("one", "virtualNetworks"));
    assert_eq!(arm.send(reqwest::Method::GET, &newer, None).expect(&[200]).body["value"].as_array().unwrap().len(), 2);
}

#[test]
fn providers_read_as_registered_with_their_types_and_versions() {
    let arm = Arm::start();
    let network = arm.get(&format!("/subscriptions/{SUB}/providers/microsoft.network")).expect(&[200]);
    assert_eq!(network.body["namespace"], "Microsoft.Network");
    assert_eq!(network.body["registrationState"], "Registered");
    assert_eq!(network.body["id"], format!("/subscriptions/{SUB}/providers/Microsoft.Network"));
    let types = network.body["resourceTypes"].as_array().unwrap();
    let vnets = types.iter().find(|t| t["resourceType"] == "virtualNetworks").expect("virtualNetworks");
    let versions: Vec<&str> = vnets["apiVersions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(versions.contains(&"2024-05-01") && versions.contains(&"2026-03-01"), "{versions:?}");
    assert!(vnets["locations"].as_array().unwrap().iter().any(|l| l == "East US"));

    let all = arm.get(&format!("/subscriptions/{SUB}/providers")).expect(&[200]);
    let namespaces: Vec<&str> =
        all.body["value"].as_array().unwrap().iter().map(|p| p["namespace"].as_str().unwrap()).collect();
    assert_eq!(namespaces, ["Microsoft.Resources", "Microsoft.Network", "Microsoft.ContainerService"]);
    arm.get(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute")).expect_error(404, "InvalidResourceNamespace");
}

/// What an SDK's get → modify → put does: the body a GET showed goes back as it is.
fn put_back(arm: &Arm, path: &str) -> serde_json::Value {
    let shown = arm.get(path).expect(&[200]).body;
    let reply = arm.put(path, shown.clone()).expect(&[200]);
    if reply.header("azure-asyncoperation").is_some() {
        assert_eq!(arm.wait(&reply)["status"], "Succeeded");
    }
    shown
}

#[test]
fn a_body_read_with_get_can_be_put_back_but_a_changed_read_only_member_is_refused() {
    let arm = Arm::start();
    let subnet = arm.network("rg");
    let spoke = network("rg", "virtualNetworks/spoke");
    arm.create(&spoke, vnet_body("10.2.0.0/16"));
    let spoke_id = format!("{}/providers/Microsoft.Network/virtualNetworks/spoke", rg("rg"));
    let peering = network("rg", "virtualNetworks/vnet/virtualNetworkPeerings/to-spoke");
    arm.create(&peering, json!({ "properties": { "remoteVirtualNetwork": { "id": spoke_id } } }));
    let table = network("rg", "routeTables/egress");
    arm.create(&table, json!({ "location": "eastus", "properties": { "routes": [{ "name": "default", "properties": { "addressPrefix": "0.0.0.0/0", "nextHopType": "Internet" } }] } }));
    let ip = network("rg", "publicIPAddresses/egress");
    let ip_id = arm.create(&ip, json!({ "location": "eastus", "sku": { "name": "Standard" }, "properties": { "dnsSettings": { "domainNameLabel": "egress" } } }))["id"].clone();
    let gateway = network("rg", "natGateways/egress");
    arm.create(&gateway, json!({ "location": "eastus", "sku": { "name": "Standard" }, "properties": { "publicIpAddresses": [{ "id": ip_id }] } }));
    let zone = network("rg", "dnsZones/example.com");
    arm.create(&zone, json!({ "location": "global" }));
    let record = network("rg", "dnsZones/example.com/A/www");
    arm.create(&record, json!({ "properties": { "TTL": 300, "ARecords": [{ "ipv4Address": "203.0.113.4" }] } }));
    let cname = network("rg", "dnsZones/example.com/CNAME/shop");
    arm.create(&cname, json!({ "properties": { "TTL": 300, "CNAMERecord": { "cname": "www.example.com" } } }));

    let vnet = network("rg", "virtualNetworks/vnet");
    for path in [rg("rg"), vnet.clone(), subnet.clone(), peering, table, ip, gateway, zone, record, cname] {
        let shown = put_back(&arm, &path);
        let after = arm.get(&path).expect(&[200]).body;
        assert_eq!(after["id"], shown["id"], "{path}");
        assert_eq!(after["properties"]["provisioningState"], "Succeeded", "{path}");
    }

    // The VNet keeps its subnet and guid; its subnet list went back with read-only members.
    let shown = arm.get(&vnet).body;
    assert_eq!(shown["properties"]["subnets"][0]["name"], "aks");
    let mut changed = shown.clone();
    changed["properties"]["resourceGuid"] = json!("00000000-0000-0000-0000-000000000000");
    let refused = arm.put(&vnet, changed).expect_error(400, "ReadOnlyPropertyNotAllowed");
    assert_eq!(refused.body["error"]["target"], "properties.resourceGuid");
    let mut stale = shown.clone();
    stale["properties"]["subnets"][0]["etag"] = json!("W/\"stale\"");
    let refused = arm.put(&vnet, stale).expect_error(400, "ReadOnlyPropertyNotAllowed");
    assert_eq!(refused.body["error"]["target"], "properties.subnets[0].etag");
    let mut moved = arm.get(&subnet).body;
    moved["id"] = json!(format!("{}/providers/Microsoft.Network/virtualNetworks/spoke/subnets/aks", rg("rg")));
    arm.put(&subnet, moved).expect_error(400, "ReadOnlyPropertyNotAllowed");
    assert_eq!(arm.get(&vnet).body["properties"]["resourceGuid"], shown["properties"]["resourceGuid"]);
}
