//! Refresh: read what is live for every recorded resource that can be reached, show what was
//! changed outside aksform (drift), and give the planner the live state to plan against.
//! Azure resources are read through Resource Manager; a cluster's Kubernetes objects with
//! its `--kubeconfig`, or with credentials fetched through Azure when the state records the
//! cluster. Only what the state records is read: a stack not yet applied needs no credentials.

use futures::stream::{self, StreamExt};

use super::providers::{ProviderArgs, Providers, cluster_of};
use crate::apply::Router;
use crate::model::{Address, Kind, Resource};
use crate::plan::diff;
use crate::providers::{Attributes, Existing};
use crate::state::State;

/// What a refresh found.
pub struct Refreshed {
    pub state: State,
    /// Human lines describing drift, empty when nothing changed outside aksform.
    pub drift: Vec<String>,
    /// Resources planned against their recorded values: nothing can reach them.
    pub not_refreshed: usize,
    /// Why some could not be reached.
    pub notes: Vec<String>,
    pub errors: Vec<String>,
}

/// Reads every recorded resource that can be reached.
pub fn refresh(
    state: &State,
    args: &ProviderArgs,
    subscription: Option<String>,
    desired: &[Resource],
) -> Result<Refreshed, String> {
    if state.resources.is_empty() {
        return Ok(Refreshed {
            state: state.clone(),
            drift: Vec::new(),
            not_refreshed: 0,
            notes: Vec::new(),
            errors: Vec::new(),
        });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let providers = Providers::new(args, subscription, desired, Some(state));
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
                Err(reason) => return Err(format!("cannot sign in to Azure: {reason}")),
            }
        } else {
            false
        };
        // A cluster's objects are reachable with its kubeconfig, or through Azure once the
        // cluster itself is recorded.
        let reachable = |cluster: &Address| {
            providers.has_kubeconfig(cluster)
                || (azure
                    && state.get(cluster).is_some_and(|c| c.address.kind == Kind::Cluster && c.provider_id.is_some()))
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
        let reads = stream::iter(readable)
            .map(|(recorded, provider, id)| async move {
                let existing =
                    Existing { address: &recorded.address, provider_id: &id, attributes: &recorded.attributes };
                let live = match provider {
                    Ok(provider) => provider.read(existing).await,
                    Err(e) => Err(e),
                };
                (recorded, live)
            })
            .buffer_unordered(32)
            .collect::<Vec<_>>()
            .await;
        let mut refreshed = state.clone();
        let mut drift: Vec<(Address, Vec<String>)> = Vec::new();
        let mut errors: Vec<(Address, String)> = Vec::new();
        for (recorded, live) in reads {
            match live {
                Ok(None) => {
                    drift.push((
                        recorded.address.clone(),
                        vec![format!("  - {} was deleted outside aksform", recorded.address)],
                    ));
                    refreshed.remove(&recorded.address);
                }
                Ok(Some(live)) => {
                    let changes = diff::compare(recorded.address.kind, &recorded.attributes, &live, &[]);
                    if !changes.is_empty() {
                        let mut lines = vec![format!("  ~ {} was changed outside aksform", recorded.address)];
                        lines.extend(changes.iter().map(|c| format!("      ~ {}: {} → {}", c.path, c.before, c.after)));
                        drift.push((recorded.address.clone(), lines));
                    }
                    if let Some(entry) = refreshed.get_mut(&recorded.address) {
                        entry.attributes = merge(&recorded.attributes, live);
                    }
                }
                Err(e) => errors.push((recorded.address.clone(), e.message)),
            }
        }
        drift.sort_by(|a, b| a.0.cmp(&b.0));
        let drift = drift.into_iter().flat_map(|(_, lines)| lines).collect();
        Ok(Refreshed { state: refreshed, drift, not_refreshed, notes, errors: grouped(errors) })
    })
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
