//! The snippets of `docs/ci.md`, run as they are written: every `meshlint check …`
//! command in the document is executed on a copy of `testdata/integration/repo` (stdin
//! for the `… | meshlint check -` pipes) and its output is checked structurally. The list
//! of commands found in the document must equal the list this test knows, so a snippet
//! cannot be added or changed without being exercised.

mod common;
use common::*;
use regex::Regex;
use std::collections::BTreeSet;
use std::path::Path;

fn ci_md() -> String {
    std::fs::read_to_string(workspace().join("docs/ci.md")).unwrap()
}

/// The fenced code blocks of a Markdown document: (info string, body).
fn code_blocks(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in md.lines() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            match current.take() {
                Some(block) => out.push(block),
                None => current = Some((info.trim().to_string(), String::new())),
            }
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// Every `meshlint check` command in the code blocks, with the producer of a pipe and the
/// redirection as written: `[producer | ]meshlint check …[ > file]`.
fn documented_commands(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (_, body) in code_blocks(md) {
        for line in body.lines() {
            let Some(at) = line.find("meshlint check") else {
                continue;
            };
            let mut cmd = line[at..].to_string();
            for end in ["\"", " #"] {
                if let Some(i) = cmd.find(end) {
                    cmd.truncate(i);
                }
            }
            let before = &line[..at];
            if let Some(pipe) = before.rfind("| ") {
                let start = before.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(0);
                let producer = before[start..pipe].trim();
                cmd = format!("{producer} | {cmd}");
            }
            out.push(cmd.trim().to_string());
        }
    }
    out
}

/// A parsed documented command.
struct Invocation<'a> {
    producer: Option<&'a str>,
    args: Vec<&'a str>,
    redirect: Option<&'a str>,
}

fn parse(cmd: &str) -> Invocation<'_> {
    let (producer, rest) = match cmd.split_once(" | ") {
        Some((p, r)) => (Some(p), r),
        None => (None, cmd),
    };
    let (rest, redirect) = match rest.split_once(" > ") {
        Some((r, f)) => (r, Some(f.trim())),
        None => (rest, None),
    };
    let mut args: Vec<&str> = rest.split_whitespace().collect();
    assert_eq!(args.remove(0), "meshlint");
    Invocation {
        producer,
        args,
        redirect,
    }
}

/// What `kustomize build` or `helm template` would print for the fixture: every
/// manifest of the repository as one multi-document stream.
fn rendered_stream(repo: &Path) -> Vec<u8> {
    let mut docs = Vec::new();
    for f in [
        "shop/app.yaml",
        "shop/routing.yaml",
        "payments/payments.yaml",
    ] {
        docs.push(std::fs::read_to_string(repo.join(f)).unwrap());
    }
    docs.join("---\n").into_bytes()
}

/// Runs a documented command in `repo` the way the snippet does; the redirect target is
/// written like the shell would.
fn execute(repo: &Path, cmd: &str) -> Run {
    let inv = parse(cmd);
    let stdin = inv.producer.map(|p| {
        assert!(
            p.starts_with("kustomize build") || p.starts_with("helm template"),
            "{p}"
        );
        rendered_stream(repo)
    });
    let r = run_env(repo, &inv.args, stdin.as_deref(), &[]);
    if let Some(file) = inv.redirect {
        std::fs::write(repo.join(file), &r.stdout).unwrap();
    }
    r
}

fn check_sarif(r: &Run) {
    let v = r.json();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for res in results {
        assert!(res["ruleId"].as_str().unwrap().starts_with("IT"));
        let loc = &res["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"].as_str().is_some());
        assert!(loc["region"]["startLine"].as_u64().unwrap() > 0);
        assert!(res["partialFingerprints"]
            .as_object()
            .is_some_and(|m| !m.is_empty()));
    }
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("testdata/sarif/sarif-schema-2.1.0.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "SARIF schema violations: {errors:?}");
}

fn check_github(r: &Run) {
    let re = Regex::new(
        r"^::(error|warning|notice) file=([^,]+),line=(\d+),endLine=(\d+),col=(\d+),endColumn=(\d+),title=meshlint ([A-Za-z0-9_-]+)::(.+)$",
    )
    .unwrap();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    for l in &lines {
        let c = re
            .captures(l)
            .unwrap_or_else(|| panic!("not a workflow command: {l}"));
        assert!(Path::new(&c[2]).is_relative(), "{l}");
    }
    assert!(lines
        .iter()
        .any(|l| l.starts_with("::error file=shop/routing.yaml,line=24,")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("::warning file=shop/routing.yaml,line=10,")));
}

fn check_codeclimate(r: &Run) {
    let v = r.json();
    let issues = v.as_array().unwrap();
    assert_eq!(issues.len(), 3);
    let mut fingerprints = BTreeSet::new();
    for i in issues {
        assert_eq!(i["type"], "issue");
        assert!(["critical", "major", "minor", "info", "blocker"]
            .contains(&i["severity"].as_str().unwrap()));
        assert!(i["check_name"].as_str().unwrap().starts_with("IT"));
        assert!(i["description"].as_str().is_some());
        assert!(i["location"]["path"].as_str().is_some());
        assert!(i["location"]["lines"]["begin"].as_u64().unwrap() > 0);
        assert!(fingerprints.insert(i["fingerprint"].as_str().unwrap().to_string()));
    }
}

fn check_junit(r: &Run) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(&r.stdout);
    let (mut suites, mut cases, mut failures) = (0, 0, Vec::new());
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("bad XML: {e}\n{}", r.stdout))
        {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => suites += 1,
                b"testcase" => cases += 1,
                b"failure" => failures.push(
                    e.try_get_attribute("type")
                        .unwrap()
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                        .unwrap_or_default(),
                ),
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(suites, 1);
    assert_eq!(cases, 4, "three findings and one clean file");
    failures.sort();
    assert_eq!(failures, ["IT001", "IT002", "IT003"]);
}

/// The problem matcher of the VS Code snippet, as VS Code reads it.
fn problem_matcher(md: &str) -> (Regex, serde_json::Value) {
    let (_, body) = code_blocks(md)
        .into_iter()
        .find(|(info, body)| info == "json" && body.contains("problemMatcher"))
        .expect("a tasks.json snippet");
    let tasks: serde_json::Value = serde_json::from_str(&body).expect("tasks.json is JSON");
    let matcher = tasks["tasks"][0]["problemMatcher"].clone();
    let re = Regex::new(matcher["pattern"]["regexp"].as_str().unwrap()).unwrap();
    (re, matcher["pattern"].clone())
}

fn check_gcc(r: &Run, md: &str, stdin: bool) {
    let (re, pattern) = problem_matcher(md);
    let group = |name: &str| pattern[name].as_u64().unwrap() as usize;
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    for l in lines {
        let c = re
            .captures(l)
            .unwrap_or_else(|| panic!("problem matcher misses: {l}"));
        let file = &c[group("file")];
        if stdin {
            assert_eq!(file, "<stdin>");
        } else {
            assert!(
                Path::new(file).is_relative() && !file.starts_with("./"),
                "{l}"
            );
        }
        assert!(c[group("line")].parse::<u32>().unwrap() > 0);
        assert!(c[group("column")].parse::<u32>().unwrap() > 0);
        assert!(["error", "warning", "note"].contains(&&c[group("severity")]));
        assert!(c[group("code")].starts_with("IT"), "{l}");
        assert!(!c[group("message")].is_empty());
    }
}

/// Runs the pre-commit hook entry as pre-commit would (entry + changed files).
fn check_hook_entry(repo: &Path, cmd: &str) {
    let mut args: Vec<&str> = parse(cmd).args;
    args.push("shop/routing.yaml");
    let r = run(repo, &args);
    // Human format: files appear as `,-[file:line:col]`.
    let re = Regex::new(r",-\[([^\]:]+):\d+:\d+\]").unwrap();
    let files: BTreeSet<String> = re
        .captures_iter(&r.stdout)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(
        files,
        ["shop/routing.yaml".to_string()].into(),
        "{}",
        r.stdout
    );
}

#[test]
fn every_documented_command_runs_and_its_output_parses() {
    let md = ci_md();
    let documented = documented_commands(&md);
    let known = [
        "meshlint check --format sarif --fail-on never . > meshlint.sarif",
        "meshlint check --format github .",
        "meshlint check --format junit --fail-on never . > meshlint-junit.xml",
        "meshlint check --format codeclimate . > gl-code-quality-report.json",
        "kustomize build overlays/prod | meshlint check --format gcc -",
        "helm template shop ./charts/shop --namespace shop | meshlint check -",
        "meshlint check --write-baseline .meshlint-baseline.json .",
        "meshlint check --baseline .meshlint-baseline.json .",
        "meshlint check --force-exclude --context .",
        "meshlint check --format gcc .",
    ];
    assert_eq!(
        documented
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        known.into_iter().collect::<BTreeSet<_>>(),
        "docs/ci.md and this test disagree on the commands"
    );

    let (_tmp, repo) = fixture_copy();
    for cmd in &documented {
        let r = execute(&repo, cmd);
        let expect_code = match cmd.as_str() {
            c if c.contains("--fail-on never") => 0,
            c if c.contains("--write-baseline") => 0,
            _ => 1,
        };
        match cmd.as_str() {
            c if c.contains("--format sarif") => {
                check_sarif(&r);
                assert!(repo.join("meshlint.sarif").is_file());
            }
            c if c.contains("--format github") => check_github(&r),
            c if c.contains("--format junit") => check_junit(&r),
            c if c.contains("--format codeclimate") => check_codeclimate(&r),
            c if c.contains("--format gcc") => check_gcc(&r, &md, c.ends_with(" -")),
            c if c.starts_with("helm template") => {
                assert!(r.stdout.contains("<stdin>:"), "{}", r.stdout);
                assert!(
                    r.stderr
                        .ends_with("2 errors, 1 warning, 0 infos in 1 file (8 resources)\n"),
                    "{}",
                    r.stderr
                );
            }
            c if c.contains("--write-baseline") => {
                assert!(repo.join(".meshlint-baseline.json").is_file());
            }
            c if c.contains("--baseline") => {
                // Run right after the baseline was written: nothing new, so it passes.
                assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
                continue;
            }
            c if c.contains("--context") => {
                check_hook_entry(&repo, c);
                continue;
            }
            other => panic!("no check for {other}"),
        }
        assert_eq!(r.code, expect_code, "{cmd}: {}", r.stderr);
        if cmd.contains("--format") {
            assert_eq!(r.stderr, "", "{cmd}: machine formats keep stderr quiet");
        }
    }
}

#[test]
fn the_problem_matcher_also_reads_stdin_and_note_lines() {
    let (re, _) = problem_matcher(&ci_md());
    for l in [
        "<stdin>:12:13: error: `ISTIO_MUTAL` is not valid [schema-enum]",
        "shop/app.yaml:1:1: note: unused suppression: `x` [unused-suppression]",
        "a b/c.yaml:3:4: warning: message with [brackets] inside [ML0001]",
    ] {
        assert!(re.is_match(l), "{l}");
    }
}

#[test]
fn local_pre_commit_snippet_matches_the_published_hook() {
    let md = ci_md();
    let (_, local) = code_blocks(&md)
        .into_iter()
        .find(|(_, b)| b.contains("repo: local"))
        .unwrap();
    let hooks = std::fs::read_to_string(workspace().join(".pre-commit-hooks.yaml")).unwrap();
    for key in [
        "id",
        "entry",
        "language",
        "types_or",
        "pass_filenames",
        "require_serial",
    ] {
        let value = |text: &str| {
            text.lines()
                .map(str::trim)
                .map(|l| l.trim_start_matches("- "))
                .find_map(|l| l.strip_prefix(&format!("{key}: ")).map(str::to_string))
                .unwrap_or_else(|| panic!("{key} missing"))
        };
        assert_eq!(value(&local), value(&hooks), "{key}");
    }
}
