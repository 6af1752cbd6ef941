//! Positions in UTF-16, the replacements quick fixes take from findings, and the
//! suppression comment's placement.

use lsp_types::{Diagnostic, Position, Url};
use meshlint_diag::{Finding, Location, Pos, Severity, SourceFile, Span};
use meshlint_lsp::actions::{quick_fixes, suggested_replacement};
use meshlint_lsp::convert::{pos, position};

fn finding(message: &str, span: Span) -> Finding {
    Finding::new(
        "ML0002",
        Severity::Error,
        message.to_string(),
        Location {
            file: "/w/vs.yaml".into(),
            span,
        },
    )
}

#[test]
fn columns_are_utf16_code_units() {
    let source = SourceFile::new("/w/a.yaml", "a: 1\nname: \"é𝄞x\" # ok\n");
    // Column 10 (characters) is the `x`: `é` is one UTF-16 unit, `𝄞` two.
    let p = Pos {
        line: 2,
        column: 10,
    };
    assert_eq!(
        position(Some(&source), p),
        Position {
            line: 1,
            character: 10
        }
    );
    assert_eq!(
        pos(
            &source,
            Position {
                line: 1,
                character: 10
            }
        ),
        p
    );
    // Without the text, columns are taken as they are.
    assert_eq!(
        position(None, p),
        Position {
            line: 1,
            character: 9
        }
    );
}

#[test]
fn replacements_come_from_did_you_mean_and_write() {
    let span = Span::point(1, 1);
    let typo = finding(
        "`ROUND_ROBN` is not a valid value; did you mean `ROUND_ROBIN`?",
        span,
    );
    assert_eq!(suggested_replacement(&typo).as_deref(), Some("ROUND_ROBIN"));
    let prefix = finding(
        "Gateway `shop/web` does not exist: … (a Gateway of that name exists in namespace `istio-ingress`; write `istio-ingress/web`)",
        span,
    );
    assert_eq!(
        suggested_replacement(&prefix).as_deref(),
        Some("istio-ingress/web")
    );
    assert_eq!(suggested_replacement(&finding("no suggestion", span)), None);
}

#[test]
fn quick_fixes_keep_quotes_and_indent_the_suppression() {
    let text = "spec:\n  gateways:\n  - \"web\"\n";
    let source = SourceFile::new("/w/vs.yaml", text);
    let span = Span {
        start: Pos { line: 3, column: 5 },
        end: Pos {
            line: 3,
            column: 10,
        },
    };
    let f = finding(
        "Gateway `shop/web` does not exist (a Gateway of that name exists in namespace `edge`; write `edge/web`)",
        span,
    );
    let uri = Url::parse("file:///w/vs.yaml").unwrap();
    let fixes = quick_fixes(&f, &source, &uri, &Diagnostic::default());
    let edit =
        |i: usize| fixes[i].edit.as_ref().unwrap().changes.as_ref().unwrap()[&uri][0].clone();
    assert_eq!(fixes.len(), 2);
    assert_eq!(edit(0).new_text, "\"edge/web\"");
    assert_eq!(edit(1).new_text, "  # meshlint-ignore: ML0002\n");
    assert_eq!(
        edit(1).range.start,
        Position {
            line: 2,
            character: 0
        }
    );
}
