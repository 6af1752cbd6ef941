//! The rule test harness: every built-in rule has fixtures under
//! `testdata/rules/<id>/` — `bad*.yaml` files whose `# expect: <id> col=<column>
//! <severity>` annotations must be exactly the findings reported (file, start line,
//! start column, severity), and `good*.yaml` files that must not trigger it. Where the
//! findings point (`related`), `# expect: <id> col=<column> related` marks each distinct
//! related location. No message of any finding may span lines.
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

/// One finding as a fixture states it: file (relative to the workspace), line, column
/// (1-based, in characters) and severity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Expect {
    file: String,
    line: u32,
    col: u32,
    severity: String,
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{} {}",
            self.file, self.line, self.col, self.severity
        )
    }
}

/// Reads the `# expect:` annotations of `rule_id` in `text` (the file `file`, relative
/// to the workspace). An annotation is a comma-separated list of
/// `<rule> col=<column> <severity>` on the line the finding starts on (the severity word
/// `related` marks a related location instead); annotations of other rules are
/// ignored. A malformed annotation of `rule_id` is an error.
fn parse_expects(rule_id: &str, file: &str, text: &str) -> Result<Vec<Expect>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(pos) = line.find("# expect:") else {
            continue;
        };
        for entry in line[pos + 9..].split(',') {
            let mut words = entry.split_whitespace();
            if words.next() != Some(rule_id) {
                continue;
            }
            let (mut col, mut severity) = (None, None);
            for w in words {
                if let Some(c) = w.strip_prefix("col=") {
                    col = c.parse::<u32>().ok().filter(|c| *c > 0);
                    if col.is_none() {
                        return Err(format!("{file}:{}: bad column `{w}`", i + 1));
                    }
                } else if ["error", "warning", "info", "related"].contains(&w) {
                    severity = Some(w.to_string());
                } else {
                    return Err(format!(
                        "{file}:{}: unknown word `{w}` in `# expect:`",
                        i + 1
                    ));
                }
            }
            match (col, severity) {
                (Some(col), Some(severity)) => out.push(Expect {
                    file: file.to_string(),
                    line: i as u32 + 1,
                    col,
                    severity,
                }),
                _ => {
                    return Err(format!(
                        "{file}:{}: `# expect: {rule_id}` must state `col=<column>` and a \
                         severity (error, warning or info) or `related`",
                        i + 1
                    ))
                }
            }
        }
    }
    Ok(out)
}

struct Outcome {
    reported: Vec<Expect>,
    expected: Result<Vec<Expect>, String>,
    /// Messages (of findings and their related locations) that span lines.
    multiline: Vec<String>,
    human: String,
}

fn relative(p: &Path) -> String {
    let p = normalize(p);
    p.strip_prefix(normalize(&workspace()))
        .unwrap_or(&p)
        .to_string_lossy()
        .to_string()
}

/// Findings of `result` that are not on one line: the message or a related message
/// contains a newline (JSON and SARIF show it as is).
fn multiline_messages(findings: &[meshlint_diag::Finding]) -> Vec<String> {
    let mut out = Vec::new();
    for f in findings {
        let at = format!(
            "{} {}:{}",
            f.rule, f.location.file, f.location.span.start.line
        );
        if f.message.contains(['\n', '\r']) {
            out.push(format!("{at}: message {:?}", f.message));
        }
        for r in &f.related {
            if r.message.contains(['\n', '\r']) {
                out.push(format!("{at}: related message {:?}", r.message));
            }
        }
        if f.help.as_deref().is_some_and(|h| h.contains(['\n', '\r'])) {
            out.push(format!("{at}: help {:?}", f.help));
        }
    }
    out
}

fn run_fixture(rule_id: &str, file: &Path) -> Outcome {
    let text = std::fs::read_to_string(file).unwrap();
    let mut expected = parse_expects(rule_id, &relative(file), &text);
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
        let more = parse_expects(rule_id, &relative(p), &networks);
        expected = expected.and_then(|mut e| {
            e.extend(more?);
            Ok(e)
        });
    }
    let mut rules = RuleSet::builtin().unwrap();
    rules.filter(&[rule_id.to_string()], &[]);
    let opts = CheckOptions {
        paths: vec![file.to_string_lossy().to_string()],
        closed_world,
        now: Some(common::TEST_NOW),
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
    let mut reported: Vec<Expect> = ours
        .iter()
        .map(|f| Expect {
            file: relative(Path::new(&*f.location.file)),
            line: f.location.span.start.line,
            col: f.location.span.start.column,
            severity: f.severity.as_str().to_string(),
        })
        .collect();
    // Related locations, each stated once however many findings point at it.
    let mut related: Vec<Expect> = ours
        .iter()
        .flat_map(|f| &f.related)
        .map(|r| Expect {
            file: relative(Path::new(&*r.location.file)),
            line: r.location.span.start.line,
            col: r.location.span.start.column,
            severity: "related".to_string(),
        })
        .collect();
    related.sort();
    related.dedup();
    reported.extend(related);
    reported.sort();
    if let Ok(e) = &mut expected {
        e.sort();
    }
    let human = common::human_report(&ours, &result, &rules);
    Outcome {
        reported,
        expected,
        multiline: multiline_messages(&result.findings),
        human,
    }
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

fn list(v: &[Expect]) -> String {
    if v.is_empty() {
        return "nothing".into();
    }
    v.iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn expect_annotations_state_file_line_column_and_severity() {
    let e = parse_expects(
        "ML0001",
        "f.yaml",
        "a: 1\nb: 2 # expect: ML0001 col=4 error, ML0002 col=1 info\n  c: 3 # expect: ML0001 warning col=3, ML0001 col=9 info\n",
    )
    .unwrap();
    let got: Vec<String> = e.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        got,
        ["f.yaml:2:4 error", "f.yaml:3:3 warning", "f.yaml:3:9 info"]
    );
    let r = parse_expects("ML0001", "f.yaml", "x # expect: ML0001 col=2 related\n").unwrap();
    assert_eq!(r[0].to_string(), "f.yaml:1:2 related");
    // The bare rule id of the old format no longer says enough.
    assert!(parse_expects("ML0001", "f.yaml", "b: 2 # expect: ML0001\n").is_err());
    assert!(parse_expects("ML0001", "f.yaml", "b: 2 # expect: ML0001 col=2\n").is_err());
    assert!(parse_expects("ML0001", "f.yaml", "b: 2 # expect: ML0001 col=0 error\n").is_err());
    assert!(parse_expects("ML0001", "f.yaml", "b: 2 # expect: ML0001 col=2 fatal\n").is_err());
    // Another rule's bare annotation is not ours to judge.
    assert!(parse_expects("ML0001", "f.yaml", "b: 2 # expect: ML0002\n")
        .unwrap()
        .is_empty());
    // Same line in two files is two expectations, not one.
    let a = parse_expects("ML0001", "a.yaml", "x # expect: ML0001 col=1 error\n").unwrap();
    let b = parse_expects("ML0001", "b.yaml", "x # expect: ML0001 col=1 error\n").unwrap();
    assert_ne!(a, b);
}

#[test]
fn multiline_messages_are_found() {
    use meshlint_diag::{Finding, Location, Severity};
    let loc = Location {
        file: "f.yaml".into(),
        span: Default::default(),
    };
    let ok = Finding::new("ML0001", Severity::Error, "one line", loc.clone());
    let bad = Finding::new("ML0001", Severity::Error, "two\nlines", loc);
    assert!(multiline_messages(&[ok]).is_empty());
    assert_eq!(multiline_messages(&[bad]).len(), 1);
}

#[test]
fn every_rule_has_fixtures_that_pass() {
    let rules = RuleSet::builtin().expect("built-in rules load");
    assert!(!rules.rules.is_empty());
    let mut problems = Vec::new();
    let mut snapshots = Vec::new();
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
            problems.extend(o.multiline.iter().cloned());
            match &o.expected {
                Err(e) => problems.push(e.clone()),
                Ok(e) if e.is_empty() => problems.push(format!(
                    "{}: a bad fixture without `# expect: {id}`",
                    f.display()
                )),
                Ok(e) if *e != o.reported => problems.push(format!(
                    "{}: expected {id} at {}; reported at {}",
                    f.display(),
                    list(e),
                    list(&o.reported)
                )),
                Ok(_) => {}
            }
            let snap = format!("{id}__{}", name(f).trim_end_matches(".yaml"));
            snapshots.push((snap, o.human));
        }
        for f in good {
            let o = run_fixture(id, f);
            problems.extend(o.multiline.iter().cloned());
            if !o.reported.is_empty() || !o.expected.as_ref().is_ok_and(|e| e.is_empty()) {
                problems.push(format!(
                    "{}: good fixture, but {id} reported at {}",
                    f.display(),
                    list(&o.reported)
                ));
            }
        }
    }
    // The stated expectations first: a snapshot diff (or a bulk accept) must not stand
    // in for them.
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    for (snap, human) in snapshots {
        insta::with_settings!({snapshot_path => workspace().join("testdata/rules/snapshots"), prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(snap, human);
        });
    }
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

/// Certificate validity is judged at the injected time, not the machine's clock: the
/// good ML3023 fixture's certificate starts on 2026-11-22, so a run "on" 2026-01-01
/// reports it as not valid yet and a run on [`common::TEST_NOW`] does not.
#[test]
fn certificate_validity_uses_the_injected_clock() {
    let file = workspace().join("testdata/rules/ML3023/good.yaml");
    let mut rules = RuleSet::builtin().unwrap();
    rules.filter(&["ML3023".to_string()], &[]);
    let at = |now: i64| {
        let opts = CheckOptions {
            paths: vec![file.to_string_lossy().to_string()],
            now: Some(now),
            ..CheckOptions::default()
        };
        run_check(&opts, &rules)
            .unwrap()
            .findings
            .into_iter()
            .filter(|f| &*f.rule == "ML3023")
            .map(|f| f.message)
            .collect::<Vec<_>>()
    };
    let early = at(1_767_225_600); // 2026-01-01T00:00:00Z
    assert!(
        early.len() == 1 && early[0].contains("not valid yet"),
        "{early:?}"
    );
    assert!(at(common::TEST_NOW).is_empty());
}

/// ML3024's related location is the other Gateway's conflicting server, not its
/// `servers` list (whose first entry may be an unrelated server).
#[test]
fn ml3024_related_points_at_the_conflicting_server() {
    let file = workspace().join("testdata/rules/ML3024/bad.yaml");
    let mut rules = RuleSet::builtin().unwrap();
    rules.filter(&["ML3024".to_string()], &[]);
    let opts = CheckOptions {
        paths: vec![file.to_string_lossy().to_string()],
        now: Some(common::TEST_NOW),
        ..CheckOptions::default()
    };
    let mut got: Vec<(u32, Vec<(u32, u32)>)> = run_check(&opts, &rules)
        .unwrap()
        .findings
        .iter()
        .filter(|f| &*f.rule == "ML3024")
        .map(|f| {
            (
                f.location.span.start.line,
                f.related
                    .iter()
                    .map(|r| (r.location.span.start.line, r.location.span.start.column))
                    .collect(),
            )
        })
        .collect();
    got.sort();
    // shop/shop's server 1 (line 10) and shop-legacy's server 0 (line 19) point at each other.
    assert_eq!(got, vec![(10, vec![(19, 5)]), (19, vec![(10, 5)])]);
}
