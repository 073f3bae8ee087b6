//! Test helpers for the rules: build a stack from text, run the rules, render what they
//! report the way users see it, and the small stack fragments the rule tests share.

pub(crate) use aksform_testkit::stacks::{CLUSTER, NAMESPACE, NETWORK, stack};

use crate::diag::{Diagnostic, RenderOptions, SourceMap, render_terminal};
use crate::loading::{Loaded, from_sources};

/// Loads a one-file stack. Panics when parsing or lowering fails, so a rule test cannot
/// pass because its stack never reached the rules.
pub(crate) fn load(text: &str) -> Loaded {
    let mut sources = SourceMap::new();
    sources.add("main.aks", "main.aks", text.to_string());
    let loaded = from_sources(sources, Vec::new(), None, &[], &|_| None);
    let foreign: Vec<Diagnostic> =
        loaded.diagnostics.iter().filter(|d| !super::rules().iter().any(|r| r.code == d.code)).cloned().collect();
    assert!(foreign.is_empty(), "the test stack does not lower:\n{}", render(&foreign, &loaded.sources));
    loaded
}

fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    render_terminal(diagnostics, sources, RenderOptions { color: false, unicode: true, width: 100 })
}

/// Every diagnostic the rules report on the stack, rendered; asserts that `code` is among them.
pub(crate) fn failing(text: &str, code: &str) -> String {
    let loaded = load(text);
    let rendered = render(&loaded.diagnostics.0, &loaded.sources);
    assert!(loaded.diagnostics.iter().any(|d| d.code == code), "expected {code}, got:\n{rendered}");
    rendered
}

/// Asserts that the rules report nothing on the stack.
pub(crate) fn passing(text: &str) {
    let loaded = load(text);
    assert!(
        loaded.diagnostics.is_empty(),
        "expected no diagnostics, got:\n{}",
        render(&loaded.diagnostics.0, &loaded.sources)
    );
}

/// The codes reported on the stack, in order.
pub(crate) fn codes(text: &str) -> Vec<&'static str> {
    load(text).diagnostics.iter().map(|d| d.code).collect()
}

/// The `existing` blocks of a network team's hub: the resource group `network` and the vnet
/// `hub` (10.50.0.0/16) with its subnet `aks`, for the stack text.
pub(crate) const EXISTING_HUB: &str = "existing resource_group \"network\" { name = \"rg-network\" }\n\
     existing vnet \"hub\" {\n  resource_group = resource_group.network\n  subnet \"aks\" {}\n}\n";

/// Loads a one-file stack that uses [`EXISTING_HUB`], as read from Azure: the subnet `aks`
/// is 10.50.1.0/24, with the facts `subnet` adds (who holds addresses in it).
pub(crate) fn load_with_existing_hub(text: String, subnet: Vec<(String, crate::model::Value)>) -> Loaded {
    use crate::model::{Address, Kind, Value};
    let hub = Address::new(Kind::Vnet, "hub");
    let mut subnet_values: std::collections::BTreeMap<String, Value> = subnet.into_iter().collect();
    subnet_values.insert("prefix".to_string(), Value::str("10.50.1.0/24"));
    let existing = crate::model::existing::ExistingValues::from([
        (Address::new(Kind::ResourceGroup, "network"), [("location".to_string(), Value::str("westeurope"))].into()),
        (
            hub.clone(),
            [
                ("location".to_string(), Value::str("westeurope")),
                ("address_space".to_string(), Value::list(["10.50.0.0/16".to_string()])),
            ]
            .into(),
        ),
        (hub.child(Kind::Subnet, "aks"), subnet_values),
    ]);
    let mut sources = SourceMap::new();
    sources.add("main.aks", "main.aks", text);
    let options = crate::loading::Options { existing, ..Default::default() };
    crate::loading::from_sources_with(sources, Vec::new(), None, &options, &|_| None)
}
