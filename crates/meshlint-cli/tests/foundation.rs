//! End-to-end checks of the foundation through the real binary: mixed inputs, bad
//! input isolation, exit codes, user rules, rule-file errors and the rule commands.

use std::process::Command;

fn meshlint(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_meshlint"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("run meshlint");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[test]
fn mixed_directory_reports_bad_documents_and_analyzes_the_rest() {
    let (code, out, _) = meshlint(&["check", "--format", "json", "testdata/foundation/mixed"]);
    assert_eq!(code, 1);
    let v = json(&out);
    let findings = v["findings"].as_array().unwrap();
    let at = |rule: &str| {
        findings
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| {
                (
                    f["location"]["file"].as_str().unwrap().to_string(),
                    f["location"]["line"].as_u64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        at("parse-error"),
        vec![("testdata/foundation/mixed/bad/broken.yaml".to_string(), 14)]
    );
    assert_eq!(
        at("helm-template"),
        vec![(
            "testdata/foundation/mixed/bad/chart-deployment.yaml".to_string(),
            4
        )]
    );
    // The documents around the broken one, the Certificate and the app were analyzed;
    // the values file and kustomization were skipped quietly.
    assert_eq!(v["summary"]["resources"], 6, "{out}");
    assert_eq!(v["summary"]["files"], 6);
    assert_eq!(findings.len(), 2, "{out}");
}

#[test]
fn the_same_without_bad_files_exits_zero() {
    let (code, out, err) = meshlint(&[
        "check",
        "--format",
        "json",
        "testdata/foundation/mixed/good",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(json(&out)["findings"].as_array().unwrap().len(), 0);
    let (_, _, err) = meshlint(&["check", "--verbose", "testdata/foundation/mixed/good"]);
    assert!(
        err.contains("values.yaml document 1: no apiVersion/kind"),
        "{err}"
    );
}

#[test]
fn stdin_multi_document_stream() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshlint"))
        .args(["check", "--format", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: a}\nspec:\n  host: x\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTAL\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&String::from_utf8_lossy(&out.stdout));
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "schema-enum")
        .expect("the typo is reported");
    assert_eq!(f["location"]["file"], "<stdin>");
    assert_eq!(
        (
            f["location"]["line"].as_u64(),
            f["location"]["column"].as_u64()
        ),
        (Some(12), Some(13))
    );
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `ISTIO_MUTUAL`"));
    assert_eq!(v["summary"]["resources"], 2);
}

#[test]
fn user_rule_in_the_minimum_form_reports_at_its_field() {
    let args = [
        "check",
        "--rules",
        "testdata/foundation/user-rules/ok",
        "--select",
        "ACME001",
    ];
    let (code, out, _) = meshlint(
        &[
            &args[..],
            &["--format", "json", "testdata/foundation/user-rules/vs.yaml"],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "warnings do not fail by default");
    let v = json(&out);
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "ACME001");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["message"], "HTTP route without timeout");
    assert_eq!(f["location"]["line"], 9, "points at the `http` key");
    assert_eq!(f["location"]["column"], 3);
    let (code, out, _) = meshlint(
        &[
            &args[..],
            &["--color", "never", "testdata/foundation/user-rules/vs.yaml"],
        ]
        .concat(),
    );
    assert_eq!(code, 0);
    assert!(out.contains("ACME001"), "{out}");
    assert!(
        out.contains("testdata/foundation/user-rules/vs.yaml:9:3"),
        "{out}"
    );
    assert!(out.contains("HTTP route without timeout"));
    let (code, _, _) = meshlint(
        &[
            &args[..],
            &[
                "--fail-on",
                "warning",
                "testdata/foundation/user-rules/vs.yaml",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 1);
}

#[test]
fn rule_file_with_cel_typo_is_refused_with_its_position() {
    let (code, out, err) = meshlint(&[
        "check",
        "--rules",
        "testdata/foundation/user-rules/typo",
        "testdata/foundation/user-rules/vs.yaml",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("testdata/foundation/user-rules/typo/acme002.yaml:6:7"),
        "{err}"
    );
    assert!(err.contains("unknown function `exsts`"), "{err}");
    assert!(err.contains("did you mean `exists`"), "{err}");
}

#[test]
fn rules_explain_and_schema_commands() {
    let (code, out, _) = meshlint(&["rules"]);
    assert_eq!(code, 0);
    assert!(out.contains("ML0001") && out.contains("service-port-protocol-undeclared"));
    let (code, out, _) = meshlint(&["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let v = json(&out);
    assert!(v.as_array().unwrap().iter().any(|r| r["id"] == "ML0002"));
    let (code, out, _) = meshlint(&["explain", "ML0002"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("# ML0002 `virtualservice-gateway-not-found`"));
    assert!(out.contains("## Why it breaks") && out.contains("## Use instead"));
    let (code, _, err) = meshlint(&["explain", "NOPE"]);
    assert_eq!(code, 2);
    assert!(err.contains("no rule `NOPE`"));
    let (code, out, _) = meshlint(&["schema", "rules"]);
    assert_eq!(code, 0);
    let v = json(&out);
    let props = &v["properties"];
    for key in [
        "id", "severity", "summary", "match", "when", "message", "at", "for_each", "docs",
    ] {
        assert!(props.get(key).is_some(), "schema lacks {key}");
    }
}

#[test]
fn missing_path_is_a_usage_error() {
    let (code, _, err) = meshlint(&["check", "no/such/dir"]);
    assert_eq!(code, 2);
    assert!(err.contains("no/such/dir"));
}
