//! The values of a stack's existing resources ([`crate::model::existing`]) for plan, apply and
//! graph: read live from Azure when it can be reached, else those the state recorded when they
//! were last read (and the command says so); then the stack is loaded again with them, so that
//! every check sees the real values.

use futures::stream::{self, StreamExt};

use super::StackArgs;
use super::output::Output;
use super::providers::{ProviderArgs, Providers};
use crate::loading::{self, Loaded};
use crate::model::Address;
use crate::model::existing::{ExistingDecl, ExistingValues};
use crate::refresh::Reach;
use crate::state::{ResourceState, State, address_order};

/// The stack loaded with its existing resources' values, and those values as the state records
/// them (for an apply to keep).
pub struct WithExisting {
    pub loaded: Loaded,
    pub recorded: Vec<ResourceState>,
}

/// How the existing resources are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Live where Azure can be reached, else as recorded; never read at all is an error.
    Live,
    /// As recorded; never read at all is an error.
    Recorded,
    /// As recorded if they were, else left out of the model (a drawing does without them).
    RecordedIfAny,
}

/// Reads the existing resources of `loaded` (as `reading` says), and loads the stack again
/// with their values. A stack without any is handed back as it is. On an error it is printed
/// and the exit code comes back.
pub fn load_with_existing(
    stack: &StackArgs,
    options: loading::Options,
    loaded: Loaded,
    state: Option<&State>,
    reading: Reading,
    providers: &ProviderArgs,
    out: &Output,
) -> Result<WithExisting, u8> {
    let live = reading == Reading::Live;
    let decls = &loaded.existing.decls;
    if decls.is_empty() {
        return Ok(WithExisting { loaded, recorded: Vec::new() });
    }
    let recorded: Vec<&ResourceState> = state
        .map(|s| s.existing.iter().filter(|r| decls.iter().any(|d| d.address == r.address)).collect())
        .unwrap_or_default();
    let read = if live { read_live(decls, loaded.stack.subscription.as_deref(), providers, out)? } else { None };
    let (values, ids) = match read {
        Some(read) => read,
        None => {
            let missing: Vec<String> = decls
                .iter()
                .filter(|d| !recorded.iter().any(|r| r.address == d.address))
                .map(|d| d.address.to_string())
                .collect();
            if !missing.is_empty() && reading == Reading::RecordedIfAny {
                return Ok(WithExisting { loaded, recorded: Vec::new() });
            }
            if !missing.is_empty() {
                out.error(&format!(
                    "the existing resources {} have never been read, and Azure cannot be read now: sign in to Azure \
                     (their values are recorded by the next apply)",
                    missing.join(", ")
                ));
                return Err(1);
            }
            eprintln!(
                "note: the existing resources are checked against their values as last read and recorded in the state{}",
                match reading {
                    Reading::Live => " (Azure cannot be read: no credentials)",
                    Reading::Recorded => " (--refresh=false)",
                    Reading::RecordedIfAny => "",
                }
            );
            let values = recorded.iter().map(|r| (r.address.clone(), r.attributes.clone())).collect();
            let ids = recorded.iter().map(|r| (r.address.clone(), r.provider_id.clone().unwrap_or_default())).collect();
            (values, ids)
        }
    };
    let options = loading::Options { existing: values.clone(), ..options };
    let loaded = stack.load_with(&options, out)?;
    let mut recorded: Vec<ResourceState> = values
        .into_iter()
        .map(|(address, attributes)| {
            let provider_id = ids.iter().find(|(a, _)| *a == address).map(|(_, id)| id.clone());
            ResourceState { address, provider_id, attributes, dependencies: Vec::new() }
        })
        .collect();
    recorded.sort_by(|a, b| address_order(&a.address, &b.address));
    Ok(WithExisting { loaded, recorded })
}

/// Values and ids read live; `None` when Azure cannot be reached without asking for
/// credentials (`--auth auto` finding none), so that the recorded values are used.
type Read = (ExistingValues, Vec<(Address, String)>);

fn read_live(
    decls: &[ExistingDecl],
    subscription: Option<&str>,
    args: &ProviderArgs,
    out: &Output,
) -> Result<Option<Read>, u8> {
    let Some(subscription) = subscription else { return Ok(None) };
    let runtime = super::runtime(out)?;
    runtime.block_on(async {
        let providers = Providers::new(args, Some(subscription.to_string()), &[], None);
        match providers.sign_in().await {
            Ok(()) => {}
            Err(_) if providers.automatic_credentials() => return Ok(None),
            Err(reason) => {
                out.error(&format!("cannot sign in to Azure to read the existing resources: {reason}"));
                return Err(1);
            }
        }
        let arm = match providers.arm() {
            Ok(arm) => arm,
            Err(e) => {
                out.error(&e.to_string());
                return Err(1);
            }
        };
        // Parents come before their children, whose ids are under theirs.
        let mut ids: Vec<(Address, String)> = Vec::new();
        for decl in decls {
            let parent = decl.address.parent_address().and_then(|p| ids.iter().find(|(a, _)| *a == p)).map(|(_, id)| id.as_str());
            let kind = decl.address.kind;
            match crate::providers::arm::resource_path(kind, subscription, &decl.resource_group, &decl.name, parent) {
                Some(path) => ids.push((decl.address.clone(), path)),
                None => {
                    out.error(&format!("{}: cannot tell its id", decl.address));
                    return Err(1);
                }
            }
        }
        let arm = &arm;
        let reads = stream::iter(ids.iter())
            .map(|(address, id)| async move { (address, id, arm.read_existing(address, id).await) })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await;
        let mut values = ExistingValues::new();
        let mut failed = false;
        for (address, id, read) in reads {
            match read {
                Ok(Some(read)) => {
                    values.insert(address.clone(), read);
                }
                Ok(None) => {
                    failed = true;
                    out.error(&format!(
                        "{address}: the existing resource {id} does not exist: the stack uses it and does not create it \
                         (check its name and resource group, or its id)"
                    ));
                }
                Err(e) => {
                    failed = true;
                    out.error(&format!("{address}: cannot read {id}: {e}"));
                }
            }
        }
        if failed { Err(1) } else { Ok(Some((values, ids))) }
    })
}
