//! Precision on real configuration (issue 11): what the inputs describe, files that are
//! not API objects, `-n/--namespace`, and the pre-commit hook catching a change that
//! breaks another, unchanged file.

mod common;
use common::*;
use meshlint_load::{load_source, LoadLimits};
use std::path::Path;

fn precision(dir: &str) -> std::path::PathBuf {
    workspace().join("testdata/precision").join(dir)
}

/// `(rule, severity, file, line)` of a `--format json` run.
fn findings(r: &Run) -> Vec<(String, String, String, u64)> {
    r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["location"]["file"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn row(rule: &str, severity: &str, file: &str, line: u64) -> (String, String, String, u64) {
    (rule.into(), severity.into(), file.into(), line)
}

#[test]
fn kustomize_files_istio_operator_overlays_and_tool_json_are_not_objects() {
    let r = run(&precision("files"), &["check", "--format", "json", "."]);
    let got = findings(&r);
    // One info for the chart (at its name in Chart.yaml), nothing for the kustomization,
    // the kustomize transformer, the IstioOperator overlay or the JSON files.
    assert_eq!(
        got.iter().filter(|f| f.0 == "helm-chart").count(),
        1,
        "{}",
        r.stdout
    );
    assert!(
        got.contains(&row("helm-chart", "info", "chart/Chart.yaml", 2)),
        "{got:?}"
    );
    assert!(
        got.iter().all(|f| f.1 != "error" && f.1 != "warning"),
        "{}",
        r.stdout
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let message = r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "helm-chart")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("Helm chart `shop`") && message.contains("2 template files"),
        "{message}"
    );
    // --verbose lists what was skipped and why.
    let v = run(&precision("files"), &["check", "--verbose", "."]);
    for (file, why) in [
        ("k/kustomization.yaml", "kustomize"),
        ("k/patch.yaml", "kustomize"),
        ("tsconfig.json", "not a Kubernetes object"),
        ("chart/templates/dr.yaml", "Helm chart template"),
    ] {
        assert!(
            v.stderr
                .lines()
                .any(|l| l.contains(file) && l.contains(why)),
            "{file}: {}",
            v.stderr
        );
    }
}

#[test]
fn templates_and_values_outside_charts_are_info_in_a_walk() {
    let r = run(&precision("files"), &["check", "--format", "json", "misc"]);
    let got = findings(&r);
    assert!(
        got.contains(&row("helm-template", "info", "misc/render.yaml", 4)),
        "{got:?}"
    );
    assert!(
        got.contains(&row("duplicate-key", "info", "misc/values.yaml", 3)),
        "{got:?}"
    );
    // Named explicitly, the template is a warning.
    let r = run(
        &precision("files"),
        &["check", "--format", "json", "misc/render.yaml"],
    );
    assert_eq!(
        findings(&r),
        [row("helm-template", "warning", "misc/render.yaml", 4)]
    );
}

#[test]
fn a_chart_template_named_explicitly_gets_a_warning() {
    let r = run(
        &precision("files"),
        &["check", "--format", "json", "chart/templates/vs.yaml"],
    );
    assert_eq!(
        findings(&r),
        [row(
            "helm-template",
            "warning",
            "chart/templates/vs.yaml",
            4
        )]
    );
    assert_eq!(r.code, 0, "a warning does not fail the default gate");
}

#[test]
fn objects_without_a_namespace_are_not_guessed_into_default() {
    let dir = precision("namespace");
    let r = run(&dir, &["check", "--format", "json", "app.yaml"]);
    let got = findings(&r);
    // `reviews` resolves to the Service beside it (same unnamed namespace); the FQDN into
    // `shop` cannot be judged (nothing says the objects go to shop), so it is info; the
    // cluster's own hosts exist.
    assert_eq!(got, [row("ML2010", "info", "app.yaml", 27)], "{}", r.stdout);
    let text = r.stdout.clone();
    assert!(
        !text.contains(".default.svc"),
        "no guess at `default`: {text}"
    );
    // Applied to shop, the DestinationRule's host is the namespace's and the inputs
    // describe shop (its Namespace and a Service): ratings is certainly missing.
    let r = run(
        &dir,
        &["check", "--format", "json", "-n", "shop", "app.yaml"],
    );
    assert_eq!(
        findings(&r),
        [row("ML2010", "warning", "app.yaml", 27)],
        "{}",
        r.stdout
    );
    // Closed world: the cluster's own hosts must be in the inputs too.
    let r = run(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "-n",
            "shop",
            "--closed-world",
            "app.yaml",
        ],
    );
    let rules: Vec<(String, u64)> = findings(&r).into_iter().map(|f| (f.0, f.3)).collect();
    assert!(rules.contains(&("ML2009".to_string(), 37)), "{rules:?}");
    assert!(rules.contains(&("ML2009".to_string(), 39)), "{rules:?}");
    // A namespace that Kubernetes would refuse is a usage error.
    let r = run(&dir, &["check", "-n", "Shop_1", "app.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("namespace"), "{}", r.stderr);
}

/// The argv pre-commit runs for the staged files (entry + args + files), as declared in
/// `.pre-commit-hooks.yaml`.
fn hook_argv(staged: &[&str]) -> Vec<String> {
    let path = workspace().join(".pre-commit-hooks.yaml");
    let loaded = load_source(
        "hooks".into(),
        std::fs::read(path).unwrap(),
        &LoadLimits::default(),
    );
    let root = &loaded.documents[0].root;
    let hook = &root.items()[0];
    let mut argv: Vec<String> = hook
        .str_at(&["entry"])
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect();
    for a in hook.get("args").map(|a| a.items()).unwrap_or(&[]) {
        argv.push(a.as_str().unwrap().to_string());
    }
    argv.extend(staged.iter().map(|s| s.to_string()));
    argv
}

fn run_hook(repo: &Path, staged: &[&str]) -> Run {
    let argv = hook_argv(staged);
    assert_eq!(
        argv[0], "meshlint-pre-commit",
        "the hook's build of meshlint"
    );
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    run(repo, &args)
}

#[test]
fn the_hook_fails_when_a_change_breaks_an_unchanged_file() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    copy_dir(&precision("precommit"), &repo);
    // Before the change, the repository is fine.
    let r = run_hook(&repo, &["shop/mtls.yaml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // STRICT → DISABLE breaks the ISTIO_MUTUAL DestinationRule in shop/app.yaml, which
    // is not staged: the finding is reported at the staged file and fails the hook.
    let mtls = std::fs::read_to_string(repo.join("shop/mtls.yaml")).unwrap();
    std::fs::write(
        repo.join("shop/mtls.yaml"),
        mtls.replace("STRICT", "DISABLE"),
    )
    .unwrap();
    let r = run_hook(&repo, &["shop/mtls.yaml"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("error[ML1003]"), "{}", r.stdout);
    assert!(r.stdout.contains(",-[shop/mtls.yaml:6:16]"), "{}", r.stdout);
    assert!(
        r.stdout.contains(",-[shop/app.yaml:28:17]"),
        "the broken file is named: {}",
        r.stdout
    );
    // The same in JSON: one finding, located in the changed file.
    let mut argv = hook_argv(&["shop/mtls.yaml"]);
    argv.splice(2..2, ["--format".to_string(), "json".to_string()]);
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    let r = run(&repo, &args);
    assert_eq!(
        findings(&r),
        [row("ML1003", "error", "shop/mtls.yaml", 6)],
        "{}",
        r.stdout
    );
    // Staging only an unrelated file still passes.
    std::fs::write(
        repo.join("shop/other.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: shop}\n",
    )
    .unwrap();
    let r = run_hook(&repo, &["shop/other.yaml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn one_cause_gives_one_finding() {
    let dir = precision("one-cause");
    let r = run(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--closed-world",
            "missing-gateway.yaml",
        ],
    );
    let at_gateway: Vec<_> = findings(&r).into_iter().filter(|f| f.3 == 7).collect();
    assert_eq!(
        at_gateway,
        [row("ML0002", "error", "missing-gateway.yaml", 7)],
        "{}",
        r.stdout
    );
    // Without ML0002, ML3026 still says it.
    let r = run(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--closed-world",
            "--select",
            "ML3026",
            "missing-gateway.yaml",
        ],
    );
    assert_eq!(
        findings(&r),
        [row("ML3026", "warning", "missing-gateway.yaml", 7)],
        "{}",
        r.stdout
    );
}

#[test]
fn json_data_is_skipped_but_a_broken_json_manifest_is_an_error() {
    let r = run(&precision("json"), &["check", "--format", "json", "."]);
    let got = findings(&r);
    assert_eq!(got.len(), 1, "{}", r.stdout);
    assert_eq!(
        (got[0].0.as_str(), got[0].1.as_str(), got[0].2.as_str()),
        ("parse-error", "error", "broken-manifest.json")
    );
    let v = run(&precision("json"), &["check", "--verbose", "."]);
    assert!(
        v.stderr
            .lines()
            .any(|l| l.contains("ratings-data.json") && l.contains("no Kubernetes manifest")),
        "{}",
        v.stderr
    );
}

/// Bookinfo in ambient mode, written correctly (namespace enrolled, a waypoint bound,
/// STRICT mTLS with an ISTIO_MUTUAL DestinationRule, an L4 policy at ztunnel, an L7
/// policy on the waypoint with `targetRefs`, an HTTPRoute with a Service parent, an
/// ingress Gateway API route to a Service that asks gateways to use its waypoint, a
/// RequestAuthentication with `targetRefs`): no warning or error, in open and in closed world. Before the data-plane model, ML1003
/// said these workloads had "no sidecar" and advised DISABLE.
#[test]
fn ambient_bookinfo_is_clean_in_open_and_closed_world() {
    for world in [&[][..], &["--closed-world"][..]] {
        let mut args = vec!["check", "--format", "json"];
        args.extend_from_slice(world);
        args.push(".");
        let r = run(&precision("ambient-bookinfo"), &args);
        let got = findings(&r);
        assert!(
            got.iter().all(|f| f.1 != "error" && f.1 != "warning"),
            "{world:?}: {}",
            r.stdout
        );
        assert_eq!(r.code, 0, "{world:?}: {}{}", r.stdout, r.stderr);
    }
}
