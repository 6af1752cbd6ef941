//! Renders meshlint [`Finding`]s for the people and programs that read them.
//!
//! This crate is the last stage of the pipeline: it takes the findings the rule engine
//! produced, the source text they point into and the rule metadata, and writes one of
//! the output formats selected with `--format`:
//!
//! | [`Format`] | for | shape |
//! |---|---|---|
//! | `human` | a terminal | miette reports: source snippet, primary and related labels, help |
//! | `json` | scripts | the DESIGN.md contract (`{"version":1,"findings":[…],"summary":{…}}`) |
//! | `sarif` | code scanning | SARIF 2.1.0, one run, rules with help, stable `partialFingerprints` |
//! | `gcc` | editor problem matchers | `path:line:col: error\|warning\|note: message [rule]` |
//! | `github` | GitHub Actions | `::error file=…,line=…::message` workflow commands |
//! | `codeclimate` | GitLab Code Quality | JSON array of Code Climate issues |
//! | `junit` | CI test reports | one `<testsuite name="meshlint">` |
//! | `concise` | humans in a hurry | `path:line:col: severity[rule] message` |
//!
//! Every format is deterministic: findings are written in the order of
//! [`Finding::sort_key`] (file, position, rule, message) whatever order they are given
//! in, and nothing depends on the clock, the environment or the terminal. Colour and
//! width of the human format are decided by the caller through [`HumanOptions`].
//!
//! The reporter only writes the findings. The one-line summary that the CLI prints on
//! stderr in human mode is [`summary_line`]; machine formats write nothing but their
//! own document, so stdout stays parseable.
//!
//! # Format decisions
//!
//! - **Severities.** gcc and SARIF: error → `error`, warning → `warning`, info → `note`.
//!   GitHub: `::error` / `::warning` / `::notice`. Code Quality: error → `critical`,
//!   warning → `major`, info → `info`. Human: miette error / warning / advice.
//! - **Fingerprints.** [`stable_fingerprint`] is 32 hex digits of SHA-256 over the rule,
//!   the file, the resource identity (API group, kind, namespace, name — not the API
//!   version) and [`Finding::fingerprint`], or when the rule gave none the trimmed text of
//!   the offending line (for a line over 512 bytes, 256 bytes from the finding's column,
//!   so minified JSON costs the same per finding), or without source text the message. Never a line number, so
//!   SARIF alerts and Code Quality entries survive edits that move the finding up or down.
//!   SARIF writes `partialFingerprints["meshlint/v1"] = "<fingerprint>:<n>"`, `n` counting
//!   findings with the same fingerprint (1, 2, …); Code Quality's `fingerprint` is a
//!   32-hex digest of the same pair, unique per finding.
//! - **SARIF.** One run; `rules` holds the rules findings reference, sorted by id (a rule
//!   without [`RuleInfo`] gets a minimal descriptor); `columnKind` is
//!   `unicodeCodePoints` because meshlint counts columns in characters; URIs are the file
//!   names as given, percent-encoded into URI references (absolute paths become `file://`).
//!   A finding's help is appended to its message text after a line break.
//! - **gcc / concise / github.** One line per finding: line breaks inside messages become
//!   spaces (gcc, concise) or `%0A` (github, which also carries help and related
//!   locations as extra lines of the annotation).
//! - **JUnit.** One `<testsuite name="meshlint">`; test class = file; a passing test case
//!   per file without findings, one test case per finding: with one `<failure
//!   type="RULE">` when the finding is at or above [`ReportInput::fail_threshold`], else
//!   passing with the finding in `<system-out>`.
//! - **Code Quality.** `location.lines.begin/end`; related locations go to
//!   `other_locations`; `categories` is `["Bug Risk"]`.
#![forbid(unsafe_code)]

use meshlint_diag::{Finding, RuleInfo, Severity, SourceFile, Summary};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::str::FromStr;
use std::sync::Arc;

mod codeclimate;
mod common;
mod human;
mod json;
mod junit;
mod redact;
mod sarif;
mod text;

pub use common::{escape_name, is_unsafe_char, stable_fingerprint, write_safe_json};
pub use sarif::{AUTOMATION_ID, FINGERPRINT_KEY, INFORMATION_URI, SARIF_SCHEMA_URI};

/// An output format, as named by `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// miette graphical reports (the default on a terminal).
    #[default]
    Human,
    /// The DESIGN.md JSON contract.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// `path:line:col: severity: message [rule]`, as gcc prints and problem matchers read.
    Gcc,
    /// GitHub Actions workflow commands (`::error …`).
    Github,
    /// GitLab Code Quality (Code Climate issue) JSON.
    Codeclimate,
    /// JUnit XML.
    Junit,
    /// `path:line:col: severity[rule] message`.
    Concise,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 8] = [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Gcc,
        Format::Github,
        Format::Codeclimate,
        Format::Junit,
        Format::Concise,
    ];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Gcc => "gcc",
            Format::Github => "github",
            Format::Codeclimate => "codeclimate",
            Format::Junit => "junit",
            Format::Concise => "concise",
        }
    }

    /// The names accepted by [`Format::from_str`], in [`Format::ALL`] order.
    pub fn names() -> [&'static str; 8] {
        Format::ALL.map(Format::as_str)
    }

    /// Whether the format is meant for machines (everything but `human` and `concise`),
    /// i.e. stdout must carry nothing else.
    pub fn is_machine_readable(self) -> bool {
        !matches!(self, Format::Human | Format::Concise)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown format name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFormatError(pub String);

impl fmt::Display for ParseFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown output format `{}` (expected one of: {})",
            self.0,
            Format::names().join(", ")
        )
    }
}

impl std::error::Error for ParseFormatError {}

impl FromStr for Format {
    type Err = ParseFormatError;

    /// Parses a format name; ASCII case is ignored.
    fn from_str(s: &str) -> Result<Format, ParseFormatError> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseFormatError(s.to_string()))
    }
}

#[cfg(feature = "clap")]
impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

/// Everything a renderer needs.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The findings to report (any order; they are rendered in [`Finding::sort_key`] order).
    pub findings: &'a [Finding],
    /// Source text by file name as it appears in [`meshlint_diag::Location::file`]. Files
    /// missing here are still reported, only without snippets or line-text fingerprints.
    /// The keys are also the "files analyzed" of the JUnit report.
    pub sources: &'a HashMap<Arc<str>, SourceFile>,
    /// Metadata of the rules (only those referenced by findings are used).
    pub rules: &'a [RuleInfo],
    /// Totals for the JSON summary and the SARIF run properties.
    pub summary: Summary,
    /// meshlint's version, for SARIF `tool.driver.version`.
    pub tool_version: &'a str,
    /// The lowest severity that fails the run (`--fail-on`); `None` for `never`. JUnit
    /// marks only findings at or above it as failures, so the test report agrees with
    /// the exit code.
    pub fail_threshold: Option<Severity>,
}

/// How to draw the human format. The caller decides colour (`--color`, `NO_COLOR`,
/// whether stdout is a terminal); the reporter never looks at the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HumanOptions {
    /// ANSI colours and Unicode box drawing when true; plain ASCII art when false.
    pub color: bool,
    /// Wrap width in columns; [`DEFAULT_WIDTH`] when `None`.
    pub width: Option<usize>,
}

/// The width of the human format when [`HumanOptions::width`] is `None`.
pub const DEFAULT_WIDTH: usize = 100;

/// Writes `input` in `format` to `out`.
///
/// Machine formats write exactly one document (JSON, SARIF, Code Climate, JUnit) or one
/// line per finding (gcc, github, concise), each ending with a newline; an empty set of
/// findings gives an empty document (or no lines). The human format writes one report per
/// finding and nothing when there are none (the summary line is [`summary_line`]).
pub fn render(
    format: Format,
    input: &ReportInput,
    human: &HumanOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let findings = common::sorted(input.findings);
    match format {
        Format::Human => human::render(input, &findings, human, out),
        Format::Json => json::render(input, &findings, out),
        Format::Sarif => sarif::render(input, &findings, out),
        Format::Gcc => text::render_gcc(&findings, out),
        Format::Github => text::render_github(&findings, out),
        Format::Codeclimate => codeclimate::render(input, &findings, out),
        Format::Junit => junit::render(input, &findings, out),
        Format::Concise => text::render_concise(&findings, out),
    }
}

/// Renders into a `String` (convenience for tests and callers that post-process).
pub fn render_to_string(
    format: Format,
    input: &ReportInput,
    human: &HumanOptions,
) -> io::Result<String> {
    let mut buf = Vec::new();
    render(format, input, human, &mut buf)?;
    String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The one-line summary for stderr in human mode, e.g.
/// `3 errors, 1 warning, 0 infos in 12 files (40 resources)`.
pub fn summary_line(summary: &Summary) -> String {
    let mut line = format!(
        "{}, {}, {} in {} ({})",
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning"),
        plural(summary.infos, "info"),
        plural(summary.files, "file"),
        plural(summary.resources, "resource"),
    );
    if summary.unreadable > 0 {
        line.push_str(&format!(
            "; {} could not be read",
            plural(summary.unreadable, "file")
        ));
    }
    line
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.as_str());
        }
        assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
        let err = "xml".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("human, json, sarif, gcc, github"));
        assert_eq!(
            Format::names(),
            [
                "human",
                "json",
                "sarif",
                "gcc",
                "github",
                "codeclimate",
                "junit",
                "concise"
            ]
        );
    }

    #[test]
    fn summary_line_pluralizes() {
        let s = Summary {
            files: 12,
            resources: 40,
            errors: 3,
            warnings: 1,
            infos: 0,
            unreadable: 0,
        };
        assert_eq!(
            summary_line(&s),
            "3 errors, 1 warning, 0 infos in 12 files (40 resources)"
        );
        let one = Summary {
            files: 1,
            resources: 1,
            errors: 1,
            warnings: 0,
            infos: 1,
            unreadable: 0,
        };
        assert_eq!(
            summary_line(&one),
            "1 error, 0 warnings, 1 info in 1 file (1 resource)"
        );
    }
}
