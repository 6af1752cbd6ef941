//! Conformance with `istioctl analyze`, proven on Istio's own analyzer tests (issue 6).
//!
//! Istio's analyzer test inputs and the messages its tests expect live outside this
//! repository, in `../shared/conformance/istio/` (`cases.json`, `codes.json`,
//! `testdata/`); they are read at run time and never copied here. Each case runs through
//! the code path of `meshlint check --closed-world --format json [--mesh-config F]
//! [--mesh-networks F] FILES` ([`run_check`]), then:
//!
//! 1. keeps the findings of rules whose `istio_analyzer` is the case's analyzer and whose
//!    `istio_code` is one that analyzer emits (several analyzers share IST0101, so the
//!    code alone would mix their findings);
//! 2. removes exact duplicates (same code, resource and message), as Istio does before
//!    its tests compare;
//! 3. compares the multiset of `(code, origin)` with the expected one, where origin is
//!    `Kind namespace/name`, or `Kind name` when the YAML gives no namespace.
//!
//! Istio's test harness analyses every input together with two implicit resources: when
//! the mesh config's `ingressControllerMode` is not `OFF`, a Pod
//! `istio-system/<ingressService>-dummypod` labelled `istio: ingressgateway` with a
//! single image-less `istio-proxy` container, and a Service `istio-system/<ingressService>`
//! selecting it on ports 80/443/31400/15443. Gateways that select `istio:
//! ingressgateway` find their workload (and its ports) only through these, so the test
//! writes the two documents to a temporary file and adds it to the inputs. They are a
//! property of Istio's harness (and of `istioctl analyze` run on files), not of the user's
//! manifests, which is why meshlint itself does not invent them.
//!
//! The test prints the pass count and a diff for each failing case. It fails when the
//! count drops below the number recorded in `testdata/conformance-baseline.txt`; raise
//! that number as rules land. Where the shared directory is absent it says so and passes.

mod common;

use common::{skip, workspace};
use meshlint_cli::pipeline::read_mesh_config;
use meshlint_cli::{run_check, CheckOptions};
use meshlint_rules::RuleSet;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// `../shared/conformance/istio` next to the workspace, and nowhere else.
fn shared_dir() -> Option<PathBuf> {
    Some(workspace().join("../shared/conformance/istio")).filter(|p| p.join("cases.json").is_file())
}

#[derive(Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    analyzer: String,
    analyzer_codes: Vec<String>,
    input_files: Vec<String>,
    mesh_config_file: Option<String>,
    mesh_networks_file: Option<String>,
    expected: Vec<Expected>,
}

#[derive(Deserialize)]
struct Expected {
    code: String,
    origin: String,
}

/// Istio's implicit ingress gateway Pod and Service, for the effective mesh config.
fn implicit_resources(mesh_config: Option<&PathBuf>) -> String {
    let raw = mesh_config
        .and_then(|p| read_mesh_config(p).ok())
        .and_then(|m| m.raw);
    let field = |key: &str| {
        raw.as_ref()
            .and_then(|n| n.str_at(&[key]))
            .map(str::to_string)
    };
    if field("ingressControllerMode").as_deref() == Some("OFF") {
        return String::new();
    }
    let service = field("ingressService").unwrap_or_else(|| "istio-ingressgateway".into());
    format!(
        "# Implicit resources Istio's analyzer harness adds (see conformance.rs).
apiVersion: v1
kind: Pod
metadata:
  name: {service}-dummypod
  namespace: istio-system
  labels:
    istio: ingressgateway
spec:
  containers:
  - name: istio-proxy
---
apiVersion: v1
kind: Service
metadata:
  name: {service}
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  ports:
  - {{name: http2, port: 80, targetPort: 80, protocol: TCP}}
  - {{name: https, port: 443, targetPort: 443, protocol: TCP}}
  - {{name: tcp, port: 31400, targetPort: 31400, protocol: TCP}}
  - {{name: tls, port: 15443, targetPort: 15443, protocol: TCP}}
"
    )
}

struct CaseResult {
    passed: bool,
    report: String,
}

fn run_case(
    index: usize,
    case: &Case,
    base: &Path,
    rules: &RuleSet,
    analyzers: &HashMap<String, Vec<String>>,
    scratch: &Path,
) -> CaseResult {
    let base = &base.join("testdata");
    let mesh_config = case.mesh_config_file.as_ref().map(|f| base.join(f));
    let mesh_networks = case.mesh_networks_file.as_ref().map(|f| base.join(f));
    let mut paths: Vec<String> = case
        .input_files
        .iter()
        .map(|f| base.join(f).to_string_lossy().to_string())
        .collect();
    let implicit = implicit_resources(mesh_config.as_ref());
    if !implicit.is_empty() {
        let p = scratch.join(format!("case-{index}-istio-implicit.yaml"));
        std::fs::write(&p, implicit).unwrap();
        paths.push(p.to_string_lossy().to_string());
    }
    let opts = CheckOptions {
        paths,
        closed_world: true,
        // istioctl analyze applies files without a namespace to `default`.
        namespace: Some("default".to_string()),
        // istioctl reports one cause once per analyzer (IST0101 and IST0132 for a
        // missing Gateway); compare like with like.
        keep_repeated_causes: true,
        mesh_config,
        mesh_networks,
        ..CheckOptions::default()
    };
    let result = match run_check(&opts, rules) {
        Ok(r) => r,
        Err(e) => {
            return CaseResult {
                passed: false,
                report: format!("run failed: {e}"),
            }
        }
    };
    let codes: BTreeSet<&str> = case.analyzer_codes.iter().map(String::as_str).collect();
    let mut seen = BTreeSet::new();
    let mut got: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut detail: Vec<String> = Vec::new();
    for f in &result.findings {
        let Some(code) = f.istio_code.as_deref() else {
            continue;
        };
        let belongs = analyzers
            .get(&*f.rule)
            .is_some_and(|a| a.iter().any(|a| a == &case.analyzer));
        if !belongs || !codes.contains(code) {
            continue;
        }
        let origin = f
            .resource
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_default();
        if !seen.insert((code.to_string(), origin.clone(), f.message.clone())) {
            continue;
        }
        detail.push(format!(
            "      {code} {origin} [{}] {}:{}: {}",
            f.rule,
            f.location.file.rsplit('/').next().unwrap_or(""),
            f.location.span.start.line,
            f.message.chars().take(160).collect::<String>()
        ));
        *got.entry((code.to_string(), origin)).or_default() += 1;
    }
    let mut want: BTreeMap<(String, String), usize> = BTreeMap::new();
    for e in &case.expected {
        *want.entry((e.code.clone(), e.origin.clone())).or_default() += 1;
    }
    let passed = got == want && result.rule_errors.is_empty();
    let mut report = String::new();
    if !passed {
        let keys: BTreeSet<_> = got.keys().chain(want.keys()).cloned().collect();
        for k in keys {
            let (g, w) = (
                got.get(&k).copied().unwrap_or(0),
                want.get(&k).copied().unwrap_or(0),
            );
            if g < w {
                report.push_str(&format!("    - missing {}× {} {}\n", w - g, k.0, k.1));
            } else if g > w {
                report.push_str(&format!("    + extra   {}× {} {}\n", g - w, k.0, k.1));
            }
        }
        for e in &result.rule_errors {
            report.push_str(&format!("    ! rule error: {e}\n"));
        }
        if !detail.is_empty() {
            report.push_str("    findings kept:\n");
            for d in &detail {
                report.push_str(d);
                report.push('\n');
            }
        }
    }
    CaseResult { passed, report }
}

#[test]
fn istio_analyzer_conformance() {
    let Some(base) = shared_dir() else {
        skip(
            "conformance: ../shared/conformance/istio (next to the workspace) not found; the istioctl analyze parity suite did not run",
        );
        return;
    };
    let cases: Cases =
        serde_json::from_str(&std::fs::read_to_string(base.join("cases.json")).unwrap()).unwrap();
    let rules = RuleSet::builtin().expect("built-in rules load");
    let analyzers: HashMap<String, Vec<String>> = rules
        .rules
        .iter()
        .filter_map(|r| {
            let a = r.file.istio_analyzer.as_deref()?;
            Some((
                r.id().to_string(),
                a.split(',').map(|s| s.trim().to_string()).collect(),
            ))
        })
        .collect();
    let scratch = tempfile::tempdir().unwrap();
    let only: Option<usize> = std::env::var("CONFORMANCE_CASE")
        .ok()
        .and_then(|s| s.parse().ok());
    let mut passed = 0;
    let mut failing = Vec::new();
    for (i, case) in cases.cases.iter().enumerate() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let r = run_case(i, case, &base, &rules, &analyzers, scratch.path());
        if r.passed {
            passed += 1;
        } else {
            failing.push(format!(
                "  case {i} `{}` ({}):\n{}",
                case.name, case.analyzer, r.report
            ));
        }
    }
    let total = cases.cases.len();
    println!("conformance: {passed}/{total} cases pass");
    for f in &failing {
        println!("{f}");
    }
    if only.is_some() {
        return;
    }
    let baseline: usize =
        std::fs::read_to_string(workspace().join("testdata/conformance-baseline.txt"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                    .and_then(|l| l.trim().parse().ok())
            })
            .unwrap_or(0);
    assert!(
        passed >= baseline,
        "conformance dropped: {passed} cases pass, testdata/conformance-baseline.txt records {baseline}"
    );
    if passed > baseline {
        println!(
            "conformance: {passed} > baseline {baseline}; raise testdata/conformance-baseline.txt"
        );
    }
}
