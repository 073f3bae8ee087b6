//! The picture of a change: the network a plan lands in (resource groups and virtual
//! networks as groups holding their subnets, clusters, public IPs, DNS zones with their
//! records, each cluster's Kubernetes objects by namespace) with the relations between them
//! and what the plan does to each. [`super::mermaid`] and [`super::dot`] draw it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::model::{Address, Brief, Kind, Provider, Resource, Value};
use crate::plan::{ActionKind, Plan, ResourceAction};
use crate::state::State;

/// What the plan does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Created,
    Changed,
    Replaced,
    Destroyed,
    Unchanged,
}

impl Status {
    pub const ALL: [Status; 5] =
        [Status::Created, Status::Changed, Status::Replaced, Status::Destroyed, Status::Unchanged];

    fn of(action: Option<ActionKind>) -> Status {
        match action {
            Some(ActionKind::Create) => Status::Created,
            Some(ActionKind::Update | ActionKind::Import) => Status::Changed,
            Some(ActionKind::Replace) => Status::Replaced,
            Some(ActionKind::Delete) => Status::Destroyed,
            None => Status::Unchanged,
        }
    }

    /// The word for it, also the class name in a diagram.
    pub fn word(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Changed => "changed",
            Status::Replaced => "replaced",
            Status::Destroyed => "destroyed",
            Status::Unchanged => "unchanged",
        }
    }
}

/// A box drawn around other things: a resource group, a virtual network, a DNS zone, a
/// cluster's Kubernetes objects, a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub label: String,
    /// `None` for a group that stands for no resource of the stack (a cluster's node resource
    /// group, the Kubernetes objects of a cluster).
    pub status: Option<Status>,
    /// The group it is drawn in (an index into [`Picture::groups`], always a smaller one).
    pub parent: Option<usize>,
}

/// One resource, drawn as a box of lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// The first names the resource; the others say what matters about it.
    pub lines: Vec<String>,
    pub status: Status,
    /// The group it is drawn in (an index into [`Picture::groups`]).
    pub group: Option<usize>,
    /// Kubernetes objects are drawn rounded.
    pub kubernetes: bool,
}

impl Node {
    /// The lines, the first with what the plan does to it unless nothing.
    pub fn lines_with_status(&self) -> Vec<String> {
        let mut lines = self.lines.clone();
        if self.status != Status::Unchanged
            && let Some(first) = lines.first_mut()
        {
            first.push_str(" · ");
            first.push_str(self.status.word());
        }
        lines
    }
}

impl Group {
    /// The label, with what the plan does to it unless nothing.
    pub fn label_with_status(&self) -> String {
        match self.status {
            Some(status) if status != Status::Unchanged => format!("{} · {}", self.label, status.word()),
            _ => self.label.clone(),
        }
    }
}

/// A relation: traffic or a reference from one resource to another (indices into
/// [`Picture::nodes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
}

/// The picture of a change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Picture {
    pub groups: Vec<Group>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// One resource as the picture sees it: what it will be (or was, when destroyed).
struct Item<'a> {
    address: &'a Address,
    attributes: BTreeMap<String, Value>,
    depends_on: &'a [Address],
    status: Status,
}

impl Item<'_> {
    fn text(&self, name: &str) -> Option<String> {
        match self.attributes.get(name) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value.plain()),
        }
    }

    fn name(&self) -> String {
        self.text("name").unwrap_or_else(|| self.address.name.clone())
    }

    fn brief(&self) -> Option<String> {
        let parts = (self.address.kind.spec().brief)(&Brief(&self.attributes));
        let text = parts.into_iter().flatten().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(", ");
        (!text.is_empty()).then_some(text)
    }

    /// A computed attribute: as recorded, unless the plan makes the resource anew.
    fn computed(&self, name: &str) -> Option<String> {
        match self.status {
            Status::Created | Status::Replaced => Some(Value::Unknown.plain()),
            _ => self.text(name),
        }
    }
}

/// The picture of `plan`: the `desired` resources and the recorded ones it destroys, each
/// marked with what the plan does to it.
pub fn picture(desired: &[Resource], recorded: Option<&State>, plan: &Plan) -> Picture {
    let by_address: HashMap<&Address, &ResourceAction> = plan.actions().iter().map(|a| (&a.address, a)).collect();
    let actions: HashMap<&Address, ActionKind> = by_address.iter().map(|(&address, a)| (address, a.action)).collect();
    let recorded_by: HashMap<&Address, &crate::state::ResourceState> =
        recorded.map(|s| s.resources.iter().map(|r| (&r.address, r)).collect()).unwrap_or_default();
    let made_anew = |address: &Address| matches!(actions.get(address), Some(ActionKind::Create | ActionKind::Replace));
    let mut items: Vec<Item> = Vec::new();
    let mut seen = BTreeSet::new();
    for resource in desired {
        let status = Status::of(actions.get(&resource.address).copied());
        // A plan made with `plan_taking` holds the attributes of what changes.
        let own = by_address.get(&resource.address).map(|a| &a.desired).filter(|d| !d.is_empty());
        let mut attributes: BTreeMap<String, Value> = own
            .unwrap_or(&resource.attributes)
            .iter()
            .map(|(name, value)| {
                let value = value.resolve(&mut |r| {
                    let value = (!made_anew(&r.address))
                        .then(|| recorded_by.get(&r.address).and_then(|s| s.attributes.get(&r.attribute)))
                        .flatten();
                    value.cloned().unwrap_or(Value::Unknown)
                });
                (name.clone(), value)
            })
            .collect();
        if let Some(before) = recorded_by.get(&resource.address) {
            for name in resource.computed {
                if let Some(value) = before.attributes.get(*name) {
                    attributes.entry(name.to_string()).or_insert_with(|| value.clone());
                }
            }
        }
        seen.insert(&resource.address);
        items.push(Item { address: &resource.address, attributes, depends_on: &resource.depends_on, status });
    }
    if let Some(state) = recorded {
        for resource in state.resources.iter().filter(|r| !seen.contains(&r.address)) {
            let status = match actions.get(&resource.address) {
                Some(ActionKind::Delete) => Status::Destroyed,
                _ => Status::Unchanged,
            };
            items.push(Item {
                address: &resource.address,
                attributes: resource.attributes.clone(),
                depends_on: &resource.dependencies,
                status,
            });
        }
    }
    items.sort_by(|a, b| a.address.cmp(b.address));
    Builder::default().build(&items)
}

#[derive(Default)]
struct Builder {
    picture: Picture,
    /// Groups by what they stand for: `rg:NAME`, a vnet's or zone's address, `k8s:CLUSTER`,
    /// `ns:CLUSTER:NAME`.
    group_keys: HashMap<String, usize>,
    nodes_by_address: HashMap<Address, usize>,
}

impl Builder {
    fn group(&mut self, key: String, label: String, status: Option<Status>, parent: Option<usize>) -> usize {
        if let Some(&index) = self.group_keys.get(&key) {
            if status.is_some() {
                let group = &mut self.picture.groups[index];
                group.status = status;
                group.label = label;
            }
            return index;
        }
        self.picture.groups.push(Group { label, status, parent });
        let index = self.picture.groups.len() - 1;
        self.group_keys.insert(key, index);
        index
    }

    fn resource_group(&mut self, name: Option<String>) -> Option<usize> {
        let name = name?;
        let label = format!("resource group {name}");
        Some(self.group(format!("rg:{name}"), label, None, None))
    }

    /// The group of a cluster's Kubernetes objects in `namespace`.
    fn namespace(&mut self, cluster: Option<String>, namespace: Option<String>) -> Option<usize> {
        let cluster = cluster?;
        let cluster_name = cluster.parse::<Address>().map(|a| a.name).unwrap_or_else(|_| cluster.clone());
        let objects = self.group(format!("k8s:{cluster}"), format!("Kubernetes in cluster {cluster_name}"), None, None);
        let namespace = namespace?;
        Some(self.group(format!("ns:{cluster}:{namespace}"), format!("namespace {namespace}"), None, Some(objects)))
    }

    fn build(mut self, items: &[Item]) -> Picture {
        // Groups first, in an order where a parent comes before what it holds.
        for item in items.iter().filter(|i| i.address.kind == Kind::ResourceGroup) {
            let name = item.name();
            self.group(format!("rg:{name}"), format!("resource group {name}"), Some(item.status), None);
        }
        for item in items {
            match item.address.kind {
                Kind::Vnet => {
                    let parent = self.resource_group(item.text("resource_group"));
                    let mut label = format!("vnet {}", item.name());
                    if let Some(Value::List(space)) = item.attributes.get("address_space") {
                        let space: Vec<String> = space.iter().map(Value::plain).collect();
                        label = format!("{label} · {}", space.join(", "));
                    }
                    self.group(item.address.to_string(), label, Some(item.status), parent);
                }
                Kind::DnsZone => {
                    let parent = self.resource_group(item.text("resource_group"));
                    let key = format!("zone:{}", item.name());
                    self.group(key, format!("DNS zone {}", item.name()), Some(item.status), parent);
                }
                Kind::Namespace => {
                    if let Some(index) = self.namespace(item.text("cluster"), Some(item.name())) {
                        self.picture.groups[index].status = Some(item.status);
                    }
                }
                _ => {}
            }
        }
        for item in items {
            self.node(item);
        }
        self.edges(items);
        self.picture
    }

    fn node(&mut self, item: &Item) {
        let kind = item.address.kind;
        let group = match kind {
            Kind::ResourceGroup | Kind::Vnet | Kind::DnsZone | Kind::Namespace => return,
            Kind::Subnet | Kind::Peering => {
                item.address.parent_address().and_then(|vnet| self.group_keys.get(&vnet.to_string()).copied())
            }
            Kind::NodePool => item
                .address
                .parent_address()
                .and_then(|cluster| self.nodes_by_address.get(&cluster))
                .and_then(|&n| self.picture.nodes[n].group),
            Kind::DnsRecord => item.text("zone").and_then(|zone| self.group_keys.get(&format!("zone:{zone}")).copied()),
            Kind::Service | Kind::Ingress => self.namespace(item.text("cluster"), item.text("namespace")),
            _ => self.resource_group(item.text("resource_group")),
        };
        let mut lines = vec![format!("{} {}", kind.noun(), item.address.name)];
        match kind {
            Kind::PublicIp => lines.extend(item.computed("address")),
            Kind::Service => {
                lines.extend(item.text("type"));
                let static_ip = item.attributes.get("load_balancer").and_then(|lb| match lb {
                    Value::Map(lb) => lb.get("ip").filter(|ip| **ip != Value::Null).map(Value::plain),
                    _ => None,
                });
                if item.text("type").as_deref() == Some("LoadBalancer") {
                    lines.extend(static_ip.or_else(|| item.computed("address")));
                }
                if let Some(Value::List(ports)) = item.attributes.get("ports")
                    && !ports.is_empty()
                {
                    let ports: Vec<String> = ports.iter().filter_map(|p| field(p, "port")).collect();
                    lines.push(format!("ports {}", ports.join(", ")));
                }
            }
            Kind::Ingress => {
                if let Some(Value::List(rules)) = item.attributes.get("rules") {
                    lines.extend(rules.iter().filter_map(|rule| field(rule, "host")));
                }
                lines.extend(item.computed("address"));
            }
            _ => lines.extend(item.brief()),
        }
        self.picture.nodes.push(Node {
            lines,
            status: item.status,
            group,
            kubernetes: kind.spec().provider == Provider::Kubernetes,
        });
        self.nodes_by_address.insert(item.address.clone(), self.picture.nodes.len() - 1);
    }

    /// The relations that matter on a network: a subnet for a cluster or an internal load
    /// balancer, a public IP for a Service or a NAT gateway, a route table or NAT gateway for
    /// a subnet, an Ingress to its Services, a DNS record to the address it holds.
    fn edges(&mut self, items: &[Item]) {
        let mut edges = BTreeSet::new();
        for item in items {
            let Some(&this) = self.nodes_by_address.get(item.address) else { continue };
            if item.address.kind == Kind::NodePool
                && let Some(&cluster) = item.address.parent_address().and_then(|c| self.nodes_by_address.get(&c))
            {
                edges.insert(Edge { from: cluster, to: this });
            }
            for dependency in item.depends_on {
                let Some(&other) = self.nodes_by_address.get(dependency) else { continue };
                let edge = match (dependency.kind, item.address.kind) {
                    (Kind::Subnet, Kind::Cluster | Kind::Service)
                    | (Kind::PublicIp, Kind::Service | Kind::NatGateway)
                    | (Kind::RouteTable | Kind::NatGateway, Kind::Subnet) => Edge { from: other, to: this },
                    // A node pool's subnet, drawn to its cluster.
                    (Kind::Subnet, Kind::NodePool) => {
                        let cluster = item.address.parent_address().and_then(|c| self.nodes_by_address.get(&c));
                        match cluster {
                            Some(&cluster) => Edge { from: other, to: cluster },
                            None => Edge { from: other, to: this },
                        }
                    }
                    (Kind::Service, Kind::Ingress)
                    | (Kind::PublicIp | Kind::Service | Kind::Ingress, Kind::DnsRecord) => {
                        Edge { from: this, to: other }
                    }
                    _ => continue,
                };
                edges.insert(edge);
            }
        }
        self.picture.edges = edges.into_iter().collect();
    }
}

/// A field of a map value, plainly.
fn field(value: &Value, name: &str) -> Option<String> {
    match value {
        Value::Map(map) => map.get(name).filter(|v| **v != Value::Null).map(Value::plain),
        _ => None,
    }
}
