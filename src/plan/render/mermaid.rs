//! The picture of a change as a Mermaid flowchart (GitHub draws these in Markdown): groups as
//! subgraphs, each resource a node with a class for what the plan does to it. Every label is
//! quoted and encoded, so any name makes valid syntax.

use std::fmt::Write as _;

use super::picture::{Picture, Status};

/// Fill, stroke and text colour for each status, then extra style.
fn class_style(status: Status) -> &'static str {
    match status {
        Status::Created => "fill:#dafbe1,stroke:#1a7f37,color:#0f3d1f",
        Status::Changed => "fill:#fff8c5,stroke:#9a6700,color:#3d2a00",
        Status::Replaced => "fill:#fbefff,stroke:#8250df,color:#2e1065,stroke-width:3px",
        Status::Destroyed => "fill:#ffebe9,stroke:#cf222e,color:#5c0011,stroke-dasharray:5 3",
        Status::Unchanged => "fill:#f6f8fa,stroke:#8c959f,color:#24292f",
    }
}

/// A label's text with everything that could end the quoted string or be read as markup
/// written as a Mermaid entity code (`#quot;`, `#35;`); line breaks and other control
/// characters become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' | '%' | ';' | '\\' | '{' | '}' | '[' | ']' | '(' | ')' | '|' => {
                let _ = write!(out, "#{};", u32::from(c));
            }
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The picture as a Mermaid flowchart, left to right.
pub fn render(picture: &Picture) -> String {
    let mut out = String::from("flowchart LR\n");
    for status in Status::ALL {
        let _ = writeln!(out, "  classDef {} {}", status.word(), class_style(status));
    }
    write_group(&mut out, picture, None, 1);
    for (index, group) in picture.groups.iter().enumerate() {
        if let Some(status) = group.status {
            let _ = writeln!(out, "  class g{index} {}", status.word());
        }
    }
    for edge in &picture.edges {
        let _ = writeln!(out, "  n{} --> n{}", edge.from, edge.to);
    }
    out
}

/// The groups and nodes drawn in `parent` (`None`: at the top), nested.
fn write_group(out: &mut String, picture: &Picture, parent: Option<usize>, depth: usize) {
    let indent = "  ".repeat(depth);
    for (index, node) in picture.nodes.iter().enumerate().filter(|(_, n)| n.group == parent) {
        let text: Vec<String> = node.lines_with_status().iter().map(|l| escape(l)).collect();
        let text = text.join("<br/>");
        let (open, close) = if node.kubernetes { ("([\"", "\"])") } else { ("[\"", "\"]") };
        let _ = writeln!(out, "{indent}n{index}{open}{text}{close}:::{}", node.status.word());
    }
    for (index, group) in picture.groups.iter().enumerate().filter(|(_, g)| g.parent == parent) {
        let _ = writeln!(out, "{indent}subgraph g{index}[\"{}\"]", escape(&group.label_with_status()));
        write_group(out, picture, Some(index), depth + 1);
        let _ = writeln!(out, "{indent}end");
    }
}
