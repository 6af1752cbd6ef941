//! The rule test harness: every built-in rule has fixtures under
//! `testdata/rules/<id>/` — `bad*.yaml` files whose lines marked `# expect: <id>` must
//! be exactly the lines reported, and `good*.yaml` files that must not trigger it.
//! Rendered human output of each triggering fixture is snapshotted. A rule without
//! both kinds of fixture fails the suite, and so does a stale `docs/rules/` page.
//!
//! Directives in a fixture's comments: `# meshlint-test: closed-world`,
//! `# meshlint-test: mesh-config=FILE` and `# meshlint-test: mesh-networks=FILE` (relative
//! to the fixture's directory; the `# expect:` lines of a mesh networks file count too).

mod common;

use common::workspace;
use meshlint_cli::{run_check, CheckOptions};
use meshlint_rules::{render_index, render_rule_markdown, RuleSet};
use std::path::{Path, PathBuf};

struct Outcome {
    reported: Vec<u32>,
    expected: Vec<u32>,
    human: String,
}

fn run_fixture(rule_id: &str, file: &Path) -> Outcome {
    let text = std::fs::read_to_string(file).unwrap();
    let mut expected = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(pos) = line.find("# expect:") {
            for id in line[pos + 9..].split([',', ' ']).map(str::trim) {
                if id == rule_id {
                    expected.push(i as u32 + 1);
                }
            }
        }
    }
    let closed_world = text.contains("# meshlint-test: closed-world");
    let mesh_config = text
        .lines()
        .find_map(|l| l.split("# meshlint-test: mesh-config=").nth(1))
        .map(|f| file.parent().unwrap().join(f.trim()));
    // `# meshlint-test: mesh-networks=FILE`: its `# expect:` lines count too.
    let mesh_networks = text
        .lines()
        .find_map(|l| l.split("# meshlint-test: mesh-networks=").nth(1))
        .map(|f| file.parent().unwrap().join(f.trim()));
    if let Some(p) = &mesh_networks {
        let networks = std::fs::read_to_string(p).unwrap();
        for (i, line) in networks.lines().enumerate() {
            if let Some(pos) = line.find("# expect:") {
                if line[pos + 9..]
                    .split([',', ' '])
                    .any(|id| id.trim() == rule_id)
                {
                    expected.push(i as u32 + 1);
                }
            }
        }
    }
    let mut rules = RuleSet::builtin().unwrap();
    rules.filter(&[rule_id.to_string()], &[]);
    let opts = CheckOptions {
        paths: vec![file.to_string_lossy().to_string()],
        closed_world,
        mesh_config,
        mesh_networks,
        ..CheckOptions::default()
    };
    let mut result = run_check(&opts, &rules).unwrap();
    assert!(result.rule_errors.is_empty(), "{:?}", result.rule_errors);
    // Paths relative to the workspace before rendering: line wrapping must not depend on
    // where the repository is checked out.
    result.strip_path_prefix(&format!("{}/", workspace().to_string_lossy()));
    let ours: Vec<_> = result
        .findings
        .iter()
        .filter(|f| &*f.rule == rule_id)
        .cloned()
        .collect();
    let mut reported: Vec<u32> = ours.iter().map(|f| f.location.span.start.line).collect();
    reported.sort();
    expected.sort();
    let human = common::human_report(&ours, &result, &rules);
    Outcome {
        reported,
        expected,
        human,
    }
}

#[test]
fn every_rule_has_fixtures_that_pass() {
    let rules = RuleSet::builtin().expect("built-in rules load");
    assert!(!rules.rules.is_empty());
    let mut problems = Vec::new();
    for rule in &rules.rules {
        let id = rule.id();
        let dir = workspace().join("testdata/rules").join(id);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().to_string();
        let bad: Vec<_> = files
            .iter()
            .filter(|p| name(p).starts_with("bad"))
            .collect();
        let good: Vec<_> = files
            .iter()
            .filter(|p| name(p).starts_with("good"))
            .collect();
        if bad.is_empty() || good.is_empty() {
            problems.push(format!(
                "{id}: needs bad*.yaml and good*.yaml fixtures in {}",
                dir.display()
            ));
            continue;
        }
        for f in bad {
            let o = run_fixture(id, f);
            if o.expected.is_empty() {
                problems.push(format!(
                    "{}: a bad fixture without `# expect: {id}`",
                    f.display()
                ));
            }
            if o.reported != o.expected {
                problems.push(format!(
                    "{}: expected {id} on lines {:?}, reported on {:?}",
                    f.display(),
                    o.expected,
                    o.reported
                ));
            }
            let snap = format!("{id}__{}", name(f).trim_end_matches(".yaml"));
            insta::with_settings!({snapshot_path => workspace().join("testdata/rules/snapshots"), prepend_module_to_snapshot => false}, {
                insta::assert_snapshot!(snap, o.human);
            });
        }
        for f in good {
            let o = run_fixture(id, f);
            if !o.reported.is_empty() || !o.expected.is_empty() {
                problems.push(format!(
                    "{}: good fixture, but {id} reported on lines {:?}",
                    f.display(),
                    o.reported
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_rule_is_documented_and_docs_are_fresh() {
    let rules = RuleSet::builtin().unwrap();
    let docs = workspace().join("docs/rules");
    let mut stale = Vec::new();
    let mut sorted: Vec<_> = rules.rules.iter().collect();
    sorted.sort_by(|a, b| a.id().cmp(b.id()));
    for r in &sorted {
        let d = r.docs();
        assert!(
            d.is_some_and(|d| !d.what.trim().is_empty()
                && !d.why.trim().is_empty()
                && !d.bad.trim().is_empty()
                && !d.good.trim().is_empty()),
            "{} lacks docs (what, why, bad, good)",
            r.id()
        );
        let page = docs.join(format!("{}.md", r.id()));
        if std::fs::read_to_string(&page).ok().as_deref() != Some(render_rule_markdown(r).as_str())
        {
            stale.push(page.display().to_string());
        }
    }
    if std::fs::read_to_string(docs.join("README.md"))
        .ok()
        .as_deref()
        != Some(render_index(&sorted).as_str())
    {
        stale.push("docs/rules/README.md".to_string());
    }
    assert!(
        stale.is_empty(),
        "stale rule docs (run `cargo run -p meshlint-cli -- rules --write-docs docs/rules`): {stale:?}"
    );
}
