//! Where output goes and how it looks: colour decided once from the flag, the terminal and
//! NO_COLOR; diagnostics rendered for people or machines.

use std::io::{IsTerminal, Write};

use super::{ColorChoice, Format};
use crate::check;
use crate::diag::{Diagnostic, RenderOptions, SourceMap, render_github, render_json, render_sarif, render_terminal};

/// Writes to stdout. A reader that went away (`aksform plan | head`) ends the program quietly
/// with the status a shell gives a process stopped by SIGPIPE, rather than a panic.
pub fn stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}

pub struct Output {
    /// Colour for stdout (plans).
    pub color_stdout: bool,
    pub color_stderr: bool,
}

impl Output {
    pub fn new(choice: ColorChoice) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let decide = |terminal: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && !no_color,
        };
        Output {
            color_stdout: decide(std::io::stdout().is_terminal()),
            color_stderr: decide(std::io::stderr().is_terminal()),
        }
    }

    /// Prints diagnostics: text to stderr; JSON, SARIF or GitHub annotations to stdout.
    pub fn diagnostics(&self, diagnostics: &[Diagnostic], sources: &SourceMap, format: Format) {
        match format {
            Format::Json => {
                let json = render_json(diagnostics, sources);
                stdout(&format!("{}\n", serde_json::to_string_pretty(&json).unwrap_or_default()));
            }
            Format::Sarif => {
                let log = render_sarif(diagnostics, sources, &check::documentation);
                stdout(&format!("{}\n", serde_json::to_string_pretty(&log).unwrap_or_default()));
            }
            Format::Github => stdout(&render_github(diagnostics, sources)),
            Format::Text => {
                if diagnostics.is_empty() {
                    return;
                }
                let options = RenderOptions { color: self.color_stderr, ..RenderOptions::default() };
                let text = render_terminal(diagnostics, sources, options);
                let _ = std::io::stderr().write_all(text.as_bytes());
            }
        }
    }

    /// An error that is not about the configuration (I/O, state, flags).
    pub fn error(&self, message: &str) {
        eprintln!("error: {message}");
    }
}
