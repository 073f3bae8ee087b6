//! Stacks that use what exists without managing it: a hub network, its subnet and a static
//! public IP that another team made (with Microsoft's Python SDK) are
//! declared `existing`, read at plan, checked with their real values, used by the cluster and
//! the Service, and never written or deleted.

use std::path::{Path, PathBuf};
use std::process::Output;

use aksform_sandbox::arm::{Emulator, EmulatorOptions};
use aksform_testkit::azure_mgmt;
use assert_cmd::Command;

const SUBSCRIPTION: &str = "00000000-0000-0000-0000-0000000000aa";

fn aksform(emulator: &Emulator) -> Command {
    let mut cmd = Command::cargo_bin("aksform").unwrap();
    cmd.env_remove("AKSFORM_STATE").env("NO_COLOR", "1").envs(emulator.environment());
    cmd
}

fn text(output: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// What the network team made, with Microsoft's Python SDK: a resource group with a hub
/// network (a /24 for clusters) and a static public IP.
const NETWORK_TEAM: &str = r#"
resources.resource_groups.create_or_update("rg-network", {"location": "westeurope"})
network.virtual_networks.begin_create_or_update("rg-network", "vnet-hub", {
    "location": "westeurope",
    "properties": {
        "addressSpace": {"addressPrefixes": ["10.50.0.0/16"]},
        "subnets": [{"name": "snet-aks", "properties": {"addressPrefix": "10.50.1.0/24"}}],
    },
}).result()
ip = network.public_ip_addresses.begin_create_or_update("rg-network", "pip-ingress", {
    "location": "westeurope", "sku": {"name": "Standard"},
    "properties": {"publicIPAllocationMethod": "Static"}}).result()
out({"ip": ip.ip_address})
"#;

/// The stack that uses them: an Azure CNI cluster in the hub's subnet, and a Service on the
/// static IP. `pool` is its node pool block.
fn spoke(pool: &str) -> String {
    format!(
        r#"stack "spoke" {{
  subscription = "{SUBSCRIPTION}"
  location     = westeurope
}}

existing resource_group "network" {{
  name = "rg-network"
}}

existing vnet "hub" {{
  resource_group = resource_group.network
  name           = "vnet-hub"

  subnet "aks" {{
    name = "snet-aks"
  }}
}}

existing public_ip "ingress" {{
  id = "/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-network/providers/Microsoft.Network/publicIPAddresses/pip-ingress"
}}

resource_group "app" {{}}

cluster "app" {{
  resource_group = resource_group.app

  network azure_cni {{
    subnet         = vnet.hub.subnet.aks
    service_cidr   = 10.0.0.0/16
    dns_service_ip = 10.0.0.10
  }}

{pool}
}}

namespace "web" {{
  cluster = cluster.app
}}

service "web" {{
  namespace = namespace.web
  type      = load_balancer {{ public_ip = public_ip.ingress }}
  selector  = {{ app = "web" }}

  port http 80 -> 8080
}}
"#
    )
}

const POOL: &str =
    "  node_pool \"system\" {\n    vm_size  = \"Standard_D4s_v5\"\n    count    = 3\n    max_pods = 30\n  }";

struct Setup {
    emulator: Emulator,
    dir: tempfile::TempDir,
}

impl Setup {
    /// The emulator with what the network team made, and the spoke stack with `pool`.
    fn new(pool: &str) -> Setup {
        let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
        let target = azure_mgmt::Target { url: emulator.url(), token: emulator.token(), subscription: SUBSCRIPTION };
        let made = azure_mgmt::run(&target, NETWORK_TEAM);
        assert!(made[0]["ip"].is_string(), "{made:?}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("spoke")).unwrap();
        std::fs::write(dir.path().join("spoke/main.aks"), spoke(pool)).unwrap();
        Setup { emulator, dir }
    }

    fn stack(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, stack: &str, args: &[&str]) -> Output {
        let state = self.dir.path().join(format!("{stack}.json"));
        aksform(&self.emulator).args(args).arg(self.stack(stack)).arg("--state").arg(state).output().unwrap()
    }

    fn resource(&self, id: &str) -> serde_json::Value {
        self.emulator.resource(id).unwrap_or_else(|| panic!("{id} is gone"))
    }
}

fn network_id(path: &str) -> String {
    format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-network{path}")
}

#[test]
fn a_stack_applies_on_existing_resources_plans_clean_and_destroys_without_touching_them() {
    let setup = Setup::new(POOL);
    let ids = [
        network_id(""),
        network_id("/providers/Microsoft.Network/virtualNetworks/vnet-hub"),
        network_id("/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-aks"),
        network_id("/providers/Microsoft.Network/publicIPAddresses/pip-ingress"),
    ];
    let before: Vec<serde_json::Value> = ids.iter().map(|id| setup.resource(id)).collect();
    let written = |setup: &Setup| -> Vec<String> {
        setup
            .emulator
            .operations()
            .iter()
            .filter(|w| ids.iter().any(|id| w.id.eq_ignore_ascii_case(id)))
            .map(|w| format!("{} {}", w.method, w.id))
            .collect()
    };
    let already = written(&setup).len();

    let plan = setup.run("spoke", &["plan"]);
    assert!(plan.status.success(), "{}", text(&plan));
    let shown = String::from_utf8_lossy(&plan.stdout);
    let planned: Vec<&str> = shown.lines().filter_map(|l| l.trim_start().strip_prefix("+ ")).collect();
    assert!(
        planned.iter().all(|l| !l.starts_with("vnet.hub")
            && !l.starts_with("public_ip.")
            && !l.starts_with("resource_group.network")),
        "existing resources are not planned: {shown}"
    );
    // The cluster's identity is given the role AKS needs on the hub's subnet and on the IP.
    for scope in ["vnet.hub.subnet.aks", "public_ip.ingress"] {
        assert!(shown.contains(&format!("+ cluster.app.role_assignment.\"{scope}\"")), "{shown}");
    }
    assert!(shown.contains("7 to create"), "{shown}");

    let apply = setup.run("spoke", &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(setup.dir.path().join("spoke.json")).unwrap()).unwrap();
    // The cluster is in the hub's subnet, and the Service has the static IP.
    let cluster = setup.resource(&format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/app/providers/Microsoft.ContainerService/managedClusters/app"
    ));
    let pool_subnet = cluster["properties"]["agentPoolProfiles"][0]["vnetSubnetID"].as_str().unwrap().to_string();
    assert!(pool_subnet.eq_ignore_ascii_case(&ids[2]), "{pool_subnet}");
    let principal = cluster["identity"]["principalId"].as_str().expect("the cluster's identity").to_string();
    for scope in [&ids[2], &ids[3]] {
        let assignments: Vec<serde_json::Value> = setup
            .emulator
            .resources()
            .iter()
            .filter(|r| r.arm_type == "Microsoft.Authorization/roleAssignments")
            .filter_map(|r| setup.emulator.resource(&r.id))
            .filter(|a| a["properties"]["scope"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(scope)))
            .collect();
        assert_eq!(assignments.len(), 1, "{scope}: {assignments:?}");
        assert_eq!(assignments[0]["properties"]["principalId"], serde_json::json!(principal));
        let role = assignments[0]["properties"]["roleDefinitionId"].as_str().unwrap();
        assert!(role.ends_with("/4d97b98b-1d4f-4787-a291-c67834d212e7"), "Network Contributor: {role}");
    }
    let ip = before[3]["properties"]["ipAddress"].as_str().expect("the static IP's address").to_string();
    let service = state["resources"].as_array().unwrap().iter().find(|r| r["address"] == "service.web").unwrap();
    assert_eq!(service["attributes"]["address"], serde_json::json!(ip), "{service:#}");
    // The state manages none of them and records what was read.
    let managed: Vec<&str> =
        state["resources"].as_array().unwrap().iter().map(|r| r["address"].as_str().unwrap()).collect();
    assert!(
        managed
            .iter()
            .all(|a| !a.starts_with("vnet.hub") && *a != "public_ip.ingress" && *a != "resource_group.network"),
        "{managed:?}"
    );
    let read: Vec<&str> =
        state["existing"].as_array().unwrap().iter().map(|r| r["address"].as_str().unwrap()).collect();
    assert_eq!(read, ["resource_group.network", "vnet.hub", "vnet.hub.subnet.aks", "public_ip.ingress"]);

    let clean = setup.run("spoke", &["plan", "--detailed-exitcode"]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    // Offline, against what was recorded, and saying so.
    let offline = setup.run("spoke", &["plan", "--refresh=false", "--detailed-exitcode"]);
    assert_eq!(offline.status.code(), Some(0), "{}", text(&offline));
    assert!(text(&offline).contains("values as last read and recorded in the state"), "{}", text(&offline));

    let destroy = setup.run("spoke", &["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}", text(&destroy));
    assert_eq!(written(&setup).len(), already, "nothing written to the existing resources: {:?}", written(&setup));
    for (id, was) in ids.iter().zip(&before) {
        let now = setup.resource(id);
        assert_eq!(now["properties"]["provisioningState"], was["properties"]["provisioningState"], "{id}");
        assert_eq!(now["tags"], was["tags"], "{id}");
    }
}

#[test]
fn the_checks_use_the_existing_subnets_real_size() {
    // (10 nodes + 1 surge) × (30 pods + 1) = 341 addresses in a /24 (251 usable).
    let pool =
        "  node_pool \"system\" {\n    vm_size  = \"Standard_D4s_v5\"\n    count    = 10\n    max_pods = 30\n  }";
    let setup = Setup::new(pool);
    let plan = setup.run("spoke", &["plan"]);
    assert_eq!(plan.status.code(), Some(1), "{}", text(&plan));
    let stderr = String::from_utf8_lossy(&plan.stderr);
    assert!(stderr.contains("AKS201"), "{stderr}");
    assert!(
        stderr.contains("vnet.hub.subnet.aks (10.50.1.0/24) needs 341 addresses at full scale but has 251 usable"),
        "{stderr}"
    );
    // The error points at the existing subnet's block.
    assert!(stderr.contains("subnet \"aks\""), "{stderr}");
}

#[test]
fn an_existing_resource_that_is_not_there_is_an_error_naming_its_id() {
    let setup = Setup::new(POOL);
    let text_of = std::fs::read_to_string(setup.stack("spoke").join("main.aks")).unwrap();
    std::fs::write(
        setup.stack("spoke").join("main.aks"),
        text_of.replace("name = \"snet-aks\"", "name = \"snet-gone\""),
    )
    .unwrap();
    let plan = setup.run("spoke", &["plan"]);
    assert_eq!(plan.status.code(), Some(1), "{}", text(&plan));
    let expected = network_id("/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-gone");
    assert!(
        text(&plan).contains(&format!("vnet.hub.subnet.aks: the existing resource {expected} does not exist")),
        "{}",
        text(&plan)
    );
}

#[test]
fn existing_blocks_say_only_which_resource_they_are() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.aks"),
        "stack \"s\" { location = westeurope }\nexisting vnet \"hub\" {\n  resource_group = \"rg\"\n  address_space = [10.0.0.0/16]\n}\nexisting cluster \"c\" { resource_group = \"rg\" }\n",
    )
    .unwrap();
    let output = Command::cargo_bin("aksform").unwrap().arg("validate").arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("AKS018") && stderr.contains("`address_space` cannot be set on an existing vnet"),
        "{stderr}"
    );
    assert!(stderr.contains("`cluster` cannot be existing"), "{stderr}");
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules/AKS018.md").is_file());
}

#[test]
fn a_generated_block_imported_plans_without_changes() {
    let setup = Setup::new(POOL);
    let stack = setup.stack("taken");
    std::fs::create_dir(&stack).unwrap();
    let header = format!(
        "stack \"taken\" {{\n  subscription = \"{SUBSCRIPTION}\"\n  location     = westeurope\n}}\n\n\
         resource_group \"network\" {{\n  name = \"rg-network\"\n}}\n"
    );
    std::fs::write(stack.join("main.aks"), &header).unwrap();
    let vnet = network_id("/providers/Microsoft.Network/virtualNetworks/vnet-hub");
    let generated = setup.run("taken", &["import", "vnet.hub", &vnet, "--generate"]);
    assert!(generated.status.success(), "{}", text(&generated));
    let block = String::from_utf8(generated.stdout.clone()).unwrap();
    assert_eq!(
        block,
        "vnet \"hub\" {\n  name           = \"vnet-hub\"\n  resource_group = resource_group.network\n  \
         location       = westeurope\n  address_space  = [10.50.0.0/16]\n  subnet \"snet-aks\" {\n    \
         prefix = 10.50.1.0/24\n  }\n}\n",
    );
    let hints = String::from_utf8_lossy(&generated.stderr);
    assert!(hints.contains(&format!("aksform import vnet.hub.subnet.snet-aks '{vnet}/subnets/snet-aks'")), "{hints}");
    std::fs::write(stack.join("main.aks"), format!("{header}\n{block}")).unwrap();
    let fmt = Command::cargo_bin("aksform").unwrap().args(["fmt", "--check"]).arg(&stack).output().unwrap();
    assert!(fmt.status.success(), "the generated block is fmt-clean: {}", text(&fmt));
    for (address, id) in [
        ("resource_group.network", network_id("")),
        ("vnet.hub", vnet.clone()),
        ("vnet.hub.subnet.snet-aks", format!("{vnet}/subnets/snet-aks")),
    ] {
        let imported = setup.run("taken", &["import", address, &id]);
        assert!(imported.status.success(), "{address}: {}", text(&imported));
    }
    let plan = setup.run("taken", &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}

/// A network interface of the network team's, holding 10.50.1.200 in the hub's subnet.
const DATABASE_NIC: &str = r#"
subnet = network.subnets.get("rg-network", "vnet-hub", "snet-aks")
nic = network.network_interfaces.begin_create_or_update("rg-network", "nic-db", {
    "location": "westeurope",
    "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
        "subnet": {"id": subnet.id},
        "privateIPAllocationMethod": "Static",
        "privateIPAddress": "10.50.1.200",
    }}]},
}).result()
out({"ip": nic.ip_configurations[0].private_ip_address})
"#;

#[test]
fn an_internal_load_balancer_ip_another_holds_in_an_existing_subnet_is_refused_at_plan() {
    let setup = Setup::new(POOL);
    let target =
        azure_mgmt::Target { url: setup.emulator.url(), token: setup.emulator.token(), subscription: SUBSCRIPTION };
    let made = azure_mgmt::run(&target, DATABASE_NIC);
    assert_eq!(made[0]["ip"], serde_json::json!("10.50.1.200"), "{made:?}");
    let subnet = setup.resource(&network_id("/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-aks"));
    let listed = subnet["properties"]["ipConfigurations"].to_string();
    assert!(listed.contains("/networkInterfaces/nic-db/ipConfigurations/ipconfig1"), "{subnet:#}");
    let main = setup.stack("spoke").join("main.aks");
    let with_internal = |ip: &str| {
        let text = spoke(POOL);
        std::fs::write(
            &main,
            format!(
                "{text}\nservice \"db\" {{\n  namespace = namespace.web\n  type      = load_balancer internal {{ subnet = vnet.hub.subnet.aks  ip = {ip} }}\n  selector  = {{ app = \"db\" }}\n\n  port sql 5432\n}}\n"
            ),
        )
        .unwrap();
    };
    with_internal("10.50.1.200");
    let plan = setup.run("spoke", &["plan"]);
    assert_eq!(plan.status.code(), Some(1), "{}", text(&plan));
    let stderr = String::from_utf8_lossy(&plan.stderr);
    assert!(stderr.contains("AKS323"), "{stderr}");
    assert!(
        stderr.contains("service.db asks for 10.50.1.200, which network interface nic-db already holds in"),
        "{stderr}"
    );
    assert!(stderr.contains("main.aks:"), "the error points at the stack: {stderr}");
    with_internal("10.50.1.201");
    let plan = setup.run("spoke", &["plan"]);
    assert!(plan.status.success(), "{}", text(&plan));
}

#[test]
fn import_blocks_take_the_network_teams_vnet_under_the_stack_with_its_differences_shown_then_plan_clean() {
    let setup = Setup::new(POOL);
    let stack = setup.stack("adopt");
    std::fs::create_dir(&stack).unwrap();
    let vnet = network_id("/providers/Microsoft.Network/virtualNetworks/vnet-hub");
    std::fs::write(
        stack.join("main.aks"),
        format!(
            r#"stack "adopt" {{
  subscription = "{SUBSCRIPTION}"
  location     = westeurope
}}

resource_group "network" {{
  name = "rg-network"
}}

vnet "hub" {{
  resource_group = resource_group.network
  name           = "vnet-hub"
  address_space  = [10.50.0.0/16, 10.60.0.0/16]

  subnet "aks" {{
    name   = "snet-aks"
    prefix = 10.50.1.0/24
  }}
}}

import {{
  to = resource_group.network
  id = "{rg}"
}}

import {{
  to = vnet.hub
  id = "{vnet}"
}}

import {{
  to = vnet.hub.subnet.aks
  id = "{vnet}/subnets/snet-aks"
}}
"#,
            rg = network_id(""),
        ),
    )
    .unwrap();

    let plan = setup.run("adopt", &["plan"]);
    assert!(plan.status.success(), "{}", text(&plan));
    let shown = text(&plan);
    let lines: Vec<&str> = shown.lines().collect();
    let vnet_line = lines.iter().position(|l| l.contains("<= vnet.hub ")).unwrap_or_else(|| panic!("{shown}"));
    assert!(lines[vnet_line].contains(&format!("(from {vnet}, then update in place)")), "{shown}");
    assert!(lines[vnet_line + 1].contains("address_space") && lines[vnet_line + 1].contains("10.60.0.0/16"), "{shown}");
    assert!(shown.contains("<= resource_group.network") && shown.contains("<= vnet.hub.subnet.aks"), "{shown}");
    assert!(shown.contains("Plan: 3 to import, 0 to create, 0 to update"), "{shown}");

    let apply = setup.run("adopt", &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    let live = setup.resource(&vnet);
    assert_eq!(
        live["properties"]["addressSpace"]["addressPrefixes"],
        serde_json::json!(["10.50.0.0/16", "10.60.0.0/16"])
    );
    assert_eq!(live["properties"]["subnets"][0]["name"], "snet-aks", "{live:#}");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(setup.dir.path().join("adopt.json")).unwrap()).unwrap();
    assert!(state.to_string().contains(&format!("\"{vnet}\"")), "the state records the vnet by its id: {state:#}");

    let again = setup.run("adopt", &["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

/// The spoke's cluster's user credentials, with Microsoft's Python SDK.
const CLUSTER_CREDENTIALS: &str = r#"
credentials = containers.managed_clusters.list_cluster_user_credentials("app", "app")
out({"kubeconfig": bytes(credentials.kubeconfigs[0].value).decode()})
"#;

impl Setup {
    /// The caller limited to Contributor on the subscription: it may create everything but
    /// role assignments.
    fn as_contributor(&self) {
        self.emulator.set_caller_roles(Some(&[("Contributor", &format!("/subscriptions/{SUBSCRIPTION}"))]));
    }

    fn role_assignments(&self) -> Vec<serde_json::Value> {
        self.emulator
            .resources()
            .iter()
            .filter(|r| r.arm_type == "Microsoft.Authorization/roleAssignments")
            .filter_map(|r| self.emulator.resource(&r.id))
            .collect()
    }

    fn service_address(&self) -> serde_json::Value {
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(self.dir.path().join("spoke.json")).unwrap()).unwrap();
        let service = state["resources"].as_array().unwrap().iter().find(|r| r["address"] == "service.web").cloned();
        service.expect("service.web is recorded")["attributes"]["address"].clone()
    }

    /// `kubectl ARGS` on the spoke's cluster, with its user credentials; what it printed.
    fn kubectl(&self, args: &[&str]) -> String {
        let kubeconfig = self.dir.path().join("kubeconfig");
        if !kubeconfig.is_file() {
            let target = azure_mgmt::Target {
                url: self.emulator.url(),
                token: self.emulator.token(),
                subscription: SUBSCRIPTION,
            };
            let made = azure_mgmt::run(&target, CLUSTER_CREDENTIALS);
            std::fs::write(&kubeconfig, made[0]["kubeconfig"].as_str().unwrap()).unwrap();
        }
        let output =
            std::process::Command::new("kubectl").arg("--kubeconfig").arg(&kubeconfig).args(args).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    /// The principal id of the spoke's cluster's identity.
    fn cluster_principal(&self) -> String {
        let cluster = self.resource(&format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/app/providers/Microsoft.ContainerService/managedClusters/app"
        ));
        cluster["identity"]["principalId"].as_str().expect("the cluster's identity").to_string()
    }

    /// The address the cluster's cloud provider gave the Service, if any yet.
    fn live_service_address(&self) -> String {
        self.kubectl(&["get", "service", "web", "-n", "web", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}"])
    }
}

fn warnings_of(output: &Output, code: &str) -> usize {
    String::from_utf8_lossy(&output.stderr).lines().filter(|line| line.trim() == code).count()
}

#[test]
fn a_contributor_is_told_which_roles_to_ask_for_and_the_apply_does_not_try_them() {
    let setup = Setup::new(POOL);
    setup.as_contributor();
    let subnet = network_id("/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-aks");
    let ip = network_id("/providers/Microsoft.Network/publicIPAddresses/pip-ingress");

    let plan = setup.run("spoke", &["plan"]);
    assert!(plan.status.success(), "{}", text(&plan));
    let stderr = String::from_utf8_lossy(&plan.stderr).to_string();
    assert_eq!(warnings_of(&plan, "AKS188"), 2, "{stderr}");
    // The cluster is not made yet: the command reads its identity.
    for scope in [&subnet, &ip] {
        let command = format!(
            "az role assignment create --assignee-object-id \"$(az aks show -g app -n app --query identity.principalId \
             -o tsv)\" --assignee-principal-type ServicePrincipal --role \"Network Contributor\" --scope {scope}"
        );
        // On a line of its own, to copy as it is.
        assert!(stderr.lines().any(|line| line.trim() == command), "{command}\n{stderr}");
    }
    let shown = String::from_utf8_lossy(&plan.stdout);
    assert!(!shown.contains("role_assignment"), "{shown}");
    assert!(shown.contains("5 to create"), "{shown}");

    let apply = setup.run("spoke", &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(text(&apply).contains("Apply complete: 5 created"), "{}", text(&apply));
    assert!(!text(&apply).lines().any(|line| line.starts_with("error")), "{}", text(&apply));
    assert_eq!(warnings_of(&apply, "AKS188"), 2, "{}", text(&apply));
    let tried: Vec<String> = setup
        .emulator
        .operations()
        .iter()
        .filter(|w| w.id.contains("roleAssignments"))
        .map(|w| format!("{} {}", w.method, w.id))
        .collect();
    assert!(tried.is_empty(), "{tried:?}");
    assert!(setup.role_assignments().is_empty(), "{:?}", setup.role_assignments());
    // The Service stays pending, with AKS's reason.
    assert_eq!(setup.service_address(), serde_json::Value::Null);
    assert_eq!(setup.live_service_address(), "");
    let events =
        setup.kubectl(&["get", "events", "-n", "web", "--field-selector", "involvedObject.name=web", "-o", "json"]);
    assert!(events.contains("SyncLoadBalancerFailed") && events.contains("LinkedAuthorizationFailed"), "{events}");

    // Now the cluster exists: the command names its identity.
    let principal = setup.cluster_principal();
    let again = setup.run("spoke", &["plan"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains(&format!("--assignee-object-id {principal} ")), "{}", text(&again));
    // Offline, nothing is checked, and the plan says so.
    let offline = setup.run("spoke", &["plan", "--refresh=false"]);
    assert!(
        text(&offline).contains("2 role assignments are planned without checking that this caller may create them"),
        "{}",
        text(&offline)
    );
}

#[test]
fn a_role_granted_by_someone_else_is_not_planned_and_the_service_gets_its_address() {
    let setup = Setup::new(POOL);
    setup.as_contributor();
    let apply = setup.run("spoke", &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert_eq!(setup.service_address(), serde_json::Value::Null);
    let principal = setup.cluster_principal();

    // The network team grants Network Contributor on the whole VNet and on the IP's group.
    let vnet = network_id("/providers/Microsoft.Network/virtualNetworks/vnet-hub");
    let http = reqwest::blocking::Client::new();
    let grant = |scope: &str, name: &str| {
        let url = format!(
            "{}{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01",
            setup.emulator.url()
        );
        let body = serde_json::json!({ "properties": {
            "roleDefinitionId": format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/4d97b98b-1d4f-4787-a291-c67834d212e7"),
            "principalId": principal, "principalType": "ServicePrincipal" } });
        http.put(url).bearer_auth(setup.emulator.token()).json(&body).send().unwrap().status().as_u16()
    };
    assert_eq!(grant(&vnet, "2c9b6f1e-1f0a-4c0e-9d57-3b2d1c0a9e11"), 403, "a Contributor may not");
    setup.emulator.set_caller_roles(None);
    assert_eq!(grant(&vnet, "2c9b6f1e-1f0a-4c0e-9d57-3b2d1c0a9e11"), 201);
    assert_eq!(grant(&network_id(""), "5d1c9a7b-8e2f-4a3b-b6c4-0f9e8d7c6b5a"), 201);
    setup.as_contributor();

    // The cloud provider joins the frontend now; the plan finds the roles held and plans none.
    let plan = setup.run("spoke", &["plan", "--detailed-exitcode"]);
    assert_eq!(warnings_of(&plan, "AKS188"), 0, "{}", text(&plan));
    let stderr = String::from_utf8_lossy(&plan.stderr).to_string();
    assert!(
        stderr.contains("cluster.app.role_assignment.\"vnet.hub.subnet.aks\" is not needed")
            && stderr.contains("2c9b6f1e-1f0a-4c0e-9d57-3b2d1c0a9e11"),
        "{stderr}"
    );
    assert!(stderr.contains("cluster.app.role_assignment.\"public_ip.ingress\" is not needed"), "{stderr}");
    assert!(!String::from_utf8_lossy(&plan.stdout).contains("role_assignment"), "{}", text(&plan));
    let apply = setup.run("spoke", &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    let static_ip = setup.resource(&network_id("/providers/Microsoft.Network/publicIPAddresses/pip-ingress"))
        ["properties"]["ipAddress"]
        .clone();
    assert_eq!(serde_json::json!(setup.live_service_address()), static_ip);
    assert_eq!(setup.role_assignments().len(), 2, "only the network team's");
    let clean = setup.run("spoke", &["plan", "--detailed-exitcode"]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    assert!(String::from_utf8_lossy(&clean.stdout).contains("No changes"), "{}", text(&clean));
}
