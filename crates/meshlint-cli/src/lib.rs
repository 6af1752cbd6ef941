//! The meshlint command line as a library: the `check` pipeline (discover → load →
//! model → graph → rules → findings) and the other subcommands, so integration tests,
//! the conformance suite and benchmarks drive exactly what users run.

pub mod pipeline;

pub use pipeline::{run_check, CheckOptions, CheckResult, StageTimings};
