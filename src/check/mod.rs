//! Validation rules over the model: what Azure or Kubernetes would reject at apply time,
//! found at plan time. Each rule has a stable code, documented in docs/rules/.

use crate::diag::Diagnostic;
use crate::model::Stack;

/// Runs every rule over a stack.
pub fn run(stack: &Stack) -> Vec<Diagnostic> {
    let _ = stack;
    Vec::new()
}
