//! Managed clusters in the emulator: AKS's defaults and node resource group, agent pools, and
//! a real control plane behind each cluster whose kubeconfig the credential actions return.

mod common;

use common::{Arm, aks, cluster_body, network, rg};
use serde_json::json;

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

    let user = arm.kubeconfig(&cluster, "listClusterUserCredential");
    assert!(user.contains("server: https://127.0.0.1:"), "{user}");
    assert_eq!(arm.kubeconfig(&cluster, "listClusterAdminCredential"), user);

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

#[test]
fn a_failed_cluster_creation_has_no_control_plane_until_the_next_put_succeeds() {
    let arm = Arm::start();
    let subnet = arm.network("rg");
    let subnet_id = arm.get(&subnet).body["id"].as_str().unwrap().to_string();
    arm.emulator.inject_fault(
        serde_json::from_value(json!({
            "kind": "failedOperation", "resourceType": "Microsoft.ContainerService/managedClusters", "operation": "create",
            "error": { "code": "VMExtensionProvisioningError", "message": "Unable to establish outbound connection from agents." }
        }))
        .unwrap(),
    );
    let cluster = aks("rg", "managedClusters/shop");
    let started = arm.put(&cluster, cluster_body(&subnet_id)).expect(&[201]);
    let status = arm.wait(&started);
    assert_eq!(
        (status["status"].as_str(), status["error"]["code"].as_str()),
        (Some("Failed"), Some("VMExtensionProvisioningError"))
    );
    let shown = arm.get(&cluster).body;
    assert_eq!(shown["properties"]["provisioningState"], "Failed");
    assert_eq!(shown["properties"]["agentPoolProfiles"][0]["provisioningState"], "Failed");
    assert_eq!(arm.emulator.control_plane_count(), 0);
    arm.post(&format!("{cluster}/listClusterUserCredential")).expect_error(409, "ControlPlaneNotReady");

    let retried = arm.put(&cluster, cluster_body(&subnet_id)).expect(&[200]);
    assert_eq!(retried.state(), "Updating");
    assert_eq!(arm.wait(&retried)["status"], "Succeeded");
    assert_eq!(arm.emulator.control_plane_count(), 1);
    assert!(arm.kubeconfig(&cluster, "listClusterUserCredential").contains("https://127.0.0.1:"));
    let principal = shown["identity"]["principalId"].clone();
    assert_eq!(arm.get(&cluster).body["identity"]["principalId"], principal, "the identity outlives updates");
}

mod load_balancers {
    use k8s_openapi::api::core::v1::{Event, Service};
    use kube::api::{Api, DeleteParams, ListParams, PostParams};
    use serde_json::{Value, json};

    use super::common::{Arm, aks, cluster_body, eventually, network, rg};

    fn service(name: &str, annotations: Value, port: u16) -> Service {
        serde_json::from_value(json!({
            "metadata": { "name": name, "namespace": "default", "annotations": annotations },
            "spec": { "type": "LoadBalancer", "selector": { "app": name }, "ports": [{ "port": port, "targetPort": 8080, "protocol": "TCP" }] }
        }))
        .unwrap()
    }

    fn ingress_ip(runtime: &tokio::runtime::Runtime, api: &Api<Service>, name: &str) -> Option<String> {
        let service = runtime.block_on(api.get(name)).ok()?;
        service.status?.load_balancer?.ingress?.first()?.ip.clone()
    }

    #[test]
    fn load_balancer_services_get_addresses_rules_and_security_rules_that_go_with_them() {
        // What the cluster's identity may join is arm_authorization.rs's subject; here its
        // subnet and the static IP are outside the node resource group, with no role given.
        let arm = Arm::start_with(aksform_sandbox::arm::EmulatorOptions {
            latency: aksform_sandbox::arm::LatencySettings { default_ms: 30, ..Default::default() },
            authorization: false,
            ..Default::default()
        });
        let subnet = arm.network("rg");
        let subnet_id = arm.get(&subnet).body["id"].as_str().unwrap().to_string();
        let cluster = aks("rg", "managedClusters/shop");
        arm.create(&cluster, cluster_body(&subnet_id));
        let static_ip = arm.create(
            &network("rg", "publicIPAddresses/web-ip"),
            json!({ "location": "eastus", "sku": { "name": "Standard" } }),
        );
        let static_address = static_ip["properties"]["ipAddress"].as_str().unwrap().to_string();

        let runtime = tokio::runtime::Runtime::new().unwrap();
        let client = arm.kube_client(&runtime, &cluster);
        let services: Api<Service> = Api::namespaced(client.clone(), "default");
        let create = |service: Service| runtime.block_on(services.create(&PostParams::default(), &service)).unwrap();

        create(service(
            "web",
            json!({ "service.beta.kubernetes.io/azure-pip-name": "web-ip", "service.beta.kubernetes.io/azure-load-balancer-resource-group": "rg" }),
            80,
        ));
        create(service(
            "api",
            json!({ "service.beta.kubernetes.io/azure-load-balancer-internal": "true", "service.beta.kubernetes.io/azure-load-balancer-ipv4": "10.1.0.50" }),
            443,
        ));
        create(service("auto", json!({ "service.beta.kubernetes.io/azure-load-balancer-internal": "true" }), 8443));
        create(service("fresh", json!({ "service.beta.kubernetes.io/azure-dns-label-name": "fresh-shop" }), 80));
        create(service("lost", json!({ "service.beta.kubernetes.io/azure-pip-name": "no-such-ip" }), 80));

        assert_eq!(eventually("web's address", || ingress_ip(&runtime, &services, "web")), static_address);
        assert_eq!(eventually("api's address", || ingress_ip(&runtime, &services, "api")), "10.1.0.50");
        let auto = eventually("auto's address", || ingress_ip(&runtime, &services, "auto"));
        assert!(auto.starts_with("10.1."), "{auto}");
        let fresh = eventually("fresh's address", || ingress_ip(&runtime, &services, "fresh"));
        assert!(fresh.starts_with("203.0.113.") && fresh != static_address, "{fresh}");

        // The Service whose public IP does not exist gets a warning and no address.
        let events: Api<Event> = Api::namespaced(client.clone(), "default");
        let warning = eventually("the warning event", || {
            let list = runtime.block_on(events.list(&ListParams::default())).ok()?;
            list.items.into_iter().find(|event| event.involved_object.name.as_deref() == Some("lost"))
        });
        assert_eq!(warning.type_.as_deref(), Some("Warning"));
        let message = warning.message.unwrap_or_default();
        assert!(message.contains("user supplied IP address no-such-ip was not found"), "{message}");
        assert_eq!(ingress_ip(&runtime, &services, "lost"), None);

        // What ARM shows: frontends, a rule and probe per port, security rules, the new public IP.
        let web_uid = runtime.block_on(services.get("web")).unwrap().metadata.uid.unwrap().replace('-', "");
        let external = arm.get(&network("MC_rg_shop_eastus", "loadBalancers/kubernetes")).expect(&[200]).body;
        let frontends = external["properties"]["frontendIPConfigurations"].as_array().unwrap();
        assert_eq!(frontends.len(), 2, "{external}");
        let web_frontend = frontends.iter().find(|f| f["name"] == format!("a{web_uid}")).unwrap();
        assert_eq!(web_frontend["properties"]["publicIPAddress"]["id"], static_ip["id"]);
        let rule = external["properties"]["loadBalancingRules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|rule| rule["name"] == format!("a{web_uid}-TCP-80"))
            .expect("a rule for port 80");
        assert_eq!(rule["properties"]["frontendPort"], 80);
        assert_eq!(rule["properties"]["protocol"], "Tcp");
        assert_eq!(external["properties"]["probes"].as_array().unwrap().len(), 2);
        let internal = arm.get(&network("MC_rg_shop_eastus", "loadBalancers/kubernetes-internal")).expect(&[200]).body;
        let addresses: Vec<&str> = internal["properties"]["frontendIPConfigurations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["privateIPAddress"].as_str().unwrap())
            .collect();
        assert!(addresses.contains(&"10.1.0.50") && addresses.contains(&auto.as_str()), "{addresses:?}");
        let used_by = arm.get(&subnet).body["properties"]["ipConfigurations"].as_array().map(Vec::len);
        assert_eq!(used_by, Some(2));
        let resources = arm.emulator.resources();
        let nsg_id =
            resources.iter().find(|r| r.arm_type == "Microsoft.Network/networkSecurityGroups").unwrap().id.clone();
        let nsg = arm.emulator.resource(&nsg_id).unwrap();
        assert!(nsg_id.contains("/resourceGroups/MC_rg_shop_eastus/") && nsg_id.ends_with("-nsg"), "{nsg_id}");
        let rules = nsg["properties"]["securityRules"].as_array().unwrap();
        assert_eq!(rules.len(), 4, "{nsg}");
        assert!(rules.iter().any(|r| r["properties"]["destinationAddressPrefix"] == json!(static_address)
            && r["properties"]["destinationPortRange"] == "80"
            && r["properties"]["access"] == "Allow"));
        let fresh_pip = resources
            .iter()
            .find(|r| r.arm_type == "Microsoft.Network/publicIPAddresses" && r.id.contains("/MC_rg_shop_eastus/"))
            .unwrap()
            .id
            .clone();
        let fresh_pip = arm.emulator.resource(&fresh_pip).unwrap();
        assert_eq!(fresh_pip["properties"]["dnsSettings"]["fqdn"], "fresh-shop.eastus.cloudapp.azure.com");
        // The static public IP is in use now.
        arm.delete(&network("rg", "publicIPAddresses/web-ip")).expect_error(400, "PublicIPAddressCannotBeDeleted");

        // The Services go, and so does everything made for them.
        for name in ["web", "api", "auto", "fresh", "lost"] {
            runtime.block_on(services.delete(name, &DeleteParams::default())).unwrap();
        }
        eventually("the load balancers to go", || {
            let external = arm.get(&network("MC_rg_shop_eastus", "loadBalancers/kubernetes")).status;
            let internal = arm.get(&network("MC_rg_shop_eastus", "loadBalancers/kubernetes-internal")).status;
            (external == 404 && internal == 404).then_some(())
        });
        let nsg = arm.emulator.resource(&nsg_id).unwrap();
        assert_eq!(nsg["properties"]["securityRules"], json!([]));
        assert!(
            !arm.emulator
                .resources()
                .iter()
                .any(|r| r.arm_type == "Microsoft.Network/publicIPAddresses" && r.id.contains("/MC_rg_shop_eastus/"))
        );
        arm.remove(&network("rg", "publicIPAddresses/web-ip"));
        arm.remove(&rg("rg"));
        assert!(arm.emulator.resources().is_empty(), "{:?}", arm.emulator.resources());
        assert_eq!(arm.emulator.control_plane_count(), 0);
    }
}
