//! The `meshlint` binary: argument parsing, rendering and exit codes.

use clap::{Args, Parser, Subcommand, ValueEnum};
use meshlint_cli::pipeline::{run_check, CheckOptions};
use meshlint_diag::Severity;
use meshlint_report::{render, summary_line, Format, HumanOptions, ReportInput};
use meshlint_rules::{render_index, render_rule_markdown, rule_file_schema, RuleSet};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "meshlint",
    version,
    about = "Offline static analyzer for Istio manifests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze manifests (files, directories, `-` for stdin; default `.`).
    Check(CheckArgs),
    /// List the rules.
    Rules(RulesArgs),
    /// Print a rule's documentation as Markdown.
    Explain {
        /// Rule id or name.
        rule: String,
        #[arg(long = "rules", value_name = "DIR")]
        rule_dirs: Vec<PathBuf>,
    },
    /// Print a JSON Schema: `rules` (rule files) or `config` (.meshlint.yaml).
    Schema { which: SchemaKind },
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaKind {
    Rules,
    Config,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args)]
struct CheckArgs {
    /// Files or directories to analyze; `-` reads standard input.
    paths: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f')]
    format: Option<Format>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value = "error")]
    fail_on: FailOn,
    /// Fail (exit 1) when there are more than N warnings.
    #[arg(long, value_name = "N")]
    max_warnings: Option<usize>,
    /// An Istio MeshConfig file (or the `istio` ConfigMap carrying one).
    #[arg(long, value_name = "FILE")]
    mesh_config: Option<PathBuf>,
    /// An Istio MeshNetworks file.
    #[arg(long, value_name = "FILE")]
    mesh_networks: Option<PathBuf>,
    /// Extra rule directory (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    rule_dirs: Vec<PathBuf>,
    /// Only these rules (ids, names or categories; repeatable or comma-separated).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Skip these rules (ids, names or categories; repeatable or comma-separated).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// The inputs are the whole mesh: missing references are errors.
    #[arg(long)]
    closed_world: bool,
    /// Load these paths for cross-resource context; report only on the given paths.
    #[arg(long, value_name = "DIR")]
    context: Vec<String>,
    /// Only files matching these globs (directory walks).
    #[arg(long)]
    include: Vec<String>,
    /// Skip files matching these globs (directory walks).
    #[arg(long)]
    exclude: Vec<String>,
    /// Do not honour .gitignore files.
    #[arg(long)]
    no_gitignore: bool,
    /// Colour for the human format.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
    /// Also list skipped documents and stage timings on stderr.
    #[arg(long, short = 'v')]
    verbose: bool,
}

#[derive(Args)]
struct RulesArgs {
    /// `table` (default) or `json`.
    #[arg(long, default_value = "table")]
    format: String,
    #[arg(long = "rules", value_name = "DIR")]
    rule_dirs: Vec<PathBuf>,
    /// Write the rule reference (one page per rule and an index) into DIR.
    #[arg(long, value_name = "DIR")]
    write_docs: Option<PathBuf>,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("meshlint: {message}");
    ExitCode::from(2)
}

fn load_rules(dirs: &[PathBuf]) -> Result<RuleSet, String> {
    let mut set = RuleSet::builtin().map_err(|e| e.to_string())?;
    for d in dirs {
        set.add_dir(d).map_err(|e| e.to_string())?;
    }
    Ok(set)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(args),
        Command::Rules(args) => rules(args),
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
        Command::Schema { which } => {
            let schema = match which {
                SchemaKind::Rules => rule_file_schema(),
                SchemaKind::Config => serde_json::json!({}),
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
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
                    r.severity.as_str(),
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

fn check(args: CheckArgs) -> ExitCode {
    let mut set = match load_rules(&args.rule_dirs) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    set.filter(&args.select, &args.ignore);
    let opts = CheckOptions {
        paths: args.paths.clone(),
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        respect_gitignore: !args.no_gitignore,
        mesh_config: args.mesh_config.clone(),
        mesh_networks: args.mesh_networks.clone(),
        closed_world: args.closed_world,
        context: args.context.clone(),
        limits: None,
    };
    let result = match run_check(&opts, &set) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    for e in &result.rule_errors {
        eprintln!("meshlint: rule bug (not a problem in your manifests): {e}");
    }
    let stdout = std::io::stdout();
    let is_tty = stdout.is_terminal();
    let format = args.format.unwrap_or(Format::Human);
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let infos = set.infos();
    let input = ReportInput {
        findings: &result.findings,
        sources: &result.sources,
        rules: &infos,
        summary: result.summary,
        tool_version: env!("CARGO_PKG_VERSION"),
    };
    let mut out = stdout.lock();
    if let Err(e) = render(
        format,
        &input,
        &HumanOptions { color, width: None },
        &mut out,
    ) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return fail(e);
        }
    }
    let _ = out.flush();
    if args.verbose {
        for s in &result.skipped {
            eprintln!(
                "skipped {} document {}: {}",
                s.file,
                s.doc_index + 1,
                s.reason
            );
        }
        let t = result.timings;
        eprintln!(
            "timings: discover {:?}, load+model {:?}, graph {:?}, rules {:?}",
            t.discover, t.load_and_model, t.graph, t.rules
        );
    }
    if format == Format::Human {
        eprintln!("{}", summary_line(&result.summary));
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    let failing = threshold.is_some_and(|t| result.findings.iter().any(|f| f.severity >= t));
    let too_many_warnings = args
        .max_warnings
        .is_some_and(|n| result.summary.warnings > n);
    if failing || too_many_warnings {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
