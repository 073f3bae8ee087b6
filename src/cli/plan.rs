//! `aksform plan`: load and check the stack, compare it with the recorded state, and print
//! the ordered changes as text, JSON or Markdown; optionally save the plan for `apply`.

use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};

use clap::Args;

use super::backend::{StateLocationArgs, no_state_note, open_backend};
use super::existing::Reading;
use super::output::Output;
use super::providers::{ProviderArgs, Providers};
use super::{Format, StackArgs};
use crate::model::Address;
use crate::plan::render::{json, markdown, mermaid, picture, text};
use crate::plan::{self, SavedPlan};
use crate::refresh;
use crate::state::State;

/// A plan that was made but could not be shown or saved.
#[derive(Debug, thiserror::Error)]
enum PlanCommandError {
    #[error("cannot render the plan: {0}")]
    Render(#[source] serde_json::Error),
    #[error("cannot save the plan to {}: {source}", path.display())]
    Encode { path: PathBuf, source: serde_json::Error },
    #[error("cannot save the plan to {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    location: StateLocationArgs,
    /// Print the plan as JSON (schema in docs/plan-json.md); the same as `--format json`.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print the plan as Markdown for a pull-request comment.
    #[arg(long)]
    markdown: bool,
    /// Save the plan, tied to this state and configuration, for `aksform apply FILE`.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Allow this resource to be replaced even where the stack does not (repeatable).
    #[arg(long, value_name = "ADDRESS")]
    allow_replace: Vec<Address>,
    /// Allow this cluster, whose block was removed, to be destroyed (repeatable).
    #[arg(long, value_name = "ADDRESS")]
    allow_destroy: Vec<Address>,
    /// Only these resources: an address (with its children) or a kind such as `service` (repeatable).
    #[arg(long, value_name = "ADDRESS|KIND")]
    target: Vec<String>,
    /// Read the live objects first and plan against them (`--refresh=false` plans offline).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    refresh: bool,
    #[command(flatten)]
    providers: ProviderArgs,
}

/// How the plan itself is printed; `--format` says how the diagnostics are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlanFormat {
    Text,
    Json,
    Markdown,
}

impl PlanArgs {
    /// The plan's form, or a usage error for flags that would put two documents on stdout.
    fn plan_format(&self) -> Result<PlanFormat, String> {
        let format = self.stack.format;
        match (format, self.json, self.markdown) {
            (Format::Json, _, true) => Err("--format json prints the plan as JSON; it cannot be --markdown too".into()),
            (Format::Github | Format::Sarif, true, _) | (Format::Github | Format::Sarif, _, true) => Err(format!(
                "--format {} puts the diagnostics on stdout, where --json and --markdown put the plan: \
                 run `aksform plan` once for each, or save the plan with --out FILE",
                if format == Format::Sarif { "sarif" } else { "github" }
            )),
            (Format::Json, _, _) | (_, true, _) => Ok(PlanFormat::Json),
            (_, _, true) => Ok(PlanFormat::Markdown),
            _ => Ok(PlanFormat::Text),
        }
    }

    /// The command that applies the plan saved to `path`: the same stack and state (the plan
    /// records the variables).
    fn apply_command(&self, path: &Path) -> String {
        let mut words: Vec<String> = vec!["aksform".into(), "apply".into()];
        words.push(self.stack.path.display().to_string());
        words.extend(["--plan".into(), path.display().to_string()]);
        let location = &self.location;
        let flags = [
            ("--state", location.state.as_ref().map(|p| p.display().to_string())),
            ("--state-blob-account", location.state_blob_account.clone()),
            ("--state-blob-container", location.state_blob_container.clone()),
            ("--state-blob-key", location.state_blob_key.clone()),
            ("--state-blob-endpoint", location.state_blob_endpoint.clone()),
        ];
        for (flag, value) in flags {
            if let Some(value) = value {
                words.extend([flag.to_string(), value]);
            }
        }
        words.iter().map(|w| shell_word(w)).collect::<Vec<_>>().join(" ")
    }
}

/// A word as a POSIX shell reads it back: as it is when it has nothing special, else quoted.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', "'\\''")) }
}

pub fn run(args: &PlanArgs, out: &Output) -> u8 {
    let plan_format = match args.plan_format() {
        Ok(format) => format,
        Err(message) => {
            out.error(&message);
            return 1;
        }
    };
    let json_plan = plan_format == PlanFormat::Json;
    // The process ends once the plan is printed, and the system takes its memory back at
    // once: the stack, the state and the plan (tens of thousands of maps in a large stack)
    // are not dropped one allocation at a time.
    let loaded = match args.stack.load_checked(&args.allow_replace, out) {
        Ok(loaded) => ManuallyDrop::new(loaded),
        Err(code) => return code,
    };
    // A plan is a dry run: it takes no lock and writes nothing, and needs only read access to
    // the state. What it read (serial and lineage) goes into a saved plan, so that applying
    // it after the state moved on is refused.
    let backend = match open_backend(&args.location, &loaded, args.providers.access(), out) {
        Ok(backend) => backend,
        Err(code) => return code,
    };
    let recorded = match backend.read() {
        Ok(recorded) => ManuallyDrop::new(recorded),
        Err(e) => {
            out.error(&e.to_string());
            return 1;
        }
    };
    if recorded.is_none() {
        eprintln!("{}", no_state_note(backend.as_ref(), &loaded));
    }
    if let Err(message) = check_state_is_the_stacks(backend.as_ref(), recorded.as_ref(), &loaded) {
        out.error(&message);
        return 1;
    }
    let options = args.stack.options(args.allow_replace.clone());
    let loaded = match super::existing::load_with_existing(
        &args.stack,
        options,
        ManuallyDrop::into_inner(loaded),
        recorded.as_ref(),
        if args.refresh { Reading::Live } else { Reading::Recorded },
        &args.providers,
        out,
    ) {
        Ok(with) => ManuallyDrop::new(with.loaded),
        Err(code) => return code,
    };
    let empty = State::new(&loaded.stack.name);
    // The `import` blocks not yet carried out are planned from the resources as read.
    let pending = match super::import::pending(&loaded, recorded.as_ref()) {
        Ok(pending) => pending,
        Err(errors) => {
            out.diagnostics(&errors, &loaded.sources, args.stack.format);
            return 1;
        }
    };
    let with_imports = pending.recorded_in(recorded.as_ref(), &loaded.stack.name);
    let base = with_imports.as_ref().or(recorded.as_ref());
    let mut live = None;
    let mut drift = Vec::new();
    if let (true, Some(state)) = (args.refresh, base) {
        let desired = loaded.stack.resources();
        let connect = || Providers::new(&args.providers, loaded.stack.subscription.clone(), &desired, Some(state));
        match refresh::refresh(state, connect) {
            Ok(refreshed) => {
                for error in &refreshed.errors {
                    out.error(&format!("cannot read {error}"));
                }
                if !refreshed.errors.is_empty() {
                    eprintln!("hint: pass --refresh=false to plan against the state as recorded, without reading live");
                    return 1;
                }
                if refreshed.not_refreshed > 0 && !json_plan {
                    eprintln!(
                        "note: {} recorded resources are planned against the state as recorded: no credentials to read them live \
                         (sign in to Azure or pass --kubeconfig for their cluster; --refresh=false plans offline)",
                        refreshed.not_refreshed
                    );
                    for note in &refreshed.notes {
                        eprintln!("note: {note}");
                    }
                }
                let missing = pending.missing(&loaded, &refreshed.state);
                if !missing.is_empty() {
                    out.diagnostics(&missing, &loaded.sources, args.stack.format);
                    return 1;
                }
                drift = refreshed.drift;
                // What is imported is not yet the stack's: nothing of it changed outside aksform.
                drift.retain(|d| !pending.addresses.contains(&d.address));
                live = Some(refreshed.state);
            }
            Err(e) => {
                out.error(&e.to_string());
                return 1;
            }
        }
    }
    let live = ManuallyDrop::new(live);
    let mut desired = ManuallyDrop::new(loaded.stack.resources());
    if !args.refresh && !pending.addresses.is_empty() && !json_plan {
        eprintln!(
            "note: {} imports are planned without reading the resources (--refresh=false): the differences between \
             them and their blocks show in a plan that reads them",
            pending.addresses.len()
        );
    }
    let against = live.as_ref().or(base).unwrap_or(&empty);
    let subscription = loaded.stack.subscription.clone();
    let withheld = match super::grants::check(&args.providers, subscription, &mut desired, against, args.refresh, out) {
        Ok(withheld) => withheld,
        Err(code) => return code,
    };
    if !json_plan {
        for note in &withheld.notes {
            eprintln!("note: {note}");
        }
    }
    let planned = match plan::plan_taking_importing(&mut desired, against, &pending.addresses) {
        Ok(planned) => ManuallyDrop::new(planned),
        Err(e) => {
            out.diagnostics(&[e.to_diagnostic(&desired)], &loaded.sources, args.stack.format);
            return 1;
        }
    };
    let grant_commands = withheld.commands_text();
    let mut diagnostics = loaded.diagnostics.0.clone();
    diagnostics.extend(withheld.diagnostics);
    diagnostics.extend(planned.diagnostics.iter().cloned());
    if planned.diagnostics.has_errors() {
        out.diagnostics(&diagnostics, &loaded.sources, args.stack.format);
        return 1;
    }
    // Warnings go to stderr as text with a text, JSON or Markdown plan, so stdout holds
    // exactly one document; GitHub annotations come before the plan, and a SARIF log is
    // stdout's document, the plan going to stderr.
    let diagnostics_format = match args.stack.format {
        Format::Text | Format::Json => Format::Text,
        other => other,
    };
    out.diagnostics(&diagnostics, &loaded.sources, diagnostics_format);
    eprint!("{grant_commands}");
    let targeted = match super::target::narrowed(&planned.plan, &args.target, &desired, recorded.as_ref(), out) {
        Ok(narrowed) => ManuallyDrop::new(narrowed),
        Err(code) => return code,
    };
    let plan = targeted.as_ref().unwrap_or(&planned.plan);
    let unrequested = plan::unrequested_cluster_destroys(plan, &args.allow_destroy, loaded.stack.span);
    if unrequested.has_errors() {
        out.diagnostics(&unrequested.0, &loaded.sources, args.stack.format);
        return 1;
    }
    let plan_on_stderr = args.stack.format == Format::Sarif;
    // The network the plan lands in, for the comment's diagram and the saved plan.
    let draw = || picture::picture(&desired, live.as_ref().or(recorded.as_ref()), plan);
    let mut picture = None;
    let rendered = match plan_format {
        PlanFormat::Json => match json::render_with_drift(plan, &drift) {
            Ok(rendered) => rendered,
            Err(e) => {
                out.error(&PlanCommandError::Render(e).to_string());
                return 1;
            }
        },
        PlanFormat::Markdown => {
            let diagram = mermaid::render(picture.get_or_insert_with(draw));
            markdown::render(plan, &drift, &markdown_options(&loaded.stack.name, Some(diagram)))
        }
        PlanFormat::Text => {
            let color = if plan_on_stderr { out.color_stderr } else { out.color_stdout };
            text::render_drift(&drift) + &text::render(plan, &text::TextOptions { color })
        }
    };
    let rendered = with_final_newline(rendered);
    if plan_on_stderr {
        eprint!("{rendered}");
    } else {
        super::output::stdout(&rendered);
    }
    if let Some(path) = &args.out {
        let has_changes = plan.has_changes();
        let mut saved =
            SavedPlan::new(plan.clone(), loaded.stack.name.clone(), recorded.as_ref(), loaded.config_hash.clone());
        saved.variables = loaded.variables.clone();
        saved.drift = drift;
        saved.picture = Some(picture.unwrap_or_else(draw));
        if let Err(e) = save(&saved, path) {
            out.error(&e.to_string());
            return 1;
        }
        if !json_plan {
            eprintln!(
                "Saved the plan to {}; `{}` carries out exactly this plan.",
                path.display(),
                args.apply_command(path)
            );
        }
        return if args.detailed_exitcode && has_changes { 2 } else { 0 };
    }
    if args.detailed_exitcode && plan.has_changes() { 2 } else { 0 }
}

/// Refuses a state recorded for another stack than the loaded one.
pub(super) fn check_state_is_the_stacks(
    backend: &dyn crate::state::Backend,
    recorded: Option<&State>,
    loaded: &crate::loading::Loaded,
) -> Result<(), String> {
    match recorded {
        Some(state) if state.stack != loaded.stack.name => Err(format!(
            "{} records the stack \"{}\", not \"{}\": pass --state for this stack's state",
            backend.describe(),
            state.stack,
            loaded.stack.name
        )),
        _ => Ok(()),
    }
}

/// The pull-request comment of a plan of `stack`, as `plan` and `show` print it.
pub(super) fn markdown_options(stack: &str, diagram: Option<String>) -> markdown::MarkdownOptions {
    markdown::MarkdownOptions {
        title: format!("aksform plan for `{stack}`"),
        stack: stack.to_string(),
        diagram,
        ..Default::default()
    }
}

/// What is printed: the rendered text, ending with a newline.
pub(super) fn with_final_newline(mut rendered: String) -> String {
    if !rendered.ends_with('\n') {
        rendered.push('\n');
    }
    rendered
}

/// Writes the plan file for `aksform apply FILE`.
fn save(saved: &SavedPlan, path: &Path) -> Result<(), PlanCommandError> {
    let json = saved.to_json().map_err(|source| PlanCommandError::Encode { path: path.to_path_buf(), source })?;
    std::fs::write(path, json).map_err(|source| PlanCommandError::Write { path: path.to_path_buf(), source })
}
