//! The plan as a terminal shows it: one line per action, field changes beneath, optional colour.

use std::fmt::Write as _;
use std::io;

use anstyle::{AnsiColor, Style};

use super::{Shape, brief, counts, drift_lines, import_note, replace_note, shape, unified_diff};
use crate::plan::{ActionKind, FieldChange, Plan, ResourceAction};
use crate::refresh::Drift;

#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Colour the output (the CLI decides from the terminal and `NO_COLOR`).
    pub color: bool,
}

/// Addresses longer than this do not widen the column for the others.
const MAX_ADDRESS_COLUMN: usize = 48;

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color { format!("{style}{text}{style:#}") } else { text.to_string() }
    }

    fn action(&self, kind: ActionKind) -> Style {
        let color = match kind {
            ActionKind::Create => AnsiColor::Green,
            ActionKind::Update => AnsiColor::Yellow,
            ActionKind::Replace => AnsiColor::Magenta,
            ActionKind::Delete => AnsiColor::Red,
            ActionKind::Import => AnsiColor::Cyan,
        };
        Style::new().fg_color(Some(color.into()))
    }
}

const ADDED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
const REMOVED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
const CHANGED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
const FORCES: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Magenta))).bold();
const BOLD: Style = Style::new().bold();

/// The plan as text.
pub fn render(plan: &Plan, options: &TextOptions) -> String {
    let painter = Painter { color: options.color };
    let summary = plan.summary();
    if !plan.has_changes() {
        return format!("{}\n", painter.paint(BOLD, "No changes. The stack matches the recorded state."));
    }
    let mut out = String::new();
    let _ = writeln!(out, "aksform will perform these actions ({}):", counts(&summary, "update in place"));
    let width = plan
        .actions()
        .iter()
        .map(|a| a.address.to_string().chars().count())
        .filter(|&w| w <= MAX_ADDRESS_COLUMN)
        .max()
        .unwrap_or(0);
    for action in plan.actions() {
        out.push('\n');
        write_action(&mut out, &painter, action, width);
    }
    let _ = writeln!(out, "\n{}", painter.paint(BOLD, &format!("Plan: {}.", counts(&summary, "update"))));
    out
}

/// What a refresh found changed outside aksform, shown before the plan; empty when nothing was.
pub fn render_drift(drift: &[Drift]) -> String {
    drift_lines(drift)
}

/// Writes the plan to a terminal or file through `anstream`, which also translates colours
/// for consoles that need it.
pub fn write<S: anstream::stream::RawStream + anstream::stream::AsLockedWrite>(
    plan: &Plan,
    options: &TextOptions,
    raw: S,
) -> io::Result<()> {
    let choice = if options.color { anstream::ColorChoice::Always } else { anstream::ColorChoice::Never };
    let mut stream = anstream::AutoStream::new(raw, choice);
    io::Write::write_all(&mut stream, render(plan, options).as_bytes())?;
    io::Write::flush(&mut stream)
}

fn write_action(out: &mut String, painter: &Painter, action: &ResourceAction, width: usize) {
    let style = painter.action(action.action);
    let address = action.address.to_string();
    let padding = width.saturating_sub(address.chars().count());
    let note = match action.action {
        ActionKind::Create => brief(action),
        ActionKind::Replace => replace_note(action).map(|n| format!("({n})")).unwrap_or_default(),
        ActionKind::Import => format!("({})", import_note(action)),
        _ => String::new(),
    };
    let symbol = painter.paint(style, &format!("{:>3}", action.action.symbol()));
    let padding = " ".repeat(padding);
    if note.is_empty() {
        let _ = writeln!(out, "{symbol} {address}{padding}  {}", painter.paint(style, action.action.verb()));
    } else {
        let verb = painter.paint(style, &format!("{:<15}", action.action.verb()));
        let _ = writeln!(out, "{symbol} {address}{padding}  {verb}  {note}");
    }
    for change in action.changes().iter() {
        write_change(out, painter, change);
    }
}

fn write_change(out: &mut String, painter: &Painter, change: &FieldChange) {
    const INDENT: &str = "      ";
    let forces = change
        .replace_reason
        .as_ref()
        .map(|reason| format!("  {}", painter.paint(FORCES, &format!("# forces replacement: {reason}"))))
        .unwrap_or_default();
    let path = &change.path;
    match shape(change) {
        Shape::Added(after) => {
            let _ = writeln!(out, "{INDENT}{} {path}: {after}{forces}", painter.paint(ADDED, "+"));
        }
        Shape::Removed(before) => {
            let _ = writeln!(out, "{INDENT}{} {path}: {before}{forces}", painter.paint(REMOVED, "-"));
        }
        Shape::Changed(before, after) => {
            let _ = writeln!(out, "{INDENT}{} {path}: {before} → {after}{forces}", painter.paint(CHANGED, "~"));
        }
        Shape::Lines { before, after } => {
            let (symbol, style) = match (before.is_empty(), after.is_empty()) {
                (true, _) => ("+", ADDED),
                (_, true) => ("-", REMOVED),
                _ => ("~", CHANGED),
            };
            let _ = writeln!(out, "{INDENT}{} {path}:{forces}", painter.paint(style, symbol));
            for line in unified_diff(before, after).lines() {
                let style = match line.chars().next() {
                    Some('+') => ADDED,
                    Some('-') => REMOVED,
                    Some('@') => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
                    _ => Style::new(),
                };
                let _ = writeln!(out, "{INDENT}    {}", painter.paint(style, line));
            }
        }
    }
}
