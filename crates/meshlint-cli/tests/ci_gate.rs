//! The CI gate as a pipeline runs it: rule selection that cannot silently turn every
//! rule off, several reports from one run, reports that agree with the exit code, no
//! silent pass on inputs without objects, and rendered streams named after their
//! templates. Every test runs the built binary.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::path::Path;

fn examples() -> std::path::PathBuf {
    workspace().join("examples")
}

/// The rules of a `--format json` run on the examples (built-in rules only).
fn rules_reported(args: &[&str]) -> (i32, BTreeSet<String>) {
    let mut all = vec!["check", "--no-config", "--format", "json"];
    all.extend(args);
    all.push(".");
    let r = run(&examples(), &all);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let rules = r.findings().into_iter().map(|f| f.0).collect();
    (r.code, rules)
}

fn ml_rules(rules: &BTreeSet<String>) -> Vec<&String> {
    rules.iter().filter(|r| r.starts_with("ML")).collect()
}

#[test]
fn select_takes_id_prefixes_names_and_categories() {
    let (_, all) = rules_reported(&[]);
    let ml1: Vec<&String> = all.iter().filter(|r| r.starts_with("ML1")).collect();
    let ml2: Vec<&String> = all.iter().filter(|r| r.starts_with("ML20")).collect();
    assert!(!ml1.is_empty() && !ml2.is_empty(), "{all:?}");

    let (code, got) = rules_reported(&["--select", "ML1"]);
    assert_eq!(code, 1);
    assert_eq!(ml_rules(&got), ml1, "a prefix selects the ML1xxx rules");

    let (_, got) = rules_reported(&["--select", "ML20", "--extend-select", "ML1"]);
    let mut want = ml1.clone();
    want.extend(ml2.iter().copied());
    want.sort();
    assert_eq!(ml_rules(&got), want);

    let (_, got) = rules_reported(&["--ignore", "ML1"]);
    assert!(ml_rules(&got).iter().all(|r| !r.starts_with("ML1")));
    assert!(!ml_rules(&got).is_empty());

    // By name and by category.
    let (_, got) = rules_reported(&["--select", "destinationrule-plaintext-to-strict-mtls"]);
    assert_eq!(ml_rules(&got), ["ML1001"]);
    let (_, got) = rules_reported(&["--select", "mtls"]);
    assert!(ml_rules(&got).contains(&&"ML1001".to_string()));
}

#[test]
fn a_selector_that_matches_nothing_is_an_error_with_a_suggestion() {
    for (args, wants) in [
        (vec!["--select", "ML9"], "`ML9` matches no rule"),
        (vec!["--select", "mtl"], "did you mean `mtls`?"),
        (
            vec!["--select", "destinationrule-plaintext-to-strict-mtl"],
            "did you mean `destinationrule-plaintext-to-strict-mtls`?",
        ),
        (
            vec!["--ignore", "ML1001,ML1O02"],
            "`ML1O02` matches no rule",
        ),
        (vec!["--extend-select", "tlss"], "did you mean `tls`?"),
    ] {
        let mut all = vec!["check", "--no-config"];
        all.extend(&args);
        all.push(".");
        let r = run(&examples(), &all);
        assert_eq!(r.code, 2, "{args:?}: a typo must not pass the gate");
        assert!(r.stderr.contains(wants), "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
    }
    // In the configuration file, with the file's line.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&examples(), tmp.path());
    std::fs::write(tmp.path().join(".meshlint.yaml"), "select: [mtsl]\n").unwrap();
    let r = run(tmp.path(), &["check", "."]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(".meshlint.yaml:1:"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `mtls`?"), "{}", r.stderr);
}

const RULE: &str = "id: ACME001
severity: warning
summary: VirtualServices must set a timeout
match:
  kinds: [KIND]
when: \"object.spec.http.exists(r, !has(r.timeout))\"
message: \"HTTP route without timeout\"
at: spec.http
";

#[test]
fn rule_files_name_real_kinds_and_rules_takes_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("acme.yaml");
    let args = |file: &Path| {
        vec![
            "check".to_string(),
            "--no-config".to_string(),
            "--format".to_string(),
            "json".to_string(),
            "--rules".to_string(),
            file.to_string_lossy().into_owned(),
            "--select".to_string(),
            "ACME001".to_string(),
            ".".to_string(),
        ]
    };
    let go = |file: &Path| {
        let a = args(file);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run(&examples(), &a)
    };

    std::fs::write(&file, RULE.replace("KIND", "VirtualServce")).unwrap();
    let r = go(&file);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("acme.yaml:5:11:") && r.stderr.contains("did you mean `VirtualService`?"),
        "{}",
        r.stderr
    );

    // A single file is a rule source, and the rule fires.
    std::fs::write(&file, RULE.replace("KIND", "VirtualService")).unwrap();
    let r = go(&file);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(
        r.findings().iter().any(|f| f.0 == "ACME001"),
        "{}",
        r.stdout
    );

    // A custom resource's kind is written with its group.
    let cr = tmp.path().join("cr");
    std::fs::create_dir(&cr).unwrap();
    std::fs::write(
        cr.join("rollout.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web, namespace: shop}\nspec: {}\n",
    )
    .unwrap();
    std::fs::write(
        &file,
        "id: ACME002\nseverity: info\nsummary: a rollout\nmatch:\n  kinds: [argoproj.io/Rollout]\nmessage: rollout {{ object.metadata.name }}\n",
    )
    .unwrap();
    let r = run(
        &cr,
        &[
            "check",
            "--no-config",
            "--format",
            "json",
            "--rules",
            file.to_str().unwrap(),
            ".",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.findings().iter().any(|f| f.0 == "ACME002"),
        "{}",
        r.stdout
    );
    // Without the group, `Rollout` is no kind meshlint knows.
    std::fs::write(
        &file,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace("argoproj.io/", ""),
    )
    .unwrap();
    let r = run(&cr, &["rules", "--rules", file.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("argoproj.io/Rollout"), "{}", r.stderr);
}

#[test]
fn one_run_writes_the_gate_and_every_report() {
    let (_tmp, repo) = fixture_copy();
    let r = run(
        &repo,
        &[
            "check",
            "--format",
            "json",
            "--output-file",
            "out.json",
            "--report",
            "sarif=out.sarif",
            "--report",
            "junit=out.xml",
            "--report",
            "gcc=out.txt",
            ".",
        ],
    );
    assert_eq!(r.code, 1, "errors fail the gate: {}", r.stderr);
    assert_eq!(r.stdout, "", "the --format output went to --output-file");
    assert_eq!(r.stderr, "");
    let read = |f: &str| std::fs::read_to_string(repo.join(f)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&read("out.json")).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 3);
    let sarif: serde_json::Value = serde_json::from_str(&read("out.sarif")).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 3);
    assert!(read("out.xml").contains("<testsuite name=\"meshlint\""));
    assert_eq!(read("out.txt").lines().count(), 3);
    // The next run does not read the reports left in the tree as inputs.
    let files = json["summary"]["files"].clone();
    let again = run(
        &repo,
        &[
            "check",
            "--format",
            "json",
            "--output-file",
            "out.json",
            ".",
        ],
    );
    assert_eq!(again.code, 1);
    let json: serde_json::Value = serde_json::from_str(&read("out.json")).unwrap();
    assert_eq!(json["summary"]["files"], files);

    // A bad --report value is a usage error.
    let r = run(&repo, &["check", "--report", "sarif", "."]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("FORMAT=PATH"), "{}", r.stderr);
    let r = run(
        &repo,
        &["check", "-o", "a.json", "--report", "sarif=a.json", "."],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("two reports"), "{}", r.stderr);
    let r = run(&repo, &["check", "--report", "xml=a.xml", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown output format `xml`"),
        "{}",
        r.stderr
    );
}

#[test]
fn quiet_prints_what_fails_and_statistics_count_per_rule() {
    let (_tmp, repo) = fixture_copy();
    let r = run(&repo, &["check", "--format", "json", "-q", "."]);
    assert_eq!(r.code, 1);
    let rules: BTreeSet<String> = r.findings().into_iter().map(|f| f.0).collect();
    assert_eq!(
        rules,
        ["IT002".to_string(), "IT003".to_string()].into(),
        "the warning IT001 is below --fail-on"
    );
    let r = run(
        &repo,
        &[
            "check",
            "--color",
            "never",
            "-q",
            "--fail-on",
            "warning",
            ".",
        ],
    );
    assert!(r.stdout.contains("IT001"));
    assert_eq!(r.stderr, "", "no summary when quiet");

    let r = run(&repo, &["check", "--format", "gcc", "--statistics", "."]);
    assert_eq!(r.stdout.lines().count(), 3, "the report is unchanged");
    let rows: Vec<Vec<&str>> = r
        .stderr
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{}", r.stderr);
    assert!(
        rows.iter().any(|r| r[..3] == ["1", "IT001", "warning"]),
        "{rows:?}"
    );
    let total: usize = rows.iter().map(|r| r[0].parse::<usize>().unwrap()).sum();
    assert_eq!(total, 3);
}

#[test]
fn sarif_rules_link_docs_that_exist() {
    let r = run(
        &examples(),
        &["check", "--no-config", "--format", "sarif", "."],
    );
    let v = r.json();
    let run0 = &v["runs"][0];
    assert_eq!(run0["automationDetails"]["id"], "meshlint/");
    let mut linked = 0;
    for rule in run0["tool"]["driver"]["rules"].as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        if let Some(uri) = rule["helpUri"].as_str() {
            let page = uri.strip_prefix("https://meshlint.io/").unwrap();
            assert!(workspace().join(page).is_file(), "{uri}: no such page");
            assert!(page.ends_with(&format!("{id}.md")));
            linked += 1;
        } else {
            assert!(!id.starts_with("ML"), "built-in {id} without helpUri");
        }
    }
    assert!(linked > 0);
}

#[test]
fn inputs_without_objects_fail_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("values.yaml"), "replicas: 3\n").unwrap();
    let r = run(tmp.path(), &["check", "--no-config", "."]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no Kubernetes objects in the inputs"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--allow-empty"));
    let r = run(tmp.path(), &["check", "--no-config", "--allow-empty", "."]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A glob that matches nothing is the same mistake.
    std::fs::write(
        tmp.path().join("svc.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: b}\n",
    )
    .unwrap();
    let r = run(
        tmp.path(),
        &["check", "--no-config", "--include", "clusters/**", "."],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = run(tmp.path(), &["check", "--no-config", "."]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The human summary counts what suppressions and the baseline hid.
    assert!(
        r.stderr
            .trim_end()
            .ends_with("in 2 files (1 resource); 0 suppressed, 0 baselined"),
        "{}",
        r.stderr
    );
}

#[test]
fn rendered_streams_name_their_templates() {
    let dr = "apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: details
  namespace: shop
spec:
  host: details
  trafficPolicy:
    tls:
      mode: ISTIO_MUTAL
";
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: details\n  namespace: shop\nspec:\n  ports: [{port: 80, name: http}]\n";
    let stream = format!(
        "---\n# Source: shop/templates/svc.yaml\n{svc}---\n# Source: shop/templates/dr.yaml\n{dr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let r = run_env(
        dir.path(),
        &["check", "--no-config", "--format", "json", "-"],
        Some(stream.as_bytes()),
        &[],
    );
    let f: Vec<_> = r
        .findings()
        .into_iter()
        .filter(|f| f.0 == "schema-enum")
        .collect();
    // `mode:` is line 11 of the document under `---` (the `# Source:` line is 1).
    assert_eq!(
        f,
        [(
            "schema-enum".to_string(),
            "shop/templates/dr.yaml".to_string(),
            11
        )],
        "{}",
        r.stdout
    );
    // The human format shows the rendered document at that line.
    let r = run_env(
        dir.path(),
        &["check", "--no-config", "--color", "never", "-"],
        Some(stream.as_bytes()),
        &[],
    );
    assert!(
        r.stdout.contains(",-[shop/templates/dr.yaml:11:13]")
            && r.stdout.contains(" 11 |       mode: ISTIO_MUTAL"),
        "{}",
        r.stdout
    );

    // In JUnit too: the test classes are the templates, not the stream.
    let r = run_env(
        dir.path(),
        &["check", "--no-config", "--format", "junit", "-"],
        Some(stream.as_bytes()),
        &[],
    );
    assert!(
        r.stdout.contains("classname=\"shop/templates/dr.yaml\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("classname=\"shop/templates/svc.yaml\""),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("stdin"), "{}", r.stdout);

    // Without `# Source:` comments, --stdin-filename names the stream.
    let plain = format!("{svc}---\n{dr}");
    let r = run_env(
        dir.path(),
        &[
            "check",
            "--no-config",
            "--format",
            "json",
            "--stdin-filename",
            "overlays/prod.yaml",
            "-",
        ],
        Some(plain.as_bytes()),
        &[],
    );
    let files: BTreeSet<String> = r.findings().into_iter().map(|f| f.1).collect();
    assert_eq!(
        files,
        ["overlays/prod.yaml".to_string()].into(),
        "{}",
        r.stdout
    );
}

/// Two renderings of one chart (an almost-full and a full install) both name the same
/// template: each finding must show its own rendering's lines, the same on every run
/// (the template's text was the last rendering the sources map happened to visit).
#[test]
fn two_renderings_of_one_template_keep_their_own_lines() {
    let dr = |extra: &str| {
        format!(
            "---\n# Source: shop/templates/dr.yaml\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: details-{extra}\n  namespace: shop\n{}spec:\n  host: details\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTAL_{extra}\n",
            if extra == "full" { "  labels: {tier: full}\n" } else { "" }
        )
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("almost-full.yaml"), dr("almost")).unwrap();
    std::fs::write(dir.path().join("full.yaml"), dr("full")).unwrap();
    let json = run(
        dir.path(),
        &["check", "--no-config", "--format", "json", "."],
    );
    let enums: Vec<_> = json
        .findings()
        .into_iter()
        .filter(|f| f.0 == "schema-enum")
        .collect();
    // almost-full.yaml comes first: its `mode:` is line 11 of the template's text; the
    // full rendering follows after a `---` (line 12), one line longer, so line 24.
    assert_eq!(
        enums,
        [
            ("schema-enum".into(), "shop/templates/dr.yaml".into(), 11),
            ("schema-enum".into(), "shop/templates/dr.yaml".into(), 24),
        ],
        "{}",
        json.stdout
    );
    let human = || {
        run(
            dir.path(),
            &["check", "--no-config", "--color", "never", "."],
        )
        .stdout
    };
    let first = human();
    assert!(
        first.contains(" 11 |       mode: ISTIO_MUTAL_almost")
            && first.contains(" 24 |       mode: ISTIO_MUTAL_full"),
        "{first}"
    );
    for _ in 0..4 {
        assert_eq!(human(), first);
    }
}
