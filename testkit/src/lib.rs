//! Stacks as text for aksform's tests and benchmarks: the fragments and files several suites
//! share, large generated estates, and random valid stacks for property tests; and how a bench
//! target reads its arguments. It does not depend on aksform, so that the library's own unit
//! tests can use it as well as the integration tests and benches.

pub mod azure_mgmt;
pub mod azurite;
pub mod bench;
pub mod large;
pub mod npm;
pub mod random;
pub mod stacks;

/// The example stacks: each folder of `examples/` with a `.aks` file (others, such as
/// `examples/github-actions/`, hold no stack), sorted.
pub fn example_stacks() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut dirs: Vec<std::path::PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|dir| {
            std::fs::read_dir(dir)
                .is_ok_and(|mut files| files.any(|f| f.is_ok_and(|f| f.path().extension().is_some_and(|e| e == "aks"))))
        })
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 6, "the examples are missing from {}", root.display());
    dirs
}
