//! The language server reads a workspace as `meshlint check` does: for each setting a
//! check honours — the mesh networks file, the baseline, `-n`, `--context`, the file
//! size bound and unreadable inputs — the findings the server publishes are those of
//! `run_check` over the same directory (file names aside: the server's are absolute).

use meshlint_cli::server::PipelineChecker;
use meshlint_cli::{baseline, run_check, CheckOptions};
use meshlint_diag::Finding;
use meshlint_load::LoadLimits;
use meshlint_lsp::workspace::Workspace;
use meshlint_lsp::Checker;
use meshlint_rules::RuleSet;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const PEER_AUTHENTICATION: &str = "\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: STRICT}
";

/// Breaks the policy above (ML1001), in namespace `shop` only when `-n shop` says so.
const DESTINATION_RULE: &str = "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: backend}
spec:
  host: backend.shop.svc.cluster.local
  trafficPolicy: {tls: {mode: DISABLE}}
";

const SHOP: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: shop}
spec:
  selector: {app: backend}
  ports: [{name: http-api, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend, namespace: shop}
spec:
  selector: {matchLabels: {app: backend}}
  template:
    metadata: {labels: {app: backend}}
    spec:
      containers: [{name: app, image: backend:1, ports: [{containerPort: 8080}]}]
";

fn options(root: &Path) -> CheckOptions {
    CheckOptions {
        paths: vec![root.to_string_lossy().into_owned()],
        respect_gitignore: true,
        report_unused_suppressions: true,
        ..CheckOptions::default()
    }
}

/// What the server publishes for the workspace, as (rule, file, line, column, message).
fn served(opts: CheckOptions, names_from: &Path) -> BTreeSet<(String, String, u32, u32, String)> {
    let (checker, warnings) =
        PipelineChecker::new(opts, RuleSet::builtin().unwrap(), names_from.to_path_buf());
    assert!(warnings.is_empty(), "{warnings:?}");
    let checker: Arc<dyn Checker> = Arc::new(checker);
    let mut ws = Workspace::new(checker.clone());
    ws.load(&checker.discover().unwrap(), &HashMap::new());
    ws.changed_diagnostics();
    ws.findings.values().flatten().map(key).collect()
}

fn checked(opts: &CheckOptions) -> BTreeSet<(String, String, u32, u32, String)> {
    let result = run_check(opts, &RuleSet::builtin().unwrap()).unwrap();
    result.findings.iter().map(key).collect()
}

fn key(f: &Finding) -> (String, String, u32, u32, String) {
    (
        f.rule.to_string(),
        f.location.file.to_string(),
        f.location.span.start.line,
        f.location.span.start.column,
        f.message.clone(),
    )
}

fn rules(found: &BTreeSet<(String, String, u32, u32, String)>) -> Vec<&str> {
    found.iter().map(|k| k.0.as_str()).collect()
}

fn workspace(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    (dir, root)
}

#[test]
fn namespace_option_places_unnamespaced_objects() {
    let (_dir, root) = workspace(&[
        ("pa.yaml", PEER_AUTHENTICATION),
        ("dr.yaml", DESTINATION_RULE),
        ("shop.yaml", SHOP),
    ]);
    let opts = CheckOptions {
        namespace: Some("shop".into()),
        ..options(&root)
    };
    let server = served(opts.clone(), &root);
    assert_eq!(server, checked(&opts));
    assert!(rules(&server).contains(&"ML1001"), "{server:#?}");
}

#[test]
fn mesh_networks_file_is_read() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/rules/ML3019");
    let secret = std::fs::read_to_string(fixture.join("bad.yaml")).unwrap();
    let networks = std::fs::read_to_string(fixture.join("networks-bad.yaml")).unwrap();
    let (_dir, root) = workspace(&[("secret.yaml", &secret), ("mesh/networks.yaml", &networks)]);
    let opts = CheckOptions {
        mesh_networks: Some(root.join("mesh/networks.yaml")),
        ..options(&root)
    };
    let server = served(opts.clone(), &root);
    assert_eq!(server, checked(&opts));
    assert_eq!(
        rules(&server).iter().filter(|r| **r == "ML3019").count(),
        2,
        "{server:#?}"
    );
}

#[test]
fn context_files_inform_but_are_not_reported() {
    let (_dir, root) = workspace(&[
        ("work/dr.yaml", &DESTINATION_RULE.replace("{name: backend}", "{name: backend, namespace: shop}")),
        ("cluster/pa.yaml", PEER_AUTHENTICATION),
        ("cluster/shop.yaml", SHOP),
        ("cluster/typo.yaml", "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: t, namespace: shop}\nspec:\n  host: t\n  trafficPolicy: {loadBalancer: {simple: ROUND_ROBN}}\n"),
    ]);
    let opts = CheckOptions {
        paths: vec![root.join("work").to_string_lossy().into_owned()],
        context: vec![root.join("cluster").to_string_lossy().into_owned()],
        ..options(&root)
    };
    let server = served(opts.clone(), &root.join("work"));
    assert_eq!(server, checked(&opts));
    assert!(rules(&server).contains(&"ML1001"), "{server:#?}");
    assert!(
        server.iter().all(|k| k.1.contains("/work/")),
        "only the workspace's files get diagnostics: {server:#?}"
    );
}

#[test]
fn baselined_findings_are_not_published() {
    let (_dir, root) = workspace(&[
        ("pa.yaml", PEER_AUTHENTICATION),
        (
            "dr.yaml",
            &DESTINATION_RULE.replace("{name: backend}", "{name: backend, namespace: shop}"),
        ),
        ("shop.yaml", SHOP),
    ]);
    let before = served(options(&root), &root);
    assert!(rules(&before).contains(&"ML1001"), "{before:#?}");
    // The baseline as `meshlint check --write-baseline` run in the workspace writes it:
    // file names relative to where it ran.
    let mut result = run_check(&options(&root), &RuleSet::builtin().unwrap()).unwrap();
    result.strip_path_prefix(&format!("{}/", root.display()));
    let accepted: Vec<Finding> = result
        .findings
        .iter()
        .filter(|f| &*f.rule == "ML1001")
        .cloned()
        .collect();
    assert!(!accepted.is_empty());
    let file = baseline::build(&accepted, &result.sources);
    let path = root.join("baseline.json");
    baseline::write(&path, &file).unwrap();
    let opts = CheckOptions {
        baseline: Some(path.clone()),
        skip_files: vec![path],
        ..options(&root)
    };
    let after = served(opts, &root);
    assert!(!rules(&after).contains(&"ML1001"), "{after:#?}");
    let mut expected = before.clone();
    expected.retain(|k| k.0 != "ML1001");
    assert_eq!(after, expected);
}

#[test]
fn files_are_read_with_the_size_bound_and_unreadable_ones_reported() {
    let big = format!("{}# padding\n{}", SHOP, "# x\n".repeat(400));
    let (_dir, root) = workspace(&[("shop.yaml", SHOP), ("big.yaml", &big)]);
    // A FIFO named like a manifest: discovery refuses to read it as a file.
    let fifo = std::process::Command::new("mkfifo")
        .arg(root.join("odd.yaml"))
        .status()
        .is_ok_and(|s| s.success());
    let opts = CheckOptions {
        limits: Some(LoadLimits {
            max_file_bytes: 1_000,
            ..LoadLimits::default()
        }),
        ..options(&root)
    };
    let server = served(opts.clone(), &root);
    assert_eq!(server, checked(&opts));
    assert!(
        server.iter().any(|k| k.1.ends_with("big.yaml")),
        "the oversized file's finding: {server:#?}"
    );
    if fifo {
        assert!(
            server.iter().any(|k| k.1.ends_with("odd.yaml")),
            "the FIFO's finding: {server:#?}"
        );
    }
}

#[test]
fn kustomize_patches_and_walked_templates_are_judged_as_check_judges_them() {
    // Changes the policy of a DestinationRule whose `host` its base sets.
    let patch = "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: backend, namespace: shop}
spec:
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
";
    let base = "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: backend, namespace: shop}
spec:
  host: backend.shop.svc.cluster.local
";
    let (_dir, root) = workspace(&[
        ("base/shop.yaml", SHOP),
        ("base/dr.yaml", base),
        (
            "base/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [shop.yaml, dr.yaml]\npatches:\n- path: patch.yaml\n",
        ),
        ("base/patch.yaml", patch),
        // The same document in a file no kustomization names is a broken manifest.
        ("loose/dr.yaml", &patch.replace("backend", "other")),
        ("loose/template.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n"),
    ]);
    let opts = options(&root);
    let server = served(opts.clone(), &root);
    assert_eq!(server, checked(&opts));
    let required: Vec<_> = server
        .iter()
        .filter(|k| k.0 == "schema-required")
        .map(|k| k.1.as_str())
        .collect();
    assert!(
        !required.is_empty() && required.iter().all(|f| f.ends_with("loose/dr.yaml")),
        "{server:#?}"
    );
}

#[test]
fn a_walked_helm_template_is_information_in_the_editor_too() {
    let (_dir, root) = workspace(&[(
        "template.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n",
    )]);
    let opts = options(&root);
    let (checker, _) =
        PipelineChecker::new(opts.clone(), RuleSet::builtin().unwrap(), root.clone());
    let checker: Arc<dyn Checker> = Arc::new(checker);
    let mut ws = Workspace::new(checker.clone());
    ws.load(&checker.discover().unwrap(), &HashMap::new());
    ws.changed_diagnostics();
    let helm: Vec<_> = ws
        .findings
        .values()
        .flatten()
        .filter(|f| &*f.rule == "helm-template")
        .map(|f| f.severity)
        .collect();
    let checked: Vec<_> = run_check(&opts, &RuleSet::builtin().unwrap())
        .unwrap()
        .findings
        .iter()
        .filter(|f| &*f.rule == "helm-template")
        .map(|f| f.severity)
        .collect();
    assert_eq!(helm, checked);
    assert_eq!(helm, vec![meshlint_diag::Severity::Info]);
}
