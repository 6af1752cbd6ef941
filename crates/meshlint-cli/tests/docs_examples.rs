//! The `docs.bad` and `docs.good` examples of every built-in rule (what `meshlint
//! explain` and `docs/rules/` show users) demonstrate the rule: run on its own, the bad
//! example triggers the rule and the good example does not.
//!
//! An example is checked in the open world (the default), unless it says otherwise with
//! a comment line of its own: `# meshlint check --closed-world` checks it in the closed
//! world only. A good example that names no world must be clean in both worlds. An
//! example that is a MeshNetworks file says so with a comment line containing
//! `meshlint check --mesh-networks` and is passed that way.

mod common;

use meshlint_cli::{run_check, CheckOptions};
use meshlint_rules::RuleSet;

/// The worlds an example is checked in: closed-world flags.
fn worlds(example: &str, bad: bool) -> Vec<bool> {
    let closed = example
        .lines()
        .any(|l| l.trim() == "# meshlint check --closed-world");
    match (closed, bad) {
        (true, _) => vec![true],
        (false, true) => vec![false],
        (false, false) => vec![false, true],
    }
}

/// Whether the example is a MeshNetworks file rather than manifests.
fn is_mesh_networks(example: &str) -> bool {
    example
        .lines()
        .any(|l| l.trim_start().starts_with('#') && l.contains("meshlint check --mesh-networks"))
}

/// Findings of `rule_id` when `example` is checked alone, as `line N: message`.
fn findings(rules: &RuleSet, rule_id: &str, example: &str, closed_world: bool) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{rule_id}.yaml"));
    std::fs::write(&file, example).unwrap();
    let mut mesh_networks = None;
    let mut paths = vec![file.to_string_lossy().to_string()];
    if is_mesh_networks(example) {
        let empty = dir.path().join("empty.yaml");
        std::fs::write(&empty, "").unwrap();
        paths = vec![empty.to_string_lossy().to_string()];
        mesh_networks = Some(file);
    }
    let opts = CheckOptions {
        paths,
        mesh_networks,
        closed_world,
        now: Some(common::TEST_NOW),
        ..CheckOptions::default()
    };
    let result = run_check(&opts, rules).unwrap();
    assert!(result.rule_errors.is_empty(), "{:?}", result.rule_errors);
    let ours: Vec<_> = result
        .findings
        .iter()
        .filter(|f| &*f.rule == rule_id)
        .collect();
    for f in &ours {
        assert!(
            !f.message.contains('\n') && f.related.iter().all(|r| !r.message.contains('\n')),
            "{rule_id}: a message spans lines: {:?}",
            f.message
        );
    }
    ours.iter()
        .map(|f| format!("line {}: {}", f.location.span.start.line, f.message))
        .collect()
}

#[test]
fn every_docs_example_demonstrates_its_rule() {
    let all = RuleSet::builtin().expect("built-in rules load");
    let mut problems = Vec::new();
    let mut checked = 0;
    for rule in &all.rules {
        let id = rule.id();
        let Some(docs) = rule.docs() else {
            problems.push(format!("{id}: no docs"));
            continue;
        };
        let mut rules = RuleSet::builtin().unwrap();
        rules.filter(&[id.to_string()], &[]);
        let world = |c: bool| if c { "closed world" } else { "open world" };
        for closed in worlds(&docs.bad, true) {
            checked += 1;
            if findings(&rules, id, &docs.bad, closed).is_empty() {
                problems.push(format!(
                    "{id}: docs.bad does not trigger it ({})",
                    world(closed)
                ));
            }
        }
        for closed in worlds(&docs.good, false) {
            checked += 1;
            let got = findings(&rules, id, &docs.good, closed);
            if !got.is_empty() {
                problems.push(format!(
                    "{id}: docs.good triggers it ({}): {}",
                    world(closed),
                    got.join("; ")
                ));
            }
        }
    }
    assert!(checked > 0);
    assert!(
        problems.is_empty(),
        "{} of the docs examples do not demonstrate their rule:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn world_directive() {
    assert_eq!(worlds("a: 1\n", true), [false]);
    assert_eq!(worlds("a: 1\n", false), [false, true]);
    assert_eq!(
        worlds("# meshlint check --closed-world\na: 1\n", false),
        [true]
    );
    assert!(is_mesh_networks(
        "# meshlint check --mesh-networks this-file.yaml\nnetworks: {}\n"
    ));
    assert!(!is_mesh_networks("networks: {}\n"));
}
