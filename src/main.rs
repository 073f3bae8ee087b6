//! The `aksform` binary.

fn main() -> std::process::ExitCode {
    aksform::cli::run()
}
