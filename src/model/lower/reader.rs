//! Reading a block body: unknown and duplicate attributes are reported once, and typed
//! getters report missing attributes and wrong types with the value's span.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::Lowering;
use crate::diag::{Diagnostic, Span, closest};
use crate::model::address::{Address, Kind};
use crate::model::kinds::{Labels, Spanned};
use crate::model::names;
use crate::syntax::ast::{Attribute, Block, Body, Expr, ExprKind, Ident, Item};

/// A resolved reference: a resource, maybe one of its attributes, maybe a port (`service.web:http`).
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub address: Address,
    pub attribute: Option<String>,
    pub port: Option<Ident>,
    pub span: Span,
}

/// The attributes and blocks of one body, checked against what the block allows.
pub(crate) struct BlockFields<'a> {
    /// How messages name the block: `cluster "shop"`.
    pub what: String,
    pub span: Span,
    attributes: Vec<&'a Attribute>,
    blocks: Vec<&'a Block>,
}

impl<'a> BlockFields<'a> {
    pub fn new(
        cx: &mut Lowering,
        body: Option<&'a Body>,
        what: impl Into<String>,
        span: Span,
        allowed_attributes: &[&str],
        allowed_blocks: &[&str],
    ) -> Self {
        let what = what.into();
        let mut attributes: Vec<&Attribute> = Vec::new();
        let mut blocks = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for item in body.iter().flat_map(|b| &b.items) {
            match item {
                Item::Attribute(a) => {
                    let key = a.key.name.as_str();
                    if !allowed_attributes.contains(&key) || a.quoted_key {
                        let mut d = Diagnostic::error("AKS010", format!("{what} has no attribute `{key}`"))
                            .with_primary(a.key.span, "unknown attribute");
                        d = if allowed_blocks.contains(&key) {
                            d.with_help(format!("`{key}` is a block here: write `{key} ... {{ ... }}`"))
                        } else if let Some(near) = closest(key, allowed_attributes.iter().copied()) {
                            d.with_help(format!("did you mean `{near}`?")).with_fix(
                                format!("rename `{key}` to `{near}`"),
                                a.key.span,
                                near,
                            )
                        } else {
                            d.with_help(format!("the attributes here are: {}", allowed_attributes.join(", ")))
                        };
                        cx.push(d);
                    } else if !seen.insert(key) {
                        let first = attributes.iter().find(|f| f.key.name == key).map(|f| f.key.span);
                        let mut d = Diagnostic::error("AKS013", format!("`{key}` is set twice in {what}"))
                            .with_primary(a.key.span, "set again here")
                            .with_help("keep one of them");
                        if let Some(first) = first {
                            d = d.with_secondary(first, "first set here");
                        }
                        cx.push(d);
                    } else {
                        attributes.push(a);
                    }
                }
                Item::Block(b) => {
                    let kind = b.kind.name.as_str();
                    if allowed_blocks.contains(&kind) {
                        blocks.push(b);
                    } else {
                        let mut d = Diagnostic::error("AKS010", format!("{what} has no block `{kind}`"))
                            .with_primary(b.kind.span, "unknown block");
                        d = if allowed_attributes.contains(&kind) {
                            d.with_help(format!("`{kind}` is an attribute: write `{kind} = ...`"))
                        } else if let Some(near) =
                            closest(kind, allowed_blocks.iter().chain(allowed_attributes).copied())
                        {
                            d.with_help(format!("did you mean `{near}`?"))
                        } else if allowed_blocks.is_empty() {
                            d.with_help(format!("{what} takes only attributes: {}", allowed_attributes.join(", ")))
                        } else {
                            d.with_help(format!("the blocks here are: {}", allowed_blocks.join(", ")))
                        };
                        cx.push(d);
                    }
                }
            }
        }
        BlockFields { what, span, attributes, blocks }
    }

    pub fn get(&self, key: &str) -> Option<&'a Attribute> {
        self.attributes.iter().copied().find(|a| a.key.name == key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn blocks(&self, kind: &'a str) -> impl Iterator<Item = &'a Block> + '_ {
        self.blocks.iter().copied().filter(move |b| b.kind.name == kind)
    }
}

fn describe_kinds(kinds: &[Kind]) -> String {
    let nouns: Vec<&str> = kinds.iter().map(|k| k.noun()).collect();
    nouns.join(" or ")
}

impl Lowering<'_> {
    /// The resolved value of `key`, reporting it missing when required.
    pub fn value<'f>(&mut self, f: &BlockFields<'f>, key: &str, required: bool) -> Option<Cow<'f, Expr>> {
        match f.get(key) {
            Some(a) => self.resolve(&a.value),
            None => {
                if required {
                    self.push(
                        Diagnostic::error("AKS011", format!("{} needs `{key}`", f.what))
                            .with_primary(f.span, format!("`{key}` is missing"))
                            .with_help(format!("add `{key} = ...` to the block")),
                    );
                }
                None
            }
        }
    }

    pub fn type_error(&mut self, expr: &Expr, key: &str, expected: &str, example: &str) {
        self.push(
            Diagnostic::error("AKS012", format!("`{key}` must be {expected}, found {}", expr.kind.describe()))
                .with_primary(expr.span, format!("expected {expected}"))
                .with_help(format!("for example `{key} = {example}`")),
        );
    }

    pub fn expr_string(&mut self, expr: &Expr, key: &str) -> Option<Spanned<String>> {
        match &expr.kind {
            ExprKind::String(s) => Some(Spanned::new(s.clone(), expr.span)),
            _ => {
                self.type_error(expr, key, "a string", "\"...\"");
                None
            }
        }
    }

    pub fn string(&mut self, f: &BlockFields, key: &str, required: bool) -> Option<Spanned<String>> {
        let expr = self.value(f, key, required)?;
        self.expr_string(&expr, key)
    }

    /// An enumeration value written as a bare word (a string is accepted too).
    pub fn expr_word(&mut self, expr: &Expr, key: &str, allowed: &[&str]) -> Option<Spanned<String>> {
        let word = match &expr.kind {
            ExprKind::Word(w) | ExprKind::String(w) => w.clone(),
            _ => {
                self.type_error(
                    expr,
                    key,
                    &format!("one of {}", allowed.join(", ")),
                    allowed.first().unwrap_or(&"..."),
                );
                return None;
            }
        };
        if allowed.is_empty() || allowed.contains(&word.as_str()) {
            return Some(Spanned::new(word, expr.span));
        }
        let help = match closest(&word, allowed.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("use one of: {}", allowed.join(", ")),
        };
        self.push(
            Diagnostic::error("AKS012", format!("`{word}` is not a valid `{key}`"))
                .with_primary(expr.span, format!("expected one of {}", allowed.join(", ")))
                .with_help(help),
        );
        None
    }

    pub fn word(&mut self, f: &BlockFields, key: &str, allowed: &[&str], required: bool) -> Option<Spanned<String>> {
        let expr = self.value(f, key, required)?;
        self.expr_word(&expr, key, allowed)
    }

    pub fn expr_number(&mut self, expr: &Expr, key: &str, min: u64, max: u64) -> Option<Spanned<u32>> {
        let ExprKind::Number(n) = expr.kind else {
            self.type_error(expr, key, "a number", &min.max(1).to_string());
            return None;
        };
        if n < min || n > max {
            self.push(
                Diagnostic::error("AKS012", format!("`{key}` must be from {min} to {max}, found {n}"))
                    .with_primary(expr.span, "out of range")
                    .with_help(format!("choose a value from {min} to {max}")),
            );
            return None;
        }
        Some(Spanned::new(n as u32, expr.span))
    }

    pub fn number(&mut self, f: &BlockFields, key: &str, min: u64, max: u64, required: bool) -> Option<Spanned<u32>> {
        let expr = self.value(f, key, required)?;
        self.expr_number(&expr, key, min, max)
    }

    pub fn boolean(&mut self, f: &BlockFields, key: &str) -> Option<bool> {
        let expr = self.value(f, key, false)?;
        match expr.kind {
            ExprKind::Bool(b) => Some(b),
            _ => {
                self.type_error(&expr, key, "true or false", "true");
                None
            }
        }
    }

    pub fn cidr(&mut self, f: &BlockFields, key: &str, required: bool) -> Option<Spanned<Ipv4Net>> {
        let expr = self.value(f, key, required)?;
        self.expr_cidr(&expr, key)
    }

    fn expr_cidr(&mut self, expr: &Expr, key: &str) -> Option<Spanned<Ipv4Net>> {
        match &expr.kind {
            ExprKind::Cidr(net) => Some(Spanned::new(*net, expr.span)),
            ExprKind::Ip(ip) => {
                self.push(
                    Diagnostic::error("AKS012", format!("`{key}` must be a CIDR block, found an IP address"))
                        .with_primary(expr.span, "no prefix length")
                        .with_help(format!("add the prefix length, e.g. `{ip}/24`")),
                );
                None
            }
            _ => {
                self.type_error(expr, key, "a CIDR block", "10.0.0.0/16");
                None
            }
        }
    }

    pub fn expr_ip(&mut self, expr: &Expr, key: &str) -> Option<Spanned<Ipv4Addr>> {
        match &expr.kind {
            ExprKind::Ip(ip) => Some(Spanned::new(*ip, expr.span)),
            _ => {
                self.type_error(expr, key, "an IP address", "10.0.0.10");
                None
            }
        }
    }

    pub fn ip(&mut self, f: &BlockFields, key: &str, required: bool) -> Option<Spanned<Ipv4Addr>> {
        let expr = self.value(f, key, required)?;
        self.expr_ip(&expr, key)
    }

    /// A list value; a single value stands for a list of one.
    fn list(&mut self, f: &BlockFields, key: &str, required: bool) -> Vec<Expr> {
        let Some(expr) = self.value(f, key, required).map(Cow::into_owned) else { return Vec::new() };
        match expr.kind {
            ExprKind::List(items) => items.iter().filter_map(|i| self.resolve(i).map(Cow::into_owned)).collect(),
            _ => vec![expr],
        }
    }

    pub fn cidr_list(&mut self, f: &BlockFields, key: &str, required: bool) -> Vec<Spanned<Ipv4Net>> {
        let items = self.list(f, key, required);
        items.iter().filter_map(|e| self.expr_cidr(e, key)).collect()
    }

    pub fn ip_list(&mut self, f: &BlockFields, key: &str) -> Vec<Spanned<Ipv4Addr>> {
        let items = self.list(f, key, false);
        items.iter().filter_map(|e| self.expr_ip(e, key)).collect()
    }

    pub fn string_list(&mut self, f: &BlockFields, key: &str) -> Vec<Spanned<String>> {
        let items = self.list(f, key, false);
        items.iter().filter_map(|e| self.expr_string(e, key)).collect()
    }

    /// A list of references to resources of the `expected` kinds.
    pub fn reference_list(&mut self, f: &BlockFields, key: &str, expected: &[Kind], required: bool) -> Vec<Target> {
        let items = self.list(f, key, required);
        items.iter().filter_map(|e| self.expr_reference(e, key, expected)).collect()
    }

    /// Availability zones: numbers or strings, kept as strings as ARM does.
    pub fn zones(&mut self, f: &BlockFields) -> Vec<String> {
        let items = self.list(f, "zones", false);
        items
            .iter()
            .filter_map(|e| match &e.kind {
                ExprKind::Number(n @ 1..=3) => Some(n.to_string()),
                ExprKind::String(s) if matches!(s.as_str(), "1" | "2" | "3") => Some(s.clone()),
                _ => {
                    self.push(
                        Diagnostic::error("AKS012", "an availability zone is 1, 2 or 3")
                            .with_primary(e.span, "not a zone")
                            .with_help("write `zones = [1, 2, 3]`"),
                    );
                    None
                }
            })
            .collect()
    }

    /// A map of strings. Kubernetes label rules apply to keys (and to values when `label_values`).
    pub fn labels(
        &mut self,
        f: &BlockFields,
        key: &str,
        kubernetes: bool,
        label_values: bool,
    ) -> Option<Spanned<Labels>> {
        let expr = self.value(f, key, false)?;
        let ExprKind::Map(body) = &expr.kind else {
            self.type_error(&expr, key, "a map", "{ app = \"web\" }");
            return None;
        };
        let mut labels = BTreeMap::new();
        for item in &body.items {
            let Item::Attribute(a) = item else {
                self.push(
                    Diagnostic::error("AKS012", format!("`{key}` holds `name = \"value\"` entries only"))
                        .with_primary(item.span(), "not an entry")
                        .with_help("write `{ app = \"web\" }`"),
                );
                continue;
            };
            let Some(value) = self.resolve(&a.value) else { continue };
            let value = match &value.kind {
                ExprKind::String(s) => s.clone(),
                ExprKind::Word(w) => w.clone(),
                ExprKind::Number(n) => n.to_string(),
                ExprKind::Bool(b) => b.to_string(),
                _ => {
                    self.type_error(&value, &a.key.name, "a string", "\"value\"");
                    continue;
                }
            };
            if kubernetes {
                if let Err(reason) = names::label_key(&a.key.name) {
                    self.push(
                        Diagnostic::error(
                            "AKS015",
                            format!("`{}` is not a valid Kubernetes key: it {reason}", a.key.name),
                        )
                        .with_primary(a.key.span, "invalid key")
                        .with_help("keys are `[prefix/]name`: the name is up to 63 letters, digits, '-', '_' or '.'"),
                    );
                }
                if label_values && let Err(reason) = names::label_value(&value) {
                    self.push(
                        Diagnostic::error("AKS015", format!("`{value}` is not a valid label value: it {reason}"))
                            .with_primary(a.value.span, "invalid value")
                            .with_help("label values are up to 63 letters, digits, '-', '_' or '.'"),
                    );
                }
            }
            if labels.insert(a.key.name.clone(), value).is_some() {
                self.push(
                    Diagnostic::error("AKS013", format!("`{}` appears twice in `{key}`", a.key.name))
                        .with_primary(a.key.span, "repeated key")
                        .with_help("keep one of them"),
                );
            }
        }
        Some(Spanned::new(labels, expr.span))
    }

    /// A reference to a resource of one of the `expected` kinds, without an attribute.
    pub fn expr_reference(&mut self, expr: &Expr, key: &str, expected: &[Kind]) -> Option<Target> {
        let ExprKind::Reference(reference) = &expr.kind else {
            let example = expected.first().map_or("kind.name".to_string(), |k| format!("{k}.NAME"));
            self.type_error(expr, key, &format!("a reference to a {}", describe_kinds(expected)), &example);
            return None;
        };
        let target = self.target(reference, expr.span)?;
        if !expected.contains(&target.address.kind) || target.attribute.is_some() {
            let found = match &target.attribute {
                Some(attribute) => format!("the attribute `{attribute}` of {}", target.address),
                None => format!("a {} ({})", target.address.kind.noun(), target.address),
            };
            self.push(
                Diagnostic::error(
                    "AKS012",
                    format!("`{key}` must refer to a {}, found {found}", describe_kinds(expected)),
                )
                .with_primary(expr.span, format!("expected a {}", describe_kinds(expected)))
                .with_help(format!("refer to a {} declared in the stack", describe_kinds(expected))),
            );
            return None;
        }
        Some(target)
    }

    pub fn reference(&mut self, f: &BlockFields, key: &str, expected: &[Kind], required: bool) -> Option<Target> {
        let expr = self.value(f, key, required)?;
        self.expr_reference(&expr, key, expected)
    }

    /// A block's labels after its keyword, resolved.
    pub fn labels_of(&mut self, block: &Block) -> Vec<Expr> {
        block.labels.iter().filter_map(|l| self.resolve(l).map(Cow::into_owned)).collect()
    }

    /// Reports a Kubernetes or Azure name that breaks its rule.
    pub fn check_name(&mut self, name: &str, span: Span, what: &str, rule: names::NameCheck, code: &'static str) {
        if let Err(reason) = rule {
            self.push(
                Diagnostic::error(code, format!("`{name}` is not a valid {what}: it {reason}"))
                    .with_primary(span, "invalid name")
                    .with_help(format!("rename it, or set `name` to a valid {what}")),
            );
        }
    }
}
