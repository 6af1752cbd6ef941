//! The commands and snippets of README.md and docs/*.md, run. Every shell command in a
//! `sh` block (and every `cargo install` anywhere) must be in [`COMMANDS`] with the way
//! it is exercised, so a command cannot be documented without a test; `docs/ci.md`'s
//! `meshlint check` commands are run by `ci_docs.rs`. `.meshlint.yaml` snippets are
//! used as configuration, rule snippets loaded as rule files, and every YAML block
//! must parse.

mod common;
use common::*;
use meshlint_load::{load_source, LoadLimits};
use std::collections::BTreeSet;
use std::path::Path;

fn documents() -> Vec<(String, String)> {
    let mut docs = vec![(
        "README.md".to_string(),
        std::fs::read_to_string(workspace().join("README.md")).unwrap(),
    )];
    let mut names: Vec<_> = std::fs::read_dir(workspace().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    names.sort();
    for p in names {
        let name = format!("docs/{}", p.file_name().unwrap().to_string_lossy());
        docs.push((name, std::fs::read_to_string(&p).unwrap()));
    }
    docs
}

/// Fenced blocks: (info string, body).
fn blocks(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in md.lines() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            match current.take() {
                Some(b) => out.push(b),
                None => current = Some((info.trim().to_string(), String::new())),
            }
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// A shell line without its trailing comment.
fn command(line: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let cmd = match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    };
    Some(cmd.trim().to_string())
}

/// How each documented command is exercised.
#[derive(Clone, Copy)]
enum How {
    /// Run as `meshlint ARGS` in a scratch copy of the repository's examples and the
    /// integration fixture; the exit code must be this.
    Run(i32),
    /// `cargo …` that builds or tests the workspace: checked against the manifests (the
    /// package, binary or bench it names exists), not run from inside the test suite.
    Cargo,
    /// Run by another test, or not meshlint's (why).
    Elsewhere(&'static str),
    /// A script of the repository: it exists, is executable and bash parses it (the
    /// benchmarks take minutes and download corpora).
    Script,
}

const COMMANDS: &[(&str, How)] = &[
    // README.md
    (
        "cargo run --release -p meshlint-cli -- check examples",
        How::Run(1),
    ),
    ("cargo test --workspace", How::Cargo),
    (
        "cargo install --locked --git https://github.com/your-org/meshlint meshlint-cli",
        How::Cargo,
    ),
    (
        "cargo install --locked --path crates/meshlint-cli",
        How::Cargo,
    ),
    ("meshlint --version", How::Run(0)),
    // docs/hardening.md: longer runs of the randomized tests CI runs with a small budget
    (
        "MESHLINT_FUZZ_CASES=100000 MESHLINT_FUZZ_SEED=7 cargo test -p meshlint-model --test fuzz_loader -- --nocapture",
        How::Elsewhere("fuzz_loader.rs, which CI runs with its default case budget"),
    ),
    (
        "MESHLINT_FUZZ_CASES=3000 MESHLINT_FUZZ_SEED=7 cargo test -p meshlint-cli --test fuzz_check -- --nocapture",
        How::Elsewhere("fuzz_check.rs, which CI runs with its default case budget"),
    ),
    (
        "export CARGO_TARGET_DIR=$PWD/target",
        How::Elsewhere("shell setup, not a command of meshlint's"),
    ),
    // docs/trace.md (the synopsis block is `text`)
    (
        "meshlint trace testdata/scenarios/002-istio-mutual-vs-simple/bad --gateway istio-ingress/example-gateway --to example.com:443 --path /c19443",
        How::Elsewhere("trace.rs"),
    ),
    (
        "meshlint trace --mesh-config testdata/scenarios/003-egress-woes/meshconfig.yaml testdata/scenarios/003-egress-woes/bad --from shop/orders-v1 --to api.payments.example:443",
        How::Elsewhere("trace.rs"),
    ),
    (
        "meshlint trace --mesh-config testdata/scenarios/003-egress-woes/meshconfig.yaml testdata/scenarios/003-egress-woes/fixed --from shop/orders-v1 --to api.payments.example:80",
        How::Elsewhere("trace.rs"),
    ),
    ("meshlint completions bash > meshlint.bash", How::Run(0)),
    ("meshlint man > meshlint.1", How::Run(0)),
    // docs/ci.md
    (
        "cargo install --locked --git \"$MESHLINT_REPO\" meshlint-cli",
        How::Cargo,
    ),
    ("docker build -t meshlint .", How::Elsewhere("install.rs")),
    (
        "docker run --rm -v \"$PWD:/src\" meshlint check --format gcc .",
        How::Elsewhere("ci_docs.rs"),
    ),
    (
        "kustomize build overlays/prod | meshlint check --format gcc --stdin-filename overlays/prod -",
        How::Elsewhere("ci_docs.rs"),
    ),
    (
        "helm template shop ./charts/shop --namespace shop | meshlint check -n shop -",
        How::Elsewhere("ci_docs.rs"),
    ),
    (
        "meshlint check --write-baseline .meshlint-baseline.json .",
        How::Run(0),
    ),
    ("meshlint check --baseline .meshlint-baseline.json .", How::Run(0)),
    // docs/graph.md
    (
        "meshlint graph [PATHS…] [--format dot|json] [--namespace NS] [--host HOST]",
        How::Elsewhere("the synopsis; its flags are run below"),
    ),
    ("meshlint graph examples | dot -Tpng -o graph.png", How::Run(0)),
    ("meshlint graph --format json --host reviews examples", How::Run(0)),
    ("meshlint graph examples > graph.dot", How::Run(0)),
    (
        "dot -Tpng -Gdpi=72 graph.dot -o docs/graph-example.png",
        How::Elsewhere("Graphviz, reading the DOT that the command above writes"),
    ),
    // docs/editors.md
    ("editors/vscode/package.sh", How::Script),
    (
        "code --install-extension editors/vscode/meshlint.vsix",
        How::Elsewhere("VS Code, which CI does not have; package.sh writes the .vsix"),
    ),
    // docs/performance.md
    ("scripts/bench-server.sh", How::Script),
    (
        "cargo run --release -p meshlint-corpus -- --namespaces 2000 --out bench-out/corpus-2000",
        How::Cargo,
    ),
    ("cargo bench -p meshlint-cli --bench stages", How::Cargo),
    ("scripts/bench-process.sh", How::Script),
    ("scripts/yardsticks.sh", How::Script),
    (
        "target/release/meshlint check --verbose --format json bench-out/corpus-2000 > /dev/null",
        How::Run(1),
    ),
];

fn documented() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, md) in documents() {
        for (info, body) in blocks(&md) {
            let shell = matches!(info.as_str(), "sh" | "bash" | "console" | "shell");
            // A command continued with `\` is one command.
            let mut joined: Vec<String> = Vec::new();
            let mut pending = String::new();
            for line in body.lines() {
                match line.trim_end().strip_suffix('\\') {
                    Some(head) => {
                        pending.push_str(head.trim());
                        pending.push(' ');
                    }
                    None => {
                        pending.push_str(line.trim());
                        joined.push(std::mem::take(&mut pending));
                    }
                }
            }
            for line in &joined {
                let Some(cmd) = command(line) else { continue };
                let cmd = cmd
                    .trim_start_matches("- run: ")
                    .trim_start_matches("run: ")
                    .to_string();
                if shell || cmd.starts_with("cargo install") {
                    out.push((name.clone(), cmd));
                }
            }
        }
    }
    out
}

#[test]
fn every_documented_command_is_known() {
    let found: BTreeSet<String> = documented().into_iter().map(|(_, c)| c).collect();
    let known: BTreeSet<String> = COMMANDS.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(
        found.difference(&known).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "documented but not exercised here"
    );
    assert_eq!(
        known.difference(&found).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "exercised here but no longer documented"
    );
}

/// Package names and directories of the workspace, with their binaries and benches.
fn cargo_check(cmd: &str) {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let crates = workspace().join("crates");
    let package_dir = |name: &str| -> std::path::PathBuf {
        let dir = crates.join(name);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
            .unwrap_or_else(|_| panic!("{cmd}: no package {name}"));
        assert!(manifest.contains(&format!("name = \"{name}\"")), "{cmd}");
        dir
    };
    let after = |flag: &str| {
        words
            .iter()
            .position(|w| *w == flag)
            .map(|i| words[i + 1].trim_matches('"'))
    };
    match words[1] {
        "test" => {
            let ci = std::fs::read_to_string(workspace().join(".ci/run")).unwrap();
            assert!(ci.lines().any(|l| l.trim() == cmd), "CI runs `{cmd}`");
        }
        "install" => {
            assert!(words.contains(&"--locked"), "{cmd}");
            let dir = match after("--path") {
                Some(p) => workspace().join(p),
                None => package_dir(words.last().unwrap()),
            };
            let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
            assert!(
                manifest.contains("[[bin]]\nname = \"meshlint\""),
                "{cmd} installs the meshlint binary"
            );
            assert!(
                workspace().join("Cargo.lock").is_file(),
                "--locked needs it"
            );
        }
        "run" => {
            let dir = package_dir(after("-p").unwrap());
            if let Some(dash) = words.iter().position(|w| *w == "--") {
                // The program documents every flag the command passes.
                let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
                for flag in words[dash + 1..].iter().filter(|w| w.starts_with("--")) {
                    assert!(main.contains(flag), "{cmd}: {flag} unknown");
                }
            }
        }
        "bench" => {
            let dir = package_dir(after("-p").unwrap());
            let bench = after("--bench").unwrap();
            assert!(dir.join(format!("benches/{bench}.rs")).is_file(), "{cmd}");
        }
        other => panic!("{cmd}: no check for cargo {other}"),
    }
}

/// Runs a documented meshlint command the way the shell would, in a scratch directory.
fn run_documented(cmd: &str, expect: i32) {
    // The baseline commands run on the integration fixture, the rest on a copy of the
    // examples with no configuration.
    let (_tmp, fixture) = fixture_copy();
    let scratch = tempfile::tempdir().unwrap();
    copy_dir(
        &workspace().join("examples"),
        &scratch.path().join("examples"),
    );
    let repo = if cmd.contains("baseline") {
        fixture
    } else {
        scratch.path().to_path_buf()
    };
    // `cargo run … --` and `target/release/meshlint` are meshlint; a benchmark corpus is
    // replaced by the examples.
    let cmd = cmd
        .replace("cargo run --release -p meshlint-cli -- ", "meshlint ")
        .replace("target/release/meshlint ", "meshlint ")
        .replace("bench-out/corpus-2000", "examples");
    let (cmd, consumer) = match cmd.split_once(" | ") {
        Some((c, rest)) => (c.to_string(), Some(rest.to_string())),
        None => (cmd, None),
    };
    let (cmd, redirect) = match cmd.split_once(" > ") {
        Some((c, f)) => (c.to_string(), Some(f.trim().to_string())),
        None => (cmd, None),
    };
    let mut args: Vec<&str> = cmd.split_whitespace().collect();
    assert_eq!(args.remove(0), "meshlint", "{cmd}");
    // The baseline pair runs in order: reading needs the file the first one writes.
    if args.contains(&"--baseline") {
        run(
            &repo,
            &["check", "--write-baseline", ".meshlint-baseline.json", "."],
        );
    }
    let r = run(&repo, &args);
    assert_eq!(r.code, expect, "{cmd}: {}", r.stderr);
    if let Some(file) = redirect.filter(|f| f != "/dev/null") {
        std::fs::write(repo.join(&file), &r.stdout).unwrap();
        assert!(!r.stdout.is_empty(), "{cmd} wrote nothing");
    }
    if args.first() == Some(&"graph") && !args.contains(&"json") {
        assert!(r.stdout.starts_with("digraph"), "{cmd}: {}", r.stdout);
    }
    if args.contains(&"json") {
        let _: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    }
    if let Some(consumer) = consumer {
        assert!(consumer.starts_with("dot "), "{consumer}");
        assert!(r.stdout.starts_with("digraph"), "Graphviz reads DOT");
    }
}

#[test]
fn every_documented_command_runs() {
    for (cmd, how) in COMMANDS {
        match how {
            How::Run(code) => run_documented(cmd, *code),
            How::Cargo => cargo_check(cmd),
            How::Elsewhere(why) => assert!(!why.is_empty()),
            How::Script => {
                let path = workspace().join(cmd);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                    assert!(mode & 0o111 != 0, "{cmd} is not executable");
                }
                match std::process::Command::new("bash")
                    .arg("-n")
                    .arg(&path)
                    .status()
                {
                    Ok(s) => assert!(s.success(), "{cmd}: bash -n fails"),
                    Err(_) => skip(&format!("no bash to parse {cmd}")),
                }
            }
        }
    }
}

/// README's synopsis lists subcommands that exist.
#[test]
fn the_usage_synopsis_names_real_subcommands() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let (_, synopsis) = blocks(&readme)
        .into_iter()
        .find(|(info, b)| info.is_empty() && b.starts_with("meshlint check"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for line in synopsis.lines() {
        let Some(sub) = line.strip_prefix("meshlint ") else {
            continue;
        };
        let sub = sub.split_whitespace().next().unwrap();
        let r = run(dir.path(), &[sub, "--help"]);
        assert_eq!(r.code, 0, "meshlint {sub}: {}", r.stderr);
    }
}

#[test]
fn every_yaml_snippet_parses_and_config_and_rule_snippets_load() {
    let mut configs = 0;
    let mut rules = 0;
    for (name, md) in documents() {
        for (info, body) in blocks(&md) {
            if info != "yaml" {
                continue;
            }
            let loaded = load_source(
                format!("{name} snippet").into(),
                body.clone().into_bytes(),
                &LoadLimits::default(),
            );
            assert!(
                loaded.findings.is_empty(),
                "{name}: {:?}\n{body}",
                loaded.findings
            );
            if body.starts_with("# .meshlint.yaml") {
                configs += 1;
                config_snippet_works(&name, &body);
            } else if body.starts_with("id: ") && body.contains("\nmatch:") {
                rules += 1;
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join("rule.yaml");
                std::fs::write(&file, &body).unwrap();
                let r = run(dir.path(), &["rules", "--rules", file.to_str().unwrap()]);
                assert_eq!(r.code, 0, "{name}: {}\n{body}", r.stderr);
            }
        }
    }
    assert!(
        configs >= 1 && rules >= 2,
        "{configs} configs, {rules} rules"
    );
}

/// Uses a `.meshlint.yaml` snippet as the configuration of a check of the examples,
/// with the files it names created.
fn config_snippet_works(name: &str, body: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_dir(&workspace().join("examples"), &root.join("clusters"));
    std::fs::write(root.join(".meshlint.yaml"), body).unwrap();
    let loaded = load_source(
        "cfg".into(),
        body.as_bytes().to_vec(),
        &LoadLimits::default(),
    );
    let cfg = &loaded.documents[0].root;
    for dir in cfg.get("rules").map(|r| r.items()).unwrap_or(&[]) {
        std::fs::create_dir_all(root.join(dir.as_str().unwrap())).unwrap();
    }
    if let Some(mc) = cfg.str_at(&["mesh_config"]) {
        let path = root.join(mc);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    enableAutoMtls: true\n",
        )
        .unwrap();
    }
    let baseline = cfg.str_at(&["baseline"]);
    if let Some(b) = baseline {
        let r = run(root, &["check", "--write-baseline", b, "."]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
    }
    let r = run(root, &["check", "--verbose", "."]);
    assert!(
        r.code == 0 || r.code == 1,
        "{name}: the snippet is no valid configuration: {}",
        r.stderr
    );
    assert!(r.stderr.contains("config: .meshlint.yaml"), "{}", r.stderr);
    let _ = Path::new(name);
}

/// README's example output is what `meshlint check examples` prints.
#[test]
fn the_readme_example_output_is_real() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let at = readme.find("## Example output").unwrap();
    let (_, example) = blocks(&readme[at..]).into_iter().next().unwrap();
    let r = run(&workspace(), &["check", "--color", "never", "examples"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains(example.trim_end()),
        "README's example output is not in:\n{}",
        r.stdout
    );
}
