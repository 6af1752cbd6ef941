//! The `meshlint` binary. Everything lives in the library ([`meshlint_cli::cli`]) so
//! tests drive exactly what users run.

/// The loader allocates one small node per YAML scalar; mimalloc makes that markedly
/// cheaper than the system allocator (measured in docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Rule and CRD-rule evaluation recurse once per expression level (at most about a
    // thousand, which the CEL parser and evaluator enforce); give the workers room for
    // that even in debug builds. The stack is reserved, not committed.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(64 << 20)
        .build_global();
    meshlint_cli::cli::main()
}
