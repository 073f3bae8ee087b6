//! The layout tree: the syntax tree with every comment attached to the line it belongs to,
//! and every name and literal already spelled in its canonical form.
//!
//! Attachment depends only on where comments sit in the source, never on line widths, so the
//! printer can try several widths without moving a comment.

use crate::syntax::ast::{Attribute, Block, Body, Comment, Expr, ExprKind, Item, Reference};

/// A bracketed sequence printed one element per line when it does not stay inline: the
/// items of a file, a body or a map, or the elements of a list.
#[derive(Debug)]
pub(super) struct Lines<'a, T> {
    /// Comments on the line of the opening bracket, before the first element.
    pub open: Vec<&'a str>,
    pub lines: Vec<Line<'a, T>>,
    /// Comments after the last element, kept before the closing bracket.
    pub end: Vec<LeadingComment<'a>>,
}

impl<T> Lines<'_, T> {
    /// Comments at this level; nested ones are reported by the nested sequence.
    pub fn has_comments(&self) -> bool {
        !self.open.is_empty()
            || !self.end.is_empty()
            || self.lines.iter().any(|l| !l.leading.is_empty() || !l.trailing.is_empty())
    }

    /// Nothing at all between the brackets.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && !self.has_comments()
    }
}

#[derive(Debug)]
pub(super) struct Line<'a, T> {
    /// Comments on their own lines before the element, including any comment found inside a
    /// part of the element that is printed on one line.
    pub leading: Vec<LeadingComment<'a>>,
    /// The user left a blank line right before the element (after its leading comments).
    pub blank_before: bool,
    pub node: T,
    /// Comments that followed the element on its last line.
    pub trailing: Vec<&'a str>,
}

#[derive(Debug)]
pub(super) struct LeadingComment<'a> {
    pub blank_before: bool,
    pub text: &'a str,
}

#[derive(Debug)]
pub(super) enum ItemDoc<'a> {
    Attribute { key: String, value: Doc<'a> },
    Block { kind: &'a str, labels: Vec<Doc<'a>>, body: Option<Lines<'a, ItemDoc<'a>>> },
}

#[derive(Debug)]
pub(super) enum Doc<'a> {
    /// A literal, word or reference: never broken.
    Atom(String),
    List(Lines<'a, Doc<'a>>),
    Map(Lines<'a, ItemDoc<'a>>),
    Call {
        function: &'a str,
        args: Vec<Doc<'a>>,
    },
    Mapping(Box<Doc<'a>>, Box<Doc<'a>>),
    Constructor {
        name: &'a str,
        args: Vec<Doc<'a>>,
        body: Option<Lines<'a, ItemDoc<'a>>>,
    },
}

/// Builds the layout tree of a file. Every comment of `comments` ends up in the tree, except
/// ones outside every item and bracket, which are returned (there are none for a file the
/// parser produced, but a comment is never dropped silently).
pub(super) fn build<'a>(
    items: &'a [Item],
    comments: &'a [Comment],
    source: &'a str,
) -> (Lines<'a, ItemDoc<'a>>, Vec<&'a str>) {
    let mut builder = Builder { source, comments, claimed: vec![false; comments.len()] };
    let file = builder.lines(None, source.len(), items, item_range, Builder::item);
    let left = comments.iter().zip(&builder.claimed).filter(|(_, claimed)| !**claimed).map(|(c, _)| c.text.as_str());
    (file, left.collect())
}

fn item_range(item: &Item) -> (usize, usize) {
    let span = item.span();
    (span.start as usize, span.end as usize)
}

fn expr_range(expr: &Expr) -> (usize, usize) {
    (expr.span.start as usize, expr.span.end as usize)
}

struct Builder<'a> {
    source: &'a str,
    comments: &'a [Comment],
    claimed: Vec<bool>,
}

impl<'a> Builder<'a> {
    /// Unclaimed comments starting in `start..end`, in source order.
    fn unclaimed(&self, start: usize, end: usize) -> Vec<usize> {
        (0..self.comments.len())
            .filter(|&i| {
                let at = self.comments[i].span.start as usize;
                !self.claimed[i] && start <= at && at < end
            })
            .collect()
    }

    fn claim(&mut self, index: usize) -> (&'a str, usize) {
        self.claimed[index] = true;
        let comment = &self.comments[index];
        (comment.text.as_str(), comment.span.end as usize)
    }

    fn comment_start(&self, index: usize) -> usize {
        self.comments[index].span.start as usize
    }

    /// Whether the source between two offsets has a blank line.
    fn blank_between(&self, start: usize, end: usize) -> bool {
        self.source.get(start..end).is_some_and(|gap| gap.matches('\n').count() >= 2)
    }

    fn same_line(&self, start: usize, end: usize) -> bool {
        self.source.get(start..end).is_some_and(|gap| !gap.contains('\n'))
    }

    /// Attaches the comments of a bracketed sequence. `open` is the offset just after the
    /// opening bracket (`None` for a whole file), `close` the offset of the closing one.
    fn lines<E, T>(
        &mut self,
        open: Option<usize>,
        close: usize,
        elements: &'a [E],
        range: impl Fn(&E) -> (usize, usize),
        mut build: impl FnMut(&mut Self, &'a E) -> T,
    ) -> Lines<'a, T> {
        let mut cursor = open.unwrap_or(0);
        // No blank line is printed before the first thing of a sequence.
        let mut at_start = true;
        let mut open_comments = Vec::new();
        if let Some(open) = open {
            let limit = elements.first().map_or(close, |e| range(e).0);
            for index in self.unclaimed(open, limit) {
                if !self.same_line(open, self.comment_start(index)) {
                    break;
                }
                let (text, end) = self.claim(index);
                open_comments.push(text);
                cursor = end;
            }
        }

        let mut lines = Vec::with_capacity(elements.len());
        for (position, element) in elements.iter().enumerate() {
            let (start, end) = range(element);
            let mut leading = Vec::new();
            for index in self.unclaimed(cursor, start) {
                let blank_before = !at_start && self.blank_between(cursor, self.comment_start(index));
                let (text, comment_end) = self.claim(index);
                leading.push(LeadingComment { blank_before, text });
                cursor = comment_end;
                at_start = false;
            }
            let mut blank_before = !at_start && self.blank_between(cursor, start);
            at_start = false;

            let node = build(self, element);

            // Whatever the element's own brackets did not take sits in a part printed on one
            // line; it moves above the element.
            for index in self.unclaimed(start, end) {
                let (text, _) = self.claim(index);
                leading.push(LeadingComment { blank_before: std::mem::take(&mut blank_before), text });
            }

            cursor = end;
            let next = elements.get(position + 1).map_or(close, |e| range(e).0);
            let mut trailing = Vec::new();
            for index in self.unclaimed(end, next) {
                if !self.same_line(end, self.comment_start(index)) {
                    break;
                }
                let (text, comment_end) = self.claim(index);
                trailing.push(text);
                cursor = comment_end;
            }
            lines.push(Line { leading, blank_before, node, trailing });
        }

        let mut end_comments = Vec::new();
        for index in self.unclaimed(cursor, close) {
            let blank_before = !at_start && self.blank_between(cursor, self.comment_start(index));
            let (text, comment_end) = self.claim(index);
            end_comments.push(LeadingComment { blank_before, text });
            cursor = comment_end;
            at_start = false;
        }
        Lines { open: open_comments, lines, end: end_comments }
    }

    fn body(&mut self, body: &'a Body) -> Lines<'a, ItemDoc<'a>> {
        let (start, end) = (body.span.start as usize, body.span.end as usize);
        self.lines(Some(start + 1), end.saturating_sub(1), &body.items, item_range, Builder::item)
    }

    fn item(&mut self, item: &'a Item) -> ItemDoc<'a> {
        match item {
            Item::Attribute(attribute) => self.attribute(attribute),
            Item::Block(block) => self.block(block),
        }
    }

    fn attribute(&mut self, attribute: &'a Attribute) -> ItemDoc<'a> {
        let name = &attribute.key.name;
        let key = if attribute.quoted_key && !is_plain_identifier(name) { quote(name) } else { name.clone() };
        ItemDoc::Attribute { key, value: self.expr(&attribute.value) }
    }

    fn block(&mut self, block: &'a Block) -> ItemDoc<'a> {
        let labels = block.labels.iter().map(|l| self.expr(l)).collect();
        let body = block.body.as_ref().map(|b| self.body(b));
        ItemDoc::Block { kind: &block.kind.name, labels, body }
    }

    fn expr(&mut self, expr: &'a Expr) -> Doc<'a> {
        match &expr.kind {
            ExprKind::String(s) => Doc::Atom(quote(s)),
            ExprKind::Number(n) => Doc::Atom(n.to_string()),
            ExprKind::Bool(b) => Doc::Atom(b.to_string()),
            ExprKind::Cidr(net) => Doc::Atom(net.to_string()),
            ExprKind::Ip(ip) => Doc::Atom(ip.to_string()),
            ExprKind::PortProtocol { port, protocol } => Doc::Atom(format!("{port}/{}", protocol.name)),
            ExprKind::Range { start, end } => Doc::Atom(format!("{start}..{end}")),
            ExprKind::Word(word) => Doc::Atom(word.clone()),
            ExprKind::Reference(reference) => Doc::Atom(reference_text(reference)),
            ExprKind::Call { function, args } => {
                Doc::Call { function: &function.name, args: args.iter().map(|a| self.expr(a)).collect() }
            }
            ExprKind::List(elements) => {
                let (start, end) = expr_range(expr);
                Doc::List(self.lines(Some(start + 1), end.saturating_sub(1), elements, expr_range, Builder::expr))
            }
            ExprKind::Map(body) => Doc::Map(self.body(body)),
            ExprKind::Mapping { from, to } => Doc::Mapping(Box::new(self.expr(from)), Box::new(self.expr(to))),
            ExprKind::Constructor { name, args, body } => Doc::Constructor {
                name: &name.name,
                args: args.iter().map(|a| self.expr(a)).collect(),
                body: body.as_ref().map(|b| self.body(b)),
            },
        }
    }
}

fn reference_text(reference: &Reference) -> String {
    let mut text = String::new();
    for (position, segment) in reference.segments.iter().enumerate() {
        if position > 0 {
            text.push('.');
        }
        if segment.quoted && !is_plain_identifier(&segment.name) {
            text.push_str(&quote(&segment.name));
        } else {
            text.push_str(&segment.name);
        }
    }
    if let Some(port) = &reference.port {
        text.push(':');
        text.push_str(&port.name);
    }
    text
}

/// Whether the grammar reads `name` as an identifier: a letter or `_`, then letters, digits,
/// `_` and single `-` between them (`a-b`, not `a-` or `a--b`).
pub fn is_plain_identifier(name: &str) -> bool {
    let bytes = name.as_bytes();
    let Some((&first, rest)) = bytes.split_first() else { return false };
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return false;
    }
    rest.iter().enumerate().all(|(i, &b)| {
        b.is_ascii_alphanumeric()
            || b == b'_'
            || (b == b'-' && rest.get(i + 1).is_some_and(|&n| n.is_ascii_alphanumeric() || n == b'_'))
    })
}

/// A string literal with the canonical escapes.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
