//! The generic view of a resource that the state, the planner and the executor see:
//! an address, field values and dependencies. Resource-specific meaning stays in the
//! typed model.

use std::collections::BTreeMap;

use super::address::Address;
use super::value::Value;
use crate::diag::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub address: Address,
    /// Desired field values. May hold [`Value::Ref`] to attributes of other resources.
    pub attributes: BTreeMap<String, Value>,
    /// Fields set by Azure or Kubernetes when the resource is applied (e.g. `address`,
    /// `fqdn`). The plan never shows them as changes; it shows them as known after apply.
    pub computed: &'static [&'static str],
    /// Resources that must exist before this one (from references and from nesting).
    pub depends_on: Vec<Address>,
    /// Where the resource is declared.
    pub span: Span,
    /// The user allows this resource to be replaced (`allow_replace = true` or `--allow-replace`).
    pub allow_replace: bool,
    /// An existing resource: used, never created, changed or deleted ([`crate::model::existing`]).
    pub existing: bool,
}
