//! Throttling and injected faults, through the control endpoints under `/_emulator/` and the
//! in-process methods: 429 with Retry-After, 5xx bursts, dropped connections, failed
//! long-running operations, write-throttling storms, and the write log that shows what happened.

mod common;

use std::time::{Duration, Instant};

use aksform_sandbox::arm::{EmulatorOptions, Fault, LatencySettings, ThrottleSettings};
use common::{Arm, network, rg};
use serde_json::{Value, json};

fn control(arm: &Arm, method: reqwest::Method, path: &str, body: Option<Value>) -> common::Reply {
    let url = format!("{}/_emulator/{path}", arm.emulator.url());
    arm.send(method, &url, body.as_ref())
}

fn pip_body() -> Value {
    json!({ "location": "eastus", "sku": { "name": "Standard" } })
}

#[test]
fn token_buckets_answer_429_with_retry_after_and_refill() {
    let arm = Arm::start_with(EmulatorOptions {
        throttle: ThrottleSettings {
            write_burst: 3,
            writes_per_second: 2.0,
            read_burst: 5,
            reads_per_second: 1.0,
            delete_burst: 1,
            deletes_per_second: 0.5,
        },
        ..Default::default()
    });
    let paths: Vec<String> = (0..3).map(|i| rg(&format!("rg{i}"))).collect();
    for path in &paths {
        arm.put(path, json!({ "location": "eastus" })).expect(&[201]);
    }
    let refused =
        arm.put(&rg("rg3"), json!({ "location": "eastus" })).expect_error(429, "SubscriptionRequestsThrottled");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("'write'"));
    // Reads have a bucket of their own.
    arm.get(&paths[0]).expect(&[200]);
    std::thread::sleep(Duration::from_millis(600));
    arm.put(&rg("rg3"), json!({ "location": "eastus" })).expect(&[201]);
    for _ in 0..4 {
        arm.get(&paths[0]).expect(&[200]);
    }
    let reads = arm.get(&paths[0]).expect_error(429, "SubscriptionRequestsThrottled");
    assert!(reads.body["error"]["message"].as_str().unwrap().contains("'read'"));
    // Deletes have a bucket of their own too.
    arm.delete(&paths[0]).expect(&[200, 202]);
    let deletes = arm.delete(&paths[1]).expect_error(429, "SubscriptionRequestsThrottled");
    assert!(deletes.body["error"]["message"].as_str().unwrap().contains("'delete'"));
    // The control endpoints are never throttled.
    control(&arm, reqwest::Method::GET, "resources", None).expect(&[200]);
}

#[test]
fn status_bursts_and_storms_refuse_requests_without_carrying_them_out() {
    let arm = Arm::start();
    arm.group("rg");
    let burst = json!({ "kind": "status", "status": 503, "count": 2, "method": "PUT", "pathContains": "/publicIPAddresses/", "retryAfterSeconds": 1 });
    control(&arm, reqwest::Method::POST, "faults", Some(burst)).expect(&[201]);
    let path = network("rg", "publicIPAddresses/p");
    for _ in 0..2 {
        let refused = arm.put(&path, pip_body()).expect_error(503, "ServiceUnavailable");
        assert_eq!(refused.header("retry-after"), Some("1"));
    }
    arm.get(&path).expect_error(404, "ResourceNotFound");
    arm.create(&path, pip_body());

    // Half the writes are throttled for the storm's duration; reads pass.
    arm.emulator.inject_fault(Fault::ThrottleStorm { fraction: 0.5, duration_seconds: 30.0, retry_after_seconds: 2 });
    let statuses: Vec<u16> =
        (0..10).map(|i| arm.put(&rg(&format!("storm{i}")), json!({ "location": "eastus" })).status).collect();
    assert_eq!(statuses.iter().filter(|status| **status == 429).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|status| **status == 201).count(), 5, "{statuses:?}");
    arm.get(&path).expect(&[200]);
    assert_eq!(control(&arm, reqwest::Method::GET, "faults", None).body["value"][0]["kind"], "throttleStorm");
    control(&arm, reqwest::Method::DELETE, "faults", None).expect(&[204]);
    assert!(arm.emulator.faults().is_empty());
    for i in 0..4 {
        arm.put(&rg(&format!("calm{i}")), json!({ "location": "eastus" })).expect(&[201]);
    }
}

#[test]
fn dropped_connections_lose_the_answer_before_or_after_the_change() {
    let arm = Arm::start();
    arm.group("rg");
    let before = network("rg", "publicIPAddresses/before");
    let after = network("rg", "publicIPAddresses/after");
    arm.emulator.inject_fault(
        serde_json::from_value(json!({ "kind": "drop", "count": 1, "pathContains": "/before" })).unwrap(),
    );
    let url = arm.url(&before);
    let lost = arm.http.put(&url).bearer_auth(arm.emulator.token()).json(&pip_body()).send();
    assert!(lost.is_err(), "the connection should close without an answer: {lost:?}");
    arm.get(&before).expect_error(404, "ResourceNotFound");

    arm.emulator.inject_fault(
        serde_json::from_value(
            json!({ "kind": "drop", "count": 1, "pathContains": "/after", "when": "afterHandling" }),
        )
        .unwrap(),
    );
    let url = arm.url(&after);
    let lost = arm.http.put(&url).bearer_auth(arm.emulator.token()).json(&pip_body()).send();
    assert!(lost.is_err(), "{lost:?}");
    // The change was made; once its operation ends, a retried PUT updates it, and the log
    // shows one creation.
    assert!(arm.get(&after).expect(&[200]).body["properties"]["ipAddress"].is_string());
    let deadline = Instant::now() + Duration::from_secs(10);
    while arm.get(&after).state() != "Succeeded" {
        assert!(Instant::now() < deadline, "the creation did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    arm.put(&after, pip_body()).expect(&[200]);
    let log = control(&arm, reqwest::Method::GET, "operations", None).expect(&[200]).body;
    let after_id = arm.get(&after).body["id"].as_str().unwrap().to_string();
    let puts: Vec<u64> = log["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["method"] == "PUT" && entry["id"] == json!(after_id))
        .map(|entry| entry["status"].as_u64().unwrap())
        .collect();
    assert_eq!(puts, vec![201, 200]);
    let before_id = format!("{}/providers/Microsoft.Network/publicIPAddresses/before", rg("rg"));
    assert!(
        log["value"].as_array().unwrap().iter().any(|entry| entry["id"] == json!(before_id) && entry["status"] == 0)
    );
}

#[test]
fn a_failed_operation_reports_arm_s_error_and_the_next_put_converges() {
    let arm = Arm::start();
    arm.group("rg");
    let fault = json!({
        "kind": "failedOperation", "resourceType": "Microsoft.Network/publicIPAddresses", "operation": "create",
        "error": { "code": "PublicIPAddressAllocationFailed", "message": "Allocation failed.", "target": "ipAddress",
                   "details": [{ "code": "CapacityExhausted", "message": "No capacity in eastus." }] }
    });
    control(&arm, reqwest::Method::POST, "faults", Some(fault)).expect(&[201]);
    let path = network("rg", "publicIPAddresses/p");
    let started = arm.put(&path, pip_body()).expect(&[201]);
    let status = arm.wait(&started);
    assert_eq!(status["status"], "Failed");
    assert_eq!(status["error"]["code"], "PublicIPAddressAllocationFailed");
    assert_eq!(status["error"]["target"], "ipAddress");
    assert_eq!(status["error"]["details"][0]["code"], "CapacityExhausted");
    assert_eq!(arm.get(&path).state(), "Failed");
    let retried = arm.put(&path, pip_body()).expect(&[200]);
    assert_eq!(arm.wait(&retried)["status"], "Succeeded");
    assert_eq!(arm.get(&path).state(), "Succeeded");

    // A failed delete leaves the resource, Failed; its Location answers with the error.
    arm.emulator.inject_fault(
        serde_json::from_value(json!({
            "kind": "failedOperation", "resourceType": "microsoft.network/publicipaddresses", "operation": "delete",
            "error": { "code": "InternalServerError", "message": "Delete failed." }
        }))
        .unwrap(),
    );
    let deleting = arm.delete(&path).expect(&[202]);
    assert_eq!(arm.wait(&deleting)["status"], "Failed");
    let location = deleting.header("location").unwrap().to_string();
    let failed = arm.send(reqwest::Method::GET, &location, None);
    assert_eq!(failed.code(), "InternalServerError");
    assert_eq!(arm.get(&path).state(), "Failed");
    arm.remove(&path);
}

#[test]
fn latencies_are_set_per_type_over_http() {
    let arm = Arm::start_with(EmulatorOptions {
        latency: LatencySettings { default_ms: 0, ..Default::default() },
        ..Default::default()
    });
    arm.group("rg");
    let latency = json!({ "defaultMs": 0, "types": { "Microsoft.Network/publicIPAddresses": 700 } });
    control(&arm, reqwest::Method::PUT, "latency", Some(latency.clone())).expect(&[200]);
    assert_eq!(control(&arm, reqwest::Method::GET, "latency", None).body, latency);
    let started = Instant::now();
    arm.create(&network("rg", "publicIPAddresses/slow"), pip_body());
    assert!(started.elapsed() >= Duration::from_millis(700), "{:?}", started.elapsed());
    // An update's latency is the create's unless set apart.
    let with_updates = json!({ "defaultMs": 0, "types": { "Microsoft.Network/publicIPAddresses": 0 }, "updates": { "Microsoft.Network/publicIPAddresses": 700 } });
    control(&arm, reqwest::Method::PUT, "latency", Some(with_updates.clone())).expect(&[200]);
    assert_eq!(control(&arm, reqwest::Method::GET, "latency", None).body, with_updates);
    let started = Instant::now();
    arm.create(&network("rg", "publicIPAddresses/quick"), pip_body());
    assert!(started.elapsed() < Duration::from_millis(700), "a create: {:?}", started.elapsed());
    let started = Instant::now();
    arm.create(&network("rg", "publicIPAddresses/slow"), pip_body());
    assert!(started.elapsed() >= Duration::from_millis(700), "an update: {:?}", started.elapsed());
    arm.remove(&network("rg", "publicIPAddresses/quick"));
    let summary = control(&arm, reqwest::Method::GET, "resources", None).body;
    let types: Vec<&str> = summary["value"].as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["Microsoft.Resources/resourceGroups", "Microsoft.Network/publicIPAddresses"]);
    control(&arm, reqwest::Method::PUT, "latency", Some(json!({ "defaultMs": "slow" })))
        .expect_error(400, "InvalidRequestContent");
}
