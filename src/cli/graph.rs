//! `aksform graph`: the network a change lands in, as Mermaid or DOT, from the stack and its
//! recorded state, and either a new plan (made offline) or a saved one.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::backend::{StateLocationArgs, open_backend};
use super::existing::Reading;
use super::output::Output;
use super::providers::ProviderArgs;
use super::{Format, StackArgs};
use crate::plan;
use crate::plan::render::{dot, mermaid, picture};
use crate::state::State;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart (GitHub draws it in Markdown).
    Mermaid,
    /// Graphviz's DOT (`| dot -Tsvg > plan.svg`).
    Dot,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The stack folder (every .aks file in it), or one of its files.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Set a variable: --var name=value (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Read variables from a file of `name = value` lines (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    /// The diagram language.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    format: GraphFormat,
    /// Mark what this saved plan (from `plan --out FILE`) does, rather than planning anew.
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    #[command(flatten)]
    location: StateLocationArgs,
    #[command(flatten)]
    providers: ProviderArgs,
}

pub fn run(args: &GraphArgs, out: &Output) -> u8 {
    let stack = StackArgs {
        path: args.path.clone(),
        vars: args.vars.clone(),
        var_files: args.var_files.clone(),
        format: Format::Text,
    };
    let saved = match args.plan.as_deref().map(super::show::read_saved_plan).transpose() {
        Ok(saved) => saved,
        Err(e) => {
            out.error(&e.to_string());
            return 1;
        }
    };
    let (loaded, options) = match stack.load_for_plan(&[], args.plan.as_deref().zip(saved.as_ref()), out) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let backend = match open_backend(&args.location, &loaded, args.providers.access(), out) {
        Ok(backend) => backend,
        Err(code) => return code,
    };
    let recorded = match backend.read() {
        Ok(recorded) => recorded,
        Err(e) => {
            out.error(&e.to_string());
            return 1;
        }
    };
    if let Err(message) = super::plan::check_state_is_the_stacks(backend.as_ref(), recorded.as_ref(), &loaded) {
        out.error(&message);
        return 1;
    }
    // Offline, as the rest of the drawing: existing resources as last read.
    let loaded = match super::existing::load_with_existing(
        &stack,
        options,
        loaded,
        recorded.as_ref(),
        Reading::RecordedIfAny,
        &args.providers,
        out,
    ) {
        Ok(with) => with.loaded,
        Err(code) => return code,
    };
    let desired = loaded.stack.resources();
    let plan = match (&args.plan, saved) {
        (Some(path), Some(saved)) => {
            if saved.stack != loaded.stack.name {
                out.error(&format!(
                    "{} is a plan for the stack `{}`, not `{}`\nhint: pass the stack the plan was made for, or make a new plan",
                    path.display(),
                    saved.stack,
                    loaded.stack.name
                ));
                return 1;
            }
            if let Err(stale) = saved.check_current(&loaded.stack.name, recorded.as_ref(), &loaded.config_hash) {
                eprintln!("note: {}: {stale}; the diagram marks what the plan would have done", path.display());
            }
            saved.plan
        }
        _ => {
            let empty = State::new(&loaded.stack.name);
            match plan::plan(&desired, recorded.as_ref().unwrap_or(&empty)) {
                Ok(planned) if !planned.diagnostics.has_errors() => planned.plan,
                Ok(planned) => {
                    out.diagnostics(&planned.diagnostics.0, &loaded.sources, Format::Text);
                    return 1;
                }
                Err(e) => {
                    out.diagnostics(&[e.to_diagnostic(&desired)], &loaded.sources, Format::Text);
                    return 1;
                }
            }
        }
    };
    let picture = picture::picture(&desired, recorded.as_ref(), &plan);
    let rendered = match args.format {
        GraphFormat::Mermaid => mermaid::render(&picture),
        GraphFormat::Dot => dot::render(&picture),
    };
    super::output::stdout(&rendered);
    0
}
