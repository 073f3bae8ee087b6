//! Lowering: from the syntax tree to the typed model. Resolves variables, `env()` calls
//! and references, checks attribute names and types, fills in defaults, and reports every
//! problem it finds as a diagnostic.

pub(super) mod azure;
mod cluster;
pub mod imports;
mod kube;
mod reader;
mod resolve;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::address::{Address, Kind};
use super::existing::{Existing, ExistingValues};
use super::stack::Stack;
use crate::diag::{Diagnostic, FileId, Span, closest};
use crate::syntax::ast::{self, Block, ExprKind, Item};

pub(crate) use reader::{BlockFields, Target};

/// The environment's variables, by name. Shared by the threads that lower Services and
/// Ingresses, so it is `Sync`.
pub type Env = dyn Fn(&str) -> Option<String> + Sync;

/// Everything lowering depends on. Lowering does no I/O: the environment comes in as a function.
pub struct Input<'a> {
    pub files: &'a [(FileId, ast::File)],
    /// Variable values given on the command line or in vars files, by name.
    pub vars: &'a BTreeMap<String, ast::Expr>,
    pub env: &'a Env,
    /// Resources the user allows to be replaced (`--allow-replace`).
    pub allow_replace: &'a [Address],
    /// The `existing` blocks, already rewritten in `files` into blocks of their kinds (those
    /// read) or left out (those not).
    pub existing: &'a Existing,
    /// The values read of the existing resources, computed ones too.
    pub existing_values: &'a ExistingValues,
}

/// The blocks that are not resources.
const SETTINGS: &[&str] = &["stack", "var", "import", crate::model::existing::EXISTING];

/// The keywords of the blocks that may appear at the top level: the settings, then the
/// top-level kinds.
fn top_level() -> impl Iterator<Item = &'static str> {
    SETTINGS.iter().copied().chain(Kind::ALL.into_iter().filter(|k| k.is_top_level()).map(Kind::keyword))
}

/// The order kinds are lowered in: each after the kinds its blocks may refer to by value (a
/// public IP in a cluster's node resource group, a Service's namespace and IP, an Ingress's
/// Services). Children come with their parents.
const LOWERING_ORDER: [Kind; Kind::COUNT] = [
    Kind::ResourceGroup,
    Kind::RouteTable,
    Kind::Vnet,
    Kind::Subnet,
    Kind::Peering,
    Kind::Cluster,
    Kind::NodePool,
    Kind::PublicIp,
    Kind::NatGateway,
    Kind::Namespace,
    Kind::Service,
    Kind::Ingress,
    Kind::DnsZone,
    Kind::DnsRecord,
    // Derived from the clusters, subnets, route tables, public IPs and Services.
    Kind::RoleAssignment,
];

#[derive(Clone)]
struct VarDecl<'a> {
    span: Span,
    default: Option<&'a ast::Expr>,
}

/// The lowering of one stack: what it has declared, its variables, and the diagnostics so far.
pub(crate) struct Lowering<'a> {
    input: &'a Input<'a>,
    diagnostics: Vec<Diagnostic>,
    /// Every declared resource address with its declaration span. The tables are shared
    /// with the contexts that lower Services and Ingresses on other threads.
    symbols: Arc<HashMap<Address, Span>>,
    vars: Arc<HashMap<String, VarDecl<'a>>>,
    location: String,
    /// Where each lowered namespace and Service sits in its vector of the stack: Services
    /// look up their namespace and Ingresses their backends by address, thousands of times.
    lowered: Arc<HashMap<Address, usize>>,
}

/// Lowers parsed files into a stack. Diagnostics include every error found.
pub fn lower(input: &Input) -> (Stack, Vec<Diagnostic>) {
    let mut cx = Lowering {
        input,
        diagnostics: Vec::new(),
        symbols: Arc::default(),
        vars: Arc::default(),
        location: String::new(),
        lowered: Arc::default(),
    };
    let mut blocks: Vec<&Block> = Vec::new();
    for (_, file) in input.files {
        for item in &file.items {
            match item {
                Item::Block(b) => blocks.push(b),
                Item::Attribute(a) => cx.diagnostics.push(
                    Diagnostic::error("AKS010", format!("attribute `{}` outside any block", a.key.name))
                        .with_primary(a.key.span, "not inside a block")
                        .with_help("attributes belong inside a block such as `stack \"name\" { ... }`; values for variables go in a vars file"),
                ),
            }
        }
    }
    // Sized once: every block declares an address, and most blocks are resources.
    Arc::make_mut(&mut cx.symbols).reserve(blocks.len());
    cx.declare(&blocks);
    // Existing resources not read: declared, so that references to them resolve.
    for (address, span) in &input.existing.unread {
        Arc::make_mut(&mut cx.symbols).entry(address.clone()).or_insert(*span);
    }
    let mut stack = Stack::default();
    let stack_blocks: Vec<&&Block> = blocks.iter().filter(|b| b.kind.name == "stack").collect();
    match stack_blocks.as_slice() {
        [] => {
            let span = blocks.first().map(|b| b.kind.span);
            let mut d = Diagnostic::error("AKS011", "the stack has no `stack` block").with_help(
                "add `stack \"name\" { location = westeurope }` to one of the files; its name names the state",
            );
            if let Some(span) = span {
                d = d.with_primary(span, "in this stack");
            }
            cx.diagnostics.push(d);
        }
        [first, rest @ ..] => {
            for other in rest {
                cx.diagnostics.push(
                    Diagnostic::error("AKS013", "a stack has one `stack` block")
                        .with_primary(other.header_span(), "second `stack` block")
                        .with_secondary(first.header_span(), "first one here")
                        .with_help("merge the two blocks"),
                );
            }
            azure::stack(&mut cx, first, &mut stack);
        }
    }
    cx.location = stack.location.clone();
    cx.check_unused_cli_vars();
    for kind in LOWERING_ORDER {
        cx.lower_kind(kind, &blocks, &mut stack);
    }
    stack.existing = input
        .existing
        .read
        .iter()
        .map(|address| (address.clone(), input.existing_values.get(address).cloned().unwrap_or_default()))
        .collect();
    imports::lower(&mut cx, &blocks, &mut stack);
    (stack, cx.diagnostics)
}

impl<'a> Lowering<'a> {
    /// Lowers the blocks of one kind into the stack. Every kind has its arm, so a new kind
    /// is lowered somewhere or the build fails.
    fn lower_kind(&mut self, kind: Kind, blocks: &[&'a Block], stack: &mut Stack) {
        let lower_each =
            |cx: &mut Lowering<'a>, stack: &mut Stack, lower: fn(&mut Lowering, &Block, String, &mut Stack)| {
                for block in blocks.iter().filter(|b| b.kind.name == kind.keyword()) {
                    if let Some(name) = cx.block_name(block) {
                        lower(cx, block, name, stack);
                    }
                }
            };
        match kind {
            Kind::ResourceGroup => lower_each(self, stack, azure::resource_group),
            Kind::Vnet => lower_each(self, stack, azure::vnet),
            Kind::Cluster => lower_each(self, stack, cluster::cluster),
            Kind::PublicIp => lower_each(self, stack, azure::public_ip),
            Kind::RouteTable => lower_each(self, stack, crate::model::kinds::lower_route_table),
            Kind::NatGateway => lower_each(self, stack, crate::model::kinds::lower_nat_gateway),
            Kind::DnsZone => lower_each(self, stack, azure::dns_zone),
            Kind::DnsRecord => lower_each(self, stack, azure::dns_record),
            // Lowered inside their parents' blocks.
            Kind::Subnet | Kind::Peering | Kind::NodePool => {}
            Kind::Namespace => {
                lower_each(self, stack, kube::namespace);
                self.index(stack.namespaces.iter().map(|n| &n.address));
            }
            Kind::Service => {
                let made = self.lower_apart(blocks, kind, stack, kube::service);
                stack.services.extend(made);
                self.index(stack.services.iter().map(|s| &s.address));
            }
            Kind::Ingress => {
                let made = self.lower_apart(blocks, kind, stack, kube::ingress);
                stack.ingresses.extend(made);
            }
            Kind::RoleAssignment => crate::model::kinds::derive_role_assignments(stack),
        }
    }

    /// Records the position of each lowered resource of one kind; of an address declared
    /// twice (already reported), the first.
    fn index<'r>(&mut self, addresses: impl Iterator<Item = &'r Address>) {
        let lowered = Arc::make_mut(&mut self.lowered);
        for (i, address) in addresses.enumerate() {
            lowered.entry(address.clone()).or_insert(i);
        }
    }

    /// Lowers the blocks of one kind whose resources depend on none of their own kind (each
    /// Service on the stack so far, each Ingress on the Services), on every core. Resources
    /// and diagnostics come in block order, as one thread would make them.
    fn lower_apart<T: Send>(
        &mut self,
        blocks: &[&'a Block],
        kind: Kind,
        stack: &Stack,
        lower: fn(&mut Lowering<'a>, &Block, String, &Stack) -> Option<T>,
    ) -> Vec<T> {
        let of_kind: Vec<&Block> = blocks.iter().copied().filter(|b| b.kind.name == kind.keyword()).collect();
        let this: &Lowering<'a> = self;
        let parts = crate::parallel::map_chunks(&of_kind, |part| {
            let mut cx = Lowering {
                input: this.input,
                diagnostics: Vec::new(),
                symbols: Arc::clone(&this.symbols),
                vars: Arc::clone(&this.vars),
                location: this.location.clone(),
                lowered: Arc::clone(&this.lowered),
            };
            let mut made = Vec::with_capacity(part.len());
            for block in part {
                if let Some(name) = cx.block_name(block) {
                    made.extend(lower(&mut cx, block, name, stack));
                }
            }
            (made, cx.diagnostics)
        });
        let mut all = Vec::with_capacity(of_kind.len());
        for (made, diagnostics) in parts {
            all.extend(made);
            self.diagnostics.extend(diagnostics);
        }
        all
    }

    /// The position of a lowered resource in its vector of the stack.
    pub(crate) fn lowered(&self, address: &Address) -> Option<usize> {
        self.lowered.get(address).copied()
    }

    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// The single string label of a resource block (`vnet "shop"`).
    pub(crate) fn block_name(&mut self, block: &Block) -> Option<String> {
        match block.labels.as_slice() {
            [ast::Expr { kind: ExprKind::String(name), .. }] if !name.is_empty() => Some(name.clone()),
            [ast::Expr { kind: ExprKind::Word(word), span }] => {
                self.push(
                    Diagnostic::error("AKS012", format!("the name of a {} is a string", block.kind.name))
                        .with_primary(*span, "not quoted")
                        .with_help(format!("write `{} \"{word}\"`", block.kind.name)),
                );
                None
            }
            [] => {
                self.push(
                    Diagnostic::error("AKS011", format!("this {} has no name", block.kind.name))
                        .with_primary(block.kind.span, "missing name")
                        .with_help(format!("write `{} \"name\" {{ ... }}`", block.kind.name)),
                );
                None
            }
            [first, ..] => {
                self.push(
                    Diagnostic::error("AKS012", format!("a {} takes exactly one name", block.kind.name))
                        .with_primary(first.span.to(block.labels[block.labels.len() - 1].span), "expected one string")
                        .with_help(format!("write `{} \"name\" {{ ... }}`", block.kind.name)),
                );
                None
            }
        }
    }

    /// First pass: every declared address, so references resolve whatever the file order.
    fn declare(&mut self, blocks: &[&'a Block]) {
        for block in blocks {
            let kind_name = block.kind.name.as_str();
            if kind_name == "stack" || kind_name == "import" {
                continue;
            }
            if kind_name == "var" {
                self.declare_var(block);
                continue;
            }
            let Some(kind) = Kind::from_keyword(kind_name).filter(|k| k.is_top_level()) else {
                let mut d = Diagnostic::error("AKS010", format!("unknown block `{kind_name}`"))
                    .with_primary(block.kind.span, "not a kind aksform knows");
                d = match closest(kind_name, top_level()) {
                    Some(near) => d.with_help(format!("did you mean `{near}`?")),
                    None => {
                        d.with_help(format!("the top-level blocks are: {}", top_level().collect::<Vec<_>>().join(", ")))
                    }
                };
                if Kind::from_keyword(kind_name).is_some_and(|k| !k.is_top_level()) {
                    let parent = Kind::from_keyword(kind_name).and_then(Kind::parent).map_or("", Kind::keyword);
                    d.help = Some(format!("a `{kind_name}` block goes inside a `{parent}` block"));
                }
                self.push(d);
                continue;
            };
            let Some(name) = block_label(block) else { continue };
            let address = Address::new(kind, name);
            self.declare_address(address.clone(), block);
            for child in block.body.iter().flat_map(|b| &b.items) {
                if let Item::Block(child) = child
                    && let Some(child_kind) = kind.children().find(|k| k.keyword() == child.kind.name)
                    && let Some(child_name) = block_label(child)
                {
                    self.declare_address(address.child(child_kind, child_name), child);
                }
            }
        }
    }

    fn declare_address(&mut self, address: Address, block: &Block) {
        if let Some(first) = self.symbols.get(&address) {
            let first = *first;
            self.push(
                Diagnostic::error("AKS013", format!("{address} is declared twice"))
                    .with_primary(block.header_span(), "declared again here")
                    .with_secondary(first, "first declared here")
                    .with_help(
                        "give one of them another name; for Kubernetes objects set `name` to keep the same object name",
                    ),
            );
        } else {
            Arc::make_mut(&mut self.symbols).insert(address, block.header_span());
        }
    }

    fn declare_var(&mut self, block: &'a Block) {
        let Some(name) = block_label(block) else {
            self.block_name(block);
            return;
        };
        let mut default = None;
        for item in block.body.iter().flat_map(|b| &b.items) {
            match item {
                Item::Attribute(a) if a.key.name == "default" => default = Some(&a.value),
                Item::Attribute(a) if a.key.name == "description" => {}
                other => {
                    let span = match other {
                        Item::Attribute(a) => a.key.span,
                        Item::Block(b) => b.kind.span,
                    };
                    self.push(
                        Diagnostic::error("AKS010", "a variable takes only `default` and `description`")
                            .with_primary(span, "not allowed here")
                            .with_help("write `var \"name\" { default = value }`"),
                    );
                }
            }
        }
        if let Some(previous) = self.vars.get(&name) {
            let first = previous.span;
            self.push(
                Diagnostic::error("AKS013", format!("variable `{name}` is declared twice"))
                    .with_primary(block.header_span(), "declared again here")
                    .with_secondary(first, "first declared here")
                    .with_help("remove one of them"),
            );
            return;
        }
        Arc::make_mut(&mut self.vars).insert(name, VarDecl { span: block.header_span(), default });
    }

    /// The declared variables' names, sorted, so that "did you mean" picks the same name
    /// every run.
    fn declared_vars(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.vars.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    fn check_unused_cli_vars(&mut self) {
        let unknown: Vec<(String, Span)> = self
            .input
            .vars
            .iter()
            .filter(|(name, _)| !self.vars.contains_key(*name))
            .map(|(name, expr)| (name.clone(), expr.span))
            .collect();
        for (name, span) in unknown {
            let declared = self.declared_vars();
            let help = match closest(&name, declared) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("declare it with `var \"{name}\" {{}}` or remove the value"),
            };
            self.push(
                Diagnostic::error(
                    "AKS017",
                    format!("a value is given for `{name}`, but the stack has no such variable"),
                )
                .with_primary(span, "this value")
                .with_help(help),
            );
        }
    }

    pub(crate) fn allow_replace(&self, address: &Address) -> bool {
        self.input.allow_replace.contains(address)
    }
}

/// The name label of a block, if it is a single non-empty string.
fn block_label(block: &Block) -> Option<String> {
    match block.labels.as_slice() {
        [ast::Expr { kind: ExprKind::String(name), .. }] if !name.is_empty() => Some(name.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
