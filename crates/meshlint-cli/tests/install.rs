//! The ways to install and run meshlint, checked the way they are used: `--version`,
//! shell completions and the man page from the binary; the composite Action's check
//! step run with bash as a runner would; the Dockerfile built when Docker is there,
//! else its build context and commands checked (what it copies is enough for cargo to
//! load the locked workspace, its Rust image is new enough for every locked package,
//! and the binary it copies is the one its build command makes); the LICENSE.

mod common;
use common::*;
use meshlint_load::{load_source, LoadLimits, Node};
use std::path::{Path, PathBuf};
use std::process::Command;

fn yaml(path: &Path) -> Node {
    let loaded = load_source(
        path.to_string_lossy().into(),
        std::fs::read(path).unwrap(),
        &LoadLimits::default(),
    );
    assert!(loaded.findings.is_empty(), "{:?}", loaded.findings);
    loaded.documents.into_iter().next().unwrap().root
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(workspace())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn version_names_the_commit_and_its_date() {
    let r = run(&workspace(), &["--version"]);
    assert_eq!(r.code, 0);
    let re = regex::Regex::new(
        r"^meshlint (\d+\.\d+\.\d+) \(([0-9a-f]{12}|unknown) (\d{4}-\d{2}-\d{2}|unknown)\)\n$",
    )
    .unwrap();
    let c = re
        .captures(&r.stdout)
        .unwrap_or_else(|| panic!("{:?}", r.stdout));
    assert_eq!(&c[1], env!("CARGO_PKG_VERSION"));
    match git(&["cat-file", "-t", &c[2]]) {
        Some(kind) => {
            assert_eq!(kind, "commit");
            assert_eq!(
                git(&["log", "-1", "--format=%cs", &c[2]]).as_deref(),
                Some(&c[3])
            );
        }
        None => skip(&format!(
            "not a git checkout; --version says {}",
            r.stdout.trim()
        )),
    }
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let r = run(&workspace(), &["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("meshlint"), "{shell}");
        assert!(
            r.stdout.contains("--report"),
            "{shell}: check's flags complete"
        );
    }
    let bash = run(&workspace(), &["completions", "bash"]).stdout;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("meshlint.bash"), &bash).unwrap();
    match Command::new("bash")
        .arg("-n")
        .arg(dir.path().join("meshlint.bash"))
        .status()
    {
        Ok(s) => assert!(s.success(), "bash completion script has a syntax error"),
        Err(_) => skip("no bash to parse the completion script"),
    }
    let r = run(&workspace(), &["completions", "tcsh"]);
    assert_eq!(r.code, 2);

    let man = run(&workspace(), &["man"]);
    assert_eq!(man.code, 0);
    assert!(man.stdout.contains(".TH meshlint 1"), "{}", man.stdout);
    assert!(man.stdout.contains("check"));
}

#[test]
fn license_is_the_one_cargo_toml_promises() {
    let manifest = std::fs::read_to_string(workspace().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"Apache-2.0\""));
    let license = std::fs::read_to_string(workspace().join("LICENSE")).unwrap();
    let head: Vec<&str> = license.lines().take(3).map(str::trim).collect();
    assert_eq!(
        head,
        [
            "Apache License",
            "Version 2.0, January 2004",
            "http://www.apache.org/licenses/"
        ]
    );
    assert!(license.contains("END OF TERMS AND CONDITIONS"));
}

// ------------------------------------------------------------------ the Action

/// Replaces `${{ inputs.NAME }}` with the value given in `with` (as a workflow's `with:`
/// does), else the input's default; refuses undeclared inputs.
fn with_inputs(text: &str, inputs: &Node, with: &[(&str, &str)]) -> String {
    let re = regex::Regex::new(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}").unwrap();
    re.replace_all(text, |c: &regex::Captures| {
        let input = inputs
            .get(&c[1])
            .unwrap_or_else(|| panic!("action.yml uses undeclared input {}", &c[1]));
        match with.iter().find(|(k, _)| *k == &c[1]) {
            Some((_, v)) => v.to_string(),
            None => input.str_at(&["default"]).unwrap_or("").to_string(),
        }
    })
    .into_owned()
}

/// Runs the Action's check step with bash in `repo`, meshlint on PATH, as a runner
/// would: (the step's stdout, what it wrote to `$GITHUB_OUTPUT`), or `None` without bash.
fn run_check_step(action: &Node, with: &[(&str, &str)], repo: &Path) -> Option<(String, String)> {
    let inputs = action.get("inputs").unwrap();
    let steps = action.get("runs").unwrap().get("steps").unwrap().items();
    let check = steps
        .iter()
        .find(|s| s.str_at(&["id"]) == Some("check"))
        .unwrap();
    assert_eq!(check.str_at(&["shell"]), Some("bash"));
    let out_file = repo.join("github_output");
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_meshlint"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-e")
        .arg("-c")
        .arg(check.str_at(&["run"]).unwrap())
        .current_dir(repo)
        .env("PATH", path)
        .env("GITHUB_OUTPUT", &out_file);
    for (k, v) in check.get("env").unwrap().entries() {
        cmd.env(
            k.as_str().unwrap(),
            with_inputs(v.as_str().unwrap(), inputs, with),
        );
    }
    let out = cmd.output().ok()?;
    assert!(out.status.success(), "the check step itself never fails");
    Some((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        std::fs::read_to_string(&out_file).unwrap(),
    ))
}

#[test]
fn the_action_installs_from_its_checkout_and_its_check_step_gates() {
    let action = yaml(&workspace().join("action.yml"));
    assert_eq!(action.str_at(&["runs", "using"]), Some("composite"));
    let inputs = action.get("inputs").unwrap();
    for (name, default) in [
        ("paths", "."),
        ("format", "github"),
        ("fail-on", "error"),
        ("upload-sarif", "true"),
        ("sarif-file", "meshlint.sarif"),
        ("args", ""),
    ] {
        assert_eq!(
            inputs.get(name).and_then(|i| i.str_at(&["default"])),
            Some(default),
            "input {name}"
        );
    }
    let steps = action.get("runs").unwrap().get("steps").unwrap().items();
    let install = steps[0].str_at(&["run"]).unwrap();
    assert!(
        install
            .contains("cargo install --locked --path \"$GITHUB_ACTION_PATH/crates/meshlint-cli\""),
        "{install}"
    );
    // $GITHUB_ACTION_PATH is the action's checkout: this repository.
    assert!(workspace().join("crates/meshlint-cli/Cargo.toml").is_file());
    let upload = steps
        .iter()
        .find(|s| s.str_at(&["uses"]).is_some())
        .unwrap();
    assert!(upload
        .str_at(&["uses"])
        .unwrap()
        .starts_with("github/codeql-action/upload-sarif@"));
    assert!(upload.str_at(&["if"]).unwrap().contains("always()"));

    // The check step, run by bash with the inputs' defaults and meshlint on PATH.
    let (_tmp, repo) = fixture_copy();
    let Some((stdout, outputs)) = run_check_step(&action, &[], &repo) else {
        skip("no bash to run the Action's check step");
        return;
    };
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("::")).count(),
        3,
        "{stdout}"
    );
    assert_eq!(outputs.trim(), "exit-code=1", "errors in the fixture");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join("meshlint.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 3);
    // The last step turns the code into the step's result.
    let gate = steps.last().unwrap();
    assert_eq!(gate.str_at(&["run"]), Some("exit \"$MESHLINT_EXIT\""));
    assert!(gate
        .str_at(&["env", "MESHLINT_EXIT"])
        .unwrap()
        .contains("steps.check.outputs.exit-code"));
}

// ------------------------------------------------------------------ the Dockerfile

struct Dockerfile {
    /// `FROM` images, in order.
    from: Vec<String>,
    /// `COPY` sources of the build stage (not `--from`).
    copies: Vec<String>,
    run: Vec<String>,
    /// `COPY --from=…` (source, destination).
    copy_from: Vec<(String, String)>,
    entrypoint: String,
    workdir: Vec<String>,
}

fn dockerfile() -> Dockerfile {
    let text = std::fs::read_to_string(workspace().join("Dockerfile")).unwrap();
    // Join continuation lines, drop comments.
    let mut lines = Vec::new();
    let mut current = String::new();
    for l in text.lines() {
        let t = l.trim();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(t);
                lines.push(std::mem::take(&mut current));
            }
        }
    }
    let mut d = Dockerfile {
        from: vec![],
        copies: vec![],
        run: vec![],
        copy_from: vec![],
        entrypoint: String::new(),
        workdir: vec![],
    };
    for l in lines {
        let (op, rest) = l.split_once(' ').unwrap();
        let words: Vec<&str> = rest.split_whitespace().collect();
        match op {
            "FROM" => d.from.push(words[0].to_string()),
            "COPY" if words[0].starts_with("--from=") => d
                .copy_from
                .push((words[1].to_string(), words[2].to_string())),
            "COPY" => d
                .copies
                .extend(words[..words.len() - 1].iter().map(|s| s.to_string())),
            "RUN" => d.run.push(rest.to_string()),
            "ENTRYPOINT" => d.entrypoint = rest.to_string(),
            "WORKDIR" => d.workdir.push(rest.to_string()),
            _ => {}
        }
    }
    d
}

/// `1.88` and `1.88.0` alike, as three numbers.
fn version_tuple(v: &str) -> Vec<u32> {
    let mut t: Vec<u32> = v.split('.').filter_map(|p| p.parse().ok()).collect();
    t.resize(3, 0);
    t
}

#[test]
fn the_dockerfile_builds_what_it_copies_and_runs_meshlint() {
    let d = dockerfile();
    assert_eq!(d.from.len(), 2, "a build stage and a small runtime stage");
    assert!(d.from[1].starts_with("gcr.io/distroless/"), "{}", d.from[1]);
    let rust = d.from[0]
        .strip_prefix("rust:")
        .and_then(|t| t.split('-').next())
        .expect("the build stage is a rust image");

    // The build command makes the binary that the runtime stage copies and runs.
    let build = d
        .run
        .iter()
        .find(|r| r.contains("cargo build"))
        .expect("a cargo build");
    for word in ["--release", "--locked", "-p meshlint-cli", "--bin meshlint"] {
        assert!(build.contains(word), "{build}");
    }
    assert_eq!(d.copy_from.len(), 1);
    let (src, dst) = &d.copy_from[0];
    assert!(src.ends_with("/target/release/meshlint"), "{src}");
    assert_eq!(d.entrypoint, format!("[\"{dst}\"]"));
    assert_eq!(d.workdir.last().map(String::as_str), Some("/src"));

    // The build context: .dockerignore keeps target/ out; what COPY takes is enough for
    // cargo to load the locked workspace without the network.
    let ignore = std::fs::read_to_string(workspace().join(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim() == "target/"));
    let ctx = tempfile::tempdir().unwrap();
    for c in &d.copies {
        let from = workspace().join(c);
        if from.is_dir() {
            copy_dir(&from, &ctx.path().join(c));
        } else {
            std::fs::copy(&from, ctx.path().join(c)).unwrap();
        }
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args(["metadata", "--locked", "--offline", "--format-version", "1"])
        .current_dir(ctx.path())
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "the Dockerfile's build context does not load: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Every built package, dependencies included, builds with the image's Rust.
    let image = version_tuple(rust);
    let mut newest = (vec![0], String::new());
    for p in meta["packages"].as_array().unwrap() {
        if let Some(v) = p["rust_version"].as_str() {
            if version_tuple(v) > newest.0 {
                newest = (version_tuple(v), p["name"].as_str().unwrap().to_string());
            }
        }
    }
    assert!(
        newest.0 <= image,
        "{} needs Rust {:?}, the image has {rust}",
        newest.1,
        newest.0
    );
    // cargo metadata does not open the sources: check that every target of the
    // workspace's packages, and every directory a build script reads from the
    // workspace root (`../../rules`), is in the context.
    for id in meta["workspace_members"].as_array().unwrap() {
        let p = meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == *id)
            .unwrap();
        for t in p["targets"].as_array().unwrap() {
            let kind = t["kind"][0].as_str().unwrap();
            if ["bin", "lib", "custom-build"].contains(&kind) {
                let src = Path::new(t["src_path"].as_str().unwrap());
                assert!(
                    src.is_file(),
                    "the Docker build context lacks {}",
                    src.display()
                );
            }
            if kind == "custom-build" {
                let script = std::fs::read_to_string(t["src_path"].as_str().unwrap()).unwrap();
                for (i, _) in script.match_indices("join(\"../../") {
                    let rest = &script[i + "join(\"../../".len()..];
                    let dir = &rest[..rest.find('"').unwrap()];
                    assert!(
                        ctx.path().join(dir).exists(),
                        "a build script reads {dir}, which the Dockerfile does not copy"
                    );
                }
            }
        }
    }
    let cli = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "meshlint-cli")
        .unwrap();
    assert!(cli["targets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "meshlint" && t["kind"][0] == "bin"));

    // With Docker, build the image and run it.
    let docker_ok = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    if !docker_ok {
        skip("no Docker daemon; the Dockerfile was checked without building it");
        return;
    }
    let tag = "meshlint-test:latest";
    let built = Command::new("docker")
        .args(["build", "-q", "-t", tag, "."])
        .current_dir(workspace())
        .status()
        .unwrap();
    assert!(built.success());
    let (_tmp, repo) = fixture_copy();
    let out = Command::new("docker")
        .args(["run", "--rm", "-v"])
        .arg(format!("{}:/src", repo.parent().unwrap().display()))
        .args(["-w", "/src/repo", tag, "check", "--format", "gcc", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
}

/// The Action as docs/ci.md uses it: its `with:` values, on a repository whose
/// manifests are under `clusters/`.
#[test]
fn the_documented_action_usage_runs() {
    let md = std::fs::read_to_string(workspace().join("docs/ci.md")).unwrap();
    let at = md
        .find("uses: your-org/meshlint@")
        .expect("the Action in docs/ci.md");
    let snippet = &md[at..md[at..].find("```").unwrap() + at];
    let mut with = Vec::new();
    let mut in_with = false;
    for line in snippet.lines().skip(1) {
        let t = line.trim();
        if t == "with:" {
            in_with = true;
        } else if in_with {
            let (k, v) = t.split_once(": ").unwrap();
            with.push((k.to_string(), v.to_string()));
        }
    }
    assert!(!with.is_empty());
    let action = yaml(&workspace().join("action.yml"));
    let inputs = action.get("inputs").unwrap();
    for (k, _) in &with {
        assert!(
            inputs.get(k).is_some(),
            "docs/ci.md passes unknown input {k}"
        );
    }
    let with: Vec<(&str, &str)> = with.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (tmp, repo) = fixture_copy();
    let clusters = tmp.path().join("work/clusters");
    copy_dir(&repo, &clusters);
    let work = clusters.parent().unwrap();
    std::fs::rename(clusters.join(".meshlint.yaml"), work.join(".meshlint.yaml")).unwrap();
    // `rules: [../rules]` still points at the fixture's rules from `work/`.
    let Some((stdout, outputs)) = run_check_step(&action, &with, work) else {
        skip("no bash to run the Action's check step");
        return;
    };
    assert_eq!(outputs.trim(), "exit-code=1", "{stdout}");
    assert!(
        stdout.contains("::error file=clusters/shop/routing.yaml"),
        "{stdout}"
    );
    assert!(work.join("meshlint.sarif").is_file());
}
