//! The application routing add-on of a managed cluster in the emulator: the profile ARM takes
//! and shows, the managed NGINX controller's LoadBalancer Service and its public IP in the node
//! resource group, the address written into the Ingresses of its class (and no other), and
//! all of it gone again when the add-on is turned off.

mod common;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};

use common::{Arm, aks, eventually, network, rg};

const CLASS: &str = "webapprouting.kubernetes.azure.com";

/// The common cluster, with its application routing profile.
fn cluster_body(subnet_id: &str, routing: Value) -> Value {
    let mut body = common::cluster_body(subnet_id);
    body["properties"]["ingressProfile"] = json!({ "webAppRouting": routing });
    body
}

/// A network and the path of the cluster to make on it; returns (subnet id, cluster path).
fn prepared(arm: &Arm) -> (String, String) {
    let subnet = arm.network("rg");
    let subnet_id = arm.get(&subnet).body["id"].as_str().unwrap().to_string();
    (subnet_id, aks("rg", "managedClusters/shop"))
}

fn ingress(name: &str, class: &str) -> Ingress {
    serde_json::from_value(json!({
        "metadata": { "name": name, "namespace": "default" },
        "spec": {
            "ingressClassName": class,
            "rules": [{ "host": format!("{name}.example.com"), "http": { "paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": { "service": { "name": "web", "port": { "number": 80 } } }
            }] } }]
        }
    }))
    .unwrap()
}

fn address(runtime: &tokio::runtime::Runtime, api: &Api<Ingress>, name: &str) -> Option<String> {
    let ingress = runtime.block_on(api.get(name)).ok()?;
    ingress.status?.load_balancer?.ingress?.first()?.ip.clone()
}

/// The public IPs the cloud provider made in the node resource group.
fn node_group_ips(arm: &Arm) -> Vec<Value> {
    arm.emulator
        .resources()
        .iter()
        .filter(|r| r.arm_type == "Microsoft.Network/publicIPAddresses" && r.id.contains("/MC_rg_shop_eastus/"))
        .map(|r| arm.emulator.resource(&r.id).unwrap())
        .collect()
}

#[test]
fn the_profile_is_checked_and_read_only_parts_are_refused() {
    let arm = Arm::start();
    let (subnet_id, cluster) = prepared(&arm);
    let identity = json!({ "enabled": true, "identity": { "resourceId": "/x" } });
    arm.put(&cluster, cluster_body(&subnet_id, identity)).expect_error(400, "ReadOnlyPropertyNotAllowed");
    let zones = json!({ "enabled": true, "dnsZoneResourceIds": ["example.com"] });
    let refused = arm.put(&cluster, cluster_body(&subnet_id, zones)).expect_error(400, "InvalidParameter");
    assert_eq!(refused.body["error"]["target"], "properties.ingressProfile.webAppRouting.dnsZoneResourceIds[0]");
    let unknown = json!({ "enabled": true, "nginx": { "defaultIngressControllerType": "External" } });
    arm.put(&cluster, cluster_body(&subnet_id, unknown)).expect_error(400, "InvalidRequestContent");
    assert_eq!(arm.emulator.control_plane_count(), 0);
}

#[test]
fn the_add_on_gives_its_ingresses_the_address_of_its_public_load_balancer_until_it_is_turned_off() {
    let arm = Arm::start();
    let (subnet_id, cluster) = prepared(&arm);
    let shown = arm.create(&cluster, cluster_body(&subnet_id, json!({ "enabled": true })));
    let routing = &shown["properties"]["ingressProfile"]["webAppRouting"];
    assert_eq!(routing["enabled"], true);
    let identity = routing["identity"]["resourceId"].as_str().unwrap().to_string();
    assert!(
        identity.ends_with(
            "/resourceGroups/MC_rg_shop_eastus/providers/Microsoft.ManagedIdentity/userAssignedIdentities/webapprouting-shop"
        ),
        "{identity}"
    );

    // Deployed by the time the cluster's operation succeeded.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = arm.kube_client(&runtime, &cluster);
    let controller: Api<Service> = Api::namespaced(client.clone(), "app-routing-system");
    let service = runtime.block_on(controller.get("nginx")).unwrap();
    assert_eq!(service.spec.unwrap().type_.as_deref(), Some("LoadBalancer"));
    let class = runtime.block_on(Api::<IngressClass>::all(client.clone()).get(CLASS)).unwrap();
    assert_eq!(class.spec.unwrap().controller.as_deref(), Some("webapprouting.kubernetes.azure.com/nginx"));

    let ingresses: Api<Ingress> = Api::namespaced(client.clone(), "default");
    for (name, class) in [("shop", CLASS), ("blog", CLASS), ("other", "nginx")] {
        runtime.block_on(ingresses.create(&PostParams::default(), &ingress(name, class))).unwrap();
    }
    let shop = eventually("the shop Ingress's address", || address(&runtime, &ingresses, "shop"));
    assert_eq!(eventually("the blog Ingress's address", || address(&runtime, &ingresses, "blog")), shop);
    // The address is the controller's public IP, in the node resource group, on the `kubernetes`
    // load balancer with rules for 80 and 443.
    let ips = node_group_ips(&arm);
    assert_eq!(ips.len(), 1, "{ips:?}");
    assert_eq!(ips[0]["properties"]["ipAddress"], json!(shop));
    assert_eq!(ips[0]["tags"]["k8s-azure-service"], "app-routing-system/nginx");
    let balancer = arm.get(&network("MC_rg_shop_eastus", "loadBalancers/kubernetes")).expect(&[200]).body;
    let frontends = balancer["properties"]["frontendIPConfigurations"].as_array().unwrap();
    assert_eq!(frontends.len(), 1, "{balancer}");
    assert_eq!(frontends[0]["properties"]["publicIPAddress"]["id"], ips[0]["id"]);
    let mut ports: Vec<u64> = balancer["properties"]["loadBalancingRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["properties"]["frontendPort"].as_u64().unwrap())
        .collect();
    ports.sort_unstable();
    assert_eq!(ports, [80, 443]);
    // No controller serves the other class.
    assert_eq!(address(&runtime, &ingresses, "other"), None);

    // An Ingress that goes takes nothing with it: the controller's address stays for the others.
    runtime.block_on(ingresses.delete("blog", &DeleteParams::default())).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(address(&runtime, &ingresses, "shop").as_deref(), Some(shop.as_str()));
    assert_eq!(node_group_ips(&arm).len(), 1);

    // Turned off: the controller, its public IP and load balancer go, and the address with them.
    let shown = arm.create(&cluster, cluster_body(&subnet_id, json!({ "enabled": false })));
    assert_eq!(shown["properties"]["ingressProfile"], json!({ "webAppRouting": { "enabled": false } }));
    assert!(
        runtime.block_on(controller.get_opt("nginx")).unwrap().is_none_or(|s| s.metadata.deletion_timestamp.is_some())
    );
    eventually("the address to go", || address(&runtime, &ingresses, "shop").is_none().then_some(()));
    eventually("the public IP and the load balancer to go", || {
        let balancer = arm.get(&network("MC_rg_shop_eastus", "loadBalancers/kubernetes")).status;
        (balancer == 404 && node_group_ips(&arm).is_empty()).then_some(())
    });

    // On again: a new address.
    arm.create(&cluster, cluster_body(&subnet_id, json!({ "enabled": true })));
    let again = eventually("the address to come back", || address(&runtime, &ingresses, "shop"));
    assert_eq!(node_group_ips(&arm)[0]["properties"]["ipAddress"], json!(again));

    arm.remove(&rg("rg"));
    assert!(arm.emulator.resources().is_empty(), "{:?}", arm.emulator.resources());
    assert_eq!(arm.emulator.control_plane_count(), 0);
}
