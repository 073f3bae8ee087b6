//! Refresh: read what is live for every recorded resource that has a provider, show what was
//! changed outside aksform (drift), and give the planner the live state to plan against.

use futures::stream::{self, StreamExt};

use super::providers::{KubeconfigArg, Providers, cluster_of};
use crate::apply::Router;
use crate::model::Address;
use crate::plan::diff;
use crate::providers::{Attributes, Existing};
use crate::state::State;

/// What a refresh found.
pub struct Refreshed {
    pub state: State,
    /// Human lines describing drift, empty when nothing changed outside aksform.
    pub drift: Vec<String>,
    /// Resources planned against their recorded values, with why.
    pub not_refreshed: usize,
    pub errors: Vec<String>,
}

/// Reads every recorded Kubernetes object whose cluster has credentials.
pub fn refresh(state: &State, kubeconfigs: &[KubeconfigArg]) -> Result<Refreshed, String> {
    let mut clusters: Vec<Address> = state
        .resources
        .iter()
        .filter(|r| r.address.kind.is_kubernetes())
        .filter_map(|r| cluster_of(&r.attributes))
        .collect();
    clusters.sort();
    clusters.dedup();
    if kubeconfigs.is_empty() {
        return Ok(Refreshed {
            state: state.clone(),
            drift: Vec::new(),
            not_refreshed: state.resources.len(),
            errors: Vec::new(),
        });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let providers = Providers::connect(kubeconfigs, &clusters).await?;
        let readable: Vec<_> = state
            .resources
            .iter()
            .filter_map(|r| {
                let provider = providers.provider(&r.address, &r.attributes).ok()?;
                let id = r.provider_id.clone()?;
                Some((r, provider, id))
            })
            .collect();
        let not_refreshed = state.resources.len() - readable.len();
        let reads = stream::iter(readable)
            .map(|(recorded, provider, id)| async move {
                let existing =
                    Existing { address: &recorded.address, provider_id: &id, attributes: &recorded.attributes };
                (recorded, provider.read(existing).await)
            })
            .buffer_unordered(32)
            .collect::<Vec<_>>()
            .await;
        let mut refreshed = state.clone();
        let mut drift: Vec<(Address, Vec<String>)> = Vec::new();
        let mut errors = Vec::new();
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
                Err(e) => errors.push(format!("{}: {e}", recorded.address)),
            }
        }
        drift.sort_by(|a, b| a.0.cmp(&b.0));
        let drift = drift.into_iter().flat_map(|(_, lines)| lines).collect();
        Ok(Refreshed { state: refreshed, drift, not_refreshed, errors })
    })
}

/// The live values over the recorded ones: fields the provider does not read stay as recorded.
fn merge(recorded: &Attributes, live: Attributes) -> Attributes {
    let mut merged = recorded.clone();
    merged.extend(live);
    merged
}
