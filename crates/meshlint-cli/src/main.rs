//! The `meshlint` binary. Everything lives in the library ([`meshlint_cli::cli`]) so
//! tests drive exactly what users run.

/// The loader allocates one small node per YAML scalar; mimalloc makes that markedly
/// cheaper than the system allocator (measured in docs/performance.md). The
/// `system-allocator` feature leaves it out, so heaptrack (which watches malloc) sees
/// every allocation: `cargo build --release -p meshlint-cli --features system-allocator`.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
meshlint_cli::run_before_main!();

fn main() -> std::process::ExitCode {
    // Rule and CRD-rule evaluation recurse once per expression level (at most about a
    // thousand, which the CEL parser and evaluator enforce); give the workers room for
    // that even in debug builds. The stack is reserved, not committed.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(64 << 20)
        .build_global();
    meshlint_cli::cli::main()
}
