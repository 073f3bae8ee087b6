//! Syntax: the pest grammar turned into a tree with byte spans, and the formatter.
//! Knows nothing of Azure or Kubernetes.

pub mod ast;
pub mod fmt;
mod parser;
mod pieces;

pub use fmt::{format_file, format_source};
pub use parser::{parse_file, parse_value, parse_vars_file};
pub use pieces::parse_files;
