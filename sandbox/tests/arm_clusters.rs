//! Managed clusters in the emulator: AKS's defaults and node resource group, agent pools, and
//! a real control plane behind each cluster whose kubeconfig the credential actions return.

mod common;

use base64::Engine;
use common::{Arm, aks, network, rg};
use serde_json::{Value, json};

pub fn cluster_body(subnet_id: &str) -> Value {
    json!({
        "location": "eastus",
        "identity": { "type": "SystemAssigned" },
        "properties": {
            "dnsPrefix": "shop",
            "kubernetesVersion": "1.34",
            "agentPoolProfiles": [{
                "name": "system", "mode": "System", "count": 2, "vmSize": "Standard_D4s_v5",
                "osType": "Linux", "type": "VirtualMachineScaleSets", "vnetSubnetID": subnet_id
            }],
            "networkProfile": { "networkPlugin": "azure", "networkPluginMode": "overlay", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10" }
        }
    })
}

fn kubeconfig(arm: &Arm, cluster: &str, action: &str) -> String {
    let reply = arm.post(&format!("{cluster}/{action}")).expect(&[200]);
    let value = reply.body["kubeconfigs"][0]["value"].as_str().expect("a kubeconfig value");
    let bytes = base64::engine::general_purpose::STANDARD.decode(value).expect("base64");
    String::from_utf8(bytes).expect("utf-8")
}

#[test]
fn a_cluster_runs_a_control_plane_with_aks_defaults_pools_and_a_node_resource_group() {
    let arm = Arm::start();
    let subnet = arm.network("rg");
    let subnet_id = arm.get(&subnet).body["id"].as_str().unwrap().to_string();
    let cluster = aks("rg", "managedClusters/shop");

    let created = arm.put(&cluster, cluster_body(&subnet_id)).expect(&[201]);
    assert_eq!(created.state(), "Creating");
    assert_eq!(created.body["properties"]["agentPoolProfiles"][0]["provisioningState"], "Creating");
    assert!(
        created
            .header("azure-asyncoperation")
            .unwrap()
            .contains("/providers/Microsoft.ContainerService/locations/eastus/operations/")
    );
    // The pool follows the cluster's operation.
    arm.put(
        &aks("rg", "managedClusters/shop/agentPools/system"),
        json!({ "properties": { "count": 3, "mode": "System", "vnetSubnetID": subnet_id } }),
    )
    .expect_error(409, "OperationNotAllowed");
    let status = arm.wait(&created);
    assert_eq!(status["status"], "Succeeded", "{status}");
    assert_eq!(arm.emulator.control_plane_count(), 1);

    let shown = arm.get(&cluster).expect(&[200]).body;
    let properties = &shown["properties"];
    assert_eq!(shown["type"], "Microsoft.ContainerService/ManagedClusters");
    assert_eq!(properties["provisioningState"], "Succeeded");
    assert_eq!(properties["nodeResourceGroup"], "MC_rg_shop_eastus");
    assert!(properties["fqdn"].as_str().unwrap().starts_with("shop-"));
    assert!(properties["fqdn"].as_str().unwrap().ends_with(".hcp.eastus.azmk8s.io"));
    assert_eq!(properties["currentKubernetesVersion"], "1.34.4");
    assert_eq!(properties["networkProfile"]["podCidr"], "10.244.0.0/16");
    assert_eq!(properties["networkProfile"]["serviceCidrs"], json!(["10.0.0.0/16"]));
    assert_eq!(properties["networkProfile"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(properties["networkProfile"]["outboundType"], "loadBalancer");
    let pool = &properties["agentPoolProfiles"][0];
    assert_eq!((pool["name"].as_str(), pool["maxPods"].as_u64()), (Some("system"), Some(250)));
    assert_eq!(pool["provisioningState"], "Succeeded");
    assert!(shown["identity"]["principalId"].is_string());
    let node_group = arm.get(&rg("MC_rg_shop_eastus")).expect(&[200]).body;
    assert_eq!(node_group["managedBy"], shown["id"]);

    let user = kubeconfig(&arm, &cluster, "listClusterUserCredential");
    assert!(user.contains("server: https://127.0.0.1:"), "{user}");
    assert_eq!(kubeconfig(&arm, &cluster, "listClusterAdminCredential"), user);

    // A second pool as a child resource, then gone again.
    let pool_path = aks("rg", "managedClusters/shop/agentPools/user1");
    let pool = arm.create(
        &pool_path,
        json!({ "properties": { "count": 1, "vmSize": "Standard_D4s_v5", "vnetSubnetID": subnet_id } }),
    );
    assert_eq!(pool["type"], "Microsoft.ContainerService/managedClusters/agentPools");
    assert_eq!(pool["properties"]["mode"], "User");
    assert_eq!(arm.get(&cluster).body["properties"]["agentPoolProfiles"].as_array().unwrap().len(), 2);
    arm.put(
        &pool_path,
        json!({ "properties": { "count": 1, "vmSize": "Standard_D8s_v5", "vnetSubnetID": subnet_id } }),
    )
    .expect_error(400, "PropertyChangeNotAllowed");
    arm.remove(&pool_path);
    arm.delete(&aks("rg", "managedClusters/shop/agentPools/system"))
        .expect_error(400, "MustDefineAtLeastOneSystemPool");
}

#[test]
fn deleting_a_cluster_stops_its_control_plane_and_deletes_its_node_resource_group() {
    let arm = Arm::start();
    let subnet = arm.network("rg");
    let subnet_id = arm.get(&subnet).body["id"].as_str().unwrap().to_string();
    let cluster = aks("rg", "managedClusters/shop");
    let mut body = cluster_body(&subnet_id);
    body["properties"]["nodeResourceGroup"] = json!("shop-nodes");
    arm.create(&cluster, body);
    arm.create(
        &network("shop-nodes", "publicIPAddresses/ingress"),
        json!({ "location": "eastus", "sku": { "name": "Standard" } }),
    );
    arm.delete(&subnet).expect_error(400, "InUseSubnetCannotBeDeleted");

    arm.remove(&cluster);
    assert_eq!(arm.emulator.control_plane_count(), 0);
    arm.get(&rg("shop-nodes")).expect_error(404, "ResourceGroupNotFound");
    arm.post(&format!("{cluster}/listClusterUserCredential")).expect_error(404, "ResourceNotFound");
    arm.remove(&subnet);
    arm.remove(&rg("rg"));
    assert!(arm.emulator.resources().is_empty(), "{:?}", arm.emulator.resources());
}
