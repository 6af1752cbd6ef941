//! `--format sarif`: SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, IDE viewers).
//!
//! One run. `tool.driver.rules` has one descriptor per rule that a finding references,
//! sorted by id; a finding's `ruleIndex` points into it. Rules known from
//! [`meshlint_diag::RuleInfo`] carry their summary, full Markdown help, default level and
//! `properties` (`category`, `istio_code`, `tags`); a rule without metadata (e.g.
//! `parse-error`) gets a minimal descriptor. Levels: error → `error`, warning →
//! `warning`, info → `note`. Columns count Unicode code points
//! (`run.columnKind = "unicodeCodePoints"`), as meshlint's do; `endColumn` is exclusive,
//! as in SARIF. URIs are the file names as given, made URI references (backslashes become
//! `/`, absolute paths `file://` URIs, other characters outside the URI grammar
//! percent-encoded). `partialFingerprints["meshlint/v1"]` is
//! `<stable_fingerprint>:<occurrence>` — no line numbers, so alerts survive line moves.
//! Built-in rules carry `helpUri` (their documentation page); the run carries
//! `automationDetails.id = "meshlint/"`.

use crate::common::{fingerprints, gcc_level};
use crate::ReportInput;
use meshlint_diag::{Finding, Location, ResourceId, RuleInfo, Severity, Summary};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;

/// `$schema` written into every SARIF log.
pub const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// `tool.driver.informationUri`.
pub const INFORMATION_URI: &str = "https://meshlint.io";
/// The key of meshlint's entry in `result.partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "meshlint/v1";

pub(crate) fn render(
    input: &ReportInput,
    findings: &[&Finding],
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let log = build(input, findings);
    crate::common::write_safe_json(&mut *out, &log)?;
    out.write_all(b"\n")
}

// The subset of the SARIF object model meshlint writes, in the order the spec lists
// the properties (so logs read top-down: tool, then results).

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    automation_details: AutomationDetails,
    results: Vec<SarifResult<'a>>,
    column_kind: &'static str,
    properties: RunProperties,
}

/// `run.automationDetails`: `id` is `category/`, the category GitHub code scanning keys
/// its alerts by, so meshlint's alerts stay apart from other tools' in one repository.
#[derive(Serialize)]
struct AutomationDetails {
    id: &'static str,
}

/// `run.automationDetails.id` of every meshlint log.
pub const AUTOMATION_ID: &str = "meshlint/";

#[derive(Serialize)]
struct RunProperties {
    summary: Summary,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'a str,
    information_uri: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Markdown<'a> {
    text: &'a str,
    markdown: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    short_description: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_description: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<Markdown<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    default_configuration: Configuration,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<RuleProperties<'a>>,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties<'a> {
    category: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    istio_code: Option<&'a str>,
    tags: Vec<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: OwnedText,
    locations: [ResultLocation<'a>; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<RelatedLocation<'a>>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<ResultProperties<'a>>,
}

#[derive(Serialize)]
struct OwnedText {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultLocation<'a> {
    physical_location: Physical,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<Logical<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelatedLocation<'a> {
    id: usize,
    physical_location: Physical,
    message: Text<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    region: Region,
}

#[derive(Serialize)]
struct Artifact {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Logical<'a> {
    name: &'a str,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    istio_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<&'a ResourceId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_name: Option<&'a str>,
}

fn level(s: Severity) -> &'static str {
    gcc_level(s)
}

fn build<'a>(input: &ReportInput<'a>, findings: &[&'a Finding]) -> Log<'a> {
    // Referenced rules, sorted by id; the first finding of a rule without metadata
    // supplies its default level and name.
    let mut referenced: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in findings {
        referenced.entry(&f.rule).or_insert(f);
    }
    let index: BTreeMap<&str, usize> = referenced
        .keys()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();
    let rules: Vec<Rule> = referenced
        .iter()
        .map(|(id, first)| {
            let info = input.rules.iter().find(|r| r.id == *id);
            rule_descriptor(id, info, first)
        })
        .collect();

    let fps = fingerprints(findings, input.sources);
    let results = findings
        .iter()
        .zip(&fps)
        .map(|(f, (fp, n))| result(f, index[&*f.rule], format!("{fp}:{n}")))
        .collect();

    Log {
        schema: SARIF_SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "meshlint",
                    version: input.tool_version,
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            automation_details: AutomationDetails { id: AUTOMATION_ID },
            results,
            column_kind: "unicodeCodePoints",
            properties: RunProperties {
                summary: input.summary,
            },
        }],
    }
}

fn rule_descriptor<'a>(id: &'a str, info: Option<&'a RuleInfo>, first: &'a Finding) -> Rule<'a> {
    let Some(info) = info else {
        return Rule {
            id,
            name: first.rule_name.as_deref(),
            short_description: Text {
                text: first.rule_name.as_deref().unwrap_or(id),
            },
            full_description: None,
            help: None,
            help_uri: None,
            default_configuration: Configuration {
                level: level(first.severity),
            },
            properties: None,
        };
    };
    let mut tags = vec!["istio"];
    if !info.category.is_empty() {
        tags.push(&info.category);
    }
    let help = (!info.help_markdown.trim().is_empty()).then(|| Markdown {
        text: &info.help_markdown,
        markdown: &info.help_markdown,
    });
    Rule {
        id: &info.id,
        name: Some(&info.name),
        short_description: Text {
            text: &info.summary,
        },
        full_description: Some(Text {
            text: first_paragraph(&info.help_markdown).unwrap_or(&info.summary),
        }),
        help,
        help_uri: info.help_uri.as_deref(),
        default_configuration: Configuration {
            level: level(info.severity),
        },
        properties: Some(RuleProperties {
            category: &info.category,
            istio_code: info.istio_code.as_deref(),
            tags,
        }),
    }
}

/// The first paragraph of Markdown that is not a heading or a code fence.
fn first_paragraph(md: &str) -> Option<&str> {
    md.split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#') && !p.starts_with("```"))
}

fn result(f: &Finding, rule_index: usize, fingerprint: String) -> SarifResult<'_> {
    let mut text = f.message.clone();
    if let Some(help) = &f.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let logical_locations = f
        .resource
        .iter()
        .map(|r| Logical {
            name: &r.name,
            fully_qualified_name: match &r.namespace {
                Some(ns) => format!("{}/{}/{}/{}", r.api_version, r.kind, ns, r.name),
                None => format!("{}/{}/{}", r.api_version, r.kind, r.name),
            },
            kind: "resource",
        })
        .collect();
    let properties = ResultProperties {
        istio_code: f.istio_code.as_deref(),
        resource: f.resource.as_ref(),
        rule_name: f.rule_name.as_deref(),
    };
    let has_properties = properties.istio_code.is_some()
        || properties.resource.is_some()
        || properties.rule_name.is_some();
    SarifResult {
        rule_id: &f.rule,
        rule_index,
        level: level(f.severity),
        message: OwnedText { text },
        locations: [ResultLocation {
            physical_location: physical(&f.location),
            logical_locations,
        }],
        related_locations: f
            .related
            .iter()
            .enumerate()
            .map(|(i, r)| RelatedLocation {
                id: i + 1,
                physical_location: physical(&r.location),
                message: Text { text: &r.message },
            })
            .collect(),
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint)]),
        properties: has_properties.then_some(properties),
    }
}

/// A region that the schema accepts even for degenerate spans (line 0, end before start).
fn physical(l: &Location) -> Physical {
    let start_line = l.span.start.line.max(1);
    let start_column = l.span.start.column.max(1);
    let end_line = l.span.end.line.max(start_line);
    let end_column = if end_line == start_line {
        l.span.end.column.max(start_column)
    } else {
        l.span.end.column.max(1)
    };
    Physical {
        artifact_location: Artifact {
            uri: file_uri(&l.file),
        },
        region: Region {
            start_line,
            start_column,
            end_line,
            end_column,
        },
    }
}

/// A file name as given on the command line, as a SARIF `uri` (a URI reference).
pub(crate) fn file_uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let bytes = p.as_bytes();
    let is_drive =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/';
    if is_drive {
        format!("file:///{}{}", &p[..2], encode_path(&p[2..]))
    } else if p.starts_with('/') {
        format!("file://{}", encode_path(&p))
    } else {
        encode_path(&p)
    }
}

/// Percent-encodes everything but unreserved characters, `/` and the sub-delimiters that
/// are harmless in a path. `:` is encoded so a relative path never reads as a scheme.
fn encode_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            );
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(file_uri("deploy/a.yaml"), "deploy/a.yaml");
        assert_eq!(file_uri("my dir/ü.yaml"), "my%20dir/%C3%BC.yaml");
        assert_eq!(file_uri("<stdin>"), "%3Cstdin%3E");
        assert_eq!(file_uri("/abs/x.yaml"), "file:///abs/x.yaml");
        assert_eq!(file_uri("C:\\repo\\x.yaml"), "file:///C:/repo/x.yaml");
        assert_eq!(file_uri("a:b.yaml"), "a%3Ab.yaml");
        assert_eq!(file_uri("100%.yaml"), "100%25.yaml");
    }

    #[test]
    fn first_paragraph_skips_headings() {
        assert_eq!(
            first_paragraph("## What it does\n\nFinds things.\nReally.\n\n## Why"),
            Some("Finds things.\nReally.")
        );
        assert_eq!(first_paragraph(""), None);
    }
}
