//! `.meshlint.yaml` through the binary: discovery upward from the working directory,
//! `--config`, command-line overrides, and configuration errors (exit 2 with the
//! file's line and column).

mod common;
use common::*;

#[test]
fn discovered_by_walking_up_from_a_nested_working_directory() {
    let (_tmp, repo) = fixture_copy();
    // From `repo/shop`, `.meshlint.yaml` is `../.meshlint.yaml`; its `rules: [../rules]`
    // resolves next to the file, not the working directory.
    let r = run(
        &repo.join("shop"),
        &["check", "--format", "json", "-v", "."],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let rules: Vec<String> = r.findings().into_iter().map(|f| f.0).collect();
    assert_eq!(rules, ["IT001", "IT002"], "{}", r.stdout);
    assert!(
        r.stderr.contains("config: ../.meshlint.yaml"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("target Istio version: 1.24"),
        "{}",
        r.stderr
    );

    // Deeper still, and from a directory with no configuration anywhere above it.
    std::fs::create_dir_all(repo.join("shop/a/b")).unwrap();
    let r = run(
        &repo.join("shop/a/b"),
        &["check", "--format", "json", "../.."],
    );
    assert_eq!(r.findings().len(), 2, "{}{}", r.stdout, r.stderr);
    let r = run(&repo, &["check", "--no-config", "--format", "json", "."]);
    assert!(
        !r.findings().iter().any(|f| f.0.starts_with("IT")),
        "without the configuration the test rules are not loaded: {}",
        r.stdout
    );
}

#[test]
fn explicit_config_file_and_cli_overrides() {
    let (tmp, repo) = fixture_copy();
    let cfg = tmp.path().join("strict.yaml");
    std::fs::write(
        &cfg,
        "rules: [rules]\nselect: [IT001, IT002]\nseverity:\n  IT002: warning\nfail_on: warning\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let r = run(&repo, &["check", "--config", cfg, "--format", "json", "."]);
    assert_eq!(r.code, 1, "fail_on: warning from the file");
    let v = r.json();
    let sev: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sev,
        [("IT001", "warning"), ("IT002", "warning")],
        "severity override"
    );

    // Flags beat the file.
    let r = run(
        &repo,
        &[
            "check",
            "--config",
            cfg,
            "--fail-on",
            "error",
            "--format",
            "json",
            ".",
        ],
    );
    assert_eq!(r.code, 0);
    let r = run(
        &repo,
        &[
            "check", "--config", cfg, "--select", "IT003", "--format", "json", ".",
        ],
    );
    let rules: Vec<String> = r.findings().into_iter().map(|f| f.0).collect();
    assert_eq!(rules, ["IT003"], "--select replaces the file's select");
    assert_eq!(r.code, 1, "IT003 is an error");

    // closed_world from the file, --open-world wins; max_warnings from the file.
    std::fs::write(
        repo.join(".meshlint.yaml"),
        "rules: [../rules]\nselect: [IT001]\nmax_warnings: 0\n",
    )
    .unwrap();
    assert_eq!(run(&repo, &["check", "--format", "json", "."]).code, 1);
    assert_eq!(
        run(
            &repo,
            &["check", "--max-warnings", "5", "--format", "json", "."]
        )
        .code,
        0
    );
}

fn config_error(text: &str) -> Run {
    let (tmp, repo) = fixture_copy();
    std::fs::write(repo.join(".meshlint.yaml"), text).unwrap();
    let r = run(&repo.join("shop"), &["check", "--format", "json", "."]);
    drop(tmp);
    assert_eq!(
        r.code, 2,
        "config errors are usage errors: {}{}",
        r.stdout, r.stderr
    );
    assert_eq!(r.stdout, "", "nothing on stdout");
    r
}

#[test]
fn config_errors_exit_2_with_line_and_column() {
    let r = config_error("rules: [../rules]\nselect: [IT001]\nfail_on: sometimes\n");
    assert!(
        r.stderr
            .contains("../.meshlint.yaml:3:10: invalid configuration"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("unknown variant `sometimes`"),
        "{}",
        r.stderr
    );

    let r = config_error("rules: [../rules]\n\nclosed-world: true\n");
    assert!(r.stderr.contains("../.meshlint.yaml:3:1:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("unknown field `closed-world`"),
        "{}",
        r.stderr
    );

    let r = config_error("rules: [../rules]\nseverity:\n  IT001: warning\n  IT0002: error\n");
    assert!(r.stderr.contains("../.meshlint.yaml:4:3:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("`IT0002`, which is not a rule"),
        "{}",
        r.stderr
    );

    let r = config_error("rules: [../rules]\nignore: [IT001, tsl]\n");
    assert!(r.stderr.contains("../.meshlint.yaml:2:17:"), "{}", r.stderr);

    let r = config_error("select: [IT001\n");
    assert!(r.stderr.contains("../.meshlint.yaml:"), "{}", r.stderr);

    let r = config_error("istio_version: one-point-twenty\n");
    assert!(r.stderr.contains("../.meshlint.yaml:1:16:"), "{}", r.stderr);

    // A rule directory that does not exist is reported too.
    let r = config_error("rules: [../no-such-rules]\n");
    assert!(r.stderr.contains("no-such-rules"), "{}", r.stderr);

    // And a missing --config file.
    let r = run(
        &workspace(),
        &["check", "--config", "/no/such/config.yaml", "."],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/no/such/config.yaml"), "{}", r.stderr);
}

#[test]
fn schema_config_prints_the_json_schema() {
    let r = run(&workspace(), &["schema", "config"]);
    assert_eq!(r.code, 0);
    let v = r.json();
    assert_eq!(v["additionalProperties"], false);
    for key in [
        "include",
        "exclude",
        "select",
        "ignore",
        "severity",
        "rules",
        "mesh_config",
        "istio_version",
        "closed_world",
        "fail_on",
    ] {
        assert!(
            v["properties"].get(key).is_some(),
            "schema lacks {key}: {v}"
        );
    }
    // The fixture configuration is valid against it (keys only: a light structural check).
    let text = std::fs::read_to_string(integration().join("repo/.meshlint.yaml")).unwrap();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(':'))
    {
        let key = line.split(':').next().unwrap();
        assert!(v["properties"].get(key).is_some(), "{key}");
    }
}

#[test]
fn the_example_in_docs_configuration_md_is_valid() {
    let md = std::fs::read_to_string(workspace().join("docs/configuration.md")).unwrap();
    let start = md.find("```yaml\n# .meshlint.yaml\n").unwrap() + "```yaml\n".len();
    let text = &md[start..start + md[start..].find("```").unwrap()];
    let (c, _) = meshlint_cli::config::parse(".meshlint.yaml", text).unwrap();
    assert_eq!(c.fail_on, Some(meshlint_cli::config::FailOn::Warning));
    assert_eq!(c.istio_version.as_deref(), Some("1.24"));
    assert_eq!(c.severity.len(), 2);
    // The documented error message is what a wrong `fail_on` gives.
    let bad = text.replace("fail_on: warning", "fail_on: warn");
    let e = meshlint_cli::config::parse(".meshlint.yaml", &bad).unwrap_err();
    let line = bad.lines().position(|l| l.starts_with("fail_on:")).unwrap() + 1;
    let shown = format!(
        "meshlint: {}",
        meshlint_cli::config::ConfigError::Invalid(e)
    );
    assert!(
        shown.starts_with(&format!(
            "meshlint: .meshlint.yaml:{line}:10: invalid configuration: unknown variant `warn`"
        )),
        "{shown}"
    );
    assert!(md.contains(&shown), "docs show: {shown}");
}
