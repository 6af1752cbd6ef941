//! Randomized test of bytes → documents → model (issue 18). A fixed number of cases
//! from a fixed seed in CI; longer runs outside it:
//!
//! ```text
//! MESHLINT_FUZZ_CASES=200000 MESHLINT_FUZZ_SEED=7 \
//!   cargo test --release -p meshlint-model --test fuzz_loader -- --nocapture
//! ```
//!
//! Invariants: no panic; every finding has a file, a line and a column inside the text;
//! the trees stay within the node budgets; a Secret's value never reaches another
//! resource's tree. A failing case is saved as `fuzz-crash-SEED-CASE.yaml` in Cargo's
//! test temp directory (see `docs/hardening.md`).

mod fuzzgen;

use fuzzgen::{budget, generate, save_crash, seeds, Rng};
use meshlint_load::{load_source_in, LoadLimits, Node, NodeValue, RunBudget};
use meshlint_model::take_resources;
use std::path::Path;

fn contains_canary(n: &Node) -> bool {
    match &n.value {
        NodeValue::Scalar(s) => s.text().contains("CANARY"),
        NodeValue::Seq(items) => items.iter().any(contains_canary),
        NodeValue::Map(entries) => entries
            .iter()
            .any(|(k, v)| k.text().contains("CANARY") || contains_canary(v)),
    }
}

fn check_case(data: &[u8]) -> Result<(), String> {
    let limits = LoadLimits {
        max_nodes_per_document: 20_000,
        max_nodes_per_file: 60_000,
        ..LoadLimits::default()
    };
    let run = RunBudget::new(1_000_000);
    let mut loaded = load_source_in("case.yaml".into(), data.to_vec(), &limits, &run);
    let nodes: usize = loaded.documents.iter().map(|d| d.root.count()).sum();
    if nodes > limits.max_nodes_per_file {
        return Err(format!("{nodes} nodes kept, above the file budget"));
    }
    let lines = loaded.source.line_count() as u32;
    let set = take_resources(&mut loaded);
    for f in loaded.findings.iter().chain(&set.findings) {
        let p = f.location.span.start;
        if p.line == 0 || p.column == 0 || p.line > lines {
            return Err(format!("finding outside the text ({lines} lines): {f:?}"));
        }
        if &*f.location.file != "case.yaml" {
            return Err(format!("finding without the file: {f:?}"));
        }
    }
    // Secret values stay out of every resource (Secrets themselves drop `data`).
    for r in &set.resources {
        if contains_canary(&r.node) {
            return Err(format!(
                "a CANARY value reached {}/{} ({:?})",
                r.id.kind, r.id.name, r.file
            ));
        }
    }
    Ok(())
}

#[test]
fn loader_and_model_survive_random_input() {
    let (cases, seed) = budget(2_000);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let corpus = seeds(&workspace);
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let mut failures = Vec::new();
    for case in 0..cases {
        let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(case as u64));
        let data = generate(&mut rng, &corpus);
        // Only inputs whose canary sits in a Secret can be held to the Secret invariant.
        let text = String::from_utf8_lossy(&data);
        let canary_outside_secret = text.contains("CANARY") && !canary_only_in_secrets(&text);
        let result = std::panic::catch_unwind(|| check_case(&data));
        let failure = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) if canary_outside_secret && e.contains("CANARY") => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some("panic".to_string()),
        };
        if let Some(e) = failure {
            let path = save_crash(tmp, seed, case, &data);
            failures.push(format!(
                "case {case} (seed {seed}): {e}; input {}",
                path.display()
            ));
        }
    }
    eprintln!(
        "fuzz_loader: {cases} cases, seed {seed}, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Whether every `CANARY` in `text` is a value under a `data`/`stringData` key of a
/// document that is unmistakably a Secret and nothing else: only such inputs can be
/// held to "a Secret's value reaches no other resource" (a mutation may as well have
/// turned the Secret into a ConfigMap, making the value an ordinary one).
fn canary_only_in_secrets(text: &str) -> bool {
    text.split("\n---")
        .filter(|doc| doc.contains("CANARY"))
        .all(|doc| {
            let lines: Vec<&str> = doc.lines().collect();
            let under_data = |i: usize| {
                lines[..i]
                    .iter()
                    .rev()
                    .find(|l| !l.starts_with("  "))
                    .is_some_and(|l| *l == "data:" || *l == "stringData:")
            };
            doc.matches("kind:").count() == 1
                && doc.contains("\nkind: Secret\n")
                && !doc.contains('*')
                && !doc.contains("<<")
                && lines
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.contains("CANARY"))
                    .all(|(i, l)| l.starts_with("  ") && under_data(i))
        })
}

/// Crashes the fuzzer found, kept in `testdata/hostile/fuzz/`: each must now pass.
#[test]
fn fuzz_regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/hostile/fuzz");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(names.len() >= 3);
    for p in names {
        let data = std::fs::read(&p).unwrap();
        if let Err(e) = check_case(&data) {
            panic!("{}: {e}", p.display());
        }
    }
}
