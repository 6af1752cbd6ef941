//! Argument parsing, configuration merging, rendering and exit codes of the `meshlint`
//! binary (`src/main.rs` only calls [`main`]).

use crate::baseline;
use crate::config::{self, Config, FailOn, LoadedConfig};
use crate::graph_view::{self, GraphFilter, GraphFormat};
use crate::pipeline::{load_mesh, run_check, CheckOptions};
use crate::suppress::UNUSED_SUPPRESSION;
use clap::{Args, Parser, Subcommand, ValueEnum};
use meshlint_diag::Severity;
use meshlint_report::{render, summary_line, Format, HumanOptions, ReportInput};
use meshlint_rules::{render_index, render_rule_markdown, rule_file_schema, RuleSet};
use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// `meshlint --version`: the version, the commit it was built from and that commit's
/// date (see `build.rs`; `unknown` outside a git checkout).
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("MESHLINT_BUILD_COMMIT"),
    " ",
    env!("MESHLINT_BUILD_DATE"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "meshlint",
    version = LONG_VERSION,
    about = "Offline static analyzer for Istio manifests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze manifests (files, directories, `-` for stdin; default `.`).
    Check(Box<CheckArgs>),
    /// List the rules.
    Rules(RulesArgs),
    /// Print a rule's documentation as Markdown.
    Explain {
        /// Rule id or name.
        rule: String,
        #[arg(long = "rules", value_name = "PATH")]
        rule_dirs: Vec<PathBuf>,
    },
    /// Print a JSON Schema: `rules` (rule files) or `config` (.meshlint.yaml).
    Schema { which: SchemaKind },
    /// Print the resource graph (which route goes to which host, what configures and
    /// selects what) as Graphviz DOT or JSON.
    Graph(GraphArgs),
    /// Trace one request through the mesh (hops, verdict, symptom, fix).
    Trace(Box<crate::trace::TraceArgs>),
    /// Run the language server (LSP over stdio) for the editor's workspace: live
    /// diagnostics, hover, go to definition, references and quick fixes.
    Server(ServerArgs),
    /// Print a shell completion script (`meshlint completions bash > …`).
    Completions {
        /// bash, elvish, fish, powershell or zsh.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; `meshlint man > meshlint.1`).
    Man,
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaKind {
    Rules,
    Config,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Where the configuration comes from.
#[derive(Args)]
struct ConfigArgs {
    /// Configuration file (default: `.meshlint.yaml` found upward from the working directory).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Do not read any configuration file.
    #[arg(long, conflicts_with = "config")]
    no_config: bool,
}

/// Which files a directory walk reads (`check` and `graph` alike).
#[derive(Args)]
struct WalkArgs {
    /// Only files matching these globs (directory walks).
    #[arg(long)]
    include: Vec<String>,
    /// Skip files matching these globs (directory walks).
    #[arg(long)]
    exclude: Vec<String>,
    /// Do not honour .gitignore files.
    #[arg(long)]
    no_gitignore: bool,
}

impl WalkArgs {
    /// The flags over the configuration file: a given list replaces the file's.
    fn resolve(&self, file: &Config) -> (Vec<String>, Vec<String>, bool) {
        let pick = |cli: &[String], cfg: &[String]| {
            if cli.is_empty() {
                cfg.to_vec()
            } else {
                cli.to_vec()
            }
        };
        (
            pick(&self.include, &file.include),
            pick(&self.exclude, &file.exclude),
            !self.no_gitignore && file.respect_gitignore.unwrap_or(true),
        )
    }
}

#[derive(Args)]
struct CheckArgs {
    /// Files or directories to analyze; `-` reads standard input.
    paths: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f')]
    format: Option<Format>,
    /// Write the `--format` output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "PATH")]
    output_file: Option<PathBuf>,
    /// Also write the findings in FORMAT to PATH (repeatable: `--report sarif=out.sarif
    /// --report junit=out.xml`), from the same run.
    #[arg(long, value_name = "FORMAT=PATH", value_parser = parse_report)]
    report: Vec<(Format, PathBuf)>,
    /// Print only findings at or above the fail level (`--fail-on`), and no summary.
    /// Reports written with `--report` keep every finding.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Print the number of findings per rule on stderr.
    #[arg(long)]
    statistics: bool,
    /// Accept inputs that hold no Kubernetes object at all (by default that is an
    /// error, exit 2: a path or glob that matches nothing must not pass silently).
    #[arg(long)]
    allow_empty: bool,
    /// The file name findings on standard input (`-`) are reported against (default
    /// `<stdin>`). Documents of `helm template` output are named by their
    /// `# Source:` comment instead.
    #[arg(long, value_name = "NAME")]
    stdin_filename: Option<String>,
    /// Lowest severity that makes the exit code 1 (default `error`).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Fail (exit 1) when there are more than N warnings.
    #[arg(long, value_name = "N")]
    max_warnings: Option<usize>,
    /// An Istio MeshConfig file (or the `istio` ConfigMap carrying one).
    #[arg(long, value_name = "FILE")]
    mesh_config: Option<PathBuf>,
    /// An Istio MeshNetworks file.
    #[arg(long, value_name = "FILE")]
    mesh_networks: Option<PathBuf>,
    /// Extra rule file or directory (repeatable; added to the configuration's `rules`).
    #[arg(long = "rules", value_name = "PATH")]
    rule_dirs: Vec<PathBuf>,
    /// Only these rules: ids, names, categories or id prefixes (`ML1`, `ML20`), or
    /// `ALL`; repeatable or comma-separated. Replaces the configuration's `select`.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    select: Vec<String>,
    /// Add these rules to the selection (`select` of the configuration or `--select`).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    extend_select: Vec<String>,
    /// Skip these rules (ids, names, categories or id prefixes; repeatable or
    /// comma-separated). `unused-suppression` and `stale-baseline-entry` work here too.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    ignore: Vec<String>,
    /// The inputs are the whole mesh: missing references are errors.
    #[arg(long, conflicts_with = "open_world")]
    closed_world: bool,
    /// The inputs are part of a mesh (the default; overrides `closed_world: true`).
    #[arg(long)]
    open_world: bool,
    /// The namespace that objects without `metadata.namespace` are applied to (what
    /// `kubectl apply -n`, `helm template -n` and `istioctl analyze -n` mean). Without it
    /// meshlint does not guess `default`.
    #[arg(long, short = 'n', value_name = "NS", value_parser = parse_namespace)]
    namespace: Option<String>,
    /// Load these paths for cross-resource context; report only on the given paths.
    #[arg(long, value_name = "DIR")]
    context: Vec<String>,
    /// Apply include/exclude globs (flags or `.meshlint.yaml`) to files named on the
    /// command line too, as pre-commit needs: it names every staged file.
    #[arg(long)]
    force_exclude: bool,
    #[command(flatten)]
    walk: WalkArgs,
    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record the current findings in this baseline file (and report none).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Do not honour `meshlint.io/ignore`, `galley.istio.io/analyze-suppress` and
    /// `# meshlint-ignore:` suppressions.
    #[arg(long)]
    no_suppressions: bool,
    /// The Istio release the manifests target (`1.29`, `1.29.3`): its CRD schemas decide
    /// which kinds, versions, fields and values are accepted. Default: 1.30.
    #[arg(long, value_name = "VERSION", value_parser = parse_istio_version)]
    istio_version: Option<String>,
    #[command(flatten)]
    config: ConfigArgs,
    /// Colour for the human format.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
    /// Also list skipped documents and stage timings on stderr.
    #[arg(long, short = 'v')]
    verbose: bool,
}

#[derive(Args)]
struct ServerArgs {
    /// Speak LSP over standard input and output (the only transport, and the default;
    /// accepted because editors' clients pass it).
    #[arg(long)]
    stdio: bool,
    /// The namespace objects without `metadata.namespace` are applied to, as `check -n`.
    #[arg(long, short = 'n', value_name = "NS", value_parser = parse_namespace)]
    namespace: Option<String>,
    /// Load these paths for cross-resource context, as `check --context`: their own
    /// findings are not shown, those they decide in the workspace are.
    #[arg(long, value_name = "DIR")]
    context: Vec<String>,
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Args)]
struct RulesArgs {
    /// `table` (default) or `json`.
    #[arg(long, default_value = "table")]
    format: String,
    #[arg(long = "rules", value_name = "PATH")]
    rule_dirs: Vec<PathBuf>,
    /// Write the rule reference (one page per rule and an index) into DIR.
    #[arg(long, value_name = "DIR")]
    write_docs: Option<PathBuf>,
}

#[derive(Args)]
struct GraphArgs {
    /// Files or directories to read; `-` reads standard input.
    paths: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "dot")]
    format: GraphFormat,
    /// Show only this namespace and what is one hop from it.
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// Show only this host (FQDN or short name) and what is one hop from it.
    #[arg(long, value_name = "HOST")]
    host: Option<String>,
    /// An Istio MeshConfig file (or the `istio` ConfigMap carrying one).
    #[arg(long, value_name = "FILE")]
    mesh_config: Option<PathBuf>,
    #[command(flatten)]
    walk: WalkArgs,
    #[command(flatten)]
    config: ConfigArgs,
}

fn parse_istio_version(v: &str) -> Result<String, String> {
    if config::check_version(v) {
        Ok(v.to_string())
    } else {
        Err("expected a version like `1.24` or `1.24.2`".to_string())
    }
}

/// A namespace name as Kubernetes accepts it (RFC 1123 label).
fn parse_namespace(v: &str) -> Result<String, String> {
    let ok = !v.is_empty()
        && v.len() <= 63
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if ok {
        Ok(v.to_string())
    } else {
        Err("a namespace is 1-63 lower-case letters, digits or `-`, starting and ending with a letter or digit".to_string())
    }
}

/// `--report FORMAT=PATH`.
fn parse_report(v: &str) -> Result<(Format, PathBuf), String> {
    let Some((format, path)) = v.split_once('=') else {
        return Err(format!(
            "expected FORMAT=PATH (e.g. `sarif=meshlint.sarif`); formats: {}",
            Format::names().join(", ")
        ));
    };
    let format: Format = format
        .parse()
        .map_err(|e: meshlint_report::ParseFormatError| e.to_string())?;
    if path.is_empty() {
        return Err("the path after `=` is empty".to_string());
    }
    Ok((format, PathBuf::from(path)))
}

/// Text for stderr, which CI runners scan for workflow commands: a line break or escape
/// sequence from a file name or a file's content must not start a line of its own.
fn safe(message: impl std::fmt::Display) -> String {
    meshlint_report::escape_name(&message.to_string()).into_owned()
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("meshlint: {}", safe(message));
    ExitCode::from(2)
}

fn load_rules(dirs: &[PathBuf]) -> Result<RuleSet, String> {
    let mut set = RuleSet::builtin().map_err(|e| e.to_string())?;
    for d in dirs {
        set.add_path(d).map_err(|e| e.to_string())?;
    }
    Ok(set)
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    crate::allocator::release_memory_promptly();
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(*args),
        Command::Rules(args) => rules(args),
        Command::Graph(args) => graph(args),
        Command::Trace(args) => crate::trace::run(*args),
        Command::Server(args) => {
            crate::allocator::keep_freed_pages_for_reuse();
            server(args)
        }
        Command::Explain { rule, rule_dirs } => {
            let set = match load_rules(&rule_dirs) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            match set.get(&rule) {
                Some(r) => {
                    print!("{}", render_rule_markdown(r));
                    ExitCode::SUCCESS
                }
                None => fail(format!("no rule `{rule}` (see `meshlint rules`)")),
            }
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut cmd, "meshlint", &mut text);
            print_bytes(&text)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            match clap_mangen::Man::new(cmd).render(&mut text) {
                Ok(()) => print_bytes(&text),
                Err(e) => fail(e),
            }
        }
        Command::Schema { which } => {
            let schema = match which {
                SchemaKind::Rules => rule_file_schema(),
                SchemaKind::Config => config::config_schema(),
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
    }
}

/// `meshlint server`: the settings of `meshlint check <workspace root>`, found from the
/// root the editor names (its `.meshlint.yaml` unless `--config`/`--no-config`). A broken
/// configuration is reported to the editor and the server runs with the defaults.
fn server(args: ServerArgs) -> ExitCode {
    let make = move |root: &Path| -> (Arc<dyn meshlint_lsp::Checker>, Vec<String>) {
        let mut warnings = Vec::new();
        let root_arg = root.to_string_lossy().into_owned();
        let check_args = match check_args_for(&root_arg) {
            Ok(mut a) => {
                a.namespace = args.namespace.clone();
                a.context = args.context.clone();
                a
            }
            Err(e) => {
                warnings.push(e);
                return fallback_checker(&root_arg, warnings);
            }
        };
        let cfg = if args.config.no_config {
            Ok(None)
        } else {
            match args
                .config
                .config
                .clone()
                .or_else(|| config::discover(root))
            {
                Some(p) => config::load(&p).map(Some).map_err(|e| e.to_string()),
                None => Ok(None),
            }
        };
        // Baseline entries name files as a check run next to the configuration does.
        let names_from = match &cfg {
            Ok(Some(c)) => std::path::absolute(c.dir()).unwrap_or_else(|_| root.to_path_buf()),
            _ => root.to_path_buf(),
        };
        let settings = cfg.and_then(|cfg| settings(&check_args, cfg.as_ref()));
        match settings {
            Ok(s) => {
                let (checker, more) =
                    crate::server::PipelineChecker::new(s.opts, s.rules, names_from);
                warnings.extend(more);
                (Arc::new(checker), warnings)
            }
            Err(e) => {
                warnings.push(format!("{e} (running with the default settings)"));
                fallback_checker(&root_arg, warnings)
            }
        }
    };
    match meshlint_lsp::serve_stdio(Box::new(make)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// `check ROOT` as parsed from the command line, with every default.
fn check_args_for(root: &str) -> Result<CheckArgs, String> {
    use clap::FromArgMatches;
    let cmd = <CheckArgs as Args>::augment_args(clap::Command::new("check"));
    let matches = cmd
        .try_get_matches_from(["check", root])
        .map_err(|e| e.to_string())?;
    CheckArgs::from_arg_matches(&matches).map_err(|e| e.to_string())
}

/// The built-in rules and default settings, for a workspace whose configuration fails.
fn fallback_checker(
    root: &str,
    warnings: Vec<String>,
) -> (Arc<dyn meshlint_lsp::Checker>, Vec<String>) {
    let rules = load_rules(&[]).unwrap_or_default();
    let opts = CheckOptions {
        paths: vec![root.to_string()],
        respect_gitignore: true,
        report_unused_suppressions: true,
        ..CheckOptions::default()
    };
    let (checker, more) = crate::server::PipelineChecker::new(opts, rules, PathBuf::from(root));
    let mut warnings = warnings;
    warnings.extend(more);
    (Arc::new(checker), warnings)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn print_bytes(bytes: &[u8]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => fail(e),
        _ => ExitCode::SUCCESS,
    }
}

fn rules(args: RulesArgs) -> ExitCode {
    let set = match load_rules(&args.rule_dirs) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if let Some(dir) = args.write_docs {
        if let Err(e) = write_docs(&set, &dir) {
            return fail(format!("{}: {e}", dir.display()));
        }
        return ExitCode::SUCCESS;
    }
    let mut out = std::io::stdout().lock();
    match args.format.as_str() {
        "json" => {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&set.infos()).unwrap_or_default()
            );
        }
        "table" => {
            let _ = writeln!(
                out,
                "{:<8} {:<8} {:<12} {:<8} {:<44} SUMMARY",
                "ID", "SEVERITY", "CATEGORY", "ISTIO", "NAME"
            );
            for r in &set.rules {
                let _ = writeln!(
                    out,
                    "{:<8} {:<8} {:<12} {:<8} {:<44} {}",
                    r.id(),
                    r.severity,
                    r.category(),
                    r.file.istio_code.as_deref().unwrap_or("-"),
                    r.name(),
                    r.file.summary
                );
            }
        }
        other => return fail(format!("unknown format `{other}` (table or json)")),
    }
    ExitCode::SUCCESS
}

/// Writes `docs/rules/`: one page per rule plus an index.
fn write_docs(set: &RuleSet, dir: &PathBuf) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rules: Vec<_> = set.rules.iter().collect();
    rules.sort_by(|a, b| a.id().cmp(b.id()));
    for r in &rules {
        std::fs::write(dir.join(format!("{}.md", r.id())), render_rule_markdown(r))?;
    }
    std::fs::write(dir.join("README.md"), render_index(&rules))
}

/// The configuration of this run: `--config`, else discovered, unless `--no-config`.
fn read_config(args: &ConfigArgs) -> Result<Option<LoadedConfig>, String> {
    read_config_file(args.config.as_deref(), args.no_config)
}

/// The configuration `--config FILE`/`--no-config` choose: that file, none, or the
/// `.meshlint.yaml` found upward from the working directory (`check`, `graph`, `trace`).
pub(crate) fn read_config_file(
    config: Option<&Path>,
    no_config: bool,
) -> Result<Option<LoadedConfig>, String> {
    if no_config {
        return Ok(None);
    }
    let path = match config {
        Some(p) => p.to_path_buf(),
        None => {
            let cwd = std::env::current_dir().map_err(|e| format!("working directory: {e}"))?;
            match config::discover(&cwd) {
                Some(p) => p,
                None => return Ok(None),
            }
        }
    };
    config::load(&path).map(Some).map_err(|e| e.to_string())
}

/// Meta findings that `--select`/`--ignore` may name although they are not rules.
const META_RULES: [&str; 2] = [UNUSED_SUPPRESSION, baseline::STALE_BASELINE_ENTRY];

fn names_something(set: &RuleSet, entry: &str) -> bool {
    META_RULES.contains(&entry) || set.rules.iter().any(|r| meshlint_rules::selects(entry, r))
}

/// Refuses a selector that matches no rule — it would otherwise turn rules off (in
/// `select`) or do nothing (in `ignore`) without a word — suggesting the closest id,
/// name or category.
fn check_selectors(set: &RuleSet, entries: &[String]) -> Result<(), String> {
    let Some(bad) = entries.iter().find(|e| !names_something(set, e)) else {
        return Ok(());
    };
    let mut candidates: Vec<&str> = vec!["ALL"];
    candidates.extend(META_RULES);
    for r in &set.rules {
        candidates.extend([r.id(), r.name(), r.category()]);
    }
    let hint = match meshlint_diag::did_you_mean(bad, candidates) {
        Some(s) => format!("; did you mean `{s}`?"),
        None => " (see `meshlint rules`)".to_string(),
    };
    Err(format!(
        "`{bad}` matches no rule id, name, category or id prefix{hint}"
    ))
}

/// Everything `check` needs, merged from the command line and the configuration.
struct Settings {
    opts: CheckOptions,
    rules: RuleSet,
    fail_on: FailOn,
    max_warnings: Option<usize>,
    istio_version: Option<String>,
}

fn settings(args: &CheckArgs, cfg: Option<&LoadedConfig>) -> Result<Settings, String> {
    let file = cfg.map(|c| c.config.clone()).unwrap_or_default();
    let resolve = |p: &str| {
        cfg.map(|c| c.resolve(p))
            .unwrap_or_else(|| PathBuf::from(p))
    };
    let config_error = |key: &str, entry: Option<&str>, msg: String| -> String {
        match cfg {
            Some(c) => config::ConfigError::Invalid(c.error_at_key(key, entry, msg)).to_string(),
            None => msg,
        }
    };

    let mut rule_dirs: Vec<PathBuf> = file.rules.iter().map(|d| resolve(d)).collect();
    rule_dirs.extend(args.rule_dirs.iter().cloned());
    let istio_version = args.istio_version.clone().or(file.istio_version.clone());
    // The release is resolved here to report a bad version before anything runs.
    match meshlint_model::schema::resolve_release(istio_version.as_deref()) {
        Ok(_) => {}
        Err(e) if args.istio_version.is_none() => {
            return Err(config_error("istio_version", None, e))
        }
        Err(e) => return Err(format!("--istio-version: {e}")),
    };
    let mut rules = load_rules(&rule_dirs)?;

    let mut overrides = HashMap::new();
    for (rule, sev) in &file.severity {
        if rules.get(rule).is_none() {
            return Err(config_error(
                "severity",
                Some(rule),
                format!("`severity` names `{rule}`, which is not a rule (see `meshlint rules`)"),
            ));
        }
        overrides.insert(rule.clone(), Severity::from(*sev));
    }
    rules.override_severities(&overrides);

    for (key, list) in [
        ("select", &file.select),
        ("extend_select", &file.extend_select),
        ("ignore", &file.ignore),
    ] {
        if let Err(msg) = check_selectors(&rules, list) {
            let bad = list.iter().find(|e| !names_something(&rules, e));
            return Err(config_error(
                key,
                bad.map(String::as_str),
                format!("`{key}`: {msg}"),
            ));
        }
    }
    for (flag, list) in [
        ("--select", &args.select),
        ("--extend-select", &args.extend_select),
        ("--ignore", &args.ignore),
    ] {
        check_selectors(&rules, list).map_err(|msg| format!("{flag}: {msg}"))?;
    }
    let mut select = if args.select.is_empty() {
        file.select.clone()
    } else {
        args.select.clone()
    };
    // Extending an empty selection (every rule) changes nothing.
    if !select.is_empty() {
        select.extend(file.extend_select.iter().cloned());
        select.extend(args.extend_select.iter().cloned());
    }
    let ignore = if args.ignore.is_empty() {
        file.ignore.clone()
    } else {
        args.ignore.clone()
    };
    let before: Vec<(String, String)> = rules
        .rules
        .iter()
        .map(|r| (r.id().to_string(), r.name().to_string()))
        .collect();
    rules.filter(&select, &ignore);
    let kept: HashSet<&str> = rules.rules.iter().map(|r| r.id()).collect();
    let disabled_rules: Vec<String> = before
        .into_iter()
        .filter(|(id, _)| !kept.contains(id.as_str()))
        .flat_map(|(id, name)| [id, name])
        .collect();
    let meta_on = |m: &str| !ignore.iter().any(|i| i == m);

    let mesh_config = args
        .mesh_config
        .clone()
        .or_else(|| file.mesh_config.as_deref().map(resolve));
    let mesh_networks = args
        .mesh_networks
        .clone()
        .or_else(|| file.mesh_networks.as_deref().map(resolve));
    let closed_world = if args.closed_world {
        true
    } else if args.open_world {
        false
    } else {
        file.closed_world.unwrap_or(false)
    };
    let baseline = if args.write_baseline.is_some() {
        None
    } else {
        args.baseline
            .clone()
            .or_else(|| file.baseline.as_deref().map(resolve))
    };
    let (include, exclude, respect_gitignore) = args.walk.resolve(&file);
    let opts = CheckOptions {
        paths: args.paths.clone(),
        include,
        exclude,
        respect_gitignore,
        mesh_config,
        mesh_networks,
        closed_world,
        namespace: args.namespace.clone(),
        now: None,
        context: args.context.clone(),
        force_exclude: args.force_exclude,
        keep_repeated_causes: false,
        istio_version: istio_version.clone(),
        limits: None,
        ignore_suppressions: args.no_suppressions,
        report_unused_suppressions: meta_on(UNUSED_SUPPRESSION),
        disabled_rules,
        baseline,
        report_stale_baseline: meta_on(baseline::STALE_BASELINE_ENTRY),
        exit_after: true,
        skip_files: cfg
            .map(|c| c.path.clone())
            .into_iter()
            .chain(args.baseline.clone())
            .chain(args.write_baseline.clone())
            // Reports a previous run left in the tree are not manifests.
            .chain(args.output_file.clone())
            .chain(args.report.iter().map(|(_, p)| p.clone()))
            .chain(file.baseline.as_deref().map(resolve))
            .collect(),
    };
    Ok(Settings {
        opts,
        rules,
        fail_on: args.fail_on.or(file.fail_on).unwrap_or(FailOn::Error),
        max_warnings: args.max_warnings.or(file.max_warnings),
        istio_version,
    })
}

fn check(args: CheckArgs) -> ExitCode {
    let mut outputs: Vec<&PathBuf> = args.output_file.iter().collect();
    for (_, path) in &args.report {
        if outputs.contains(&path) {
            return fail(format!(
                "{} is the destination of two reports (--output-file/--report)",
                path.display()
            ));
        }
        outputs.push(path);
    }
    let cfg = match read_config(&args.config) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let Settings {
        opts,
        rules: set,
        fail_on,
        max_warnings,
        istio_version,
    } = match settings(&args, cfg.as_ref()) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let mut result = match run_check(&opts, &set) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    for e in &result.rule_errors {
        if e.contains(": not evaluated on ") {
            eprintln!(
                "meshlint: rule stopped (its evaluation budget ran out): {}",
                safe(e)
            );
        } else {
            eprintln!(
                "meshlint: rule bug (not a problem in your manifests): {}",
                safe(e)
            );
        }
    }
    let not_evaluated = !result.rule_errors.is_empty();
    for name in &result.changed_files {
        eprintln!(
            "meshlint: {} changed while it was checked; its findings are shown without its lines",
            safe(&**name)
        );
    }
    if let Some(path) = &args.write_baseline {
        let b = baseline::build(&result.findings, &result.sources);
        if let Err(e) = baseline::write(path, &b) {
            return fail(format!("{}: {e}", path.display()));
        }
        eprintln!(
            "meshlint: wrote {} baseline entries to {}",
            b.entries.len(),
            safe(path.display())
        );
        result.baselined = result.findings.len();
        result.findings.clear();
        result.summary.count(&result.findings);
    }
    if let Some(name) = &args.stdin_filename {
        crate::rendered::rename_file(&mut result, "<stdin>", name);
    }
    crate::rendered::map_helm_sources(&mut result);
    let format = args.format.unwrap_or(Format::Human);
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output_file.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    // Only SARIF carries each rule's Markdown help; the other formats skip rendering it.
    let any_sarif = format == Format::Sarif || args.report.iter().any(|(f, _)| *f == Format::Sarif);
    let infos = if any_sarif {
        set.infos()
    } else {
        set.brief_infos()
    };
    let threshold = fail_on.threshold();
    let input = ReportInput {
        findings: &result.findings,
        sources: &result.sources,
        rules: &infos,
        summary: result.summary,
        tool_version: env!("CARGO_PKG_VERSION"),
        fail_threshold: threshold,
    };
    // `--quiet`: the printed report holds only what fails the run.
    let failing_only: Vec<meshlint_diag::Finding>;
    let printed = if args.quiet {
        failing_only = result
            .findings
            .iter()
            .filter(|f| threshold.is_some_and(|t| f.severity >= t))
            .cloned()
            .collect();
        let mut summary = result.summary;
        summary.count(&failing_only);
        ReportInput {
            findings: &failing_only,
            summary,
            ..input
        }
    } else {
        input
    };
    let human = HumanOptions { color, width: None };
    let written = match &args.output_file {
        Some(path) => write_report_file(format, &printed, &human, path),
        None => {
            let mut out = std::io::stdout().lock();
            match render(format, &printed, &human, &mut out).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
                _ => Ok(()),
            }
        }
    };
    if let Err(e) = written {
        return fail(e);
    }
    let plain = HumanOptions::default();
    for (report_format, path) in &args.report {
        if let Err(e) = write_report_file(*report_format, &input, &plain, path) {
            return fail(e);
        }
    }
    if args.verbose {
        if let Some(c) = &cfg {
            eprintln!("config: {}", safe(c.path.display()));
        }
        if let Some(v) = &istio_version {
            eprintln!("target Istio version: {v}");
        }
        for s in &result.skipped {
            eprintln!(
                "skipped {} document {}: {}",
                safe(&s.file),
                s.doc_index + 1,
                safe(s.reason)
            );
        }
        eprintln!(
            "suppressed: {}, baselined: {}",
            result.suppressed, result.baselined
        );
        let t = result.timings;
        eprintln!(
            "timings: discover {:?}, load+model {:?}, graph {:?}, rules {:?}",
            t.discover, t.load_and_model, t.graph, t.rules
        );
        for (id, spent) in result.rule_times.iter().take(15) {
            eprintln!("  rule {id}: {spent:?}");
        }
    }
    if args.statistics {
        eprint!("{}", statistics(&result.findings));
    }
    if format == Format::Human && !args.quiet {
        eprintln!(
            "{}; {} suppressed, {} baselined",
            summary_line(&result.summary),
            result.suppressed,
            result.baselined
        );
    }
    let failing = threshold.is_some_and(|t| result.findings.iter().any(|f| f.severity >= t));
    let too_many_warnings = max_warnings.is_some_and(|n| result.summary.warnings > n);
    // Nothing to check is an error, unless a finding already says why (an unrendered
    // Helm template, a file that does not parse) or the user accepts it.
    let explained = result
        .findings
        .iter()
        .any(|f| f.severity >= Severity::Warning);
    let empty = result.resource_count == 0 && !args.allow_empty && !explained;
    if empty {
        eprintln!(
            "meshlint: no Kubernetes objects in the inputs ({} read), so nothing was checked; \
             check the paths and --include/--exclude, or pass --allow-empty to accept this",
            match result.summary.files {
                1 => "1 file".to_string(),
                n => format!("{n} files"),
            }
        );
    }
    // The process ends here; the OS reclaims the sources and rules faster than freeing
    // them one allocation at a time.
    std::mem::forget(result);
    std::mem::forget(set);
    if failing || too_many_warnings {
        ExitCode::from(1)
    } else if empty {
        ExitCode::from(2)
    } else if not_evaluated {
        // Nothing failed, but some rule did not finish on some resource.
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// Renders one report into a file (`--output-file`, `--report`).
fn write_report_file(
    format: Format,
    input: &ReportInput,
    human: &HumanOptions,
    path: &Path,
) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    render(format, input, human, &mut out)
        .and_then(|()| out.flush())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `--statistics`: findings per rule, most frequent first.
fn statistics(findings: &[meshlint_diag::Finding]) -> String {
    let mut counts: HashMap<(&str, &str, Severity), usize> = HashMap::new();
    for f in findings {
        let name = f.rule_name.as_deref().unwrap_or(&f.rule);
        *counts.entry((&f.rule, name, f.severity)).or_default() += 1;
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut text = String::new();
    for ((rule, name, severity), n) in rows {
        let name = if name == rule { "" } else { name };
        text.push_str(&format!(
            "{n:>6}  {rule:<24} {:<8} {name}\n",
            severity.to_string()
        ));
    }
    text
}

fn graph(args: GraphArgs) -> ExitCode {
    let cfg = match read_config(&args.config) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let file = cfg.as_ref().map(|c| c.config.clone()).unwrap_or_default();
    let resolve = |p: &str| {
        cfg.as_ref()
            .map(|c| c.resolve(p))
            .unwrap_or_else(|| Path::new(p).to_path_buf())
    };
    let (include, exclude, respect_gitignore) = args.walk.resolve(&file);
    let opts = CheckOptions {
        paths: args.paths.clone(),
        include,
        exclude,
        respect_gitignore,
        mesh_config: args
            .mesh_config
            .clone()
            .or_else(|| file.mesh_config.as_deref().map(resolve)),
        closed_world: file.closed_world.unwrap_or(false),
        now: None,
        skip_files: cfg.iter().map(|c| c.path.clone()).collect(),
        istio_version: file.istio_version.clone(),
        ..CheckOptions::default()
    };
    let loaded = match load_mesh(&opts) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let filter = GraphFilter {
        namespace: args.namespace.clone(),
        host: args.host.clone(),
    };
    let nodes = match graph_view::select_nodes(&loaded.graph, &filter) {
        Ok(n) => n,
        Err(e) => return fail(e),
    };
    let text = match args.format {
        GraphFormat::Dot => graph_view::render_dot(&loaded.graph, &nodes),
        GraphFormat::Json => {
            let v = graph_view::render_json(&loaded.graph, &nodes);
            let mut buf = Vec::new();
            let _ = meshlint_report::write_safe_json(&mut buf, &v);
            String::from_utf8(buf).unwrap_or_default() + "\n"
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    ExitCode::SUCCESS
}
