//! The command line: parses flags, runs the stages, prints, and maps outcomes to exit codes.
//! Thin by design: the logic lives in the stages.

mod apply;
mod backend;
mod existing;
mod explain;
mod fmt;
mod generate;
mod grants;
mod graph;
mod import;
mod output;
mod plan;
mod progress;
mod providers;
mod show;
mod state;
mod target;
mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::loading;
use crate::model::Address;
use crate::plan::SavedPlan;

#[derive(Debug, Parser)]
#[command(name = "aksform", version, about = "Declarative provisioning of Azure Kubernetes Service networking")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// When to colour output: auto (on a terminal, unless NO_COLOR is set), always or never
    /// (either of which wins over NO_COLOR).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people, on stderr.
    Text,
    /// One JSON document on stdout (docs/diagnostics-json.md; for `plan`, the plan's JSON).
    Json,
    /// GitHub Actions annotations (workflow commands) on stdout.
    Github,
    /// A SARIF 2.1.0 log on stdout, for code scanning.
    Sarif,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and check a stack without reading any state.
    Validate(StackArgs),
    /// Show the changes `apply` would make to reach the stack from the recorded state.
    Plan(plan::PlanArgs),
    /// Print a plan saved with `plan --out FILE`, as `plan` printed it, without reading the stack.
    Show(show::ShowArgs),
    /// Draw the network a change lands in, each resource marked with what the plan does to it.
    Graph(graph::GraphArgs),
    /// Carry out the plan: create, update and delete resources, recording the state as it goes.
    Apply(apply::ApplyArgs),
    /// Delete every resource the state records (or the --target ones).
    Destroy(apply::ApplyArgs),
    /// Rewrite .aks files in the one canonical layout (comments kept).
    Fmt(fmt::FmtArgs),
    /// Explain a diagnostic code (or list them all).
    Explain(explain::ExplainArgs),
    /// Read or edit the recorded state.
    State(state::StateArgs),
    /// Bring a resource that exists under a block of the stack: read it and record it,
    /// changing nothing in it.
    Import(import::ImportArgs),
    /// Write a stack from a running AKS cluster (its network, public IPs, DNS zones,
    /// namespaces, Services and Ingresses), with an import block for each resource.
    Generate(generate::GenerateArgs),
}

/// Flags shared by the commands that load a stack.
#[derive(Debug, Args)]
pub struct StackArgs {
    /// The stack folder (every .aks file in it), or one of its files.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Set a variable: --var name=value (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variables from a file of `name = value` lines (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// Diagnostics for people (text), for machines (json), as GitHub Actions annotations
    /// (github) or as a SARIF log for code scanning (sarif); docs/ci.md.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

impl StackArgs {
    pub fn options(&self, allow_replace: Vec<Address>) -> loading::Options {
        loading::Options {
            var_files: self.var_files.clone(),
            vars: self.vars.clone(),
            allow_replace,
            recorded_vars: None,
            existing: Default::default(),
        }
    }

    /// Whether variables were given, in vars files or with `--var`.
    pub fn gives_variables(&self) -> bool {
        !self.vars.is_empty() || !self.var_files.is_empty()
    }

    /// Loads and checks the stack; on an error it is printed and the exit code comes back.
    pub fn load_checked(&self, allow_replace: &[Address], out: &output::Output) -> Result<loading::Loaded, u8> {
        self.load_with(&self.options(allow_replace.to_vec()), out)
    }

    /// Loads the stack for carrying out (or drawing) a saved plan: with the variables the plan
    /// records, unless `--var` or `--var-file` give values, which must then be the plan's.
    pub fn load_for_plan(
        &self,
        allow_replace: &[Address],
        saved: Option<(&Path, &SavedPlan)>,
        out: &output::Output,
    ) -> Result<(loading::Loaded, loading::Options), u8> {
        let mut options = self.options(allow_replace.to_vec());
        if let Some((path, saved)) = saved
            && !self.gives_variables()
            && !saved.variables.is_empty()
        {
            options.recorded_vars =
                Some((format!("<variables of {}>", path.display()), loading::vars_file_text(&saved.variables)));
        }
        let loaded = self.load_with(&options, out)?;
        if let Some((path, saved)) = saved
            && self.gives_variables()
            && let Some(differences) = variable_differences(&saved.variables, &loaded.variables)
        {
            out.error(&format!(
                "{}: the plan was made with other variable values ({differences})\nhint: drop --var and --var-file to \
                 use the values the plan records, or run `aksform plan` again",
                path.display()
            ));
            return Err(1);
        }
        Ok((loaded, options))
    }

    pub(super) fn load_with(&self, options: &loading::Options, out: &output::Output) -> Result<loading::Loaded, u8> {
        let env = |name: &str| std::env::var(name).ok();
        let loaded = loading::load(&self.path, options, &env).map_err(|e| {
            out.error(&e.to_string());
            1
        })?;
        if loaded.diagnostics.has_errors() {
            out.diagnostics(&loaded.diagnostics.0, &loaded.sources, self.format);
            return Err(1);
        }
        Ok(loaded)
    }
}

/// The runtime an apply or an import talks to the providers on; on failure the error is
/// printed and the exit code comes back.
fn runtime(out: &output::Output) -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| {
        out.error(&format!("cannot start the runtime: {e}"));
        1
    })
}

/// The variables whose values differ between a saved plan and this run, or `None`.
fn variable_differences(planned: &BTreeMap<String, String>, given: &BTreeMap<String, String>) -> Option<String> {
    let names: BTreeSet<&String> = planned.keys().chain(given.keys()).collect();
    let differences: Vec<String> = names
        .into_iter()
        .filter_map(|name| match (planned.get(name), given.get(name)) {
            (Some(a), Some(b)) if a == b => None,
            (Some(a), Some(b)) => Some(format!("`{name}` is {a} in the plan and {b} here")),
            (Some(a), None) => Some(format!("`{name}` is {a} in the plan and not given here")),
            (None, Some(b)) => Some(format!("`{name}` is not in the plan and {b} here")),
            (None, None) => None,
        })
        .collect();
    (!differences.is_empty()).then(|| differences.join("; "))
}

/// Exit codes: 0 success (no changes), 1 error, 2 success with changes (`--detailed-exitcode`).
/// A usage error exits 1 too: 2 is kept for "changes", which a pipeline acts on.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(usage_exit_code(error.kind()));
        }
    };
    let out = output::Output::new(cli.color);
    let code = match cli.command {
        Command::Validate(args) => validate::run(&args, &out),
        Command::State(args) => state::run(&args, &out),
        Command::Import(args) => import::run(&args, &out),
        Command::Generate(args) => generate::run(&args, &out),
        Command::Fmt(args) => fmt::run(&args, &out),
        Command::Plan(args) => plan::run(&args, &out),
        Command::Show(args) => show::run(&args, &out),
        Command::Graph(args) => graph::run(&args, &out),
        Command::Apply(args) => apply::run_apply(&args, &out),
        Command::Destroy(args) => apply::run_destroy(&args, &out),
        Command::Explain(args) => explain::run(&args, &out),
    };
    ExitCode::from(code)
}

/// Help and the version are what was asked for; every other parse error is an error.
fn usage_exit_code(kind: clap::error::ErrorKind) -> u8 {
    use clap::error::ErrorKind;
    match kind {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
        _ => 1,
    }
}
