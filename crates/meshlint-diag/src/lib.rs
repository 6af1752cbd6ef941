//! The vocabulary every stage of meshlint speaks when it reports something:
//! source files with line tables, 1-based positions and spans, resource identities,
//! severities and [`Finding`]s. It owns no behaviour beyond converting positions and
//! the one spelling-suggestion rule every "did you mean" message uses ([`did_you_mean`]);
//! the loader produces spans, the rule engine produces findings, the reporter renders them.
#![forbid(unsafe_code)]

pub mod work;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// How bad a finding is. Ordered so that `Error > Warning > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 1-based line and 1-based column (counted in characters, as editors do).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A half-open range of positions in one source file.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn point(line: u32, column: u32) -> Span {
        let p = Pos { line, column };
        Span {
            start: p,
            end: Pos {
                line,
                column: column + 1,
            },
        }
    }
}

/// A span in a named file. `file` is the path as the user gave it (or `<stdin>`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: Arc<str>,
    pub span: Span,
}

/// Who a finding is about: the identity of a Kubernetes resource as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceId {
    /// Shared between the resources that write the same (the model interns them: a run
    /// has a handful of distinct API versions and kinds).
    pub api_version: Arc<str>,
    pub kind: Arc<str>,
    /// `None` when the YAML gives no namespace.
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// A secondary location that explains a finding (e.g. the policy that makes a port STRICT).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Rule id (`ML…`, `parse-error`, `schema-…`, or a user rule's id).
    pub rule: Arc<str>,
    /// Human-friendly rule slug, when the rule has one.
    pub rule_name: Option<Arc<str>>,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    pub resource: Option<ResourceId>,
    pub istio_code: Option<Arc<str>>,
    pub related: Vec<Related>,
    /// What to do instead, when the rule says it separately from the message.
    pub help: Option<String>,
    /// Stable digest of the offending field's content, used by baselines and SARIF
    /// fingerprints so that entries survive line moves.
    pub fingerprint: Option<String>,
}

impl Finding {
    pub fn new(
        rule: impl Into<Arc<str>>,
        severity: Severity,
        message: impl Into<String>,
        location: Location,
    ) -> Finding {
        Finding {
            rule: rule.into(),
            rule_name: None,
            severity,
            message: message.into(),
            location,
            resource: None,
            istio_code: None,
            related: Vec::new(),
            help: None,
            fingerprint: None,
        }
    }

    pub fn with_resource(mut self, resource: Option<ResourceId>) -> Finding {
        self.resource = resource;
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }

    /// Sort key giving the deterministic output order: file, line, column, rule.
    pub fn sort_key(&self) -> (&str, Pos, &str, &str) {
        (
            &self.location.file,
            self.location.span.start,
            &self.rule,
            &self.message,
        )
    }
}

/// Sorts findings into the documented output order and drops exact duplicates.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
}

/// The text of one input file plus a table of line starts, so positions can be turned
/// into byte offsets for renderers that want them.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: Arc<str>,
    pub text: Arc<str>,
    /// Built on first use: only files with findings or suppression comments need one,
    /// and then after the rules have run (the run's peak memory is during them).
    lines: std::sync::OnceLock<LineTable>,
}

/// Where each line starts, and which lines are all ASCII.
#[derive(Debug, Clone)]
struct LineTable {
    starts: Box<[u32]>,
    /// One bit per line: all ASCII, so a column is a byte offset (O(1) lookups on long
    /// lines such as minified JSON).
    ascii: Box<[u64]>,
}

/// The byte offset where each line of `text` starts (the first is 0), from one
/// vectorised scan for newlines. The loader splits documents with it; a [`SourceFile`]
/// keeps one only when a finding needs it.
pub fn line_starts(text: &str) -> Box<[u32]> {
    let newlines = memchr::memchr_iter(b'\n', text.as_bytes());
    std::iter::once(0)
        .chain(newlines.map(|i| i as u32 + 1))
        .collect()
}

impl LineTable {
    fn new(text: &str) -> LineTable {
        // One vectorised scan for the newlines, and for the usual all-ASCII text one
        // ASCII test (a byte-by-byte walk was 9 % of loading a large corpus when every
        // file built its table).
        let bytes = text.as_bytes();
        let starts = line_starts(text);
        let lines = starts.len();
        let mut ascii = vec![0u64; lines.div_ceil(64)];
        if text.is_ascii() {
            for line in 0..lines {
                ascii[line / 64] |= 1 << (line % 64);
            }
        } else {
            for (line, &start) in starts.iter().enumerate() {
                let end = starts
                    .get(line + 1)
                    .map_or(bytes.len(), |&e| e as usize - 1);
                if bytes[start as usize..end].is_ascii() {
                    ascii[line / 64] |= 1 << (line % 64);
                }
            }
        }
        LineTable {
            starts,
            ascii: ascii.into_boxed_slice(),
        }
    }

    fn is_ascii(&self, idx: usize) -> bool {
        self.ascii
            .get(idx / 64)
            .is_some_and(|w| w >> (idx % 64) & 1 == 1)
    }
}

impl SourceFile {
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
            lines: std::sync::OnceLock::new(),
        }
    }

    fn lines(&self) -> &LineTable {
        self.lines.get_or_init(|| LineTable::new(&self.text))
    }

    pub fn line_count(&self) -> usize {
        match self.lines.get() {
            Some(table) => table.starts.len(),
            // Counted without building the table: the loader asks every file.
            None => memchr::memchr_iter(b'\n', self.text.as_bytes()).count() + 1,
        }
    }

    /// The text of a 1-based line, without its line terminator.
    pub fn line_text(&self, line: u32) -> &str {
        let idx = line.saturating_sub(1) as usize;
        let starts = &self.lines().starts;
        let Some(&start) = starts.get(idx) else {
            return "";
        };
        let end = starts
            .get(idx + 1)
            .map(|&e| e as usize)
            .unwrap_or(self.text.len());
        self.text[start as usize..end].trim_end_matches(['\n', '\r'])
    }

    /// Byte offset of a position, clamped to the text.
    pub fn offset(&self, pos: Pos) -> usize {
        let idx = pos.line.saturating_sub(1) as usize;
        let Some(&start) = self.lines().starts.get(idx) else {
            return self.text.len();
        };
        let line = self.line_text(pos.line);
        let col = pos.column.saturating_sub(1) as usize;
        let within = if self.lines().is_ascii(idx) {
            col.min(line.len())
        } else {
            line.char_indices()
                .nth(col)
                .map(|(b, _)| b)
                .unwrap_or(line.len())
        };
        start as usize + within
    }

    /// Byte range of a span, never empty unless the text is.
    pub fn byte_range(&self, span: Span) -> std::ops::Range<usize> {
        let start = self.offset(span.start);
        let end = self.offset(span.end).max(start);
        if end == start && start < self.text.len() {
            let next = self.text[start..]
                .chars()
                .next()
                .map(|c| c.len_utf8())
                .unwrap_or(0);
            start..start + next
        } else {
            start..end
        }
    }
}

/// What kind of file system object `meta` describes, for messages.
pub fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        return "regular file";
    }
    if t.is_dir() {
        return "directory";
    }
    if t.is_symlink() {
        return "symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_char_device() {
            return "character device";
        }
        if t.is_block_device() {
            return "block device";
        }
    }
    "special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_lines_and_characters() {
        let f = SourceFile::new("a.yaml", "ab\nçd: x\n");
        assert_eq!(f.offset(Pos { line: 1, column: 1 }), 0);
        assert_eq!(f.offset(Pos { line: 2, column: 1 }), 3);
        // 'ç' is two bytes: column 2 starts after it.
        assert_eq!(f.offset(Pos { line: 2, column: 2 }), 5);
        assert_eq!(f.line_text(2), "çd: x");
        assert_eq!(f.byte_range(Span::point(1, 1)), 0..1);
        assert_eq!(f.line_count(), 3);
    }

    #[test]
    fn ascii_lines_are_told_apart_past_one_word_of_bits() {
        let mut text = "a\n".repeat(70);
        text.push_str("é\nb");
        let f = SourceFile::new("a.yaml", text);
        assert_eq!(f.line_count(), 72);
        assert!(f.lines.get().is_none(), "counting lines builds no table");
        assert!(f.lines().is_ascii(69));
        assert_eq!(f.line_count(), 72);
        assert!(!f.lines().is_ascii(70));
        assert!(f.lines().is_ascii(71));
        assert_eq!(
            f.offset(Pos {
                line: 71,
                column: 2
            }),
            142
        );
        assert_eq!(
            f.offset(Pos {
                line: 72,
                column: 2
            }),
            144
        );
    }

    #[test]
    fn severity_orders_by_gravity() {
        assert!(Severity::Error > Severity::Warning);
        assert!(Severity::Warning > Severity::Info);
        assert_eq!(Severity::parse("warning"), Some(Severity::Warning));
    }
}

/// What renderers need to know about a rule (SARIF rule table, docs links, explain).
/// Defined here so that the reporter does not depend on the rule engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub name: String,
    pub category: String,
    pub severity: Severity,
    pub summary: String,
    /// Full documentation in Markdown (what it catches, why it breaks, examples).
    pub help_markdown: String,
    pub istio_code: Option<String>,
    /// Where the rule's documentation page is (built-in rules), for SARIF `helpUri`.
    pub help_uri: Option<String>,
}

/// Totals printed at the end of a run and in the JSON `summary` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    pub files: usize,
    pub resources: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Inputs that could not be read (each also has an `unreadable-file` finding).
    /// Written to JSON only when not zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub unreadable: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    pub fn count(&mut self, findings: &[Finding]) {
        self.errors = 0;
        self.warnings = 0;
        self.infos = 0;
        for f in findings {
            match f.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
                Severity::Info => self.infos += 1,
            }
        }
    }
}

/// The closest candidate to `word`, if it is close enough to be a plausible typo: a
/// case-insensitive match first, else the best Jaro-Winkler score above 0.85. Schema
/// values and fields, configuration keys, CEL function names and namespaces all suggest
/// through this, so "did you mean" means the same everywhere.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(&str, f64)> = None;
    for c in work::Counted(candidates.into_iter()) {
        if c.to_ascii_lowercase() == lower {
            return Some(c);
        }
        let score = strsim::jaro_winkler(&lower, &c.to_ascii_lowercase());
        if score > 0.85 && best.is_none_or(|(_, s)| score > s) {
            best = Some((c, score));
        }
    }
    best.map(|(c, _)| c)
}
