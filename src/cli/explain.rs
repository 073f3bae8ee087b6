//! `aksform explain [CODE]`: the documentation of a diagnostic code, or the list of codes.

use clap::Args;

use super::output::Output;
use crate::check;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A diagnostic code such as AKS201; without one, every code is listed.
    code: Option<String>,
}

pub fn run(args: &ExplainArgs, out: &Output) -> u8 {
    let Some(code) = &args.code else {
        for (code, page) in check::OTHER_CODES {
            super::output::stdout(&format!("{code}  {}\n", check::page_title(page)));
        }
        for rule in check::rules() {
            super::output::stdout(&format!("{}  {} ({})\n", rule.code, rule.summary, rule.name));
        }
        return 0;
    };
    match check::explain(code) {
        Some(page) => {
            super::output::stdout(page);
            0
        }
        None => {
            let known: Vec<&str> =
                check::rules().iter().map(|r| r.code).chain(check::OTHER_CODES.iter().map(|(c, _)| *c)).collect();
            let hint = crate::diag::closest(&code.to_uppercase(), known)
                .map_or(String::new(), |c| format!(" (did you mean {c}?)"));
            out.error(&format!("no such code `{code}`{hint}; `aksform explain` lists them all"));
            1
        }
    }
}
