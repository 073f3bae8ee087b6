//! `aksform-sandbox up`: prints the environment that points aksform at the emulator, serves
//! with that token, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn up_prints_the_exports_serves_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aksform-sandbox"))
        .args(["up", "--port", "0", "--latency-ms", "10", "--latency-ms", "Microsoft.Network/virtualNetworks=20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut exports = std::collections::BTreeMap::new();
    for _ in 0..3 {
        let line = lines.next().unwrap().unwrap();
        let (name, value) = line.strip_prefix("export ").unwrap().split_once('=').unwrap();
        exports.insert(name.to_string(), value.to_string());
    }
    assert_eq!(exports["AKSFORM_AUTH"], "access-token");
    let endpoint = &exports["AKSFORM_ARM_ENDPOINT"];
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let token = &exports["AKSFORM_ACCESS_TOKEN"];
    assert_eq!(token.len(), 32);

    let http = reqwest::blocking::Client::new();
    let latency: serde_json::Value =
        http.get(format!("{endpoint}/_emulator/latency")).bearer_auth(token).send().unwrap().json().unwrap();
    assert_eq!(latency, serde_json::json!({ "defaultMs": 10, "types": { "Microsoft.Network/virtualNetworks": 20 } }));
    let group = http
        .put(format!("{endpoint}/subscriptions/s/resourcegroups/rg?api-version=2024-03-01"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "location": "eastus" }))
        .send()
        .unwrap();
    assert_eq!(group.status().as_u16(), 201);

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "aksform-sandbox did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    assert!(http.get(format!("{endpoint}/_emulator/resources")).bearer_auth(token).send().is_err());
}
