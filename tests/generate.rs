//! `aksform generate --from-cluster`: the shop example applied on the ARM emulator (its
//! cluster a real kube-apiserver), a stack written from its cluster, which validates, is
//! fmt-clean, plans only its imports into a fresh state, and once applied plans no changes.

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
        .envs(emulator.environment());
    cmd
}

fn text(output: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The (address, id) of each import block of a generated `imports.aks`.
fn import_blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut to = None;
    for line in text.lines().map(str::trim) {
        if let Some(address) = line.strip_prefix("to = ") {
            to = Some(address.to_string());
        } else if let Some(id) = line.strip_prefix("id = ") {
            out.push((to.take().expect("`to` before `id`"), id.trim_matches('"').to_string()));
        }
    }
    out
}

#[test]
fn a_stack_generated_from_the_shop_cluster_validates_is_fmt_clean_and_imported_plans_no_changes() {
    let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    let state = dir.path().join("shop.json");
    let apply =
        aksform(&emulator).args(["apply", "--auto-approve"]).arg(&example).arg("--state").arg(&state).output().unwrap();
    assert!(apply.status.success(), "{}", text(&apply));

    let cluster = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/shop/providers/Microsoft.ContainerService/managedClusters/shop"
    );
    let out = dir.path().join("generated");
    let generated =
        aksform(&emulator).args(["generate", "--from-cluster", &cluster, "--out"]).arg(&out).output().unwrap();
    assert!(generated.status.success(), "{}", text(&generated));
    let main = std::fs::read_to_string(out.join("main.aks")).unwrap();
    let kubernetes = std::fs::read_to_string(out.join("kubernetes.aks")).unwrap();
    // Alignment aside.
    let words = |text: &str| {
        text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n")
    };
    let (main_words, kubernetes_words) = (words(&main), words(&kubernetes));
    for expected in [
        "subnet = vnet.shop.subnet.nodes",
        "resource_group = resource_group.shop",
        "web_app_routing = true",
        "autoscale = 3..20",
        "resource_group = cluster.shop.node_resource_group",
        "dns_zone \"example.com\"",
        "dns_record \"shop\" {\nzone = dns_zone.\"example.com\"\na = ingress.shop.address\n}",
    ] {
        assert!(main_words.contains(expected), "main.aks lacks `{expected}`:\n{main}");
    }
    for expected in [
        "namespace = namespace.shop",
        "type = load_balancer { public_ip = public_ip.web }",
        "load_balancer internal { subnet = vnet.shop.subnet.ilb ip = 10.20.8.10 }",
        "port http 80 -> 8080",
        "node_port = 30022",
        "external_name \"billing.legacy.example.com\"",
        "path \"/api\" -> service.orders:api",
        "tls \"shop-tls\"",
    ] {
        assert!(kubernetes_words.contains(expected), "kubernetes.aks lacks `{expected}`:\n{kubernetes}");
    }
    assert!(!kubernetes.contains("kube-system") && !kubernetes.contains("\"kubernetes\""), "{kubernetes}");

    let fmt = Command::cargo_bin("aksform").unwrap().args(["fmt", "--check"]).arg(&out).output().unwrap();
    assert!(fmt.status.success(), "fmt-clean: {}", text(&fmt));
    // Not to be written over.
    let again = aksform(&emulator).args(["generate", "--from-cluster", &cluster, "--out"]).arg(&out).output().unwrap();
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(text(&again).contains("holds .aks files already"), "{}", text(&again));

    let imports = import_blocks(&std::fs::read_to_string(out.join("imports.aks")).unwrap());
    let validate = aksform(&emulator).arg("validate").arg(&out).output().unwrap();
    assert!(validate.status.success(), "{}", text(&validate));
    let addresses: Vec<&str> = imports.iter().map(|(a, _)| a.as_str()).collect();
    for address in [
        "resource_group.shop",
        "vnet.shop",
        "vnet.shop.subnet.nodes",
        "cluster.shop",
        "cluster.shop.node_pool.apps",
        "public_ip.web",
        "namespace.shop",
        "service.web",
        "ingress.shop",
        "dns_zone.\"example.com\"",
    ] {
        assert!(addresses.contains(&address), "no import of {address}: {addresses:?}");
    }

    // Under the name of the stack that made it, planned against that stack's state: nothing
    // to do.
    let named = dir.path().join("named");
    let generated = aksform(&emulator)
        .args(["generate", "--from-cluster", &cluster, "--stack", "shop-prod", "--out"])
        .arg(&named)
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", text(&generated));
    let original = aksform(&emulator)
        .args(["plan", "--detailed-exitcode"])
        .arg(&named)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(original.status.code(), Some(0), "{}", text(&original));

    // Planned into a fresh state: every resource imported as it is, nothing else.
    let fresh = dir.path().join("fresh.json");
    let plan = aksform(&emulator).args(["plan", "--json"]).arg(&out).arg("--state").arg(&fresh).output().unwrap();
    assert!(plan.status.success(), "{}", text(&plan));
    let plan_json: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let summary = &plan_json["summary"];
    assert_eq!(summary["import"].as_u64(), Some(imports.len() as u64), "{plan_json:#}");
    // The role assignments the cluster's identity holds are made again, which Azure answers
    // with the one there.
    let actions = plan_json["actions"].as_array().unwrap();
    let creates: Vec<&str> =
        actions.iter().filter(|a| a["action"] == "create").map(|a| a["kind"].as_str().unwrap()).collect();
    assert!(creates.iter().all(|kind| *kind == "role_assignment"), "{plan_json:#}");
    for count in ["update", "replace", "delete"] {
        assert_eq!(summary[count].as_u64(), Some(0), "{count}: {plan_json:#}\n{main}\n{kubernetes}");
    }
    for action in actions.iter().filter(|a| a["action"] == "import") {
        assert!(action["changes"].as_array().is_none_or(Vec::is_empty), "an import with differences: {action:#}");
    }
    let apply =
        aksform(&emulator).args(["apply", "--auto-approve"]).arg(&out).arg("--state").arg(&fresh).output().unwrap();
    assert!(apply.status.success(), "{}", text(&apply));
    let plan =
        aksform(&emulator).args(["plan", "--detailed-exitcode"]).arg(&out).arg("--state").arg(&fresh).output().unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}\n{main}\n{kubernetes}", text(&plan));
}

#[test]
fn a_wrong_id_or_a_missing_cluster_is_an_error_with_a_hint() {
    let emulator = Emulator::start(EmulatorOptions::default()).unwrap();
    let wrong =
        aksform(&emulator).args(["generate", "--from-cluster", "/subscriptions/x/resourceGroups/rg"]).output().unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong).contains("not the id of a managed cluster") && text(&wrong).contains("hint:"),
        "{}",
        text(&wrong)
    );
    let missing = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/nowhere/providers/Microsoft.ContainerService/managedClusters/none"
    );
    let gone = aksform(&emulator).args(["generate", "--from-cluster", &missing]).output().unwrap();
    assert_eq!(gone.status.code(), Some(1), "{}", text(&gone));
    assert!(
        text(&gone).contains("there is no such managed cluster") && text(&gone).contains("hint:"),
        "{}",
        text(&gone)
    );
}
