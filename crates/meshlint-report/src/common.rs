//! Helpers shared by the formats: ordering, fingerprints, small text utilities.

use meshlint_diag::{Finding, ResourceId, Severity, SourceFile};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// The findings in [`Finding::sort_key`] order (stable for equal keys).
pub(crate) fn sorted(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    v
}

/// The API group of an `apiVersion` (`networking.istio.io/v1beta1` → `networking.istio.io`,
/// `v1` → ``), so that moving a resource to a newer API version keeps its identity.
pub(crate) fn api_group(api_version: &str) -> &str {
    match api_version.rfind('/') {
        Some(i) => &api_version[..i],
        None => "",
    }
}

/// A 128-bit hex digest (32 lowercase hex digits) of `parts`, separated unambiguously.
pub(crate) fn digest_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let out = h.finalize();
    out[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// A fingerprint of a finding that does not depend on where in the file it is: a digest of
/// the rule id, the file name, the resource identity (API group, kind, namespace, name —
/// not the API version) and the content the finding is about, which is
/// [`Finding::fingerprint`] when the rule set one, else the trimmed text of the finding's
/// first line in `source`, else the message. Line and column never enter it.
///
/// Two findings can share a fingerprint (the same rule on two identical lines of one
/// resource); the SARIF and Code Climate writers add an occurrence number to tell them apart.
pub fn stable_fingerprint(finding: &Finding, source: Option<&SourceFile>) -> String {
    let (group, kind, ns, name) = match &finding.resource {
        Some(ResourceId {
            api_version,
            kind,
            namespace,
            name,
        }) => (
            api_group(api_version),
            &**kind,
            namespace.as_deref().unwrap_or(""),
            name.as_str(),
        ),
        None => ("", "", "", ""),
    };
    let content: String = match (&finding.fingerprint, source) {
        (Some(fp), _) => format!("fingerprint:{fp}"),
        (None, Some(src)) => {
            let start = finding.location.span.start;
            let line = src.line_text(start.line).trim();
            if line.len() <= LONG_LINE {
                format!("line:{line}")
            } else {
                // A long line (minified JSON): the text at the finding, so the cost per
                // finding does not grow with the line.
                let whole = src.line_text(start.line);
                let line_start = src.offset(meshlint_diag::Pos {
                    line: start.line,
                    column: 1,
                });
                let at = src
                    .offset(start)
                    .saturating_sub(line_start)
                    .min(whole.len());
                let mut end = (at + LONG_LINE / 2).min(whole.len());
                while !whole.is_char_boundary(end) {
                    end -= 1;
                }
                format!("window:{}", &whole[at..end])
            }
        }
        (None, None) => format!("message:{}", finding.message),
    };
    digest_hex(&[
        "meshlint/v1",
        &finding.rule,
        &finding.location.file,
        group,
        kind,
        ns,
        name,
        &content,
    ])
}

/// Lines longer than this (bytes, trimmed) are fingerprinted by a window at the finding.
const LONG_LINE: usize = 512;

/// For each finding (in the given order), its [`stable_fingerprint`] and its 1-based
/// occurrence among earlier findings with the same fingerprint.
pub(crate) fn fingerprints(
    findings: &[&Finding],
    sources: &HashMap<Arc<str>, SourceFile>,
) -> Vec<(String, usize)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let fp = stable_fingerprint(f, sources.get(&f.location.file));
            let n = seen.entry(fp.clone()).or_insert(0);
            *n += 1;
            (fp, *n)
        })
        .collect()
}

/// `error` / `warning` / `note`: the gcc and SARIF word for a severity.
pub(crate) fn gcc_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The text on one line: line breaks and tabs become spaces; other control characters
/// (ESC, NUL, C1 controls, bidirectional overrides) become visible `\u{…}` escapes, so
/// nothing a file or a rule wrote can drive a terminal or start a new log line.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\n' | '\t' => out.push(' '),
            c if is_unsafe_char(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Characters that must never reach a terminal or a CI log as they are: every Unicode
/// control character (C0, DEL, C1) and the bidirectional formatting characters, which can
/// make a line display as something else than it is.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            use std::fmt::Write;
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Writes `value` as pretty JSON in which every [`is_unsafe_char`] is a `\uXXXX` escape
/// (serde_json escapes only C0 controls): the document means the same, and printing it
/// in a CI log cannot emit DEL, C1 controls or bidirectional overrides.
pub fn write_safe_json<T: serde::Serialize + ?Sized>(
    out: &mut dyn std::io::Write,
    value: &T,
) -> std::io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, SafeJson::default());
    value.serialize(&mut ser).map_err(std::io::Error::other)
}

#[derive(Default)]
struct SafeJson<'a>(serde_json::ser::PrettyFormatter<'a>);

impl serde_json::ser::Formatter for SafeJson<'_> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut last = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe_char(c) {
                w.write_all(&fragment.as_bytes()[last..i])?;
                write!(w, "\\u{:04x}", c as u32)?;
                last = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[last..])
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// A name (a file name, a rule id) as one line of safe text: every unsafe character,
/// line breaks included, becomes a visible escape (`\n`, `\u{1b}`).
pub fn escape_name(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Multi-line text for a renderer that indents every line it prints (the human format):
/// line breaks stay, every other unsafe character becomes a visible escape.
pub(crate) fn escape_keep_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe_char(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push('\n'),
            '\r' if chars.peek() == Some(&'\n') => {}
            c if is_unsafe_char(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshlint_diag::{Location, Span};

    fn finding(line: u32) -> Finding {
        Finding::new(
            "ML001",
            Severity::Error,
            "bad",
            Location {
                file: "a.yaml".into(),
                span: Span::point(line, 3),
            },
        )
        .with_resource(Some(ResourceId {
            api_version: "networking.istio.io/v1beta1".into(),
            kind: "DestinationRule".into(),
            namespace: Some("default".into()),
            name: "reviews".into(),
        }))
    }

    #[test]
    fn fingerprint_ignores_line_moves_and_api_version() {
        let before = SourceFile::new("a.yaml", "a: 1\n  mode: DISABLE\n");
        let after = SourceFile::new("a.yaml", "# moved\na: 1\n\n    mode: DISABLE\n");
        let fa = stable_fingerprint(&finding(2), Some(&before));
        let fb = stable_fingerprint(&finding(4), Some(&after));
        assert_eq!(fa, fb);
        assert_eq!(fa.len(), 32);
        assert!(fa.chars().all(|c| c.is_ascii_hexdigit()));

        let mut v1 = finding(4);
        v1.resource.as_mut().unwrap().api_version = "networking.istio.io/v1".into();
        assert_eq!(stable_fingerprint(&v1, Some(&after)), fb);

        // A different offending text, rule or resource changes it.
        let changed = SourceFile::new("a.yaml", "a: 1\n  mode: SIMPLE\n");
        assert_ne!(stable_fingerprint(&finding(2), Some(&changed)), fa);
        let mut other = finding(2);
        other.rule = "ML002".into();
        assert_ne!(stable_fingerprint(&other, Some(&before)), fa);
        let mut renamed = finding(2);
        renamed.resource.as_mut().unwrap().name = "ratings".into();
        assert_ne!(stable_fingerprint(&renamed, Some(&before)), fa);
    }

    #[test]
    fn explicit_fingerprint_wins_over_line_text() {
        let src = SourceFile::new("a.yaml", "a: 1\n  mode: DISABLE\n");
        let mut f = finding(2);
        f.fingerprint = Some("abc".into());
        let other_src = SourceFile::new("a.yaml", "a: 1\n  mode: SOMETHING ELSE\n");
        assert_eq!(
            stable_fingerprint(&f, Some(&src)),
            stable_fingerprint(&f, Some(&other_src))
        );
    }

    #[test]
    fn occurrences_count_duplicates() {
        let src = SourceFile::new("a.yaml", "x\n  mode: DISABLE\n  mode: DISABLE\n");
        let mut sources = HashMap::new();
        sources.insert(Arc::<str>::from("a.yaml"), src);
        let a = finding(2);
        let b = finding(3);
        let fps = fingerprints(&[&a, &b], &sources);
        assert_eq!(fps[0].0, fps[1].0);
        assert_eq!((fps[0].1, fps[1].1), (1, 2));
    }

    #[test]
    fn one_line_replaces_breaks() {
        assert_eq!(one_line("a\r\nb\nc\td"), "a b c d");
        assert_eq!(one_line("a\u{1b}[31mb\u{202e}"), "a\\u{1b}[31mb\\u{202e}");
        assert_eq!(escape_name("x\n::error file=a::b"), "x\\n::error file=a::b");
        assert_eq!(escape_name("plain.yaml"), "plain.yaml");
        assert_eq!(escape_keep_lines("a\nb\u{7}"), "a\nb\\u{7}");
        assert_eq!(api_group("v1"), "");
        assert_eq!(api_group("apps/v1"), "apps");
    }
}
