//! The syntax tree: what the user wrote, with byte spans, before any meaning is given.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::diag::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Attribute(Attribute),
    Block(Block),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Attribute(a) => a.span,
            Item::Block(b) => b.span,
        }
    }
}

/// `key = value`
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub key: Ident,
    /// The key was written as a string (`"app.kubernetes.io/name" = "web"`).
    pub quoted_key: bool,
    pub value: Expr,
    pub span: Span,
}

/// `kind label... { body }`
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub kind: Ident,
    pub labels: Vec<Expr>,
    pub body: Option<Body>,
    pub span: Span,
}

impl Block {
    /// The span of the keyword and labels, without the body.
    pub fn header_span(&self) -> Span {
        let end = self.labels.last().map_or(self.kind.span, |l| l.span);
        self.kind.span.to(end)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    String(String),
    Number(u64),
    Bool(bool),
    Cidr(Ipv4Net),
    Ip(Ipv4Addr),
    /// `53/udp`
    PortProtocol {
        port: u64,
        protocol: Ident,
    },
    /// `3..20`
    Range {
        start: u64,
        end: u64,
    },
    /// A bare word: an enumeration value such as `kubenet` or `westeurope`.
    Word(String),
    Reference(Reference),
    Call {
        function: Ident,
        args: Vec<Expr>,
    },
    List(Vec<Expr>),
    Map(Body),
    /// `80 -> 8080`, `"/" -> service.web:http`
    Mapping {
        from: Box<Expr>,
        to: Box<Expr>,
    },
    /// `load_balancer internal { ip = 10.0.0.4 }`
    Constructor {
        name: Ident,
        args: Vec<Expr>,
        body: Option<Body>,
    },
}

impl ExprKind {
    /// What the value is, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            ExprKind::String(_) => "a string",
            ExprKind::Number(_) => "a number",
            ExprKind::Bool(_) => "a boolean",
            ExprKind::Cidr(_) => "a CIDR block",
            ExprKind::Ip(_) => "an IP address",
            ExprKind::PortProtocol { .. } => "a port with protocol",
            ExprKind::Range { .. } => "a range",
            ExprKind::Word(_) => "a word",
            ExprKind::Reference(_) => "a reference",
            ExprKind::Call { .. } => "a function call",
            ExprKind::List(_) => "a list",
            ExprKind::Map(_) => "a map",
            ExprKind::Mapping { .. } => "a mapping (`a -> b`)",
            ExprKind::Constructor { .. } => "a typed value",
        }
    }
}

/// `vnet.shop.subnet.nodes`, `dns_zone."example.com"`, `service.web:http`
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub segments: Vec<Segment>,
    pub port: Option<Ident>,
}

impl Reference {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().map(|s| s.name.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub name: String,
    pub quoted: bool,
    pub span: Span,
}

/// A comment with its text (including the `#`, `//` or `/* */` markers).
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// One parsed `.aks` file.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
}
