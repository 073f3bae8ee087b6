//! The canonical formatter: one layout for every `.aks` file, idempotent, keeping every comment.
//!
//! Formatting runs in two steps. [`layout`] attaches each comment to the line it belongs to;
//! [`print`] then chooses line breaks and alignment. Comments never move when the printer
//! tries another width, which is what keeps the output stable from one run to the next.

mod layout;
mod print;
#[cfg(test)]
mod tests;

pub use layout::{is_plain_identifier, quote};

use super::ast;
use super::parse_file;
use crate::diag::{Diagnostic, FileId};

/// Prints a parsed file in the canonical layout. `source` is the text `file` was parsed
/// from: blank lines and the positions of comments are read from it.
pub fn format_file(file: &ast::File, source: &str) -> String {
    let (lines, stray_comments) = layout::build(&file.items, &file.comments, source);
    print::file(&lines, &stray_comments)
}

/// Parses and formats a file. A file with syntax errors is not formatted: its errors are
/// returned instead, since its text cannot be reproduced from what parsed.
pub fn format_source(file: FileId, text: &str) -> Result<String, Vec<Diagnostic>> {
    let (parsed, diagnostics) = parse_file(file, text);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    Ok(format_file(&parsed, text))
}
