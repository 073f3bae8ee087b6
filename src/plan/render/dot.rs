//! The picture of a change in Graphviz's DOT language: groups as clusters, each resource a
//! box coloured (and, for a destroy or a replacement, outlined) by what the plan does to it.

use std::fmt::Write as _;

use super::picture::{Picture, Status};

/// Fill colour, outline colour and style for each status.
fn look(status: Status) -> (&'static str, &'static str, &'static str) {
    match status {
        Status::Created => ("#dafbe1", "#1a7f37", "filled"),
        Status::Changed => ("#fff8c5", "#9a6700", "filled"),
        Status::Replaced => ("#fbefff", "#8250df", "filled,bold"),
        Status::Destroyed => ("#ffebe9", "#cf222e", "filled,dashed"),
        Status::Unchanged => ("#f6f8fa", "#8c959f", "filled"),
    }
}

/// Text inside a DOT double-quoted string: quotes and backslashes escaped, control
/// characters as spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The picture as a DOT digraph, left to right.
pub fn render(picture: &Picture) -> String {
    let mut out = String::from("digraph aksform {\n");
    out.push_str("  graph [rankdir=LR, fontname=\"Helvetica\"];\n");
    out.push_str("  node [shape=box, fontname=\"Helvetica\"];\n");
    write_group(&mut out, picture, None, 1);
    for edge in &picture.edges {
        let _ = writeln!(out, "  n{} -> n{};", edge.from, edge.to);
    }
    out.push_str("}\n");
    out
}

fn write_group(out: &mut String, picture: &Picture, parent: Option<usize>, depth: usize) {
    let indent = "  ".repeat(depth);
    for (index, node) in picture.nodes.iter().enumerate().filter(|(_, n)| n.group == parent) {
        let (fill, line, style) = look(node.status);
        let style = if node.kubernetes { format!("{style},rounded") } else { style.to_string() };
        let text: Vec<String> = node.lines_with_status().iter().map(|l| escape(l)).collect();
        let _ = writeln!(
            out,
            "{indent}n{index} [label=\"{}\", style=\"{style}\", fillcolor=\"{fill}\", color=\"{line}\"];",
            text.join("\\n")
        );
    }
    for (index, group) in picture.groups.iter().enumerate().filter(|(_, g)| g.parent == parent) {
        let _ = writeln!(out, "{indent}subgraph cluster_g{index} {{");
        let _ = writeln!(out, "{indent}  label=\"{}\";", escape(&group.label_with_status()));
        let (_, line, style) = look(group.status.unwrap_or(Status::Unchanged));
        let style = style.replace("filled", "rounded");
        let _ = writeln!(out, "{indent}  style=\"{style}\"; color=\"{line}\";");
        write_group(out, picture, Some(index), depth + 1);
        let _ = writeln!(out, "{indent}}}");
    }
}
