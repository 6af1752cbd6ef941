//! `--format junit`: JUnit XML for CI test reports.
//!
//! One `<testsuites>` holding one `<testsuite name="meshlint">`. Files are the test
//! classes (`classname` = the file as given): every file analyzed (the keys of
//! [`ReportInput::sources`], plus any file a finding names) gets test cases —
//! a file without findings one passing `<testcase name="FILE">`, a file with findings
//! one `<testcase name="RULE FILE:LINE:COL">` per finding. A finding at or above the
//! fail level ([`ReportInput::fail_threshold`], `--fail-on`) is a failing test case with
//! exactly one `<failure type="RULE" message="MESSAGE">` whose body gives the location,
//! severity, resource, help and related locations; a finding below it is a passing test
//! case carrying the same text in `<system-out>`, so a run whose gate is green does not
//! show a red test tab. One failure per test case is what every JUnit consumer (GitLab,
//! Jenkins, GitHub test-report actions) displays reliably.
//! No timestamps or host names, so the output is deterministic.

use crate::common::{escape_name, is_unsafe_char, one_line};
use crate::ReportInput;
use meshlint_diag::Finding;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io;

pub(crate) fn render(
    input: &ReportInput,
    findings: &[&Finding],
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let mut files: BTreeSet<&str> = input.sources.keys().map(|k| &**k).collect();
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        files.insert(&f.location.file);
        by_file.entry(&f.location.file).or_default().push(f);
    }

    let mut cases = String::new();
    let mut tests = 0usize;
    let mut failures = 0usize;
    for file in &files {
        match by_file.get(file) {
            None => {
                tests += 1;
                let _ = writeln!(
                    cases,
                    "    <testcase classname=\"{0}\" name=\"{0}\" file=\"{0}\" time=\"0\"/>",
                    escape(file)
                );
            }
            Some(list) => {
                for f in list {
                    tests += 1;
                    let failing = input.fail_threshold.is_some_and(|t| f.severity >= t);
                    let p = f.location.span.start;
                    let name = format!("{} {}:{}:{}", f.rule, file, p.line, p.column);
                    let _ = writeln!(
                        cases,
                        "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\" time=\"0\">",
                        escape(file),
                        escape(&name),
                        escape(file),
                        p.line
                    );
                    if failing {
                        failures += 1;
                        let _ = writeln!(
                            cases,
                            "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                            escape(&f.message),
                            escape(&f.rule),
                            escape_text(&failure_body(f))
                        );
                    } else {
                        let _ = writeln!(
                            cases,
                            "      <system-out>{}</system-out>",
                            escape_text(&failure_body(f))
                        );
                    }
                    let _ = writeln!(cases, "    </testcase>");
                }
            }
        }
    }

    let mut doc = String::new();
    let _ = writeln!(doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = writeln!(
        doc,
        "<testsuites name=\"meshlint\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"0\">"
    );
    let _ = writeln!(
        doc,
        "  <testsuite name=\"meshlint\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"0\">"
    );
    doc.push_str(&cases);
    let _ = writeln!(doc, "  </testsuite>");
    let _ = writeln!(doc, "</testsuites>");
    out.write_all(doc.as_bytes())
}

fn failure_body(f: &Finding) -> String {
    let p = f.location.span.start;
    let mut body = format!(
        "{}:{}:{}: {}: {} [{}]",
        escape_name(&f.location.file),
        p.line,
        p.column,
        f.severity,
        one_line(&f.message),
        escape_name(&f.rule)
    );
    if let Some(r) = &f.resource {
        let _ = write!(
            body,
            "\nresource: {}",
            one_line(&format!("{} ({})", r, r.api_version))
        );
    }
    if let Some(code) = &f.istio_code {
        let _ = write!(body, "\nistio code: {}", escape_name(code));
    }
    if let Some(help) = &f.help {
        let _ = write!(body, "\nhelp: {}", one_line(help));
    }
    for r in &f.related {
        let p = r.location.span.start;
        let _ = write!(
            body,
            "\nrelated: {}:{}:{}: {}",
            escape_name(&r.location.file),
            p.line,
            p.column,
            one_line(&r.message)
        );
    }
    body
}

/// Escapes element content: as [`escape`], but line breaks and tabs stay literal.
pub(crate) fn escape_text(s: &str) -> String {
    escape(s).replace("&#10;", "\n").replace("&#9;", "\t")
}

/// Escapes text for an XML 1.0 attribute value or element content. Line breaks and tabs
/// become character references (so attribute values keep them); characters XML 1.0 cannot
/// carry at all (other C0 controls, U+FFFE/U+FFFF) become U+FFFD.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if is_unsafe_char(c) || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(escape_text("a\n\tb&"), "a\n\tb&amp;");
        assert_eq!(
            escape("<a href=\"x\">&'\n\u{1}é</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&#10;\u{FFFD}é&lt;/a&gt;"
        );
    }
}
