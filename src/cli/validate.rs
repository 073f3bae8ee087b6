//! `aksform validate`: parse, resolve and check a stack; no state is read.

use super::output::Output;
use super::{Format, StackArgs};
use crate::loading;

pub fn run(args: &StackArgs, out: &Output) -> u8 {
    let loaded = match loading::load(&args.path, &args.options(Vec::new()), &|name| std::env::var(name).ok()) {
        Ok(loaded) => loaded,
        Err(e) => {
            out.error(&e.to_string());
            return 1;
        }
    };
    out.diagnostics(&loaded.diagnostics.0, &loaded.sources, args.format);
    if loaded.diagnostics.has_errors() {
        return 1;
    }
    if args.format == Format::Text {
        let count = loaded.stack.resources().len();
        super::output::stdout(&format!("The stack \"{}\" is valid: {count} resources.\n", loaded.stack.name));
        let unread = loaded.existing.unread.len();
        if unread > 0 {
            eprintln!(
                "note: {unread} existing resources are not read by validate: the checks that need their values (a \
                 subnet's size, an address space) run at plan"
            );
        }
    }
    0
}
