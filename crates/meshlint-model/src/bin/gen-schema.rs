//! Regenerates `crates/meshlint-model/schema/istio-<line>.schema` from Istio's CRDs in
//! `../shared/istio-crds/` (relative to the workspace root, or the directory given as
//! the only argument). Run from anywhere: `cargo run -p meshlint-model --bin gen-schema`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let crds = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir.join("../../../shared/istio-crds"));
    let out_dir = crate_dir.join("schema");
    let mut lines = match meshlint_model::crdgen::crd_lines(&crds) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("gen-schema: {}: {e}", crds.display());
            return ExitCode::FAILURE;
        }
    };
    lines.sort_by(|a, b| meshlint_model::schema::compare_lines(a, b));
    for line in &lines {
        let text = match std::fs::read_to_string(crds.join(format!("{line}.yaml"))) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("gen-schema: {line}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let compact = match meshlint_model::crdgen::generate(line, &text) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("gen-schema: {e}");
                return ExitCode::FAILURE;
            }
        };
        let path = out_dir.join(format!("istio-{line}.schema"));
        if let Err(e) = std::fs::write(&path, &compact) {
            eprintln!("gen-schema: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("wrote {} ({} bytes)", path.display(), compact.len());
    }
    ExitCode::SUCCESS
}
