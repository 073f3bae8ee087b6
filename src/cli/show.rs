//! `aksform show PLANFILE`: a saved plan as text, JSON or Markdown, exactly as `aksform plan`
//! printed it, without reading the stack or the state or contacting anything.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::output::Output;
use crate::plan::render::{json, markdown, mermaid, text};
use crate::plan::{PlanFileError, SavedPlan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan saved by `aksform plan --out FILE`.
    #[arg(value_name = "PLANFILE")]
    plan: PathBuf,
    /// Text for people, JSON for machines (docs/plan-json.md), Markdown for a pull-request comment.
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    format: ShowFormat,
}

/// A saved plan that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadPlanError {
    #[error("cannot read the plan {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}\nhint: make a plan file with `aksform plan --out FILE`", path.display())]
    Load { path: PathBuf, source: PlanFileError },
}

/// Reads a plan file written by `aksform plan --out`.
pub fn read_saved_plan(path: &Path) -> Result<SavedPlan, ReadPlanError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ReadPlanError::Read { path: path.to_path_buf(), source })?;
    SavedPlan::from_json(&text).map_err(|source| ReadPlanError::Load { path: path.to_path_buf(), source })
}

pub fn run(args: &ShowArgs, out: &Output) -> u8 {
    let saved = match read_saved_plan(&args.plan) {
        Ok(saved) => saved,
        Err(e) => {
            out.error(&e.to_string());
            return 1;
        }
    };
    let rendered = match args.format {
        ShowFormat::Text => {
            text::render_drift(&saved.drift)
                + &text::render(&saved.plan, &text::TextOptions { color: out.color_stdout })
        }
        ShowFormat::Json => match json::render_with_drift(&saved.plan, &saved.drift) {
            Ok(rendered) => rendered,
            Err(e) => {
                out.error(&format!("cannot render the plan: {e}"));
                return 1;
            }
        },
        ShowFormat::Markdown => {
            let diagram = saved.picture.as_ref().map(mermaid::render);
            markdown::render(&saved.plan, &saved.drift, &super::plan::markdown_options(&saved.stack, diagram))
        }
    };
    super::output::stdout(&super::plan::with_final_newline(rendered));
    0
}
