//! Planning: decides, resource by resource in dependency order, whether it is created,
//! updated, replaced, deleted or left alone, resolving references on the way.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use super::diff;
use super::graph;
use super::replace;
use super::replace::Attributes;
use super::{ActionKind, Changes, FieldChange, Plan, PlanError, ResourceAction};
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::{Address, AttributeRef, Kind, Resource, Value};
use crate::state::{ResourceState, State, address_order};

/// A plan and what the planner found wrong with it. When `diagnostics` has errors the plan is
/// for showing only: the CLI must not apply it.
#[derive(Debug, Clone)]
pub struct Planned {
    pub plan: Plan,
    pub diagnostics: Diagnostics,
}

/// What was decided for one desired resource.
struct Decision {
    /// `None` when the resource matches the state.
    action: Option<ActionKind>,
    /// Desired attributes with references resolved; unknown ones are [`Value::Unknown`].
    /// `None` when the resource has no references: its own attributes are what was compared.
    resolved: Option<Attributes>,
    /// Top-level attributes that change (kept for updates, the one action that reads them).
    changing: BTreeSet<String>,
}

/// A decision with what it adds to the plan.
struct Decided {
    index: usize,
    decision: Decision,
    action: Option<ResourceAction>,
    /// The action's `desired` is left empty for the resource's own attributes.
    own_attributes: bool,
    diagnostic: Option<Diagnostic>,
}

/// Layers of resources smaller than this are decided on one thread.
const PARALLEL_LAYER: usize = 512;

/// Looks up `attribute` (`name`, or `load_balancer.ip` inside a map) in `attributes`.
fn lookup<'a>(attributes: &'a Attributes, attribute: &str) -> Option<&'a Value> {
    let mut parts = attribute.split('.');
    let mut value = attributes.get(parts.next()?)?;
    for part in parts {
        match value {
            Value::Map(map) => value = map.get(part)?,
            _ => return None,
        }
    }
    Some(value)
}

/// A recorded attribute; `id` falls back to the provider id, which every resource has.
fn recorded_value(recorded: Option<&ResourceState>, attribute: &str) -> Value {
    let Some(recorded) = recorded else { return Value::Null };
    match lookup(&recorded.attributes, attribute) {
        Some(value) => value.clone(),
        None if attribute == "id" => Value::opt_str(recorded.provider_id.clone()),
        None => Value::Null,
    }
}

/// True when `value` names `target`: a reference to it, its address (`cluster.shop`), its
/// name, or (for a cluster) its node resource group, which is how the model writes where a
/// resource lives.
fn names(value: &Value, target: &Resource) -> bool {
    match value {
        Value::Ref(reference) => reference.address == target.address,
        Value::Str(text) => {
            *text == target.address.to_string()
                || ["name", "node_resource_group"]
                    .iter()
                    .any(|attribute| target.attributes.get(*attribute).and_then(Value::as_str) == Some(text))
        }
        _ => false,
    }
}

fn top_level(attribute: &str) -> &str {
    attribute.split('.').next().unwrap_or(attribute)
}

struct Planner<'a> {
    desired: &'a [Resource],
    /// The state's resources by address.
    recorded: HashMap<&'a Address, &'a ResourceState>,
    index: HashMap<&'a Address, usize>,
    /// The first cluster (in declaration order) each text names: its address, its name or
    /// its node resource group, the texts by which [`names`] recognises a cluster.
    clusters_by_text: HashMap<String, usize>,
    /// Whether another resource refers to an attribute of this one: only then is its
    /// resolved copy of the attributes kept for [`Planner::resolve`].
    referenced: Vec<bool>,
    decisions: Vec<Option<Decision>>,
    /// The resources being imported: recorded in the state given to the planner as they
    /// were read, not yet in the stack's state.
    importing: &'a BTreeSet<Address>,
}

impl<'a> Planner<'a> {
    /// The value a reference stands for at plan time, or `None` when it is known only after apply.
    fn resolve(&self, reference: &AttributeRef) -> Option<Value> {
        let &target = self.index.get(&reference.address)?;
        let decision = self.decisions[target].as_ref()?;
        let resource = &self.desired[target];
        // An existing resource's values are the ones read.
        if resource.existing {
            return Some(lookup(&resource.attributes, &reference.attribute).cloned().unwrap_or(Value::Null));
        }
        let recorded = self.recorded.get(&reference.address).copied();
        let top = top_level(&reference.attribute);
        // A value set in the configuration is sent as it is, so it is known before apply;
        // one left unset, or computed, is filled in by the cloud.
        let configured = || {
            if resource.computed.contains(&top) {
                return None;
            }
            lookup(decision.resolved.as_ref().unwrap_or(&resource.attributes), &reference.attribute)
                .filter(|value| !value.is_unknown() && !diff::same(&Value::Null, value))
                .cloned()
        };
        match decision.action {
            None => Some(recorded_value(recorded, &reference.attribute)),
            Some(ActionKind::Update | ActionKind::Import) if !decision.changing.contains(top) => {
                Some(recorded_value(recorded, &reference.attribute))
            }
            Some(ActionKind::Update | ActionKind::Import | ActionKind::Create) => configured(),
            // A replaced resource is a new object: even a name that stays the same names
            // something that does not exist yet.
            Some(ActionKind::Replace | ActionKind::Delete) => None,
        }
    }

    /// The cluster a Kubernetes object lives in, from its `cluster` attribute: the first
    /// cluster that the attribute [`names`].
    fn cluster_of(&self, resource: &Resource) -> Option<usize> {
        if !resource.address.kind.is_kubernetes() {
            return None;
        }
        match resource.attributes.get("cluster")? {
            Value::Ref(reference) => {
                self.index.get(&reference.address).copied().filter(|&i| self.desired[i].address.kind == Kind::Cluster)
            }
            Value::Str(text) => self.clusters_by_text.get(text).copied(),
            _ => None,
        }
    }

    /// Everything a resource needs first: declared dependencies, referenced resources, its
    /// parent and, for a Kubernetes object, its cluster. Sorted, without repeats.
    fn needs(&self, resource: &Resource) -> Result<Vec<usize>, PlanError> {
        let mut references = Vec::new();
        for value in resource.attributes.values() {
            value.for_each_ref(&mut |r| references.push(&r.address));
        }
        let mut needs = Vec::with_capacity(resource.depends_on.len() + references.len() + 2);
        for dependency in resource.depends_on.iter().chain(references) {
            let &index = self.index.get(dependency).ok_or_else(|| PlanError::UnknownDependency {
                resource: Box::new(resource.address.clone()),
                dependency: Box::new(dependency.clone()),
            })?;
            needs.push(index);
        }
        if let Some(parent) = resource.address.parent_address()
            && let Some(&index) = self.index.get(&parent)
        {
            needs.push(index);
        }
        needs.extend(self.cluster_of(resource));
        needs.sort_unstable();
        needs.dedup();
        Ok(needs)
    }

    /// The resource whose replacement takes this one with it: its parent (a vnet for its
    /// subnets, a cluster for its node pools), or a resource it needs and names in a
    /// placement field (the resource group, cluster, namespace, subnet or zone it is in).
    fn replaced_container(&self, resource: &Resource, needs: &[usize]) -> Option<Address> {
        let replaced = |i: usize| self.decisions[i].as_ref().is_some_and(|d| d.action == Some(ActionKind::Replace));
        if let Some(parent) = resource.address.parent_address()
            && let Some(&i) = self.index.get(&parent)
            && replaced(i)
        {
            return Some(parent);
        }
        replace::placement_fields(resource.address.kind)
            .filter_map(|field| resource.attributes.get(field))
            .find_map(|value| needs.iter().find(|&&i| replaced(i) && names(value, &self.desired[i])))
            .map(|&i| self.desired[i].address.clone())
    }

    /// AKS184: a resource this one uses and stays on (a subnet's route table or NAT gateway, a
    /// NAT gateway's public IP) would be replaced. Its provider refuses to delete it while it
    /// is in use, and the new one would not be associated.
    fn replaced_in_use(&self, resource: &Resource, needs: &[usize]) -> Option<Diagnostic> {
        let replaced = |i: usize| self.decisions[i].as_ref().is_some_and(|d| d.action == Some(ActionKind::Replace));
        needs.iter().filter(|&&i| replaced(i)).find_map(|&i| {
            let used = &self.desired[i];
            let refusal = used.address.kind.spec().in_use_refusal?;
            let field = resource.attributes.iter().find_map(|(field, value)| {
                let names_it = match value {
                    Value::List(items) => items.iter().any(|item| names(item, used)),
                    other => names(other, used),
                };
                names_it.then_some(field)
            })?;
            Some(
                Diagnostic::error(
                    "AKS184",
                    format!("`{}` would be replaced while `{}` uses it", used.address, resource.address),
                )
                .with_primary(used.span, "replaced: deleted, then created again")
                .with_secondary(resource.span, format!("uses it in `{field}`"))
                .with_help(format!(
                    "Azure refuses to delete it while it is in use ({refusal}); replace it in two applies: declare the \
                     new one under another name and point `{field}` at it, apply, then remove `{}`",
                    used.address
                ))
                .with_subject(used.address.to_string()),
            )
        })
    }

    /// Decides for one resource, from the decisions for what it needs (all made before).
    fn decide(&self, index: usize, needs: &[usize]) -> Decided {
        let all: &'a [Resource] = self.desired;
        let resource = &all[index];
        // Used, never written: nothing to decide, unless the state manages it (AKS186).
        if resource.existing {
            let decision = Decision { action: None, resolved: None, changing: BTreeSet::new() };
            let diagnostic = self.recorded.contains_key(&resource.address).then(|| managed_existing_error(resource));
            return Decided { index, decision, action: None, own_attributes: false, diagnostic };
        }
        // Most resources hold no reference: their attributes are used as they are.
        let desired: Cow<'a, Attributes> = if resource.attributes.values().any(Value::has_refs) {
            let resolve = &mut |r: &AttributeRef| self.resolve(r).unwrap_or_else(|| Value::Ref(Box::new(r.clone())));
            Cow::Owned(resource.attributes.iter().map(|(name, value)| (name.clone(), value.resolve(resolve))).collect())
        } else {
            Cow::Borrowed(&resource.attributes)
        };
        // References still open are compared as unknown.
        let unknown: Option<Attributes> = desired.values().any(Value::has_refs).then(|| {
            desired.iter().map(|(name, value)| (name.clone(), value.resolve(&mut |_| Value::Unknown))).collect()
        });
        let resolved: &Attributes = unknown.as_ref().unwrap_or(&desired);
        let recorded = self.recorded.get(&resource.address).copied();
        let mut replaced_along_with = None;
        let (action, changes) = match recorded {
            // The fields of a create are listed from `desired` when shown.
            None => (Some(ActionKind::Create), Vec::new()),
            Some(recorded) => {
                let mut changes =
                    diff::compare(resource.address.kind, &recorded.attributes, resolved, resource.computed);
                replaced_along_with = self.replaced_container(resource, needs);
                if replaced_along_with.is_some() || changes.iter().any(|c| c.replace_reason.is_some()) {
                    changes.extend(diff::recomputed(&recorded.attributes, resource.computed));
                    changes.sort_by(|a, b| a.path.cmp(&b.path));
                    (Some(ActionKind::Replace), changes)
                } else if self.importing.contains(&resource.address) {
                    (Some(ActionKind::Import), changes)
                } else if changes.is_empty() {
                    (None, changes)
                } else {
                    (Some(ActionKind::Update), changes)
                }
            }
        };
        let importing_replaced = action == Some(ActionKind::Replace) && self.importing.contains(&resource.address);
        let diagnostic = importing_replaced
            .then(|| import_replace_error(resource, &changes, replaced_along_with.as_ref()))
            .or_else(|| {
                (action == Some(ActionKind::Replace)
                    && resource.address.kind == Kind::Cluster
                    && !resource.allow_replace)
                    .then(|| cluster_replace_error(resource, &changes, replaced_along_with.as_ref()))
            })
            .or_else(|| (action != Some(ActionKind::Replace)).then(|| self.replaced_in_use(resource, needs)).flatten());
        let changing = match action {
            Some(ActionKind::Update | ActionKind::Import) => {
                changes.iter().filter_map(|c| c.path.top()).map(str::to_string).collect()
            }
            _ => BTreeSet::new(),
        };
        let resolved = match (unknown, &desired) {
            _ if !self.referenced[index] => None,
            (Some(unknown), _) => Some(unknown),
            (None, Cow::Owned(known)) => Some(known.clone()),
            (None, Cow::Borrowed(_)) => None,
        };
        let own_attributes = matches!(desired, Cow::Borrowed(_));
        let resource_action = action.map(|action| {
            let mut depends_on: Vec<Address> = needs.iter().map(|&i| all[i].address.clone()).collect();
            depends_on.sort_by(address_order);
            ResourceAction {
                address: resource.address.clone(),
                action,
                changes: match action {
                    ActionKind::Create => Changes::Creation { computed: resource.computed },
                    _ => Changes::Listed(changes),
                },
                replaced_along_with,
                depends_on,
                provider_id: recorded.and_then(|r| r.provider_id.clone()),
                // The resource's own attributes are filled in once every layer is decided.
                desired: match desired {
                    Cow::Owned(resolved) => resolved,
                    Cow::Borrowed(_) => Attributes::new(),
                },
            }
        });
        let decision = Decision { action, resolved, changing };
        Decided { index, decision, action: resource_action, own_attributes, diagnostic }
    }
}

/// AKS180: replacing a cluster deletes every workload in it, so it must be asked for.
fn cluster_replace_error(resource: &Resource, changes: &[FieldChange], along_with: Option<&Address>) -> Diagnostic {
    let mut because: Vec<String> = changes
        .iter()
        .filter_map(|c| c.replace_reason.as_ref().map(|reason| format!("{} cannot change in place ({reason})", c.path)))
        .collect();
    if let Some(container) = along_with {
        because.push(format!("`{container}`, which it is in, is replaced"));
    }
    let address = &resource.address;
    Diagnostic::error("AKS180", format!("`{address}` would be deleted and created again: {}", because.join("; ")))
        .with_primary(resource.span, "this cluster would be replaced, with every node pool and workload in it")
        .with_help(format!(
            "if you mean to delete and recreate this cluster, set `allow_replace = true` in it or pass `--allow-replace {address}`"
        ))
        .with_subject(address.to_string())
}

/// AKS187: an imported resource would be replaced at once. The block does not describe the
/// resource it imports in a field that cannot change in place, and deleting what was just
/// taken under management is never what an import means.
fn import_replace_error(resource: &Resource, changes: &[FieldChange], along_with: Option<&Address>) -> Diagnostic {
    let address = &resource.address;
    let mut because: Vec<String> = changes
        .iter()
        .filter(|c| c.replace_reason.is_some())
        .map(|c| format!("`{}` is {} there, {} in the block", c.path, c.before, c.after))
        .collect();
    if let Some(container) = along_with {
        because.push(format!("`{container}`, which it is in, would be replaced"));
    }
    Diagnostic::error(
        "AKS187",
        format!("`{address}` would be imported and then replaced: {}", because.join("; ")),
    )
    .with_primary(resource.span, "the block differs from the resource it imports where it cannot change in place")
    .with_help(
        "make the block say what the resource has (`aksform import --generate` prints it), plan again and apply the \
         import; change the field afterwards, in a plan of its own",
    )
    .with_subject(address.to_string())
}

/// AKS186: a resource the state manages is now `existing` in the stack. Its state entry would
/// keep it managed (a destroy would delete it), so the plan stops until it is forgotten.
fn managed_existing_error(resource: &Resource) -> Diagnostic {
    let address = &resource.address;
    Diagnostic::error("AKS186", format!("`{address}` is existing in the stack, but the state manages it"))
        .with_primary(resource.span, "declared existing here")
        .with_help(format!(
            "to stop managing it and only use it, run `aksform state rm {address}` (nothing is deleted); to keep \
             managing it, write its block without `existing`"
        ))
        .with_subject(address.to_string())
}

/// AKS185: a cluster whose block was removed would be destroyed, with every workload in it.
/// Guarded as a replacement is: refused unless `--allow-destroy` names it. `stack` is where
/// the stack is declared, the place to point at, since the cluster's block is gone.
pub fn unrequested_cluster_destroys(plan: &Plan, allowed: &[Address], stack: Option<Span>) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    for action in plan.actions() {
        let address = &action.address;
        if action.action != ActionKind::Delete || address.kind != Kind::Cluster || allowed.contains(address) {
            continue;
        }
        let diagnostic = Diagnostic::error(
            "AKS185",
            format!("`{address}` would be destroyed, with every node pool and workload in it: its block was removed"),
        )
        .with_help(format!(
            "if you mean to delete this cluster, pass `--allow-destroy {address}` to this plan and its apply; \
             to stop managing it without deleting it, run `aksform state rm {address}`"
        ))
        .with_subject(address.to_string());
        diagnostics.push(match stack {
            Some(span) => diagnostic.with_primary(span, format!("`{address}` is no longer declared in this stack")),
            None => diagnostic,
        });
    }
    diagnostics
}

/// Plans the changes that make `state` match `desired`.
///
/// Errors only when no plan can be made (a dependency cycle, a resource declared twice, a
/// dependency on an undeclared resource). Problems with a plan that can still be shown, such
/// as an unrequested cluster replacement, come back as diagnostics beside it.
pub fn plan(desired: &[Resource], state: &State) -> Result<Planned, PlanError> {
    plan_importing(desired, state, &BTreeSet::new())
}

/// [`plan`] where the resources in `importing` are recorded in `state` as they were read and
/// are not yet the stack's: each becomes an import, with the changes that make it what its
/// block says (AKS187 where one cannot be made in place).
pub fn plan_importing(
    desired: &[Resource],
    state: &State,
    importing: &BTreeSet<Address>,
) -> Result<Planned, PlanError> {
    let mut decided = decide_all(desired, state, importing)?;
    for &(action, resource) in &decided.own_attributes {
        decided.actions[action].desired = desired[resource].attributes.clone();
    }
    decided.finish(state)
}

/// [`plan`], moving the attributes of each resource that changes into the plan rather than
/// copying them: a first plan holds every attribute of the stack. Those resources keep their
/// addresses and spans (all that [`PlanError::to_diagnostic`] reads) but lose their attributes.
pub fn plan_taking(desired: &mut [Resource], state: &State) -> Result<Planned, PlanError> {
    plan_taking_importing(desired, state, &BTreeSet::new())
}

/// [`plan_taking`] with imports, as [`plan_importing`].
pub fn plan_taking_importing(
    desired: &mut [Resource],
    state: &State,
    importing: &BTreeSet<Address>,
) -> Result<Planned, PlanError> {
    let mut decided = decide_all(desired, state, importing)?;
    for &(action, resource) in &decided.own_attributes {
        decided.actions[action].desired = std::mem::take(&mut desired[resource].attributes);
    }
    decided.finish(state)
}

/// Every action of a plan, before they are put in order.
struct AllDecided {
    actions: Vec<ResourceAction>,
    /// (action, resource): actions whose `desired` are the resource's own attributes, still
    /// to be filled in.
    own_attributes: Vec<(usize, usize)>,
    unchanged: usize,
    diagnostics: Diagnostics,
}

impl AllDecided {
    fn finish(self, state: &State) -> Result<Planned, PlanError> {
        let AllDecided { actions, unchanged, mut diagnostics, .. } = self;
        let recorded = state.resources.iter().map(|r| (&r.address, r)).collect();
        let (actions, steps) = graph::schedule(actions, &recorded)?;
        diagnostics.sort();
        Ok(Planned { plan: Plan::from_parts(actions, steps, unchanged), diagnostics })
    }
}

fn decide_all<'a>(
    desired: &'a [Resource],
    state: &'a State,
    importing: &'a BTreeSet<Address>,
) -> Result<AllDecided, PlanError> {
    let mut index = HashMap::with_capacity(desired.len());
    for (i, resource) in desired.iter().enumerate() {
        if index.insert(&resource.address, i).is_some() {
            return Err(PlanError::DuplicateAddress { address: resource.address.clone() });
        }
    }
    let recorded = state.resources.iter().map(|r| (&r.address, r)).collect();
    let mut clusters_by_text = HashMap::new();
    for (i, cluster) in desired.iter().enumerate().filter(|(_, r)| r.address.kind == Kind::Cluster) {
        let texts = ["name", "node_resource_group"].iter().filter_map(|a| cluster.attributes.get(*a)?.as_str());
        for text in texts.map(str::to_string).chain([cluster.address.to_string()]) {
            clusters_by_text.entry(text).or_insert(i);
        }
    }
    let mut referenced = vec![false; desired.len()];
    for resource in desired {
        for value in resource.attributes.values() {
            value.for_each_ref(&mut |r| {
                if let Some(&i) = index.get(&r.address) {
                    referenced[i] = true;
                }
            });
        }
    }
    let mut planner = Planner {
        desired,
        recorded,
        index,
        clusters_by_text,
        referenced,
        decisions: desired.iter().map(|_| None).collect(),
        importing,
    };
    // On every core; of several errors, the first in resource order, as one thread finds it.
    let needs = crate::parallel::map_chunks(desired, |part| part.iter().map(|r| planner.needs(r)).collect::<Vec<_>>())
        .into_iter()
        .flatten()
        .collect::<Result<Vec<_>, _>>()?;
    let addresses: Vec<&Address> = desired.iter().map(|r| &r.address).collect();
    let order = graph::resource_order(&addresses, &needs)?;

    // Resources of one depth in the order need none of each other: each layer is decided
    // on every core, from the decisions of the layers before it.
    let mut depth = vec![0usize; desired.len()];
    for &i in &order {
        depth[i] = needs[i].iter().map(|&n| depth[n] + 1).max().unwrap_or(0);
    }
    let mut diagnostics = Diagnostics::new();
    let mut actions = Vec::with_capacity(desired.len() + state.resources.len());
    let mut own_attributes = Vec::with_capacity(desired.len());
    let mut unchanged = 0;
    for layer in order.chunk_by(|&a, &b| depth[a] == depth[b]) {
        let decide = |part: &[usize]| part.iter().map(|&i| planner.decide(i, &needs[i])).collect::<Vec<_>>();
        let parts =
            if layer.len() < PARALLEL_LAYER { vec![decide(layer)] } else { crate::parallel::map_chunks(layer, decide) };
        for decided in parts.into_iter().flatten() {
            planner.decisions[decided.index] = Some(decided.decision);
            diagnostics.extend(decided.diagnostic);
            match decided.action {
                Some(action) => {
                    if decided.own_attributes {
                        own_attributes.push((actions.len(), decided.index));
                    }
                    actions.push(action);
                }
                None if desired[decided.index].existing => {}
                None => unchanged += 1,
            }
        }
    }
    for recorded in &state.resources {
        if !planner.index.contains_key(&recorded.address) {
            actions.push(ResourceAction {
                address: recorded.address.clone(),
                action: ActionKind::Delete,
                changes: Changes::Listed(diff::deletion(&recorded.attributes)),
                replaced_along_with: None,
                depends_on: recorded.dependencies.clone(),
                provider_id: recorded.provider_id.clone(),
                desired: Attributes::new(),
            });
        }
    }
    Ok(AllDecided { actions, own_attributes, unchanged, diagnostics })
}
