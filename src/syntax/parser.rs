//! The pest parser and the conversion of its pairs into the syntax tree. After a syntax
//! error the file is cut at top-level items and each is parsed alone, so one run reports
//! every broken item, not only the first.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use pest::Parser as _;
use pest::iterators::Pair;

use super::ast::*;
use super::scan;
use crate::diag::{Diagnostic, FileId, Span};

mod parallel;

pub use parallel::parse_files;

#[derive(pest_derive::Parser)]
#[grammar = "grammar/aksform.pest"]
struct Grammar;

/// Parses a whole `.aks` file. Returns the items that parsed and a diagnostic for each error.
pub fn parse_file(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    let outline = scan::outline(text, MAX_NESTING);
    let comments = comments(file, text, &outline);
    if let Some(at) = outline.too_deep {
        return (File { items: Vec::new(), comments }, vec![too_deep(file, at)]);
    }
    let mut builder = Builder { file, offset: 0, diagnostics: Vec::new() };
    match Grammar::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let items = pairs.next().map(|p| builder.items(p)).unwrap_or_default();
            (File { items, comments }, builder.diagnostics)
        }
        Err(_) => {
            let mut items = Vec::new();
            for chunk in scan::recovery_chunks(text) {
                let start = chunk.start;
                let chunk = &text[chunk];
                builder.offset = start;
                match Grammar::parse(Rule::file, chunk) {
                    Ok(mut pairs) => items.extend(pairs.next().map(|p| builder.items(p)).unwrap_or_default()),
                    Err(error) => builder.diagnostics.push(syntax_error(file, start, chunk, &error)),
                }
            }
            (File { items, comments }, builder.diagnostics)
        }
    }
}

/// Parses `text`, a run of whole top-level items cut from a file at byte `offset`. `None`
/// when it does not parse.
pub(super) fn parse_items(file: FileId, text: &str, offset: usize) -> Option<(Vec<Item>, Vec<Diagnostic>)> {
    let mut builder = Builder { file, offset, diagnostics: Vec::new() };
    let mut pairs = Grammar::parse(Rule::file, text).ok()?;
    let items = pairs.next().map(|p| builder.items(p)).unwrap_or_default();
    Some((items, builder.diagnostics))
}

/// Parses a vars file (`name = value` lines).
pub fn parse_vars_file(file: FileId, text: &str) -> (Vec<Attribute>, Vec<Diagnostic>) {
    if let Some(at) = scan::outline(text, MAX_NESTING).too_deep {
        return (Vec::new(), vec![too_deep(file, at)]);
    }
    let mut builder = Builder { file, offset: 0, diagnostics: Vec::new() };
    match Grammar::parse(Rule::vars_file, text) {
        Ok(mut pairs) => {
            let attributes = pairs
                .next()
                .map(|p| {
                    p.into_inner().filter(|p| p.as_rule() == Rule::attribute).map(|p| builder.attribute(p)).collect()
                })
                .unwrap_or_default();
            (attributes, builder.diagnostics)
        }
        Err(error) => (Vec::new(), vec![syntax_error(file, 0, text, &error)]),
    }
}

/// Parses one value, as given with `--var name=value`. `None` when it is not a value.
pub fn parse_value(file: FileId, text: &str) -> Option<(Expr, Vec<Diagnostic>)> {
    if scan::outline(text, MAX_NESTING).too_deep.is_some() {
        return None;
    }
    let mut builder = Builder { file, offset: 0, diagnostics: Vec::new() };
    let mut pairs = Grammar::parse(Rule::lone_expr, text).ok()?;
    let expr = pairs.next()?.into_inner().find(|p| p.as_rule() == Rule::expr)?;
    Some((builder.expr(expr), builder.diagnostics))
}

/// Brackets nested deeper than any stack needs; the parser recurses per level, so deeper
/// input is refused before it could exhaust the stack.
const MAX_NESTING: usize = 64;

fn too_deep(file: FileId, at: usize) -> Diagnostic {
    Diagnostic::error("AKS001", format!("brackets nested more than {MAX_NESTING} levels deep"))
        .with_primary(Span::new(file, at, at + 1), "too deep")
        .with_help("flatten the structure; no aksform value needs this much nesting")
}

/// The comments the scan found, as the syntax tree keeps them.
fn comments(file: FileId, text: &str, outline: &scan::Outline) -> Vec<Comment> {
    outline
        .comments
        .iter()
        .map(|range| Comment { text: text[range.clone()].to_string(), span: Span::new(file, range.start, range.end) })
        .collect()
}

fn syntax_error(file: FileId, offset: usize, text: &str, error: &pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let (start, end) = match error.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    // Point at the offending character (or the end of input) rather than an empty spot.
    let end = if end > start { end } else { text[start..].chars().next().map_or(start, |c| start + c.len_utf8()) };
    let found = match text[start..].chars().next() {
        None => "the end of the file".to_string(),
        Some(c) if c.is_whitespace() => "a line break".to_string(),
        Some(_) => {
            let token: String = text[start..].chars().take_while(|c| !c.is_whitespace()).take(20).collect();
            format!("`{token}`")
        }
    };
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => describe_expected(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let message =
        if expected.is_empty() { format!("unexpected {found}") } else { format!("expected {expected}, found {found}") };
    let help = if found == "the end of the file" {
        "a block is missing its closing `}` or a string its closing `\"`"
    } else {
        "an item is `name = value` or `kind \"name\" { ... }`; labels of a block stay on its first line"
    };
    Diagnostic::error("AKS001", message)
        .with_primary(Span::new(file, offset + start, offset + end), "here")
        .with_help(help)
}

fn describe_expected(rules: &[Rule]) -> String {
    let mut names: Vec<&str> = rules
        .iter()
        .flat_map(|r| match r {
            Rule::expr
            | Rule::constructor
            | Rule::cidr
            | Rule::ip
            | Rule::range
            | Rule::port_protocol
            | Rule::number
            | Rule::boolean
            | Rule::call
            | Rule::reference
            | Rule::list
            | Rule::map => &["a value"][..],
            // A failed `value` is a place where every simple value was tried: a string and a
            // word (a name) too.
            Rule::value => &["a value", "a string", "a name"],
            Rule::string | Rule::string_inner => &["a string"],
            Rule::ident => &["a name"],
            Rule::attribute | Rule::block => &["an attribute or block"],
            Rule::body => &["`{`"],
            Rule::EOI => &["the end of the file"],
            Rule::port_ref => &["a port name"],
            _ => &[],
        })
        .copied()
        .collect();
    names.sort();
    names.dedup();
    match names.len() {
        0 => String::new(),
        1 => names[0].to_string(),
        _ => {
            let (last, rest) = names.split_last().unwrap_or((&"", &[]));
            format!("{} or {}", rest.join(", "), last)
        }
    }
}

struct Builder {
    file: FileId,
    offset: usize,
    diagnostics: Vec<Diagnostic>,
}

impl Builder {
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, self.offset + s.start(), self.offset + s.end())
    }

    fn items(&mut self, pair: Pair<Rule>) -> Vec<Item> {
        let pairs = pair.into_inner();
        // Sized once (the pairs are the items and, for a file, its end): a file's vector is
        // large, and each growth would free the old buffer.
        let mut items = Vec::with_capacity(pairs.len());
        items.extend(pairs.filter_map(|p| self.item(p)));
        items
    }

    fn item(&mut self, pair: Pair<Rule>) -> Option<Item> {
        match pair.as_rule() {
            Rule::attribute => Some(Item::Attribute(self.attribute(pair))),
            Rule::block => Some(Item::Block(self.block(pair))),
            _ => None,
        }
    }

    fn ident(&self, pair: &Pair<Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: self.span(pair) }
    }

    fn attribute(&mut self, pair: Pair<Rule>) -> Attribute {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let (key, quoted_key, value) = match (inner.next(), inner.next()) {
            (Some(k), Some(v)) => {
                let quoted = k.as_rule() == Rule::string;
                let key =
                    if quoted { Ident { name: self.string(k.clone()), span: self.span(&k) } } else { self.ident(&k) };
                (key, quoted, self.expr(v))
            }
            _ => unreachable!("the grammar gives an attribute a key and a value"),
        };
        Attribute { key, quoted_key, value, span }
    }

    fn block(&mut self, pair: Pair<Rule>) -> Block {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let kind = inner.next().map(|p| self.ident(&p)).unwrap_or(Ident { name: String::new(), span });
        let mut labels = Vec::new();
        let mut body = None;
        for p in inner {
            if p.as_rule() == Rule::body {
                body = Some(self.body(p));
            } else {
                labels.push(self.value(p));
            }
        }
        Block { kind, labels, body, span }
    }

    fn body(&mut self, pair: Pair<Rule>) -> Body {
        let span = self.span(&pair);
        Body { items: self.items(pair), span }
    }

    fn expr(&mut self, pair: Pair<Rule>) -> Expr {
        match pair.into_inner().next() {
            Some(inner) => self.value(inner),
            None => unreachable!("the grammar gives an expression one value"),
        }
    }

    fn value(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let text = pair.as_str();
        let kind = match pair.as_rule() {
            Rule::expr => return self.expr(pair),
            Rule::string => ExprKind::String(self.string(pair)),
            Rule::number => ExprKind::Number(self.number(text, span)),
            Rule::boolean => ExprKind::Bool(text == "true"),
            Rule::ident => ExprKind::Word(text.to_string()),
            Rule::ip => ExprKind::Ip(self.ip(text, span)),
            Rule::cidr => ExprKind::Cidr(self.cidr(text, span)),
            Rule::range => {
                let mut inner = pair.into_inner();
                let mut next = |b: &mut Self| inner.next().map_or(0, |p| b.number(p.as_str(), b.span(&p)));
                let start = next(self);
                let end = next(self);
                ExprKind::Range { start, end }
            }
            Rule::port_protocol => {
                let mut inner = pair.into_inner();
                let port = inner.next().map_or(0, |p| self.number(p.as_str(), self.span(&p)));
                let protocol = inner.next().map(|p| self.ident(&p)).unwrap_or(Ident { name: String::new(), span });
                ExprKind::PortProtocol { port, protocol }
            }
            Rule::reference => {
                let mut segments = Vec::new();
                let mut port = None;
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::ident => {
                            segments.push(Segment { name: p.as_str().to_string(), quoted: false, span: self.span(&p) })
                        }
                        Rule::string => {
                            let s = self.span(&p);
                            segments.push(Segment { name: self.string(p), quoted: true, span: s })
                        }
                        Rule::port_ref => port = Some(self.ident(&p)),
                        _ => {}
                    }
                }
                ExprKind::Reference(Reference { segments, port })
            }
            Rule::call => {
                let mut inner = pair.into_inner();
                let function = inner.next().map(|p| self.ident(&p)).unwrap_or(Ident { name: String::new(), span });
                let args = inner.map(|p| self.expr(p)).collect();
                ExprKind::Call { function, args }
            }
            Rule::list => ExprKind::List(pair.into_inner().map(|p| self.expr(p)).collect()),
            Rule::map => ExprKind::Map(Body { items: self.items(pair), span }),
            Rule::value => {
                let mut inner = pair.into_inner();
                match (inner.next(), inner.next()) {
                    (Some(from), Some(to)) => {
                        ExprKind::Mapping { from: Box::new(self.value(from)), to: Box::new(self.value(to)) }
                    }
                    (Some(simple), None) => return self.value(simple),
                    _ => unreachable!("the grammar gives a value one side or two"),
                }
            }
            Rule::constructor => {
                let mut inner = pair.into_inner();
                let name = inner.next().map(|p| self.ident(&p)).unwrap_or(Ident { name: String::new(), span });
                let mut args = Vec::new();
                let mut body = None;
                for p in inner {
                    if p.as_rule() == Rule::body {
                        body = Some(self.body(p));
                    } else {
                        args.push(self.value(p));
                    }
                }
                ExprKind::Constructor { name, args, body }
            }
            other => unreachable!("not a value rule: {other:?}"),
        };
        Expr { kind, span }
    }

    fn string(&mut self, pair: Pair<Rule>) -> String {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map_or("", |p| p.as_str());
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                other => {
                    let shown = other.map_or(String::new(), |c| c.to_string());
                    self.diagnostics.push(
                        Diagnostic::error("AKS002", format!("unknown escape `\\{shown}` in string"))
                            .with_primary(span, "in this string")
                            .with_help("the escapes are \\n, \\t, \\\\ and \\\""),
                    );
                    if let Some(c) = other {
                        out.push(c);
                    }
                }
            }
        }
        out
    }

    fn number(&mut self, text: &str, span: Span) -> u64 {
        text.parse().unwrap_or_else(|_| {
            self.diagnostics.push(
                Diagnostic::error("AKS002", format!("number `{text}` is too large"))
                    .with_primary(span, "this number")
                    .with_help("numbers are whole and at most 18446744073709551615"),
            );
            0
        })
    }

    fn ip(&mut self, text: &str, span: Span) -> Ipv4Addr {
        text.parse().unwrap_or_else(|_| {
            self.diagnostics.push(
                Diagnostic::error("AKS002", format!("`{text}` is not an IPv4 address"))
                    .with_primary(span, "invalid address")
                    .with_help("each of the four parts is a number from 0 to 255, without leading zeros"),
            );
            Ipv4Addr::UNSPECIFIED
        })
    }

    fn cidr(&mut self, text: &str, span: Span) -> Ipv4Net {
        let (addr_text, prefix_text) = text.split_once('/').unwrap_or((text, ""));
        let addr = self.ip(addr_text, span);
        let prefix: u8 = match prefix_text.parse() {
            Ok(p) if p <= 32 => p,
            _ => {
                self.diagnostics.push(
                    Diagnostic::error("AKS002", format!("`/{prefix_text}` is not a prefix length"))
                        .with_primary(span, "invalid CIDR block")
                        .with_help("an IPv4 prefix length is a number from 0 to 32"),
                );
                return Ipv4Net::default();
            }
        };
        let net = Ipv4Net::new(addr, prefix).unwrap_or_default();
        if net.network() != addr {
            self.diagnostics.push(
                Diagnostic::error("AKS003", format!("`{text}` has host bits set"))
                    .with_primary(span, format!("the network of this block is {}", net.trunc()))
                    .with_help(format!("write `{}`", net.trunc())),
            );
            return net.trunc();
        }
        net
    }
}

#[cfg(test)]
mod tests;
