//! A fast path for the block-style YAML that nearly every manifest is written in.
//!
//! The general parser (saphyr's event parser feeding `parse::TreeBuilder`) was about a
//! quarter of a large run's CPU. Most manifests use a small part of YAML: block mappings
//! and sequences, one-line plain and quoted scalars, comments, and one-line flow
//! collections such as `[]` or `["a", "b"]`. This module reads exactly that subset,
//! line by line, straight into [`Node`]s, with the spans the general parser gives.
//!
//! Anything outside the subset makes it give up on the document (`None`), and the caller
//! parses that document with the general parser, which also writes every finding: this
//! path never reports a problem itself. Giving up is always safe; accepting is only
//! allowed where the result is the general parser's tree, span for span. The
//! `differential` tests hold it to that on every YAML file of the repository and on
//! mutations of them. Outside the subset: anchors, aliases, tags, block scalars (`|`,
//! `>`), scalars or flow collections over several lines, escapes in quoted text, complex
//! keys, directives, tabs, carriage returns, duplicate and merge keys.

use crate::node::{Node, NodeValue, Scalar};
use crate::parse::{needs_finishing, Chunk, LoadLimits};
use meshlint_diag::{Pos, Span};

/// Longest implicit mapping key YAML allows, in characters up to its `:`.
const MAX_IMPLICIT_KEY: usize = 1024;

/// Longest non-ASCII line the fast path reads (see `parse_document`).
const MAX_NON_ASCII_LINE: usize = 2048;

/// Buffers one file's documents reuse, one after the other (most files hold many small
/// documents, and growing these afresh for each was a good part of the reading).
#[derive(Default)]
pub(crate) struct Scratch<'a> {
    lines: Vec<Line<'a>>,
    items: Vec<Node>,
    entries: Vec<(crate::Key, Node)>,
}

/// The tree of one document (a chunk of a stream holding at most one document marker,
/// at its start) and its node count (keys included, as the general parser counts), or
/// `None` when the document is not in the subset, is empty, or exceeds a budget.
pub(crate) fn parse_document<'a>(
    chunk: &Chunk<'a>,
    limits: &LoadLimits,
    scratch: &mut Scratch<'a>,
) -> Option<(Node, usize)> {
    // Tabs, carriage returns, NUL (unprintable to YAML) and 0xEF, the first byte of a
    // byte-order mark, which must not appear inside a document (and of a few other
    // rare characters, declined with it): the general parser reports or handles them.
    if chunk
        .text
        .bytes()
        .any(|b| matches!(b, b'\t' | b'\r' | 0 | 0xEF))
    {
        return None;
    }
    let line_offset = chunk.line_offset;
    let lines = &mut scratch.lines;
    lines.clear();
    for (index, raw) in chunk.lines().enumerate() {
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        let content = &raw[indent..];
        if index == 0 && (raw == "---" || raw.starts_with("--- ")) {
            let rest = raw[3..].trim_start_matches(' ');
            if !rest.is_empty() && !rest.starts_with('#') {
                return None;
            }
            continue;
        }
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if indent == 0 && (content.starts_with('%') || content.starts_with("...")) {
            return None;
        }
        let ascii = raw.is_ascii();
        // A column on a non-ASCII line is counted in characters from the line's start:
        // on a long one (a minified flow collection) that would grow with the square of
        // its length. The general parser reads such lines in one pass.
        if !ascii && raw.len() > MAX_NON_ASCII_LINE {
            return None;
        }
        lines.push(Line {
            number: line_offset + index as u32 + 1,
            raw,
            start: indent,
            ascii,
        });
    }
    if lines.is_empty() {
        return None;
    }
    let mut parser = BlockParser {
        lines: std::mem::take(lines),
        at: 0,
        nodes: 0,
        depth: 0,
        items: std::mem::take(&mut scratch.items),
        entries: std::mem::take(&mut scratch.entries),
        max_nodes: limits.max_nodes_per_document,
        // The general parser refuses a collection opened at this depth; leave such
        // documents (and their finding) to it.
        max_depth: limits.max_depth,
    };
    let root = parser.block(None);
    let done = parser.at == parser.lines.len();
    // A declined document can leave items behind; the next one starts empty.
    parser.items.clear();
    parser.entries.clear();
    scratch.lines = parser.lines;
    scratch.items = parser.items;
    scratch.entries = parser.entries;
    root.filter(|_| done).map(|root| (root, parser.nodes))
}

/// A line with content (blank and comment-only lines are skipped).
#[derive(Clone, Copy)]
struct Line<'a> {
    /// 1-based line number in the file.
    number: u32,
    raw: &'a str,
    /// Where the unread content starts: the indentation at first, then past `- ` when a
    /// sequence entry holds a node on its own line (`- name: x` is a mapping whose
    /// indentation is that of `name`). Only spaces and dashes precede it, so it is also
    /// the column (0-based) in characters.
    start: usize,
    ascii: bool,
}

impl Line<'_> {
    fn content(&self) -> &str {
        &self.raw[self.start..]
    }

    /// 1-based column, in characters, of byte `offset` of the line.
    fn column(&self, offset: usize) -> u32 {
        let chars = if self.ascii {
            offset
        } else {
            self.raw[..offset].chars().count()
        };
        chars as u32 + 1
    }

    fn pos(&self, offset: usize) -> Pos {
        Pos {
            line: self.number,
            column: self.column(offset),
        }
    }

    /// The span of `text`, written at byte `offset` of the line.
    fn span(&self, offset: usize, text: &str) -> Span {
        let start = self.pos(offset);
        let chars = if self.ascii {
            text.len()
        } else {
            text.chars().count()
        };
        Span {
            start,
            end: Pos {
                line: self.number,
                column: start.column + chars as u32,
            },
        }
    }
}

struct BlockParser<'a> {
    lines: Vec<Line<'a>>,
    /// The next unread line.
    at: usize,
    nodes: usize,
    depth: usize,
    /// Items and entries of the collections being read, innermost last: each
    /// collection is moved out into a slice of its exact size when it ends (one
    /// allocation, where a growing vector of its own would take several).
    items: Vec<Node>,
    entries: Vec<(crate::Key, Node)>,
    max_nodes: usize,
    max_depth: usize,
}

impl<'a> BlockParser<'a> {
    fn node(&mut self, span: Span, value: NodeValue) -> Option<Node> {
        self.counted(|| Node::new(span, value))
    }

    /// A non-empty collection, which ends where its last item ends.
    fn collection(&mut self, start: Pos, value: NodeValue) -> Option<Node> {
        self.counted(|| Node::ending_with_last_item(start, value))
    }

    /// One more node against the document's budget.
    fn counted(&mut self, make: impl FnOnce() -> Node) -> Option<Node> {
        self.nodes += 1;
        (self.nodes <= self.max_nodes).then(make)
    }

    fn key(&mut self, span: Span, text: &str, plain: bool) -> Option<crate::Key> {
        self.nodes += 1;
        (self.nodes <= self.max_nodes).then(|| crate::Key::new(span, text, plain))
    }

    fn scalar(&mut self, span: Span, text: &str, plain: bool) -> Option<Node> {
        self.node(span, NodeValue::Scalar(Scalar::new(text, plain)))
    }

    fn indent(&self) -> Option<usize> {
        self.lines.get(self.at).map(|l| l.start)
    }

    /// The node whose first line is the next line, nested in a collection whose
    /// entries are indented `parent` (`None` at the top of the document).
    fn block(&mut self, parent: Option<usize>) -> Option<Node> {
        let line = self.lines[self.at];
        if is_sequence_entry(line.content()) {
            return self.sequence(line.start, false);
        }
        if mapping_key(&line).is_some() {
            return self.mapping(line.start);
        }
        // A scalar or flow collection alone on its line: a following line indented
        // more than the parent would continue it over several lines.
        let node = self.inline_value(&line, line.start)?;
        self.at += 1;
        match (self.indent(), parent) {
            (None, _) => Some(node),
            (Some(next), Some(parent)) if next <= parent => Some(node),
            _ => None,
        }
    }

    /// The next line when it continues a collection whose entries are indented
    /// `indent`: `Some(None)` where the collection ends (no line, or one indented less),
    /// `None` (decline) for a line indented more, which no entry here can hold.
    fn entry_line(&self, indent: usize) -> Option<Option<Line<'a>>> {
        match self.lines.get(self.at) {
            Some(line) if line.start > indent => None,
            Some(line) if line.start == indent => Some(Some(*line)),
            _ => Some(None),
        }
    }

    fn open(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth < self.max_depth).then_some(())
    }

    /// A block sequence whose dashes are indented `indent`; `at_key_indent` when it is a
    /// mapping value written at its key's indentation.
    fn sequence(&mut self, indent: usize, at_key_indent: bool) -> Option<Node> {
        self.open()?;
        // The general parser starts a sequence written at its key's indentation after
        // the first dash, not at it.
        let mut start = self.lines[self.at].pos(indent);
        let first = self.items.len();
        while let Some(line) = self.entry_line(indent)? {
            let content = line.content();
            if !is_sequence_entry(content) {
                break;
            }
            let after_dash = 1 + (content[1..].len() - content[1..].trim_start_matches(' ').len());
            let rest = &content[after_dash..];
            let empty = rest.is_empty() || rest.starts_with('#');
            // Where the general parser's scanner is after the dash: at the item, or at
            // the end of the line when the item starts on the next one.
            let after_dash = if empty {
                line.raw.len() - line.start
            } else {
                after_dash
            };
            if self.items.len() == first && at_key_indent {
                start = line.pos(line.start + after_dash);
            }
            let item = if empty {
                // `-` with nothing after it: the item is on the next lines, or null at
                // the end of this line.
                let end_of_line = line.pos(line.raw.len());
                self.at += 1;
                match self.indent() {
                    Some(next) if next > indent => self.block(Some(indent))?,
                    _ => self.scalar(empty_at(end_of_line), "", true)?,
                }
            } else {
                self.lines[self.at].start = indent + after_dash;
                self.block(Some(indent))?
            };
            self.items.push(item);
        }
        self.depth -= 1;
        if self.items.len() == first {
            return None;
        }
        let items = crate::List::from_drain(self.items.drain(first..));
        self.collection(start, NodeValue::Seq(items))
    }

    fn mapping(&mut self, indent: usize) -> Option<Node> {
        self.open()?;
        let start = self.lines[self.at].pos(indent);
        let first = self.entries.len();
        while let Some(line) = self.entry_line(indent)? {
            let key = mapping_key(&line)?;
            let (key_text, plain, colon) = (key.text, key.plain, key.colon);
            let key_span = line.span(line.start, &line.raw[line.start..line.start + key.written]);
            let colon_pos = line.pos(colon);
            let value_offset = colon + 1;
            let value_text = line.raw[value_offset..].trim_start_matches(' ');
            let value_offset = line.raw.len() - value_text.len();
            let key = self.key(key_span, key_text, plain)?;
            let value = if value_text.is_empty() || value_text.starts_with('#') {
                self.at += 1;
                match self.lines.get(self.at) {
                    Some(next) if next.start > indent => self.block(Some(indent))?,
                    // A sequence may sit at its key's indentation.
                    Some(next) if next.start == indent && is_sequence_entry(next.content()) => {
                        self.sequence(indent, true)?
                    }
                    // The general parser puts an empty value at the `:`.
                    _ => self.scalar(empty_at(colon_pos), "", true)?,
                }
            } else {
                let value = self.inline_value(&line, value_offset)?;
                self.at += 1;
                if self.indent().is_some_and(|next| next > indent) {
                    return None;
                }
                value
            };
            self.entries.push((key, value));
        }
        self.depth -= 1;
        let entries = &self.entries[first..];
        if needs_finishing(entries) {
            return None;
        }
        if entries.is_empty() {
            return None;
        }
        let entries = crate::List::from_drain(self.entries.drain(first..));
        self.collection(start, NodeValue::Map(entries))
    }

    /// A value written on one line from byte `offset`: a plain or quoted scalar or a
    /// flow collection, followed by nothing but an optional comment.
    fn inline_value(&mut self, line: &Line<'_>, offset: usize) -> Option<Node> {
        let text = &line.raw[offset..];
        let (node, used) = match text.as_bytes()[0] {
            b'"' | b'\'' => {
                let (value, used) = quoted(text)?;
                (
                    self.scalar(line.span(offset, &text[..used]), value, false)?,
                    used,
                )
            }
            b'[' | b'{' => self.flow(line, offset)?,
            _ => {
                let value = block_plain(text)?;
                (
                    self.scalar(line.span(offset, value), value, true)?,
                    value.len(),
                )
            }
        };
        only_comment_after(&text[used..]).then_some(node)
    }

    /// A flow sequence or mapping closed on its line, holding only scalars. Returns the
    /// node and the bytes it used.
    fn flow(&mut self, line: &Line<'_>, offset: usize) -> Option<(Node, usize)> {
        self.open()?;
        let text = &line.raw[offset..];
        let is_map = text.starts_with('{');
        let close = if is_map { '}' } else { ']' };
        let start = line.pos(offset);
        let mut at = 1 + skip_spaces(&text[1..]);
        let mut items = Vec::new();
        let mut entries = Vec::new();
        if !text[at..].starts_with(close) {
            loop {
                let (first, used) = self.flow_scalar(line, offset + at)?;
                at += used;
                at += skip_spaces(&text[at..]);
                if is_map {
                    // `key: value`; a key without a value is outside the subset.
                    if !text[at..].starts_with(": ") {
                        return None;
                    }
                    at += 1 + skip_spaces(&text[at + 1..]);
                    let (value, used) = self.flow_scalar(line, offset + at)?;
                    at += used;
                    at += skip_spaces(&text[at..]);
                    entries.push((crate::Key::from_node(&first), value));
                } else {
                    items.push(first);
                }
                match text.as_bytes().get(at)? {
                    b',' => {
                        at += 1 + skip_spaces(&text[at + 1..]);
                        // A trailing comma is outside the subset.
                        if text[at..].starts_with(close) {
                            return None;
                        }
                    }
                    b if *b == close as u8 => break,
                    _ => return None,
                }
            }
        }
        at += 1;
        self.depth -= 1;
        // An empty collection ends where the general parser's next token starts, which
        // is past a comment on the same line: only take it at the end of its line.
        if items.is_empty() && entries.is_empty() && offset + at != line.raw.len() {
            return None;
        }
        let written_end = line.pos(offset + at);
        let node = if is_map {
            if needs_finishing(&entries) {
                return None;
            }
            let end = entries.last().map_or(written_end, |(_, v)| v.span().end);
            self.node(
                Span { start, end },
                NodeValue::Map(crate::List::new(entries)),
            )?
        } else {
            let end = items.last().map_or(written_end, |v: &Node| v.span().end);
            self.node(Span { start, end }, NodeValue::Seq(crate::List::new(items)))?
        };
        Some((node, at))
    }

    /// A scalar inside a flow collection, from byte `offset` of the line, and the bytes
    /// it used.
    fn flow_scalar(&mut self, line: &Line<'_>, offset: usize) -> Option<(Node, usize)> {
        let text = &line.raw[offset..];
        match *text.as_bytes().first()? {
            b'"' | b'\'' => {
                let (value, used) = quoted(text)?;
                let node = self.scalar(line.span(offset, &text[..used]), value, false)?;
                Some((node, used))
            }
            _ => {
                let value = flow_plain(text)?;
                let node = self.scalar(line.span(offset, value), value, true)?;
                Some((node, value.len()))
            }
        }
    }
}

/// The empty span the general parser gives a value that is not written.
fn empty_at(at: Pos) -> Span {
    Span { start: at, end: at }
}

fn is_sequence_entry(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// Characters that cannot start a plain scalar (YAML's indicators), except `-`, `?` and
/// `:`, which can when a non-space follows.
fn is_indicator(b: u8) -> bool {
    matches!(
        b,
        b'[' | b']'
            | b'{'
            | b'}'
            | b','
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// Whether `text` may start a plain scalar.
fn starts_plain(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes.first() {
        None => false,
        Some(b'-' | b'?' | b':') => bytes.get(1).is_some_and(|b| *b != b' '),
        Some(b) => !is_indicator(*b),
    }
}

/// The key of a line that is a mapping entry (it starts where the line's content does).
struct Key<'l> {
    text: &'l str,
    plain: bool,
    /// Bytes written, quotes included.
    written: usize,
    /// Byte offset of the `:` in the line.
    colon: usize,
}

fn mapping_key<'l>(line: &Line<'l>) -> Option<Key<'l>> {
    let raw = line.raw;
    let content = &raw[line.start..];
    let first = *content.as_bytes().first()?;
    if first == b'"' || first == b'\'' {
        let (text, used) = quoted(content)?;
        let after = &content[used..];
        let spaces = skip_spaces(after);
        let colon = line.start + used + spaces;
        let short = used + spaces <= MAX_IMPLICIT_KEY;
        return (short && is_separator(&raw[colon..])).then_some(Key {
            text,
            plain: false,
            written: used,
            colon,
        });
    }
    if !starts_plain(content) {
        return None;
    }
    let bytes = content.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'#' if bytes[i - 1] == b' ' => return None,
            // YAML limits an implicit key to 1,024 characters (bytes are never fewer).
            b':' if is_separator(&content[i..]) && i <= MAX_IMPLICIT_KEY => {
                let text = content[..i].trim_end_matches(' ');
                return Some(Key {
                    text,
                    plain: true,
                    written: text.len(),
                    colon: line.start + i,
                });
            }
            _ => {}
        }
    }
    None
}

/// `:` followed by a space or the end of the line.
fn is_separator(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first() == Some(&b':') && bytes.get(1).is_none_or(|b| *b == b' ')
}

/// A plain scalar in block context: up to a comment or the end of the line, without
/// trailing spaces. `None` when it is not one (or would be a mapping on the same line).
fn block_plain(text: &str) -> Option<&str> {
    if !starts_plain(text) {
        return None;
    }
    // One pass over the bytes (a substring search per scalar cost more than the scan):
    // the value ends at a comment, and a `: ` before it would start a mapping.
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    for (i, pair) in bytes.windows(2).enumerate() {
        match pair {
            [b' ', b'#'] => {
                end = i;
                break;
            }
            [b':', b' '] => return None,
            _ => {}
        }
    }
    let value = text[..end].trim_end_matches(' ');
    (!value.ends_with(':')).then_some(value)
}

/// A plain scalar in a flow collection: up to `,`, `]`, `}` or a comment, without
/// trailing spaces.
fn flow_plain(text: &str) -> Option<&str> {
    if !starts_plain(text) {
        return None;
    }
    let bytes = text.as_bytes();
    let is_flow_indicator = |b: Option<&u8>| matches!(b, Some(b',' | b'[' | b']' | b'{' | b'}'));
    let mut end = bytes.len();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b',' | b']' | b'}' | b'[' | b'{' => {
                end = i;
                break;
            }
            b'#' if i > 0 && bytes[i - 1] == b' ' => return None,
            b':' if bytes
                .get(i + 1)
                .is_none_or(|n| matches!(n, b' ' | b',' | b']' | b'}')) =>
            {
                end = i;
                break;
            }
            // `-` or `?` before a flow indicator is an error to YAML where it would start
            // a scalar (`[-]`, `[a -]`); anywhere in a scalar it is left to the general
            // parser, which knows where a scalar may start.
            b'-' | b'?' if is_flow_indicator(bytes.get(i + 1)) => return None,
            _ => {}
        }
    }
    let value = text[..end].trim_end_matches(' ');
    (!value.is_empty()).then_some(value)
}

/// A quoted scalar that closes on its line and holds nothing a quote would have to
/// escape: its text and the bytes it used, quotes included. Escapes, doubled quotes and
/// control characters are outside the subset (the general parser's span of such a
/// scalar is not simply the written text).
fn quoted(text: &str) -> Option<(&str, usize)> {
    let quote = text.as_bytes()[0];
    let body = &text[1..];
    let close = body.find(quote as char)?;
    let value = &body[..close];
    let clean = !value
        .chars()
        .any(|c| matches!(c, '"' | '\\' | '\'') || c.is_control());
    if !clean || body[close + 1..].starts_with(quote as char) {
        return None;
    }
    Some((value, close + 2))
}

fn skip_spaces(text: &str) -> usize {
    text.len() - text.trim_start_matches(' ').len()
}

/// Nothing, spaces, or spaces then a comment.
fn only_comment_after(rest: &str) -> bool {
    let trimmed = rest.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())
}

#[cfg(test)]
mod differential;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::split_documents;
    use meshlint_diag::line_starts;

    /// Whether the fast path takes the (single-document) text.
    fn takes(text: &str) -> bool {
        let starts = line_starts(text);
        let chunks = split_documents(text, &starts);
        let mut scratch = Scratch::default();
        parse_document(&chunks[0], &LoadLimits::default(), &mut scratch).is_some()
    }

    #[test]
    fn takes_an_ordinary_manifest() {
        assert!(takes(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web # the front\n  labels: {app: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: main\n        args: [\"--port\", '8080']\n        ports:\n        - containerPort: 8080\n"
        ));
    }

    #[test]
    fn leaves_what_is_outside_the_subset_to_the_general_parser() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: |\n  text\n",
            "a: >-\n  folded\n",
            "a:\tb\n",
            "a: one\n  two\n",
            "a: \"esc\\n\"\n",
            "a: [1,\n  2]\n",
            "a: 1\na: 2\n",
            "<<: {a: 1}\n",
            "? complex\n: key\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: !!str 1\n",
            "a: b: c\n",
            "a: [b, ]\n",
            // Found in review: each is an error or a merge to the general parser.
            "x: y\n\u{feff}z: 1\n",
            "a: b\0c\n",
            "args: [cat, -]\n",
            "a: {a: -}\n",
            "a: {<<: b, c: d}\n",
        ] {
            assert!(!takes(text), "{text:?}");
        }
    }

    #[test]
    fn implicit_keys_longer_than_yaml_allows_are_declined() {
        let key = "k".repeat(1024);
        assert!(takes(&format!("{key}: v\n")));
        assert!(takes(&format!("- {key}: v\n")));
        let key = "k".repeat(1025);
        assert!(!takes(&format!("{key}: v\n")));
        assert!(!takes(&format!("\"{key}\": v\n")));
        assert!(!takes(&format!("- {key}: v\n")));
    }

    #[test]
    fn declines_a_long_line_whose_columns_would_be_counted_over_and_over() {
        let items: Vec<String> = (0..5000).map(|i| format!("é{i}")).collect();
        let text = format!("a: [{}]\n", items.join(", "));
        assert!(!takes(&text));
        // The same line in ASCII: a column is a byte offset, and the line is taken.
        let text = text.replace('é', "e");
        assert!(takes(&text));
    }
}
