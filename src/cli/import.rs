//! `aksform import ADDRESS ID`: bring a resource that exists (made by hand, by another tool,
//! or by the network team) under a block of the stack. It is read live and recorded in the
//! state as it is; the next plan shows what the stack would change in it, and nothing is
//! written to the resource until an apply.

use clap::Args;

use super::StackArgs;
use super::backend::{LockArgs, StateLocationArgs, lock_and_read, open_backend};
use super::existing::{Reading, load_with_existing};
use super::output::Output;
use super::providers::{ProviderArgs, Providers};
use crate::apply::{Router, cluster_of};
use crate::model::{Address, Resource};
use crate::plan::{self, ActionKind, ResourceAction};
use crate::providers::Existing;
use crate::providers::arm::Resolver;
use crate::providers::kube::{ObjectId, ObjectKind};
use crate::state::{ResourceState, State};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The address of the block the resource is to be managed as, e.g. `vnet.hub`.
    address: Address,
    /// Its id: an ARM resource id (`/subscriptions/.../virtualNetworks/hub`), or for a
    /// Kubernetes object `NAMESPACE/NAME` (`NAME` for a namespace) or its `k8s://` id.
    id: String,
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    location: StateLocationArgs,
    #[command(flatten)]
    lock: LockArgs,
    #[command(flatten)]
    providers: ProviderArgs,
}

/// Why nothing was imported.
#[derive(Debug, thiserror::Error)]
enum ImportError {
    #[error("`{address}` is not declared in the stack: write its block first, then import the resource into it")]
    NotDeclared { address: Address },
    #[error("`{address}` is in the state already (id {id}): it is managed; `aksform state rm {address}` forgets it")]
    Recorded { address: Address, id: String },
    #[error(
        "`{address}` would be managed at {expected}, not at {given}: make its block name that resource (its name, resource \
         group and parent), or import the id the block names"
    )]
    OtherId { address: Address, expected: String, given: String },
    #[error(
        "`{address}`: the id it would have cannot be known before apply ({missing}); import it once that is applied"
    )]
    Unknown { address: Address, missing: String },
    #[error("`{address}`: there is no {id} to import")]
    Missing { address: Address, id: String },
}

pub fn run(args: &ImportArgs, out: &Output) -> u8 {
    let loaded = match args.stack.load_checked(&[], out) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let backend = match open_backend(&args.location, &loaded, args.providers.access(), out) {
        Ok(backend) => backend,
        Err(code) => return code,
    };
    let (guard, recorded) = match lock_and_read(backend.as_ref(), "aksform import", args.lock.lock_timeout, out) {
        Ok(read) => read,
        Err(code) => return code,
    };
    // The existing resources the block refers to (its subnet, its vnet) are read as a plan reads them.
    let options = args.stack.options(Vec::new());
    let loaded = match load_with_existing(
        &args.stack,
        options,
        loaded,
        recorded.as_ref(),
        Reading::Live,
        &args.providers,
        out,
    ) {
        Ok(with) => with.loaded,
        Err(code) => return code,
    };
    let mut state = recorded.unwrap_or_else(|| State::new(&loaded.stack.name));
    let desired = loaded.stack.resources();
    let (action, id) = match target(args, &desired, &state, loaded.stack.subscription.clone()) {
        Ok(found) => found,
        Err(e) => {
            out.error(&e.to_string());
            return 1;
        }
    };
    let runtime = match super::runtime(out) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let read = runtime.block_on(async {
        let providers = Providers::new(&args.providers, loaded.stack.subscription.clone(), &desired, Some(&state));
        let provider = providers.provider(&action.address, &action.desired)?;
        provider.read(Existing { address: &action.address, provider_id: &id, attributes: &action.desired }).await
    });
    let live = match read {
        Ok(Some(live)) => live,
        Ok(None) => {
            out.error(&ImportError::Missing { address: action.address.clone(), id }.to_string());
            return 1;
        }
        Err(e) => {
            out.error(&format!("{}: cannot read {id}: {e}", action.address));
            return 1;
        }
    };
    state.upsert(ResourceState {
        address: action.address.clone(),
        provider_id: Some(id.clone()),
        attributes: live,
        dependencies: action.depends_on.clone(),
    });
    state.commit();
    if let Err(e) = backend.write(&state) {
        out.error(&e.to_string());
        return 1;
    }
    if let Err(e) = guard.release() {
        out.error(&e.to_string());
        return 1;
    }
    super::output::stdout(&format!(
        "Imported {} ({id}) into {}. Nothing was changed in it: `aksform plan` shows what the stack would change.\n",
        action.address,
        backend.describe()
    ));
    0
}

/// The create the stack plans for the address (its attributes resolved), and the id the
/// resource must have to be managed under it.
fn target(
    args: &ImportArgs,
    desired: &[Resource],
    state: &State,
    subscription: Option<String>,
) -> Result<(ResourceAction, String), ImportError> {
    let address = &args.address;
    if let Some(recorded) = state.get(address) {
        let id = recorded.provider_id.clone().unwrap_or_default();
        return Err(ImportError::Recorded { address: address.clone(), id });
    }
    if !desired.iter().any(|r| &r.address == address) {
        return Err(ImportError::NotDeclared { address: address.clone() });
    }
    // The plan resolves the block's references (a Service's namespace, a subnet's vnet).
    let planned = plan::plan(desired, state).ok();
    let action = planned
        .and_then(|p| {
            p.plan.actions().iter().find(|a| &a.address == address && a.action == ActionKind::Create).cloned()
        })
        .ok_or_else(|| ImportError::NotDeclared { address: address.clone() })?;
    let unknown = |missing: String| ImportError::Unknown { address: address.clone(), missing };
    let given = args.id.trim_end_matches('/');
    let (expected, same) = match ObjectKind::of(address.kind) {
        None => {
            let path =
                Resolver::new(subscription, desired, Some(state)).path_of(address).map_err(|e| unknown(e.message))?;
            let same = given.eq_ignore_ascii_case(&path);
            (path, same)
        }
        Some(kind) => {
            let text = |name: &str| action.desired.get(name).and_then(|v| v.as_str()).map(str::to_string);
            let name = text("name").ok_or_else(|| unknown("its name".into()))?;
            let namespace = if kind.is_namespaced() {
                Some(text("namespace").ok_or_else(|| unknown("its namespace".into()))?)
            } else {
                None
            };
            let cluster = cluster_of(&action.desired).ok_or_else(|| unknown("its cluster".into()))?;
            // `NAMESPACE/NAME`, or `NAME` for a namespace, stands for the whole id.
            let short = namespace.as_ref().map_or_else(|| name.clone(), |ns| format!("{ns}/{name}"));
            let id = ObjectId { kind, namespace, name }.provider_id(&cluster);
            let same = given == id || given == short;
            (id, same)
        }
    };
    if !same {
        return Err(ImportError::OtherId { address: address.clone(), expected, given: args.id.clone() });
    }
    Ok((action, expected))
}
