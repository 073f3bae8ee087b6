//! `aksform import ADDRESS ID`: bring a resource that exists (made by hand, by another tool,
//! or by the network team) under a block of the stack. It is read live and recorded in the
//! state as it is; the next plan shows what the stack would change in it, and nothing is
//! written to the resource until an apply.

use std::collections::{BTreeSet, HashMap};

use clap::Args;

use super::StackArgs;
use super::backend::{LockArgs, StateLocationArgs, lock_and_read, open_backend};
use super::existing::{Reading, load_with_existing};
use super::output::Output;
use super::providers::{ProviderArgs, Providers};
use crate::apply::{Router, cluster_of};
use crate::diag::Diagnostic;
use crate::loading::Loaded;
use crate::model::{Address, Kind, Resource};
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
    /// Print the block for the resource, read live, instead of importing it: put it in the
    /// stack, then import.
    #[arg(long)]
    generate: bool,
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
    if args.generate {
        return generate(args, &loaded, out);
    }
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
    let creates = planned_creates(desired, state);
    let resolver = Resolver::new(subscription, desired, Some(state));
    import_target(address, &args.id, &creates, &resolver)
}

/// The creates the stack plans, by address: the resources an import may bring in, with their
/// references resolved (a Service's namespace, a subnet's vnet).
fn planned_creates(desired: &[Resource], state: &State) -> HashMap<Address, ResourceAction> {
    let planned = plan::plan(desired, state).ok();
    planned
        .map(|p| {
            p.plan
                .actions()
                .iter()
                .filter(|a| a.action == ActionKind::Create)
                .map(|a| (a.address.clone(), a.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The create planned for `address` and the id it is managed under, if `given` is that id.
fn import_target(
    address: &Address,
    given: &str,
    creates: &HashMap<Address, ResourceAction>,
    resolver: &Resolver,
) -> Result<(ResourceAction, String), ImportError> {
    let action = creates.get(address).cloned().ok_or_else(|| ImportError::NotDeclared { address: address.clone() })?;
    let unknown = |missing: String| ImportError::Unknown { address: address.clone(), missing };
    let trimmed = given.trim_end_matches('/');
    let (expected, same) = match ObjectKind::of(address.kind) {
        None => {
            let path = resolver.path_of(address).map_err(|e| unknown(e.message))?;
            let same = trimmed.eq_ignore_ascii_case(&path);
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
            let same = trimmed == id || trimmed == short;
            (id, same)
        }
    };
    if !same {
        return Err(ImportError::OtherId { address: address.clone(), expected, given: given.to_string() });
    }
    Ok((action, expected))
}

/// The stack's imports still to be carried out, as the state entries a plan starts from.
#[derive(Debug, Default)]
pub(super) struct Pending {
    /// Each resource at the id it is managed under, its block's resolved values standing in
    /// for what is read.
    pub entries: Vec<ResourceState>,
    pub addresses: BTreeSet<Address>,
}

impl Pending {
    /// `state` with the pending imports recorded in it, to plan against (never to write).
    pub fn recorded_in(&self, state: Option<&State>, stack: &str) -> Option<State> {
        if self.entries.is_empty() {
            return None;
        }
        let mut with = state.cloned().unwrap_or_else(|| State::new(stack));
        for entry in &self.entries {
            with.upsert(entry.clone());
        }
        Some(with)
    }

    /// AKS187 for each pending import that a read found nothing at.
    pub fn missing(&self, loaded: &Loaded, read: &State) -> Vec<Diagnostic> {
        self.entries
            .iter()
            .filter(|entry| read.get(&entry.address).is_none())
            .map(|entry| {
                let id = entry.provider_id.clone().unwrap_or_default();
                import_error(loaded, &entry.address, ImportError::Missing { address: entry.address.clone(), id })
            })
            .collect()
    }
}

/// The stack's `import` blocks that `state` does not record yet, checked: each names the id
/// its block would be managed at. One already done is left out; one whose address the state
/// records under another id is an error.
pub(super) fn pending(loaded: &Loaded, state: Option<&State>) -> Result<Pending, Vec<Diagnostic>> {
    let imports = &loaded.stack.imports;
    if imports.is_empty() {
        return Ok(Pending::default());
    }
    let empty = State::new(&loaded.stack.name);
    let state = state.unwrap_or(&empty);
    let desired = loaded.stack.resources();
    let creates = planned_creates(&desired, state);
    let resolver = Resolver::new(loaded.stack.subscription.clone(), &desired, Some(state));
    let mut pending = Pending::default();
    let mut errors = Vec::new();
    for import in imports {
        if let Some(recorded) = state.get(&import.address) {
            let id = recorded.provider_id.clone().unwrap_or_default();
            let same = id.eq_ignore_ascii_case(&import.id) || id.ends_with(&format!("/{}", import.id));
            if !same {
                let error = ImportError::Recorded { address: import.address.clone(), id };
                errors.push(import_error(loaded, &import.address, error));
            }
            continue;
        }
        match import_target(&import.address, &import.id, &creates, &resolver) {
            Ok((action, id)) => {
                pending.addresses.insert(import.address.clone());
                pending.entries.push(ResourceState {
                    address: import.address.clone(),
                    provider_id: Some(id),
                    attributes: action.desired,
                    dependencies: action.depends_on,
                });
            }
            Err(error) => errors.push(import_error(loaded, &import.address, error)),
        }
    }
    if errors.is_empty() { Ok(pending) } else { Err(errors) }
}

/// AKS187 at the `import` block of `address`.
fn import_error(loaded: &Loaded, address: &Address, error: ImportError) -> Diagnostic {
    let import = loaded.stack.imports.iter().find(|i| &i.address == address);
    let (label, help) = match &error {
        ImportError::Recorded { .. } => (
            "the state manages it under another id",
            "remove this `import` block: the resource is managed; to manage another one under this block, \
             `aksform state rm` it first"
                .to_string(),
        ),
        ImportError::OtherId { expected, .. } => (
            "not the resource the block names",
            format!(
                "the block names {expected}: make its name, resource group and parent those of the resource, or \
                 import that id"
            ),
        ),
        ImportError::Missing { .. } => {
            ("nothing there", "check the id (`az resource show --ids ...`), or remove the block to create it".into())
        }
        ImportError::Unknown { .. } => {
            ("cannot be known yet", "apply what it is in first, then import it in the next plan".into())
        }
        ImportError::NotDeclared { .. } => ("no such block", "declare the block the resource is imported into".into()),
    };
    let diagnostic = Diagnostic::error("AKS187", error.to_string()).with_help(help).with_subject(address.to_string());
    match import {
        Some(import) => diagnostic.with_primary(import.id_span, label).with_secondary(import.span, "imported here"),
        None => diagnostic,
    }
}

/// `--generate`: the block of an Azure resource, read live, with the import commands that
/// bring it (and its subnets) in once the block is in the stack.
fn generate(args: &ImportArgs, loaded: &crate::loading::Loaded, out: &Output) -> u8 {
    let address = &args.address;
    let generated = address.parent.is_none()
        && matches!(
            address.kind,
            Kind::ResourceGroup | Kind::Vnet | Kind::RouteTable | Kind::PublicIp | Kind::NatGateway | Kind::DnsZone
        );
    if !generated {
        out.error(&format!(
            "`--generate` writes blocks for resource groups, vnets (with their subnets), route tables, public IPs, NAT \
             gateways and DNS zones, not for a {}: write its block by hand, then import it",
            address.kind.keyword()
        ));
        return 1;
    }
    let runtime = match super::runtime(out) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let read = runtime.block_on(async {
        let providers = Providers::new(&args.providers, loaded.stack.subscription.clone(), &[], None);
        let arm = providers.arm().map_err(|e| e.to_string())?;
        let values = arm.read_existing(address, &args.id).await.map_err(|e| e.to_string())?;
        let Some(values) = values else { return Err(format!("{address}: there is no {}", args.id)) };
        let mut children = Vec::new();
        if address.kind == Kind::Vnet {
            for (name, id) in arm.children(Kind::Subnet, &args.id).await.map_err(|e| e.to_string())? {
                let child = address.child(Kind::Subnet, name.clone());
                if let Some(read) = arm.read_existing(&child, &id).await.map_err(|e| e.to_string())? {
                    children.push((Kind::Subnet, name, id, read));
                }
            }
        }
        Ok((values, children))
    });
    let (values, children) = match read {
        Ok(read) => read,
        Err(message) => {
            out.error(&message);
            return 1;
        }
    };
    // The resource group it is in, as the stack names it, else by its Azure name.
    let group = args.id.split('/').nth(4).unwrap_or_default().to_string();
    let declared = loaded.stack.resource_groups.iter().find(|rg| rg.name.eq_ignore_ascii_case(&group));
    let group_label = declared.map_or_else(|| group.clone(), |rg| rg.address.name.clone());
    let block_children: Vec<_> =
        children.iter().map(|(kind, name, _, read)| (*kind, name.clone(), read.clone())).collect();
    let group_reference = (address.kind != Kind::ResourceGroup).then_some(group_label.as_str());
    let text =
        crate::model::existing::generated_block(address.kind, &address.name, &values, group_reference, &block_children);
    super::output::stdout(&text);
    if group_reference.is_some() && declared.is_none() {
        eprintln!(
            "note: the block refers to `resource_group.{group_label}`: declare it (`resource_group \"{group_label}\" {{ name = \"{group}\" }}`, \
             imported too, or `existing`)"
        );
    }
    eprintln!("Then import it:\n  aksform import {address} '{}'", args.id);
    for (_, name, id, _) in &children {
        eprintln!("  aksform import {} '{id}'", address.child(Kind::Subnet, name.clone()));
    }
    0
}
