//! One diagnostic model for every stage (syntax, model, checks, state), rendered to the
//! terminal (through miette), to JSON, to GitHub Actions annotations and to SARIF.
//! Diagnostics are values returned, never printed where they arise.

mod github;
mod render;
mod sarif;
mod source;

use serde::Serialize;

pub use github::render_github;
pub use render::{RenderOptions, render_json, render_terminal};
pub use sarif::{RuleDoc, help_uri, render_sarif};
pub use source::{FileId, Region, SourceFile, SourceMap, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// Worth knowing, nothing to fix.
    Note,
}

/// A change to the source that resolves a diagnostic, exact enough for a tool to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, e.g. "rename `locaton` to `location`".
    pub message: String,
    pub span: Span,
    pub replacement: String,
}

/// A place in the source with a message about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
    /// The primary label is where the problem is; secondary ones give context.
    pub primary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code users can look up with `aksform explain` (e.g. `AKS101`).
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// A resource address or other context when the problem has no source span.
    pub subject: Option<String>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            subject: None,
            fix: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }

    pub fn note(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Note, ..Diagnostic::error(code, message) }
    }

    /// The primary location.
    pub fn with_primary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label { span, message: message.into(), primary: true });
        self
    }

    /// A secondary location that explains the primary one.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label { span, message: message.into(), primary: false });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The replacement of `span` by `replacement` that fixes the problem.
    pub fn with_fix(mut self, message: impl Into<String>, span: Span, replacement: impl Into<String>) -> Self {
        self.fix = Some(Fix { message: message.into(), span, replacement: replacement.into() });
        self
    }

    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// The message, after the subject when there is one: `service.web: ...`.
    pub fn headline(&self) -> String {
        match &self.subject {
            Some(subject) => format!("{subject}: {}", self.message),
            None => self.message.clone(),
        }
    }

    /// The headline with the help on a line of its own, for renderers with one message field.
    pub fn message_with_help(&self) -> String {
        match &self.help {
            Some(help) => format!("{}\nhelp: {help}", self.headline()),
            None => self.headline(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).or(self.labels.first()).map(|l| l.span)
    }
}

/// Diagnostics collected by a stage, in the order found.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.0.iter().filter(|d| d.severity == Severity::Warning).count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// Sorts by file and position so output is stable whatever order the stages ran in.
    pub fn sort(&mut self) {
        self.0.sort_by_key(|d| {
            let span = d.primary_span();
            (span.map(|s| (s.file, s.start)), d.code, d.message.clone())
        });
        self.0.dedup();
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The closest candidate to `name`, for "did you mean" hints. Of equally close candidates,
/// the last given: callers whose candidates come from a hash map, whose order changes from
/// run to run, sort them first.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_a_near_name() {
        assert_eq!(closest("adress_space", ["address_space", "location"]), Some("address_space"));
        assert_eq!(closest("zzz", ["address_space", "location"]), None);
    }

    #[test]
    fn of_equally_close_names_the_last_given_is_chosen() {
        assert_eq!(strsim::jaro_winkler("web", "web-a"), strsim::jaro_winkler("web", "web-b"));
        assert_eq!(closest("web", ["web-b", "web-a", "web-c"]), Some("web-c"));
        assert_eq!(closest("web", ["web-c", "web-a", "web-b"]), Some("web-b"));
    }
}
