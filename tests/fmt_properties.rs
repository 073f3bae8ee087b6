//! Properties of the formatter on generated stacks: it is idempotent, it changes no meaning,
//! it keeps every comment; and neither the parser nor the formatter panics on any input.

use std::fmt::Write as _;

use aksform::diag::FileId;
use aksform::syntax::ast::{Expr, ExprKind, File, Item};
use aksform::syntax::{format_source, parse_file};
use aksform_testkit::random::stack;
use aksform_testkit::stacks::SHOP;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Comparing files without spans

/// The file's meaning as text: everything but spans and whether a name was quoted.
fn meaning(file: &File) -> String {
    let mut out = String::new();
    items(&file.items, &mut out);
    out
}

fn items(list: &[Item], out: &mut String) {
    for item in list {
        match item {
            Item::Attribute(a) => {
                let _ = write!(out, "{:?}=", a.key.name);
                expr(&a.value, out);
            }
            Item::Block(b) => {
                let _ = write!(out, "block {:?}", b.kind.name);
                for label in &b.labels {
                    out.push(' ');
                    expr(label, out);
                }
                if let Some(body) = &b.body {
                    out.push('{');
                    items(&body.items, out);
                    out.push('}');
                }
            }
        }
        out.push(';');
    }
}

fn exprs(list: &[Expr], out: &mut String) {
    for e in list {
        expr(e, out);
        out.push(',');
    }
}

fn expr(e: &Expr, out: &mut String) {
    let _ = match &e.kind {
        ExprKind::String(s) => write!(out, "str{s:?}"),
        ExprKind::Number(n) => write!(out, "num{n}"),
        ExprKind::Bool(b) => write!(out, "bool{b}"),
        ExprKind::Cidr(net) => write!(out, "cidr{net}"),
        ExprKind::Ip(ip) => write!(out, "ip{ip}"),
        ExprKind::PortProtocol { port, protocol } => write!(out, "port{port}/{:?}", protocol.name),
        ExprKind::Range { start, end } => write!(out, "range{start}..{end}"),
        ExprKind::Word(w) => write!(out, "word{w:?}"),
        ExprKind::Reference(r) => {
            let names: Vec<&str> = r.names().collect();
            write!(out, "ref{names:?}:{:?}", r.port.as_ref().map(|p| &p.name))
        }
        ExprKind::Call { function, args } => {
            let _ = write!(out, "call {:?}(", function.name);
            exprs(args, out);
            write!(out, ")")
        }
        ExprKind::List(list) => {
            out.push('[');
            exprs(list, out);
            write!(out, "]")
        }
        ExprKind::Map(body) => {
            out.push('{');
            items(&body.items, out);
            write!(out, "}}")
        }
        ExprKind::Mapping { from, to } => {
            out.push('(');
            expr(from, out);
            out.push_str(" -> ");
            expr(to, out);
            write!(out, ")")
        }
        ExprKind::Constructor { name, args, body } => {
            let _ = write!(out, "new {:?}(", name.name);
            exprs(args, out);
            out.push(')');
            if let Some(body) = body {
                out.push('{');
                items(&body.items, out);
                out.push('}');
            }
            Ok(())
        }
    };
}

fn comment_texts(file: &File) -> Vec<String> {
    let mut texts: Vec<String> = file.comments.iter().map(|c| c.text.clone()).collect();
    texts.sort();
    texts
}

/// What must hold of any text the formatter accepts.
fn check_formatting(text: &str) -> Result<(), TestCaseError> {
    let (before, diagnostics) = parse_file(FileId(0), text);
    let Ok(once) = format_source(FileId(0), text) else {
        prop_assert!(diagnostics.iter().any(|d| d.is_error()), "refused a file without errors");
        return Ok(());
    };
    let (after, diagnostics) = parse_file(FileId(0), &once);
    prop_assert!(diagnostics.is_empty(), "output does not parse: {diagnostics:#?}\n--- output ---\n{once}");
    prop_assert_eq!(meaning(&after), meaning(&before), "meaning changed\n--- output ---\n{}", once);
    prop_assert_eq!(comment_texts(&after), comment_texts(&before), "comments changed\n--- output ---\n{}", once);
    let twice = format_source(FileId(0), &once);
    prop_assert_eq!(twice.as_ref(), Ok(&once), "not idempotent");
    Ok(())
}

/// The layout rules that hold on every output of generated stacks (whose block comments
/// have no blank or space-ended lines of their own).
fn check_layout(out: &str) -> Result<(), TestCaseError> {
    if out.is_empty() {
        return Ok(());
    }
    prop_assert!(out.ends_with('\n') && !out.ends_with("\n\n"), "must end with one newline:\n{out}");
    prop_assert!(!out.starts_with('\n'), "starts with a blank line:\n{out}");
    let lines: Vec<&str> = out.lines().collect();
    for (position, line) in lines.iter().enumerate() {
        prop_assert!(!line.ends_with(' ') && !line.ends_with('\t'), "trailing space in {line:?}:\n{out}");
        prop_assert!(line.trim() != "" || line.is_empty(), "whitespace-only line:\n{out}");
        if !line.is_empty() || position == 0 {
            continue;
        }
        let previous = lines[position - 1];
        prop_assert!(!previous.is_empty(), "two blank lines in a row:\n{out}");
        let has_comment = previous.contains('#') || previous.contains("//") || previous.contains("/*");
        let opens = previous.ends_with('{') || previous.ends_with('[');
        prop_assert!(has_comment || !opens, "blank line after an opening bracket:\n{out}");
        let next = lines.get(position + 1).map_or("", |l| l.trim_start());
        prop_assert!(!next.starts_with('}') && !next.starts_with(']'), "blank line before a closing bracket:\n{out}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn generated_stacks_parse_and_format_canonically(text in stack()) {
        let (_, diagnostics) = parse_file(FileId(0), &text);
        prop_assert!(diagnostics.is_empty(), "generated stack does not parse: {diagnostics:#?}\n{text}");
        check_formatting(&text)?;
        let out = format_source(FileId(0), &text).unwrap_or_default();
        check_layout(&out)?;
    }
}

/// A byte-level change to a valid stack.
#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Duplicate { at: usize, len: usize, to: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let len = prop_oneof![4 => 1usize..4, 1 => 4usize..64];
    let noise = prop_oneof![
        3 => prop::collection::vec(prop::sample::select(b"{}[](),.:=\"#/*\\-> \n\tax09".to_vec()), 1..4),
        1 => prop::collection::vec(any::<u8>(), 1..4),
    ];
    prop_oneof![
        (any::<usize>(), len.clone()).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), noise).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), len, any::<usize>()).prop_map(|(at, len, to)| Mutation::Duplicate { at, len, to }),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for mutation in mutations {
        let size = bytes.len().max(1);
        match mutation {
            Mutation::Delete { at, len } => {
                let at = at % size;
                let end = (at + len).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            Mutation::Insert { at, bytes: new } => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, new.iter().copied());
            }
            Mutation::Duplicate { at, len, to } => {
                let at = at % size;
                let end = (at + len).min(bytes.len());
                let copy = bytes[at.min(end)..end].to_vec();
                let to = to % (bytes.len() + 1);
                bytes.splice(to..to, copy);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mutated_stacks_never_panic(mutations in prop::collection::vec(mutation(), 1..4)) {
        let text = mutate(SHOP, &mutations);
        let _ = parse_file(FileId(0), &text);
        check_formatting(&text)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_file(FileId(0), &text);
        check_formatting(&text)?;
    }

    #[test]
    fn arbitrary_strings_never_panic(text in prop_oneof![
        any::<String>(),
        "[a-z0-9 \n\t{}\\[\\](),.:=\"#/*\\\\_>-]{0,200}",
    ]) {
        let _ = parse_file(FileId(0), &text);
        check_formatting(&text)?;
    }
}

#[test]
fn the_shop_stack_formats_canonically() {
    let result = check_formatting(SHOP);
    assert!(result.is_ok(), "{result:?}");
}
