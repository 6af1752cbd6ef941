//! Exit codes and what goes to stderr: `--fail-on`, `--max-warnings`, usage errors,
//! the human-mode summary line, and colour control.

mod common;
use common::*;

/// The fixture has 2 errors (IT002, IT003) and 1 warning (IT001); `--select` narrows it.
fn code(args: &[&str]) -> i32 {
    let repo = integration().join("repo");
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    all.push(".");
    let r = run(&repo, &all);
    assert!(r.code == 2 || serde_json::from_str::<serde_json::Value>(&r.stdout).is_ok());
    r.code
}

#[test]
fn fail_on_levels() {
    assert_eq!(code(&[]), 1, "errors fail by default");
    assert_eq!(code(&["--fail-on", "error"]), 1);
    assert_eq!(code(&["--fail-on", "never"]), 0);
    // Only the warning.
    assert_eq!(code(&["--select", "IT001"]), 0);
    assert_eq!(code(&["--select", "IT001", "--fail-on", "error"]), 0);
    assert_eq!(code(&["--select", "IT001", "--fail-on", "warning"]), 1);
    assert_eq!(code(&["--select", "IT001", "--fail-on", "info"]), 1);
    assert_eq!(code(&["--select", "IT001", "--fail-on", "never"]), 0);
}

#[test]
fn fail_on_info_counts_info_findings() {
    let (tmp, repo) = fixture_copy();
    let cfg = tmp.path().join("info.yaml");
    std::fs::write(
        &cfg,
        "rules: [rules]\nselect: [IT001]\nseverity: {IT001: info}\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let r = run(&repo, &["check", "--config", cfg, "--format", "json", "."]);
    assert_eq!(r.json()["summary"]["infos"], 1);
    assert_eq!(r.code, 0);
    let r = run(
        &repo,
        &[
            "check",
            "--config",
            cfg,
            "--fail-on",
            "warning",
            "--format",
            "json",
            ".",
        ],
    );
    assert_eq!(r.code, 0);
    let r = run(
        &repo,
        &[
            "check",
            "--config",
            cfg,
            "--fail-on",
            "info",
            "--format",
            "json",
            ".",
        ],
    );
    assert_eq!(r.code, 1);
}

#[test]
fn max_warnings() {
    assert_eq!(code(&["--select", "IT001", "--max-warnings", "0"]), 1);
    assert_eq!(code(&["--select", "IT001", "--max-warnings", "1"]), 0);
    assert_eq!(code(&["--max-warnings", "1", "--fail-on", "never"]), 0);
}

#[test]
fn usage_errors_exit_2() {
    let repo = integration().join("repo");
    for args in [
        &["check", "--bogus", "."][..],
        &["check", "--fail-on", "sometimes", "."],
        &["check", "--format", "xml", "."],
        &["check", "--max-warnings", "many", "."],
        &["check", "no/such/path"],
        &["check", "--context", "no/such/dir", "shop/app.yaml"],
        &["check", "--mesh-config", "no/such/mesh.yaml", "."],
        &["check", "--rules", "no/such/rules", "."],
        &["frobnicate"],
    ] {
        let r = run(&repo, args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(!r.stderr.is_empty(), "{args:?} explains itself");
    }
    let (_tmp, repo) = fixture_copy();
    std::fs::write(repo.join(".meshlint.yaml"), "fail_on: [error]\n").unwrap();
    let r = run(&repo, &["check", "."]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(".meshlint.yaml:1:1"), "{}", r.stderr);
}

#[test]
fn summary_line_on_stderr_in_human_mode_only() {
    let repo = integration().join("repo");
    let r = run(&repo, &["check", "--color", "never", "."]);
    assert_eq!(r.code, 1);
    let last = r.stderr.lines().last().unwrap_or("");
    assert_eq!(
        last, "2 errors, 1 warning, 0 infos in 3 files (8 resources); 0 suppressed, 0 baselined",
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("IT002"));
    for format in ["json", "sarif", "gcc", "github", "codeclimate", "junit"] {
        let r = run(&repo, &["check", "--format", format, "."]);
        assert_eq!(r.stderr, "", "{format} keeps stderr quiet");
        assert_eq!(r.code, 1);
    }
}

#[test]
fn no_color_and_color_never_mean_no_ansi_escapes() {
    let repo = integration().join("repo");
    let with = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        all.push(".");
        let r = run_env(&repo, &all, None, env);
        format!("{}{}", r.stdout, r.stderr)
    };
    // The check can fail: --color always does write escapes.
    assert!(with(&["--color", "always"], &[]).contains('\u{1b}'));
    assert!(!with(&["--color", "never"], &[]).contains('\u{1b}'));
    assert!(!with(&[], &[("NO_COLOR", "1")]).contains('\u{1b}'));
    assert!(!with(&["--color", "auto"], &[("NO_COLOR", "1")]).contains('\u{1b}'));
    // Not a terminal: auto means no colour either.
    assert!(!with(&[], &[]).contains('\u{1b}'));
}
