//! Times the graph and rules stages alone, several times over one load of a corpus:
//! `cargo run --release -p meshlint-cli --example graph_rules_cpu -- DIR [RUNS]`.
//! With `RAYON_NUM_THREADS=1` the times are CPU times, which other processes on a
//! shared machine disturb far less than the wall clock of a parallel run.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
meshlint_cli::run_before_main!();

use meshlint_cli::pipeline::{load_mesh, CheckOptions};
use meshlint_graph::MeshGraph;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(64 << 20)
        .build_global();
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("corpus directory");
    let runs: usize = args.next().map_or(5, |n| n.parse().expect("runs"));
    let opts = CheckOptions {
        paths: vec![dir],
        respect_gitignore: true,
        ..CheckOptions::default()
    };
    let loaded = load_mesh(&opts).expect("load");
    let resources = loaded.graph.resources.to_vec();
    let mesh = loaded.graph.mesh.clone();
    drop(loaded);
    let rules = meshlint_rules::RuleSet::builtin().expect("rules");
    let (mut graph_ms, mut rules_ms) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let copy = resources.clone();
        let started = Instant::now();
        let g = Arc::new(MeshGraph::new(copy, mesh.clone(), false));
        graph_ms.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        let eval = meshlint_rules::evaluate(&rules.rules, g.clone());
        rules_ms.push(started.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(eval.findings.len());
    }
    let show = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        format!("min {:.1} median {:.1} ms", v[0], v[v.len() / 2])
    };
    println!(
        "graph {}  rules {}",
        show(&mut graph_ms),
        show(&mut rules_ms)
    );
}
