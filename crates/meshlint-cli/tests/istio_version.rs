//! `--istio-version` / `istio_version` select the release line whose CRD schemas the
//! manifests are checked against: what a newer release has is reported as needing it.

mod common;
use common::*;

fn schema_findings(r: &Run) -> Vec<(String, String)> {
    r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap_or("").starts_with("schema-"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_1_30_field_and_kind_under_1_29() {
    let dir = workspace().join("testdata/istio-version");
    let r = run(
        &dir,
        &[
            "check",
            "--no-config",
            "--format",
            "json",
            "--istio-version",
            "1.29",
            "newer-fields.yaml",
        ],
    );
    let got = schema_findings(&r);
    assert!(
        got.iter().any(|(rule, m)| rule == "schema-release"
            && m.starts_with("`trustDomains` needs Istio 1.30 or later; the target is 1.29")),
        "{got:?}"
    );
    assert!(
        got.iter().any(|(rule, m)| rule == "schema-release"
            && m.starts_with("the kind TrafficExtension needs Istio 1.30 or later")),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|(rule, _)| rule == "schema-unknown-field"),
        "{got:?}"
    );

    // The default target is 1.30: both are known there.
    let r = run(
        &dir,
        &[
            "check",
            "--no-config",
            "--format",
            "json",
            "newer-fields.yaml",
        ],
    );
    let got = schema_findings(&r);
    assert!(
        !got.iter()
            .any(|(_, m)| m.contains("trustDomains") || m.contains("TrafficExtension")),
        "{got:?}"
    );
}

#[test]
fn istio_version_in_the_config_file_and_unknown_lines() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        workspace().join("testdata/istio-version/newer-fields.yaml"),
        tmp.path().join("m.yaml"),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join(".meshlint.yaml"),
        "istio_version: \"1.29.2\"\n",
    )
    .unwrap();
    let r = run(tmp.path(), &["check", "--format", "json", "m.yaml"]);
    assert!(
        schema_findings(&r)
            .iter()
            .any(|(_, m)| m.contains("the target is 1.29")),
        "{}",
        r.stdout
    );
    let r = run(tmp.path(), &["check", "--istio-version", "1.9", "m.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("1.22 to 1.31-dev"), "{}", r.stderr);
}
