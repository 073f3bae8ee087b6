//! Lowering of `import` blocks: `import { to = vnet.hub  id = "/subscriptions/..." }` says
//! that the resource with that id exists and is to be managed under the block at `to`. Here
//! each is checked against the stack (a declared block, managed, imported once, an id of the
//! right form); that the id is the one the block names is checked by plan, which knows the
//! subscription and the resolved names.

use std::collections::HashMap;

use super::{BlockFields, Lowering};
use crate::diag::{Diagnostic, Span};
use crate::model::address::{Address, Kind};
use crate::model::stack::{Import, Stack};
use crate::syntax::ast::Block;

/// The code of every misuse of an `import` block.
pub const CODE: &str = "AKS019";

pub const USAGE: &str = "write `import { to = vnet.hub  id = \"/subscriptions/.../virtualNetworks/hub\" }` (for a \
                         Kubernetes object `id = \"NAMESPACE/NAME\"`)";

/// Lowers every `import` block into `stack.imports`.
pub(super) fn lower(cx: &mut Lowering, blocks: &[&Block], stack: &mut Stack) {
    let mut seen: HashMap<Address, Span> = HashMap::new();
    for block in blocks.iter().filter(|b| b.kind.name == "import") {
        let Some(import) = import(cx, block) else { continue };
        if let Some(first) = seen.get(&import.address) {
            cx.push(
                Diagnostic::error(CODE, format!("`{}` is imported twice", import.address))
                    .with_primary(import.span, "imported again here")
                    .with_secondary(*first, "first imported here")
                    .with_help("a resource is imported once: remove one of the two blocks"),
            );
            continue;
        }
        seen.insert(import.address.clone(), import.span);
        stack.imports.push(import);
    }
}

fn import(cx: &mut Lowering, block: &Block) -> Option<Import> {
    let header = block.header_span();
    if let Some(first) = block.labels.first() {
        let last = block.labels.last().map_or(first.span, |l| l.span);
        cx.push(
            Diagnostic::error(CODE, "an `import` block takes no name")
                .with_primary(first.span.to(last), "not expected here")
                .with_help(USAGE),
        );
    }
    let f = BlockFields::new(cx, block.body.as_ref(), "import", header, &["to", "id"], &[]);
    let to = cx.value(&f, "to", true);
    let id = cx.string(&f, "id", true);
    let target = to.as_ref().and_then(|expr| cx.expr_reference(expr, "to", &Kind::ALL))?;
    let id = id?;
    let address = target.address;
    if cx.input.existing.decls.iter().any(|d| d.address == address) {
        cx.push(
            Diagnostic::error(CODE, format!("`{address}` is existing: it is used, not managed, so it is not imported"))
                .with_primary(target.span, "declared existing")
                .with_help(
                    "to manage the resource, write its block without `existing` and keep this import; to only use \
                     it, remove this `import` block",
                ),
        );
        return None;
    }
    if address.kind == Kind::RoleAssignment {
        cx.push(
            Diagnostic::error(CODE, "role assignments are planned by aksform, not imported")
                .with_primary(target.span, "a role assignment")
                .with_help("remove this block: a role assignment that exists already is found and kept by plan"),
        );
        return None;
    }
    let well_formed = if address.kind.is_kubernetes() {
        !id.value.is_empty() && !id.value.starts_with('/')
    } else {
        id.value.to_ascii_lowercase().starts_with("/subscriptions/")
    };
    if !well_formed {
        let expected = if address.kind.is_kubernetes() {
            if address.kind == Kind::Namespace {
                "the namespace's name (or its `k8s://` id)".to_string()
            } else {
                format!("`NAMESPACE/NAME` of the {} (or its `k8s://` id)", address.kind.noun())
            }
        } else {
            format!("the ARM id of the {} (`/subscriptions/.../resourceGroups/...`)", address.kind.noun())
        };
        cx.push(
            Diagnostic::error(CODE, format!("`{}` is not an id of a {}", id.value, address.kind.noun()))
                .with_primary(id.span, "not an id of this kind")
                .with_help(format!("the id of `{address}` is {expected}")),
        );
        return None;
    }
    Some(Import { address, id: id.value.trim_end_matches('/').to_string(), span: header, id_span: id.span })
}
