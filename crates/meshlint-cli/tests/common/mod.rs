//! Helpers shared by the integration tests: running the built binary and making
//! throw-away copies of the fixture repository under `testdata/integration/`.
#![allow(dead_code)]

use meshlint_cli::CheckResult;
use meshlint_diag::Finding;
use meshlint_report::{render_to_string, Format, HumanOptions, ReportInput};
use meshlint_rules::RuleSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The time the in-process harnesses judge certificates at (2027-01-01T00:00:00Z), so
/// that their results do not depend on the machine's clock.
pub const TEST_NOW: i64 = 1_798_761_600;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Says on the real stderr that a test skipped part of its work (for lack of data or a
/// tool). libtest captures `println!`/`eprintln!` of passing tests; a write to the stderr
/// handle itself is not captured, so `cargo test` shows the message.
pub fn skip(message: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
}

/// `testdata/integration/`.
pub fn integration() -> PathBuf {
    workspace().join("testdata/integration")
}

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    /// `(rule, file, line)` of every finding of a `--format json` run.
    pub fn findings(&self) -> Vec<(String, String, u64)> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["location"]["file"].as_str().unwrap().to_string(),
                    f["location"]["line"].as_u64().unwrap(),
                )
            })
            .collect()
    }
}

/// Runs `meshlint ARGS` in `cwd`, feeding `stdin` when given. `NO_COLOR` is removed
/// from the environment unless `env` sets it.
pub fn run_env(cwd: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshlint"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run meshlint");
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn run(cwd: &Path, args: &[&str]) -> Run {
    run_env(cwd, args, None, &[])
}

pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// A copy of `testdata/integration/{repo,rules}` in a temporary directory; the repo is
/// `<tmp>/repo` (its `.meshlint.yaml` loads `../rules`).
pub fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&integration().join("repo"), &tmp.path().join("repo"));
    copy_dir(&integration().join("rules"), &tmp.path().join("rules"));
    let repo = tmp.path().join("repo");
    (tmp, repo)
}

/// The shop Service, Deployment and namespace the suppression fixtures route to.
pub const SHOP_APP: &str = include_str!("../../../../testdata/integration/repo/shop/app.yaml");

/// The human report of `findings` (100 columns, no colour) with workspace paths made
/// relative, as the rule and scenario snapshots store it. Call
/// `CheckResult::strip_path_prefix` first so line wrapping does not depend on where the
/// repository is checked out.
pub fn human_report(findings: &[Finding], result: &CheckResult, rules: &RuleSet) -> String {
    let infos = rules.infos();
    let human = render_to_string(
        Format::Human,
        &ReportInput {
            findings,
            sources: &result.sources,
            rules: &infos,
            summary: result.summary,
            tool_version: "test",
            fail_threshold: Some(meshlint_diag::Severity::Info),
        },
        &HumanOptions {
            color: false,
            width: Some(100),
        },
    )
    .unwrap();
    human.replace(&format!("{}/", workspace().to_string_lossy()), "")
}
