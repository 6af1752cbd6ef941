//! Bytes → spanned documents, with budgets and findings instead of failures.

use crate::block_parse;
use crate::key::Key;
use crate::node::{Node, NodeValue, Scalar};
use crate::{codes, finding};
use meshlint_diag::{line_starts, Finding, Pos, Related, Severity, SourceFile, Span};
use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};
use std::collections::HashSet;
use std::sync::Arc;

/// Budgets that bound the work one file can cause.
#[derive(Debug, Clone, Copy)]
pub struct LoadLimits {
    /// Larger files are refused with a finding.
    pub max_file_bytes: usize,
    /// Deepest nesting of mappings and sequences accepted.
    pub max_depth: usize,
    /// Most nodes one document may produce, counting every alias expansion and every
    /// anchored node the loader keeps a copy of.
    pub max_nodes_per_document: usize,
    /// Most nodes all documents of one file may produce together (counted the same way),
    /// so many small documents cannot add up to what one may not.
    pub max_nodes_per_file: usize,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_file_bytes: 64 * 1024 * 1024,
            max_depth: 128,
            max_nodes_per_document: 1_000_000,
            max_nodes_per_file: 4_000_000,
        }
    }
}

/// A node budget shared by every file of a run (files load in parallel), so a run of
/// many files that each stay within their own budget still has a ceiling. A file whose
/// documents would take the run past it keeps its findings but not its documents.
#[derive(Debug)]
pub struct RunBudget {
    left: std::sync::atomic::AtomicUsize,
    total: usize,
}

impl RunBudget {
    /// The default ceiling of a run: 32 million nodes (a few GB of trees).
    pub const DEFAULT: usize = 32_000_000;

    pub fn new(nodes: usize) -> RunBudget {
        RunBudget {
            left: std::sync::atomic::AtomicUsize::new(nodes),
            total: nodes,
        }
    }

    /// Takes `n` nodes from the budget; false (and nothing taken) when not enough is left.
    fn take(&self, n: usize) -> bool {
        use std::sync::atomic::Ordering;
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }
}

impl Default for RunBudget {
    fn default() -> Self {
        RunBudget::new(RunBudget::DEFAULT)
    }
}

/// One YAML document that parsed (empty documents are dropped).
#[derive(Debug, Clone)]
pub struct LoadedDocument {
    /// 0-based position of the document in its file.
    pub index: usize,
    pub root: Node,
    /// Every alias expansion in the document: where the alias was written and the span
    /// of the anchored node it copied. The model uses it to keep a value anchored in a
    /// Secret out of every other resource.
    pub aliases: Vec<(Span, Span)>,
}

/// Everything the loader learned about one file.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    pub source: SourceFile,
    pub documents: Vec<LoadedDocument>,
    pub findings: Vec<Finding>,
}

/// Loads one file's bytes. Never panics and never fails: problems are findings.
pub fn load_source(name: Arc<str>, bytes: Vec<u8>, limits: &LoadLimits) -> LoadedFile {
    load_source_in(name, bytes, limits, &RunBudget::default())
}

/// [`load_source`] drawing its nodes from a budget shared with other files of the run.
pub fn load_source_in(
    name: Arc<str>,
    bytes: Vec<u8>,
    limits: &LoadLimits,
    run: &RunBudget,
) -> LoadedFile {
    let mut file = load_unclamped(name, bytes, limits, run);
    // The parser reports the end of input one line past the last one: every finding
    // is kept inside the text, so each has a line a reader (and a renderer) can find.
    if file.findings.is_empty() {
        return file;
    }
    let lines = file.source.line_count() as u32;
    for f in &mut file.findings {
        for pos in [&mut f.location.span.start, &mut f.location.span.end] {
            if pos.line > lines {
                pos.line = lines;
                pos.column = file.source.line_text(lines).chars().count() as u32 + 1;
            }
        }
    }
    file
}

fn load_unclamped(
    name: Arc<str>,
    bytes: Vec<u8>,
    limits: &LoadLimits,
    run: &RunBudget,
) -> LoadedFile {
    let mut findings = Vec::new();
    let start = Span::point(1, 1);
    let refuse = |text: &str, findings: Vec<Finding>| LoadedFile {
        source: SourceFile::new(name.clone(), text.to_string()),
        documents: Vec::new(),
        findings,
    };
    if bytes.len() > limits.max_file_bytes {
        findings.push(finding(
            &name,
            codes::INPUT_LIMIT,
            Severity::Error,
            start,
            format!(
                "file is larger than the {} byte limit; it was not analyzed",
                limits.max_file_bytes
            ),
        ));
        return refuse("", findings);
    }
    if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) || bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        findings.push(finding(
            &name,
            codes::UNREADABLE_FILE,
            Severity::Error,
            start,
            "file is UTF-32 encoded; Kubernetes manifests must be UTF-8 (re-save it as UTF-8)"
                .to_string(),
        ));
        return refuse("", findings);
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        findings.push(finding(
            &name,
            codes::UNREADABLE_FILE,
            Severity::Error,
            start,
            "file is UTF-16 encoded; Kubernetes manifests must be UTF-8 (re-save it as UTF-8)"
                .to_string(),
        ));
        return refuse("", findings);
    }
    if bytes[..bytes.len().min(8192)].contains(&0) {
        findings.push(finding(
            &name,
            codes::UNREADABLE_FILE,
            Severity::Error,
            start,
            "file looks binary (it contains NUL bytes); it was not analyzed".to_string(),
        ));
        return refuse("", findings);
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes);
    let text = match std::str::from_utf8(body) {
        Ok(_) if body.len() == bytes.len() => String::from_utf8(bytes).unwrap_or_default(),
        Ok(t) => t.to_string(),
        Err(e) => {
            let valid = &body[..e.valid_up_to()];
            let valid = std::str::from_utf8(valid).unwrap_or("");
            let line = valid.matches('\n').count() as u32 + 1;
            let column = valid.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1;
            findings.push(finding(
                &name,
                codes::UNREADABLE_FILE,
                Severity::Error,
                Span::point(line, column),
                "invalid UTF-8 byte sequence; the rest of the file was read with replacement characters"
                    .to_string(),
            ));
            String::from_utf8_lossy(body).into_owned()
        }
    };
    let source = SourceFile::new(name.clone(), lone_cr_to_lf(text));

    if let Some(span) = helm_template_marker(&source.text) {
        findings.push(
            finding(
                &name,
                codes::HELM_TEMPLATE,
                // Not analyzed, but not broken either: a template is not a manifest.
                Severity::Warning,
                span,
                "this is an unrendered Helm template, not a manifest; it was not analyzed"
                    .to_string(),
            )
            .with_help("render the chart first: `helm template RELEASE CHART | meshlint check -`"),
        );
        return LoadedFile {
            source,
            documents: Vec::new(),
            findings,
        };
    }

    if name.to_ascii_lowercase().ends_with(".json") {
        if let Some(line) = json_comment_line(&source.text) {
            findings.push(
                finding(
                    &name,
                    codes::PARSE_ERROR,
                    Severity::Error,
                    Span::point(line, source.line_text(line).find('/').map_or(1, |c| c as u32 + 1)),
                    "JSON does not allow comments: this `.json` file was read as YAML, where `//` and `/*` are text, so what follows may be misread or skipped"
                        .to_string(),
                )
                .with_help("remove the comments (JSON with comments is not supported), or rename the file to `.yaml` and use `#` comments"),
            );
        }
    }

    let mut documents = Vec::new();
    let text = source.text.clone();
    let mut file_nodes = 0usize;
    let mut scratch = block_parse::Scratch::default();
    // The loader's own line table, dropped with this function: the source file builds
    // one only if a finding or a suppression comment needs it.
    let starts = line_starts(&text);
    for chunk in split_documents(&text, &starts) {
        if let Some((line, message)) = unsupported_yaml_version(&chunk) {
            findings.push(finding(
                &name,
                codes::PARSE_ERROR,
                Severity::Error,
                Span::point(line, 1),
                message,
            ));
            continue;
        }
        // Most documents are plain block YAML, which the fast path reads; it leaves
        // everything else (and every problem) to the general parser.
        let fast = block_parse::parse_document(&chunk, limits, &mut scratch)
            .filter(|(_, nodes)| file_nodes + nodes <= limits.max_nodes_per_file);
        let (built, file_full) = match fast {
            Some((root, nodes)) => {
                file_nodes += nodes;
                (vec![(root, Vec::new(), nodes)], false)
            }
            None => {
                let mut builder = parse_chunk(&name, &chunk, limits, file_nodes);
                file_nodes = builder.file_nodes;
                findings.append(&mut builder.findings);
                (builder.documents, builder.file_full)
            }
        };
        let chunk_nodes: usize = built.iter().map(|(_, _, n)| n).sum();
        if !run.take(chunk_nodes) {
            findings.push(finding(
                &name,
                codes::INPUT_LIMIT,
                Severity::Error,
                Span::point(chunk.line_offset + 1, 1),
                format!(
                    "the inputs together have more than {} YAML nodes (counting alias expansions); this document and the rest of the file were not analyzed",
                    run.total
                ),
            ));
            break;
        }
        for (root, aliases, _) in built {
            if root.is_null() {
                continue;
            }
            documents.push(LoadedDocument {
                index: documents.len(),
                root,
                aliases,
            });
        }
        if file_full {
            break;
        }
    }
    LoadedFile {
        source,
        documents,
        findings,
    }
}

/// One document chunk through the general parser (saphyr's events into a
/// [`TreeBuilder`]), with `file_nodes` nodes of the file already counted.
pub(crate) fn parse_chunk<'a>(
    name: &'a Arc<str>,
    chunk: &Chunk<'_>,
    limits: &'a LoadLimits,
    file_nodes: usize,
) -> TreeBuilder<'a> {
    let mut builder = TreeBuilder::new(name, chunk.line_offset, limits);
    builder.file_nodes = file_nodes;
    builder.run(chunk.text);
    // Kubernetes' YAML library accepts a flow collection closed at its key's
    // indentation (`args: [` … `]`); the YAML spec (and our parser) do not. Retry
    // with such closing lines indented like the line before them.
    let mut patched: Option<String> = None;
    for _ in 0..MAX_FLOW_CLOSER_FIXES {
        let Some((line, column, quoted)) = builder.findings.iter().find_map(|f| {
            (&*f.rule == codes::PARSE_ERROR && f.message.contains("indentation")).then(|| {
                let at = f.location.span.start;
                (
                    at.line - chunk.line_offset,
                    at.column,
                    f.message.contains("quoted scalar"),
                )
            })
        }) else {
            break;
        };
        let current = patched.as_deref().unwrap_or(chunk.text);
        let fixed = if quoted {
            indent_quoted_continuation(current, line as usize, column as usize)
        } else {
            indent_flow_closer(current, line as usize)
        };
        let Some(fixed) = fixed else {
            break;
        };
        let mut retry = TreeBuilder::new(name, chunk.line_offset, limits);
        retry.file_nodes = file_nodes;
        retry.run(&fixed);
        builder = retry;
        patched = Some(fixed);
    }
    builder
}

/// How many dedented flow-collection closers one document may have re-indented.
const MAX_FLOW_CLOSER_FIXES: usize = 16;

/// `text` with its 1-based `line` re-indented when it continues a flow collection
/// (`[`, `{`) opened on an earlier line at or below its key's indentation, which
/// Kubernetes' YAML library accepts: a closing line (`]`, `}`) takes the indentation of
/// the line above; an entry line right after the opening line goes four spaces deeper
/// than that line, and later entries line up with the entry above. `None` when the line
/// does not continue a flow collection.
fn indent_flow_closer(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let target = *lines.get(line.checked_sub(1)?)?;
    let body = target.trim();
    if body.is_empty() {
        return None;
    }
    let above = lines[..line - 1]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())?;
    let above_indent = above.len() - above.trim_start().len();
    let above_end = above.trim_end().chars().last()?;
    let closers_only = body.chars().all(|c| matches!(c, ']' | '}' | ',' | ' '));
    let indent = if closers_only {
        above_indent
    } else if matches!(above_end, '[' | '{') {
        above_indent + 4
    } else if above_end == ',' {
        above_indent
    } else {
        return None;
    };
    let current = target.len() - target.trim_start().len();
    if indent <= current {
        return None;
    }
    let mut out = String::with_capacity(text.len() + indent);
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if i == line - 1 {
            out.push_str(&" ".repeat(indent));
            out.push_str(l.trim_start());
        } else {
            out.push_str(l);
        }
    }
    Some(out)
}

/// `text` with the continuation lines of the quoted scalar that starts at 1-based
/// (`line`, `column`) indented two spaces past the line it starts on. Kubernetes' YAML
/// library accepts them less indented (dashboards embedded in ConfigMaps as `'{` …
/// `}'`); since a quoted scalar folds away the leading spaces of its continuation lines,
/// the value is unchanged. `None` when no quoted scalar starts there or it never ends.
fn indent_quoted_continuation(text: &str, line: usize, column: usize) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let first = *lines.get(line.checked_sub(1)?)?;
    let start = first
        .char_indices()
        .nth(column.checked_sub(1)?)
        .map(|(i, _)| i)?;
    let quote = first[start..]
        .chars()
        .next()
        .filter(|c| *c == '\'' || *c == '"')?;
    let indent = first.len() - first.trim_start().len() + 2;
    // Find the line holding the closing quote.
    let closes = |segment: &str| -> bool {
        let mut chars = segment.chars().peekable();
        while let Some(c) = chars.next() {
            match (quote, c) {
                ('"', '\\') => {
                    chars.next();
                }
                ('\'', '\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                }
                (q, c) if q == c => return true,
                _ => {}
            }
        }
        false
    };
    if closes(&first[start + 1..]) {
        return None;
    }
    let last = (line..lines.len()).find(|&i| closes(lines[i]))?;
    let mut out = String::with_capacity(text.len() + (last + 1 - line) * indent);
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if (line..=last).contains(&i) && !l.trim().is_empty() {
            out.push_str(&" ".repeat(indent));
            out.push_str(l.trim_start());
        } else {
            out.push_str(l);
        }
    }
    Some(out)
}

/// The first line of a `.json` file that starts with a `//` or `/*` comment (outside
/// any string: a JSON string cannot span lines, and no JSON token starts with `/`).
fn json_comment_line(text: &str) -> Option<u32> {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with("//") || t.starts_with("/*")
        })
        .map(|i| i as u32 + 1)
}

/// A `%YAML` directive of a version meshlint cannot read (major version other than 1,
/// or not a version at all): its line and a message. YAML 1.x documents are read as 1.2.
fn unsupported_yaml_version(chunk: &Chunk<'_>) -> Option<(u32, String)> {
    for (i, line) in chunk.text.lines().enumerate() {
        if !line.starts_with('%') {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            return None;
        }
        let mut words = line.split_whitespace();
        if words.next() != Some("%YAML") {
            continue;
        }
        let version = words.next().unwrap_or("");
        let ok = version.split_once('.').is_some_and(|(major, minor)| {
            major == "1" && !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
        });
        if !ok {
            return Some((
                chunk.line_offset + i as u32 + 1,
                format!(
                    "unsupported YAML version `{version}` (meshlint reads YAML 1.x); this document was not analyzed"
                ),
            ));
        }
    }
    None
}

/// YAML counts a lone carriage return as a line break; meshlint's line table counts
/// `\n`. A lone `\r` becomes `\n` so the parser's line numbers and the text's agree
/// (found by fuzzing: a finding on "line 12" of a 10-line file). `\r\n` stays.
fn lone_cr_to_lf(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            out.push_str(&text[last..i]);
            out.push('\n');
            last = i + 1;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Whether a line ends with a block scalar indicator (`key: |`, `- >-`, `key: |2 # c`):
/// the more indented lines after it are the text of one string value.
fn opens_block_scalar(line: &str) -> bool {
    let t = line.trim_end();
    let t = t.find(" #").map_or(t, |p| t[..p].trim_end());
    let indicator = t.rsplit([' ', '\t']).next().unwrap_or("");
    let Some(flags) = indicator.strip_prefix(['|', '>']) else {
        return false;
    };
    let before = t[..t.len() - indicator.len()].trim_end();
    flags.len() <= 2
        && flags.chars().all(|c| matches!(c, '+' | '-' | '1'..='9'))
        && (before.ends_with(':') || before.ends_with('-'))
}

/// Finds Go-template actions that only an unrendered chart contains. Template-looking
/// text inside ordinary values (Prometheus `{{ $labels.x }}`, Lua in an EnvoyFilter, the
/// injection template kept in a block scalar of Istio's `istio-sidecar-injector`
/// ConfigMap) is left alone: only Helm's own objects and control actions outside block
/// scalars count.
fn helm_template_marker(text: &str) -> Option<Span> {
    const HELM_WORDS: &[&str] = &[
        ".Values",
        ".Release",
        ".Chart",
        ".Capabilities",
        ".Files",
        ".Template",
        "include ",
        "template ",
        "toYaml",
        "if ",
        "else",
        "end",
        "range ",
        "with ",
        "define ",
        "tpl ",
        "required ",
        "/*",
    ];
    // Almost no manifest holds `{{` at all: one search of the whole text spares the
    // line-by-line walk below (1–2 % of a large check's CPU time).
    if !text.contains("{{") {
        return None;
    }
    // Indentation of the line that opened the block scalar being skipped.
    let mut block: Option<usize> = None;
    for (line_idx, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(b) = block {
            if line.trim().is_empty() || indent > b {
                continue;
            }
            block = None;
        }
        if opens_block_scalar(line) {
            block = Some(indent);
        }
        let mut rest = line;
        let mut col_bytes = 0;
        while let Some(pos) = rest.find("{{") {
            let after = rest[pos + 2..].trim_start_matches('-').trim_start();
            if HELM_WORDS.iter().any(|w| after.starts_with(w))
                && !inside_quoted_text(line, col_bytes + pos)
            {
                let prefix = &line[..col_bytes + pos];
                let column = prefix.chars().count() as u32 + 1;
                let end = line[col_bytes + pos..]
                    .find("}}")
                    .map(|e| line[..col_bytes + pos + e + 2].chars().count() as u32 + 1)
                    .unwrap_or(column + 2);
                return Some(Span {
                    start: Pos {
                        line: line_idx as u32 + 1,
                        column,
                    },
                    end: Pos {
                        line: line_idx as u32 + 1,
                        column: end,
                    },
                });
            }
            col_bytes += pos + 2;
            rest = &rest[pos + 2..];
        }
    }
    None
}

/// Whether byte `at` of `line` lies inside a quoted scalar after some text of it
/// (`'http://grafana:{{ .Values.port }}'`): a string that merely contains template
/// syntax, as test commands and alert texts do. A value that is only a template
/// (`"{{ .Values.image }}"`) still marks a Helm template.
fn inside_quoted_text(line: &str, at: usize) -> bool {
    let mut open: Option<(char, usize)> = None;
    let mut escaped = false;
    for (i, c) in line[..at].char_indices() {
        match open {
            Some(('"', _)) if escaped => escaped = false,
            Some(('"', _)) if c == '\\' => escaped = true,
            Some((q, _)) if c == q => open = None,
            Some(_) => {}
            None if c == '#' => return false,
            None if c == '"' || c == '\'' => open = Some((c, i + 1)),
            None => {}
        }
    }
    open.is_some_and(|(_, start)| start < at)
}

/// The parser's span of a quoted scalar can run on over a trailing comment. When the
/// quoted text cannot contain escapes (nothing the quotes would have to escape), its
/// written length is known: the characters plus the two quotes.
fn quoted_scalar_span(span: Span, style: ScalarStyle, text: &str) -> Span {
    let quoted = matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
    let escapable = |c: char| matches!(c, '"' | '\\' | '\'') || c.is_control();
    if !quoted || text.chars().any(escapable) {
        return span;
    }
    let end = Pos {
        line: span.start.line,
        column: span.start.column + text.chars().count() as u32 + 2,
    };
    if end < span.end || span.end.line > span.start.line {
        Span {
            start: span.start,
            end,
        }
    } else {
        span
    }
}

/// A plain `<<` key: its value's entries are merged into the mapping.
fn is_merge_key(k: &Key) -> bool {
    !k.is_collection() && k.plain() && k.text() == "<<"
}

/// Whether a mapping needs more than its entries as written: a merge key to apply or a
/// duplicate key to report (`TreeBuilder::finish_mapping`; the fast path declines it).
pub(crate) fn needs_finishing(entries: &[(Key, Node)]) -> bool {
    entries.iter().any(|(k, _)| is_merge_key(k)) || has_duplicate_keys(entries)
}

/// Fast duplicate check: small mappings (almost all of them) without allocating.
fn has_duplicate_keys(entries: &[(Key, Node)]) -> bool {
    if entries.len() <= 16 {
        // Each key's text is looked up once, not once per pair.
        let mut keys: [Option<&str>; 16] = [None; 16];
        for (slot, (k, _)) in keys.iter_mut().zip(entries) {
            *slot = k.as_str();
        }
        let keys = &keys[..entries.len()];
        return keys
            .iter()
            .enumerate()
            .any(|(i, a)| a.is_some_and(|a| keys[i + 1..].contains(&Some(a))));
    }
    let mut seen = HashSet::with_capacity(entries.len());
    entries
        .iter()
        .filter_map(|(k, _)| k.as_str())
        .any(|k| !seen.insert(k))
}

pub(crate) struct Chunk<'a> {
    pub(crate) text: &'a str,
    /// Lines of the file before this chunk (0-based line number of its first line).
    pub(crate) line_offset: u32,
    /// Byte offset of each of its lines in the file (from the file's line table).
    pub(crate) starts: &'a [u32],
    /// Byte offset of `text` in the file.
    pub(crate) base: usize,
}

impl<'a> Chunk<'a> {
    /// Its lines without their line breaks, found from the file's line table rather than
    /// searched for again.
    pub(crate) fn lines(&self) -> impl Iterator<Item = &'a str> + '_ {
        let text = self.text;
        self.starts.iter().enumerate().map(move |(i, &start)| {
            let start = start as usize - self.base;
            let end = self
                .starts
                .get(i + 1)
                .map_or(text.len(), |&next| next as usize - self.base);
            let line = &text[start..end];
            line.strip_suffix('\n').unwrap_or(line)
        })
    }
}

/// Splits a stream at document markers so each document is parsed on its own: a syntax
/// error then costs only its own document. Directives (`%YAML`) stay with the document
/// they introduce. `line_starts` is the text's line table ([`meshlint_diag::line_starts`]).
pub(crate) fn split_documents<'a>(text: &'a str, line_starts: &'a [u32]) -> Vec<Chunk<'a>> {
    let mut chunks = Vec::new();
    let mut chunk_start = 0usize;
    let mut chunk_line = 0usize;
    let mut in_directives = false;
    let mut push = |from: usize, to: usize, first: usize, last: usize| {
        chunks.push(Chunk {
            text: &text[from..to],
            line_offset: first as u32,
            starts: &line_starts[first..last],
            base: from,
        })
    };
    for (line_no, &offset) in line_starts.iter().enumerate() {
        let offset = offset as usize;
        let line = &text.as_bytes()[offset..];
        let is_marker = line.starts_with(b"---")
            && text[offset + 3..]
                .chars()
                .next()
                .is_none_or(char::is_whitespace);
        let is_directive = line.starts_with(b"%");
        let starts_new = (is_directive || is_marker) && !in_directives;
        if starts_new && offset > chunk_start {
            push(chunk_start, offset, chunk_line, line_no);
            chunk_start = offset;
            chunk_line = line_no;
        } else if starts_new {
            chunk_line = line_no;
        }
        if is_directive {
            in_directives = true;
        } else if is_marker {
            in_directives = false;
        }
    }
    if chunk_start < text.len() {
        push(chunk_start, text.len(), chunk_line, line_starts.len());
    }
    chunks
}

/// A document as the tree builder finishes it: the root, its alias expansions (use,
/// anchored node) and its node count.
type BuiltDocument = (Node, Vec<(Span, Span)>, usize);

enum Frame {
    Seq {
        start: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: Pos,
        anchor: usize,
        entries: Vec<(Key, Node)>,
        key: Option<Node>,
    },
}

pub(crate) struct TreeBuilder<'a> {
    file: &'a Arc<str>,
    line_offset: u32,
    limits: &'a LoadLimits,
    stack: Vec<Frame>,
    anchors: Vec<Option<Node>>,
    nodes: usize,
    /// Nodes of the whole file so far (carried from chunk to chunk).
    file_nodes: usize,
    /// Set when the file's budget ran out: later chunks are not parsed.
    file_full: bool,
    aliases: Vec<(Span, Span)>,
    /// Each document with its alias expansions and node count.
    pub(crate) documents: Vec<BuiltDocument>,
    pub(crate) findings: Vec<Finding>,
}

impl<'a> TreeBuilder<'a> {
    fn new(file: &'a Arc<str>, line_offset: u32, limits: &'a LoadLimits) -> Self {
        TreeBuilder {
            file,
            line_offset,
            limits,
            stack: Vec::new(),
            anchors: Vec::new(),
            nodes: 0,
            file_nodes: 0,
            file_full: false,
            aliases: Vec::new(),
            documents: Vec::new(),
            findings: Vec::new(),
        }
    }

    fn pos(&self, m: &saphyr_parser::Marker) -> Pos {
        Pos {
            line: m.line() as u32 + self.line_offset,
            column: m.col() as u32 + 1,
        }
    }

    fn span(&self, s: &YSpan) -> Span {
        Span {
            start: self.pos(&s.start),
            end: self.pos(&s.end),
        }
    }

    fn fail(&mut self, code: &'static str, span: Span, message: String) {
        self.findings
            .push(finding(self.file, code, Severity::Error, span, message));
    }

    fn run(&mut self, text: &str) {
        let mut parser = Parser::new_from_str(text);
        loop {
            let (event, yspan) = match parser.next_event() {
                None => return,
                Some(Ok(ev)) => ev,
                Some(Err(e)) => {
                    let at = self.pos(e.marker());
                    let span = Span {
                        start: at,
                        end: Pos {
                            line: at.line,
                            column: at.column + 1,
                        },
                    };
                    self.fail(
                        codes::PARSE_ERROR,
                        span,
                        format!("invalid YAML: {}", e.info()),
                    );
                    return;
                }
            };
            let span = self.span(&yspan);
            let ok = match event {
                Event::StreamEnd => return,
                Event::DocumentStart(_) => {
                    self.stack.clear();
                    self.anchors.clear();
                    self.aliases.clear();
                    self.nodes = 0;
                    true
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let forced_str = tag
                        .as_ref()
                        .is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
                    let span = quoted_scalar_span(span, style, &text);
                    let node = Node::new(
                        span,
                        NodeValue::Scalar(Scalar::new(
                            &text,
                            style == ScalarStyle::Plain && !forced_str,
                        )),
                    );
                    self.complete(node, anchor)
                }
                Event::SequenceStart(anchor, _) => self.open(Frame::Seq {
                    start: span.start,
                    anchor,
                    items: Vec::new(),
                }),
                Event::MappingStart(anchor, _) => self.open(Frame::Map {
                    start: span.start,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                }),
                Event::SequenceEnd | Event::MappingEnd => self.close(span),
                Event::Alias(id) => self.alias(id, span),
                Event::DocumentEnd | Event::StreamStart | Event::Nothing => true,
            };
            if !ok {
                return;
            }
        }
    }

    fn open(&mut self, frame: Frame) -> bool {
        if self.stack.len() >= self.limits.max_depth {
            let start = match &frame {
                Frame::Seq { start, .. } | Frame::Map { start, .. } => *start,
            };
            self.fail(
                codes::INPUT_LIMIT,
                Span::point(start.line, start.column),
                format!(
                    "nesting deeper than {} levels; this document was not analyzed",
                    self.limits.max_depth
                ),
            );
            return false;
        }
        self.stack.push(frame);
        true
    }

    fn close(&mut self, end_span: Span) -> bool {
        let Some(frame) = self.stack.pop() else {
            return true;
        };
        let (node, anchor) = match frame {
            Frame::Seq {
                start,
                anchor,
                items,
            } => {
                let end = items.last().map(|n| n.span().end).unwrap_or(end_span.end);
                (
                    Node::new(Span { start, end }, NodeValue::Seq(crate::List::new(items))),
                    anchor,
                )
            }
            Frame::Map {
                start,
                anchor,
                entries,
                ..
            } => {
                let end = entries
                    .last()
                    .map(|(_, v)| v.span().end)
                    .unwrap_or(end_span.end);
                let entries = self.finish_mapping(entries);
                (
                    Node::new(
                        Span { start, end },
                        NodeValue::Map(crate::List::new(entries)),
                    ),
                    anchor,
                )
            }
        };
        self.complete(node, anchor)
    }

    /// Applies merge keys and reports duplicate keys (the last one wins, as in most
    /// YAML libraries, but kubectl refuses such manifests, hence an error).
    fn finish_mapping(&mut self, entries: Vec<(Key, Node)>) -> Vec<(Key, Node)> {
        if !needs_finishing(&entries) {
            return entries;
        }
        let has_merge = entries.iter().any(|(k, _)| is_merge_key(k));
        // Linear in the mapping: one hash lookup per key, whatever the number of
        // duplicates or merged entries.
        let mut first: std::collections::HashMap<&str, Span> =
            std::collections::HashMap::with_capacity(entries.len());
        let mut duplicates: Vec<(String, Span, Span)> = Vec::new();
        for (k, _) in &entries {
            if is_merge_key(k) {
                continue;
            }
            if let Some(key) = k.scalar_text() {
                match first.get(key) {
                    Some(&f) => duplicates.push((key.to_string(), k.span(), f)),
                    None => {
                        first.insert(key, k.span());
                    }
                }
            }
        }
        drop(first);
        for (key, span, first) in duplicates {
            let mut f = finding(
                self.file,
                codes::DUPLICATE_KEY,
                Severity::Error,
                span,
                format!(
                    "duplicate key `{key}`: kubectl rejects this manifest, and other tools silently keep only the last value"
                ),
            )
            .with_help("remove one of the two entries");
            f.related.push(Related {
                location: meshlint_diag::Location {
                    file: self.file.clone(),
                    span: first,
                },
                message: "first defined here".to_string(),
            });
            self.findings.push(f);
        }
        let mut own: Vec<Option<(Key, Node)>> = Vec::with_capacity(entries.len());
        let mut index: std::collections::HashMap<String, usize> =
            std::collections::HashMap::with_capacity(entries.len());
        let mut merged: Vec<(Key, Node)> = Vec::new();
        for (k, v) in entries {
            if has_merge && is_merge_key(&k) {
                match v.value {
                    NodeValue::Map(m) => merged.extend(m.into_vec()),
                    NodeValue::Seq(items) => {
                        for item in items.into_vec() {
                            if let NodeValue::Map(m) = item.value {
                                merged.extend(m.into_vec());
                            }
                        }
                    }
                    NodeValue::Scalar(_) => {}
                }
                continue;
            }
            // Later duplicates replace earlier ones.
            if let Some(key) = k.as_str() {
                if let Some(old) = index.insert(key.to_string(), own.len()) {
                    own[old] = None;
                }
            }
            own.push(Some((k, v)));
        }
        // Merged entries never override the mapping's own keys; among merged maps the
        // first one listed wins, as YAML specifies.
        for (k, v) in merged {
            if let Some(key) = k.as_str() {
                if index.contains_key(key) {
                    continue;
                }
                index.insert(key.to_string(), own.len());
            }
            own.push(Some((k, v)));
        }
        own.into_iter().flatten().collect()
    }

    fn alias(&mut self, id: usize, span: Span) -> bool {
        let Some(Some(target)) = self.anchors.get(id) else {
            self.fail(
                codes::PARSE_ERROR,
                span,
                "alias refers to an anchor that is not defined before it".to_string(),
            );
            return false;
        };
        let size = target.count();
        if self.nodes + size > self.limits.max_nodes_per_document {
            self.fail(
                codes::INPUT_LIMIT,
                span,
                format!(
                    "alias expansion exceeds {} nodes (a \"billion laughs\" document?); this document was not analyzed",
                    self.limits.max_nodes_per_document
                ),
            );
            return false;
        }
        let mut node = target.clone();
        if !self.charge(size - 1, span) {
            return false;
        }
        self.aliases.push((span, node.span()));
        node.set_span(span);
        self.complete(node, 0)
    }

    /// Counts `n` more nodes against the document's and the file's budgets.
    fn charge(&mut self, n: usize, span: Span) -> bool {
        self.nodes += n;
        self.file_nodes += n;
        if self.nodes > self.limits.max_nodes_per_document {
            self.fail(
                codes::INPUT_LIMIT,
                span,
                format!(
                    "document has more than {} nodes (counting alias expansions and anchored copies; a \"billion laughs\" document?); it was not analyzed",
                    self.limits.max_nodes_per_document
                ),
            );
            return false;
        }
        if self.file_nodes > self.limits.max_nodes_per_file {
            self.file_full = true;
            self.fail(
                codes::INPUT_LIMIT,
                span,
                format!(
                    "file has more than {} nodes (counting alias expansions and anchored copies); this document and the rest of the file were not analyzed",
                    self.limits.max_nodes_per_file
                ),
            );
            return false;
        }
        true
    }

    fn complete(&mut self, node: Node, anchor: usize) -> bool {
        if !self.charge(1, node.span()) {
            return false;
        }
        if anchor > 0 {
            // The stored copy costs as much memory as the node: it counts.
            if !self.charge(node.count(), node.span()) {
                return false;
            }
            if self.anchors.len() <= anchor {
                self.anchors.resize(anchor + 1, None);
            }
            self.anchors[anchor] = Some(node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push((
                node,
                std::mem::take(&mut self.aliases),
                std::mem::replace(&mut self.nodes, 0),
            )),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((Key::from_node(&k), node)),
            },
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> LoadedFile {
        load_source(
            "t.yaml".into(),
            text.as_bytes().to_vec(),
            &LoadLimits::default(),
        )
    }

    fn rules(f: &LoadedFile) -> Vec<(&str, u32, u32)> {
        f.findings
            .iter()
            .map(|f| {
                (
                    &*f.rule,
                    f.location.span.start.line,
                    f.location.span.start.column,
                )
            })
            .collect()
    }

    #[test]
    fn spans_point_at_values_across_documents() {
        let f = load("a: 1\n---\nkind: X\nspec:\n  mode: STRICT\n");
        assert_eq!(f.documents.len(), 2);
        let doc = &f.documents[1].root;
        let mode = doc.get("spec").unwrap().get("mode").unwrap();
        assert_eq!(mode.span().start, Pos { line: 5, column: 9 });
        assert_eq!(
            mode.span().end,
            Pos {
                line: 5,
                column: 15
            }
        );
    }

    #[test]
    fn broken_document_does_not_hide_its_neighbours() {
        let f = load("a: 1\n---\nb: [1, 2\nc: d\n---\ne: 3\n");
        assert_eq!(f.documents.len(), 2);
        assert_eq!(rules(&f).len(), 1);
        assert_eq!(rules(&f)[0].0, "parse-error");
        assert!(rules(&f)[0].1 >= 3);
        assert_eq!(f.documents[1].root.get("e").unwrap().as_i64(), Some(3));
    }

    #[test]
    fn quoted_scalars_end_at_their_closing_quote() {
        let f = load("a: \"STRICT\" # a comment\nb: 'x' # c\n");
        let a = f.documents[0].root.get("a").unwrap();
        assert_eq!((a.span().start.column, a.span().end.column), (4, 12));
        let b = f.documents[0].root.get("b").unwrap();
        assert_eq!((b.span().start.column, b.span().end.column), (4, 7));
    }

    #[test]
    fn duplicate_keys_are_reported_and_last_wins() {
        let f = load("a: 1\nb: 2\na: 3\n");
        assert_eq!(rules(&f), vec![("duplicate-key", 3, 1)]);
        assert_eq!(f.documents[0].root.get("a").unwrap().as_i64(), Some(3));
        assert_eq!(f.findings[0].related[0].location.span.start.line, 1);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let f = load("base: &b\n  x: 1\n  y: 2\nother:\n  <<: *b\n  y: 5\n");
        assert!(f.findings.is_empty(), "{:?}", f.findings);
        let other = f.documents[0].root.get("other").unwrap();
        assert_eq!(other.get("x").unwrap().as_i64(), Some(1));
        assert_eq!(other.get("y").unwrap().as_i64(), Some(5));
    }

    #[test]
    fn billion_laughs_fails_fast() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                std::iter::repeat_n(prev.as_str(), 10)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let f = load(&text);
        assert_eq!(f.findings.len(), 1);
        assert_eq!(&*f.findings[0].rule, "input-limit");
        assert!(f.documents.is_empty());
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let text = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let f = load(&text);
        assert_eq!(&*f.findings[0].rule, "input-limit");
    }

    #[test]
    fn helm_templates_get_one_finding() {
        let f = load("apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n");
        assert_eq!(rules(&f), vec![("helm-template", 4, 9)]);
        assert!(f.documents.is_empty());
        // Prometheus-style templating inside a value is not Helm.
        let f = load("summary: \"{{ $labels.instance }} down\"\n");
        assert!(f.findings.is_empty());
        // A Helm expression inside a string after other text is that string's content
        // (Istio's analyzer tests keep such a Pod); a value that is only one is Helm.
        let f = load("args: ['http://grafana:{{ .Values.port }}']\n");
        assert!(f.findings.is_empty());
        let f = load("image: \"{{ .Values.image }}\"\n");
        assert_eq!(rules(&f), vec![("helm-template", 1, 9)]);
        // Nor is a template kept as the text of a block scalar (Istio's injector
        // ConfigMap); a Helm action after the block still is.
        let cm = "kind: ConfigMap\ndata:\n  config: |-\n    {{- if .Values.x }}\n\n    a: 1\n  other: x\n";
        assert!(load(cm).findings.is_empty());
        let f = load(&format!("{cm}  name: {{{{ .Release.Name }}}}\n"));
        assert_eq!(rules(&f), vec![("helm-template", 8, 9)]);
    }

    #[test]
    fn encodings_bom_crlf_binary() {
        let f = load("\u{feff}a: 1\r\nb: 2\r\n");
        assert!(f.findings.is_empty());
        assert_eq!(
            f.documents[0].root.get("b").unwrap().span().start,
            Pos { line: 2, column: 4 }
        );
        let f = load_source("b".into(), vec![0, 1, 2, 3], &LoadLimits::default());
        assert_eq!(&*f.findings[0].rule, "unreadable-file");
        let f = load_source(
            "c".into(),
            b"a: \xff\xfe\nb: 2\n".to_vec(),
            &LoadLimits::default(),
        );
        assert_eq!(rules(&f), vec![("unreadable-file", 1, 4)]);
        assert_eq!(f.documents.len(), 1);
    }

    #[test]
    fn flow_collections_closed_at_the_key_indentation_load_as_kubectl_reads_them() {
        let f = load("spec:\n  args: [\n      \"-a\", \"b\",\n  ]\n  env: {x: 1}\n");
        assert!(f.findings.is_empty(), "{:?}", f.findings);
        let args = f.documents[0]
            .root
            .get("spec")
            .and_then(|s| s.get("args"))
            .unwrap();
        assert_eq!(args.items().len(), 2);
        // Spans of the other lines are unchanged.
        let env = f.documents[0]
            .root
            .get("spec")
            .and_then(|s| s.get("env"))
            .unwrap();
        assert_eq!(env.span().start.line, 5);
        // A quoted scalar whose continuation lines sit at the key's indentation.
        let f = load("data:\n  dash.json: '{\n  \"title\": \"x\"\n  }'\n  other: 1\n");
        assert!(f.findings.is_empty(), "{:?}", f.findings);
        let data = f.documents[0].root.get("data").unwrap();
        assert_eq!(data.str_at(&["dash.json"]), Some("{ \"title\": \"x\" }"));
        assert_eq!(data.get("other").unwrap().span().start.line, 5);
        // Entries of a flow sequence at the indentation of the item holding it.
        let f = load("rules:\n  - apiGroups: [\n    \"a\",\n    \"b\"]\n    resources: [\"*\"]\n");
        assert!(f.findings.is_empty(), "{:?}", f.findings);
        let rule = &f.documents[0].root.get("rules").unwrap().items()[0];
        assert_eq!(rule.get("apiGroups").unwrap().items().len(), 2);
        assert_eq!(rule.get("resources").unwrap().span().start.line, 5);
        // A real indentation error is still one.
        let f = load("a:\n  b: 1\n c: 2\n");
        assert_eq!(rules(&f).len(), 1);
    }

    #[test]
    fn json_is_read_too() {
        let f = load("{\"kind\": \"Service\", \"spec\": {\"ports\": [{\"port\": 80}]}}");
        assert!(f.findings.is_empty());
        let port = f.documents[0]
            .root
            .get("spec")
            .unwrap()
            .get("ports")
            .unwrap();
        assert_eq!(port.items()[0].get("port").unwrap().as_i64(), Some(80));
    }

    #[test]
    fn oversized_files_are_refused() {
        let limits = LoadLimits {
            max_file_bytes: 4,
            ..LoadLimits::default()
        };
        let f = load_source("big".into(), b"a: 12345".to_vec(), &limits);
        assert_eq!(&*f.findings[0].rule, "input-limit");
    }
}

/// Issue 18, item 3: budgets per document, per file and per run, anchored copies
/// counted, and linear duplicate-key and merge-key handling. Sizes are small limits
/// on generated input; the assertions count nodes, not time.
#[cfg(test)]
mod fuzz_regressions {
    use super::*;

    /// fuzz_loader seed 7 case 31121: a lone CR made the parser count one line more
    /// than the text has. Saved as `testdata/hostile/fuzz/lone-cr.yaml`.
    #[test]
    fn lone_carriage_returns_keep_positions_inside_the_text() {
        let bytes = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../testdata/hostile/fuzz/lone-cr.yaml"),
        )
        .unwrap();
        let f = load_source("case.yaml".into(), bytes, &LoadLimits::default());
        let lines = f.source.line_count() as u32;
        assert!(!f.findings.is_empty());
        for x in &f.findings {
            assert!(x.location.span.start.line <= lines, "{x:?} ({lines} lines)");
        }
        let f = load_source(
            "a.yaml".into(),
            b"a: 1\rb: [\r".to_vec(),
            &LoadLimits::default(),
        );
        assert_eq!(f.source.line_count(), 3);
        assert!(f.findings.iter().all(|x| x.location.span.start.line <= 3));
    }
}

#[cfg(test)]
mod item9_tests {
    use super::*;

    fn rules_of(name: &str, bytes: &[u8]) -> Vec<(String, u32, String)> {
        load_source(name.into(), bytes.to_vec(), &LoadLimits::default())
            .findings
            .iter()
            .map(|f| {
                (
                    f.rule.to_string(),
                    f.location.span.start.line,
                    f.message.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn json_comments_are_reported() {
        let r = rules_of(
            "a.json",
            b"// generated
{\"apiVersion\": \"v1\"}
",
        );
        assert!(!r.is_empty(), "{r:?}");
        assert_eq!((r[0].0.as_str(), r[0].1), ("parse-error", 1));
        assert!(r[0].2.contains("JSON does not allow comments"));
        // Not in YAML files, not in strings.
        assert!(rules_of("a.yaml", b"a: //x\n").is_empty());
        assert!(rules_of("a.json", b"{\"a\": \"http://x\"}\n").is_empty());
    }

    #[test]
    fn utf32_is_named_as_such() {
        let r = rules_of("a.yaml", &[0xFF, 0xFE, 0, 0, b'a', 0, 0, 0]);
        assert!(r[0].2.contains("UTF-32"), "{r:?}");
        let r = rules_of("a.yaml", &[0, 0, 0xFE, 0xFF, 0, 0, 0, b'a']);
        assert!(r[0].2.contains("UTF-32"), "{r:?}");
        let r = rules_of("a.yaml", &[0xFF, 0xFE, b'a', 0]);
        assert!(r[0].2.contains("UTF-16"), "{r:?}");
    }

    #[test]
    fn unsupported_yaml_versions_are_refused() {
        let f = load_source(
            "a.yaml".into(),
            b"%YAML 9.9\n---\na: 1\n---\nb: 2\n".to_vec(),
            &LoadLimits::default(),
        );
        assert_eq!(f.findings.len(), 1, "{:?}", f.findings);
        assert_eq!(f.findings[0].location.span.start.line, 1);
        assert!(f.findings[0].message.contains("9.9"));
        assert_eq!(f.documents.len(), 1, "the next document is read");
        assert!(rules_of("a.yaml", b"%YAML 1.2\n---\na: 1\n").is_empty());
        assert!(rules_of("a.yaml", b"%YAML 1.1\n---\na: 1\n").is_empty());
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    fn limits() -> LoadLimits {
        LoadLimits {
            max_nodes_per_document: 10_000,
            max_nodes_per_file: 40_000,
            ..LoadLimits::default()
        }
    }

    fn nodes(f: &LoadedFile) -> usize {
        f.documents.iter().map(|d| d.root.count()).sum()
    }

    fn limit_findings(f: &LoadedFile) -> usize {
        f.findings
            .iter()
            .filter(|x| &*x.rule == codes::INPUT_LIMIT)
            .count()
    }

    /// A document of about `n` nodes built from a few lines of aliases.
    fn laughs(n_leaves: usize) -> String {
        // 10 × 10 × … leaves: a: 10 scalars, b: 10 × a, c: 10 × b, …
        let mut doc = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        let mut size = 10;
        let mut level = 0;
        while size * 10 <= n_leaves {
            level += 1;
            let prev = format!("*l{}", level - 1);
            doc.push_str(&format!(
                "l{level}: &l{level} [{}]\n",
                [prev.as_str(); 10].join(", ")
            ));
            size *= 10;
        }
        doc
    }

    #[test]
    fn anchored_copies_count_against_the_document_budget() {
        // Each level is expanded once in place and kept once as an anchor: ~2× the
        // expansion, which must count. 1,000 leaves expand to ~1,111 nodes; their
        // stored copies take it past 2,000.
        let text = laughs(1_000);
        let small = LoadLimits {
            max_nodes_per_document: 2_000,
            ..limits()
        };
        let f = load_source("a.yaml".into(), text.clone().into_bytes(), &small);
        assert_eq!(limit_findings(&f), 1, "{:?}", f.findings);
        let roomy = LoadLimits {
            max_nodes_per_document: 5_000,
            ..limits()
        };
        let f = load_source("a.yaml".into(), text.into_bytes(), &roomy);
        assert_eq!(limit_findings(&f), 0, "{:?}", f.findings);
    }

    #[test]
    fn many_small_documents_share_the_file_budget() {
        // 100 documents of a few hundred bytes, each just under the document budget:
        // together they would be 100× it. The file budget stops them.
        let doc = laughs(1_000);
        let text = vec![doc.as_str(); 100].join("---\n");
        assert!(text.len() < 100 * 400);
        let f = load_source("a.yaml".into(), text.into_bytes(), &limits());
        assert_eq!(limit_findings(&f), 1, "{:?}", f.findings);
        assert!(nodes(&f) <= limits().max_nodes_per_file, "{}", nodes(&f));
        assert!(
            !f.documents.is_empty(),
            "documents before the limit are kept"
        );
        let finding = f
            .findings
            .iter()
            .find(|x| &*x.rule == codes::INPUT_LIMIT)
            .unwrap();
        assert!(finding.location.span.start.line > 1);
    }

    #[test]
    fn files_share_the_run_budget() {
        let doc = laughs(1_000);
        let run = RunBudget::new(30_000);
        let mut kept = 0;
        let mut refused = 0;
        for i in 0..20 {
            let f = load_source_in(
                format!("f{i}.yaml").into(),
                doc.clone().into_bytes(),
                &limits(),
                &run,
            );
            kept += nodes(&f);
            refused += limit_findings(&f);
        }
        assert!(kept <= 30_000, "{kept}");
        assert!(refused > 0);
    }

    #[test]
    fn duplicate_and_merge_keys_in_a_large_mapping_stay_linear() {
        // 200,000 keys with one duplicate and one merge key: quadratic handling would
        // be 4·10^10 key comparisons; the check only finishes if it is linear.
        let mut text = String::from("base: &b {m1: 1, m2: 2, k7: merged}\nbig:\n  <<: *b\n");
        for i in 0..200_000 {
            text.push_str(&format!("  k{i}: {i}\n"));
        }
        text.push_str("  k5: again\n");
        let f = load_source("big.yaml".into(), text.into_bytes(), &LoadLimits::default());
        let dups: Vec<_> = f
            .findings
            .iter()
            .filter(|x| &*x.rule == codes::DUPLICATE_KEY)
            .collect();
        assert_eq!(dups.len(), 1, "{:?}", f.findings);
        let big = f.documents[0].root.get("big").unwrap();
        assert_eq!(big.get("k5").unwrap().as_str(), Some("again"));
        assert_eq!(big.get("k7").unwrap().as_i64(), Some(7), "own keys win");
        assert_eq!(big.get("m2").unwrap().as_i64(), Some(2), "merged");
        assert_eq!(big.entries().len(), 200_002);
    }
}
