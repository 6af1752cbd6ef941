//! Hostile rule expressions end in bounded time and memory with a message naming the
//! rule (and the resource, when evaluation was stopped); the other rules go on and the
//! exit code says something was not evaluated.

mod common;
use common::*;
use std::time::{Duration, Instant};

const MANIFEST: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: dr, namespace: shop}\nspec:\n  host: reviews\n";

fn rule(id: &str, when: &str) -> String {
    format!(
        "id: {id}\nname: hostile-{}\nseverity: warning\ncategory: test\nsummary: hostile test rule\nmatch:\n  kinds: [DestinationRule]\nwhen: \"{when}\"\nmessage: \"{id} fired\"\nat: spec.host\n",
        id.to_lowercase()
    )
}

fn setup(rules: &[(&str, String)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("rules")).unwrap();
    for (id, text) in rules {
        std::fs::write(tmp.path().join(format!("rules/{id}.yaml")), text).unwrap();
    }
    std::fs::write(tmp.path().join("m.yaml"), MANIFEST).unwrap();
    tmp
}

#[test]
fn budgets_stop_one_rule_on_one_resource_and_the_rest_goes_on() {
    let tmp = setup(&[
        ("HX001", rule("HX001", "size(lists.range(1000000000)) > 0")),
        (
            "HX002",
            rule(
                "HX002",
                "lists.range(3000).all(i, lists.range(3000).all(j, i + j >= 0))",
            ),
        ),
        ("HX003", rule("HX003", "object.spec.host == 'reviews'")),
    ]);
    let started = Instant::now();
    let r = run(
        tmp.path(),
        &[
            "check",
            "--no-config",
            "--rules",
            "rules",
            "--select",
            "HX001,HX002,HX003",
            "--format",
            "json",
            "m.yaml",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    let fired: Vec<String> = r.findings().into_iter().map(|f| f.0).collect();
    assert_eq!(fired, ["HX003"], "{}", r.stderr);
    for id in ["HX001", "HX002"] {
        assert!(
            r.stderr.lines().any(|l| l.contains(id)
                && l.contains("not evaluated on")
                && l.contains("dr")
                && l.contains("evaluation budget exceeded")),
            "{id}: {}",
            r.stderr
        );
    }
    assert_eq!(r.code, 3, "{}", r.stderr);
}

#[test]
fn a_30000_term_chain_is_refused_at_load_naming_the_rule() {
    let chain = vec!["1"; 30_000].join(" + ");
    let tmp = setup(&[("HX010", rule("HX010", &format!("{chain} == 0")))]);
    let r = run(
        tmp.path(),
        &["check", "--no-config", "--rules", "rules", "m.yaml"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("HX010"), "{}", r.stderr);
    assert!(r.stderr.contains("too long"), "{}", r.stderr);
}
