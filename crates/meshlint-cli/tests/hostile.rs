//! Hostile and odd input (issue 18): whatever a pull request contains, meshlint exits 0
//! or 1 (2 only where the contract says), never panics, reports the problem as a finding
//! with a file, line and column, keeps memory bounded and keeps every other file's
//! findings. One test per item of the issue; the large inputs are generated here.
//!
//! Static cases live in `testdata/hostile/`; `docs/hardening.md` explains both.

mod common;

use common::{run, run_env, workspace, Run};
use meshlint_report::Format;
use std::path::{Path, PathBuf};

/// A file with one finding we can count on whatever the rules do: a duplicate key.
const NEIGHBOUR: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: n\n  name: m\n";

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Common assertions of every hostile run: no panic, exit 0 or 1, no raw escape
/// character on either stream.
fn sane(r: &Run, what: &str) {
    assert!(
        !r.stderr.contains("panicked"),
        "{what}: panicked:\n{}",
        r.stderr
    );
    assert!(
        r.code == 0 || r.code == 1,
        "{what}: exit {}\nstdout: {}\nstderr: {}",
        r.code,
        &r.stdout[..r.stdout.len().min(2000)],
        r.stderr
    );
    assert!(!r.stdout.contains('\u{1b}'), "{what}: ESC on stdout");
    assert!(!r.stderr.contains('\u{1b}'), "{what}: ESC on stderr");
}

/// `(rule, file, line, column)` of every finding of a JSON run.
fn located(r: &Run) -> Vec<(String, String, u64, u64)> {
    r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let l = &f["location"];
            (
                f["rule"].as_str().unwrap().to_string(),
                l["file"].as_str().unwrap().to_string(),
                l["line"].as_u64().unwrap(),
                l["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn has(r: &Run, rule: &str, file_suffix: &str) -> bool {
    located(r)
        .iter()
        .any(|(ru, f, l, c)| ru == rule && f.ends_with(file_suffix) && *l >= 1 && *c >= 1)
}

/// Runs `check` over `paths` in every format; returns the JSON run.
fn check_all_formats(dir: &Path, paths: &[&str], what: &str) -> Run {
    for f in Format::ALL {
        let mut args = vec!["check", "--color", "never", "--format", f.as_str()];
        args.extend_from_slice(paths);
        let r = run(dir, &args);
        sane(&r, &format!("{what} ({f})"));
        assert!(!r.stdout.is_empty(), "{what} ({f}): empty output");
    }
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(paths);
    run(dir, &args)
}

// ------------------------------------------------------------------ 1. panics

#[test]
fn item1_findings_past_column_65543_do_not_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let pad = " ".repeat(70_000);
    write(
        tmp.path(),
        "wide.yaml",
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a, {pad}name: b}}\n"),
    );
    // A parse error far right too, and a minified one-line JSON document.
    write(tmp.path(), "wide-error.yaml", format!("a: [1, {pad} ]]]\n"));
    write(tmp.path(), "neighbour.yaml", NEIGHBOUR);
    let r = check_all_formats(tmp.path(), &["."], "wide columns");
    assert_eq!(r.code, 1);
    assert!(has(&r, "duplicate-key", "wide.yaml"), "{:?}", located(&r));
    assert!(has(&r, "parse-error", "wide-error.yaml"));
    assert!(has(&r, "duplicate-key", "neighbour.yaml"));
    let col = located(&r)
        .into_iter()
        .find(|f| f.1.ends_with("wide.yaml"))
        .unwrap()
        .3;
    assert!(col > 65_543, "column {col}");

    let human = run(tmp.path(), &["check", "--color", "never", "."]);
    sane(&human, "human");
    assert!(human.stdout.contains(&format!("wide.yaml:3:{col}]")));
    // Long lines are cut: no output line is anywhere near the source line's width.
    assert!(human.stdout.lines().all(|l| l.chars().count() < 400));
    // With colour, too.
    let colour = run(tmp.path(), &["check", "--color", "always", "."]);
    assert!(!colour.stderr.contains("panicked"));
    assert_eq!(colour.code, 1);
}

// ------------------------------------------------------------ 8. log injection

#[test]
fn item8_control_characters_are_escaped_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let evil_name = "x\n::error file=README.md::pwned\n\u{1b}[31mred.yaml";
    write(tmp.path(), evil_name, NEIGHBOUR);
    // ESC and a bidi override inside the content, in a key reported by a finding.
    write(
        tmp.path(),
        "content.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  \"k\\e[2J\\u202e\": 1\n  \"k\\e[2J\\u202e\": 2\n",
    );
    write(tmp.path(), "neighbour.yaml", NEIGHBOUR);
    for f in Format::ALL {
        for color in ["never", "always"] {
            let r = run(
                tmp.path(),
                &["check", "--color", color, "--format", f.as_str(), "."],
            );
            assert!(!r.stderr.contains("panicked"), "{f}: {}", r.stderr);
            assert_eq!(r.code, 1, "{f}");
            let out = format!("{}\n{}", r.stdout, r.stderr);
            if color == "never" {
                assert!(!out.contains('\u{1b}'), "{f}: raw ESC:\n{out}");
            }
            assert!(!out.contains('\u{202e}'), "{f}: raw bidi override");
            for line in out.lines() {
                let injected = line.trim_start().starts_with("::error file=README.md");
                assert!(!injected, "{f}: injected workflow command: {line:?}");
                if f == Format::Github && line.starts_with("::") {
                    // Exactly the real annotations, each naming a real (escaped) file.
                    let file = line.split("file=").nth(1).unwrap_or("");
                    assert!(
                        file.starts_with("x\\n")
                            || file.starts_with("content.yaml")
                            || file.starts_with("neighbour.yaml"),
                        "{line:?}"
                    );
                }
            }
        }
    }
    let r = run(tmp.path(), &["check", "--format", "json", "."]);
    assert!(has(&r, "duplicate-key", "red.yaml"));
    assert!(has(&r, "duplicate-key", "content.yaml"));
    assert!(has(&r, "duplicate-key", "neighbour.yaml"));
}

#[allow(dead_code)]
fn unused(_: &Path) {
    let _ = workspace();
    let _ = run_env;
}

// ------------------------------------------------------------- 2. secret values

/// `testdata/hostile/secrets/`: Secrets whose values all contain `CANARY0`, in a parse
/// error, a duplicate key, invalid UTF-8, a Helm marker, a missing name, and anchored in
/// a `kind: List` then aliased and merged into a VirtualService.
#[test]
fn item2_secret_values_appear_in_no_output() {
    let tmp = tempfile::tempdir().unwrap();
    common::copy_dir(&workspace().join("testdata/hostile/secrets"), tmp.path());
    write(
        tmp.path(),
        "utf.yaml",
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: utf\nstringData:\n  token: CANARY06\xff\xfe\n",
    );
    write(tmp.path(), "neighbour.yaml", NEIGHBOUR);
    let mut outputs = Vec::new();
    for f in Format::ALL {
        let r = run(
            tmp.path(),
            &["check", "--color", "never", "--format", f.as_str(), "."],
        );
        sane(&r, f.as_str());
        outputs.push((f.to_string(), r.stdout, r.stderr));
    }
    for gf in ["dot", "json"] {
        let r = run(tmp.path(), &["graph", "--format", gf, "."]);
        assert!(r.code == 0 || r.code == 1, "graph {gf}: {}", r.stderr);
        outputs.push((format!("graph {gf}"), r.stdout, r.stderr));
    }
    let r = run(
        tmp.path(),
        &["check", "--write-baseline", "baseline.json", "."],
    );
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let baseline = std::fs::read_to_string(tmp.path().join("baseline.json")).unwrap();
    outputs.push(("baseline".into(), baseline, r.stderr));
    for (what, out, err) in &outputs {
        assert!(
            !out.contains("CANARY0"),
            "{what} prints a Secret value:\n{out}"
        );
        assert!(
            !err.contains("CANARY0"),
            "{what} prints a Secret value:\n{err}"
        );
    }

    // The findings themselves are all still there, at their place.
    let r = run(tmp.path(), &["check", "--format", "json", "."]);
    for (rule, file) in [
        ("parse-error", "parse.yaml"),
        ("duplicate-key", "dup.yaml"),
        ("unreadable-file", "utf.yaml"),
        ("helm-template", "helm.yaml"),
        ("invalid-resource", "noname.yaml"),
        ("duplicate-key", "neighbour.yaml"),
    ] {
        assert!(
            has(&r, rule, file),
            "no {rule} in {file}: {:?}",
            located(&r)
        );
    }
    // The human snippets show the keys, masked.
    let human = &outputs[0].1;
    assert!(human.contains("token: <redacted>"), "{human}");
}

// -------------------------------------------------------------- 4. unbounded reads

/// Runs meshlint with a safety net: a run that blocks (a FIFO it waits on) is killed
/// after a generous grace period and reported as a failure instead of hanging CI. The
/// assertion is "it finished", not how fast.
fn run_guarded(dir: &Path, args: &[&str]) -> Run {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshlint"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..1200 {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("meshlint {args:?} blocked");
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn item4_special_files_are_refused_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "neighbour.yaml", NEIGHBOUR);
    mkfifo(&d.join("x.yaml"));
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.yaml")).unwrap();
    // Found in a walk: the FIFO is a finding; the symlink is not followed.
    let r = run_guarded(d, &["check", "--format", "json", "."]);
    sane(&r, "walk");
    assert_eq!(r.code, 1);
    assert!(has(&r, "unreadable-file", "x.yaml"), "{:?}", located(&r));
    assert!(has(&r, "duplicate-key", "neighbour.yaml"));
    // Named: every one a finding, the neighbour intact.
    let r = run_guarded(
        d,
        &[
            "check",
            "--format",
            "json",
            "x.yaml",
            "zero.yaml",
            "/dev/zero",
            "neighbour.yaml",
        ],
    );
    sane(&r, "named");
    for f in ["x.yaml", "zero.yaml", "/dev/zero"] {
        assert!(has(&r, "unreadable-file", f), "{f}: {:?}", located(&r));
    }
    assert!(has(&r, "duplicate-key", "neighbour.yaml"));
    assert_eq!(r.json()["summary"]["unreadable"], 3);
    // Flag files: refused with a usage error (exit 2), never read whole.
    for flag in ["--mesh-config", "--mesh-networks"] {
        let r = run_guarded(d, &["check", flag, "/dev/zero", "neighbour.yaml"]);
        assert_eq!(r.code, 2, "{flag}: {}", r.stderr);
        assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    }
}

#[test]
fn item4_endless_stdin_is_read_up_to_the_limit_only() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshlint"))
        .args(["check", "--format", "json", "-"])
        .current_dir(tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // An "endless" stream: up to 4x the limit; meshlint must stop reading after the
    // limit plus one byte, which the writer sees as a closed pipe.
    let writer = std::thread::spawn(move || {
        let chunk = "a: 1\n".repeat(13_000);
        let mut written = 0usize;
        while written < 256 << 20 {
            if stdin.write_all(chunk.as_bytes()).is_err() {
                return (written, true);
            }
            written += chunk.len();
        }
        (written, false)
    });
    let out = child.wait_with_output().unwrap();
    let (written, closed) = writer.join().unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    sane(&r, "stdin");
    assert!(closed, "meshlint read all {written} bytes");
    assert!(written < 128 << 20, "read {written} bytes");
    assert!(has(&r, "input-limit", "<stdin>"), "{:?}", located(&r));
}

// ------------------------------------------------------- 5. a bad path hides the rest

#[cfg(unix)]
#[test]
fn item5_bad_paths_are_findings_and_the_run_goes_on() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "neighbour.yaml", NEIGHBOUR);
    symlink("nowhere.yaml", d.join("dangling.yaml")).unwrap();
    symlink("loop-b.yaml", d.join("loop-a.yaml")).unwrap();
    symlink("loop-a.yaml", d.join("loop-b.yaml")).unwrap();
    write(d, "locked/inside.yaml", NEIGHBOUR);
    std::fs::set_permissions(d.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let locked_is_locked = std::fs::read_dir(d.join("locked")).is_err(); // not as root
    let mut args = vec![
        "check",
        "--format",
        "json",
        "dangling.yaml",
        "loop-a.yaml",
        "/proc/self/mem",
        "neighbour.yaml",
    ];
    if locked_is_locked {
        args.push("locked");
    }
    let r = run_guarded(d, &args);
    sane(&r, "bad paths");
    assert_eq!(r.code, 1);
    let mut expected = vec!["dangling.yaml", "loop-a.yaml"];
    if Path::new("/proc/self/mem").exists() {
        expected.push("/proc/self/mem");
    }
    if locked_is_locked {
        expected.push("locked");
    }
    for f in &expected {
        assert!(has(&r, "unreadable-file", f), "{f}: {:?}", located(&r));
    }
    assert!(has(&r, "duplicate-key", "neighbour.yaml"));
    assert_eq!(r.json()["summary"]["unreadable"], expected.len());
    // The human summary says so.
    let human = run_guarded(
        d,
        &args[3..]
            .iter()
            .fold(vec!["check", "--color", "never"], |mut v, a| {
                v.push(a);
                v
            }),
    );
    assert!(
        human
            .stderr
            .contains(&format!("{} files could not be read", expected.len())),
        "{}",
        human.stderr
    );
    std::fs::set_permissions(d.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    // A path that does not exist at all is still a usage error.
    let r = run_guarded(d, &["check", "no-such-file.yaml", "neighbour.yaml"]);
    assert_eq!(r.code, 2);
}

// ------------------------------------------------------------------- 9. smaller

#[test]
fn item9_json_comments_utf32_and_yaml_versions_are_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "commented.json",
        "// generated by a tool\n{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"c\"}}\n",
    );
    let mut utf32 = vec![0xFF, 0xFE, 0, 0];
    for c in "a: 1\n".chars() {
        utf32.extend_from_slice(&(c as u32).to_le_bytes());
    }
    write(d, "wide.yaml", utf32);
    write(
        d,
        "future.yaml",
        "%YAML 9.9\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: f}\n",
    );
    write(d, "neighbour.yaml", NEIGHBOUR);
    let r = check_all_formats(d, &["."], "item 9");
    assert_eq!(r.code, 1);
    assert!(
        has(&r, "parse-error", "commented.json"),
        "{:?}",
        located(&r)
    );
    assert!(has(&r, "unreadable-file", "wide.yaml"));
    assert!(has(&r, "parse-error", "future.yaml"));
    assert!(has(&r, "duplicate-key", "neighbour.yaml"));
    let text = r.stdout;
    assert!(
        text.contains("UTF-32") && !text.contains("UTF-16"),
        "{text}"
    );
    assert!(text.contains("unsupported YAML version `9.9`"));
}

// ---------------------------------------------------------- 7. wrong types

#[test]
fn item7_wrong_types_in_fields_the_graph_reads_are_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    common::copy_dir(&workspace().join("testdata/hostile/types"), d);
    write(d, "neighbour.yaml", NEIGHBOUR);
    let r = check_all_formats(d, &["."], "item 7");
    assert_eq!(r.code, 1);
    let found = located(&r);
    for (line, col) in [
        (5, 29),
        (11, 19),
        (13, 11),
        (15, 5),
        (21, 10),
        (31, 19),
        (39, 5),
        (41, 13),
    ] {
        assert!(
            found.iter().any(|(ru, f, l, c)| ru == "schema-type"
                && f.ends_with("types.yaml")
                && *l == line
                && *c == col),
            "no schema-type at {line}:{col}: {found:?}"
        );
    }
    assert!(has(&r, "duplicate-key", "neighbour.yaml"));
    let human = run(d, &["check", "--color", "never", "."]);
    assert!(!human.stderr.contains("rule bug"), "{}", human.stderr);
    assert!(!r.stderr.contains("rule bug"), "{}", r.stderr);
}
