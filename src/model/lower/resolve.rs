//! Resolving expressions while lowering: variables, `env()` calls and string interpolation
//! replaced by their values, and references checked against what the stack declares.

use std::borrow::Cow;

use super::{Lowering, Target, VarDecl, top_level};
use crate::diag::{Diagnostic, Span, closest};
use crate::model::address::{Address, Kind};
use crate::syntax::ast::{self, ExprKind};

impl<'a> Lowering<'a> {
    /// The value of an expression with variables and `env()` calls replaced; the expression
    /// itself, not a copy, when it has neither.
    pub(crate) fn resolve<'e>(&mut self, expr: &'e ast::Expr) -> Option<Cow<'e, ast::Expr>> {
        match &expr.kind {
            ExprKind::Reference(r) if r.segments.first().is_some_and(|s| s.name == "var" && !s.quoted) => {
                let Some(segment) = r.segments.get(1) else {
                    self.push(
                        Diagnostic::error("AKS014", "`var` needs a variable name")
                            .with_primary(expr.span, "incomplete reference")
                            .with_help("write `var.NAME`"),
                    );
                    return None;
                };
                let name = segment.name.as_str();
                if r.segments.len() > 2 || r.port.is_some() {
                    self.push(
                        Diagnostic::error("AKS014", format!("`var.{name}` has no attributes"))
                            .with_primary(expr.span, "too many parts")
                            .with_help(format!("write `var.{name}`")),
                    );
                    return None;
                }
                if let Some(value) = self.input.vars.get(name) {
                    return Some(Cow::Owned(value.clone()));
                }
                match self.vars.get(name) {
                    Some(VarDecl { default: Some(default), .. }) => {
                        let default = (*default).clone();
                        self.resolve(&default).map(|v| {
                            let mut v = v.into_owned();
                            v.span = default.span;
                            Cow::Owned(v)
                        })
                    }
                    Some(VarDecl { span, default: None }) => {
                        let decl = *span;
                        self.push(
                            Diagnostic::error("AKS017", format!("variable `{name}` has no value"))
                                .with_primary(expr.span, "used here")
                                .with_secondary(decl, "declared without a default")
                                .with_help(format!(
                                    "pass `--var {name}=VALUE`, set it in a vars file, or give it a default"
                                )),
                        );
                        None
                    }
                    None => {
                        let declared = self.declared_vars();
                        let help = match closest(name, declared) {
                            Some(near) => format!("did you mean `var.{near}`?"),
                            None => format!("declare it with `var \"{name}\" {{ default = ... }}`"),
                        };
                        self.push(
                            Diagnostic::error("AKS014", format!("unknown variable `{name}`"))
                                .with_primary(segment.span, "not declared")
                                .with_help(help),
                        );
                        None
                    }
                }
            }
            ExprKind::Call { function, args } => {
                if function.name != "env" {
                    self.push(
                        Diagnostic::error("AKS012", format!("unknown function `{}`", function.name))
                            .with_primary(function.span, "not a function")
                            .with_help("the only function is `env(\"NAME\")` or `env(\"NAME\", \"default\")`"),
                    );
                    return None;
                }
                let strings: Vec<Option<&str>> = args
                    .iter()
                    .map(|a| match &a.kind {
                        ExprKind::String(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect();
                match strings.as_slice() {
                    [Some(name)] | [Some(name), Some(_)] => {
                        match ((self.input.env)(name), strings.get(1).copied().flatten()) {
                            (Some(value), _) => {
                                Some(Cow::Owned(ast::Expr { kind: ExprKind::String(value), span: expr.span }))
                            }
                            (None, Some(default)) => Some(Cow::Owned(ast::Expr {
                                kind: ExprKind::String(default.to_string()),
                                span: expr.span,
                            })),
                            (None, None) => {
                                self.push(
                                    Diagnostic::error("AKS017", format!("environment variable `{name}` is not set"))
                                        .with_primary(expr.span, "read here")
                                        .with_help(format!(
                                            "export {name}, or give a default: `env(\"{name}\", \"value\")`"
                                        )),
                                );
                                None
                            }
                        }
                    }
                    _ => {
                        self.push(
                            Diagnostic::error(
                                "AKS012",
                                "`env` takes a variable name and an optional default, both strings",
                            )
                            .with_primary(expr.span, "these arguments")
                            .with_help("write `env(\"NAME\")` or `env(\"NAME\", \"default\")`"),
                        );
                        None
                    }
                }
            }
            ExprKind::String(text) if text.contains("${") => self.interpolate(text, expr.span).map(Cow::Owned),
            _ => Some(Cow::Borrowed(expr)),
        }
    }

    /// `"platform-${var.environment}"`: variables inside strings.
    fn interpolate(&mut self, text: &str, span: Span) -> Option<ast::Expr> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                self.push(
                    Diagnostic::error("AKS012", "`${` without a closing `}` in a string")
                        .with_primary(span, "in this string")
                        .with_help("write `${var.NAME}`"),
                );
                return None;
            };
            let inner = after[..end].trim();
            let Some(name) = inner.strip_prefix("var.").filter(|n| !n.is_empty() && !n.contains('.')) else {
                self.push(
                    Diagnostic::error(
                        "AKS012",
                        format!("only variables can be used inside strings, found `${{{inner}}}`"),
                    )
                    .with_primary(span, "in this string")
                    .with_help("write `${var.NAME}`; to refer to a resource, use a reference outside a string"),
                );
                return None;
            };
            let reference = ast::Expr {
                kind: ExprKind::Reference(ast::Reference {
                    segments: ["var", name]
                        .iter()
                        .map(|s| ast::Segment { name: s.to_string(), quoted: false, span })
                        .collect(),
                    port: None,
                }),
                span,
            };
            let value = self.resolve(&reference)?;
            match &value.kind {
                ExprKind::String(s) | ExprKind::Word(s) => out.push_str(s),
                ExprKind::Number(n) => out.push_str(&n.to_string()),
                ExprKind::Bool(b) => out.push_str(&b.to_string()),
                ExprKind::Ip(ip) => out.push_str(&ip.to_string()),
                ExprKind::Cidr(net) => out.push_str(&net.to_string()),
                other => {
                    self.push(
                        Diagnostic::error(
                            "AKS012",
                            format!("`var.{name}` is {}, which cannot go inside a string", other.describe()),
                        )
                        .with_primary(span, "in this string")
                        .with_help("use a string, number or word variable"),
                    );
                    return None;
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Some(ast::Expr { kind: ExprKind::String(out), span })
    }

    /// Resolves a reference to a declared resource (and optionally one of its attributes).
    pub(crate) fn target(&mut self, reference: &ast::Reference, span: Span) -> Option<Target> {
        let names: Vec<&str> = reference.names().collect();
        let Some(kind) = Kind::from_keyword(names[0]).filter(|k| k.is_top_level()) else {
            let kinds: Vec<&str> = top_level().filter(|k| *k != "stack").collect();
            let help = match closest(names[0], kinds.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("a reference starts with one of: {}", kinds.join(", ")),
            };
            self.push(
                Diagnostic::error("AKS014", format!("`{}` is not a kind of resource", names[0]))
                    .with_primary(reference.segments[0].span, "unknown kind")
                    .with_help(help),
            );
            return None;
        };
        let Some(name) = names.get(1) else {
            self.push(
                Diagnostic::error("AKS014", format!("`{}` needs a name", names[0]))
                    .with_primary(span, "incomplete reference")
                    .with_help(format!("write `{}.NAME`", names[0])),
            );
            return None;
        };
        let mut address = Address::new(kind, *name);
        let mut rest = &names[2..];
        let mut segment_index = 1;
        if let [child_kind, child_name, tail @ ..] = rest
            && let Some(child) = Kind::from_keyword(child_kind).filter(|c| c.parent() == Some(kind))
            && self.symbols.contains_key(&address)
        {
            address = address.child(child, *child_name);
            segment_index = 3;
            rest = tail;
        }
        if !self.symbols.contains_key(&address) {
            // Sorted, so that of equally close names the suggestion is the same every run.
            let mut candidates: Vec<String> = self
                .symbols
                .keys()
                .filter(|a| a.kind == address.kind && a.parent == address.parent)
                .map(|a| a.name.clone())
                .collect();
            candidates.sort_unstable();
            let help = match closest(&address.name, candidates.iter().map(String::as_str)) {
                Some(near) => {
                    let suggestion = Address { name: near.to_string(), ..address.clone() };
                    format!("did you mean `{suggestion}`?")
                }
                None if candidates.is_empty() => {
                    format!("declare it: `{} \"{}\" {{ ... }}`", address.kind, address.name)
                }
                None => format!("the {}s declared are: {}", address.kind.noun(), candidates.join(", ")),
            };
            self.push(
                Diagnostic::error("AKS014", format!("unknown {} `{}`", address.kind.noun(), address))
                    .with_primary(
                        reference.segments[segment_index.min(reference.segments.len() - 1)].span,
                        "not declared",
                    )
                    .with_help(help),
            );
            return None;
        }
        let attribute = match rest {
            [] => None,
            [attribute] => {
                let mut referable = address.kind.referable_attributes();
                if !referable.any(|a| a.name == *attribute) {
                    let names: Vec<&str> = address.kind.referable_attributes().map(|a| a.name).collect();
                    let help = match closest(attribute, names.iter().copied()) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("a {} offers: {}", address.kind.noun(), names.join(", ")),
                    };
                    self.push(
                        Diagnostic::error(
                            "AKS014",
                            format!("a {} has no attribute `{attribute}`", address.kind.noun()),
                        )
                        .with_primary(reference.segments[reference.segments.len() - 1].span, "unknown attribute")
                        .with_help(help),
                    );
                    return None;
                }
                Some(attribute.to_string())
            }
            _ => {
                self.push(
                    Diagnostic::error("AKS014", "too many parts in this reference")
                        .with_primary(span, "cannot resolve")
                        .with_help(format!("refer to `{address}` or one of its attributes")),
                );
                return None;
            }
        };
        Some(Target { address, attribute, port: reference.port.clone(), span })
    }
}
