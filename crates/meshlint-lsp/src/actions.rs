//! Quick fixes where meshlint already knows the fix: the replacement a finding suggests
//! ("did you mean `X`", "write `ns/name`") and a `# meshlint-ignore:` comment.

use crate::convert::range;
use lsp_types::{
    CodeAction, CodeActionKind, Diagnostic, Position, Range, TextEdit, Url, WorkspaceEdit,
};
use meshlint_diag::{Finding, SourceFile};
use std::collections::HashMap;

/// The replacement a finding's message or help suggests, if it names one.
pub fn suggested_replacement(f: &Finding) -> Option<String> {
    let texts = [Some(f.message.as_str()), f.help.as_deref()];
    for text in texts.into_iter().flatten() {
        for marker in ["did you mean `", "; write `"] {
            if let Some(at) = text.find(marker) {
                let rest = &text[at + marker.len()..];
                if let Some(end) = rest.find('`') {
                    return Some(rest[..end].to_string());
                }
            }
        }
    }
    None
}

/// The quick fixes for one finding of `source`.
pub fn quick_fixes(
    f: &Finding,
    source: &SourceFile,
    uri: &Url,
    diagnostic: &Diagnostic,
) -> Vec<CodeAction> {
    let mut out = Vec::new();
    let span = f.location.span;
    if let Some(new) = suggested_replacement(f) {
        let old = source.text.get(source.byte_range(span)).unwrap_or("");
        // Only a one-line scalar or key is replaced; keep its quotes.
        if span.start.line == span.end.line && !old.is_empty() && old != new {
            let quoted = old.len() >= 2
                && ((old.starts_with('"') && old.ends_with('"'))
                    || (old.starts_with('\'') && old.ends_with('\'')));
            let text = if quoted {
                format!("{}{new}{}", &old[..1], &old[..1])
            } else {
                new.clone()
            };
            out.push(action(
                format!("Replace with `{new}`"),
                uri,
                TextEdit {
                    range: range(Some(source), span),
                    new_text: text,
                },
                diagnostic,
                true,
            ));
        }
    }
    let line = source.line_text(span.start.line);
    let indent: String = line
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    // A list item's comment goes above the `- ` at the item's indentation.
    out.push(action(
        format!("Suppress {} on this line (# meshlint-ignore)", f.rule),
        uri,
        TextEdit {
            range: Range {
                start: Position {
                    line: span.start.line.saturating_sub(1),
                    character: 0,
                },
                end: Position {
                    line: span.start.line.saturating_sub(1),
                    character: 0,
                },
            },
            new_text: format!("{indent}# meshlint-ignore: {}\n", f.rule),
        },
        diagnostic,
        false,
    ));
    out
}

fn action(
    title: String,
    uri: &Url,
    edit: TextEdit,
    diagnostic: &Diagnostic,
    preferred: bool,
) -> CodeAction {
    CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic.clone()]),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
            ..WorkspaceEdit::default()
        }),
        is_preferred: preferred.then_some(true),
        ..CodeAction::default()
    }
}

/// Whether two protocol ranges overlap (touching counts, as a cursor on a diagnostic's edge).
pub fn overlaps(a: Range, b: Range) -> bool {
    a.start <= b.end && b.start <= a.end
}
