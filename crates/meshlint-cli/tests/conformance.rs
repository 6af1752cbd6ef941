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
//! `testdata/conformance-baseline.txt` lists the cases that pass, one key a line (the
//! case's name, `name#2`, `name#3`… for repeated names). The test fails when a listed
//! case fails *and* when an unlisted case passes, so a new pass cannot hide a
//! regression elsewhere; a missing, empty or unreadable baseline is an error.
//! `CONFORMANCE_BLESS=1` rewrites the baseline from the current run;
//! `CONFORMANCE_CASE=<index or key>` runs only that case, still held to the baseline.
//!
//! Where `../shared/conformance/istio` is absent the suite cannot run: under `CI=true`
//! that is a failure naming the missing data; elsewhere the test writes a `SKIPPED` line
//! straight to the process's stderr (libtest captures `print!`/`eprint!` of passing
//! tests, not direct writes), so the skip shows in the default `cargo test` output.

mod common;

use common::workspace;
use meshlint_cli::pipeline::read_mesh_config;
use meshlint_cli::{run_check, CheckOptions};
use meshlint_rules::RuleSet;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Where the shared data is expected, relative to the workspace only.
const SHARED: &str = "../shared/conformance/istio";
const BASELINE: &str = "testdata/conformance-baseline.txt";

/// `CI` set to `true` (or `1`), as CI services do.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// What to do when the shared data is missing: `Err` (fail) under CI, else `Ok` after a
/// visible skip notice.
fn missing_shared(what: &str, ci: bool, out: &mut dyn std::io::Write) -> Result<(), String> {
    let msg = format!(
        "conformance: {what}; the istioctl analyze parity suite did not run \
         (check out the shared data next to the workspace, at {SHARED})"
    );
    if ci {
        return Err(format!("CI=true and {msg}"));
    }
    let _ = writeln!(out, "\nSKIPPED {msg}");
    let _ = out.flush();
    Ok(())
}

/// Case keys: the name, with `#2`, `#3`… appended to repeated names, in file order.
fn case_keys(cases: &[Case]) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    cases
        .iter()
        .map(|c| {
            let n = seen.entry(c.name.as_str()).or_default();
            *n += 1;
            if *n == 1 {
                c.name.clone()
            } else {
                format!("{}#{n}", c.name)
            }
        })
        .collect()
}

/// Parses the baseline: one case key a line, `#` comments and blank lines ignored.
/// Errors on an unreadable or empty file, a bare number (the old count-only format),
/// a repeated key, or a key that names no case.
/// `keys` is `None` when the cases are not available (no shared data): names are then
/// not checked against them.
fn parse_baseline(text: Option<&str>, keys: Option<&[String]>) -> Result<BTreeSet<String>, String> {
    let text = text.ok_or_else(|| format!("{BASELINE} is missing or unreadable"))?;
    let known: Option<BTreeSet<&str>> = keys.map(|k| k.iter().map(String::as_str).collect());
    let mut set = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let at = format!("{BASELINE}:{}", i + 1);
        if l.parse::<u64>().is_ok() {
            return Err(format!(
                "{at}: `{l}` is a count; the baseline lists the passing cases by name \
                 (CONFORMANCE_BLESS=1 rewrites it)"
            ));
        }
        if known.as_ref().is_some_and(|k| !k.contains(l)) {
            return Err(format!("{at}: `{l}` is not a case in {SHARED}/cases.json"));
        }
        if !set.insert(l.to_string()) {
            return Err(format!("{at}: `{l}` is listed twice"));
        }
    }
    if set.is_empty() {
        return Err(format!("{BASELINE} lists no passing case"));
    }
    Ok(set)
}

/// Differences between the baseline and the cases that passed, among the cases run.
fn compare(
    baseline: &BTreeSet<String>,
    passing: &BTreeSet<String>,
    ran: &BTreeSet<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for k in baseline.intersection(ran) {
        if !passing.contains(k) {
            out.push(format!("regressed: `{k}` is in the baseline but fails"));
        }
    }
    for k in passing.difference(baseline) {
        out.push(format!(
            "newly passing: `{k}` passes but is not in the baseline (add it)"
        ));
    }
    out
}

fn baseline_text(passing: &BTreeSet<String>) -> String {
    let mut t = String::from(
        "# Istio analyzer conformance cases that pass, one key a line\n\
         # (crates/meshlint-cli/tests/conformance.rs). The suite fails when a listed case\n\
         # fails and when an unlisted case passes; CONFORMANCE_BLESS=1 rewrites this file.\n",
    );
    for k in passing {
        t.push_str(k);
        t.push('\n');
    }
    t
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
        now: Some(common::TEST_NOW),
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
    let base = workspace().join(SHARED);
    if !base.exists() {
        // Straight to the process's stderr, not through `eprintln!`, which libtest
        // captures for a passing test.
        let what = format!("{} not found", base.display());
        if let Err(e) = missing_shared(&what, in_ci(), &mut std::io::stderr().lock()) {
            panic!("{e}");
        }
        return;
    }
    // Present but broken is never a skip.
    let cases_json = base.join("cases.json");
    let text = std::fs::read_to_string(&cases_json)
        .unwrap_or_else(|e| panic!("{}: {e}", cases_json.display()));
    let cases: Cases =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", cases_json.display()));
    assert!(
        !cases.cases.is_empty(),
        "{} has no cases",
        cases_json.display()
    );
    let keys = case_keys(&cases.cases);
    let bless = std::env::var("CONFORMANCE_BLESS").is_ok_and(|v| v == "1");
    let baseline_path = workspace().join(BASELINE);
    let baseline = if bless {
        BTreeSet::new()
    } else {
        parse_baseline(
            std::fs::read_to_string(&baseline_path).ok().as_deref(),
            Some(&keys),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
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
    let only = std::env::var("CONFORMANCE_CASE").ok().map(|sel| {
        sel.parse::<usize>()
            .ok()
            .filter(|i| *i < keys.len())
            .or_else(|| keys.iter().position(|k| *k == sel))
            .unwrap_or_else(|| panic!("CONFORMANCE_CASE={sel} names no case (index or key)"))
    });
    assert!(
        !(bless && only.is_some()),
        "CONFORMANCE_BLESS rewrites the whole baseline; unset CONFORMANCE_CASE"
    );
    let mut passing = BTreeSet::new();
    let mut ran = BTreeSet::new();
    let mut failing = Vec::new();
    for (i, case) in cases.cases.iter().enumerate() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        ran.insert(keys[i].clone());
        let r = run_case(i, case, &base, &rules, &analyzers, scratch.path());
        if r.passed {
            passing.insert(keys[i].clone());
        } else {
            failing.push(format!(
                "  case {i} `{}` ({}):\n{}",
                keys[i], case.analyzer, r.report
            ));
        }
    }
    println!("conformance: {}/{} cases pass", passing.len(), ran.len());
    for f in &failing {
        println!("{f}");
    }
    if bless {
        std::fs::write(&baseline_path, baseline_text(&passing)).unwrap();
        return;
    }
    let problems = compare(&baseline, &passing, &ran);
    assert!(
        problems.is_empty(),
        "conformance differs from {BASELINE} (CONFORMANCE_BLESS=1 rewrites it):\n{}",
        problems.join("\n")
    );
}

#[cfg(test)]
mod baseline_checks {
    use super::*;

    fn keys() -> Vec<String> {
        ["a", "b", "c"].map(String::from).to_vec()
    }

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn missing_or_broken_baseline_is_an_error() {
        assert!(parse_baseline(None, Some(&keys())).is_err());
        assert!(parse_baseline(Some(""), Some(&keys())).is_err());
        assert!(parse_baseline(Some("# only a comment\n"), Some(&keys())).is_err());
        assert!(parse_baseline(Some("101\n"), Some(&keys())).is_err());
        assert!(parse_baseline(Some("a\nzzz\n"), Some(&keys())).is_err());
        assert!(parse_baseline(Some("a\na\n"), Some(&keys())).is_err());
        assert_eq!(
            parse_baseline(Some("# c\n\na\n  c \n"), Some(&keys())).unwrap(),
            set(&["a", "c"])
        );
    }

    /// The checked-in baseline is readable and lists cases by name, with or without
    /// the shared data (which only adds the check that every name is a case).
    #[test]
    fn the_baseline_file_is_well_formed() {
        let text = std::fs::read_to_string(workspace().join(BASELINE)).ok();
        let set = parse_baseline(text.as_deref(), None).unwrap_or_else(|e| panic!("{e}"));
        assert!(!set.is_empty());
    }

    #[test]
    fn a_new_pass_does_not_hide_a_regression() {
        let baseline = set(&["a", "b"]);
        let all = set(&["a", "b", "c"]);
        // Same count as the baseline, different cases: both differences reported.
        let problems = compare(&baseline, &set(&["a", "c"]), &all);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("regressed: `b`"));
        assert!(problems[1].contains("newly passing: `c`"));
        assert!(compare(&baseline, &baseline, &all).is_empty());
        // A single selected case is still held to the baseline.
        assert_eq!(compare(&baseline, &set(&[]), &set(&["b"])).len(), 1);
        assert!(compare(&baseline, &set(&[]), &set(&["c"])).is_empty());
    }

    #[test]
    fn repeated_case_names_get_distinct_keys() {
        let case = |n: &str| Case {
            name: n.into(),
            analyzer: String::new(),
            analyzer_codes: vec![],
            input_files: vec![],
            mesh_config_file: None,
            mesh_networks_file: None,
            expected: vec![],
        };
        let k = case_keys(&[case("x"), case("y"), case("x"), case("x")]);
        assert_eq!(k, ["x", "y", "x#2", "x#3"]);
    }

    #[test]
    fn missing_shared_data_fails_under_ci_and_is_skipped_visibly_elsewhere() {
        let mut out = Vec::new();
        let e =
            missing_shared("../shared/conformance/istio not found", true, &mut out).unwrap_err();
        assert!(
            e.contains("CI=true") && e.contains("../shared/conformance/istio"),
            "{e}"
        );
        assert!(out.is_empty());
        assert!(missing_shared("x not found", false, &mut out).is_ok());
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("SKIPPED conformance: x not found"));
    }
}
