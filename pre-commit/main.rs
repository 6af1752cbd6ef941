//! `meshlint-pre-commit`: meshlint as pre-commit's `language: rust` builds it.
//!
//! pre-commit installs a Rust hook with `cargo install --path .` at the root of the
//! hook's repository, which must therefore be a package; the workspace root is this
//! package, whose only binary is the `meshlint` command line under its own name (a
//! second binary called `meshlint` would collide with meshlint-cli's in the workspace's
//! target directory). `.pre-commit-hooks.yaml` runs it.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
meshlint_cli::run_before_main!();

fn main() -> std::process::ExitCode {
    meshlint_cli::cli::main()
}
