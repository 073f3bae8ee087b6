//! Refresh: the stage between [`crate::state`] and [`crate::plan`] that reads what is live for
//! every recorded resource that can be reached, tells what was changed outside aksform
//! ([`Drift`]), and gives the planner the live state to plan against. Only what the state
//! records is read: a stack not yet applied needs no credentials. What to read through comes
//! in as a [`Reach`]: Resource Manager for Azure resources, a cluster's Kubernetes API for
//! its objects.

mod drift;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use futures::future;

pub use drift::{Drift, DriftKind, FieldDrift, drift_of};

use crate::apply::{Router, cluster_of};
use crate::model::{Address, Kind};
use crate::providers::{Attributes, ErrorKind, Existing, Provider, ProviderError};
use crate::state::{ResourceState, State};

/// The recorded resources one provider reads, with their provider ids.
type Batch<'a> = Vec<(&'a ResourceState, String)>;

/// Why signing in to Azure failed, as the providers tell it.
pub type SignInError = Box<dyn std::error::Error + Send + Sync>;

/// The providers a refresh reads through, and what they know of credentials.
#[async_trait::async_trait]
pub trait Reach: Router {
    /// Signs in to Azure once, before many reads would each find the credentials missing.
    async fn sign_in(&self) -> Result<(), SignInError>;

    /// True when Azure credentials were left for aksform to find (`--auth auto`): finding
    /// none, refresh plans the Azure resources against the state as recorded.
    fn automatic_credentials(&self) -> bool;

    /// True when a kubeconfig is given for `cluster`.
    fn has_kubeconfig(&self, cluster: &Address) -> bool;
}

/// A refresh that could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("cannot start the runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Credentials were asked for and refused.
    #[error("cannot sign in to Azure: {0}")]
    SignIn(SignInError),
}

/// What a refresh found.
#[derive(Debug)]
pub struct Refreshed {
    /// The state with the live values over the recorded ones, without what is gone.
    pub state: State,
    /// The resources changed or deleted outside aksform, by address; empty when none were.
    pub drift: Vec<Drift>,
    /// Resources planned against their recorded values: nothing can reach them.
    pub not_refreshed: usize,
    /// Why some could not be reached.
    pub notes: Vec<String>,
    /// The reads that failed, one line per distinct error naming the resources it stopped.
    pub errors: Vec<String>,
}

impl Refreshed {
    /// Nothing read: the state as recorded.
    fn as_recorded(state: &State) -> Refreshed {
        Refreshed { state: state.clone(), drift: Vec::new(), not_refreshed: 0, notes: Vec::new(), errors: Vec::new() }
    }
}

/// Reads every recorded resource that can be reached, on a runtime of its own. `connect`
/// makes the providers on that runtime (their connections live on it), and is not called
/// when the state records nothing.
pub fn refresh<R: Reach>(state: &State, connect: impl FnOnce() -> R) -> Result<Refreshed, RefreshError> {
    if state.resources.is_empty() {
        return Ok(Refreshed::as_recorded(state));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(RefreshError::Runtime)?;
    runtime.block_on(async {
        let providers = connect();
        read_live(state, &providers).await
    })
}

/// Reads every recorded resource that `providers` can reach.
pub async fn read_live(state: &State, providers: &dyn Reach) -> Result<Refreshed, RefreshError> {
    if state.resources.is_empty() {
        return Ok(Refreshed::as_recorded(state));
    }
    let mut notes = Vec::new();
    // Azure is needed for Azure resources, and for the objects of a cluster without a
    // kubeconfig. Left to find credentials and finding none, aksform plans those against
    // the state as recorded; credentials asked for and refused are an error.
    let needs_azure = state.resources.iter().any(|r| {
        !r.address.kind.is_kubernetes() || cluster_of(&r.attributes).is_some_and(|c| !providers.has_kubeconfig(&c))
    });
    let azure = if needs_azure {
        match providers.sign_in().await {
            Ok(()) => true,
            Err(reason) if providers.automatic_credentials() => {
                notes.push(format!("Azure: {reason}"));
                false
            }
            Err(reason) => return Err(RefreshError::SignIn(reason)),
        }
    } else {
        false
    };
    // A cluster's objects are reachable with its kubeconfig, or through Azure once the
    // cluster itself is recorded.
    let reachable = |cluster: &Address| {
        providers.has_kubeconfig(cluster)
            || (azure && state.get(cluster).is_some_and(|c| c.address.kind == Kind::Cluster && c.provider_id.is_some()))
    };
    let readable: Vec<_> = state
        .resources
        .iter()
        .filter(|r| {
            if r.address.kind.is_kubernetes() {
                cluster_of(&r.attributes).is_some_and(|c| reachable(&c))
            } else {
                azure
            }
        })
        .filter_map(|r| {
            let provider = providers.provider(&r.address, &r.attributes);
            let id = r.provider_id.clone()?;
            Some((r, provider, id))
        })
        .collect();
    let not_refreshed = state.resources.len() - readable.len();
    // Each provider reads all of its objects together, in as few requests as it can; the
    // providers (one per cluster, one for Azure) read at once, each bounding its own requests.
    let mut reads = Vec::new();
    let mut batches: Vec<(Arc<dyn Provider>, Batch<'_>)> = Vec::new();
    for (recorded, provider, id) in readable {
        match provider {
            Err(e) => reads.push((recorded, Err(e))),
            Ok(provider) => match batches.iter_mut().find(|(p, _)| Arc::ptr_eq(p, &provider)) {
                Some((_, batch)) => batch.push((recorded, id)),
                None => batches.push((provider, vec![(recorded, id)])),
            },
        }
    }
    let read = batches.iter().map(|(provider, batch)| async move {
        let existing: Vec<Existing<'_>> = batch
            .iter()
            .map(|(recorded, id)| Existing {
                address: &recorded.address,
                provider_id: id,
                attributes: &recorded.attributes,
            })
            .collect();
        let mut live = provider.read_many(&existing).await.into_iter();
        batch
            .iter()
            .map(|(recorded, _)| {
                let read = live.next().unwrap_or_else(|| {
                    Err(ProviderError { kind: ErrorKind::Rejected, message: "the provider did not read it".into() })
                });
                (*recorded, read)
            })
            .collect::<Vec<_>>()
    });
    reads.extend(future::join_all(read).await.into_iter().flatten());
    let mut refreshed = state.clone();
    let mut drift = Vec::new();
    let mut errors: Vec<(Address, String)> = Vec::new();
    for (recorded, live) in reads {
        match live {
            Ok(live) => {
                drift.extend(drift_of(recorded, live.as_ref()));
                match live {
                    None => {
                        refreshed.remove(&recorded.address);
                    }
                    Some(live) => {
                        if let Some(entry) = refreshed.get_mut(&recorded.address) {
                            entry.attributes = merge(&recorded.attributes, live);
                        }
                    }
                }
            }
            Err(e) => errors.push((recorded.address.clone(), e.message)),
        }
    }
    drift.sort_by(|a: &Drift, b: &Drift| a.address.cmp(&b.address));
    Ok(Refreshed { state: refreshed, drift, not_refreshed, notes, errors: grouped(errors) })
}

/// One line per distinct error, naming every resource it stopped: missing credentials stop
/// them all alike.
fn grouped(mut errors: Vec<(Address, String)>) -> Vec<String> {
    errors.sort();
    let mut out: Vec<(Vec<String>, String)> = Vec::new();
    for (address, message) in errors {
        let address = address.to_string();
        // Messages that already start with the address are told as they are.
        if message.starts_with(&address) {
            out.push((Vec::new(), message));
            continue;
        }
        match out.iter_mut().find(|(addresses, m)| !addresses.is_empty() && *m == message) {
            Some((addresses, _)) => addresses.push(address),
            None => out.push((vec![address], message)),
        }
    }
    out.into_iter()
        .map(|(addresses, message)| match addresses.len() {
            0 => message,
            1..=3 => format!("{}: {message}", addresses.join(", ")),
            n => format!("{}, and {} more: {message}", addresses[..2].join(", "), n - 2),
        })
        .collect()
}

/// The live values over the recorded ones: fields the provider does not read stay as recorded.
fn merge(recorded: &Attributes, live: Attributes) -> Attributes {
    let mut merged = recorded.clone();
    merged.extend(live);
    merged
}
