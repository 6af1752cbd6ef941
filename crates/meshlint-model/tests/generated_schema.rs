//! The committed schemas (`schema/istio-<line>.schema`) are exactly what the generator
//! makes of Istio's CRDs in `../shared/istio-crds/` (relative to the workspace root).
//! Where that directory is absent the test says so and passes.

use meshlint_model::crdgen;
use meshlint_model::schema::RELEASES;
use std::path::{Path, PathBuf};

fn shared_crds() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/istio-crds");
    dir.is_dir().then_some(dir)
}

#[test]
fn committed_schemas_are_the_generator_output() {
    let Some(dir) = shared_crds() else {
        eprintln!(
            "generated_schema: ../shared/istio-crds not found; SKIPPED the check that the committed schemas match the CRDs"
        );
        return;
    };
    let mut lines = crdgen::crd_lines(&dir).expect("readable CRD directory");
    lines.sort_by(|a, b| meshlint_model::schema::compare_lines(a, b));
    let embedded: Vec<&str> = RELEASES.iter().map(|(l, _)| *l).collect();
    assert_eq!(
        lines, embedded,
        "every CRD release line is embedded (schema::RELEASES), and nothing else"
    );
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for (line, text) in RELEASES {
        let crds = std::fs::read_to_string(dir.join(format!("{line}.yaml"))).unwrap();
        let fresh = crdgen::generate(line, &crds).unwrap();
        let on_disk =
            std::fs::read_to_string(crate_dir.join(format!("schema/istio-{line}.schema"))).unwrap();
        assert_eq!(on_disk, text, "{line}: the build embeds the file on disk");
        if fresh != on_disk {
            stale.push(line);
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas {stale:?}: run `cargo run -p meshlint-model --bin gen-schema`"
    );
}
