//! `--format human`: one miette graphical report per finding.
//!
//! Each report has a header `severity[RULE] rule-name (istio IST0000)`, the message, the
//! source snippet under a `[file:line:col]` banner with the primary label on the finding's
//! span (labelled with the resource) and a label for every related span in the same
//! file, then the finding's help. Related spans in other files follow as `Advice:`
//! sub-reports with their own snippet. A location whose file text is not available is
//! written out as `file:line:col` instead of a snippet. Columns in banners count
//! characters, as meshlint's positions do (miette's own would count bytes).
//!
//! Colour on: ANSI styles and Unicode box drawing. Colour off: plain ASCII, no escape
//! sequences at all. Width: [`crate::HumanOptions::width`], default
//! [`crate::DEFAULT_WIDTH`]; the output never depends on the terminal. Lines wrap at
//! spaces only, so a host name or path is never split across lines.

use crate::{HumanOptions, ReportInput, DEFAULT_WIDTH};
use meshlint_diag::{Finding, Location, Severity, SourceFile};
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};
use std::fmt;
use std::io;
use std::sync::Arc;

pub(crate) fn render(
    input: &ReportInput,
    findings: &[&Finding],
    opts: &HumanOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let handler = handler(opts);
    for (i, f) in findings.iter().enumerate() {
        let mut text = String::new();
        if handler.render_report(&mut text, &build(input, f)).is_err() {
            // A span miette cannot place: report the finding without snippets rather
            // than lose it (or the rest of the output).
            text.clear();
            handler
                .render_report(&mut text, &build(&without_sources(input), f))
                .map_err(|_| io::Error::other("failed to render a finding"))?;
        }
        if i > 0 {
            out.write_all(b"\n")?;
        }
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

fn without_sources<'a>(input: &ReportInput<'a>) -> ReportInput<'a> {
    static EMPTY: std::sync::OnceLock<std::collections::HashMap<Arc<str>, SourceFile>> =
        std::sync::OnceLock::new();
    ReportInput {
        sources: EMPTY.get_or_init(Default::default),
        ..*input
    }
}

fn handler(opts: &HumanOptions) -> GraphicalReportHandler {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::none()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width.unwrap_or(DEFAULT_WIDTH).max(20))
        .with_links(false)
        .without_syntax_highlighting()
        .with_context_lines(1)
        .with_show_related_as_nested(true)
        // Wrap at spaces only, never inside a word: a host name, path or rule name is
        // copied from the terminal whole (textwrap would split at `-` and break
        // anything longer than the width).
        .with_word_separator(textwrap::WordSeparator::AsciiSpace)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        .with_break_words(false)
}

/// Source text with the file name, reporting 1-based-character columns.
struct Src {
    name: String,
    text: Arc<str>,
}

impl fmt::Debug for Src {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Src").field("name", &self.name).finish()
    }
}

impl SourceCode for Src {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner =
            self.text
                .as_bytes()
                .read_span(span, context_lines_before, context_lines_after)?;
        let mut column = inner.column();
        if context_lines_before == 0 {
            let off = span.offset();
            if let Some(before) = self.text.get(..off) {
                let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
                column = before[line_start..].chars().count();
            }
        }
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

#[derive(Debug)]
struct Report {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<Src>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
        }
    }
}

fn miette_severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

fn src_of(file: &SourceFile, name: &str) -> Src {
    Src {
        name: name.to_string(),
        text: file.text.clone(),
    }
}

fn span_of(file: &SourceFile, loc: &Location) -> SourceSpan {
    let r = file.byte_range(loc.span);
    SourceSpan::from(r.start..r.end)
}

fn position(loc: &Location) -> String {
    let p = loc.span.start;
    format!("{}:{}:{}", loc.file, p.line, p.column)
}

fn build(input: &ReportInput, f: &Finding) -> Report {
    let mut code = format!("{}[{}]", f.severity, f.rule);
    if let Some(name) = &f.rule_name {
        code.push(' ');
        code.push_str(name);
    }
    if let Some(ic) = &f.istio_code {
        code.push_str(&format!(" (istio {ic})"));
    }

    let file = input.sources.get(&f.location.file);
    let mut labels = Vec::new();
    let mut related = Vec::new();
    let message = match file {
        Some(src) => {
            labels.push(LabeledSpan::new_primary_with_span(
                f.resource.as_ref().map(|r| r.to_string()),
                span_of(src, &f.location),
            ));
            f.message.clone()
        }
        None => format!("{}: {}", position(&f.location), f.message),
    };

    for r in &f.related {
        let same_file = r.location.file == f.location.file;
        match (same_file, file, input.sources.get(&r.location.file)) {
            (true, Some(src), _) => labels.push(LabeledSpan::new_with_span(
                Some(r.message.clone()),
                span_of(src, &r.location),
            )),
            (_, _, Some(rsrc)) => related.push(Report {
                message: format!("related: {}", r.message),
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                source: Some(src_of(rsrc, &r.location.file)),
                labels: vec![LabeledSpan::new_primary_with_span(
                    None,
                    span_of(rsrc, &r.location),
                )],
                related: Vec::new(),
            }),
            (_, _, None) => related.push(Report {
                message: format!("related: {}: {}", position(&r.location), r.message),
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                source: None,
                labels: Vec::new(),
                related: Vec::new(),
            }),
        }
    }

    Report {
        message,
        code: Some(code),
        severity: miette_severity(f.severity),
        help: f.help.clone(),
        source: file.map(|s| src_of(s, &f.location.file)),
        labels,
        related,
    }
}
