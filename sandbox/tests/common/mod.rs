//! A small blocking ARM client for the emulator's tests: api-versions picked from the path,
//! the bearer token, and polling of long-running operations; and what the cluster tests share
//! (a cluster body, its kubeconfig and a Kubernetes client for it).

#![allow(dead_code)]

use std::time::{Duration, Instant};

use aksform_sandbox::arm::{
    AUTHORIZATION_API_VERSION, CONTAINER_SERVICE_API_VERSION, DNS_API_VERSION, Emulator, EmulatorOptions,
    NETWORK_API_VERSION, RESOURCES_API_VERSION,
};
use reqwest::blocking::Client;
use reqwest::header::HeaderMap;
use serde_json::Value;

pub const SUB: &str = "00000000-0000-0000-0000-000000000001";

pub struct Arm {
    pub emulator: Emulator,
    pub http: Client,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    pub fn code(&self) -> &str {
        self.body.pointer("/error/code").and_then(Value::as_str).unwrap_or("")
    }

    pub fn state(&self) -> &str {
        self.body.pointer("/properties/provisioningState").and_then(Value::as_str).unwrap_or("")
    }

    /// Fails the test with the body unless the status is one of `expected`.
    pub fn expect(self, expected: &[u16]) -> Reply {
        assert!(expected.contains(&self.status), "expected {expected:?}, got {}: {}", self.status, self.body);
        self
    }

    pub fn expect_error(self, status: u16, code: &str) -> Reply {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.body);
        self
    }
}

/// The api-version of the provider a path belongs to.
pub fn version_for(path: &str) -> &'static str {
    let lower = path.to_ascii_lowercase();
    if lower.contains("/providers/microsoft.authorization/") {
        AUTHORIZATION_API_VERSION
    } else if lower.contains("/microsoft.containerservice/") {
        CONTAINER_SERVICE_API_VERSION
    } else if lower.contains("/dnszones/") {
        DNS_API_VERSION
    } else if lower.contains("/microsoft.network/") {
        NETWORK_API_VERSION
    } else {
        RESOURCES_API_VERSION
    }
}

pub fn rg(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{name}")
}

pub fn network(group: &str, rest: &str) -> String {
    format!("{}/providers/Microsoft.Network/{rest}", rg(group))
}

pub fn aks(group: &str, rest: &str) -> String {
    format!("{}/providers/Microsoft.ContainerService/{rest}", rg(group))
}

impl Arm {
    pub fn start() -> Arm {
        Arm::start_with(EmulatorOptions {
            latency: aksform_sandbox::arm::LatencySettings { default_ms: 30, ..Default::default() },
            ..Default::default()
        })
    }

    pub fn start_with(options: EmulatorOptions) -> Arm {
        let emulator = Emulator::start(options).expect("the emulator starts");
        let http = Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
        Arm { emulator, http }
    }

    pub fn url(&self, path: &str) -> String {
        let separator = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{separator}api-version={}", self.emulator.url(), version_for(path))
    }

    pub fn send(&self, method: reqwest::Method, url: &str, body: Option<&Value>) -> Reply {
        let mut request = self.http.request(method, url).bearer_auth(self.emulator.token());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().expect("the emulator answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().unwrap_or_default();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Reply { status, headers, body }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, &self.url(path), None)
    }

    pub fn put(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PUT, &self.url(path), Some(&body))
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, &self.url(path), None)
    }

    pub fn post(&self, path: &str) -> Reply {
        self.send(reqwest::Method::POST, &self.url(path), None)
    }

    /// Polls the Azure-AsyncOperation URL of a 201/202 until the operation ends; returns the
    /// final status resource.
    pub fn wait(&self, started: &Reply) -> Value {
        let url = started.header("azure-asyncoperation").expect("an Azure-AsyncOperation header").to_string();
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let status = self.send(reqwest::Method::GET, &url, None).expect(&[200]);
            match status.body["status"].as_str() {
                Some("InProgress") => {}
                Some(_) => return status.body,
                None => panic!("no status in {}", status.body),
            }
            assert!(Instant::now() < deadline, "the operation did not end: {}", status.body);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// PUT, wait for the operation if there is one, and return the resource as GET shows it.
    pub fn create(&self, path: &str, body: Value) -> Value {
        let reply = self.put(path, body).expect(&[200, 201]);
        if reply.header("azure-asyncoperation").is_some() {
            let status = self.wait(&reply);
            assert_eq!(status["status"], "Succeeded", "{status}");
        }
        self.get(path).expect(&[200]).body
    }

    /// DELETE and wait until the resource is gone.
    pub fn remove(&self, path: &str) {
        let reply = self.delete(path).expect(&[200, 202, 204]);
        if reply.status == 202 {
            let status = self.wait(&reply);
            assert_eq!(status["status"], "Succeeded", "{status}");
        }
    }

    pub fn group(&self, name: &str) {
        self.create(&rg(name), serde_json::json!({ "location": "eastus" }));
    }

    /// A resource group with VNet `vnet` (10.1.0.0/16) and subnet `aks` (10.1.0.0/22).
    pub fn network(&self, group: &str) -> String {
        self.group(group);
        self.create(
            &network(group, "virtualNetworks/vnet"),
            serde_json::json!({ "location": "eastus", "properties": { "addressSpace": { "addressPrefixes": ["10.1.0.0/16"] } } }),
        );
        let subnet = network(group, "virtualNetworks/vnet/subnets/aks");
        self.create(&subnet, serde_json::json!({ "properties": { "addressPrefix": "10.1.0.0/22" } }));
        subnet
    }
}

/// Waits until `check` returns a value; fails the test after a while.
pub fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Arm {
    /// The kubeconfig a credential action (`listClusterUserCredential`, ...) returns.
    pub fn kubeconfig(&self, cluster: &str, action: &str) -> String {
        use base64::Engine;
        let reply = self.post(&format!("{cluster}/{action}")).expect(&[200]);
        let value = reply.body["kubeconfigs"][0]["value"].as_str().expect("a kubeconfig value");
        let bytes = base64::engine::general_purpose::STANDARD.decode(value).expect("base64");
        String::from_utf8(bytes).expect("utf-8")
    }

    /// A Kubernetes client for the cluster's control plane, with the user credentials.
    pub fn kube_client(&self, runtime: &tokio::runtime::Runtime, cluster: &str) -> kube::Client {
        let yaml = self.kubeconfig(cluster, "listClusterUserCredential");
        runtime.block_on(async {
            let kubeconfig = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await.unwrap();
            kube::Client::try_from(config).unwrap()
        })
    }
}

/// An Azure CNI Overlay cluster in `eastus` with one System pool of two nodes on `subnet_id`.
pub fn cluster_body(subnet_id: &str) -> Value {
    serde_json::json!({
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
