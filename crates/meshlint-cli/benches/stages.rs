//! Stage-by-stage benchmarks of the check pipeline on a generated corpus.
//!
//! Generate the corpora first (see docs/performance.md), e.g.
//! `cargo run --release -p meshlint-corpus -- --namespaces 2000 --out bench-out/corpus-2000`,
//! then `cargo bench -p meshlint-cli --bench stages`. `MESHLINT_BENCH_CORPUS` picks the
//! directory (default `bench-out/corpus-2000` at the workspace root).

use meshlint_diag::Summary;
use meshlint_discover::{discover, DiscoverOptions, Input};
use meshlint_graph::MeshGraph;
use meshlint_load::{load_source, LoadLimits, LoadedFile};
use meshlint_model::{take_resources, MeshConfig, Resource};
use meshlint_report::{render, Format, HumanOptions, ReportInput};
use meshlint_rules::RuleSet;
use rayon::prelude::*;
use std::sync::Arc;

fn corpus() -> String {
    std::env::var("MESHLINT_BENCH_CORPUS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench-out/corpus-2000").to_string()
    })
}

fn inputs() -> Vec<Input> {
    let opts = DiscoverOptions {
        respect_gitignore: true,
        ..DiscoverOptions::default()
    };
    discover(&[corpus()], &opts).expect("corpus exists: see the module docs")
}

fn read(inputs: &[Input]) -> Vec<(Arc<str>, Vec<u8>)> {
    inputs
        .iter()
        .filter_map(|i| match i {
            Input::File { path, display } => {
                Some((display.as_str().into(), std::fs::read(path).ok()?))
            }
            Input::Stdin | Input::Unreadable { .. } => None,
        })
        .collect()
}

fn load(files: &[(Arc<str>, Vec<u8>)]) -> Vec<(LoadedFile, Vec<Resource>)> {
    files
        .par_iter()
        .map(|(name, bytes)| {
            let mut f = load_source(name.clone(), bytes.clone(), &LoadLimits::default());
            let set = take_resources(&mut f);
            (f, set.resources)
        })
        .collect()
}

fn graph(loaded: Vec<(LoadedFile, Vec<Resource>)>) -> Arc<MeshGraph> {
    let resources: Vec<Resource> = loaded.into_iter().flat_map(|(_, r)| r).collect();
    Arc::new(MeshGraph::new(resources, MeshConfig::default(), false))
}

fn main() {
    divan::main();
}

#[divan::bench(sample_count = 10)]
fn discover_stage(b: divan::Bencher) {
    b.bench(inputs);
}

#[divan::bench(sample_count = 10)]
fn load_and_model_stage(b: divan::Bencher) {
    let files = read(&inputs());
    b.bench(|| load(&files));
}

#[divan::bench(sample_count = 10)]
fn graph_stage(b: divan::Bencher) {
    let files = read(&inputs());
    b.with_inputs(|| load(&files)).bench_values(graph);
}

#[divan::bench(sample_count = 10)]
fn rules_stage(b: divan::Bencher) {
    let files = read(&inputs());
    let g = graph(load(&files));
    let rules = RuleSet::builtin().unwrap();
    b.bench(|| meshlint_rules::evaluate(&rules.rules, g.clone()));
}

#[divan::bench(sample_count = 10)]
fn report_stage(b: divan::Bencher) {
    let files = read(&inputs());
    let loaded = load(&files);
    let sources = loaded
        .iter()
        .map(|(f, _)| (f.source.name.clone(), f.source.clone()))
        .collect();
    let g = graph(loaded);
    let rules = RuleSet::builtin().unwrap();
    let eval = meshlint_rules::evaluate(&rules.rules, g.clone());
    let infos = rules.infos();
    b.bench(|| {
        let mut out = Vec::new();
        let input = ReportInput {
            findings: &eval.findings,
            sources: &sources,
            rules: &infos,
            summary: Summary::default(),
            tool_version: "bench",
            fail_threshold: Some(meshlint_diag::Severity::Info),
        };
        render(Format::Json, &input, &HumanOptions::default(), &mut out).unwrap();
        out
    });
}
