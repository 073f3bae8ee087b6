//! Renderers for diagnostics: the terminal (miette's graphical report) and JSON.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SpanContents,
};
use serde_json::{Value, json};

use super::{Diagnostic, Label, Severity, SourceMap, Span};

#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub color: bool,
    pub unicode: bool,
    pub width: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions { color: false, unicode: true, width: 100 }
    }
}

/// Renders diagnostics for people: source lines with the spans underlined.
pub fn render_terminal(diagnostics: &[Diagnostic], sources: &SourceMap, options: RenderOptions) -> String {
    let theme = match (options.unicode, options.color) {
        (true, true) => GraphicalTheme::unicode(),
        (true, false) => GraphicalTheme::unicode_nocolor(),
        (false, true) => GraphicalTheme { characters: miette::ThemeCharacters::ascii(), ..GraphicalTheme::unicode() },
        (false, false) => GraphicalTheme::none(),
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(options.width).with_links(false);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let view = View::new(diagnostic, sources);
        if handler.render_report(&mut out, &view).is_err() {
            out.push_str(&format!(
                "{}[{}]: {}\n",
                severity_word(diagnostic.severity),
                diagnostic.code,
                diagnostic.message
            ));
        }
    }
    let errors = count(diagnostics, Severity::Error);
    let warnings = count(diagnostics, Severity::Warning);
    if !diagnostics.is_empty() {
        out.push_str(&format!("{} error{}, {} warning{}\n", errors, plural(errors), warnings, plural(warnings)));
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
    diagnostics.iter().filter(|d| d.severity == severity).count()
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Renders diagnostics for machines. The schema is documented in docs/diagnostics-json.md.
pub fn render_json(diagnostics: &[Diagnostic], sources: &SourceMap) -> Value {
    let position = |span: Span| {
        let region = sources.region(span);
        json!({
            "file": sources.get(span.file).name,
            "line": region.line,
            "column": region.column,
            "end_line": region.end_line,
            "end_column": region.end_column,
        })
    };
    let items: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let mut item = json!({
                "code": d.code,
                "severity": d.severity,
                "message": d.message,
                "help": d.help,
                "subject": d.subject,
            });
            if let (Some(span), Value::Object(fields)) = (d.primary_span(), &mut item)
                && let Value::Object(pos) = position(span)
            {
                fields.extend(pos);
            }
            let labels: Vec<Value> = d
                .labels
                .iter()
                .map(|l| {
                    let mut label = position(l.span);
                    label["message"] = json!(l.message);
                    label["primary"] = json!(l.primary);
                    label
                })
                .collect();
            item["labels"] = json!(labels);
            item
        })
        .collect();
    json!({
        "format_version": 1,
        "errors": count(diagnostics, Severity::Error),
        "warnings": count(diagnostics, Severity::Warning),
        "diagnostics": items,
    })
}

/// A diagnostic seen through miette: labels in the primary file stay on it, labels in other
/// files become related reports with their own source.
struct View<'a> {
    diagnostic: &'a Diagnostic,
    message: String,
    severity: miette::Severity,
    source: Option<FileSource<'a>>,
    labels: Vec<&'a Label>,
    related: Vec<View<'a>>,
    show_meta: bool,
}

impl<'a> View<'a> {
    fn new(diagnostic: &'a Diagnostic, sources: &'a SourceMap) -> Self {
        let severity = match diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        };
        let message = diagnostic.headline();
        let Some(primary) = diagnostic.primary_span() else {
            return View {
                diagnostic,
                message,
                severity,
                source: None,
                labels: Vec::new(),
                related: Vec::new(),
                show_meta: true,
            };
        };
        let file = primary.file;
        let labels: Vec<&Label> = diagnostic.labels.iter().filter(|l| l.span.file == file).collect();
        let mut related: Vec<View> = Vec::new();
        let mut other_files: Vec<_> = diagnostic.labels.iter().map(|l| l.span.file).filter(|f| *f != file).collect();
        other_files.dedup();
        other_files.sort();
        other_files.dedup();
        for other in other_files {
            let source = sources.get(other);
            related.push(View {
                diagnostic,
                message: format!("see {}", source.name),
                severity: miette::Severity::Advice,
                source: Some(FileSource { name: &source.name, text: &source.text }),
                labels: diagnostic.labels.iter().filter(|l| l.span.file == other).collect(),
                related: Vec::new(),
                show_meta: false,
            });
        }
        let source = sources.get(file);
        View {
            diagnostic,
            message,
            severity,
            source: Some(FileSource { name: &source.name, text: &source.text }),
            labels,
            related,
            show_meta: true,
        }
    }
}

impl fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for View<'_> {}

impl miette::Diagnostic for View<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.show_meta.then(|| Box::new(self.diagnostic.code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        if !self.show_meta {
            return None;
        }
        self.diagnostic.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().map(|l| {
            let span = (l.span.start as usize, l.span.len());
            let text = (!l.message.is_empty()).then(|| l.message.clone());
            if l.primary {
                LabeledSpan::new_primary_with_span(text, span)
            } else {
                LabeledSpan::new_with_span(text, span)
            }
        })))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
    }
}

/// A file's text with its name, so miette prints `file:line:col` headers.
struct FileSource<'a> {
    name: &'a str,
    text: &'a str,
}

impl SourceCode for FileSource<'_> {
    fn read_span<'b>(
        &'b self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let inner = self.text.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}
