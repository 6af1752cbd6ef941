//! The `meshlint` binary. Everything lives in the library ([`meshlint_cli::cli`]) so
//! tests drive exactly what users run.

/// The loader allocates one small node per YAML scalar; mimalloc makes that markedly
/// cheaper than the system allocator (measured in docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    meshlint_cli::cli::main()
}
