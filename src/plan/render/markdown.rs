//! The plan as a pull-request comment: counts, a warning for anything destroyed, and a
//! collapsible diff per action, always within GitHub's comment size limit.

use std::fmt::Write as _;

use super::{Shape, brief, drift_lines, replace_note, shape, unified_diff};
use crate::plan::{ActionKind, FieldChange, Plan, ResourceAction};
use crate::refresh::Drift;

/// GitHub refuses comments longer than this many characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_535;

/// The warning names at most this many characters of addresses, then says how many more.
const WARNING_ADDRESSES_BUDGET: usize = 1_000;

const MAX_TITLE: usize = 200;

#[derive(Debug, Clone)]
pub struct MarkdownOptions {
    pub title: String,
    /// The longest the comment may be, in bytes (which is never fewer than its characters).
    pub limit: usize,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions { title: "aksform plan".to_string(), limit: GITHUB_COMMENT_LIMIT }
    }
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

/// The part that is never cut: title, counts, and the warning.
fn head(plan: &Plan, options: &MarkdownOptions) -> String {
    let summary = plan.summary();
    let title: String = options.title.chars().take(MAX_TITLE).collect();
    let mut out = format!("### {title}\n\n");
    out.push_str("| To create | To update | To replace | To destroy |\n|---:|---:|---:|---:|\n");
    let _ = writeln!(out, "| {} | {} | {} | {} |\n", summary.create, summary.update, summary.replace, summary.delete);
    if !plan.has_changes() {
        out.push_str("No changes. The stack matches the recorded state.\n");
        return out;
    }
    if summary.destructive() > 0 {
        let destroyed = plan.actions().iter().filter(|a| matches!(a.action, ActionKind::Delete | ActionKind::Replace));
        let mut names = Vec::new();
        let mut used = 0;
        for action in destroyed {
            let name = code(&action.address.to_string());
            if used + name.len() > WARNING_ADDRESSES_BUDGET {
                break;
            }
            used += name.len() + 2;
            names.push(name);
        }
        let more = summary.destructive().saturating_sub(names.len());
        let mut list = names.join(", ");
        if more > 0 {
            let _ = write!(list, " and {more} more");
        }
        let _ = writeln!(
            out,
            "> **Warning**: this plan destroys or replaces {}: {list}\n",
            plural(summary.destructive(), "resource", "resources")
        );
    }
    out
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

fn left_out_note(count: usize) -> String {
    format!(
        "> **Note**: {} left out to keep this comment within GitHub's size limit. Run `aksform plan` locally for the full plan.\n",
        plural(count, "action was", "actions were")
    )
}

/// What a refresh found changed outside aksform, shown before the comment as the terminal
/// shows it; empty when nothing was.
pub fn render_drift(drift: &[Drift]) -> String {
    drift_lines(drift)
}

/// The plan as Markdown, at most `options.limit` bytes long: when the details do not all fit,
/// the last ones are left out and a note says how many.
pub fn render(plan: &Plan, options: &MarkdownOptions) -> String {
    let mut out = head(plan, options);
    let total = plan.actions().len();
    // Room for the note at its longest, so that it always fits once details are cut.
    let reserve = left_out_note(total).len();
    let mut shown = 0;
    for action in plan.actions() {
        let section = details(action);
        if out.len() + section.len() + reserve > options.limit {
            break;
        }
        out.push_str(&section);
        shown += 1;
    }
    if shown < total {
        out.push_str(&left_out_note(total - shown));
    }
    out
}
