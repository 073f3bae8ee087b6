//! The printer: turns the layout tree into text, deciding for each list, map and constructor
//! body whether it stays on one line, and aligning `=` in runs of one-line attributes.

use super::layout::{Doc, ItemDoc, LeadingComment, Line, Lines};

/// Lists and maps stay inline only when they end within this column.
pub(super) const MAX_WIDTH: usize = 100;
const INDENT: usize = 2;
/// An inline map holds at most this many entries; more read better one per line.
const MAX_INLINE_ENTRIES: usize = 3;

pub(super) fn file(file: &Lines<ItemDoc>, stray_comments: &[&str]) -> String {
    let mut out = String::new();
    items(&mut out, file, 0, true);
    for text in stray_comments {
        comment_line(&mut out, 0, text);
    }
    out
}

fn width(text: &str) -> usize {
    text.chars().count()
}

/// The column after `text` printed from `start`.
fn column_after(start: usize, text: &str) -> usize {
    match text.rfind('\n') {
        Some(newline) => width(&text[newline + 1..]),
        None => start + width(text),
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn comment_line(out: &mut String, indent: usize, text: &str) {
    push_indent(out, indent);
    out.push_str(text);
    out.push('\n');
}

/// Prints the comments above an element, and the blank lines the user kept there.
fn leading(out: &mut String, line: &Line<'_, impl Sized>, indent: usize, forced_blank: bool) {
    let mut blank = forced_blank;
    for comment in &line.leading {
        if blank || comment.blank_before {
            out.push('\n');
        }
        blank = false;
        comment_line(out, indent, comment.text);
    }
    if blank || line.blank_before {
        out.push('\n');
    }
}

fn trailing(out: &mut String, comments: &[&str]) {
    for text in comments {
        out.push(' ');
        out.push_str(text);
    }
    out.push('\n');
}

fn end_comments(out: &mut String, comments: &[LeadingComment], indent: usize) {
    for comment in comments {
        if comment.blank_before {
            out.push('\n');
        }
        comment_line(out, indent, comment.text);
    }
}

fn open_bracket(out: &mut String, bracket: char, comments: &[&str]) {
    out.push(bracket);
    trailing(out, comments);
}

/// The items of a file or body, one per line.
fn items(out: &mut String, lines: &Lines<ItemDoc>, indent: usize, top_level: bool) {
    let widths = key_widths(&lines.lines, indent);
    for (position, line) in lines.lines.iter().enumerate() {
        let is_block = |l: &Line<ItemDoc>| matches!(l.node, ItemDoc::Block { .. });
        let forced_blank = top_level && position > 0 && (is_block(line) || is_block(&lines.lines[position - 1]));
        leading(out, line, indent, forced_blank);
        push_indent(out, indent);
        match &line.node {
            ItemDoc::Attribute { key, value } => {
                let key_width = widths[position].unwrap_or_else(|| width(key));
                out.push_str(key);
                push_indent(out, key_width.saturating_sub(width(key)));
                out.push_str(" = ");
                out.push_str(&print(value, indent, indent + key_width + 3));
            }
            ItemDoc::Block { kind, labels, body } => out.push_str(&block(kind, labels, body.as_ref(), indent)),
        }
        trailing(out, &line.trailing);
    }
    end_comments(out, &lines.end, indent);
}

/// The width each attribute's key is padded to, so that `=` lines up within a run of
/// one-line attributes. A run ends at a blank line, a comment line, a block or an attribute
/// that does not fit on one line.
fn key_widths(lines: &[Line<ItemDoc>], indent: usize) -> Vec<Option<usize>> {
    let mut widths = vec![None; lines.len()];
    let is_attribute = |l: &Line<ItemDoc>| matches!(l.node, ItemDoc::Attribute { .. });
    let mut position = 0;
    while position < lines.len() {
        if !is_attribute(&lines[position]) {
            position += 1;
            continue;
        }
        let start = position;
        position += 1;
        while position < lines.len()
            && is_attribute(&lines[position])
            && lines[position].leading.is_empty()
            && !lines[position].blank_before
        {
            position += 1;
        }
        align(lines, start, position, indent, &mut widths);
    }
    widths
}

/// Aligns `lines[start..end]`. An attribute that would no longer fit on one line once
/// padded is taken out of the run, which is split around it.
fn align(lines: &[Line<ItemDoc>], start: usize, end: usize, indent: usize, widths: &mut [Option<usize>]) {
    let attribute = |position: usize| match &lines[position].node {
        ItemDoc::Attribute { key, value } => Some((key, value)),
        ItemDoc::Block { .. } => None,
    };
    let key_width = (start..end).filter_map(attribute).map(|(key, _)| width(key)).max().unwrap_or(0);
    let breaking = (start..end).find(|&position| {
        attribute(position).is_some_and(|(_, value)| oneline(value, indent + key_width + 3).is_none())
    });
    match breaking {
        None => widths[start..end].fill(Some(key_width)),
        Some(position) => {
            align(lines, start, position, indent, widths);
            align(lines, position + 1, end, indent, widths);
        }
    }
}

fn block(kind: &str, labels: &[Doc], body: Option<&Lines<ItemDoc>>, indent: usize) -> String {
    let mut text = kind.to_string();
    for label in labels {
        text.push(' ');
        let column = column_after(indent, &text);
        text.push_str(&print(label, indent, column));
    }
    if let Some(body) = body {
        text.push(' ');
        text.push_str(&multiline_body(body, indent));
    }
    text
}

/// A body with one item per line, its closing brace at `indent`.
fn multiline_body(body: &Lines<ItemDoc>, indent: usize) -> String {
    if body.is_empty() {
        return "{}".to_string();
    }
    let mut out = String::new();
    open_bracket(&mut out, '{', &body.open);
    items(&mut out, body, indent + INDENT, false);
    push_indent(&mut out, indent);
    out.push('}');
    out
}

fn multiline_list(list: &Lines<Doc>, indent: usize) -> String {
    let inner = indent + INDENT;
    let mut out = String::new();
    open_bracket(&mut out, '[', &list.open);
    for line in &list.lines {
        leading(&mut out, line, inner, false);
        push_indent(&mut out, inner);
        out.push_str(&print(&line.node, inner, inner));
        out.push(',');
        trailing(&mut out, &line.trailing);
    }
    end_comments(&mut out, &list.end, inner);
    push_indent(&mut out, indent);
    out.push(']');
    out
}

/// Prints a value that starts at `column` on a line indented by `indent`.
fn print(doc: &Doc, indent: usize, column: usize) -> String {
    if let Some(text) = oneline(doc, column) {
        return text;
    }
    match doc {
        Doc::Atom(text) => text.clone(),
        Doc::List(list) => multiline_list(list, indent),
        Doc::Map(body) => multiline_body(body, indent),
        Doc::Call { function, args } => {
            let mut text = format!("{function}(");
            for (position, arg) in args.iter().enumerate() {
                if position > 0 {
                    text.push_str(", ");
                }
                let arg_column = column_after(column, &text);
                text.push_str(&print(arg, indent, arg_column));
            }
            text.push(')');
            text
        }
        Doc::Mapping(from, to) => {
            let mut text = print(from, indent, column);
            text.push_str(" -> ");
            let to_column = column_after(column, &text);
            text.push_str(&print(to, indent, to_column));
            text
        }
        Doc::Constructor { name, args, body } => {
            let mut text = name.to_string();
            for arg in args {
                text.push(' ');
                let arg_column = column_after(column, &text);
                text.push_str(&print(arg, indent, arg_column));
            }
            if let Some(body) = body {
                text.push(' ');
                let body_column = column_after(column, &text);
                match inline_body(body, body_column, BODY_SEPARATOR) {
                    Some(inline) => text.push_str(&inline),
                    None => text.push_str(&multiline_body(body, indent)),
                }
            }
            text
        }
    }
}

/// The value on one line, if it prints on one line when it starts at `column`.
fn oneline(doc: &Doc, column: usize) -> Option<String> {
    match doc {
        Doc::Atom(text) => Some(text.clone()),
        Doc::List(list) => inline_list(list, column),
        Doc::Map(body) => inline_body(body, column, MAP_SEPARATOR),
        Doc::Call { function, args } => {
            let mut text = format!("{function}(");
            for (position, arg) in args.iter().enumerate() {
                if position > 0 {
                    text.push_str(", ");
                }
                text.push_str(&oneline(arg, column + width(&text))?);
            }
            text.push(')');
            Some(text)
        }
        Doc::Mapping(from, to) => {
            let from = oneline(from, column)?;
            let to = oneline(to, column + width(&from) + 4)?;
            Some(format!("{from} -> {to}"))
        }
        Doc::Constructor { name, args, body } => {
            let mut text = name.to_string();
            for arg in args {
                text.push(' ');
                text.push_str(&oneline(arg, column + width(&text))?);
            }
            if let Some(body) = body {
                text.push(' ');
                text.push_str(&inline_body(body, column + width(&text), BODY_SEPARATOR)?);
            }
            Some(text)
        }
    }
}

fn fits(column: usize, text: String) -> Option<String> {
    (column + width(&text) <= MAX_WIDTH).then_some(text)
}

fn inline_list(list: &Lines<Doc>, column: usize) -> Option<String> {
    if list.is_empty() {
        return Some("[]".to_string());
    }
    fits(column, flat_list(list)?)
}

fn inline_body(body: &Lines<ItemDoc>, column: usize, separator: &str) -> Option<String> {
    if body.is_empty() {
        return Some("{}".to_string());
    }
    fits(column, flat_body(body, separator)?)
}

/// The value on one line if nothing in it must break, whatever the width.
fn flat(doc: &Doc) -> Option<String> {
    match doc {
        Doc::Atom(text) => Some(text.clone()),
        Doc::List(list) => flat_list(list),
        Doc::Map(body) => flat_body(body, MAP_SEPARATOR),
        Doc::Call { function, args } => {
            let args: Option<Vec<String>> = args.iter().map(flat).collect();
            Some(format!("{function}({})", args?.join(", ")))
        }
        Doc::Mapping(from, to) => Some(format!("{} -> {}", flat(from)?, flat(to)?)),
        Doc::Constructor { name, args, body } => {
            let mut text = name.to_string();
            for arg in args {
                text.push(' ');
                text.push_str(&flat(arg)?);
            }
            if let Some(body) = body {
                text.push(' ');
                text.push_str(&flat_body(body, BODY_SEPARATOR)?);
            }
            Some(text)
        }
    }
}

fn flat_list(list: &Lines<Doc>) -> Option<String> {
    if list.has_comments() {
        return None;
    }
    let elements: Option<Vec<String>> = list.lines.iter().map(|l| flat(&l.node)).collect();
    Some(format!("[{}]", elements?.join(", ")))
}

/// Entries of an inline map: `{ app = "web", tier = "front" }`.
const MAP_SEPARATOR: &str = ", ";
/// Entries of an inline constructor body, where the grammar takes no commas:
/// `load_balancer internal { subnet = vnet.a.subnet.b  ip = 10.0.0.4 }`.
const BODY_SEPARATOR: &str = "  ";

/// A map or constructor body on one line.
fn flat_body(body: &Lines<ItemDoc>, separator: &str) -> Option<String> {
    if body.is_empty() {
        return Some("{}".to_string());
    }
    if body.has_comments() || body.lines.len() > MAX_INLINE_ENTRIES {
        return None;
    }
    let entries: Option<Vec<String>> = body
        .lines
        .iter()
        .map(|line| match &line.node {
            ItemDoc::Attribute { key, value } if !contains_map(value) => Some(format!("{key} = {}", flat(value)?)),
            _ => None,
        })
        .collect();
    Some(format!("{{ {} }}", entries?.join(separator)))
}

fn contains_map(doc: &Doc) -> bool {
    match doc {
        Doc::Atom(_) => false,
        Doc::Map(_) | Doc::Constructor { body: Some(_), .. } => true,
        Doc::List(list) => list.lines.iter().any(|l| contains_map(&l.node)),
        Doc::Call { args, .. } | Doc::Constructor { args, .. } => args.iter().any(contains_map),
        Doc::Mapping(from, to) => contains_map(from) || contains_map(to),
    }
}
