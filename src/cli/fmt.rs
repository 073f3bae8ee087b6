//! `aksform fmt [--check] [PATH]`: rewrite `.aks` files in the canonical layout.

use std::path::{Path, PathBuf};

use clap::Args;

use super::Format;
use super::output::Output;
use crate::diag::SourceMap;
use crate::syntax::format_source;

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// A file, or a folder whose .aks and .vars files are formatted.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Change nothing; list the files that are not formatted, show the difference and exit 1.
    #[arg(long)]
    check: bool,
}

fn files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "aks"))
        .collect();
    files.sort();
    Ok(files)
}

pub fn run(args: &FmtArgs, out: &Output) -> u8 {
    let paths = match files(&args.path) {
        Ok(paths) => paths,
        Err(e) => {
            out.error(&format!("cannot read {}: {e}", args.path.display()));
            return 1;
        }
    };
    let mut sources = SourceMap::new();
    let mut failed = false;
    let mut unformatted = Vec::new();
    for path in paths {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                out.error(&format!("cannot read {}: {e}", path.display()));
                failed = true;
                continue;
            }
        };
        let id = sources.add(&path, path.display().to_string(), text.clone());
        match format_source(id, &text) {
            Err(diagnostics) => {
                // A file that does not parse is left exactly as it is.
                out.diagnostics(&diagnostics, &sources, Format::Text);
                failed = true;
            }
            Ok(formatted) if formatted == text => {}
            Ok(formatted) if args.check => {
                let name = path.display().to_string();
                let diff = similar::TextDiff::from_lines(&text, &formatted);
                super::output::stdout(
                    &diff.unified_diff().context_radius(2).header(&name, &format!("{name} (formatted)")).to_string(),
                );
                unformatted.push(path);
            }
            Ok(formatted) => match std::fs::write(&path, formatted) {
                Ok(()) => super::output::stdout(&format!("formatted {}\n", path.display())),
                Err(e) => {
                    out.error(&format!("cannot write {}: {e}", path.display()));
                    failed = true;
                }
            },
        }
    }
    if !unformatted.is_empty() {
        let names: Vec<String> = unformatted.iter().map(|p| p.display().to_string()).collect();
        out.error(&format!("not formatted: {}; run `aksform fmt` to fix", names.join(", ")));
        return 1;
    }
    u8::from(failed)
}
