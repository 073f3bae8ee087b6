use crate::check::test_support::*;

/// A cluster with the given network block body and node pools.
fn cluster(network: &str, pools: &str) -> String {
    format!(
        r#"
cluster "aks" {{
  resource_group = resource_group.rg

  network {network}
{pools}}}
"#
    )
}

const CNI: &str = "azure_cni {\n    subnet = vnet.net.subnet.nodes\n  }\n";
const SYSTEM: &str = "\n  node_pool \"system\" {\n    vm_size = \"Standard_D4s_v5\"\n    count   = 3\n  }\n";

fn pool(name: &str, body: &str) -> String {
    format!("\n  node_pool \"{name}\" {{\n    vm_size = \"Standard_D8s_v5\"\n{body}  }}\n")
}

#[test]
fn subnet_too_small_for_azure_cni() {
    let apps = pool("apps", "    autoscale = 3..30\n    max_pods  = 50\n");
    let ilb = r#"
service "api" {
  cluster   = cluster.aks
  namespace = "apps"
  type      = load_balancer internal { ip = 10.1.3.250 }
  selector  = { app = "api" }

  port http 80
}
"#;
    let text = stack(&[NETWORK, &cluster(CNI, &format!("{SYSTEM}{apps}")), ilb]);
    insta::assert_snapshot!(failing(&text, "AKS201"));
    passing(&text.replace("10.1.0.0/22", "10.1.0.0/21").replace("10.1.3.250", "10.1.7.250"));
}

#[test]
fn pod_subnet_too_small() {
    let network = NETWORK
        .replace("  subnet \"ilb\" {", "  subnet \"pods\" {\n    prefix = 10.1.16.0/24\n  }\n\n  subnet \"ilb\" {");
    let cni = "azure_cni {\n    subnet     = vnet.net.subnet.nodes\n    pod_subnet = vnet.net.subnet.pods\n  }\n";
    let text = stack(&[&network, &cluster(cni, SYSTEM)]);
    insta::assert_snapshot!(failing(&text, "AKS201"));
    passing(&text.replace("10.1.16.0/24", "10.1.16.0/23"));
}

#[test]
fn pod_cidr_too_small() {
    let overlay = "azure_cni overlay {\n    subnet   = vnet.net.subnet.nodes\n    pod_cidr = 10.244.0.0/23\n  }\n";
    let text = stack(&[NETWORK, &cluster(overlay, SYSTEM)]);
    insta::assert_snapshot!(failing(&text, "AKS202"));
    passing(&text.replace("10.244.0.0/23", "10.244.0.0/22"));
}

#[test]
fn kubenet_node_limit() {
    let kubenet = "kubenet {\n    subnet   = vnet.net.subnet.nodes\n    pod_cidr = 10.244.0.0/14\n  }\n";
    let text = stack(&[NETWORK, &cluster(kubenet, &pool("system", "    count = 400\n"))]);
    insta::assert_snapshot!(failing(&text, "AKS203"));
    passing(&text.replace("count = 400", "count = 399"));
}

#[test]
fn kubenet_windows_pool() {
    let windows = pool("win", "    os    = windows\n    count = 2\n");
    let text = stack(&[NETWORK, &cluster("kubenet {}\n", &format!("{SYSTEM}{windows}"))]);
    insta::assert_snapshot!(failing(&text, "AKS204"));
    passing(&text.replace("network kubenet {}", "network azure_cni overlay {}"));
}

#[test]
fn max_pods_out_of_range() {
    let text = stack(&[&cluster("azure_cni overlay {}\n", &pool("system", "    count    = 3\n    max_pods = 300\n"))]);
    insta::assert_snapshot!(failing(&text, "AKS205"));
    passing(&text.replace("max_pods = 300", "max_pods = 250"));
}

#[test]
fn pool_below_30_pods() {
    let text = stack(&[&cluster("azure_cni overlay {}\n", &pool("system", "    count    = 2\n    max_pods = 10\n"))]);
    insta::assert_snapshot!(failing(&text, "AKS206"));
    passing(&text.replace("count    = 2", "count    = 3"));
}

#[test]
fn no_system_pool() {
    let pools = format!(
        "{}{}",
        pool("one", "    mode  = user\n    count = 3\n"),
        pool("two", "    mode  = user\n    count = 3\n")
    );
    let text = stack(&[&cluster("azure_cni overlay {}\n", &pools)]);
    insta::assert_snapshot!(failing(&text, "AKS207"));
    passing(&text.replacen("mode  = user", "mode  = system", 1));
}

#[test]
fn windows_system_pool() {
    let windows = pool("win", "    os    = windows\n    mode  = system\n    count = 2\n");
    let text = stack(&[&cluster("azure_cni overlay {}\n", &format!("{SYSTEM}{windows}"))]);
    insta::assert_snapshot!(failing(&text, "AKS208"));
    passing(&text.replace("mode  = system", "mode  = user"));
}

#[test]
fn too_many_pools() {
    let pools: String = (1..=101).map(|i| pool(&format!("p{i}"), "    count = 1\n")).collect();
    let text = stack(&[&cluster("azure_cni overlay {}\n", &pools)]);
    let loaded = load(&text);
    let messages: Vec<String> = loaded.diagnostics.iter().map(|d| format!("{}: {}", d.code, d.message)).collect();
    assert_eq!(messages, ["AKS209: cluster.aks has 101 node pools; AKS allows at most 100"]);
    let hundred: String = (1..=100).map(|i| pool(&format!("p{i}"), "    count = 1\n")).collect();
    passing(&stack(&[&cluster("azure_cni overlay {}\n", &hundred)]));
}

#[test]
fn cluster_node_limit() {
    let overlay = "azure_cni overlay {\n    pod_cidr = 10.192.0.0/10\n  }\n";
    let pools = |n: usize| -> String { (1..=n).map(|i| pool(&format!("p{i}"), "    count = 1000\n")).collect() };
    let text = stack(&[&cluster(overlay, &pools(6))]);
    insta::assert_snapshot!(failing(&text, "AKS210"));
    passing(&stack(&[&cluster(overlay, &pools(5))]));
}

/// An Azure CNI cluster in an existing /24 of the network team, as read: `others` IP
/// configurations of theirs and `ours` of the cluster's own nodes hold addresses of it.
fn in_existing_subnet(others: usize, ours: usize) -> crate::loading::Loaded {
    use crate::model::Value;
    let text = stack(&[
        EXISTING_HUB,
        &cluster(
            "azure_cni {\n    subnet = vnet.hub.subnet.aks\n  }\n",
            "\n  node_pool \"system\" {\n    vm_size  = \"Standard_D4s_v5\"\n    count    = 6\n    max_pods = 30\n  }\n",
        ),
    ]);
    let held = |group: &'static str, n: usize| {
        (0..n).map(move |i| {
            Value::str(format!(
                "/subscriptions/s/resourceGroups/{group}/providers/Microsoft.Network/networkInterfaces/nic{i}/ipConfigurations/ipconfig1"
            ))
        })
    };
    let configurations: Vec<Value> = held("rg-legacy", others).chain(held("MC_rg_aks_westeurope", ours)).collect();
    load_with_existing_hub(text, vec![("ip_configurations".to_string(), Value::List(configurations))])
}

#[test]
fn an_existing_subnet_counts_the_addresses_others_hold_and_not_the_clusters_own() {
    // (6 nodes + 1 surge) × 31 = 217 of 251 usable: it fits alone, with the cluster's own 7
    // nodes' interfaces already there too.
    let fits = in_existing_subnet(0, 7);
    assert!(fits.diagnostics.is_empty(), "{:?}", fits.diagnostics);
    let full = in_existing_subnet(40, 7);
    let options = crate::diag::RenderOptions { color: false, unicode: true, width: 100 };
    let rendered = crate::diag::render_terminal(&full.diagnostics.0, &full.sources, options);
    assert!(full.diagnostics.iter().any(|d| d.code == "AKS201"), "{rendered}");
    assert!(rendered.contains("needs 257 addresses at full scale but has 251 usable"), "{rendered}");
    assert!(rendered.contains("40 addresses already held by others (read from Azure)"), "{rendered}");
    assert!(rendered.contains("the subnet is existing, not the stack's to resize"), "{rendered}");
}
