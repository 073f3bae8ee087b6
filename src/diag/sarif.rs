//! Diagnostics as a SARIF 2.1.0 log, the format GitHub code scanning (and other CI tools)
//! uploads: one run, the rules that fired with their pages, and one result per diagnostic.

use serde_json::{Value, json};

use super::{Diagnostic, Severity, SourceMap, Span};

/// Where the schema of the log is published.
const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// What a code's documentation says, for the rule descriptors of the log.
#[derive(Debug, Clone, Copy)]
pub struct RuleDoc {
    /// The rule's name (`subnet-too-small`), where it has one.
    pub name: Option<&'static str>,
    /// One line about what the code means.
    pub summary: &'static str,
    /// The code's page, Markdown (docs/rules/<CODE>.md).
    pub page: &'static str,
}

/// Renders the log. `docs` gives each code's documentation; `helpUri` points every rule at
/// its page in the repository.
pub fn render_sarif(diagnostics: &[Diagnostic], sources: &SourceMap, docs: &dyn Fn(&str) -> Option<RuleDoc>) -> Value {
    let mut codes: Vec<&'static str> = Vec::new();
    for diagnostic in diagnostics {
        if !codes.contains(&diagnostic.code) {
            codes.push(diagnostic.code);
        }
    }
    let rules: Vec<Value> = codes.iter().map(|code| rule(code, docs(code))).collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let index = codes.iter().position(|c| *c == d.code).unwrap_or_default();
            result(d, index, sources)
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "aksform",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// The link to a code's page in the repository.
pub fn help_uri(code: &str) -> String {
    format!("{}/blob/main/docs/rules/{code}.md", env!("CARGO_PKG_REPOSITORY"))
}

fn rule(code: &str, doc: Option<RuleDoc>) -> Value {
    let mut descriptor = json!({ "id": code, "helpUri": help_uri(code) });
    if let Some(doc) = doc {
        descriptor["shortDescription"] = json!({ "text": doc.summary });
        descriptor["fullDescription"] =
            json!({ "text": first_paragraph(doc.page).unwrap_or_else(|| doc.summary.to_string()) });
        descriptor["help"] = json!({ "text": doc.page, "markdown": doc.page });
        if let Some(name) = doc.name {
            descriptor["name"] = json!(name);
        }
    }
    descriptor
}

/// The page's first paragraph under its title, its lines joined.
fn first_paragraph(page: &str) -> Option<String> {
    let body = page.split_once('\n').map_or("", |(_, rest)| rest).trim_start();
    let paragraph = body.split("\n\n").next()?.trim();
    (!paragraph.is_empty() && !paragraph.starts_with('#'))
        .then(|| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn result(diagnostic: &Diagnostic, rule_index: usize, sources: &SourceMap) -> Value {
    let level = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let mut result = json!({
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": level,
        "message": { "text": diagnostic.message_with_help() },
    });
    let primary = diagnostic.primary_span();
    let mut location = primary.and_then(|span| physical_location(span, sources)).map_or_else(
        || json!({}),
        |physical| {
            let mut location = json!({ "physicalLocation": physical });
            if let Some(label) = diagnostic.labels.iter().find(|l| Some(l.span) == primary && !l.message.is_empty()) {
                location["message"] = json!({ "text": label.message });
            }
            location
        },
    );
    if let Some(subject) = &diagnostic.subject {
        location["logicalLocations"] = json!([{ "fullyQualifiedName": subject, "kind": "resource" }]);
    }
    if location.as_object().is_some_and(|l| !l.is_empty()) {
        result["locations"] = json!([location]);
    }
    let related: Vec<Value> = diagnostic
        .labels
        .iter()
        .filter(|l| Some(l.span) != primary)
        .filter_map(|l| {
            let physical = physical_location(l.span, sources)?;
            Some(json!({ "physicalLocation": physical, "message": { "text": l.message } }))
        })
        .enumerate()
        .map(|(id, mut location)| {
            location["id"] = json!(id);
            location
        })
        .collect();
    if !related.is_empty() {
        result["relatedLocations"] = json!(related);
    }
    if let Some(fix) = &diagnostic.fix
        && let Some(uri) = artifact_uri(fix.span, sources)
    {
        result["fixes"] = json!([{
            "description": { "text": fix.message },
            "artifactChanges": [{
                "artifactLocation": { "uri": uri },
                "replacements": [{
                    "deletedRegion": region(fix.span, sources),
                    "insertedContent": { "text": fix.replacement },
                }],
            }],
        }]);
    }
    result
}

fn physical_location(span: Span, sources: &SourceMap) -> Option<Value> {
    let uri = artifact_uri(span, sources)?;
    Some(json!({ "artifactLocation": { "uri": uri }, "region": region(span, sources) }))
}

fn region(span: Span, sources: &SourceMap) -> Value {
    let region = sources.region(span);
    json!({
        "startLine": region.line,
        "startColumn": region.column,
        "endLine": region.end_line,
        "endColumn": region.end_column,
    })
}

/// The file's URI: relative to the repository root (the current folder) where it is inside
/// it, else a `file://` URI.
fn artifact_uri(span: Span, sources: &SourceMap) -> Option<String> {
    let path = sources.get(span.file).artifact_path()?;
    if path.starts_with('/') {
        return url::Url::from_file_path(&path).ok().map(String::from);
    }
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    Some(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(_: &str) -> Option<RuleDoc> {
        Some(RuleDoc {
            name: Some("wrong-type"),
            summary: "wrong type or value",
            page: "# AKS012: wrong type or value\n\nAn attribute has a value\nof the wrong kind.\n\n## Fix\n",
        })
    }

    #[test]
    fn a_result_has_its_rule_region_and_fix() {
        let mut sources = SourceMap::new();
        let file = sources.add("./my stack/main.aks", "./my stack/main.aks", "a = 1\nlocaton = x\n".into());
        let span = Span::new(file, 6, 13);
        let diagnostic = Diagnostic::error("AKS010", "no attribute `locaton`")
            .with_primary(span, "unknown attribute")
            .with_help("did you mean `location`?")
            .with_fix("rename `locaton` to `location`", span, "location");
        let log = render_sarif(&[diagnostic], &sources, &doc);
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "AKS010");
        assert_eq!(
            run["tool"]["driver"]["rules"][0]["helpUri"],
            "https://github.com/aksform/aksform/blob/main/docs/rules/AKS010.md"
        );
        assert_eq!(
            run["tool"]["driver"]["rules"][0]["fullDescription"]["text"],
            "An attribute has a value of the wrong kind."
        );
        let result = &run["results"][0];
        assert_eq!(result["message"]["text"], "no attribute `locaton`\nhelp: did you mean `location`?");
        let physical = &result["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "my%20stack/main.aks");
        assert_eq!(physical["region"], json!({ "startLine": 2, "startColumn": 1, "endLine": 2, "endColumn": 8 }));
        let replacement = &result["fixes"][0]["artifactChanges"][0]["replacements"][0];
        assert_eq!(replacement["insertedContent"]["text"], "location");
        assert_eq!(replacement["deletedRegion"]["endColumn"], 8);
    }

    #[test]
    fn a_diagnostic_about_a_resource_has_a_logical_location_and_an_absolute_path_a_file_uri() {
        let mut sources = SourceMap::new();
        let file = sources.add("/srv/stack/main.aks", "/srv/stack/main.aks", "x\n".into());
        let located = Diagnostic::warning("AKS301", "m").with_primary(Span::new(file, 0, 1), "");
        let unlocated = Diagnostic::note("AKS302", "n").with_subject("service.web");
        let log = render_sarif(&[located, unlocated], &sources, &|_| None);
        let results = &log["runs"][0]["results"];
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "file:///srv/stack/main.aks"
        );
        assert_eq!(results[0]["level"], "warning");
        assert_eq!(results[1]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], "service.web");
        assert_eq!(results[1]["level"], "note");
        assert_eq!(results[1]["ruleIndex"], 1);
    }
}
