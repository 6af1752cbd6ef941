//! The meshlint command line as a library: the `check` pipeline (discover → load →
//! model → graph → rules → suppressions → baseline → findings), the configuration file,
//! the graph view and the other subcommands, so integration tests, the conformance suite
//! and benchmarks drive exactly what users run.
// Memory-unsafe code is confined to the modules allowed it below (docs/hardening.md).
#![deny(unsafe_code)]

#[allow(unsafe_code)]
pub mod allocator;
pub mod baseline;
pub mod charts;
pub mod cli;
pub mod config;
pub mod graph_view;
pub mod kustomize;
pub mod pipeline;
pub mod rendered;
pub mod server;
pub use meshlint_load::spanned;
pub mod suppress;
pub mod texts;
pub mod trace;

pub use pipeline::{load_mesh, run_check, CheckOptions, CheckResult, LoadedMesh, StageTimings};
