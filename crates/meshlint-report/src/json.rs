//! `--format json`: exactly the DESIGN.md contract, and nothing else on stdout.

use crate::ReportInput;
use meshlint_diag::{Finding, Location, ResourceId, Summary};
use serde::Serialize;
use std::io;

/// Version of the JSON document; bumped only on incompatible changes.
pub(crate) const JSON_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    severity: &'static str,
    message: &'a str,
    location: JsonLocation<'a>,
    resource: Option<&'a ResourceId>,
    istio_code: Option<&'a str>,
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
struct JsonLocation<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    location: JsonLocation<'a>,
    message: &'a str,
}

fn location(l: &Location) -> JsonLocation<'_> {
    JsonLocation {
        file: &l.file,
        line: l.span.start.line,
        column: l.span.start.column,
        end_line: l.span.end.line,
        end_column: l.span.end.column,
    }
}

pub(crate) fn render(
    input: &ReportInput,
    findings: &[&Finding],
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let doc = Document {
        version: JSON_VERSION,
        findings: findings
            .iter()
            .map(|f| JsonFinding {
                rule: &f.rule,
                severity: f.severity.as_str(),
                message: &f.message,
                location: location(&f.location),
                resource: f.resource.as_ref(),
                istio_code: f.istio_code.as_deref(),
                related: f
                    .related
                    .iter()
                    .map(|r| JsonRelated {
                        location: location(&r.location),
                        message: &r.message,
                    })
                    .collect(),
            })
            .collect(),
        summary: input.summary,
    };
    crate::common::write_safe_json(&mut *out, &doc)?;
    out.write_all(b"\n")
}
