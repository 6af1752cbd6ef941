//! The custom rules of `docs/rule-language.md` ("Custom rules against the queries") run as
//! written: each is extracted from the page, loaded with `--rules`, and must report on an
//! input made to trigger it (and only there), so the documented API cannot drift from the
//! functions it names.

mod common;

use common::{run, workspace};

const INPUT: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: pay, labels: {team: payments, istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Service
metadata: {name: ledger, namespace: pay}
spec:
  selector: {app: ledger}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: pay}
spec:
  selector: {matchLabels: {app: ledger}}
  template:
    metadata: {labels: {app: ledger}}
    spec: {containers: [{name: app, image: ledger}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ledger, namespace: pay}
spec:
  hosts: [ledger]
  http:
  - route:
    - destination: {host: ledgr}
";

/// The YAML blocks of the page's custom-rules section.
fn documented_rules() -> Vec<String> {
    let page = std::fs::read_to_string(workspace().join("docs/rule-language.md"))
        .expect("docs/rule-language.md");
    let section = page
        .split("\n## Custom rules against the queries\n")
        .nth(1)
        .expect("the custom-rules section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn documented_custom_rules_load_and_report() {
    let rules = documented_rules();
    assert_eq!(rules.len(), 3, "three custom rules are documented");
    let dir = tempfile::tempdir().unwrap();
    let rule_dir = dir.path().join("rules");
    std::fs::create_dir(&rule_dir).unwrap();
    for (i, r) in rules.iter().enumerate() {
        std::fs::write(rule_dir.join(format!("rule{i}.yaml")), r).unwrap();
    }
    std::fs::write(dir.path().join("mesh.yaml"), INPUT).unwrap();
    let fixtures = workspace().join("testdata/rules/ML1001");
    let rules_arg = rule_dir.to_str().unwrap();

    let ours = run(
        dir.path(),
        &[
            "check",
            "mesh.yaml",
            "--rules",
            rules_arg,
            "--select",
            "ACME",
            "--no-config",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let mut ids: Vec<(String, u64)> = ours
        .findings()
        .into_iter()
        .map(|(rule, _, line)| (rule, line))
        .collect();
    ids.sort();
    // ACME001 at the misspelt host, ACME003 at the Service's name.
    assert_eq!(
        ids,
        [("ACME001".to_string(), 28), ("ACME003".to_string(), 7)],
        "{}",
        ours.stderr
    );

    let tls = run(
        &fixtures,
        &[
            "check",
            "bad.yaml",
            "good.yaml",
            "--rules",
            rules_arg,
            "--select",
            "ACME002",
            "--no-config",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let files: Vec<String> = tls
        .findings()
        .into_iter()
        .map(|(_, file, _)| file)
        .collect();
    assert!(
        files.iter().any(|f| f.ends_with("bad.yaml")),
        "ACME002 reports the bad fixture: {}",
        tls.stdout
    );
    assert!(
        !files.iter().any(|f| f.ends_with("good.yaml")),
        "ACME002 stays quiet on the good fixture: {}",
        tls.stdout
    );
}
