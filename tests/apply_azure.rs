//! `aksform apply`, `plan` and `destroy` of whole example stacks (Azure resources and the
//! Kubernetes objects inside the clusters) against the sandbox's ARM emulator, whose managed
//! clusters are real control planes.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use aksform_sandbox::arm::{Emulator, EmulatorOptions};
use assert_cmd::Command;

const SUBSCRIPTION: &str = "00000000-0000-0000-0000-0000000000aa";

fn aksform(emulator: &Emulator) -> Command {
    let mut cmd = Command::cargo_bin("aksform").unwrap();
    cmd.env_remove("AKSFORM_STATE")
        .env_remove("AKSFORM_CLOUD")
        .env("NO_COLOR", "1")
        .env("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION)
        .envs(emulator.environment())
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn run(emulator: &Emulator, args: &[&str], example: &Path, state: &Path) -> Output {
    aksform(emulator).args(args).arg(example).arg("--state").arg(state).output().unwrap()
}

fn text(output: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Writes that created a resource (201), by resource id: none may be created twice.
fn creations(emulator: &Emulator) -> BTreeMap<String, usize> {
    let mut created = BTreeMap::new();
    for write in emulator.operations() {
        if write.method == "PUT" && write.status == 201 {
            *created.entry(write.id.to_ascii_lowercase()).or_insert(0) += 1;
        }
    }
    created
}

fn apply_plan_destroy(example_name: &str) {
    apply_check_plan_destroy(example_name, |_, _, _| {});
}

/// Applies the example from empty, runs `applied` on the emulator, the state written and the
/// apply's output, then
/// plans (no changes) and destroys (nothing left).
fn apply_check_plan_destroy(example_name: &str, applied: impl FnOnce(&Emulator, &serde_json::Value, &str)) {
    let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(example_name);

    let apply = run(&emulator, &["apply", "--auto-approve"], &example, &state);
    assert!(apply.status.success(), "{example_name}: apply failed:\n{}", text(&apply));
    let stdout = String::from_utf8_lossy(&apply.stdout);
    assert!(stdout.contains("Apply complete"), "{stdout}");
    let created = creations(&emulator);
    assert!(created.keys().any(|id| id.contains("/managedclusters/")), "{created:?}");
    assert!(created.values().all(|&n| n == 1), "created twice: {created:?}");
    // Every LoadBalancer Service shows its address.
    let balancers = std::fs::read_dir(&example)
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "aks"))
        .map(|path| std::fs::read_to_string(path).unwrap())
        .map(|text| {
            text.lines().filter(|l| l.trim_start().starts_with("type") && l.contains("= load_balancer")).count()
        })
        .sum::<usize>();
    let shown = stdout.lines().filter(|l| l.trim_start().starts_with("service.") && l.contains(" = ")).count();
    assert_eq!(shown, balancers, "{example_name}: LoadBalancer Services without an address:\n{stdout}");
    let recorded = std::fs::read_to_string(&state).unwrap();
    assert!(!recorded.contains("client-certificate-data") && !recorded.contains("token:"), "credentials in the state");
    applied(&emulator, &serde_json::from_str(&recorded).unwrap(), &stdout);

    let plan = run(&emulator, &["plan", "--detailed-exitcode"], &example, &state);
    assert_eq!(plan.status.code(), Some(0), "{example_name}: plan after apply:\n{}", text(&plan));

    let destroy = run(&emulator, &["destroy", "--auto-approve"], &example, &state);
    assert!(destroy.status.success(), "{example_name}: destroy failed:\n{}", text(&destroy));
    assert_eq!(emulator.resources(), Vec::new(), "{example_name}: left in the emulator");
    assert_eq!(emulator.control_plane_count(), 0);
}

#[test]
fn kubenet_basic_applies_from_empty_in_one_run_plans_clean_and_destroys_to_nothing() {
    apply_plan_destroy("kubenet-basic");
}

#[test]
fn a_plan_for_a_stack_not_applied_yet_needs_no_credentials() {
    let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubenet-basic");
    let plan = aksform(&emulator)
        .env_remove("AKSFORM_ACCESS_TOKEN")
        .args(["plan", "--detailed-exitcode", "--state"])
        .arg(&state)
        .arg(&example)
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    let stdout = String::from_utf8_lossy(&plan.stdout);
    assert!(stdout.contains("+ service.hello"), "{stdout}");
    assert!(emulator.operations().is_empty());
}

#[test]
fn missing_credentials_say_which_variables_to_set() {
    let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubenet-basic");
    let apply = aksform(&emulator)
        .env_remove("AKSFORM_ACCESS_TOKEN")
        .args(["apply", "--auto-approve", "--state"])
        .arg(&state)
        .arg(&example)
        .output()
        .unwrap();
    assert!(!apply.status.success());
    let stderr = String::from_utf8_lossy(&apply.stderr);
    assert!(stderr.contains("--auth access-token needs AKSFORM_ACCESS_TOKEN"), "{stderr}");
    assert!(emulator.resources().is_empty());
}

#[test]
fn a_wrong_token_is_refused_with_arms_error_and_the_correlation_id() {
    let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubenet-basic");
    let apply = aksform(&emulator)
        .env("AKSFORM_ACCESS_TOKEN", "not-the-token")
        .args(["apply", "--auto-approve", "--state"])
        .arg(&state)
        .arg(&example)
        .output()
        .unwrap();
    assert!(!apply.status.success());
    let stderr = String::from_utf8_lossy(&apply.stderr);
    assert!(stderr.contains("InvalidAuthenticationToken"), "{stderr}");
    assert!(stderr.contains("correlation id"), "{stderr}");
    assert!(!stderr.contains("not-the-token"), "the token was printed: {stderr}");
}

#[test]
fn internal_lb_applies_plans_clean_and_destroys() {
    apply_plan_destroy("internal-lb");
}

#[test]
fn hub_spoke_applies_plans_clean_and_destroys() {
    apply_plan_destroy("hub-spoke");
}

#[test]
fn service_types_applies_plans_clean_and_destroys() {
    apply_plan_destroy("service-types");
}

#[test]
fn ingress_tls_applies_plans_clean_and_destroys() {
    apply_plan_destroy("ingress-tls");
}

/// The recorded attributes of `address` in a state file's JSON.
fn recorded<'a>(state: &'a serde_json::Value, address: &str) -> &'a serde_json::Value {
    let resources = state["resources"].as_array().unwrap();
    &resources.iter().find(|r| r["address"] == address).unwrap_or_else(|| panic!("{address} not recorded"))["attributes"]
}

#[test]
fn shop_applies_with_the_application_routing_add_on_and_its_dns_record_holds_the_ingress_address() {
    apply_check_plan_destroy("shop", |emulator, state, stdout| {
        let ingress = recorded(state, "ingress.shop")["address"].as_str().expect("the Ingress's address").to_string();
        assert!(stdout.contains(&format!("ingress.shop = {ingress}")), "{stdout}");
        assert_eq!(recorded(state, "dns_record.shop")["records"], serde_json::json!([ingress]));
        let zone = format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/shop/providers/Microsoft.Network/dnsZones/example.com"
        );
        let record = emulator.resource(&format!("{zone}/A/shop")).expect("the A record set");
        assert_eq!(record["properties"]["ARecords"], serde_json::json!([{ "ipv4Address": ingress }]));
        // The address is the add-on's own public IP in the node resource group, not the web
        // Service's.
        assert_ne!(recorded(state, "public_ip.web")["address"].as_str(), Some(ingress.as_str()));
        let controller_ips: Vec<serde_json::Value> = emulator
            .resources()
            .iter()
            .filter(|r| r.arm_type == "Microsoft.Network/publicIPAddresses")
            .filter_map(|r| emulator.resource(&r.id))
            .filter(|ip| ip["tags"]["k8s-azure-service"] == "app-routing-system/nginx")
            .collect();
        assert_eq!(controller_ips.len(), 1, "{controller_ips:?}");
        assert_eq!(controller_ips[0]["properties"]["ipAddress"], serde_json::json!(ingress));
        assert!(controller_ips[0]["id"].as_str().unwrap().contains("/resourceGroups/MC_shop_shop_westeurope/"));
        let cluster = emulator
            .resource(&format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/shop/providers/Microsoft.ContainerService/managedClusters/shop"))
            .expect("the cluster");
        assert_eq!(cluster["properties"]["ingressProfile"]["webAppRouting"]["enabled"], true);
        assert_eq!(cluster["properties"]["kubernetesVersion"], "1.33");
    });
}

#[test]
fn throttling_5xx_and_dropped_connections_are_retried_and_nothing_is_created_twice() {
    use aksform_sandbox::arm::{DropPoint, Fault, RequestMatch};
    let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
    let put = |path: &str| RequestMatch { method: Some("PUT".into()), path_contains: Some(path.into()) };
    emulator.inject_fault(Fault::Status {
        status: 503,
        count: 3,
        matching: put("/virtualNetworks/"),
        code: None,
        retry_after_seconds: Some(1),
    });
    emulator.inject_fault(Fault::Drop { count: 2, matching: put("/subnets/"), when: DropPoint::BeforeHandling });
    emulator.inject_fault(Fault::ThrottleStorm { fraction: 0.5, duration_seconds: 10.0, retry_after_seconds: 1 });
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/internal-lb");
    let apply = run(&emulator, &["apply", "--auto-approve"], &example, &state);
    assert!(apply.status.success(), "apply failed:\n{}", text(&apply));
    let answered: Vec<u16> = emulator.operations().iter().map(|w| w.status).collect();
    assert!(answered.contains(&503) && answered.contains(&429), "no fault was met: {answered:?}");
    let created = creations(&emulator);
    assert!(created.values().all(|&n| n == 1), "created twice: {created:?}");
    let plan = run(&emulator, &["plan", "--detailed-exitcode"], &example, &state);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}

#[test]
fn a_failed_operation_is_reported_with_arms_error_and_the_next_apply_converges() {
    use aksform_sandbox::arm::{ArmError, Fault, OperationFilter};
    let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
    let error = ArmError::bad_request("SubnetIsFull", "Subnet nodes does not have enough capacity for 2 IPs.")
        .with_target("agentPoolProfiles[0].vnetSubnetID");
    emulator.inject_fault(Fault::FailedOperation {
        resource_type: "Microsoft.ContainerService/managedClusters".into(),
        operation: OperationFilter::Create,
        count: 1,
        id_contains: None,
        error,
    });
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubenet-basic");
    let failed = run(&emulator, &["apply", "--auto-approve"], &example, &state);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("cluster.dev: SubnetIsFull: Subnet nodes does not have enough capacity"), "{stderr}");
    assert!(stderr.contains("(target: agentPoolProfiles[0].vnetSubnetID)"), "{stderr}");
    assert!(stderr.contains("correlation id"), "{stderr}");
    let recorded = std::fs::read_to_string(&state).unwrap();
    assert!(recorded.contains("\"vnet.dev.subnet.nodes\""), "{recorded}");

    let again = run(&emulator, &["apply", "--auto-approve"], &example, &state);
    assert!(again.status.success(), "second apply:\n{}", text(&again));
    let plan = run(&emulator, &["plan", "--detailed-exitcode"], &example, &state);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}

#[test]
fn egress_firewall_applies_with_user_defined_routing_plans_clean_and_destroys() {
    apply_check_plan_destroy("egress-firewall", |emulator, state, _| {
        let subnet = recorded(state, "vnet.spoke.subnet.nodes");
        assert_eq!(subnet["route_table"], "route_table.egress");
        let group = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/spoke/providers/Microsoft.Network");
        let live = emulator.resource(&format!("{group}/virtualNetworks/spoke/subnets/nodes")).expect("the subnet");
        assert_eq!(live["properties"]["routeTable"]["id"], format!("{group}/routeTables/egress"));
        let cluster = emulator
            .resource(&format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/spoke/providers/Microsoft.ContainerService/managedClusters/egress"))
            .expect("the cluster");
        assert_eq!(cluster["properties"]["networkProfile"]["outboundType"], "userDefinedRouting");
    });
}

#[test]
fn kubenet_nat_gateway_applies_with_its_outbound_through_the_gateway_plans_clean_and_destroys() {
    apply_check_plan_destroy("kubenet-nat-gateway", |emulator, state, _| {
        let group = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/edge/providers/Microsoft.Network");
        let gateway = emulator.resource(&format!("{group}/natGateways/egress")).expect("the NAT gateway");
        assert_eq!(gateway["properties"]["publicIpAddresses"][0]["id"], format!("{group}/publicIPAddresses/egress"));
        assert_eq!(gateway["properties"]["idleTimeoutInMinutes"], 10);
        assert_eq!(gateway["zones"], serde_json::json!(["1"]));
        let subnet = emulator.resource(&format!("{group}/virtualNetworks/edge/subnets/nodes")).expect("the subnet");
        assert_eq!(subnet["properties"]["natGateway"]["id"], format!("{group}/natGateways/egress"));
        assert_eq!(subnet["properties"]["routeTable"]["id"], format!("{group}/routeTables/pods"));
        assert_eq!(recorded(state, "nat_gateway.egress")["public_ips"], serde_json::json!(["public_ip.egress"]));
    });
}

/// A stack with a route table on a subnet, in `dir`, with `tags` on the table.
fn routed_stack(dir: &Path, tags: &str) -> std::path::PathBuf {
    let stack = dir.join("routed");
    std::fs::create_dir_all(&stack).unwrap();
    let text = r#"stack "routed" {
  subscription = env("AZURE_SUBSCRIPTION_ID")
  location     = westeurope
}

resource_group "net" {}

route_table "egress" {
  resource_group = resource_group.net
  tags           = TAGS

  route "default" {
    prefix      = 0.0.0.0/0
    next_hop    = virtual_appliance
    next_hop_ip = 10.0.1.4
  }
}

vnet "net" {
  resource_group = resource_group.net
  address_space  = [10.40.0.0/16]

  subnet "nodes" {
    prefix = 10.40.0.0/22
  }
}
"#;
    std::fs::write(stack.join("main.aks"), text.replace("TAGS", tags)).unwrap();
    stack
}

#[test]
fn routes_and_associations_others_add_are_kept_by_updates_and_never_show_as_changes() {
    let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let stack = routed_stack(dir.path(), r#"{ team = "platform" }"#);
    let apply = run(&emulator, &["apply", "--auto-approve"], &stack, &state);
    assert!(apply.status.success(), "apply failed:\n{}", text(&apply));

    // The network team adds a route to the table and associates the table with the subnet,
    // as a kubenet cluster's cloud provider and the portal do.
    let group = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/net/providers/Microsoft.Network");
    let table_id = format!("{group}/routeTables/egress");
    let subnet_id = format!("{group}/virtualNetworks/net/subnets/nodes");
    let http = reqwest::blocking::Client::new();
    let put = |id: &str, body: serde_json::Value| {
        let url = format!("{}{id}?api-version=2024-05-01", emulator.url());
        let reply = http.put(url).bearer_auth(emulator.token()).json(&body).send().unwrap();
        assert!(reply.status().is_success(), "{}", reply.text().unwrap_or_default());
    };
    put(
        &table_id,
        serde_json::json!({ "location": "westeurope", "tags": { "team": "platform", "aksform-address": "route_table.egress" }, "properties": { "routes": [
            { "name": "default", "properties": { "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.1.4" } },
            { "name": "onprem", "properties": { "addressPrefix": "192.168.0.0/16", "nextHopType": "VirtualNetworkGateway" } },
        ] } }),
    );
    put(
        &subnet_id,
        serde_json::json!({ "properties": { "addressPrefix": "10.40.0.0/22", "routeTable": { "id": table_id } } }),
    );
    // Wait for the writes to finish, as a plan would not see a half-written table.
    for _ in 0..200 {
        let states: Vec<String> = [&table_id, &subnet_id]
            .iter()
            .filter_map(|id| emulator.resource(id))
            .map(|r| r["properties"]["provisioningState"].as_str().unwrap_or_default().to_string())
            .collect();
        if states.iter().all(|s| s == "Succeeded") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    let plan = run(&emulator, &["plan", "--detailed-exitcode"], &stack, &state);
    assert_eq!(plan.status.code(), Some(0), "what others added shows as a change:\n{}", text(&plan));

    // An update of the table and a change of the subnet keep both.
    let stack = routed_stack(dir.path(), r#"{ team = "network" }"#);
    std::fs::write(
        stack.join("main.aks"),
        std::fs::read_to_string(stack.join("main.aks")).unwrap().replace("10.40.0.0/22", "10.40.0.0/21"),
    )
    .unwrap();
    // Someone writes the table between aksform's read and its write: the write is refused
    // (412 on the etag read) and merged again, not lost.
    use aksform_sandbox::arm::{Fault, RequestMatch};
    emulator.inject_fault(Fault::Status {
        status: 412,
        count: 1,
        matching: RequestMatch { method: Some("PUT".into()), path_contains: Some("/routeTables/".into()) },
        code: Some("PreconditionFailed".into()),
        retry_after_seconds: None,
    });
    let apply = run(&emulator, &["apply", "--auto-approve"], &stack, &state);
    assert!(apply.status.success(), "apply failed:\n{}", text(&apply));
    assert!(emulator.operations().iter().any(|w| w.status == 412), "the fault was not met");
    let table = emulator.resource(&table_id).unwrap();
    assert_eq!(table["tags"]["team"], "network");
    let names: Vec<&str> =
        table["properties"]["routes"].as_array().unwrap().iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["default", "onprem"]);
    let subnet = emulator.resource(&subnet_id).unwrap();
    assert_eq!(subnet["properties"]["addressPrefix"], "10.40.0.0/21");
    assert_eq!(subnet["properties"]["routeTable"]["id"], table_id.as_str());
    let plan = run(&emulator, &["plan", "--detailed-exitcode"], &stack, &state);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));

    // The stack now associates the table the team associated: the plan reads the association
    // back and finds nothing to do.
    std::fs::write(
        stack.join("main.aks"),
        std::fs::read_to_string(stack.join("main.aks"))
            .unwrap()
            .replace("prefix = 10.40.0.0/21", "prefix      = 10.40.0.0/21\n    route_table = route_table.egress"),
    )
    .unwrap();
    let plan = run(&emulator, &["plan", "--detailed-exitcode"], &stack, &state);
    assert_eq!(plan.status.code(), Some(0), "the association made outside shows as a change:\n{}", text(&plan));
}

#[test]
fn in_a_log_each_step_is_announced_when_it_starts_and_again_while_it_runs() {
    use aksform_sandbox::arm::LatencySettings;
    // Each operation takes 2.5 s, and a step still running is reported every second.
    let emulator = Emulator::start(EmulatorOptions {
        latency: LatencySettings { default_ms: 2500, ..Default::default() },
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stack = format!(
        "stack \"net\" {{\n  subscription = \"{SUBSCRIPTION}\"\n  location     = westeurope\n}}\n\n\
         resource_group \"rg\" {{}}\n{}",
        aksform_testkit::stacks::NETWORK
    );
    std::fs::write(dir.path().join("main.aks"), stack).unwrap();
    let output = aksform(&emulator)
        .args(["apply", "--auto-approve"])
        .arg(dir.path())
        .arg("--state")
        .arg(dir.path().join("state.json"))
        .env("AKSFORM_PROGRESS_INTERVAL", "1s")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let at = |line: &str| lines.iter().position(|l| l.trim() == line).unwrap_or_else(|| panic!("{line}:\n{stderr}"));
    // A resource group is created at once; a vnet is a long-running operation.
    let started = at("vnet.net: creating...");
    let still = lines
        .iter()
        .position(|l| l.trim().starts_with("vnet.net: still creating ("))
        .unwrap_or_else(|| panic!("{stderr}"));
    let done = lines.iter().position(|l| l.trim().starts_with("vnet.net: created (")).unwrap();
    assert!(started < still && still < done, "{stderr}");
    // The subnets start once their vnet exists.
    assert!(done < at("vnet.net.subnet.nodes: creating..."), "{stderr}");
}

#[test]
fn an_apply_whose_creates_would_take_over_resources_made_outside_its_state_changes_nothing() {
    let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stack = format!(
        "stack \"net\" {{\n  subscription = \"{SUBSCRIPTION}\"\n  location     = westeurope\n}}\n\n\
         resource_group \"rg\" {{}}\n{}",
        aksform_testkit::stacks::NETWORK
    );
    std::fs::write(dir.path().join("main.aks"), &stack).unwrap();
    // Another stack with the same names (its own state) made them first.
    let first = run(&emulator, &["apply", "--auto-approve"], dir.path(), &dir.path().join("other.json"));
    assert!(first.status.success(), "{}", text(&first));
    let writes = emulator.operations().len();

    let second = run(&emulator, &["apply", "--auto-approve"], dir.path(), &dir.path().join("mine.json"));
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    let stderr = String::from_utf8_lossy(&second.stderr);
    for address in ["resource_group.rg", "vnet.net", "vnet.net.subnet.nodes"] {
        assert!(
            stderr.contains(&format!("error: {address}: `/subscriptions/{SUBSCRIPTION}/resourceGroups/")),
            "{address}: {stderr}"
        );
    }
    assert!(stderr.contains("already exists and is not this stack's (another stack made it"), "{stderr}");
    assert!(stderr.contains("it is in `vnet.net`, and another stack made it"), "{stderr}");
    assert!(stderr.contains("aksform import vnet.net '/subscriptions/"), "{stderr}");
    assert!(stderr.contains("Nothing was changed."), "{stderr}");
    assert_eq!(emulator.operations().len(), writes, "no write was sent");
    assert!(!dir.path().join("mine.json").exists(), "no state was written");
}

#[test]
fn import_brings_existing_resources_under_the_stack_and_the_plan_shows_only_the_differences() {
    let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let made = dir.path().join("made");
    let stack = dir.path().join("stack");
    std::fs::create_dir_all(&made).unwrap();
    std::fs::create_dir_all(&stack).unwrap();
    let stack_text = |tags: &str| {
        format!(
            "stack \"net\" {{\n  subscription = \"{SUBSCRIPTION}\"\n  location     = westeurope\n}}\n\n\
             resource_group \"rg\" {{{tags}}}\n{}",
            aksform_testkit::stacks::NETWORK
        )
    };
    // Made by another tool (here: another stack, whose state is then thrown away).
    std::fs::write(made.join("main.aks"), stack_text("")).unwrap();
    let first = run(&emulator, &["apply", "--auto-approve"], &made, &dir.path().join("made.json"));
    assert!(first.status.success(), "{}", text(&first));
    // The stack that takes them over differs in one tag.
    std::fs::write(stack.join("main.aks"), stack_text("\n  tags = { team = \"net\" }\n")).unwrap();
    let state = dir.path().join("mine.json");
    let import = |address: &str, id: &str| {
        aksform(&emulator).args(["import", address, id]).arg(&stack).arg("--state").arg(&state).output().unwrap()
    };
    let group = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg");
    let vnet = format!("{group}/providers/Microsoft.Network/virtualNetworks/net");
    // An id the block does not name is refused, and so is an address the stack does not declare.
    let wrong = import("vnet.net", &format!("{group}/providers/Microsoft.Network/virtualNetworks/other"));
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong).contains("would be managed at"), "{}", text(&wrong));
    let undeclared = import("vnet.hub", &vnet);
    assert!(text(&undeclared).contains("`vnet.hub` is not declared in the stack"), "{}", text(&undeclared));
    let writes = emulator.operations().len();
    for (address, id) in [
        ("resource_group.rg", group.clone()),
        ("vnet.net", vnet.clone()),
        ("vnet.net.subnet.nodes", format!("{vnet}/subnets/nodes")),
        ("vnet.net.subnet.ilb", format!("{vnet}/subnets/ilb")),
    ] {
        let imported = import(address, &id);
        assert!(imported.status.success(), "{address}: {}", text(&imported));
        assert!(String::from_utf8_lossy(&imported.stdout).contains(&format!("Imported {address}")));
    }
    assert_eq!(emulator.operations().len(), writes, "import writes nothing to Azure");
    let again = import("vnet.net", &vnet);
    assert!(text(&again).contains("is in the state already"), "{}", text(&again));

    let plan =
        aksform(&emulator).args(["plan", "--format", "json"]).arg(&stack).arg("--state").arg(&state).output().unwrap();
    assert!(plan.status.success(), "{}", text(&plan));
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let actions: Vec<(String, String)> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["address"].as_str().unwrap().to_string(), a["action"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(actions, [("resource_group.rg".to_string(), "update".to_string())], "{plan:#}");
    let apply = run(&emulator, &["apply", "--auto-approve"], &stack, &state);
    assert!(apply.status.success(), "{}", text(&apply));
    let clean = run(&emulator, &["plan", "--detailed-exitcode"], &stack, &state);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
}

#[test]
fn a_refresh_lists_each_type_in_each_group_and_keeps_to_arms_read_bucket() {
    let emulator = Emulator::start(EmulatorOptions {
        latency: aksform_sandbox::arm::LatencySettings { default_ms: 0, ..Default::default() },
        ..EmulatorOptions::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (groups, ips, subnets, records) = (6, 60, 20, 20);
    // Resource groups, vnets, IPs, subnets, the zone, its records.
    let resources = groups * 2 + ips + subnets + 1 + records;
    let stack = "stack \"many\" {\n  subscription = env(\"AZURE_SUBSCRIPTION_ID\")\n  location     = westeurope\n}\n";
    let resources_text = aksform_testkit::large::generate_azure_resources(groups, ips, subnets, records);
    std::fs::write(dir.path().join("main.aks"), format!("{stack}{resources_text}")).unwrap();
    let state = dir.path().join("state.json");
    let apply = run(&emulator, &["apply", "--auto-approve"], dir.path(), &state);
    assert!(apply.status.success(), "{}", text(&apply));

    // A bucket of 8 reads, refilled faster than ARM's own 25 a second: more reads at once
    // than it holds would be refused.
    emulator.set_throttle(aksform_sandbox::arm::ThrottleSettings {
        read_burst: 8,
        reads_per_second: 40.0,
        ..Default::default()
    });
    let before = emulator.reads().len();
    let plan = run(&emulator, &["plan", "--detailed-exitcode"], dir.path(), &state);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    let reads: Vec<_> = emulator.reads().into_iter().skip(before).collect();
    let throttled: Vec<_> = reads.iter().filter(|r| r.status == 429).collect();
    assert!(throttled.is_empty(), "refused by the read bucket: {throttled:?}");
    assert!(reads.len() > 8, "more reads than the bucket holds, so that the pace shows: {reads:?}");
    assert!(reads.len() * 5 <= resources, "{} reads for {resources} resources: {reads:?}", reads.len());
    // Each vnet, alone of its type in its group, is read on its own; the groups, the IPs, the
    // subnets and the records with one list each, and what they read plans no changes.
    let listed = |tail: &str| reads.iter().filter(|r| r.path.to_ascii_lowercase().ends_with(tail)).count();
    assert_eq!(listed("/providers/microsoft.network/publicipaddresses"), 1, "{reads:?}");
    assert_eq!(listed("/virtualnetworks/v0/subnets"), 1, "{reads:?}");
    assert_eq!(listed("/virtualnetworks/v1"), 1, "{reads:?}");
    assert_eq!(listed("/dnszones/example.com/a"), 1, "{reads:?}");
    assert_eq!(listed("/resourcegroups"), 1, "{reads:?}");

    // Changed and deleted outside aksform (by Microsoft's SDK): the lists show both.
    let target = aksform_testkit::azure_mgmt::Target {
        url: emulator.url(),
        token: emulator.token(),
        subscription: SUBSCRIPTION,
    };
    aksform_testkit::azure_mgmt::run(
        &target,
        r#"
network.public_ip_addresses.begin_delete("g0", "ip5").result()
ip = network.public_ip_addresses.get("g0", "ip7")
ip.dns_settings = {"domainNameLabel": "drifted"}
network.public_ip_addresses.begin_create_or_update("g0", "ip7", ip).result()
out({})
"#,
    );
    let drifted = run(&emulator, &["plan", "--json"], dir.path(), &state);
    assert!(drifted.status.success(), "{}", text(&drifted));
    let plan: serde_json::Value = serde_json::from_slice(&drifted.stdout).unwrap();
    let drift: Vec<(String, String)> = plan["drift"]
        .as_array()
        .unwrap_or_else(|| panic!("{plan:#}"))
        .iter()
        .map(|d| (d["address"].as_str().unwrap().to_string(), d["status"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        drift,
        [("public_ip.ip5".to_string(), "deleted".to_string()), ("public_ip.ip7".to_string(), "changed".to_string())],
        "{plan:#}"
    );
}

/// The PUTs on agent pools the emulator answered: (pool name, status).
fn agent_pool_puts(emulator: &Emulator) -> Vec<(String, u16)> {
    let writes = emulator.operations();
    let puts = writes.iter().filter(|w| w.method == "PUT" && w.id.to_ascii_lowercase().contains("/agentpools/"));
    puts.map(|w| (w.id.rsplit('/').next().unwrap_or_default().to_string(), w.status)).collect()
}

#[test]
fn node_pools_go_in_their_clusters_create_and_are_put_on_their_own_only_to_change() {
    let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let stack = |pools: &str| {
        format!(
            "stack \"pools\" {{\n  subscription = env(\"AZURE_SUBSCRIPTION_ID\")\n  location     = westeurope\n}}\n\n\
             resource_group \"rg\" {{}}\n\ncluster \"c\" {{\n  resource_group = resource_group.rg\n  network kubenet {{}}\n{pools}}}\n"
        )
    };
    let system = "  node_pool \"system\" {\n    vm_size = \"Standard_D2s_v5\"\n    count   = 2\n  }\n";
    std::fs::write(dir.path().join("main.aks"), stack(system)).unwrap();
    let apply = run(&emulator, &["apply", "--auto-approve"], dir.path(), &state);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(String::from_utf8_lossy(&apply.stdout).contains("cluster.c.node_pool.system"), "{}", text(&apply));
    // On AKS a second PUT would be an update operation of its own, minutes long.
    assert_eq!(agent_pool_puts(&emulator), Vec::new(), "the pool was made by the cluster's create");
    let plan = run(&emulator, &["plan", "--detailed-exitcode"], dir.path(), &state);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));

    // A pool added and one changed: each gets its own PUT, the new one created.
    let changed = system.replace("count   = 2", "count   = 3");
    let apps = "  node_pool \"apps\" {\n    vm_size = \"Standard_D4s_v5\"\n    count   = 1\n  }\n";
    std::fs::write(dir.path().join("main.aks"), stack(&format!("{changed}{apps}"))).unwrap();
    let apply = run(&emulator, &["apply", "--auto-approve"], dir.path(), &state);
    assert!(apply.status.success(), "{}", text(&apply));
    let mut puts = agent_pool_puts(&emulator);
    puts.sort();
    assert_eq!(puts, vec![("apps".to_string(), 201), ("system".to_string(), 200)]);
    let pool = emulator.resource(&format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/system"
    ));
    assert_eq!(pool.unwrap()["properties"]["count"], 3);
    let plan = run(&emulator, &["plan", "--detailed-exitcode"], dir.path(), &state);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}
