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

use crate::common::{escape_keep_lines, escape_name, is_unsafe_char};
use crate::redact::{self, LineClass};
use crate::{HumanOptions, ReportInput, DEFAULT_WIDTH};
use meshlint_diag::{Finding, Location, Pos, Severity, SourceFile};
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::Arc;

/// Longest source line shown, in characters: a longer line is cut to a window around
/// the label it carries, marked with `…` at the cut ends.
const MAX_LINE_CHARS: usize = 256;
/// How far left of a label a cut line starts.
const LEFT_CONTEXT: u32 = 64;
/// A label covering more lines than this is drawn on its first line only.
const MAX_LABEL_LINES: u32 = 12;
/// A related span in the finding's file but further away than this many lines gets a
/// snippet of its own instead of a label in the finding's snippet (miette shows every
/// line between two labels of one snippet).
const MAX_EXCERPT_LINES: u32 = 200;

pub(crate) fn render(
    input: &ReportInput,
    findings: &[&Finding],
    opts: &HumanOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let handler = handler(opts);
    let mut files = Files::default();
    for (i, f) in findings.iter().enumerate() {
        let mut text = String::new();
        let report = build(input, &mut files, f);
        if !render_guarded(&handler, &mut text, &report) {
            // A span miette cannot place: report the finding without snippets rather
            // than lose it (or the rest of the output).
            text.clear();
            let bare = build(&without_sources(input), &mut Files::default(), f);
            if !render_guarded(&handler, &mut text, &bare) {
                return Err(io::Error::other("failed to render a finding"));
            }
        }
        if i > 0 {
            out.write_all(b"\n")?;
        }
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

/// miette's renderer, with its errors and panics both turned into `false`: a finding
/// that cannot be drawn with a snippet is drawn without one, never aborts the run.
fn render_guarded(handler: &GraphicalReportHandler, text: &mut String, report: &Report) -> bool {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handler.render_report(text, report)
    }));
    matches!(result, Ok(Ok(())))
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

/// What the renderer computes once per file with findings (linear in the file): which
/// lines are Secret lines and which are ASCII (so a column is a byte offset).
#[derive(Default)]
struct Files {
    by_name: HashMap<Arc<str>, FileInfo>,
}

struct FileInfo {
    classes: Vec<LineClass>,
    ascii: Vec<bool>,
}

impl Files {
    fn get(&mut self, src: &SourceFile) -> &FileInfo {
        self.by_name.entry(src.name.clone()).or_insert_with(|| {
            let text: &str = &src.text;
            FileInfo {
                classes: redact::classify(text),
                ascii: text.split('\n').map(|l| l.is_ascii()).collect(),
            }
        })
    }
}

/// One label to draw: its span (already known to lie in the file) and text.
struct Label {
    text: Option<String>,
    start: Pos,
    end: Pos,
    primary: bool,
}

/// The span of `loc` clamped to `src`, or `None` when it does not start inside the text.
fn clamp_span(src: &SourceFile, loc: &Location) -> Option<(Pos, Pos)> {
    let lines = u32::try_from(src.line_count()).unwrap_or(u32::MAX);
    let start = loc.span.start;
    if start.line == 0 || start.line > lines {
        return None;
    }
    let start = Pos {
        line: start.line,
        column: start.column.max(1),
    };
    let mut end = loc.span.end;
    if end.line < start.line || (end.line == start.line && end.column < start.column) {
        end = start;
    }
    if end.line > lines || end.line - start.line > MAX_LABEL_LINES {
        end = Pos {
            line: start.line,
            column: u32::MAX,
        };
    }
    Some((start, end))
}

/// The lines a snippet shows, made safe: Secret values masked, control characters
/// replaced one for one with visible symbols, long lines cut to a window. `text` holds
/// only these lines, so miette's work per finding does not depend on the file's size or
/// its lines' lengths.
struct Excerpt {
    first_line: u32,
    text: String,
    /// Byte offset in `text` of each excerpt line.
    line_starts: Vec<usize>,
    maps: Vec<ColumnMap>,
}

/// Maps a source column (1-based, characters) to a column of the shown line.
struct ColumnMap {
    /// First source column shown.
    from: u32,
    /// Source columns from `from` up to (excluding) `to` are shown.
    to: u32,
    /// Characters shown before source column `from` (the `…` of a cut line).
    lead: u32,
    /// Characters in the shown line.
    shown: u32,
}

impl ColumnMap {
    fn shown_column(&self, col: u32) -> u32 {
        let c = col.max(1);
        let d = if c < self.from {
            1
        } else {
            c.min(self.to) - self.from + 1 + self.lead
        };
        d.min(self.shown + 1)
    }
}

fn visible(c: char) -> char {
    match c {
        '\t' => '\t',
        c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
        '\u{7f}' => '\u{2421}',
        c if is_unsafe_char(c) => '\u{FFFD}',
        c => c,
    }
}

fn push_visible(out: &mut String, s: &str) {
    out.extend(s.chars().map(visible));
}

/// One shown line and its column map. `focus` is the first label column on the line.
fn show_line(line: &str, class: LineClass, ascii: bool, focus: u32) -> (String, ColumnMap) {
    if class != LineClass::Plain {
        let masked = redact::mask(line, class);
        let mut shown = String::new();
        push_visible(&mut shown, &masked);
        let (shown, n) = cut(&shown, 1);
        return (
            shown,
            ColumnMap {
                from: 1,
                to: n + 1,
                lead: 0,
                shown: n,
            },
        );
    }
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.len() <= MAX_LINE_CHARS {
        let mut shown = String::with_capacity(line.len());
        push_visible(&mut shown, line);
        let n = shown.chars().count() as u32;
        return (
            shown,
            ColumnMap {
                from: 1,
                to: u32::MAX,
                lead: 0,
                shown: n,
            },
        );
    }
    let from = focus.saturating_sub(LEFT_CONTEXT).max(1);
    let from_idx = from as usize - 1;
    let (window, more_after) = if ascii {
        let a = from_idx.min(line.len());
        let b = (a + MAX_LINE_CHARS).min(line.len());
        (&line[a..b], b < line.len())
    } else {
        let mut it = line.char_indices().skip(from_idx);
        let a = it.next().map(|(i, _)| i).unwrap_or(line.len());
        let b = line[a..]
            .char_indices()
            .nth(MAX_LINE_CHARS)
            .map(|(i, _)| a + i)
            .unwrap_or(line.len());
        (&line[a..b], b < line.len())
    };
    let mut shown = String::new();
    let lead = u32::from(from > 1);
    if from > 1 {
        shown.push('…');
    }
    push_visible(&mut shown, window);
    let taken = window.chars().count() as u32;
    if more_after {
        shown.push('…');
    }
    let n = lead + taken + u32::from(more_after);
    (
        shown,
        ColumnMap {
            from,
            to: from + taken,
            lead,
            shown: n,
        },
    )
}

/// `s` cut to [`MAX_LINE_CHARS`] characters from column `from`, and its length in chars.
fn cut(s: &str, from: u32) -> (String, u32) {
    let chars: Vec<char> = s.chars().skip(from as usize - 1).collect();
    if chars.len() <= MAX_LINE_CHARS {
        let n = chars.len() as u32;
        return (chars.into_iter().collect(), n);
    }
    let mut out: String = chars[..MAX_LINE_CHARS].iter().collect();
    out.push('…');
    (out, MAX_LINE_CHARS as u32 + 1)
}

impl Excerpt {
    fn new(src: &SourceFile, info: &FileInfo, labels: &[Label]) -> Excerpt {
        // The empty "line" after a final line break is not shown as context.
        let mut lines = src.line_count() as u32;
        if lines > 1 && src.text.ends_with('\n') {
            lines -= 1;
        }
        let lo = labels.iter().map(|l| l.start.line).min().unwrap_or(1);
        let hi = labels.iter().map(|l| l.end.line).max().unwrap_or(lo);
        let first_line = lo.saturating_sub(1).max(1);
        let last_line = (hi + 1).min(lines).max(hi).max(first_line);
        let mut text = String::new();
        let mut line_starts = Vec::new();
        let mut maps = Vec::new();
        for l in first_line..=last_line {
            // Cut a long line around the primary label when it is on it, else around
            // the leftmost label.
            let primary = labels
                .iter()
                .find(|lab| lab.primary && lab.start.line == l)
                .map(|lab| lab.start.column);
            let focus = primary
                .or_else(|| {
                    labels
                        .iter()
                        .filter_map(|lab| {
                            if lab.start.line == l {
                                Some(lab.start.column)
                            } else if lab.end.line == l {
                                Some(1)
                            } else {
                                None
                            }
                        })
                        .min()
                })
                .unwrap_or(1);
            let idx = l as usize - 1;
            let class = info.classes.get(idx).copied().unwrap_or(LineClass::Plain);
            let ascii = info.ascii.get(idx).copied().unwrap_or(false);
            let (shown, map) = show_line(src.line_text(l), class, ascii, focus);
            line_starts.push(text.len());
            text.push_str(&shown);
            text.push('\n');
            maps.push(map);
        }
        Excerpt {
            first_line,
            text,
            line_starts,
            maps,
        }
    }

    /// Byte offset in the excerpt of a source position (clamped to its line).
    fn offset(&self, pos: Pos) -> usize {
        let idx = pos
            .line
            .saturating_sub(self.first_line)
            .min(self.maps.len() as u32 - 1) as usize;
        let col = self.maps[idx].shown_column(pos.column);
        let start = self.line_starts[idx];
        let line = self.text[start..].split('\n').next().unwrap_or("");
        start
            + line
                .char_indices()
                .nth(col as usize - 1)
                .map(|(b, _)| b)
                .unwrap_or(line.len())
    }

    fn span(&self, start: Pos, end: Pos) -> SourceSpan {
        let a = self.offset(start);
        let mut b = self.offset(end).max(a);
        if b == a {
            if let Some(c) = self.text[a..].chars().next().filter(|&c| c != '\n') {
                b = a + c.len_utf8();
            }
        }
        SourceSpan::from(a..b)
    }
}

/// Snippet source for miette: the excerpt, numbered with the file's line numbers, with
/// the banner's column counted in characters of the source (not of the excerpt).
struct Src {
    name: String,
    excerpt: Excerpt,
    /// Excerpt offset of each label's start and the source position it stands for.
    anchors: Vec<(usize, Pos)>,
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
        let inner = self.excerpt.text.as_bytes().read_span(
            span,
            context_lines_before,
            context_lines_after,
        )?;
        let mut column = inner.column();
        if context_lines_before == 0 {
            if let Some((_, pos)) = self.anchors.iter().find(|(o, _)| *o == span.offset()) {
                column = pos.column as usize - 1;
            }
        }
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.excerpt.first_line as usize - 1,
            column,
            // miette's own `[u8]` source counts lines from the start of the text, and
            // merges two labels' contexts into one snippet by that count; numbering the
            // excerpt's lines the same way keeps its output as it was on the whole file.
            inner.line_count() + self.excerpt.first_line as usize - 1,
        )))
    }
}

/// A snippet of `src` with `labels` drawn on it.
fn snippet(src: &SourceFile, files: &mut Files, labels: Vec<Label>) -> (Src, Vec<LabeledSpan>) {
    let info = files.get(src);
    let excerpt = Excerpt::new(src, info, &labels);
    let mut spans = Vec::new();
    let mut anchors = Vec::new();
    for l in labels {
        let span = excerpt.span(l.start, l.end);
        anchors.push((span.offset(), l.start));
        let text = l.text.map(|t| escape_keep_lines(&t).into_owned());
        spans.push(if l.primary {
            LabeledSpan::new_primary_with_span(text, span)
        } else {
            LabeledSpan::new_with_span(text, span)
        });
    }
    (
        Src {
            name: escape_name(&src.name).into_owned(),
            excerpt,
            anchors,
        },
        spans,
    )
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

fn position(loc: &Location) -> String {
    let p = loc.span.start;
    format!("{}:{}:{}", escape_name(&loc.file), p.line, p.column)
}

fn related_report(message: String, source: Option<(Src, Vec<LabeledSpan>)>) -> Report {
    let (source, labels) = match source {
        Some((s, l)) => (Some(s), l),
        None => (None, Vec::new()),
    };
    Report {
        message,
        code: None,
        severity: miette::Severity::Advice,
        help: None,
        source,
        labels,
        related: Vec::new(),
    }
}

fn build(input: &ReportInput, files: &mut Files, f: &Finding) -> Report {
    let mut code = format!("{}[{}]", f.severity, escape_name(&f.rule));
    if let Some(name) = &f.rule_name {
        code.push(' ');
        code.push_str(&escape_name(name));
    }
    if let Some(ic) = &f.istio_code {
        code.push_str(&format!(" (istio {})", escape_name(ic)));
    }

    let file = input
        .sources
        .get(&f.location.file)
        .and_then(|src| clamp_span(src, &f.location).map(|span| (src, span)));
    let mut labels = Vec::new();
    let mut related = Vec::new();
    let message = match file {
        Some((_, (start, end))) => {
            labels.push(Label {
                text: f.resource.as_ref().map(|r| r.to_string()),
                start,
                end,
                primary: true,
            });
            escape_keep_lines(&f.message).into_owned()
        }
        None => format!(
            "{}: {}",
            position(&f.location),
            escape_keep_lines(&f.message)
        ),
    };

    for r in &f.related {
        let rmsg = escape_keep_lines(&r.message).into_owned();
        let same_file = r.location.file == f.location.file;
        let rsrc = input
            .sources
            .get(&r.location.file)
            .and_then(|src| clamp_span(src, &r.location).map(|span| (src, span)));
        match (same_file, file, rsrc) {
            (true, Some((_, (ps, _))), Some((_, (start, end))))
                if start.line.abs_diff(ps.line) <= MAX_EXCERPT_LINES
                    && end.line.abs_diff(ps.line) <= MAX_EXCERPT_LINES =>
            {
                labels.push(Label {
                    text: Some(rmsg),
                    start,
                    end,
                    primary: false,
                })
            }
            (_, _, Some((rsrc, (start, end)))) => {
                let label = Label {
                    text: None,
                    start,
                    end,
                    primary: true,
                };
                related.push(related_report(
                    format!("related: {rmsg}"),
                    Some(snippet(rsrc, files, vec![label])),
                ));
            }
            (_, _, None) => related.push(related_report(
                format!("related: {}: {}", position(&r.location), rmsg),
                None,
            )),
        }
    }

    let (source, labels) = match file {
        Some((src, _)) => {
            let (s, l) = snippet(src, files, labels);
            (Some(s), l)
        }
        None => (None, Vec::new()),
    };
    Report {
        message,
        code: Some(code),
        severity: miette_severity(f.severity),
        help: f.help.as_deref().map(|h| escape_keep_lines(h).into_owned()),
        source,
        labels,
        related,
    }
}
