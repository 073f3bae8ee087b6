//! The plan as a pull-request comment: a hidden marker naming the stack (so a workflow
//! updates one comment per stack), counts, what changed outside aksform, every destroy and
//! replacement first, a collapsible diff per action and a diagram of the change, always
//! within GitHub's comment size limit.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Shape, brief, import_note, replace_note, shape, unified_diff};
use crate::model::Kind;
use crate::plan::{ActionKind, FieldChange, Plan, ResourceAction};
use crate::refresh::{Drift, DriftKind};

/// GitHub refuses comments longer than this many characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_535;

/// What changed outside aksform takes at most this many bytes, then says how many more.
const DRIFT_BUDGET: usize = 4_000;

/// GitHub's Mermaid refuses diagrams longer than this (Mermaid's `maxTextSize`).
const MERMAID_TEXT_LIMIT: usize = 50_000;

const MAX_TITLE: usize = 200;

#[derive(Debug, Clone)]
pub struct MarkdownOptions {
    pub title: String,
    /// The stack, named in the hidden marker at the top by which a workflow finds the comment
    /// to update.
    pub stack: String,
    /// The longest the comment may be, in bytes (which is never fewer than its characters).
    pub limit: usize,
    /// A Mermaid diagram of the change (without its fence), shown collapsed when the whole
    /// comment fits with it.
    pub diagram: Option<String>,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            title: "aksform plan".to_string(),
            stack: String::new(),
            limit: GITHUB_COMMENT_LIMIT,
            diagram: None,
        }
    }
}

/// The hidden first line by which a workflow finds this stack's comment:
/// `<!-- aksform:plan stack=NAME -->`, with anything but letters, digits, `.`, `_` and `-`
/// percent-encoded so that no name can close the comment early.
pub fn marker(stack: &str) -> String {
    let mut name = String::new();
    for c in stack.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            name.push(c);
        } else {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                let _ = write!(name, "%{byte:02X}");
            }
        }
    }
    // `--` may not end a comment's text before `-->`.
    let name = name.replace("--", "-%2D");
    format!("<!-- aksform:plan stack={name} -->")
}

/// `text` as inline code, with a fence longer than any run of backticks inside it.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest > 0 { format!("{fence} {text} {fence}") } else { format!("{fence}{text}{fence}") }
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 { format!("{count} {one}") } else { format!("{count} {many}") }
}

/// "2000 `public_ip`, 1 `service`": how many of each kind.
fn by_kind<'a>(actions: impl Iterator<Item = &'a ResourceAction>) -> String {
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    for action in actions {
        *counts.entry(action.address.kind).or_default() += 1;
    }
    counts.iter().map(|(kind, n)| format!("{n} {}", code(kind.keyword()))).collect::<Vec<_>>().join(", ")
}

/// The part that is never cut: marker, title and counts.
fn head(plan: &Plan, options: &MarkdownOptions) -> String {
    let summary = plan.summary();
    let title: String = options.title.chars().take(MAX_TITLE).collect();
    let mut out = format!("{}\n### {title}\n\n", marker(&options.stack));
    if summary.import > 0 {
        out.push_str("| To import | To create | To update | To replace | To destroy |\n|---:|---:|---:|---:|---:|\n");
        let _ = write!(out, "| {} ", summary.import);
    } else {
        out.push_str("| To create | To update | To replace | To destroy |\n|---:|---:|---:|---:|\n");
    }
    let _ = writeln!(out, "| {} | {} | {} | {} |\n", summary.create, summary.update, summary.replace, summary.delete);
    out
}

/// What a refresh found changed outside aksform, as a list within [`DRIFT_BUDGET`]; empty
/// when nothing was.
fn drift_section(drift: &[Drift]) -> String {
    if drift.is_empty() {
        return String::new();
    }
    let mut out = "#### Changed outside aksform since the last apply\n\n".to_string();
    let mut shown = 0;
    for resource in drift {
        let address = code(&resource.address.to_string());
        let item = match &resource.kind {
            DriftKind::Deleted => format!("- {address} was deleted outside aksform\n"),
            DriftKind::Changed(fields) => {
                let mut item = format!("- {address} was changed outside aksform:\n");
                for field in fields {
                    let _ = writeln!(
                        item,
                        "  - {}: {} → {}",
                        code(&field.path.to_string()),
                        code(&field.recorded.to_string()),
                        code(&field.live.to_string())
                    );
                }
                item
            }
        };
        if out.len() + item.len() > DRIFT_BUDGET {
            break;
        }
        out.push_str(&item);
        shown += 1;
    }
    if shown < drift.len() {
        let _ = writeln!(
            out,
            "- and {} more, listed in the full plan",
            plural(drift.len() - shown, "resource", "resources")
        );
    }
    out.push('\n');
    out
}

/// The actions that delete something: replacements, then destroys.
fn destructive(plan: &Plan) -> impl Iterator<Item = &ResourceAction> {
    let of = move |kind: ActionKind| plan.actions().iter().filter(move |a| a.action == kind);
    of(ActionKind::Replace).chain(of(ActionKind::Delete))
}

/// The warning: exact counts of what is destroyed and replaced, by kind, then each one by
/// name (replacements first) as long as `room` allows, then how many more.
fn warning(plan: &Plan, room: usize) -> String {
    let summary = plan.summary();
    if summary.destructive() == 0 {
        return String::new();
    }
    let of = |kind: ActionKind| plan.actions().iter().filter(move |a| a.action == kind);
    let mut parts = Vec::new();
    if summary.delete > 0 {
        parts.push(format!(
            "destroys {} ({})",
            plural(summary.delete, "resource", "resources"),
            by_kind(of(ActionKind::Delete))
        ));
    }
    if summary.replace > 0 {
        parts.push(format!(
            "replaces {} ({})",
            plural(summary.replace, "resource", "resources"),
            by_kind(of(ActionKind::Replace))
        ));
    }
    let mut out = format!("> **Warning**: this plan {}.\n\n", parts.join(" and "));
    let longest_rest = rest_line(summary.replace, summary.delete).len();
    let (mut replaced, mut destroyed) = (0, 0);
    for action in destructive(plan) {
        let mut line =
            format!("- {} {}", code(&format!("{} {}", action.action.symbol(), action.address)), action.action.verb());
        if let Some(note) = replace_note(action) {
            let _ = write!(line, " — {}", escape_html(&note));
        }
        line.push('\n');
        if out.len() + line.len() + longest_rest > room {
            break;
        }
        out.push_str(&line);
        match action.action {
            ActionKind::Replace => replaced += 1,
            _ => destroyed += 1,
        }
    }
    if replaced < summary.replace || destroyed < summary.delete {
        out.push_str(&rest_line(summary.replace - replaced, summary.delete - destroyed));
    }
    out.push('\n');
    out
}

/// The line that counts the destroys and replacements not named one by one.
fn rest_line(replaced: usize, destroyed: usize) -> String {
    let mut parts = Vec::new();
    if replaced > 0 {
        parts.push(format!("{replaced} more to replace"));
    }
    if destroyed > 0 {
        parts.push(format!("{destroyed} more to destroy"));
    }
    format!("- and {}, named in the full plan\n", parts.join(" and "))
}

/// The fence for a code block holding `body`: longer than any backtick run at a line start.
fn block_fence(body: &str) -> String {
    let longest = body.lines().map(|l| l.chars().take_while(|&c| c == '`').count()).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn diff_lines(body: &mut String, change: &FieldChange) {
    let forces = change.replace_reason.as_ref().map(|r| format!("  # forces replacement: {r}")).unwrap_or_default();
    let path = &change.path;
    match shape(change) {
        Shape::Added(after) => {
            let _ = writeln!(body, "+ {path}: {after}{forces}");
        }
        Shape::Removed(before) => {
            let _ = writeln!(body, "- {path}: {before}{forces}");
        }
        Shape::Changed(before, after) => {
            let _ = writeln!(body, "- {path}: {before}");
            let _ = writeln!(body, "+ {path}: {after}{forces}");
        }
        Shape::Lines { before, after } => {
            let symbol = match (before.is_empty(), after.is_empty()) {
                (true, _) => "+",
                (_, true) => "-",
                _ => "~",
            };
            let _ = writeln!(body, "{symbol} {path}:{forces}");
            // Keep each line's own +/- first, where the diff highlighter looks for it.
            for line in unified_diff(before, after).lines() {
                match line.split_at_checked(1) {
                    Some((mark @ ("+" | "-" | " "), rest)) => {
                        let _ = writeln!(body, "{mark}     {rest}");
                    }
                    _ => {
                        let _ = writeln!(body, "  {line}");
                    }
                }
            }
        }
    }
}

/// One collapsible section for an action.
fn details(action: &ResourceAction) -> String {
    let note = match action.action {
        ActionKind::Create => brief(action),
        ActionKind::Replace => replace_note(action).unwrap_or_default(),
        ActionKind::Import => import_note(action),
        _ => String::new(),
    };
    let mut summary = format!(
        "<code>{} {}</code> {}",
        action.action.symbol(),
        escape_html(&action.address.to_string()),
        action.action.verb()
    );
    if !note.is_empty() {
        let _ = write!(summary, " — {}", escape_html(&note));
    }
    let mut body = String::new();
    for change in action.changes().iter() {
        diff_lines(&mut body, change);
    }
    if body.is_empty() {
        return format!("<details><summary>{summary}</summary>\n\nNo field changes.\n\n</details>\n\n");
    }
    let fence = block_fence(&body);
    format!("<details><summary>{summary}</summary>\n\n{fence}diff\n{body}{fence}\n\n</details>\n\n")
}

fn left_out_note(count: usize, diagram_left_out: bool) -> String {
    let diagram =
        if diagram_left_out { " The diagram of the change is left out too (`aksform graph` draws it)." } else { "" };
    format!(
        "> **Note**: {} not shown in detail, to keep this comment within GitHub's size limit; \
         every destroy and replacement is counted above.{diagram} The full plan is in the plan \
         artifact of this run, or run `aksform plan` (or `aksform show PLANFILE`) for it as text.\n",
        plural(count, "other change is", "other changes are")
    )
}

/// The diagram, collapsed, in a Mermaid fence.
fn diagram_section(diagram: &str) -> String {
    let fence = block_fence(diagram);
    format!(
        "<details><summary>Diagram of the change</summary>\n\n{fence}mermaid\n{}\n{fence}\n\n</details>\n\n",
        diagram.trim_end()
    )
}

/// The plan as Markdown, at most `options.limit` bytes long, with what a refresh found
/// changed outside aksform. Destroys and replacements come first and are always counted
/// exactly; when the details do not all fit, the last ones are left out and a note says how
/// many. The diagram is shown when everything fits with it.
pub fn render(plan: &Plan, drift: &[Drift], options: &MarkdownOptions) -> String {
    let mut out = head(plan, options);
    out.push_str(&drift_section(drift));
    if !plan.has_changes() {
        out.push_str("No changes. The stack matches the recorded state.\n");
        return out;
    }
    let total = plan.actions().len();
    let diagram = options.diagram.as_deref().filter(|d| d.len() <= MERMAID_TEXT_LIMIT).map(diagram_section);
    // Room for the note at its longest, so that it always fits once details are cut.
    let reserve = left_out_note(total, diagram.is_some()).len();
    let room = options.limit.saturating_sub(reserve + out.len());
    // The names take at most half the room, so that details of other changes fit too.
    out.push_str(&warning(plan, room / 2));
    let others = plan.actions().iter().filter(|a| !matches!(a.action, ActionKind::Replace | ActionKind::Delete));
    let sections: Vec<String> = destructive(plan).chain(others).map(details).collect();
    let everything = out.len() + sections.iter().map(String::len).sum::<usize>();
    let diagram_left_out = match &diagram {
        Some(diagram) if everything + diagram.len() <= options.limit => {
            out.push_str(diagram);
            false
        }
        Some(_) => true,
        None => false,
    };
    let all_fit = out.len() + sections.iter().map(String::len).sum::<usize>() <= options.limit;
    let mut shown = 0;
    for section in &sections {
        if !all_fit && out.len() + section.len() + reserve > options.limit {
            break;
        }
        out.push_str(section);
        shown += 1;
    }
    if shown < total {
        out.push_str(&left_out_note(total - shown, diagram_left_out));
    }
    out
}
