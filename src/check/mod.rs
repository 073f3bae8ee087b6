//! Validation rules over the model: what Azure or Kubernetes would reject at apply time,
//! found at plan time. Each rule has a stable code, documented in docs/rules/.

use std::sync::LazyLock;

use crate::diag::{Diagnostic, Diagnostics, RuleDoc, Severity};
use crate::model::Stack;

/// Declares a rule with its documentation page, `docs/rules/<code>.md`.
macro_rules! rule {
    ($code:literal, $name:literal, $severity:ident, $summary:literal) => {
        $crate::check::RuleInfo {
            code: $code,
            name: $name,
            severity: $crate::diag::Severity::$severity,
            summary: $summary,
            page: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules/", $code, ".md")),
        }
    };
}

mod addresses;
mod capacity;
mod index;
mod ingress;
mod load_balancers;
mod ranges;
mod services;
#[cfg(test)]
mod test_support;

/// What a rule is: its stable code, its name, how severe its findings are, and one line
/// about what it checks.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    page: &'static str,
}

impl RuleInfo {
    /// A finding of this rule, with the rule's code and severity.
    fn diagnostic(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: self.severity, ..Diagnostic::error(self.code, message) }
    }
}

static RULES: LazyLock<Vec<RuleInfo>> = LazyLock::new(|| {
    [addresses::RULES, capacity::RULES, services::RULES, load_balancers::RULES, ingress::RULES].concat()
});

/// Every rule, ordered by code.
pub fn rules() -> &'static [RuleInfo] {
    &RULES
}

/// Codes raised outside the rules (the parser, the model, the planner), with their pages.
macro_rules! code_page {
    ($($code:literal),*) => {
        &[$(($code, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules/", $code, ".md")))),*]
    };
}

pub const OTHER_CODES: &[(&str, &str)] = code_page!(
    "AKS001", "AKS002", "AKS003", "AKS010", "AKS011", "AKS012", "AKS013", "AKS014", "AKS015", "AKS016", "AKS017",
    "AKS018", "AKS019", "AKS180", "AKS181", "AKS182", "AKS183", "AKS184", "AKS185", "AKS186", "AKS187", "AKS188"
);

/// The documentation page of a code (Markdown), for `aksform explain CODE`.
pub fn explain(code: &str) -> Option<&'static str> {
    let code = code.trim();
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code))
        .map(|r| r.page)
        .or_else(|| OTHER_CODES.iter().find(|(c, _)| c.eq_ignore_ascii_case(code)).map(|(_, page)| *page))
}

/// What a code is, for the rule descriptors of a SARIF log: a rule's name and summary, or
/// for the other codes the title of their page.
pub fn documentation(code: &str) -> Option<RuleDoc> {
    if let Some(rule) = RULES.iter().find(|r| r.code == code) {
        return Some(RuleDoc { name: Some(rule.name), summary: rule.summary, page: rule.page });
    }
    let (_, page) = OTHER_CODES.iter().find(|(c, _)| *c == code)?;
    Some(RuleDoc { name: None, summary: page_title(page), page })
}

/// The title of a code's page: `# AKS012: wrong type or value` gives `wrong type or value`.
pub fn page_title(page: &str) -> &str {
    page.lines().next().unwrap_or("").split_once(": ").map_or("", |(_, title)| title)
}

/// Runs every rule over a stack. The findings come sorted by place, so output is stable.
pub fn run(stack: &Stack) -> Vec<Diagnostic> {
    let index = index::Index::new(stack);
    // The groups of rules are independent: they run on every core.
    let groups: [fn(&index::Index, &mut Vec<Diagnostic>); 5] =
        [addresses::check, capacity::check, services::check, load_balancers::check, ingress::check];
    let found = crate::parallel::map(&groups, |check| {
        let mut out = Vec::new();
        check(&index, &mut out);
        out
    });
    let mut diagnostics = Diagnostics(found.concat());
    diagnostics.sort();
    diagnostics.0
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::Path;

    use super::*;
    use crate::diag::{RenderOptions, render_terminal};

    #[test]
    fn rules_have_unique_ordered_codes_and_pages() {
        let mut seen = HashSet::new();
        let mut previous = "";
        for rule in rules() {
            assert!(seen.insert(rule.code), "{} is declared twice", rule.code);
            assert!(rule.code > previous, "{} is out of order", rule.code);
            previous = rule.code;
            let page = explain(rule.code).unwrap();
            let title = format!("# {}: {}", rule.code, rule.name);
            assert!(page.starts_with(&title), "{}.md must start with `{title}`", rule.code);
            for section in ["## What it checks", "## Why", "## Failing example", "## Fix"] {
                assert!(page.contains(section), "{}.md has no `{section}` section", rule.code);
            }
        }
        let names: HashSet<&str> = rules().iter().map(|r| r.name).collect();
        assert_eq!(names.len(), rules().len(), "rule names must be unique");
    }

    /// docs/rules/ also holds the pages of the syntax and model codes (AKS001-AKS099) and of
    /// the planner's (AKS180-AKS199); every other page must belong to a rule.
    #[test]
    fn every_rule_page_belongs_to_a_rule() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let Some(number) = name.strip_prefix("AKS").and_then(|n| n.strip_suffix(".md")) else { continue };
            let number: u32 = number.parse().unwrap();
            if (101..180).contains(&number) || (200..500).contains(&number) {
                assert!(explain(&format!("AKS{number:03}")).is_some(), "docs/rules/{name} documents no rule");
            }
        }
    }

    #[test]
    fn explain_ignores_case_and_unknown_codes() {
        assert!(explain("aks101").is_some());
        assert!(explain("AKS999").is_none());
    }

    /// No false alarms: every example stack passes without a single diagnostic.
    #[test]
    fn examples_have_no_diagnostics() {
        let mut checked = 0;
        for path in aksform_testkit::example_stacks() {
            let env = |_: &str| Some("00000000-0000-0000-0000-000000000000".to_string());
            let loaded = crate::loading::load(&path, &crate::loading::Options::default(), &env).unwrap();
            let rendered = render_terminal(&loaded.diagnostics.0, &loaded.sources, RenderOptions::default());
            assert!(loaded.diagnostics.is_empty(), "{} has diagnostics:\n{rendered}", path.display());
            checked += 1;
        }
        assert!(checked > 0, "no example stacks found");
    }

    #[test]
    fn generated_stack_passes_every_rule() {
        let loaded = test_support::load(&aksform_testkit::large::generate_benchmark_stack(4, 600, 60));
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics.0);
        let stack = &loaded.stack;
        assert_eq!((stack.clusters.len(), stack.services.len(), stack.ingresses.len()), (4, 600, 60));
    }

    #[test]
    fn generated_services_stack_passes_every_rule() {
        let loaded = test_support::load(&aksform_testkit::large::generate_services_stack("many", "apps", 300));
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics.0);
        assert_eq!((loaded.stack.namespaces.len(), loaded.stack.services.len()), (1, 300));
    }
}
