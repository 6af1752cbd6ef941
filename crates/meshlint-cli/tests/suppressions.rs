//! Suppressions through the binary: the `meshlint.io/ignore` annotation, Istio's
//! `galley.istio.io/analyze-suppress`, `# meshlint-ignore:` comments, and unused
//! suppressions reported as info findings.

mod common;
use common::*;

const SUPPRESSED: &str = r#"apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: annotated
  namespace: shop
  annotations:
    meshlint.io/ignore: "route-without-timeout, IT002"
spec:
  hosts: [web]
  http:
    - name: one
      route:
        - destination: {host: web}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: galley
  namespace: shop
  annotations:
    galley.istio.io/analyze-suppress: "IST0101,IST9002"
spec:
  host: web
  trafficPolicy: {tls: {mode: DISABLE}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: comment-above
  namespace: shop
spec:
  host: web
  trafficPolicy:
    tls:
      # meshlint-ignore: IT002 -- plaintext to a legacy client, see TICKET-1
      mode: DISABLE
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: comment-wrong-rule
  namespace: shop
spec:
  host: web
  trafficPolicy:
    tls:
      mode: DISABLE # meshlint-ignore: IT001
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: same-line
  namespace: shop
spec:
  host: web
  trafficPolicy:
    tls:
      mode: DISABLE # meshlint-ignore: dr-tls-disabled
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: nothing-to-hide
  namespace: shop
  annotations:
    meshlint.io/ignore: all
    galley.istio.io/analyze-suppress: "*"
spec:
  hosts: [web]
  http:
    - route:
        - destination: {host: web}
      timeout: 2s
"#;

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, repo) = fixture_copy();
    let dir = repo.join("sup");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("app.yaml"), SHOP_APP).unwrap();
    std::fs::write(dir.join("sup.yaml"), SUPPRESSED).unwrap();
    (tmp, repo)
}

fn line_of(needle: &str) -> u64 {
    SUPPRESSED
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in fixture")) as u64
        + 1
}

#[test]
fn annotations_galley_codes_and_comments_silence_findings_and_unused_ones_are_reported() {
    let (_tmp, repo) = setup();
    let r = run(&repo, &["check", "--format", "json", "sup"]);
    let f = "sup/sup.yaml".to_string();
    let wrong_rule = line_of("mode: DISABLE # meshlint-ignore: IT001");
    let mut expected = vec![
        // IT002 in the annotation of a VirtualService silences nothing.
        (
            "unused-suppression".to_string(),
            f.clone(),
            line_of("route-without-timeout, IT002"),
        ),
        // A comment naming another rule does not hide IT002 and is itself unused.
        ("IT002".to_string(), f.clone(), wrong_rule),
        ("unused-suppression".to_string(), f.clone(), wrong_rule),
        // `all` on a resource without findings.
        (
            "unused-suppression".to_string(),
            f.clone(),
            line_of("meshlint.io/ignore: all"),
        ),
    ];
    expected.sort_by_key(|e| (e.2, e.0.clone()));
    let mut got = r.findings();
    got.sort_by_key(|e| (e.2, e.0.clone()));
    assert_eq!(got, expected, "{}", r.stdout);
    // Unused suppressions are info: the run passes (no IT002 left but the one that is
    // not suppressed, which is an error).
    assert_eq!(r.code, 1);
    let v = r.json();
    let unused: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "unused-suppression")
        .collect();
    assert!(unused.iter().all(|f| f["severity"] == "info"));
    let messages: Vec<&str> = unused
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`IT002`") && m.contains("VirtualService shop/annotated")),
        "{messages:?}"
    );
    // The annotation finding points at the annotation value, the comment one at the `#`.
    let at = |needle: &str| {
        unused
            .iter()
            .find(|f| f["message"].as_str().unwrap().contains(needle))
            .map(|f| f["location"]["column"].as_u64().unwrap())
            .unwrap()
    };
    assert_eq!(at("`IT002`"), 25);
    assert_eq!(at("`IT001`"), 21);
    // Galley codes meshlint does not implement (IST0101) and `*` are not "unused".
    assert!(!messages
        .iter()
        .any(|m| m.contains("IST0101") || m.contains("`*`")));
}

#[test]
fn no_suppressions_shows_everything() {
    let (_tmp, repo) = setup();
    let r = run(
        &repo,
        &["check", "--format", "json", "--no-suppressions", "sup"],
    );
    let rules: Vec<String> = r.findings().into_iter().map(|f| f.0).collect();
    assert_eq!(
        rules.iter().filter(|r| *r == "IT002").count(),
        4,
        "every DISABLE is reported: {rules:?}"
    );
    assert_eq!(rules.iter().filter(|r| *r == "IT001").count(), 1);
    assert!(!rules.iter().any(|r| r == "unused-suppression"));
}

#[test]
fn unused_suppression_reports_can_be_ignored_and_follow_rule_selection() {
    let (_tmp, repo) = setup();
    let r = run(
        &repo,
        &[
            "check",
            "--format",
            "json",
            "--ignore",
            "unused-suppression",
            "sup",
        ],
    );
    let rules: Vec<String> = r.findings().into_iter().map(|f| f.0).collect();
    assert_eq!(rules, ["IT002"], "{}", r.stdout);

    // With only IT002 running, the comment naming IT001 is about a rule that did not run:
    // not reported as unused. The annotation's IT002 entry still is.
    let r = run(
        &repo,
        &["check", "--format", "json", "--select", "IT002", "sup"],
    );
    let got = r.findings();
    let unused: Vec<u64> = got
        .iter()
        .filter(|f| f.0 == "unused-suppression")
        .map(|f| f.2)
        .collect();
    assert_eq!(
        unused,
        [
            line_of("route-without-timeout, IT002"),
            line_of("meshlint.io/ignore: all")
        ],
        "{}",
        r.stdout
    );
}

#[test]
fn suppressions_in_context_files_are_honoured_but_not_reported() {
    let (_tmp, repo) = setup();
    // Report on app.yaml only; sup.yaml is context: its unused suppressions are not
    // reported (they are not in the files being checked).
    let r = run(
        &repo,
        &[
            "check",
            "--format",
            "json",
            "--context",
            "sup",
            "sup/app.yaml",
        ],
    );
    assert_eq!(r.findings(), vec![], "{}", r.stdout);
    assert_eq!(r.code, 0);
}

#[test]
fn galley_codes_meshlint_implements_are_reported_when_unused() {
    let (_tmp, repo) = fixture_copy();
    std::fs::write(
        repo.join("shop/fixed.yaml"),
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: fixed\n  namespace: shop\n  annotations:\n    galley.istio.io/analyze-suppress: \"IST9002, IST0101\"\nspec:\n  host: web\n  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n",
    )
    .unwrap();
    let r = run(
        &repo,
        &[
            "check",
            "--format",
            "json",
            "--context",
            ".",
            "shop/fixed.yaml",
        ],
    );
    let v = r.json();
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["rule"], "unused-suppression");
    assert_eq!(f[0]["location"]["line"], 7);
    assert!(f[0]["message"].as_str().unwrap().contains("`IST9002`"));
}
