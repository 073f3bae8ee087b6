//! Diagnostics as GitHub Actions workflow commands (`::error file=...::message`), which a
//! workflow run shows as annotations on the pull request's lines.

use super::{Diagnostic, Severity, SourceMap};

/// One workflow command per diagnostic, each on its own line.
pub fn render_github(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let command = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut properties: Vec<(&str, String)> = Vec::new();
        if let Some(span) = diagnostic.primary_span()
            && let Some(path) = sources.get(span.file).artifact_path()
        {
            let region = sources.region(span);
            properties.push(("file", path));
            properties.push(("line", region.line.to_string()));
            properties.push(("col", region.column.to_string()));
            properties.push(("endLine", region.end_line.to_string()));
            properties.push(("endColumn", region.end_column.to_string()));
        }
        properties.push(("title", diagnostic.code.to_string()));
        let properties: Vec<String> =
            properties.iter().map(|(name, value)| format!("{name}={}", escape_property(value))).collect();
        out.push_str(&format!(
            "::{command} {}::{}\n",
            properties.join(","),
            escape_data(&diagnostic.message_with_help())
        ));
    }
    out
}

/// The escaping GitHub's runner undoes in a command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// The escaping GitHub's runner undoes in a command's property values.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;

    fn sources() -> (SourceMap, Span) {
        let mut sources = SourceMap::new();
        let file = sources.add("./a,b:c/main.aks", "./a,b:c/main.aks", "stack \"s\" {\n  count = \"3\"\n}\n".into());
        (sources, Span::new(file, 22, 25))
    }

    #[test]
    fn a_located_error_names_file_line_and_columns_with_the_help_in_the_message() {
        let (sources, span) = sources();
        let diagnostic = Diagnostic::error("AKS012", "count is a number, not \"3\"")
            .with_primary(span, "a string")
            .with_help("write `count = 3`");
        assert_eq!(
            render_github(&[diagnostic], &sources),
            "::error file=a%2Cb%3Ac/main.aks,line=2,col=11,endLine=2,endColumn=14,title=AKS012::count is a number, not \"3\"%0Ahelp: write `count = 3`\n"
        );
    }

    #[test]
    fn messages_escape_percent_and_line_breaks_and_severities_choose_the_command() {
        let (sources, _) = sources();
        let warning = Diagnostic::warning("AKS301", "100% of it\r\nis used").with_subject("service.web");
        let note = Diagnostic::note("AKS302", "nothing to do");
        assert_eq!(
            render_github(&[warning, note], &sources),
            "::warning title=AKS301::service.web: 100%25 of it%0D%0Ais used\n::notice title=AKS302::nothing to do\n"
        );
    }
}
