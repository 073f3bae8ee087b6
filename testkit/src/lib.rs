//! Stacks as text for aksform's tests and benchmarks: the fragments and files several suites
//! share, large generated estates, and random valid stacks for property tests; and how a bench
//! target reads its arguments. It does not depend on aksform, so that the library's own unit
//! tests can use it as well as the integration tests and benches.

pub mod azurite;
pub mod bench;
pub mod large;
pub mod npm;
pub mod random;
pub mod stacks;
