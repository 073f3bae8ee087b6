//! Existing resources: `existing KIND "label" { ... }` names a resource the stack uses and does
//! not manage (the network team's hub VNet and its subnets, a static public IP tied to a DNS
//! name). Before lowering, each such block is rewritten into a block of its kind that carries
//! the values read from Azure (or, offline, those the state recorded when they were last
//! read), so that every check sees the real values: the capacity of the real subnet, the
//! real address space. The model marks those resources existing, and the planner never
//! creates, changes or deletes one.
//!
//! ```text
//! existing resource_group "network" { name = "rg-network" }
//!
//! existing vnet "hub" {
//!   resource_group = resource_group.network     # or "rg-network"
//!   name           = "vnet-hub"                 # the label when left out
//!   subnet "aks" { name = "snet-aks" }
//! }
//!
//! existing public_ip "ingress" {
//!   id = "/subscriptions/.../resourceGroups/rg-network/providers/Microsoft.Network/publicIPAddresses/pip-ingress"
//! }
//! ```

use std::collections::{BTreeMap, BTreeSet};

use super::address::{Address, Kind};
use super::kinds::AttributeType as T;
use super::value::Value;
use crate::diag::{Diagnostic, FileId, Span};
use crate::syntax::ast::{self, Block, Body, Expr, ExprKind, Ident, Item};

/// The keyword of the blocks.
pub const EXISTING: &str = "existing";

/// The code of every misuse of an `existing` block.
const CODE: &str = "AKS018";

/// The kinds a stack can use as existing, with the children an existing block may name.
const KINDS: &[(Kind, &[Kind])] = &[
    (Kind::ResourceGroup, &[]),
    (Kind::Vnet, &[Kind::Subnet]),
    (Kind::RouteTable, &[]),
    (Kind::PublicIp, &[]),
    (Kind::NatGateway, &[]),
    (Kind::DnsZone, &[]),
];

/// The attributes read of an existing resource that its block is given as facts, each with
/// the key its block takes: what the checks use (its location, address space, prefix, SKU).
const FACTS: &[(Kind, &[(&str, &str)])] = &[
    (Kind::ResourceGroup, &[("location", "location")]),
    (Kind::Vnet, &[("location", "location"), ("address_space", "address_space"), ("dns_servers", "dns_servers")]),
    (Kind::Subnet, &[("prefix", "prefix"), ("service_endpoints", "service_endpoints")]),
    (Kind::RouteTable, &[("location", "location")]),
    (
        Kind::PublicIp,
        &[
            ("location", "location"),
            ("sku", "sku"),
            ("allocation", "allocation"),
            ("zones", "zones"),
            ("dns_label", "dns_label"),
            ("idle_timeout_minutes", "idle_timeout"),
        ],
    ),
    (Kind::NatGateway, &[("location", "location")]),
    (Kind::DnsZone, &[]),
];

/// An existing resource: where it is, for reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingDecl {
    pub address: Address,
    /// Its Azure name.
    pub name: String,
    /// The Azure name of its resource group (of its parent's, for a subnet).
    pub resource_group: String,
}

/// Existing resources' values by address, in the model's form (as a provider reads them).
pub type ExistingValues = BTreeMap<Address, BTreeMap<String, Value>>;

/// What the rewrite found.
#[derive(Debug, Default)]
pub struct Existing {
    /// Every existing resource, parents before their children.
    pub decls: Vec<ExistingDecl>,
    /// Those with values, rewritten into blocks of their kind.
    pub read: BTreeSet<Address>,
    /// Those without: left out of the model (their addresses are declared, so references to
    /// them resolve, but nothing is checked against them).
    pub unread: Vec<(Address, Span)>,
}

/// Rewrites the `existing` blocks of `files` into blocks of their kinds, with `values`.
pub fn rewrite(files: &mut [(FileId, ast::File)], values: &ExistingValues) -> (Existing, Vec<Diagnostic>) {
    let any = files.iter().flat_map(|(_, f)| &f.items).any(|i| matches!(i, Item::Block(b) if b.kind.name == EXISTING));
    if !any {
        return (Existing::default(), Vec::new());
    }
    let mut rewrite = Rewrite {
        groups: resource_group_names(files),
        values,
        found: Existing::default(),
        diagnostics: Vec::new(),
        added: Vec::new(),
    };
    for (_, parsed) in files.iter_mut() {
        let items = std::mem::take(&mut parsed.items);
        for item in items {
            match item {
                Item::Block(block) if block.kind.name == EXISTING => {
                    if let Some(block) = rewrite.block(block) {
                        parsed.items.push(Item::Block(block));
                    }
                }
                other => parsed.items.push(other),
            }
        }
    }
    // Resource groups named only by a string or an id are existing blocks of their own.
    if let Some((_, first)) = files.first_mut() {
        first.items.extend(rewrite.added.drain(..).map(Item::Block));
    }
    (rewrite.found, rewrite.diagnostics)
}

/// The Azure names of the resource groups the files declare (existing or not), by label.
fn resource_group_names(files: &[(FileId, ast::File)]) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for block in files.iter().flat_map(|(_, f)| &f.items).filter_map(|i| match i {
        Item::Block(b) => Some(b),
        Item::Attribute(_) => None,
    }) {
        let (kind, label) = match (block.kind.name.as_str(), block.labels.as_slice()) {
            ("resource_group", [label]) => ("resource_group", label),
            (EXISTING, [kind, label]) => (word(kind).unwrap_or_default(), label),
            _ => continue,
        };
        let ExprKind::String(label) = &label.kind else { continue };
        if kind == "resource_group" {
            let name = string_attribute(block, "name").unwrap_or(label);
            names.insert(label.clone(), name.clone());
        }
    }
    names
}

fn word(expr: &Expr) -> Option<&str> {
    match &expr.kind {
        ExprKind::Word(w) => Some(w),
        _ => None,
    }
}

fn string_attribute<'b>(block: &'b Block, key: &str) -> Option<&'b String> {
    block.body.iter().flat_map(|b| &b.items).find_map(|item| match item {
        Item::Attribute(a) if a.key.name == key => match &a.value.kind {
            ExprKind::String(s) => Some(s),
            _ => None,
        },
        _ => None,
    })
}

struct Rewrite<'v> {
    /// Resource groups' Azure names by label.
    groups: BTreeMap<String, String>,
    values: &'v ExistingValues,
    found: Existing,
    diagnostics: Vec<Diagnostic>,
    /// Existing resource groups made for resources that name theirs by a string or an id.
    added: Vec<Block>,
}

/// A part of an existing resource its block names (a vnet's subnet).
struct Part {
    kind: Kind,
    label: String,
    name: Option<String>,
    span: Span,
}

/// The identity an `existing` block gives.
struct Identity {
    name: Option<(String, Span)>,
    resource_group: Option<Expr>,
    id: Option<(String, Span)>,
}

impl Rewrite<'_> {
    fn error(&mut self, span: Span, message: String, label: &str, help: String) {
        self.diagnostics.push(Diagnostic::error(CODE, message).with_primary(span, label).with_help(help));
    }

    fn block(&mut self, block: Block) -> Option<Block> {
        let header = block.header_span();
        let usage = || {
            "write `existing vnet \"hub\" { resource_group = resource_group.network  name = \"vnet-hub\" }` \
             (or `id = \"/subscriptions/...\"`)"
                .to_string()
        };
        let (kind_word, label) = match block.labels.as_slice() {
            [kind, Expr { kind: ExprKind::String(label), span }] if word(kind).is_some() => {
                (word(kind).unwrap_or_default().to_string(), (label.clone(), *span))
            }
            _ => {
                self.error(
                    header,
                    "an `existing` block names a kind and a label".into(),
                    "expected `existing KIND \"label\"`",
                    usage(),
                );
                return None;
            }
        };
        let Some(&(kind, children)) = KINDS.iter().find(|(k, _)| k.keyword() == kind_word) else {
            let kinds: Vec<&str> = KINDS.iter().map(|(k, _)| k.keyword()).collect();
            self.error(
                block.labels[0].span,
                format!("`{kind_word}` cannot be existing"),
                "not a kind a stack can use without managing it",
                format!("the kinds a stack can use as existing: {}", kinds.join(", ")),
            );
            return None;
        };
        let address = Address::new(kind, label.0.clone());
        let (identity, child_blocks) = self.identity(&block, kind, children);
        let name = identity.name.clone().map_or_else(|| label.0.clone(), |(n, _)| n);
        let (name, resource_group_expr, resource_group) = match (identity.id, kind) {
            (Some((id, span)), Kind::ResourceGroup) => {
                let (name, _) = self.parse_id(&id, span, kind)?;
                (name.clone(), None, name)
            }
            (Some((id, span)), _) => {
                let (name, group) = self.parse_id(&id, span, kind)?;
                let reference = self.group_reference(&group, span);
                (name, Some(reference), group)
            }
            (None, Kind::ResourceGroup) => (name.clone(), None, name),
            (None, _) => {
                let Some(expr) = identity.resource_group else {
                    self.error(
                        header,
                        format!("existing {kind_word} \"{}\" names no resource group", label.0),
                        "which resource group?",
                        usage(),
                    );
                    return None;
                };
                let (group, reference) = match &expr.kind {
                    ExprKind::String(group) => (group.clone(), self.group_reference(group, expr.span)),
                    ExprKind::Reference(r) => {
                        let names: Vec<&str> = r.names().collect();
                        let group = match names.as_slice() {
                            ["resource_group", label] => self.groups.get(*label).cloned(),
                            _ => None,
                        };
                        // Anything else is refused by the lowering, with its own message.
                        (group.unwrap_or_default(), expr.clone())
                    }
                    _ => (String::new(), expr.clone()),
                };
                (name, Some(reference), group)
            }
        };
        self.found.decls.push(ExistingDecl {
            address: address.clone(),
            name: name.clone(),
            resource_group: resource_group.clone(),
        });
        let read = self.values.get(&address);
        let mut items = vec![text_attribute("name", &name, header)];
        if let Some(reference) = resource_group_expr {
            items.push(attribute("resource_group", reference, header));
        }
        items.extend(read.into_iter().flat_map(|values| facts(kind, values, header)));
        for child in child_blocks {
            let child_address = address.child(child.kind, child.label.clone());
            let child_name = child.name.unwrap_or_else(|| child.label.clone());
            self.found.decls.push(ExistingDecl {
                address: child_address.clone(),
                name: child_name.clone(),
                resource_group: resource_group.clone(),
            });
            let mut child_items = vec![text_attribute("name", &child_name, child.span)];
            match self.values.get(&child_address) {
                Some(values) if read.is_some() => {
                    child_items.extend(facts(child.kind, values, child.span));
                    self.found.read.insert(child_address);
                    items.push(Item::Block(Block {
                        kind: Ident { name: child.kind.keyword().to_string(), span: child.span },
                        labels: vec![Expr { kind: ExprKind::String(child.label), span: child.span }],
                        body: Some(Body { items: child_items, span: child.span }),
                        span: child.span,
                    }));
                }
                _ => self.found.unread.push((child_address, child.span)),
            }
        }
        if read.is_none() {
            self.found.unread.push((address, header));
            return None;
        }
        self.found.read.insert(address);
        Some(Block {
            kind: Ident { name: kind_word, span: block.kind.span },
            labels: vec![Expr { kind: ExprKind::String(label.0), span: label.1 }],
            body: Some(Body { items, span: block.body.as_ref().map_or(header, |b| b.span) }),
            span: block.span,
        })
    }

    /// The identity attributes of the block, and its child blocks (kind, label, name, span);
    /// anything else is refused.
    fn identity(&mut self, block: &Block, kind: Kind, children: &[Kind]) -> (Identity, Vec<Part>) {
        let mut identity = Identity { name: None, resource_group: None, id: None };
        let mut child_blocks = Vec::new();
        for item in block.body.iter().flat_map(|b| &b.items) {
            match item {
                Item::Attribute(a) => match (a.key.name.as_str(), &a.value.kind) {
                    ("name", ExprKind::String(s)) => identity.name = Some((s.clone(), a.value.span)),
                    ("id", ExprKind::String(s)) => identity.id = Some((s.clone(), a.value.span)),
                    ("resource_group", _) if kind != Kind::ResourceGroup => {
                        identity.resource_group = Some(a.value.clone())
                    }
                    (key, _) => self.error(
                        a.key.span,
                        format!("`{key}` cannot be set on an existing {}", kind.keyword()),
                        "an existing resource is read, not written",
                        "an existing block says only which resource it is: `name` and `resource_group`, or `id`; \
                         its values are read from Azure. To manage the resource, import it (`aksform import`) \
                         into a block without `existing`"
                            .to_string(),
                    ),
                },
                Item::Block(child) => {
                    let child_kind = children.iter().copied().find(|k| k.keyword() == child.kind.name);
                    let label = match child.labels.as_slice() {
                        [Expr { kind: ExprKind::String(label), .. }] => Some(label.clone()),
                        _ => None,
                    };
                    let (Some(child_kind), Some(label)) = (child_kind, label) else {
                        self.error(
                            child.header_span(),
                            format!("an existing {} holds no `{}` block here", kind.keyword(), child.kind.name),
                            "not a part of it the stack can name",
                            match children.first() {
                                Some(c) => {
                                    format!("name its parts as `{} \"label\" {{ name = \"...\" }}`", c.keyword())
                                }
                                None => format!("an existing {} has no parts to name", kind.keyword()),
                            },
                        );
                        continue;
                    };
                    let mut name = None;
                    for item in child.body.iter().flat_map(|b| &b.items) {
                        match item {
                            Item::Attribute(a)
                                if a.key.name == "name" && matches!(a.value.kind, ExprKind::String(_)) =>
                            {
                                if let ExprKind::String(s) = &a.value.kind {
                                    name = Some(s.clone());
                                }
                            }
                            other => self.error(
                                match other {
                                    Item::Attribute(a) => a.key.span,
                                    Item::Block(b) => b.header_span(),
                                },
                                format!("an existing {} takes only its `name`", child_kind.keyword()),
                                "an existing resource is read, not written",
                                format!(
                                    "write `{} \"{label}\" {{ name = \"...\" }}`; its values are read from Azure",
                                    child_kind.keyword()
                                ),
                            ),
                        }
                    }
                    child_blocks.push(Part { kind: child_kind, label, name, span: child.header_span() });
                }
            }
        }
        (identity, child_blocks)
    }

    /// The name and resource group an ARM id gives (its type is checked when it is read).
    fn parse_id(&mut self, id: &str, span: Span, kind: Kind) -> Option<(String, String)> {
        let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
        let parsed = match parts.as_slice() {
            ["subscriptions", _, group_segment, group]
                if kind == Kind::ResourceGroup && group_segment.eq_ignore_ascii_case("resourceGroups") =>
            {
                Some((group.to_string(), group.to_string()))
            }
            ["subscriptions", _, group_segment, group, "providers", _, _, name]
                if kind != Kind::ResourceGroup && group_segment.eq_ignore_ascii_case("resourceGroups") =>
            {
                Some((name.to_string(), group.to_string()))
            }
            _ => None,
        };
        if parsed.is_none() {
            let shape = if kind == Kind::ResourceGroup { "" } else { "/providers/NAMESPACE/TYPE/NAME" };
            self.error(
                span,
                format!("this is not the id of a {}", kind.keyword()),
                &format!("expected /subscriptions/SUBSCRIPTION/resourceGroups/GROUP{shape}"),
                "copy the id from the resource's JSON view in the portal, or from `az resource show --query id`".into(),
            );
        }
        parsed
    }

    /// A reference to the resource group named `group`: the one the stack declares with that
    /// name, or an existing one added for it.
    fn group_reference(&mut self, group: &str, span: Span) -> Expr {
        let label = match self.groups.iter().find(|(_, name)| name.eq_ignore_ascii_case(group)) {
            Some((label, _)) => label.clone(),
            None => {
                self.groups.insert(group.to_string(), group.to_string());
                let block = Block {
                    kind: Ident { name: EXISTING.to_string(), span },
                    labels: vec![
                        Expr { kind: ExprKind::Word("resource_group".into()), span },
                        Expr { kind: ExprKind::String(group.to_string()), span },
                    ],
                    body: Some(Body { items: Vec::new(), span }),
                    span,
                };
                if let Some(block) = self.block(block) {
                    self.added.push(block);
                }
                group.to_string()
            }
        };
        reference(&["resource_group", &label], span)
    }
}

fn attribute(key: &str, value: Expr, span: Span) -> Item {
    Item::Attribute(ast::Attribute { key: Ident { name: key.to_string(), span }, quoted_key: false, value, span })
}

fn text_attribute(key: &str, text: &str, span: Span) -> Item {
    attribute(key, Expr { kind: ExprKind::String(text.to_string()), span }, span)
}

fn reference(names: &[&str], span: Span) -> Expr {
    let segments = names
        .iter()
        .map(|n| ast::Segment { name: n.to_string(), quoted: !crate::syntax::fmt::is_plain_identifier(n), span })
        .collect();
    Expr { kind: ExprKind::Reference(ast::Reference { segments, port: None }), span }
}

/// Facts whose blocks take them as lower-case words (`sku = standard`), where the resource's
/// attributes have them as Azure writes them (`Standard`).
const WORDS: &[&str] = &["sku", "allocation", "location"];

/// The facts of a read resource ([`FACTS`]) as attributes of its block.
fn facts(kind: Kind, values: &BTreeMap<String, Value>, span: Span) -> Vec<Item> {
    let facts = FACTS.iter().find(|(k, _)| *k == kind).map_or(&[][..], |(_, facts)| facts);
    facts
        .iter()
        .filter_map(|(name, key)| {
            let ty = kind.attribute(name)?.ty;
            let value = match values.get(*name)? {
                Value::Str(word) if WORDS.contains(key) => Value::Str(word.to_lowercase()),
                // Nothing set: the block leaves it out.
                Value::List(items) if items.is_empty() => return None,
                Value::Map(entries) if entries.is_empty() => return None,
                value => value.clone(),
            };
            let mut expr = expr(&value, ty, span)?;
            if let ExprKind::String(word) = &expr.kind
                && WORDS.contains(key)
                && crate::syntax::fmt::is_plain_identifier(word)
            {
                expr.kind = ExprKind::Word(word.clone());
            }
            Some(attribute(key, expr, span))
        })
        .collect()
}

/// A value as the expression that lowers to it.
fn expr(value: &Value, ty: T, span: Span) -> Option<Expr> {
    let element = |ty: T| move |v: &Value| expr(v, ty, span);
    let kind = match (ty, value) {
        (T::Text, Value::Str(s)) => ExprKind::String(s.clone()),
        (T::Integer, Value::Int(n)) => ExprKind::Number(u64::try_from(*n).ok()?),
        (T::Boolean, Value::Bool(b)) => ExprKind::Bool(*b),
        (T::Cidr, Value::Str(s)) => ExprKind::Cidr(s.parse().ok()?),
        (T::IpAddress, Value::Str(s)) => ExprKind::Ip(s.parse().ok()?),
        (T::TextList, Value::List(items)) => ExprKind::List(items.iter().map(element(T::Text)).collect::<Option<_>>()?),
        (T::CidrList, Value::List(items)) => ExprKind::List(items.iter().map(element(T::Cidr)).collect::<Option<_>>()?),
        (T::IpList, Value::List(items)) => {
            ExprKind::List(items.iter().map(element(T::IpAddress)).collect::<Option<_>>()?)
        }
        (T::TextMap, Value::Map(map)) => ExprKind::Map(Body {
            items: map
                .iter()
                .map(|(k, v)| {
                    let value = expr(v, T::Text, span)?;
                    Some(Item::Attribute(ast::Attribute {
                        key: Ident { name: k.clone(), span },
                        quoted_key: true,
                        value,
                        span,
                    }))
                })
                .collect::<Option<_>>()?,
            span,
        }),
        _ => return None,
    };
    Some(Expr { kind, span })
}

/// A resource's block as `aksform import --generate` prints it, from the values read: its
/// `name`, its resource group (as a reference to the block labelled `resource_group_label`),
/// the facts its block takes, and the children given (a vnet's subnets), in fmt's layout.
pub fn generated_block(
    kind: Kind,
    label: &str,
    values: &BTreeMap<String, Value>,
    resource_group_label: Option<&str>,
    children: &[(Kind, String, BTreeMap<String, Value>)],
) -> String {
    let span = Span::new(FileId(0), 0, 0);
    let block = |kind: Kind, label: &str, values: &BTreeMap<String, Value>, group: Option<&str>, nested: Vec<Item>| {
        let mut items = Vec::new();
        if let Some(Value::Str(name)) = values.get("name")
            && name != label
        {
            items.push(text_attribute("name", name, span));
        }
        if let Some(group) = group {
            items.push(attribute("resource_group", reference(&["resource_group", group], span), span));
        }
        items.extend(facts(kind, values, span));
        items.extend(nested);
        Item::Block(Block {
            kind: Ident { name: kind.keyword().to_string(), span },
            labels: vec![Expr { kind: ExprKind::String(label.to_string()), span }],
            body: Some(Body { items, span }),
            span,
        })
    };
    let nested = children.iter().map(|(kind, label, values)| block(*kind, label, values, None, Vec::new())).collect();
    let file =
        ast::File { items: vec![block(kind, label, values, resource_group_label, nested)], comments: Vec::new() };
    crate::syntax::format_file(&file, "")
}
