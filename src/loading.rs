//! Loading a stack: every `.aks` file of a folder (sorted by name), vars files and
//! `--var` values, parsed and lowered into the model. The one place that reads config files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::diag::{Diagnostic, Diagnostics, FileId, SourceMap, Span};
use crate::model::existing::{Existing, ExistingValues};
use crate::model::{self, Address, Stack};
use crate::syntax::{self, ast};

/// What the user gave besides the stack folder.
#[derive(Debug, Default, Clone)]
pub struct Options {
    pub var_files: Vec<PathBuf>,
    /// `name=value` pairs from `--var`.
    pub vars: Vec<String>,
    pub allow_replace: Vec<Address>,
    /// Variable values recorded in a saved plan, as a vars file's text, with the name it is
    /// shown under in diagnostics: `apply --plan` loads the stack with them.
    pub recorded_vars: Option<(String, String)>,
    /// The values of the stack's existing resources, read live or recorded (none: they are
    /// left out of the model, see [`model::existing`]).
    pub existing: ExistingValues,
}

/// A loaded stack: its sources (for diagnostics), the model, and every diagnostic found.
pub struct Loaded {
    pub dir: PathBuf,
    pub sources: SourceMap,
    pub stack: Stack,
    pub diagnostics: Diagnostics,
    /// SHA-256 of the stack's files and variable values, to tie a saved plan to its configuration.
    pub config_hash: String,
    /// The value of each variable given in a vars file or with `--var`, as the source text
    /// that reads back as it (a vars file's `name = text` line): what a saved plan records.
    pub variables: BTreeMap<String, String>,
    /// The stack's existing resources: which they are, which were read.
    pub existing: Existing,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} has no .aks files")]
    Empty { path: PathBuf },
    #[error("{path} is not a .aks file: give the stack's folder or one of its .aks files")]
    NotAStackFile { path: PathBuf },
}

/// `dir` may be a folder, or one `.aks` file (then its folder is the stack).
pub fn load(path: &Path, options: &Options, env: &model::Env) -> Result<Loaded, LoadError> {
    let dir = if path.is_file() {
        if path.extension().is_none_or(|e| e != "aks") {
            return Err(LoadError::NotAStackFile { path: path.to_path_buf() });
        }
        // `main.aks` alone has the empty path as its parent: the current folder.
        match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    } else {
        path.to_path_buf()
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|source| io_error(&dir, source))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "aks") && p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(LoadError::Empty { path: dir });
    }
    let mut sources = SourceMap::new();
    let mut hasher = Sha256::new();
    for p in &paths {
        let bytes = std::fs::read(p).map_err(|source| io_error(p, source))?;
        hasher.update(p.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        sources.add(p, display_name(p), text);
    }
    let mut var_sources = Vec::new();
    if let Some((name, text)) = &options.recorded_vars {
        var_sources.push(sources.add(name, name.clone(), text.clone()));
    }
    for p in &options.var_files {
        let text = std::fs::read_to_string(p).map_err(|source| io_error(p, source))?;
        var_sources.push(sources.add(p, display_name(p), text));
    }
    let cli_vars = if options.vars.is_empty() {
        None
    } else {
        Some(sources.add("<command line>", "<command line>", options.vars.join("\n")))
    };
    let mut loaded = from_sources_with(sources, var_sources, cli_vars, options, env);
    // The values, not the files they came from: a plan made with a vars file is the plan
    // `apply --plan` carries out with the values the plan recorded.
    for (name, value) in &loaded.variables {
        for part in [name, value] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    loaded.dir = dir;
    loaded.config_hash = format!("sha256:{:x}", hasher.finalize());
    Ok(loaded)
}

/// Variables as the text of a vars file, one `name = value` per variable.
pub fn vars_file_text(variables: &BTreeMap<String, String>) -> String {
    variables.iter().map(|(name, value)| format!("{name} = {value}\n")).collect()
}

fn io_error(path: &Path, source: std::io::Error) -> LoadError {
    LoadError::Io { path: path.to_path_buf(), source }
}

fn display_name(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let relative = cwd.as_deref().and_then(|c| path.strip_prefix(c).ok()).unwrap_or(path);
    relative.display().to_string()
}

/// Parses and lowers sources already in memory. `var_files` and `cli_vars` are files of the
/// source map that hold variable values (the command line as one `name=value` per line).
pub fn from_sources(
    sources: SourceMap,
    var_files: Vec<FileId>,
    cli_vars: Option<FileId>,
    allow_replace: &[Address],
    env: &model::Env,
) -> Loaded {
    let options = Options { allow_replace: allow_replace.to_vec(), ..Options::default() };
    from_sources_with(sources, var_files, cli_vars, &options, env)
}

/// [`from_sources`] with the loading options (the variables' files and flags aside).
pub fn from_sources_with(
    sources: SourceMap,
    var_files: Vec<FileId>,
    cli_vars: Option<FileId>,
    options: &Options,
    env: &model::Env,
) -> Loaded {
    let mut diagnostics = Diagnostics::new();
    let value_files: Vec<FileId> = var_files.iter().copied().chain(cli_vars).collect();
    let texts: Vec<(FileId, &str)> = sources
        .files()
        .filter(|(id, _)| !value_files.contains(id))
        .map(|(id, file)| (id, file.text.as_str()))
        .collect();
    let mut files = Vec::new();
    for (&(id, _), (parsed, errors)) in texts.iter().zip(syntax::parse_files(&texts)) {
        diagnostics.extend(errors);
        files.push((id, parsed));
    }
    let mut vars: BTreeMap<String, ast::Expr> = BTreeMap::new();
    let mut variables = BTreeMap::new();
    for id in var_files {
        let text = &sources.get(id).text;
        let (attributes, errors) = syntax::parse_vars_file(id, text);
        diagnostics.extend(errors);
        for a in attributes {
            let span = a.value.span;
            variables.insert(a.key.name.clone(), canonical_value(&text[span.start as usize..span.end as usize]));
            vars.insert(a.key.name, a.value);
        }
    }
    if let Some(id) = cli_vars {
        cli_values(id, &sources.get(id).text, &mut vars, &mut variables, &mut diagnostics);
    }
    let syntax_failed = diagnostics.has_errors();
    let (existing, rewrite_errors) = model::existing::rewrite(&mut files, &options.existing);
    diagnostics.extend(rewrite_errors);
    let input = model::Input {
        files: &files,
        vars: &vars,
        env,
        allow_replace: &options.allow_replace,
        existing: &existing,
        existing_values: &options.existing,
    };
    let (stack, model_diagnostics) = model::lower(&input);
    crate::parallel::drop_all(files.into_iter().flat_map(|(_, file)| file.items).collect());
    // After a syntax error, references into the broken items would only repeat it.
    diagnostics.extend(model_diagnostics.into_iter().filter(|d| !(syntax_failed && d.code == "AKS014")));
    if !diagnostics.has_errors() {
        diagnostics.extend(crate::check::run(&stack));
    }
    diagnostics.sort();
    Loaded { dir: PathBuf::new(), sources, stack, diagnostics, config_hash: String::new(), variables, existing }
}

/// `--var name=value`: the value is read as an aksform value, or else taken as a string.
fn cli_values(
    file: FileId,
    text: &str,
    vars: &mut BTreeMap<String, ast::Expr>,
    variables: &mut BTreeMap<String, String>,
    diagnostics: &mut Diagnostics,
) {
    let mut offset = 0;
    for line in text.split('\n') {
        let start = offset;
        offset += line.len() + 1;
        let Some((name, value)) = line.split_once('=') else {
            diagnostics.push(
                Diagnostic::error("AKS017", format!("`--var {line}` has no value"))
                    .with_primary(Span::new(file, start, start + line.len()), "expected NAME=VALUE")
                    .with_help("write `--var node_count=5`"),
            );
            continue;
        };
        let value_start = start + name.len() + 1;
        let span = Span::new(file, value_start, start + line.len());
        let (expr, recorded) = match syntax::parse_value(file, value) {
            // Words with spaces (`--var team=web ops`) are text, not a typed value `web ops`.
            Some((expr, _)) if matches!(expr.kind, ast::ExprKind::Constructor { body: None, .. }) => {
                (ast::Expr { kind: ast::ExprKind::String(value.to_string()), span }, syntax::fmt::quote(value))
            }
            Some((mut expr, errors)) if errors.is_empty() => {
                shift(&mut expr, value_start);
                (expr, canonical_value(value))
            }
            _ => (ast::Expr { kind: ast::ExprKind::String(value.to_string()), span }, syntax::fmt::quote(value)),
        };
        let name = name.trim().to_string();
        variables.insert(name.clone(), recorded);
        vars.insert(name, expr);
    }
}

/// A value's text in `fmt`'s layout, so that one value written two ways reads the same.
fn canonical_value(text: &str) -> String {
    match syntax::format_source(FileId(0), &format!("v = {text}\n")) {
        Ok(formatted) => formatted.strip_prefix("v = ").unwrap_or(&formatted).trim_end().to_string(),
        Err(_) => text.trim().to_string(),
    }
}

/// Moves a value parsed alone to its place in the command-line source.
fn shift(expr: &mut ast::Expr, by: usize) {
    expr.span = Span::new(expr.span.file, expr.span.start as usize + by, expr.span.end as usize + by);
    if let ast::ExprKind::List(items) = &mut expr.kind {
        items.iter_mut().for_each(|i| shift(i, by));
    }
}
