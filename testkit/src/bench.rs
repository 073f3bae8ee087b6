//! How a bench target without libtest's harness (`harness = false`) reads what cargo hands it.

/// How much a bench target measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// `cargo bench`: the full measurement.
    Full,
    /// `cargo test --all-targets`: once and small, so that it keeps working.
    Quick,
}

/// How the bench target `name` was started: `None` when it has nothing to do. `cargo test`
/// hands every target its filters and `--list`; a bench has nothing to list, and runs only
/// when no filter or a filter naming it is given. `cargo bench` adds `--bench`.
pub fn size(name: &str) -> Option<Size> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let named = filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    if args.iter().any(|a| a == "--list") || !named {
        return None;
    }
    Some(if args.iter().any(|a| a == "--bench") { Size::Full } else { Size::Quick })
}
