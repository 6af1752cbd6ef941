//! Baselines through the binary: write then read gives no new findings, line moves keep
//! entries matched, new problems surface, fixed ones become stale entries.

mod common;
use common::*;

fn write_baseline(repo: &std::path::Path) -> serde_json::Value {
    let r = run(
        repo,
        &[
            "check",
            "--write-baseline",
            "baseline.json",
            "--format",
            "json",
            ".",
        ],
    );
    assert_eq!(
        r.code, 0,
        "writing a baseline accepts today's findings: {}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("wrote 3 baseline entries to baseline.json"),
        "{}",
        r.stderr
    );
    assert_eq!(r.findings(), vec![]);
    let text = std::fs::read_to_string(repo.join("baseline.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn check_with_baseline(repo: &std::path::Path) -> Run {
    run(
        repo,
        &[
            "check",
            "--baseline",
            "baseline.json",
            "--format",
            "json",
            ".",
        ],
    )
}

#[test]
fn write_then_read_reports_nothing_new() {
    let (_tmp, repo) = fixture_copy();
    let before = run(&repo, &["check", "--format", "json", "."]);
    assert_eq!(before.code, 1);
    assert_eq!(before.findings().len(), 3);

    let b = write_baseline(&repo);
    assert_eq!(b["version"], 1);
    let entries = b["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["file", "fingerprint", "message", "resource", "rule"],
            "no line numbers"
        );
        assert_eq!(e["fingerprint"].as_str().unwrap().len(), 32);
    }
    assert!(entries.iter().any(|e| e["rule"] == "IT002"
        && e["resource"]["name"] == "web"
        && e["file"] == "shop/routing.yaml"));

    let after = check_with_baseline(&repo);
    assert_eq!(after.code, 0, "{}{}", after.stdout, after.stderr);
    assert_eq!(after.findings(), vec![]);
    // The baseline file itself is not read as a manifest.
    assert_eq!(after.json()["summary"]["files"], 3);
}

#[test]
fn line_moves_keep_entries_and_new_findings_surface() {
    let (_tmp, repo) = fixture_copy();
    write_baseline(&repo);
    let routing = repo.join("shop/routing.yaml");
    let text = std::fs::read_to_string(&routing).unwrap();
    // Edits elsewhere in the file: a comment block on top and a new label, moving every
    // finding down by five lines.
    let edited = format!(
        "# Routing for the shop.\n# Owned by the web team.\n\n{}",
        text.replacen(
            "  name: web\n  namespace: shop\n",
            "  name: web\n  namespace: shop\n  labels:\n    team: web\n",
            1
        )
    );
    std::fs::write(&routing, &edited).unwrap();
    let r = check_with_baseline(&repo);
    assert_eq!(
        r.findings(),
        vec![],
        "moved findings stay baselined: {}",
        r.stdout
    );
    let plain = run(&repo, &["check", "--format", "json", "."]);
    assert!(plain
        .findings()
        .contains(&("IT002".into(), "shop/routing.yaml".into(), 29)));

    // A new problem is reported, also when it is the same rule in the same file.
    std::fs::write(
        &routing,
        format!("{edited}---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: web-canary\n  namespace: shop\nspec:\n  host: web\n  trafficPolicy:\n    tls:\n      mode: DISABLE\n"),
    )
    .unwrap();
    let r = check_with_baseline(&repo);
    assert_eq!(r.code, 1);
    let got = r.findings();
    assert_eq!(got.len(), 1, "{}", r.stdout);
    assert_eq!(got[0].0, "IT002");
    assert!(r.stdout.contains("web-canary"));
}

#[test]
fn fixed_findings_become_stale_entries_at_their_place_in_the_baseline() {
    let (_tmp, repo) = fixture_copy();
    write_baseline(&repo);
    let routing = repo.join("shop/routing.yaml");
    let text = std::fs::read_to_string(&routing).unwrap();
    std::fs::write(
        &routing,
        text.replace("mode: DISABLE", "mode: ISTIO_MUTUAL"),
    )
    .unwrap();
    let r = check_with_baseline(&repo);
    assert_eq!(r.code, 0, "stale entries are info");
    let got = r.findings();
    assert_eq!(got.len(), 1, "{}", r.stdout);
    let (rule, file, line) = &got[0];
    assert_eq!(rule, "stale-baseline-entry");
    assert_eq!(file, "baseline.json");
    let baseline = std::fs::read_to_string(repo.join("baseline.json")).unwrap();
    let lines: Vec<&str> = baseline.lines().collect();
    // The entry's first key, `"rule": "IT002"`.
    let entry_start = lines[*line as usize - 1];
    assert_eq!(
        entry_start.trim(),
        "\"rule\": \"IT002\",",
        "points at the entry: {baseline}"
    );
    assert_eq!(lines[*line as usize - 2].trim(), "{");
    let v = r.json();
    let f = &v["findings"][0];
    assert_eq!(f["severity"], "info");
    assert!(f["message"].as_str().unwrap().contains("IT002"));
    assert_eq!(f["resource"]["name"], "web");

    // Entries of files not checked this time, or of rules not run, are not stale.
    let r = run(
        &repo,
        &[
            "check",
            "--baseline",
            "baseline.json",
            "--format",
            "json",
            "payments",
        ],
    );
    assert_eq!(r.findings(), vec![], "{}", r.stdout);
    let r = run(
        &repo,
        &[
            "check",
            "--baseline",
            "baseline.json",
            "--format",
            "json",
            "--select",
            "IT001,IT003",
            ".",
        ],
    );
    assert_eq!(r.findings(), vec![], "{}", r.stdout);
    let r = run(
        &repo,
        &[
            "check",
            "--baseline",
            "baseline.json",
            "--format",
            "json",
            "--ignore",
            "stale-baseline-entry",
            ".",
        ],
    );
    assert_eq!(r.findings(), vec![], "{}", r.stdout);
}

#[test]
fn invalid_baseline_is_a_usage_error_with_its_position() {
    let (_tmp, repo) = fixture_copy();
    std::fs::write(
        repo.join("baseline.json"),
        "{\n  \"version\": 1,\n  \"entries\": [\n    {\"rule\": \"IT001\"}\n  ]\n}\n",
    )
    .unwrap();
    let r = check_with_baseline(&repo);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("baseline.json:4:6"), "{}", r.stderr);
    assert!(r.stderr.contains("missing field `file`"), "{}", r.stderr);
    let r = run(&repo, &["check", "--baseline", "nope.json", "."]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nope.json"), "{}", r.stderr);
}
