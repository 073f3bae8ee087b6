//! Azure's own checks, with Azure's error codes: network ranges, subnet sizing for AKS, what
//! may not change after creation, what may not be deleted while in use.

mod common;

use common::{Arm, aks, network, rg};
use serde_json::{Value, json};

fn vnet(prefixes: &[&str]) -> Value {
    json!({ "location": "eastus", "properties": { "addressSpace": { "addressPrefixes": prefixes } } })
}

fn subnet(prefix: &str) -> Value {
    json!({ "properties": { "addressPrefix": prefix } })
}

fn cluster(subnet_id: &str, plugin: Value, pool: Value) -> Value {
    let mut pool_profile = json!({ "name": "system", "mode": "System", "count": 2, "vmSize": "Standard_D4s_v5", "vnetSubnetID": subnet_id });
    if let (Some(target), Some(extra)) = (pool_profile.as_object_mut(), pool.as_object()) {
        for (key, value) in extra {
            target.insert(key.clone(), value.clone());
        }
    }
    json!({
        "location": "eastus",
        "properties": { "dnsPrefix": "shop", "agentPoolProfiles": [pool_profile], "networkProfile": plugin }
    })
}

fn id(arm: &Arm, path: &str) -> String {
    arm.get(path).body["id"].as_str().unwrap().to_string()
}

#[test]
fn subnets_must_fit_their_vnet_and_not_overlap() {
    let arm = Arm::start();
    arm.group("rg");
    arm.create(&network("rg", "virtualNetworks/v"), vnet(&["10.1.0.0/16"]));
    let path = |name: &str| network("rg", &format!("virtualNetworks/v/subnets/{name}"));
    arm.put(&path("a"), subnet("10.2.0.0/24")).expect_error(400, "NetcfgSubnetRangeOutsideVnet");
    let notation = arm.put(&path("a"), subnet("10.1.0.1/24")).expect_error(400, "InvalidCIDRNotation");
    assert!(notation.body["error"]["message"].as_str().unwrap().contains("10.1.0.0/24"));
    arm.put(&path("a"), subnet("10.1.0/24")).expect_error(400, "InvalidAddressPrefixFormat");
    arm.put(&path("a"), json!({ "properties": {} })).expect_error(400, "NoAddressPrefixOrPoolProvided");
    arm.create(&path("a"), subnet("10.1.0.0/24"));
    let overlap = arm.put(&path("b"), subnet("10.1.0.128/25")).expect_error(400, "NetcfgSubnetRangesOverlap");
    assert!(overlap.body["error"]["message"].as_str().unwrap().contains("'a'"));
    arm.create(&path("b"), subnet("10.1.1.0/24"));
    // The VNet's address space may not leave its subnets out.
    arm.put(&network("rg", "virtualNetworks/v"), vnet(&["10.1.1.0/24"]))
        .expect_error(400, "NetcfgSubnetRangeOutsideVnet");
    arm.put(&network("rg", "virtualNetworks/v"), vnet(&["10.1.0.0/16", "10.1.0.0/20"]))
        .expect_error(400, "NetcfgOverlappingAddressSpace");
    // A PUT without `subnets` leaves them alone; a list replaces them.
    arm.create(&network("rg", "virtualNetworks/v"), vnet(&["10.1.0.0/16", "10.9.0.0/16"]));
    assert_eq!(arm.get(&network("rg", "virtualNetworks/v")).body["properties"]["subnets"].as_array().unwrap().len(), 2);
    let mut inline = vnet(&["10.1.0.0/16"]);
    inline["properties"]["subnets"] = json!([{ "name": "a", "properties": { "addressPrefix": "10.1.0.0/24" } }]);
    arm.create(&network("rg", "virtualNetworks/v"), inline);
    arm.get(&path("b")).expect_error(404, "ResourceNotFound");
}

#[test]
fn peerings_need_an_existing_remote_vnet_without_overlap() {
    let arm = Arm::start();
    arm.group("rg");
    arm.create(&network("rg", "virtualNetworks/hub"), vnet(&["10.0.0.0/16"]));
    arm.create(&network("rg", "virtualNetworks/same"), vnet(&["10.0.128.0/17"]));
    let peering = network("rg", "virtualNetworks/hub/virtualNetworkPeerings/p");
    let missing = format!("{}/providers/Microsoft.Network/virtualNetworks/ghost", rg("rg"));
    arm.put(&peering, json!({ "properties": { "remoteVirtualNetwork": { "id": missing } } }))
        .expect_error(400, "InvalidGlobalResourceReference");
    let same = id(&arm, &network("rg", "virtualNetworks/same"));
    arm.put(&peering, json!({ "properties": { "remoteVirtualNetwork": { "id": same } } }))
        .expect_error(400, "VnetAddressSpacesOverlap");
    arm.create(&network("rg", "virtualNetworks/spoke"), vnet(&["10.5.0.0/16"]));
    let spoke = id(&arm, &network("rg", "virtualNetworks/spoke"));
    arm.create(&peering, json!({ "properties": { "remoteVirtualNetwork": { "id": spoke } } }));
    // Once peered, the hub may not grow into the spoke's range.
    arm.put(&network("rg", "virtualNetworks/hub"), vnet(&["10.0.0.0/16", "10.5.1.0/24"]))
        .expect_error(400, "VnetAddressSpaceOverlapsWithAlreadyPeeredVnet");
}

#[test]
fn public_ips_are_standard_and_static_and_keep_their_sku() {
    let arm = Arm::start();
    arm.group("rg");
    let path = network("rg", "publicIPAddresses/p");
    arm.put(&path, json!({ "location": "eastus" })).expect_error(400, "BasicSkuPublicIpRetired");
    arm.put(&path, json!({ "location": "eastus", "sku": { "name": "Basic" } }))
        .expect_error(400, "BasicSkuPublicIpRetired");
    arm.put(&path, json!({ "location": "eastus", "sku": { "name": "Standard" }, "properties": { "publicIPAllocationMethod": "Dynamic" } }))
        .expect_error(400, "StandardSkuPublicIPAddressesMustBeStatic");
    let created = arm.create(&path, json!({ "location": "eastus", "sku": { "name": "Standard", "tier": "Regional" } }));
    arm.put(&path, json!({ "location": "eastus", "sku": { "name": "Standard", "tier": "Global" } }))
        .expect_error(400, "PropertyChangeNotAllowed");
    arm.put(&path, json!({ "location": "eastus", "sku": { "name": "Standard" }, "zones": ["1"] }))
        .expect_error(400, "PropertyChangeNotAllowed");
    let updated =
        arm.create(&path, json!({ "location": "eastus", "sku": { "name": "Standard" }, "tags": { "env": "prod" } }));
    assert_eq!(updated["properties"]["ipAddress"], created["properties"]["ipAddress"], "an update keeps the address");
    assert_eq!(updated["tags"]["env"], "prod");
}

#[test]
fn cluster_network_profiles_are_checked_against_the_subnets() {
    let arm = Arm::start();
    let subnet_path = arm.network("rg");
    let subnet_id = id(&arm, &subnet_path);
    let path = aks("rg", "managedClusters/c");
    let overlay = json!({ "networkPlugin": "azure", "networkPluginMode": "overlay" });

    let overlap = arm
        .put(
            &path,
            cluster(
                &subnet_id,
                json!({ "networkPlugin": "azure", "serviceCidr": "10.1.0.0/16", "dnsServiceIP": "10.1.0.10" }),
                json!({}),
            ),
        )
        .expect_error(400, "ServiceCidrOverlapExistingSubnetsCidr");
    assert!(overlap.body["error"]["message"].as_str().unwrap().contains("10.1.0.0/22"));
    arm.put(&path, cluster(&subnet_id, json!({ "networkPlugin": "azure", "networkPluginMode": "overlay", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.2.0.10" }), json!({})))
        .expect_error(400, "DnsServiceIpOutOfServiceCidr");
    arm.put(
        &path,
        cluster(&subnet_id, json!({ "networkPlugin": "kubenet", "networkPluginMode": "overlay" }), json!({})),
    )
    .expect_error(400, "InvalidParameter");
    // Azure CNI on the node subnet: (50 nodes + 1 surge) × (30 pods + 1) = 1581 addresses > 1019.
    let sizing = arm
        .put(&path, cluster(&subnet_id, json!({ "networkPlugin": "azure" }), json!({ "count": 50, "maxPods": 30 })))
        .expect_error(400, "InsufficientSubnetSize");
    assert!(
        sizing.body["error"]["message"].as_str().unwrap().contains("Pre-allocated IPs 1581 exceeds IPs available 1019"),
        "{}",
        sizing.body
    );
    // A pool holds at most 1000 nodes.
    arm.put(
        &path,
        cluster(&subnet_id, overlay.clone(), json!({ "enableAutoScaling": true, "minCount": 1, "maxCount": 1001 })),
    )
    .expect_error(400, "InvalidParameter");
    arm.put(&path, cluster(&subnet_id, overlay.clone(), json!({ "mode": "User" })))
        .expect_error(400, "MustDefineAtLeastOneSystemPool");
    let mut old = cluster(&subnet_id, overlay.clone(), json!({}));
    old["properties"]["kubernetesVersion"] = json!("1.20.7");
    arm.put(&path, old).expect_error(400, "K8sVersionNotSupported");
    let mut no_prefix = cluster(&subnet_id, overlay.clone(), json!({}));
    no_prefix["properties"].as_object_mut().unwrap().remove("dnsPrefix");
    arm.put(&path, no_prefix).expect_error(400, "InvalidParameter");
    let mut taken = cluster(&subnet_id, overlay.clone(), json!({}));
    taken["properties"]["nodeResourceGroup"] = json!("rg-nodes");
    arm.group("rg-nodes");
    arm.put(&path, taken).expect_error(400, "NodeResourceGroupAlreadyExists");
    let missing_subnet = format!("{subnet_id}x");
    arm.put(&path, cluster(&missing_subnet, overlay, json!({}))).expect_error(400, "SubnetNotFound");
}

#[test]
fn a_cluster_keeps_what_cannot_change_and_its_subnet_fills_up() {
    let arm = Arm::start();
    let subnet_path = arm.network("rg");
    let subnet_id = id(&arm, &subnet_path);
    let path = aks("rg", "managedClusters/c");
    let cni = json!({ "networkPlugin": "azure", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10" });
    // (2 + 1) × (30 + 1) = 93 addresses of the /22's 1019.
    arm.create(&path, cluster(&subnet_id, cni.clone(), json!({})));

    let change = |pointer: &str, value: Value| {
        let mut body = cluster(&subnet_id, cni.clone(), json!({}));
        *body.pointer_mut(pointer).unwrap() = value;
        body
    };
    for (pointer, value, property) in [
        ("/properties/dnsPrefix", json!("other"), "properties.dnsPrefix"),
        ("/properties/networkProfile/serviceCidr", json!("10.50.0.0/16"), "networkProfile.serviceCidr"),
        ("/properties/networkProfile/networkPlugin", json!("kubenet"), "networkProfile.networkPlugin"),
    ] {
        let body = if property == "networkProfile.serviceCidr" {
            let mut body = change(pointer, value);
            body["properties"]["networkProfile"]["dnsServiceIP"] = json!("10.50.0.10");
            body
        } else {
            change(pointer, value)
        };
        let refused = arm.put(&path, body).expect_error(400, "PropertyChangeNotAllowed");
        assert_eq!(refused.body["error"]["target"], property, "{}", refused.body);
    }
    let mut nodes = cluster(&subnet_id, cni.clone(), json!({}));
    nodes["properties"]["nodeResourceGroup"] = json!("elsewhere");
    arm.put(&path, nodes).expect_error(400, "PropertyChangeNotAllowed");
    arm.put(&path, cluster(&subnet_id, cni.clone(), json!({ "maxPods": 50 })))
        .expect_error(400, "PropertyChangeNotAllowed");
    arm.put(&path, cluster(&subnet_id, cni.clone(), json!({ "vmSize": "Standard_D8s_v5" })))
        .expect_error(400, "PropertyChangeNotAllowed");
    // Growing the pool past the subnet: (40 + 1) × 31 = 1271 > 1019.
    let full =
        arm.put(&path, cluster(&subnet_id, cni.clone(), json!({ "count": 40 }))).expect_error(400, "SubnetIsFull");
    assert!(full.body["error"]["message"].as_str().unwrap().contains("10.1.0.0/22"));
    // Kubenet → Overlay is the one plugin change AKS makes in place (from node-subnet CNI too).
    let migrated = json!({ "networkPlugin": "azure", "networkPluginMode": "overlay", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10" });
    let shown = arm.create(&path, cluster(&subnet_id, migrated, json!({ "count": 3 })));
    assert_eq!(shown["properties"]["networkProfile"]["networkPluginMode"], "overlay");
    assert_eq!(shown["properties"]["agentPoolProfiles"][0]["count"], 3);
    // The subnet is in use: no shrinking, no deleting.
    arm.put(&subnet_path, subnet("10.1.0.0/23")).expect_error(400, "InUsePrefixCannotBeDeleted");
    arm.delete(&subnet_path).expect_error(400, "InUseSubnetCannotBeDeleted");
    arm.delete(&network("rg", "virtualNetworks/vnet")).expect_error(400, "InUseSubnetCannotBeDeleted");
}

fn route(name: &str, prefix: &str, hop: &str, ip: Option<&str>) -> Value {
    let mut route = json!({ "name": name, "properties": { "addressPrefix": prefix, "nextHopType": hop } });
    if let Some(ip) = ip {
        route["properties"]["nextHopIpAddress"] = json!(ip);
    }
    route
}

fn route_table(routes: &[Value]) -> Value {
    json!({ "location": "eastus", "properties": { "routes": routes } })
}

#[test]
fn route_tables_check_their_routes_and_stay_while_a_subnet_uses_them() {
    let arm = Arm::start();
    let subnet_path = arm.network("rg");
    let table_path = network("rg", "routeTables/egress");
    let missing = arm
        .put(&table_path, route_table(&[route("default", "0.0.0.0/0", "VirtualAppliance", None)]))
        .expect_error(400, "MissingNextHopIpAddress");
    assert!(missing.body["error"]["message"].as_str().unwrap().contains("in route default"), "{}", missing.body);
    arm.put(&table_path, route_table(&[route("r", "10.0.0.1/16", "None", None)]))
        .expect_error(400, "InvalidCIDRNotation");
    let created =
        arm.create(&table_path, route_table(&[route("default", "0.0.0.0/0", "VirtualAppliance", Some("10.0.1.4"))]));
    let table_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["type"], "Microsoft.Network/routeTables");
    assert_eq!(created["properties"]["routes"][0]["id"], format!("{table_id}/routes/default"));
    assert_eq!(created["properties"]["routes"][0]["properties"]["provisioningState"], "Succeeded");
    assert_eq!(created["properties"]["disableBgpRoutePropagation"], false);

    // A subnet's route table must exist; an associated table lists the subnet and stays.
    let absent = format!("{table_id}x");
    arm.put(&subnet_path, json!({ "properties": { "addressPrefix": "10.1.0.0/22", "routeTable": { "id": absent } } }))
        .expect_error(400, "InvalidResourceReference");
    // So must its security group, also in a VNet's inline subnets.
    let nsg = format!("{}/providers/Microsoft.Network/networkSecurityGroups/absent", rg("rg"));
    let refused = arm
        .put(
            &subnet_path,
            json!({ "properties": { "addressPrefix": "10.1.0.0/22", "networkSecurityGroup": { "id": nsg } } }),
        )
        .expect_error(400, "InvalidResourceReference");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("Resource {nsg} referenced by resource ")), "{message}");
    let vnet = json!({ "location": "eastus", "properties": { "addressSpace": { "addressPrefixes": ["10.1.0.0/16"] },
        "subnets": [{ "name": "aks", "properties": { "addressPrefix": "10.1.0.0/22", "routeTable": { "id": absent } } }] } });
    arm.put(&network("rg", "virtualNetworks/vnet"), vnet).expect_error(400, "InvalidResourceReference");
    arm.create(
        &subnet_path,
        json!({ "properties": { "addressPrefix": "10.1.0.0/22", "routeTable": { "id": table_id } } }),
    );
    let subnet_id = id(&arm, &subnet_path);
    assert_eq!(arm.get(&table_path).body["properties"]["subnets"], json!([{ "id": subnet_id }]));
    arm.delete(&table_path).expect_error(400, "InUseRouteTableCannotBeDeleted");

    // User-defined routing needs the default route on the node subnet.
    let udr = json!({ "networkPlugin": "azure", "networkPluginMode": "overlay", "outboundType": "userDefinedRouting" });
    let cluster_path = aks("rg", "managedClusters/c");
    arm.create(&table_path, route_table(&[route("onprem", "192.168.0.0/16", "VirtualNetworkGateway", None)]));
    arm.put(&cluster_path, cluster(&subnet_id, udr.clone(), json!({})))
        .expect_error(400, "RouteTableMissingDefaultRouteError");

    arm.create(&subnet_path, subnet("10.1.0.0/22"));
    assert_eq!(arm.get(&table_path).body["properties"].get("subnets"), None);
    arm.remove(&table_path);
}

#[test]
fn nat_gateways_take_existing_public_ips_and_carry_the_outbound_of_their_subnets() {
    let arm = Arm::start();
    let subnet_path = arm.network("rg");
    let gateway_path = network("rg", "natGateways/egress");
    let ip_path = network("rg", "publicIPAddresses/egress");
    let gateway = |ip: &str| json!({ "location": "eastus", "sku": { "name": "Standard" }, "properties": { "publicIpAddresses": [{ "id": ip }], "idleTimeoutInMinutes": 10 } });
    let missing_ip = format!("{}/providers/Microsoft.Network/publicIPAddresses/egress", rg("rg"));
    arm.put(&gateway_path, gateway(&missing_ip)).expect_error(400, "InvalidResourceReference");
    let ip = arm.create(&ip_path, json!({ "location": "eastus", "sku": { "name": "Standard" } }));
    let ip_id = ip["id"].as_str().unwrap().to_string();
    let mut too_long = gateway(&ip_id);
    too_long["properties"]["idleTimeoutInMinutes"] = json!(121);
    arm.put(&gateway_path, too_long).expect_error(400, "InvalidParameter");
    let created = arm.create(&gateway_path, gateway(&ip_id));
    let gateway_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["type"], "Microsoft.Network/natGateways");
    assert_eq!(arm.get(&ip_path).body["properties"]["natGateway"]["id"], gateway_id.as_str());
    arm.delete(&ip_path).expect_error(400, "PublicIPAddressCannotBeDeleted");

    // A user-assigned NAT gateway outbound needs the gateway on the node subnet; a managed one
    // is not for a subnet the cluster brings.
    let subnet_id = id(&arm, &subnet_path);
    let cluster_path = aks("rg", "managedClusters/c");
    let outbound =
        |kind: &str| json!({ "networkPlugin": "azure", "networkPluginMode": "overlay", "outboundType": kind });
    arm.put(&cluster_path, cluster(&subnet_id, outbound("userAssignedNATGateway"), json!({})))
        .expect_error(400, "SubnetNotAssociatedWithNATGateway");
    arm.put(&cluster_path, cluster(&subnet_id, outbound("managedNATGateway"), json!({})))
        .expect_error(400, "ManagedNATGatewayWithCustomVNetNotAllowed");
    arm.create(
        &subnet_path,
        json!({ "properties": { "addressPrefix": "10.1.0.0/22", "natGateway": { "id": gateway_id } } }),
    );
    assert_eq!(arm.get(&gateway_path).body["properties"]["subnets"], json!([{ "id": subnet_id }]));
    arm.delete(&gateway_path).expect_error(400, "InUseNatGatewayCannotBeDeleted");
    arm.create(&cluster_path, cluster(&subnet_id, outbound("userAssignedNATGateway"), json!({})));
}
