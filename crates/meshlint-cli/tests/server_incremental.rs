//! The language server's quick pass after an edit against the full evaluation: after
//! any edit, re-running only the rules whose declared dependencies the edit touched
//! must give the diagnostics a full evaluation gives (the full pass follows every edit
//! in the server, but the quick pass is what the user sees first).

use meshlint_cli::server::PipelineChecker;
use meshlint_cli::CheckOptions;
use meshlint_diag::Finding;
use meshlint_lsp::workspace::Workspace;
use meshlint_lsp::Checker;
use meshlint_rules::RuleSet;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn checker(root: &Path) -> Arc<dyn Checker> {
    let opts = CheckOptions {
        paths: vec![root.to_string_lossy().into_owned()],
        respect_gitignore: true,
        report_unused_suppressions: true,
        ..CheckOptions::default()
    };
    let rules = RuleSet::builtin().unwrap();
    let (checker, warnings) = PipelineChecker::new(opts, rules, root.to_path_buf());
    assert!(warnings.is_empty(), "{warnings:?}");
    Arc::new(checker)
}

fn workspace(root: &Path) -> Workspace {
    let checker = checker(root);
    let mut ws = Workspace::new(checker.clone());
    ws.guess_scope = false;
    ws.load(&checker.discover().unwrap(), &HashMap::new());
    ws.changed_diagnostics();
    ws
}

type Published = HashMap<Arc<str>, Vec<Finding>>;

/// Applies an edit (new text, or `None` to remove the file); returns the diagnostics
/// after the quick pass and after the full evaluation.
fn edit(ws: &mut Workspace, file: &Path, text: Option<&str>) -> (Published, Published) {
    let name: Arc<str> = file.to_string_lossy().as_ref().into();
    let unit = text.map(|t| ws.checker.load(name.clone(), t.as_bytes().to_vec()));
    ws.update(&name, unit);
    ws.changed_diagnostics();
    let quick = ws.findings.clone();
    let eval =
        meshlint_rules::evaluate_resources(&ws.checker.rules().rules, ws.graph.clone(), None);
    assert!(ws.apply_full(ws.generation, eval));
    ws.changed_diagnostics();
    (quick, ws.findings.clone())
}

fn rules_of(p: &Published, file: &Path) -> Vec<String> {
    let name: Arc<str> = file.to_string_lossy().as_ref().into();
    p.get(&name)
        .map(|l| l.iter().map(|f| f.rule.to_string()).collect())
        .unwrap_or_default()
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(root.join(name), text).unwrap();
    }
}

const MESH_PA: &str = "\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec:
  mtls: {mode: STRICT}
";

fn shop(ns: &str) -> String {
    format!(
        "\
apiVersion: v1
kind: Namespace
metadata: {{name: {ns}, labels: {{istio-injection: enabled}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: backend, namespace: {ns}}}
spec:
  selector: {{app: backend}}
  ports: [{{name: http-api, port: 80, targetPort: 8080}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: backend, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: backend}}}}
  template:
    metadata: {{labels: {{app: backend}}}}
    spec:
      containers: [{{name: app, image: backend:1, ports: [{{containerPort: 8080}}]}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: backend, namespace: {ns}}}
spec:
  host: backend
  trafficPolicy: {{tls: {{mode: DISABLE}}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: backend, namespace: {ns}}}
spec:
  hosts: [backend]
  http:
  - route:
    - destination: {{host: backend}}
"
    )
}

#[test]
fn mesh_wide_peer_authentication_edit_matches_the_full_pass() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(
        &root,
        &[
            ("mesh-pa.yaml", MESH_PA),
            ("shop.yaml", &shop("shop")),
            ("cart.yaml", &shop("cart")),
        ],
    );
    let mut ws = workspace(&root);
    let shop_file = root.join("shop.yaml");
    assert!(
        ws.findings.values().flatten().any(|f| &*f.rule == "ML1001"),
        "the STRICT mesh policy breaks the DISABLE DestinationRules: {:#?}",
        ws.findings
    );
    let pa = root.join("mesh-pa.yaml");
    let permissive = MESH_PA.replace("STRICT", "PERMISSIVE");
    for text in [permissive.as_str(), MESH_PA, permissive.as_str()] {
        let (quick, full) = edit(&mut ws, &pa, Some(text));
        assert_eq!(quick, full, "after setting the mesh policy to:\n{text}");
    }
    assert!(!rules_of(&ws.findings, &shop_file).contains(&"ML1001".to_string()));
    // The edit did not re-run every rule: most read no PeerAuthentication.
    let name: Arc<str> = pa.to_string_lossy().as_ref().into();
    let unit = ws.checker.load(name.clone(), MESH_PA.as_bytes().to_vec());
    let update = ws.update(&name, Some(unit));
    assert!(!update.exact);
    assert!(
        update.rules * 3 < ws.checker.rules().rules.len(),
        "{} of {} rules re-run",
        update.rules,
        ws.checker.rules().rules.len()
    );
    ws.changed_diagnostics();
    assert!(rules_of(&ws.findings, &shop_file).contains(&"ML1001".to_string()));
}

#[test]
fn service_edit_changes_host_resolution_as_the_full_pass_does() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let service = "\
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
";
    let route = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, port: {number: 9080}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
";
    write(
        &root,
        &[
            ("service.yaml", service),
            ("route.yaml", route),
            (
                "closed.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
            ),
        ],
    );
    let mut ws = workspace(&root);
    let route_file = root.join("route.yaml");
    let before = rules_of(&ws.findings, &route_file);
    // Renaming the Service leaves the routes' host without a definition: the finding is
    // on the other file, reached only through host resolution.
    let renamed = service.replace("name: reviews", "name: ratings");
    let (quick, full) = edit(&mut ws, &root.join("service.yaml"), Some(&renamed));
    assert_eq!(quick, full);
    let after = rules_of(&ws.findings, &route_file);
    assert_ne!(
        before, after,
        "renaming the Service changes the route file's findings"
    );
    let (quick, full) = edit(&mut ws, &root.join("service.yaml"), Some(service));
    assert_eq!(quick, full);
    assert_eq!(rules_of(&ws.findings, &route_file), before);
}

/// Every file of every rule fixture and scenario removed and put back, one at a time:
/// the quick pass gives the full pass's diagnostics. A graph function that reads a
/// kind its entry in `graph_fns/dependencies.rs` does not declare fails here.
#[test]
fn removing_any_fixture_file_matches_the_full_pass() {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let mut dirs: Vec<PathBuf> = Vec::new();
    for top in ["rules", "scenarios"] {
        for entry in std::fs::read_dir(testdata.join(top)).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() && p.file_name().is_some_and(|n| n != "snapshots") {
                dirs.push(p);
            }
        }
    }
    dirs.sort();
    let mut failures = Vec::new();
    for dir in &dirs {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json") {
                std::fs::copy(&p, root.join(&name)).unwrap();
                files.push(root.join(&name));
            }
        }
        files.sort();
        let mut ws = workspace(&root);
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            for (what, content) in [("removing", None), ("restoring", Some(text.as_str()))] {
                let (quick, full) = edit(&mut ws, file, content);
                if quick != full {
                    let diff: Vec<String> = full
                        .iter()
                        .filter(|(k, v)| quick.get(*k) != Some(*v))
                        .chain(quick.iter().filter(|(k, _)| !full.contains_key(*k)))
                        .map(|(k, v)| {
                            let rules: Vec<&str> = v.iter().map(|f| &*f.rule).collect();
                            let quick_rules: Vec<&str> = quick
                                .get(k)
                                .map(|l| l.iter().map(|f| &*f.rule).collect())
                                .unwrap_or_default();
                            format!("{k}: full {rules:?}, quick {quick_rules:?}")
                        })
                        .collect();
                    failures.push(format!(
                        "{} {what} {}: {diff:?}",
                        dir.display(),
                        file.file_name().unwrap().to_string_lossy()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
