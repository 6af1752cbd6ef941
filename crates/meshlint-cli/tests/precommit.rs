//! `--context` and the pre-commit hook. The hook is run the way pre-commit runs it —
//! `.pre-commit-hooks.yaml`'s `entry` split like a shell would, its `args`, then the
//! staged files that pass its `types_or` filter, in one batch (`require_serial`) from the
//! repository root — against a copy of the fixture repository.

mod common;
use common::*;
use meshlint_load::{load_source, LoadLimits, Node};
use std::collections::BTreeSet;

/// The binary of the repository root's package, which pre-commit's `language: rust`
/// installs with `cargo install --bins --root ENV --path .`.
const HOOK_BINARY: &str = "meshlint-pre-commit";

fn hook() -> Node {
    let path = workspace().join(".pre-commit-hooks.yaml");
    let bytes = std::fs::read(&path).unwrap();
    let loaded = load_source(
        ".pre-commit-hooks.yaml".into(),
        bytes,
        &LoadLimits::default(),
    );
    assert!(loaded.findings.is_empty(), "{:?}", loaded.findings);
    let root = loaded.documents.into_iter().next().unwrap().root;
    let hooks = root.items();
    assert_eq!(hooks.len(), 1);
    hooks[0].clone()
}

fn strings(n: Option<&Node>) -> Vec<String> {
    n.map(|n| {
        n.items()
            .iter()
            .filter_map(|i| i.as_str().map(String::from))
            .collect()
    })
    .unwrap_or_default()
}

/// pre-commit's `identify` tags for the extensions that matter here.
fn tags(file: &str) -> Vec<&'static str> {
    match file.rsplit('.').next() {
        Some("yaml" | "yml") => vec!["yaml"],
        Some("json") => vec!["json"],
        Some("md") => vec!["markdown"],
        _ => vec![],
    }
}

/// The argv pre-commit would run for these staged files.
fn hook_command(staged: &[&str]) -> Vec<String> {
    let h = hook();
    assert_eq!(h.str_at(&["id"]), Some("meshlint"));
    assert_eq!(
        h.str_at(&["language"]),
        Some("rust"),
        "pre-commit builds meshlint itself; nothing has to be on PATH"
    );
    assert_eq!(h.get("pass_filenames").and_then(Node::as_bool), Some(true));
    assert_eq!(
        h.get("require_serial").and_then(Node::as_bool),
        Some(true),
        "one batch"
    );
    let entry = h.str_at(&["entry"]).unwrap();
    let mut argv: Vec<String> = entry.split_whitespace().map(String::from).collect();
    argv.extend(strings(h.get("args")));
    let types_or = strings(h.get("types_or"));
    assert_eq!(types_or, ["yaml", "json"]);
    argv.extend(
        staged
            .iter()
            .filter(|f| tags(f).iter().any(|t| types_or.iter().any(|x| x == t)))
            .map(|f| f.to_string()),
    );
    argv
}

fn run_hook(repo: &std::path::Path, staged: &[&str]) -> Run {
    let argv = hook_command(staged);
    assert_eq!(
        argv[0], HOOK_BINARY,
        "entry runs the binary pre-commit's `cargo install --path .` built"
    );
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    run(repo, &args)
}

/// Files named in human output (`,-[file:line:col]`).
fn reported_files(r: &Run) -> BTreeSet<String> {
    let re = regex::Regex::new(r",-\[([^\]:]+):\d+:\d+\]").unwrap();
    re.captures_iter(&r.stdout)
        .map(|c| c[1].to_string())
        .collect()
}

#[test]
fn hook_reports_only_the_staged_files_with_the_repository_as_context() {
    let (_tmp, repo) = fixture_copy();
    std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
    std::fs::write(
        repo.join(".github/workflows/ci.yml"),
        "on: [push]\njobs: {}\n",
    )
    .unwrap();
    std::fs::write(repo.join("README.md"), "# shop\n").unwrap();

    let staged = ["shop/routing.yaml", "README.md", ".github/workflows/ci.yml"];
    assert_eq!(
        hook_command(&staged),
        [
            HOOK_BINARY,
            "check",
            "--force-exclude",
            "--context",
            ".",
            "shop/routing.yaml",
            ".github/workflows/ci.yml"
        ]
    );
    let r = run_hook(&repo, &staged);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(reported_files(&r), ["shop/routing.yaml".to_string()].into());
    // IT001 and IT002 in routing.yaml; not IT003 (its host is defined in shop/app.yaml,
    // loaded as context), and not payments' IT003 (not staged).
    assert!(
        r.stdout.contains("IT001") && r.stdout.contains("IT002"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("IT003"), "{}", r.stdout);
    assert!(
        r.stderr.contains("in 2 files"),
        "only the given files count: {}",
        r.stderr
    );

    // A staged file without problems passes.
    let r = run_hook(&repo, &["shop/app.yaml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(reported_files(&r), BTreeSet::new());
    // No staged file of the hook's types: only the entry is left (pre-commit does not
    // run a hook that has no files).
    assert_eq!(
        hook_command(&["README.md"]),
        [HOOK_BINARY, "check", "--force-exclude", "--context", "."]
    );
}

#[test]
fn context_is_what_makes_cross_file_rules_right() {
    let (_tmp, repo) = fixture_copy();
    // Alone, routing.yaml's DestinationRule names a host nothing defines.
    let alone = run(&repo, &["check", "--format", "json", "shop/routing.yaml"]);
    let rules: Vec<String> = alone.findings().into_iter().map(|f| f.0).collect();
    assert_eq!(rules, ["IT001", "IT003", "IT002"], "{}", alone.stdout);
    // With the repository as context the host resolves, and only routing.yaml is reported.
    let ctx = run(
        &repo,
        &[
            "check",
            "--format",
            "json",
            "--context",
            ".",
            "shop/routing.yaml",
        ],
    );
    let got = ctx.findings();
    assert_eq!(
        got,
        [
            ("IT001".to_string(), "shop/routing.yaml".to_string(), 10),
            ("IT002".to_string(), "shop/routing.yaml".to_string(), 24)
        ]
    );
    assert_eq!(ctx.json()["summary"]["files"], 1);
    // A context directory elsewhere works too, and so does stdin as the reported input.
    let routing = std::fs::read(repo.join("shop/routing.yaml")).unwrap();
    let r = run_env(
        &repo,
        &["check", "--format", "json", "--context", "shop", "-"],
        Some(&routing),
        &[],
    );
    let got = r.findings();
    assert_eq!(got.len(), 2, "{}", r.stdout);
    assert!(got.iter().all(|f| f.1 == "<stdin>"));
}

#[test]
fn hook_leaves_out_staged_files_the_configuration_excludes() {
    let (_tmp, repo) = fixture_copy();
    let config = std::fs::read_to_string(repo.join(".meshlint.yaml")).unwrap();
    std::fs::write(
        repo.join(".meshlint.yaml"),
        format!("{config}exclude: [\"shop/routing.yaml\"]\n"),
    )
    .unwrap();
    // pre-commit names the excluded file anyway; the hook must not lint it.
    let r = run_hook(&repo, &["shop/routing.yaml", "payments/payments.yaml"]);
    // The run itself must succeed (exit 1: payments' findings), and report exactly the
    // file that was not excluded: a crash (exit 2, no output) must not pass.
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        reported_files(&r),
        ["payments/payments.yaml".to_string()].into(),
        "{}{}",
        r.stdout,
        r.stderr
    );
    // Named without --force-exclude, it is linted as before.
    let r = run(&repo, &["check", "shop/routing.yaml"]);
    assert_eq!(
        reported_files(&r),
        ["shop/routing.yaml".to_string()].into(),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

/// What pre-commit's `language: rust` does with the hook repository: `cargo install
/// --bins --root ENV --path .` at its root, then runs `entry` with ENV/bin first on PATH.
/// That needs a package (not only a workspace) at the root whose binary is the entry's
/// program and is meshlint.
#[test]
fn the_repository_root_is_a_package_that_installs_the_hook_binary() {
    let manifest = std::fs::read_to_string(workspace().join("Cargo.toml")).unwrap();
    // The [package] and [[bin]] tables of the root manifest, read line by line.
    let mut table = String::new();
    let mut package_name = None;
    let mut bins = Vec::new();
    let mut bin_path = None;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            table = line.to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_string();
        match (table.as_str(), key.trim()) {
            ("[package]", "name") => package_name = Some(value),
            ("[[bin]]", "name") => bins.push(value),
            ("[[bin]]", "path") => bin_path = Some(value),
            _ => {}
        }
    }
    assert!(
        package_name.is_some(),
        "the root Cargo.toml has a [package]"
    );
    assert_eq!(bins, [HOOK_BINARY]);
    let main = std::fs::read_to_string(workspace().join(bin_path.unwrap())).unwrap();
    assert!(main.contains("meshlint_cli::cli::main()"), "{main}");
    assert!(manifest.contains("meshlint-cli = { path = \"crates/meshlint-cli\" }"));
    // The hook needs a pre-commit that can bootstrap Rust itself.
    let h = hook();
    let min = h.str_at(&["minimum_pre_commit_version"]).unwrap();
    let parts: Vec<u32> = min.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(parts >= vec![2, 21, 0], "{min}");
}

/// pre-commit itself, when asked (`MESHLINT_TEST_PRE_COMMIT=1` with `pre-commit` on PATH):
/// `pre-commit try-repo` builds the hook from this checkout with `language: rust` (a
/// release build: minutes, and crates from the registry) and runs it on a git copy of
/// the fixture repository. Otherwise the test says it skipped.
#[test]
fn real_pre_commit_builds_and_runs_the_hook() {
    if std::env::var_os("MESHLINT_TEST_PRE_COMMIT").is_none() {
        skip("real pre-commit run (set MESHLINT_TEST_PRE_COMMIT=1; needs pre-commit, network, minutes)");
        return;
    }
    let (_tmp, repo) = fixture_copy();
    std::fs::write(repo.join("README.md"), "# shop\n").unwrap();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
            .args(args)
            .current_dir(&repo)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "fixture"]);
    let out = std::process::Command::new("pre-commit")
        .arg("try-repo")
        .arg(workspace().canonicalize().unwrap())
        .args(["meshlint", "--files", "shop/routing.yaml", "README.md"])
        .env_remove("CARGO_TARGET_DIR")
        .current_dir(&repo)
        .output()
        .expect("pre-commit on PATH");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("shop/routing.yaml:24:13") && text.contains("IT002"),
        "{text}"
    );
    assert!(!text.contains("payments.yaml"), "{text}");
}
