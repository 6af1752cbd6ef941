//! The line-oriented formats: `gcc`, `github` and `concise`. One line per finding.

use crate::common::{escape_name, gcc_level, is_unsafe_char, one_line};
use meshlint_diag::{Finding, Severity};
use std::io;

/// `path:line:col: error|warning|note: message [rule]` (info → `note`).
pub(crate) fn render_gcc(findings: &[&Finding], out: &mut dyn io::Write) -> io::Result<()> {
    for f in findings {
        let p = f.location.span.start;
        writeln!(
            out,
            "{}:{}:{}: {}: {} [{}]",
            escape_name(&f.location.file),
            p.line,
            p.column,
            gcc_level(f.severity),
            one_line(&f.message),
            escape_name(&f.rule)
        )?;
    }
    Ok(())
}

/// `path:line:col: severity[rule] message`.
pub(crate) fn render_concise(findings: &[&Finding], out: &mut dyn io::Write) -> io::Result<()> {
    for f in findings {
        let p = f.location.span.start;
        writeln!(
            out,
            "{}:{}:{}: {}[{}] {}",
            escape_name(&f.location.file),
            p.line,
            p.column,
            f.severity,
            escape_name(&f.rule),
            one_line(&f.message)
        )?;
    }
    Ok(())
}

/// GitHub Actions workflow commands:
/// `::error file=F,line=L,endLine=EL,col=C,endColumn=EC,title=meshlint RULE::message`.
/// Info findings are `::notice`. The message carries the help and the related locations
/// on further lines (encoded as `%0A`, which the runner turns back into line breaks).
pub(crate) fn render_github(findings: &[&Finding], out: &mut dyn io::Write) -> io::Result<()> {
    for f in findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let s = f.location.span;
        let mut message = f.message.clone();
        if let Some(help) = &f.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        for r in &f.related {
            let p = r.location.span.start;
            message.push_str(&format!(
                "\nrelated: {}:{}:{}: {}",
                escape_name(&r.location.file),
                p.line,
                p.column,
                r.message
            ));
        }
        writeln!(
            out,
            "::{} file={},line={},endLine={},col={},endColumn={},title={}::{}",
            command,
            escape_property(&escape_name(&f.location.file)),
            s.start.line,
            s.end.line,
            s.start.column,
            s.end.column,
            escape_property(&format!("meshlint {}", escape_name(&f.rule))),
            escape_data(&message)
        )?;
    }
    Ok(())
}

/// Escapes the message part of a workflow command: `%`, `\r`, `\n`; other control
/// characters (ESC, C1, bidirectional overrides) become visible `\u{…}` escapes.
pub(crate) fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if is_unsafe_char(c) => out.push_str(&escape_name(c.encode_utf8(&mut [0; 4]))),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value of a workflow command: as [`escape_data`], plus `:` and `,`.
pub(crate) fn escape_property(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c if is_unsafe_char(c) => out.push_str(&escape_name(c.encode_utf8(&mut [0; 4]))),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(
            escape_property("C:\\x,y%\n"),
            "C%3A\\x%2Cy%25%0A".to_string()
        );
        // `%` first, so an already-escaped-looking sequence is not double-decoded.
        assert_eq!(escape_data("%0A"), "%250A");
    }
}
