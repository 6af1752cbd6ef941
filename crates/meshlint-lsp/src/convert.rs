//! Positions and findings in the protocol's terms. meshlint counts columns in
//! characters from 1; the protocol counts UTF-16 code units from 0.

use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Position, Range, Url,
};
use meshlint_diag::{Finding, Pos, Severity, SourceFile, Span};
use meshlint_rules::RuleSet;
use std::collections::HashMap;
use std::sync::Arc;

/// A meshlint position as a protocol position, measured on the line's text.
pub fn position(source: Option<&SourceFile>, pos: Pos) -> Position {
    let line = pos.line.saturating_sub(1);
    let chars = pos.column.saturating_sub(1) as usize;
    let character = match source {
        Some(s) if (pos.line as usize) <= s.line_count() => s
            .line_text(pos.line)
            .chars()
            .take(chars)
            .map(char::len_utf16)
            .sum::<usize>() as u32,
        _ => chars as u32,
    };
    Position { line, character }
}

/// A protocol position as a meshlint position (a column past the line's end stays there).
pub fn pos(source: &SourceFile, p: Position) -> Pos {
    let line = p.line + 1;
    let mut units = 0u32;
    let mut column = 1u32;
    if (line as usize) <= source.line_count() {
        for c in source.line_text(line).chars() {
            if units >= p.character {
                break;
            }
            units += c.len_utf16() as u32;
            column += 1;
        }
    }
    Pos { line, column }
}

pub fn range(source: Option<&SourceFile>, span: Span) -> Range {
    Range {
        start: position(source, span.start),
        end: position(source, span.end),
    }
}

/// Whether `p` lies in `span` (half-open, but a point span's start counts).
pub fn contains(span: Span, p: Pos) -> bool {
    span.start <= p && (p < span.end || p == span.start)
}

/// The URI of a file name (names are absolute paths in a server's workspace).
pub fn uri(name: &str) -> Option<Url> {
    Url::from_file_path(name).ok()
}

/// The file name of a URI, as the workspace names files.
pub fn file_name(uri: &Url) -> Option<Arc<str>> {
    let path = uri.to_file_path().ok()?;
    Some(path.to_string_lossy().as_ref().into())
}

pub fn location(
    sources: &HashMap<Arc<str>, SourceFile>,
    loc: &meshlint_diag::Location,
) -> Option<Location> {
    Some(Location {
        uri: uri(&loc.file)?,
        range: range(sources.get(&loc.file), loc.span),
    })
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// A finding as an editor shows it: the rule id as `code` with a link to the rule's page,
/// the help line under the message, related locations as related information.
pub fn diagnostic(
    f: &Finding,
    sources: &HashMap<Arc<str>, SourceFile>,
    rules: &RuleSet,
) -> Diagnostic {
    let href = rules
        .get(&f.rule)
        .and_then(meshlint_rules::help_uri)
        .and_then(|u| Url::parse(&u).ok());
    let mut message = f.message.clone();
    if let Some(help) = &f.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = f
        .related
        .iter()
        .filter_map(|r| {
            Some(DiagnosticRelatedInformation {
                location: location(sources, &r.location)?,
                message: r.message.clone(),
            })
        })
        .collect();
    Diagnostic {
        range: range(sources.get(&f.location.file), f.location.span),
        severity: Some(severity(f.severity)),
        code: Some(NumberOrString::String(f.rule.to_string())),
        code_description: href.map(|href| CodeDescription { href }),
        source: Some("meshlint".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}
