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
            if let Some(docker) = before.find("docker run") {
                // The container runs meshlint: keep the whole `docker run …` line.
                out.push(line[docker..].trim().to_string());
                continue;
            }
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
/// `helm template` puts `# Source: CHART/templates/FILE` above each document.
fn rendered_stream(repo: &Path, helm: bool) -> Vec<u8> {
    let mut docs = Vec::new();
    for f in [
        "shop/app.yaml",
        "shop/routing.yaml",
        "payments/payments.yaml",
    ] {
        let text = std::fs::read_to_string(repo.join(f)).unwrap();
        let mut out = String::new();
        for doc in text.split("\n---\n") {
            if helm {
                let name = f.rsplit('/').next().unwrap();
                out.push_str(&format!("---\n# Source: shop/templates/{name}\n"));
            } else if !out.is_empty() {
                out.push_str("---\n");
            }
            out.push_str(doc.trim_start_matches("---\n"));
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        docs.push(out);
    }
    if helm {
        docs.concat().into_bytes()
    } else {
        docs.join("---\n").into_bytes()
    }
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
        rendered_stream(repo, p.starts_with("helm template"))
    });
    let r = run_env(repo, &inv.args, stdin.as_deref(), &[]);
    if let Some(file) = inv.redirect {
        std::fs::write(repo.join(file), &r.stdout).unwrap();
    }
    r
}

fn check_sarif(text: &str) {
    let v: serde_json::Value = serde_json::from_str(text).expect("SARIF is JSON");
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
    assert_eq!(v["runs"][0]["automationDetails"]["id"], "meshlint/");
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

fn check_codeclimate(text: &str) {
    let v: serde_json::Value = serde_json::from_str(text).expect("Code Quality is JSON");
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

/// JUnit as a junit parser reads it: only the errors (the default `--fail-on`) fail;
/// the warning is a passing test case with its message in `system-out`.
fn check_junit(xml: &str) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut suites, mut cases, mut outs, mut failures) = (0, 0, 0, Vec::new());
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("bad XML: {e}\n{xml}"))
        {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => suites += 1,
                b"testcase" => cases += 1,
                b"system-out" => outs += 1,
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
    assert_eq!(failures, ["IT002", "IT003"], "the errors fail");
    assert_eq!(outs, 1, "the warning (IT001) passes, its message kept");
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

fn check_gcc(r: &Run, md: &str, stdin: Option<&str>) {
    let (re, pattern) = problem_matcher(md);
    let group = |name: &str| pattern[name].as_u64().unwrap() as usize;
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    for l in lines {
        let c = re
            .captures(l)
            .unwrap_or_else(|| panic!("problem matcher misses: {l}"));
        let file = &c[group("file")];
        if let Some(name) = stdin {
            assert_eq!(file, name);
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
        "meshlint check --format github --report sarif=meshlint.sarif .",
        "meshlint check --format codeclimate --output-file gl-code-quality-report.json --report junit=meshlint-junit.xml .",
        "docker run --rm -v \"$PWD:/src\" meshlint check --format gcc .",
        "kustomize build overlays/prod | meshlint check --format gcc --stdin-filename overlays/prod -",
        "helm template shop ./charts/shop --namespace shop | meshlint check -n shop -",
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
    let read = |f: &str| std::fs::read_to_string(repo.join(f)).unwrap();
    for cmd in &documented {
        if cmd.starts_with("docker run") {
            check_container_command(&repo, cmd, &md);
            continue;
        }
        let r = execute(&repo, cmd);
        let expect_code = match cmd.as_str() {
            c if c.contains("--fail-on never") => 0,
            c if c.contains("--write-baseline") => 0,
            _ => 1,
        };
        match cmd.as_str() {
            c if c.contains("--report sarif=") => {
                // One run: annotations and the gate on stdout, SARIF in the file.
                check_github(&r);
                check_sarif(&read("meshlint.sarif"));
            }
            c if c.contains("--format codeclimate") => {
                assert_eq!(r.stdout, "", "the report went to --output-file");
                check_codeclimate(&read("gl-code-quality-report.json"));
                check_junit(&read("meshlint-junit.xml"));
            }
            c if c.contains("--stdin-filename") => check_gcc(&r, &md, Some("overlays/prod")),
            c if c.contains("--format gcc") => check_gcc(&r, &md, None),
            c if c.starts_with("helm template") => {
                // Each finding names the template its document came from, at its
                // line inside the rendered document (`# Source:` is line 1).
                assert!(!r.stdout.contains("<stdin>"), "{}", r.stdout);
                assert!(
                    r.stdout.contains(",-[shop/templates/routing.yaml:"),
                    "{}",
                    r.stdout
                );
                assert!(
                    r.stderr.ends_with(
                        "2 errors, 1 warning, 0 infos in 1 file (8 resources); 0 suppressed, 0 baselined\n"
                    ),
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
    // The local hook runs meshlint from PATH (`language: system`); the published one
    // the binary pre-commit builds (`language: rust`). Both run the same check.
    let hook_value = |text: &str, key: &str| {
        text.lines()
            .map(str::trim)
            .map(|l| l.trim_start_matches("- "))
            .find_map(|l| l.strip_prefix(&format!("{key}: ")).map(str::to_string))
            .unwrap_or_else(|| panic!("{key} missing"))
    };
    assert_eq!(hook_value(&local, "language"), "system");
    assert_eq!(hook_value(&hooks, "language"), "rust");
    let args = |entry: String| entry.split_once(' ').unwrap().1.to_string();
    assert_eq!(
        args(hook_value(&local, "entry")),
        args(hook_value(&hooks, "entry"))
    );
    assert!(hook_value(&local, "entry").starts_with("meshlint "));
    for key in ["id", "types_or", "pass_filenames", "require_serial"] {
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

/// The container command, without Docker: the image's entry point is meshlint and its
/// working directory the mounted `/src`, so `docker run … meshlint ARGS` is `meshlint
/// ARGS` run in the mounted directory (the Dockerfile itself is checked in
/// tests/install.rs).
fn check_container_command(repo: &Path, cmd: &str, md: &str) {
    let dockerfile = std::fs::read_to_string(workspace().join("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/meshlint\"]"),
        "{dockerfile}"
    );
    assert!(dockerfile.contains("WORKDIR /src"), "{dockerfile}");
    let (mount, args) = cmd.split_once(" meshlint ").unwrap();
    assert!(mount.contains("-v \"$PWD:/src\""), "{cmd}");
    let args: Vec<&str> = args.split_whitespace().collect();
    let r = run(repo, &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    check_gcc(&r, md, None);
}

#[test]
fn the_published_pre_commit_snippet_pins_no_tag_that_does_not_exist() {
    let md = ci_md();
    let (_, snippet) = code_blocks(&md)
        .into_iter()
        .find(|(_, b)| b.contains("rev:"))
        .expect("a snippet using meshlint's repository");
    let rev = snippet
        .lines()
        .find_map(|l| l.trim().strip_prefix("rev: "))
        .unwrap()
        .split(" #")
        .next()
        .unwrap()
        .trim()
        .to_string();
    let looks_like_tag = rev.starts_with('v') && rev[1..].starts_with(|c: char| c.is_ascii_digit());
    if !looks_like_tag {
        assert_eq!(rev, "main", "a branch pre-commit can clone");
        return;
    }
    let tags = std::process::Command::new("git")
        .args(["tag", "--list", &rev])
        .current_dir(workspace())
        .output();
    match tags {
        Ok(out) if out.status.success() => assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            rev,
            "docs/ci.md pins `rev: {rev}`, which is no tag of this repository"
        ),
        _ => skip(&format!("no git here to check that tag {rev} exists")),
    }
}
