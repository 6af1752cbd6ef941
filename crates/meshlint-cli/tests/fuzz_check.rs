//! Randomized test of a whole check through every output format (issue 18). A fixed
//! number of cases from a fixed seed in CI; longer runs outside it:
//!
//! ```text
//! MESHLINT_FUZZ_CASES=5000 MESHLINT_FUZZ_SEED=7 \
//!   cargo test --release -p meshlint-cli --test fuzz_check -- --nocapture
//! ```
//!
//! Each case is a directory with a generated file, an intact Secret holding canary
//! values in the same file (after a document marker), and a neighbour file with a
//! known finding. Invariants: no panic in the check or any format; the neighbour's
//! finding is there; every finding has a line and a column; no canary, raw ESC or
//! injected workflow command in any output.

mod common;
#[path = "../../meshlint-model/tests/fuzzgen/mod.rs"]
mod fuzzgen;

use fuzzgen::{budget, generate, save_crash, seeds, Rng};
use meshlint_cli::{run_check, CheckOptions};
use meshlint_report::{render_to_string, Format, HumanOptions, ReportInput};
use meshlint_rules::RuleSet;
use std::path::Path;

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: fuzz-secret\n  namespace: default\nstringData:\n  password: CANARYpass\n  token: CANARYtoken\ndata:\n  key: Q0FOQVJZa2V5\n";
const NEIGHBOUR: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: n\n  name: m\n";

fn check_case(dir: &Path, data: &[u8], rules: &RuleSet) -> Result<(), String> {
    let mut file = data.to_vec();
    file.extend_from_slice(b"\n---\n");
    file.extend_from_slice(SECRET.as_bytes());
    std::fs::write(dir.join("case.yaml"), &file).unwrap();
    std::fs::write(dir.join("neighbour.yaml"), NEIGHBOUR).unwrap();
    let opts = CheckOptions {
        paths: vec![dir.to_string_lossy().into_owned()],
        ..CheckOptions::default()
    };
    let result = run_check(&opts, rules).map_err(|e| format!("usage error: {e}"))?;
    if !result
        .findings
        .iter()
        .any(|f| f.location.file.ends_with("neighbour.yaml") && &*f.rule == "duplicate-key")
    {
        return Err("the neighbour's finding is missing".into());
    }
    for f in &result.findings {
        let p = f.location.span.start;
        if p.line == 0 || p.column == 0 {
            return Err(format!("finding without a position: {f:?}"));
        }
    }
    let infos = rules.infos();
    let input = ReportInput {
        findings: &result.findings,
        sources: &result.sources,
        rules: &infos,
        summary: result.summary,
        tool_version: "fuzz",
        fail_threshold: Some(meshlint_diag::Severity::Info),
    };
    for format in Format::ALL {
        for color in [false, true] {
            let out = render_to_string(
                format,
                &input,
                &HumanOptions {
                    color,
                    width: Some(100),
                },
            )
            .map_err(|e| format!("{format}: {e}"))?;
            if out.contains("CANARY") || out.contains("Q0FOQVJZa2V5") {
                return Err(format!("{format}: prints a Secret value"));
            }
            if !color && out.contains('\u{1b}') {
                return Err(format!("{format}: raw ESC"));
            }
            if format != Format::Github && out.lines().any(|l| l.starts_with("::")) {
                return Err(format!("{format}: a line starts a workflow command"));
            }
        }
    }
    Ok(())
}

#[test]
fn whole_check_survives_random_input_in_every_format() {
    let (cases, seed) = budget(150);
    let corpus = seeds(&common::workspace());
    let rules = RuleSet::builtin().unwrap();
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let mut failures = Vec::new();
    for case in 0..cases {
        let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(case as u64));
        let mut data = generate(&mut rng, &corpus);
        // The canary belongs to the intact Secret only.
        let text = String::from_utf8_lossy(&data).replace("CANARY", "canary");
        data = text.into_bytes();
        let dir = tempfile::tempdir().unwrap();
        let result = std::panic::catch_unwind(|| check_case(dir.path(), &data, &rules));
        let failure = match result {
            Ok(Ok(())) => None,
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
        "fuzz_check: {cases} cases, seed {seed}, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
