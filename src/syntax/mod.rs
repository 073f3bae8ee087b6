//! Syntax: the pest grammar turned into a tree with byte spans, and the formatter.
//! Knows nothing of Azure or Kubernetes.

pub mod ast;
pub mod fmt;
mod parser;
mod scan;

pub use fmt::{format_file, format_source};
pub use parser::{parse_file, parse_files, parse_value, parse_vars_file};
