//! The `meshlint` binary. Everything lives in the library ([`meshlint_cli::cli`]) so
//! tests drive exactly what users run.

fn main() -> std::process::ExitCode {
    meshlint_cli::cli::main()
}
