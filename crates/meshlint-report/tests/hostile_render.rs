//! Issue 18, items 1 and 6: findings on very long lines and many findings per file.
//! The sizes make a per-finding cost proportional to the line length impossible to
//! miss — 2,000 findings on an 8 MB line would scan 16 GB — without any assertion on
//! time: the test only finishes if every format's per-finding work is bounded.

use meshlint_diag::{Finding, Location, Pos, Related, Severity, SourceFile, Span, Summary};
use meshlint_report::{render_to_string, Format, HumanOptions, ReportInput};
use std::collections::HashMap;
use std::sync::Arc;

fn at(file: &Arc<str>, line: u32, column: u32) -> Location {
    Location {
        file: file.clone(),
        span: Span {
            start: Pos { line, column },
            end: Pos {
                line,
                column: column + 3,
            },
        },
    }
}

#[test]
fn long_lines_and_many_findings_render_in_every_format() {
    let name: Arc<str> = "min.json".into();
    let line = format!("{{\"data\":{{{}}}}}", "\"k\":1,".repeat((8 << 20) / 6));
    let text = format!("{line}\n{}", "a: [\n".repeat(2_000));
    let len = line.chars().count() as u32;
    let mut findings = Vec::new();
    for i in 0..2_000u32 {
        // Columns spread over the whole line, past miette's 65,535 limit too.
        let col = 1 + (i as u64 * (len as u64 - 10) / 2_000) as u32;
        let mut f = Finding::new("duplicate-key", Severity::Error, "dup", at(&name, 1, col));
        f.related.push(Related {
            location: at(&name, 1, col / 2 + 1),
            message: "first defined here".into(),
        });
        findings.push(f);
        findings.push(Finding::new(
            "parse-error",
            Severity::Error,
            "invalid YAML",
            at(&name, 2 + i, 1),
        ));
    }
    let mut sources = HashMap::new();
    sources.insert(name.clone(), SourceFile::new(name.clone(), text));
    let mut summary = Summary {
        files: 1,
        ..Summary::default()
    };
    summary.count(&findings);
    let input = ReportInput {
        findings: &findings,
        sources: &sources,
        rules: &[],
        summary,
        tool_version: "test",
        fail_threshold: None,
    };
    for format in Format::ALL {
        let out = render_to_string(format, &input, &HumanOptions::default()).unwrap();
        match format {
            Format::Gcc | Format::Concise | Format::Github => {
                assert_eq!(out.lines().count(), 4_000, "{format}")
            }
            Format::Human => {
                assert_eq!(out.matches("error[duplicate-key]").count(), 2_000);
                assert_eq!(out.matches("error[parse-error]").count(), 2_000);
                // Snippets are cut around the finding, never the whole line.
                assert!(out.lines().all(|l| l.len() < 1_000));
            }
            _ => assert!(out.len() > 4_000, "{format}"),
        }
    }
}
