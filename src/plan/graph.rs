//! The dependency graph: the order in which desired resources are planned, and the steps of a
//! plan with what each waits for, so that an executor can run independent steps in parallel.
//!
//! Creates and updates follow the declared dependencies. Deletes follow the dependencies
//! recorded in the state, backwards: a resource goes before what it depended on. A replace is
//! a delete then a create.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, VecDeque};

use petgraph::Direction;
use petgraph::algo::{has_path_connecting, tarjan_scc, toposort};
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, NodeIndexable};

use super::replace::{Attributes, placement_fields};
use super::{ActionKind, Operation, PlanError, ResourceAction, Step};
use crate::model::{Address, Kind, Value};
use crate::state::{ResourceState, address_key};

/// A topological order of `graph` (edges point from what comes first) in layers: first what
/// needs nothing, then what needs only those, and so on, each layer sorted by `key` so the
/// order is stable. Sorting by depth keeps it topological, since every edge goes deeper.
/// On a cycle, returns one cycle (its first node repeated at the end).
fn order<N, K: Ord>(
    graph: &StableDiGraph<N, ()>,
    key: impl Fn(NodeIndex) -> K,
) -> Result<Vec<NodeIndex>, Vec<NodeIndex>> {
    let compare = |a: NodeIndex, b: NodeIndex| key(a).cmp(&key(b));
    let sorted = toposort(graph, None).map_err(|_| find_cycle(graph, &compare))?;
    // By node index: the graphs here never remove nodes, so indices are dense.
    let mut depth = vec![0usize; graph.node_bound()];
    for &node in &sorted {
        depth[node.index()] = graph
            .neighbors_directed(node, Direction::Incoming)
            .map(|before| depth[before.index()] + 1)
            .max()
            .unwrap_or(0);
    }
    let mut layered = sorted;
    // Each node's key is made once: a first plan sorts every resource of the stack.
    layered.sort_by_cached_key(|&node| (depth[node.index()], key(node)));
    Ok(layered)
}

/// The shortest cycle through the smallest node of a strongly connected component.
fn find_cycle<N>(graph: &StableDiGraph<N, ()>, compare: &impl Fn(NodeIndex, NodeIndex) -> Ordering) -> Vec<NodeIndex> {
    let smallest = |nodes: &[NodeIndex]| nodes.iter().copied().min_by(|&a, &b| compare(a, b));
    let Some((component, start)) = tarjan_scc(graph)
        .into_iter()
        .filter(|c| c.len() > 1 || c.first().is_some_and(|&n| graph.contains_edge(n, n)))
        .filter_map(|c| smallest(&c).map(|start| (c, start)))
        .min_by(|a, b| compare(a.1, b.1))
    else {
        return Vec::new();
    };
    // Breadth-first from `start` back to itself, within the component.
    let mut came_from: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for edge in graph.edges_directed(node, Direction::Outgoing) {
            let next = edge.target();
            if !component.contains(&next) {
                continue;
            }
            if next == start {
                let mut cycle = vec![start, node];
                let mut at = node;
                while let Some(&previous) = came_from.get(&at) {
                    at = previous;
                    cycle.push(at);
                }
                cycle.reverse();
                return cycle;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = came_from.entry(next) {
                slot.insert(node);
                queue.push_back(next);
            }
        }
    }
    component
}

/// The order in which to plan resources so that every resource comes after those it needs.
/// `needs[i]` lists, without repeats, the indices resource `i` depends on.
pub(crate) fn resource_order(addresses: &[&Address], needs: &[Vec<usize>]) -> Result<Vec<usize>, PlanError> {
    let mut graph = StableDiGraph::<usize, ()>::with_capacity(addresses.len(), 0);
    let nodes: Vec<NodeIndex> = (0..addresses.len()).map(|i| graph.add_node(i)).collect();
    for (i, deps) in needs.iter().enumerate() {
        for &dep in deps {
            // `add_edge`, not `update_edge`, which scans the node's edges for a repeat: a
            // cluster has an edge to every object in it.
            graph.add_edge(nodes[dep], nodes[i], ());
        }
    }
    let address = |n: NodeIndex| addresses[graph[n]];
    order(&graph, |n| address_key(address(n)))
        .map(|order| order.into_iter().map(|n| graph[n]).collect())
        .map_err(|cycle| PlanError::Cycle { cycle: cycle.into_iter().map(|n| address(n).clone()).collect() })
}

/// What a resource recorded in the state needed when it was created, including its parent.
fn recorded_needs<'s>(
    recorded: &'s HashMap<&Address, &ResourceState>,
    address: &'s Address,
) -> impl Iterator<Item = Address> + 's {
    let recorded = recorded.get(address).into_iter().flat_map(|r| r.dependencies.iter().cloned());
    recorded.chain(address.parent_address())
}

/// What names an object where it lives: kind, parent, name and placement fields
/// (resource group, cluster, namespace, zone...).
type Identity<'a> = (Kind, Option<&'a (Kind, String)>, Vec<&'a Value>);

fn identity<'a>(address: &'a Address, attributes: &'a Attributes) -> Option<Identity<'a>> {
    let mut values = vec![attributes.get("name")?];
    values.extend(placement_fields(address.kind).map(|field| attributes.get(field).unwrap_or(&Value::Null)));
    Some((address.kind, address.parent.as_ref(), values))
}

/// Orders the actions and builds their steps. Returns the actions in the order they are
/// shown (each where its last step runs) and the steps, topologically sorted.
pub(crate) fn schedule(
    actions: Vec<ResourceAction>,
    recorded: &HashMap<&Address, &ResourceState>,
) -> Result<(Vec<ResourceAction>, Vec<Step>), PlanError> {
    let mut graph = StableDiGraph::<(usize, Operation), ()>::new();
    let mut apply_step: HashMap<&Address, NodeIndex> = HashMap::new();
    let mut delete_step: HashMap<&Address, NodeIndex> = HashMap::new();
    for (i, action) in actions.iter().enumerate() {
        let address = &action.address;
        match action.action {
            ActionKind::Create => {
                apply_step.insert(address, graph.add_node((i, Operation::Create)));
            }
            ActionKind::Update => {
                apply_step.insert(address, graph.add_node((i, Operation::Update)));
            }
            ActionKind::Import => {
                apply_step.insert(address, graph.add_node((i, Operation::Import)));
            }
            ActionKind::Delete => {
                delete_step.insert(address, graph.add_node((i, Operation::Delete)));
            }
            ActionKind::Replace => {
                let delete = graph.add_node((i, Operation::Delete));
                let create = graph.add_node((i, Operation::Create));
                graph.add_edge(delete, create, ());
                delete_step.insert(address, delete);
                apply_step.insert(address, create);
            }
        }
    }
    for action in actions.iter().filter(|a| a.action != ActionKind::Delete) {
        let Some(&step) = apply_step.get(&action.address) else { continue };
        // An action's dependencies are distinct addresses, so their edges are distinct.
        for dependency in &action.depends_on {
            if let Some(&first) = apply_step.get(dependency) {
                graph.add_edge(first, step, ());
            }
        }
    }
    // A resource is deleted before what it recorded needing. A resource that stays but is
    // updated stops using a deleted one with its update, so the delete waits for it, unless
    // that would close a cycle (the update may need something the delete precedes).
    let mut releases = Vec::new();
    for action in &actions {
        for needed in recorded_needs(recorded, &action.address) {
            let Some(&delete) = delete_step.get(&needed) else { continue };
            if let Some(&own_delete) = delete_step.get(&action.address) {
                graph.update_edge(own_delete, delete, ());
            } else if let Some(&update) = apply_step.get(&action.address)
                && action.action == ActionKind::Update
                && actions[graph[delete].0].action == ActionKind::Delete
            {
                releases.push((update, delete));
            }
        }
    }
    for (update, delete) in releases {
        if !has_path_connecting(&graph, delete, update, None) {
            graph.update_edge(update, delete, ());
        }
    }
    // A resource declared under a new address but with the same name where it lives is the
    // same object to Azure or Kubernetes: creating it before the old one is deleted would
    // update the old object, and the delete would then remove it.
    let mut deleted: BTreeMap<Identity, NodeIndex> = BTreeMap::new();
    for action in actions.iter().filter(|a| a.action == ActionKind::Delete) {
        if let (Some(record), Some(&delete)) = (recorded.get(&action.address), delete_step.get(&action.address))
            && let Some(identity) = identity(&action.address, &record.attributes)
        {
            deleted.insert(identity, delete);
        }
    }
    let creates = actions.iter().filter(|a| a.action == ActionKind::Create && !deleted.is_empty());
    for action in creates {
        if let Some(identity) = identity(&action.address, &action.desired)
            && let (Some(&delete), Some(&create)) = (deleted.get(&identity), apply_step.get(&action.address))
        {
            graph.update_edge(delete, create, ());
        }
    }

    // Within a layer, deletes first: they free names and address ranges that creates may reuse.
    let key = |n: NodeIndex| {
        let (action, operation) = graph[n];
        (operation != Operation::Delete, address_key(&actions[action].address))
    };
    let sorted = order(&graph, key).map_err(|cycle| {
        let mut addresses: Vec<Address> = cycle.iter().map(|&n| actions[graph[n].0].address.clone()).collect();
        addresses.dedup();
        PlanError::Cycle { cycle: addresses }
    })?;

    let mut position = vec![0; graph.node_bound()];
    for (i, &node) in sorted.iter().enumerate() {
        position[node.index()] = i;
    }
    let mut last_step = vec![0; actions.len()];
    for (i, &node) in sorted.iter().enumerate() {
        last_step[graph[node].0] = i;
    }
    let mut shown: Vec<usize> = (0..actions.len()).collect();
    shown.sort_by_key(|&i| last_step[i]);
    let mut new_index = vec![0; actions.len()];
    for (new, &old) in shown.iter().enumerate() {
        new_index[old] = new;
    }
    let steps = sorted
        .iter()
        .map(|&node| {
            let (action, operation) = graph[node];
            let mut depends_on: Vec<usize> =
                graph.neighbors_directed(node, Direction::Incoming).map(|n| position[n.index()]).collect();
            depends_on.sort_unstable();
            Step { action: new_index[action], operation, depends_on }
        })
        .collect();
    let mut slots: Vec<Option<ResourceAction>> = actions.into_iter().map(Some).collect();
    let ordered = shown.iter().filter_map(|&i| slots[i].take()).collect();
    Ok((ordered, steps))
}
