//! kustomize patches among the inputs.
//!
//! A repository of kustomize bases and overlays holds patch files — those a
//! kustomization lists under `patches`, `patchesStrategicMerge` or `patchesJson6902` —
//! that carry only the fields they change: a Deployment patch without `containers` is
//! complete once kustomize merges it into its base. Read as manifests, such documents
//! miss required fields by design, so required-field findings on them are dropped. The
//! documents stay in the graph as further documents of the object they patch (which the
//! graph treats as alternatives of one object).

use meshlint_diag::Finding;
use meshlint_discover::Input;
use meshlint_load::{load_source, LoadLimits, Node};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The files the inputs' kustomizations name as patches (canonical paths).
fn patch_files(inputs: &[Input]) -> HashSet<PathBuf> {
    let mut out = HashSet::new();
    for input in inputs {
        let Input::File { path, .. } = input else {
            continue;
        };
        let is_kustomization = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
            matches!(
                n,
                "kustomization.yaml" | "kustomization.yml" | "Kustomization"
            )
        });
        // Only kustomizations are read (a tuple would evaluate the read for every file).
        if !is_kustomization {
            continue;
        }
        let (Some(dir), Ok(bytes)) = (path.parent(), std::fs::read(path)) else {
            continue;
        };
        let loaded = load_source(path.to_string_lossy().into(), bytes, &LoadLimits::default());
        for doc in &loaded.documents {
            for listed in patch_paths(&doc.root) {
                if let Ok(p) = dir.join(listed).canonicalize() {
                    out.insert(p);
                }
            }
        }
    }
    out
}

/// The file paths a kustomization's patch fields name (inline patches are skipped).
fn patch_paths(root: &Node) -> Vec<&str> {
    let mut out = Vec::new();
    for field in ["patches", "patchesStrategicMerge", "patchesJson6902"] {
        for entry in root.items_at(&[field]) {
            let path = entry.as_str().or_else(|| entry.str_at(&["path"]));
            if let Some(p) = path.filter(|p| !p.contains('\n') && !p.trim().is_empty()) {
                out.push(p.trim());
            }
        }
    }
    out
}

/// Drops required-field findings located in patch files.
pub fn drop_required_fields_in_patches(findings: &mut Vec<Finding>, inputs: &[Input]) {
    let patches = patch_files(inputs);
    if patches.is_empty() {
        return;
    }
    let in_patch: HashSet<&str> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::File { path, display } => canonical(path)
                .is_some_and(|p| patches.contains(&p))
                .then_some(display.as_str()),
            _ => None,
        })
        .collect();
    findings.retain(|f| {
        !(&*f.rule == meshlint_model::codes::SCHEMA_REQUIRED
            && in_patch.contains(&*f.location.file))
    });
}

fn canonical(path: &Path) -> Option<PathBuf> {
    path.canonicalize().ok()
}
