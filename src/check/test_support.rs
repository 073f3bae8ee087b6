//! Test helpers for the rules: build a stack from text, run the rules, render what they
//! report the way users see it, and small stack fragments the rule tests share.

use crate::diag::{Diagnostic, RenderOptions, SourceMap, render_terminal};
use crate::loading::{Loaded, from_sources};

/// The stack block and a resource group.
pub(crate) const HEADER: &str = r#"stack "test" {
  location = westeurope
}

resource_group "rg" {}
"#;

/// A network with a node subnet (/22, 1,019 usable) and a subnet for internal load balancers.
pub(crate) const NETWORK: &str = r#"
vnet "net" {
  resource_group = resource_group.rg
  address_space  = [10.1.0.0/16]

  subnet "nodes" {
    prefix = 10.1.0.0/22
  }

  subnet "ilb" {
    prefix = 10.1.8.0/24
  }
}
"#;

/// An Azure CNI cluster on `vnet.net.subnet.nodes`: 3 system nodes, 30 pods each.
pub(crate) const CLUSTER: &str = r#"
cluster "aks" {
  resource_group = resource_group.rg

  network azure_cni {
    subnet         = vnet.net.subnet.nodes
    service_cidr   = 10.0.0.0/16
    dns_service_ip = 10.0.0.10
  }

  node_pool "system" {
    vm_size = "Standard_D4s_v5"
    count   = 3
  }
}
"#;

/// A namespace `apps` in `cluster.aks`.
pub(crate) const NAMESPACE: &str = r#"
namespace "apps" {
  cluster = cluster.aks
}
"#;

/// The header followed by the given parts, as one file.
pub(crate) fn stack(parts: &[&str]) -> String {
    let mut text = HEADER.to_string();
    for part in parts {
        text.push_str(part);
    }
    text
}

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
