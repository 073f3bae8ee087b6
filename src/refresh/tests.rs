//! The refresh stage against providers that answer from memory: live values over recorded
//! ones, drift by address, what cannot be reached, and failed reads.

use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::model::Value;
use crate::providers::{Applied, ApplyRequest, ErrorKind, Owned, Provider, ProviderError};
use crate::state::ResourceState;

/// Answers reads by provider id: live values, gone (`None`), or a failure.
struct Live(HashMap<String, Result<Option<Attributes>, ProviderError>>);

#[async_trait::async_trait]
impl Provider for Live {
    async fn apply(&self, _request: ApplyRequest<'_>) -> Result<Applied, ProviderError> {
        unreachable!("refresh only reads")
    }

    async fn read(&self, existing: Existing<'_>) -> Result<Option<Attributes>, ProviderError> {
        self.0.get(existing.provider_id).cloned().unwrap_or(Ok(None))
    }

    async fn delete(&self, _existing: Existing<'_>) -> Result<(), ProviderError> {
        unreachable!("refresh only reads")
    }

    async fn list_owned(&self) -> Result<Vec<Owned>, ProviderError> {
        Ok(Vec::new())
    }
}

struct Reached {
    live: Arc<Live>,
    signed_in: bool,
    automatic: bool,
    kubeconfig: bool,
}

impl Router for Reached {
    fn provider(&self, _address: &Address, _attributes: &Attributes) -> Result<Arc<dyn Provider>, ProviderError> {
        Ok(self.live.clone())
    }
}

#[async_trait::async_trait]
impl Reach for Reached {
    async fn sign_in(&self) -> Result<(), SignInError> {
        if self.signed_in { Ok(()) } else { Err("no credentials found".into()) }
    }

    fn automatic_credentials(&self) -> bool {
        self.automatic
    }

    fn has_kubeconfig(&self, _cluster: &Address) -> bool {
        self.kubeconfig
    }
}

fn attributes(pairs: &[(&str, Value)]) -> Attributes {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn recorded(address: &str, pairs: &[(&str, Value)]) -> ResourceState {
    let mut resource = ResourceState::new(address.parse().unwrap());
    resource.provider_id = Some(format!("id/{address}"));
    resource.attributes = attributes(pairs);
    resource
}

/// A public IP, a vnet and a Service in `cluster.shop`.
fn state() -> State {
    let mut state = State::new("shop");
    state.resources = vec![
        recorded("public_ip.web", &[("sku", Value::str("Standard")), ("address", Value::str("20.1.2.3"))]),
        recorded("vnet.shop", &[("address_space", Value::list(["10.0.0.0/16"]))]),
        recorded("service.web", &[("cluster", Value::str("cluster.shop")), ("type", Value::str("ClusterIP"))]),
    ];
    state
}

fn reached(live: &[(&str, Result<Option<Attributes>, ProviderError>)]) -> Reached {
    let live = live.iter().map(|(address, read)| (format!("id/{address}"), read.clone())).collect();
    Reached { live: Arc::new(Live(live)), signed_in: true, automatic: false, kubeconfig: true }
}

fn run(state: &State, providers: Reached) -> Result<Refreshed, RefreshError> {
    refresh(state, || providers)
}

#[test]
fn live_values_replace_recorded_ones_and_drift_comes_by_address() {
    let state = state();
    let providers = reached(&[
        (
            "public_ip.web",
            Ok(Some(attributes(&[("sku", Value::str("Standard")), ("address", Value::str("20.9.9.9"))]))),
        ),
        (
            "service.web",
            Ok(Some(attributes(&[("cluster", Value::str("cluster.shop")), ("type", Value::str("ClusterIP"))]))),
        ),
        ("vnet.shop", Ok(None)),
    ]);
    let refreshed = run(&state, providers).unwrap();
    let addresses: Vec<&Address> = refreshed.drift.iter().map(|d| &d.address).collect();
    assert_eq!(addresses.len(), 2, "the Service is live as recorded");
    assert!(addresses.is_sorted(), "{addresses:?}");
    let ip = refreshed.drift.iter().find(|d| d.address.to_string() == "public_ip.web").unwrap();
    assert_eq!(
        ip.kind,
        DriftKind::Changed(vec![FieldDrift {
            path: crate::plan::FieldPath::attribute("address"),
            recorded: Value::str("20.1.2.3"),
            live: Value::str("20.9.9.9"),
        }])
    );
    let vnet = refreshed.drift.iter().find(|d| d.address.to_string() == "vnet.shop").unwrap();
    assert_eq!(vnet.kind, DriftKind::Deleted);
    assert!(!refreshed.state.contains(&vnet.address), "what is gone leaves the state");
    let ip = refreshed.state.get(&ip.address).unwrap();
    assert_eq!(ip.attributes.get("address"), Some(&Value::str("20.9.9.9")));
    assert_eq!((refreshed.not_refreshed, refreshed.errors.len()), (0, 0));
}

#[test]
fn an_empty_state_connects_to_nothing() {
    let refreshed = refresh(&State::new("shop"), || -> Reached { unreachable!("nothing to read") }).unwrap();
    assert!(refreshed.drift.is_empty() && refreshed.state.resources.is_empty());
}

#[test]
fn azure_credentials_not_found_leave_azure_resources_as_recorded() {
    let state = state();
    let mut providers = reached(&[("service.web", Ok(None))]);
    (providers.signed_in, providers.automatic) = (false, true);
    let refreshed = run(&state, providers).unwrap();
    assert_eq!(refreshed.not_refreshed, 2);
    assert_eq!(refreshed.notes, ["Azure: no credentials found"]);
    assert_eq!(refreshed.drift.len(), 1, "the Service is read with its kubeconfig");
    assert!(refreshed.state.contains(&"vnet.shop".parse().unwrap()));
}

#[test]
fn azure_credentials_asked_for_and_refused_stop_the_refresh() {
    let mut providers = reached(&[]);
    providers.signed_in = false;
    let error = run(&state(), providers).unwrap_err();
    assert_eq!(error.to_string(), "cannot sign in to Azure: no credentials found");
}

#[test]
fn one_failure_of_many_resources_is_one_line_naming_them() {
    let mut state = State::new("shop");
    state.resources = ["a", "b", "c", "d", "e"].iter().map(|n| recorded(&format!("vnet.{n}"), &[])).collect();
    let refused = ProviderError { kind: ErrorKind::Unauthorized, message: "the token has expired".into() };
    let reads: Vec<(String, _)> =
        state.resources.iter().map(|r| (r.address.to_string(), Err(refused.clone()))).collect();
    let reads: Vec<(&str, _)> = reads.iter().map(|(a, r)| (a.as_str(), r.clone())).collect();
    let refreshed = run(&state, reached(&reads)).unwrap();
    assert_eq!(refreshed.errors, ["vnet.a, vnet.b, and 3 more: the token has expired"]);
    assert!(refreshed.drift.is_empty());
}
