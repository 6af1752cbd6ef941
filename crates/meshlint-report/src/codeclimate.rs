//! `--format codeclimate`: a GitLab Code Quality report, i.e. a JSON array of Code Climate
//! issues (`artifacts: reports: codequality:` in `.gitlab-ci.yml`).
//!
//! Severity: error → `critical`, warning → `major`, info → `info` (GitLab's scale is
//! info < minor < major < critical < blocker; `blocker` is left for nothing meshlint
//! reports, since no single manifest finding blocks more than the traffic it describes).
//! `fingerprint` is 32 hex digits, unique per finding and stable across line moves: a
//! digest of [`crate::stable_fingerprint`] and the finding's occurrence number.

use crate::common::{digest_hex, fingerprints};
use crate::ReportInput;
use meshlint_diag::{Finding, Location, Severity};
use serde::Serialize;
use std::io;

#[derive(Serialize)]
struct Issue<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    check_name: &'a str,
    description: String,
    categories: [&'static str; 1],
    severity: &'static str,
    fingerprint: String,
    location: IssueLocation<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    other_locations: Vec<IssueLocation<'a>>,
}

#[derive(Serialize)]
struct IssueLocation<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
    end: u32,
}

/// The Code Quality severity of a meshlint severity.
pub(crate) fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}

fn location(l: &Location) -> IssueLocation<'_> {
    IssueLocation {
        path: &l.file,
        lines: Lines {
            begin: l.span.start.line,
            end: l.span.end.line.max(l.span.start.line),
        },
    }
}

pub(crate) fn render(
    input: &ReportInput,
    findings: &[&Finding],
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let fps = fingerprints(findings, input.sources);
    let issues: Vec<Issue> = findings
        .iter()
        .zip(&fps)
        .map(|(f, (fp, n))| {
            let mut description = f.message.clone();
            if let Some(help) = &f.help {
                description.push_str(" Help: ");
                description.push_str(help);
            }
            Issue {
                kind: "issue",
                check_name: &f.rule,
                description,
                categories: ["Bug Risk"],
                severity: severity(f.severity),
                fingerprint: digest_hex(&["codeclimate", fp, &n.to_string()]),
                location: location(&f.location),
                other_locations: f.related.iter().map(|r| location(&r.location)).collect(),
            }
        })
        .collect();
    crate::common::write_safe_json(&mut *out, &issues)?;
    out.write_all(b"\n")
}
