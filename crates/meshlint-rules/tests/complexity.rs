//! Complexity test (issue 17): every built-in rule does at most linear work in its
//! input, on every mesh shape. Not a timing test: the work is counted
//! ([`meshlint_diag::work`]: elements the graph's indexes hand out, candidates a
//! suggestion compares, CEL steps), per rule, on the corpora of sizes N and 4N, and
//! must grow at most [`GROWTH_LIMIT`] times.
//!
//! The test prints every rule whose work grew more than 4.2x (4 is linear), so a failure says which
//! rule on which shape; `cargo test -p meshlint-rules --test complexity -- --nocapture`
//! prints the table on success too.

use meshlint_corpus::gen::{self, OutFile};
use meshlint_corpus::shapes::Shape;
use meshlint_graph::MeshGraph;
use meshlint_load::{load_source, LoadLimits};
use meshlint_model::{build_resources, MeshConfig};
use meshlint_rules::{evaluate, RuleSet};
use std::collections::BTreeMap;
use std::sync::Arc;

/// 4x the input may cost at most this much more work (4 is linear; the rest is slack
/// for what does not scale exactly, like planted mistakes).
const GROWTH_LIMIT: f64 = 4.5;

/// Rules known to grow faster than their input, with the shape they do it on and why.
/// Remove an entry when its rule answers from an index (the test says when an entry
/// is no longer needed).
const SUPERLINEAR: &[(&str, &str, &str)] = &[];

/// Work below this many units per resource of the small corpus is too little to judge
/// (a rule that finds one planted mistake at N and five at 4N is not superlinear).
const FLOOR_PER_RESOURCE: u64 = 2;

struct Measured {
    resources: usize,
    work: BTreeMap<String, u64>,
}

/// Loads `files`, builds the graph and runs every built-in rule on one thread, and
/// returns the work each rule did.
fn measure(rules: &RuleSet, files: &[OutFile], mesh: &MeshConfig) -> Measured {
    let mut resources = Vec::new();
    for f in files {
        let loaded = load_source(
            Arc::from(f.rel_path.as_str()),
            f.content.as_bytes().to_vec(),
            &LoadLimits::default(),
        );
        assert!(
            loaded.findings.is_empty(),
            "{}: {:?}",
            f.rel_path,
            loaded.findings
        );
        resources.extend(build_resources(&loaded).resources);
    }
    let count = resources.len();
    let graph = Arc::new(MeshGraph::new(resources, mesh.clone(), false));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");
    let eval = pool.install(|| evaluate(&rules.rules, graph));
    assert!(eval.rule_errors.is_empty(), "{:?}", eval.rule_errors);
    let mut work: BTreeMap<String, u64> = eval.rule_work.into_iter().collect();
    // The indexes built before the rules ran must grow linearly too.
    work.insert("(graph indexes)".to_string(), eval.index_work);
    Measured {
        resources: count,
        work,
    }
}

fn realistic(namespaces: usize) -> Vec<OutFile> {
    let mut files = Vec::new();
    let cfg = gen::Config {
        seed: 42,
        namespaces,
    };
    gen::generate(&cfg, |f| {
        files.push(f);
        Ok(())
    })
    .expect("in memory");
    files
}

/// The corpora: name, files at N, files at 4N. Sizes are large enough for what grows
/// with rare coincidences to show (ServiceEntries of the realistic corpus sharing a port
/// grew 9.9x from 300 to 1,200 namespaces, but looked linear from 25 to 100);
/// `MESHLINT_COMPLEXITY_SCALE` multiplies them to look further (the test takes ~10 s in
/// a debug build at 1, ~40 s at 3).
///
/// The gen-mesh shape runs a second time with auto mTLS off, where the rules asking which
/// clients get no TLS setting (ML1002, ML4016) have work to do: every namespace is then a
/// client of every STRICT port.
fn corpora() -> Vec<(&'static str, Vec<OutFile>, Vec<OutFile>, MeshConfig)> {
    let scale: usize = std::env::var("MESHLINT_COMPLEXITY_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let default = MeshConfig::default();
    let mut out = vec![(
        "corpus",
        realistic(300 * scale),
        realistic(1200 * scale),
        default.clone(),
    )];
    for shape in Shape::ALL {
        let n = scale
            * match shape {
                Shape::OneNamespace => 200,
                _ => 100,
            };
        out.push((
            shape.name(),
            shape.files(n),
            shape.files(4 * n),
            default.clone(),
        ));
    }
    let no_auto_mtls = MeshConfig {
        enable_auto_mtls: false,
        ..MeshConfig::default()
    };
    let n = 100 * scale;
    out.push((
        "gen-mesh, no auto mTLS",
        Shape::GenMesh.files(n),
        Shape::GenMesh.files(4 * n),
        no_auto_mtls,
    ));
    out
}

#[test]
fn every_rule_grows_linearly_on_every_shape() {
    let rules = RuleSet::builtin().expect("built-in rules");
    let mut failures = Vec::new();
    let mut stale = Vec::new();
    println!(
        "{:<22} {:<8} {:>10} {:>10} {:>6}",
        "shape", "rule", "work N", "work 4N", "growth"
    );
    for (shape, small, large, mesh) in corpora() {
        let small = measure(&rules, &small, &mesh);
        let large = measure(&rules, &large, &mesh);
        let floor = FLOOR_PER_RESOURCE * small.resources as u64;
        for (rule, &at_n) in &small.work {
            let at_4n = large.work.get(rule).copied().unwrap_or(0);
            let growth = at_4n as f64 / at_n.max(floor).max(1) as f64;
            let allowed = SUPERLINEAR.iter().any(|(r, s, _)| r == rule && *s == shape);
            if growth > 4.2 || allowed {
                println!(
                    "{shape:<22} {rule:<8} {at_n:>10} {at_4n:>10} {growth:>5.1}x{}",
                    if allowed { " (allowed)" } else { "" }
                );
            }
            if growth > GROWTH_LIMIT && !allowed {
                failures.push(format!(
                    "{rule} on {shape}: {at_n} -> {at_4n} ({growth:.1}x)"
                ));
            }
            if growth <= GROWTH_LIMIT && allowed {
                stale.push(format!("{rule} on {shape} ({growth:.1}x)"));
            }
        }
    }
    if !stale.is_empty() {
        println!("now linear, remove from SUPERLINEAR: {}", stale.join(", "));
    }
    assert!(
        failures.is_empty(),
        "rules whose work grows faster than the input (limit {GROWTH_LIMIT}x for 4x):\n  {}",
        failures.join("\n  ")
    );
}

/// The shared benchmark script and [`Shape::GenMesh`] write the same bytes, so the
/// test's shape is the benchmark's. Skipped (with a note) without the script or Python.
#[test]
fn gen_mesh_shape_matches_the_shared_script() {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/gen_mesh.py");
    if !script.exists() {
        eprintln!("skipped: {} is not present", script.display());
        return;
    }
    let dir = std::env::temp_dir().join(format!("meshlint-gen-mesh-{}", std::process::id()));
    let status = std::process::Command::new("python3")
        .arg(&script)
        .arg("3")
        .arg(&dir)
        .status();
    let Ok(status) = status else {
        eprintln!("skipped: python3 is not available");
        return;
    };
    assert!(status.success());
    for f in Shape::GenMesh.files(3) {
        let theirs = std::fs::read_to_string(dir.join(&f.rel_path)).expect("script output");
        assert_eq!(theirs, f.content, "{}", f.rel_path);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
