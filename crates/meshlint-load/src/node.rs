//! The spanned tree the loader produces.

use crate::key::Key;
use crate::list::{Ends, List};
use meshlint_diag::{Pos, Span};

/// A YAML node and where it was written.
///
/// 20 bytes: the node keeps where it starts, in four bytes, and its value where it ends
/// (a scalar as a width on the same line, a collection in its list's allocation), so
/// that the span is stored once and read with [`Node::span`]. A start beyond what four
/// bytes hold (line 2^20 or column 2^12 and later) is kept, with the end, at the head of
/// the value's allocation. Replace a node's value with [`Node::set_value`], which keeps
/// the span.
#[derive(Clone, PartialEq)]
pub struct Node {
    start: Start,
    pub value: NodeValue,
}

/// Where a node starts: line and column packed in one `u32` when they fit, else a mark
/// that the node's value keeps the start.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Start(u32);

impl Start {
    const COLUMN_BITS: u32 = 12;
    pub(crate) const KEPT_BY_VALUE: Start = Start(u32::MAX);

    pub(crate) fn of(pos: Pos) -> Start {
        let fits =
            pos.line < 1 << (32 - Start::COLUMN_BITS) && pos.column < 1 << Start::COLUMN_BITS;
        let packed = pos.line << Start::COLUMN_BITS | pos.column;
        if fits && packed != Start::KEPT_BY_VALUE.0 {
            Start(packed)
        } else {
            Start::KEPT_BY_VALUE
        }
    }

    pub(crate) fn pos(self) -> Option<Pos> {
        (self != Start::KEPT_BY_VALUE).then_some(Pos {
            line: self.0 >> Start::COLUMN_BITS,
            column: self.0 & ((1 << Start::COLUMN_BITS) - 1),
        })
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("span", &self.span())
            .field("value", &self.value)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Scalar(Scalar),
    /// [`List`]s, not vectors or boxed slices: a tree is built once and never grows, and
    /// a 12-byte list lets the enum's tag live in the scalar, so a value is 16 bytes.
    /// The list also holds where the collection ends.
    Seq(List<Node>),
    /// Entries in source order; keys keep their own spans so a field can be pointed at.
    Map(List<(Key, Node)>),
}

/// A scalar as written. Plain (unquoted) scalars are resolved by the YAML 1.2 core
/// schema on demand; quoted and block scalars are always strings.
///
/// 16 bytes, so that a [`Node`] is 20 (the tree is the bulk of meshlint's memory): texts
/// of up to [`Scalar::INLINE`] bytes (most keys and values of real manifests) are stored
/// inline, longer ones in one heap allocation. A scalar in a node also keeps where it
/// ends: as its width when it ends on the line it starts on, else (a block scalar, a
/// folded one, a line longer than 65,535 characters) at the head of its heap text; a
/// scalar whose node cannot keep its start keeps start and end there. The last byte says
/// which form, and its unused values hold [`NodeValue`]'s tag.
#[repr(C)]
pub struct Scalar {
    payload: Payload,
    /// Columns from the start to the end, when `form` is not [`Form::Wide`] or
    /// [`Form::Far`].
    width: u16,
    plain: bool,
    form: Form,
}

#[repr(C)]
#[derive(Clone, Copy)]
union Payload {
    /// `len` bytes of UTF-8 text, then zeros.
    inline: [u8; Scalar::INLINE],
    heap: HeapText,
}

/// A heap text: for [`Form::Heap`] a leaked `Box<str>`; for [`Form::Wide`] and
/// [`Form::Far`] an allocation of [`headed_layout`]'s kind holding the end position (far:
/// the start, then the end), then the text. `Scalar`'s `Drop` frees each.
#[repr(C, packed)]
#[derive(Clone, Copy)]
struct HeapText {
    ptr: *mut u8,
    len: u32,
}

/// How the text is stored: inline with its length, on the heap, or on the heap after
/// the end position (wide) or the start and end positions (far).
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Inline0,
    Inline1,
    Inline2,
    Inline3,
    Inline4,
    Inline5,
    Inline6,
    Inline7,
    Inline8,
    Inline9,
    Inline10,
    Inline11,
    Inline12,
    Heap,
    Wide,
    Far,
}

impl Form {
    /// The positions kept before the text.
    fn positions(self) -> usize {
        match self {
            Form::Wide => 1,
            Form::Far => 2,
            _ => 0,
        }
    }
}

const INLINE_FORMS: [Form; Scalar::INLINE + 1] = [
    Form::Inline0,
    Form::Inline1,
    Form::Inline2,
    Form::Inline3,
    Form::Inline4,
    Form::Inline5,
    Form::Inline6,
    Form::Inline7,
    Form::Inline8,
    Form::Inline9,
    Form::Inline10,
    Form::Inline11,
    Form::Inline12,
];

const POS_BYTES: usize = std::mem::size_of::<Pos>();

/// The allocation of a text of `len` bytes after `positions` positions.
fn headed_layout(positions: usize, len: usize) -> Layout {
    let size = len
        .checked_add(positions * POS_BYTES)
        .expect("a scalar's size fits in memory");
    Layout::from_size_align(size, std::mem::align_of::<Pos>()).expect("a scalar's size fits")
}

use std::alloc::Layout;

// SAFETY: a `Scalar` owns its heap text uniquely (as a `Box<str>` would) and writes it
// only through `&mut self`.
unsafe impl Send for Scalar {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Scalar {}

impl Scalar {
    /// Longest text stored without a heap allocation.
    pub const INLINE: usize = 12;

    /// Panics only for a text of 4 GiB or more, which the loader's file-size limit
    /// rules out.
    pub fn new(text: &str, plain: bool) -> Scalar {
        if text.len() <= Scalar::INLINE {
            let mut inline = [0u8; Scalar::INLINE];
            inline[..text.len()].copy_from_slice(text.as_bytes());
            Scalar {
                payload: Payload { inline },
                width: 0,
                plain,
                form: INLINE_FORMS[text.len()],
            }
        } else {
            let len = u32::try_from(text.len()).expect("a scalar shorter than 4 GiB");
            let boxed: Box<str> = text.into();
            let ptr = Box::leak(boxed).as_mut_ptr();
            Scalar {
                payload: Payload {
                    heap: HeapText { ptr, len },
                },
                width: 0,
                plain,
                form: Form::Heap,
            }
        }
    }

    /// The text as written (after YAML's unescaping and folding).
    pub fn text(&self) -> &str {
        match self.form {
            Form::Heap | Form::Wide | Form::Far => {
                let at = self.form.positions() * POS_BYTES;
                // SAFETY: `form` says `heap` is the initialised field; it points at an
                // allocation owned by this scalar holding `len` bytes of UTF-8 at `at`.
                unsafe {
                    let HeapText { ptr, len } = self.payload.heap;
                    let bytes = std::slice::from_raw_parts(ptr.add(at), len as usize);
                    std::str::from_utf8_unchecked(bytes)
                }
            }
            inline => {
                let len = inline as usize;
                // SAFETY: `new` copied exactly `len` bytes of a `&str` into `inline` (the
                // initialised field for every inline form), and nothing else writes them.
                unsafe { std::str::from_utf8_unchecked(&self.payload.inline[..len]) }
            }
        }
    }

    /// Where a scalar starting at `start` ends.
    fn end(&self, start: Pos) -> Pos {
        self.stored_end().unwrap_or(Pos {
            line: start.line,
            column: start.column + u32::from(self.width),
        })
    }

    /// The end a wide or far scalar keeps before its text (others keep a width).
    fn stored_end(&self) -> Option<Pos> {
        let at = self.form.positions().checked_sub(1)?;
        // SAFETY: a wide or far text's allocation starts with initialised, aligned
        // positions, the end last.
        Some(unsafe { self.payload.heap.ptr.cast::<Pos>().add(at).read() })
    }

    /// The start a far scalar keeps before its end.
    fn stored_start(&self) -> Option<Pos> {
        // SAFETY: a far text's allocation starts with the initialised, aligned start.
        (self.form == Form::Far).then(|| unsafe { self.payload.heap.ptr.cast::<Pos>().read() })
    }

    /// Keeps the start and end of a node that cannot keep its start.
    fn store_span(&mut self, start: Pos, end: Pos) {
        if self.form == Form::Far {
            // SAFETY: as in `stored_start`; `&mut self` makes the writes unique.
            unsafe {
                let at = self.payload.heap.ptr.cast::<Pos>();
                at.write(start);
                at.add(1).write(end);
            }
        } else {
            *self = Scalar::headed(self.text(), self.plain, Form::Far, &[start, end]);
        }
    }

    /// Records where a scalar starting at `start` ends, moving its text to (or from) the
    /// wide form when the end does not fit in a width. A far scalar becomes a near one:
    /// its node keeps its start again.
    fn set_end(&mut self, start: Pos, end: Pos) {
        if self.form == Form::Far {
            *self = Scalar::new(self.text(), self.plain);
        }
        let width = (end.line == start.line)
            .then(|| end.column.checked_sub(start.column))
            .flatten()
            .and_then(|w| u16::try_from(w).ok());
        match (width, self.form) {
            (Some(width), Form::Wide) => {
                *self = Scalar::new(self.text(), self.plain);
                self.width = width;
            }
            (Some(width), _) => self.width = width,
            (None, Form::Wide) => {
                // SAFETY: as in `end`; `&mut self` makes the write unique.
                unsafe { self.payload.heap.ptr.cast::<Pos>().write(end) }
            }
            (None, _) => *self = Scalar::headed(self.text(), self.plain, Form::Wide, &[end]),
        }
    }

    /// A wide (`[end]`) or far (`[start, end]`) scalar.
    fn headed(text: &str, plain: bool, form: Form, positions: &[Pos]) -> Scalar {
        assert_eq!(
            positions.len(),
            form.positions(),
            "a headed form's positions"
        );
        let len = u32::try_from(text.len()).expect("a scalar shorter than 4 GiB");
        let layout = headed_layout(positions.len(), text.len());
        // SAFETY: the layout is never zero-sized (it holds at least one `Pos`); the
        // allocation is aligned for `Pos` and has room for the positions and the text
        // after them.
        let ptr = unsafe {
            let ptr = std::alloc::alloc(layout);
            if ptr.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            for (i, pos) in positions.iter().enumerate() {
                ptr.cast::<Pos>().add(i).write(*pos);
            }
            let text_at = ptr.add(positions.len() * POS_BYTES);
            std::ptr::copy_nonoverlapping(text.as_ptr(), text_at, text.len());
            ptr
        };
        Scalar {
            payload: Payload {
                heap: HeapText { ptr, len },
            },
            width: 0,
            plain,
            form,
        }
    }

    /// Written without quotes (and not tagged `!!str`): resolved by the core schema.
    pub fn plain(&self) -> bool {
        self.plain
    }

    pub fn is_null(&self) -> bool {
        self.plain() && is_null_text(self.text())
    }

    pub fn as_bool(&self) -> Option<bool> {
        if !self.plain() {
            return None;
        }
        match self.text() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        if !self.plain() {
            return None;
        }
        parse_int(self.text())
    }

    pub fn as_f64(&self) -> Option<f64> {
        if !self.plain() {
            return None;
        }
        if let Some(i) = parse_int(self.text()) {
            return Some(i as f64);
        }
        match self.text() {
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some(f64::INFINITY),
            "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
            ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
            t => {
                let looks_numeric = t
                    .bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
                    && t.bytes().any(|b| b.is_ascii_digit());
                if looks_numeric {
                    t.parse().ok()
                } else {
                    None
                }
            }
        }
    }

    /// What type a plain scalar resolves to, for messages and the CEL conversion.
    pub fn resolved(&self) -> Resolved<'_> {
        if !self.plain() {
            return Resolved::Str(self.text());
        }
        if self.is_null() {
            Resolved::Null
        } else if let Some(b) = self.as_bool() {
            Resolved::Bool(b)
        } else if let Some(i) = self.as_i64() {
            Resolved::Int(i)
        } else if let Some(f) = self.as_f64() {
            Resolved::Float(f)
        } else {
            Resolved::Str(self.text())
        }
    }
}

impl Drop for Scalar {
    fn drop(&mut self) {
        // SAFETY: see `text`; each allocation is freed once, here, with its layout.
        unsafe {
            let HeapText { ptr, len } = self.payload.heap;
            match self.form {
                Form::Heap => {
                    let text = std::ptr::slice_from_raw_parts_mut(ptr, len as usize) as *mut str;
                    drop(Box::from_raw(text));
                }
                Form::Wide | Form::Far => {
                    std::alloc::dealloc(ptr, headed_layout(self.form.positions(), len as usize))
                }
                _ => {}
            }
        }
    }
}

impl Clone for Scalar {
    fn clone(&self) -> Scalar {
        match (self.stored_start(), self.stored_end()) {
            (Some(start), Some(end)) => {
                Scalar::headed(self.text(), self.plain, Form::Far, &[start, end])
            }
            (None, Some(end)) => Scalar::headed(self.text(), self.plain, Form::Wide, &[end]),
            (_, None) => {
                // Not `..Scalar::new(..)`: the temporary's `Drop` would free the text
                // the copied payload points at.
                let mut copy = Scalar::new(self.text(), self.plain);
                copy.width = self.width;
                copy
            }
        }
    }
}

/// Equal text, quoting and end (for scalars in nodes that start at the same place, the
/// same span).
impl PartialEq for Scalar {
    fn eq(&self, other: &Scalar) -> bool {
        self.plain == other.plain
            && self.text() == other.text()
            && self.width == other.width
            && self.stored_end() == other.stored_end()
            && self.stored_start() == other.stored_start()
    }
}

impl Eq for Scalar {}

impl std::fmt::Debug for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scalar")
            .field("text", &self.text())
            .field("plain", &self.plain())
            .finish()
    }
}

/// Whether a plain scalar (or key) of this text is null in YAML's core schema. On bytes:
/// the compiler then tests lengths and words instead of calling memcmp (this is asked of
/// most scalars the model and the rules read).
pub(crate) fn is_null_text(text: &str) -> bool {
    matches!(text.as_bytes(), b"" | b"~" | b"null" | b"Null" | b"NULL")
}

/// A scalar after core-schema resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

fn parse_int(t: &str) -> Option<i64> {
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let v = if let Some(h) = digits.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = digits.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

/// One step of a field path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

impl PathSegment {
    /// Parses `spec.http[0].route["a.b/c"]` into segments. Returns `None` when malformed.
    pub fn parse_path(path: &str) -> Option<Vec<PathSegment>> {
        let mut out = Vec::new();
        let bytes = path.as_bytes();
        let mut i = 0;
        let mut current = String::new();
        while i < bytes.len() {
            match bytes[i] {
                b'.' => {
                    if !current.is_empty() {
                        out.push(PathSegment::Key(std::mem::take(&mut current)));
                    }
                    i += 1;
                }
                b'[' => {
                    if !current.is_empty() {
                        out.push(PathSegment::Key(std::mem::take(&mut current)));
                    }
                    let close = path[i..].find(']')? + i;
                    let inner = path[i + 1..close].trim();
                    if let Some(q) = inner
                        .strip_prefix('"')
                        .and_then(|s| s.strip_suffix('"'))
                        .or_else(|| inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                    {
                        out.push(PathSegment::Key(q.to_string()));
                    } else {
                        out.push(PathSegment::Index(inner.parse().ok()?));
                    }
                    i = close + 1;
                }
                _ => {
                    let start = i;
                    while i < bytes.len() && bytes[i] != b'.' && bytes[i] != b'[' {
                        i += 1;
                    }
                    current.push_str(&path[start..i]);
                }
            }
        }
        if !current.is_empty() {
            out.push(PathSegment::Key(current));
        }
        Some(out)
    }
}

impl Ends for Node {
    fn end(&self) -> Pos {
        match &self.value {
            NodeValue::Scalar(s) => s.end(self.start()),
            NodeValue::Seq(items) => items.end(),
            NodeValue::Map(entries) => entries.end(),
        }
    }
}

impl Ends for (Key, Node) {
    fn end(&self) -> Pos {
        self.1.end()
    }
}

impl NodeValue {
    /// Records the end of a node that keeps its start (dropping a span the value kept).
    fn set_end(&mut self, start: Pos, end: Pos) {
        match self {
            NodeValue::Scalar(s) => s.set_end(start, end),
            NodeValue::Seq(items) => items.set_end(end),
            NodeValue::Map(entries) => entries.set_end(end),
        }
    }

    /// Keeps the start and end of a node that cannot keep its start.
    fn store_span(&mut self, span: Span) {
        match self {
            NodeValue::Scalar(s) => s.store_span(span.start, span.end),
            NodeValue::Seq(items) => items.store_span(span.start, span.end),
            NodeValue::Map(entries) => entries.store_span(span.start, span.end),
        }
    }

    fn stored_start(&self) -> Option<Pos> {
        match self {
            NodeValue::Scalar(s) => s.stored_start(),
            NodeValue::Seq(items) => items.stored_start(),
            NodeValue::Map(entries) => entries.stored_start(),
        }
    }
}

impl Node {
    /// A node of `value` written at `span`.
    pub fn new(span: Span, mut value: NodeValue) -> Node {
        let start = Start::of(span.start);
        if start == Start::KEPT_BY_VALUE {
            value.store_span(span);
        } else {
            value.set_end(span.start, span.end);
        }
        Node { start, value }
    }

    /// A non-empty collection that ends where its last item ends, as parsers build them:
    /// nothing to compare or store. (An empty one would have no end: it gets its start.)
    pub fn ending_with_last_item(start: Pos, value: NodeValue) -> Node {
        let node = Node {
            start: Start::of(start),
            value,
        };
        let empty = match &node.value {
            NodeValue::Scalar(_) => true,
            NodeValue::Seq(items) => items.is_empty(),
            NodeValue::Map(entries) => entries.is_empty(),
        };
        if !empty && node.start != Start::KEPT_BY_VALUE {
            return node;
        }
        let end = if empty { start } else { Ends::end(&node) };
        Node::new(Span { start, end }, node.value)
    }

    /// Where the node starts: kept in the node, or by its value when it did not fit.
    fn start(&self) -> Pos {
        self.start
            .pos()
            .or_else(|| self.value.stored_start())
            .unwrap_or_default()
    }

    /// Where the node was written.
    pub fn span(&self) -> Span {
        Span {
            start: self.start(),
            end: Ends::end(self),
        }
    }

    /// Moves the node (an alias's copy of its anchor is where the alias is written).
    pub fn set_span(&mut self, span: Span) {
        let value = std::mem::replace(&mut self.value, NodeValue::Seq(List::empty()));
        *self = Node::new(span, value);
    }

    /// Replaces the value, keeping the span (assigning `value` would lose where the node
    /// ends).
    pub fn set_value(&mut self, value: NodeValue) {
        let span = self.span();
        *self = Node::new(span, value);
    }

    pub fn scalar(&self) -> Option<&Scalar> {
        match &self.value {
            NodeValue::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a non-null scalar (numbers and booleans included, as written).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Scalar(s) if !s.is_null() => Some(s.text()),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        let s = self.scalar()?;
        s.as_i64().or_else(|| s.text().trim().parse().ok())
    }

    pub fn as_bool(&self) -> Option<bool> {
        self.scalar()?.as_bool()
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, NodeValue::Scalar(s) if s.is_null())
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            NodeValue::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Items of a sequence; an absent or non-sequence node yields nothing.
    pub fn items(&self) -> &[Node] {
        self.as_seq().unwrap_or(&[])
    }

    /// Items of the sequence at a path of mapping keys (`items_at(&["spec", "http"])`);
    /// a missing key or a non-sequence yields nothing.
    pub fn items_at(&self, keys: &[&str]) -> &[Node] {
        let mut n = self;
        for k in keys {
            match n.get(k) {
                Some(next) => n = next,
                None => return &[],
            }
        }
        n.items()
    }

    /// Entries of a mapping; an absent or non-mapping node yields nothing.
    pub fn entries(&self) -> &[(Key, Node)] {
        self.as_map().unwrap_or(&[])
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_entry(key).map(|(_, v)| v)
    }

    pub fn get_entry(&self, key: &str) -> Option<&(Key, Node)> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
    }

    /// The string at a chain of mapping keys, e.g. `["metadata", "name"]`.
    pub fn str_at(&self, keys: &[&str]) -> Option<&str> {
        let mut n = self;
        for k in keys {
            n = n.get(k)?;
        }
        n.as_str()
    }

    /// Follows a parsed path. Returns the node and, when the last step was a mapping
    /// key, that key's node too (so collections can be pointed at by their key).
    pub fn lookup<'a>(&'a self, path: &[PathSegment]) -> Option<(&'a Node, Option<&'a Key>)> {
        let mut node = self;
        let mut key = None;
        for seg in path {
            match seg {
                PathSegment::Key(k) => {
                    let (kn, vn) = node.get_entry(k)?;
                    node = vn;
                    key = Some(kn);
                }
                PathSegment::Index(i) => {
                    node = node.as_seq()?.get(*i)?;
                    key = None;
                }
            }
        }
        Some((node, key))
    }

    /// The span to underline for this node: scalars whole; collections only on their
    /// first line, so a report does not reprint a whole block.
    pub fn head_span(&self) -> Span {
        match &self.value {
            NodeValue::Scalar(_) => self.span(),
            NodeValue::Map(entries) => match entries.first() {
                Some((k, v)) if v.span().start.line == k.span().start.line => Span {
                    start: k.span().start,
                    end: if v.scalar().is_some() {
                        v.span().end
                    } else {
                        k.span().end
                    },
                },
                Some((k, _)) => k.span(),
                None => self.span(),
            },
            NodeValue::Seq(items) => match items.first() {
                Some(first) if first.span().start.line == self.span().start.line => {
                    let mut s = self.span();
                    s.end = first.head_span().end;
                    if matches!(first.value, NodeValue::Scalar(_)) && items.len() > 1 {
                        s.end = self.span().end;
                    }
                    if s.end.line != s.start.line {
                        s.end = first.head_span().end;
                    }
                    s
                }
                Some(first) => first.head_span(),
                None => self.span(),
            },
        }
    }

    /// Span to report for a path: a scalar value itself, or the key naming a collection.
    pub fn span_of(&self, path: &[PathSegment]) -> Option<Span> {
        let (node, key) = self.lookup(path)?;
        Some(match (&node.value, key) {
            (NodeValue::Scalar(s), Some(k)) if s.is_null() => k.span(),
            (NodeValue::Scalar(_), _) => node.span(),
            (_, Some(k)) => k.span(),
            (_, None) => node.head_span(),
        })
    }

    /// Counts nodes in this subtree (used by budgets and statistics).
    pub fn count(&self) -> usize {
        1 + match &self.value {
            NodeValue::Scalar(_) => 0,
            NodeValue::Seq(items) => items.iter().map(Node::count).sum(),
            NodeValue::Map(entries) => entries.iter().map(|(_, v)| 1 + v.count()).sum(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn paths_parse_keys_indexes_and_quoted_keys() {
        let p = PathSegment::parse_path(r#"spec.http[0].route["a.b/c"]"#).unwrap();
        assert_eq!(
            p,
            vec![
                PathSegment::Key("spec".into()),
                PathSegment::Key("http".into()),
                PathSegment::Index(0),
                PathSegment::Key("route".into()),
                PathSegment::Key("a.b/c".into()),
            ]
        );
        assert!(PathSegment::parse_path("a[x").is_none());
    }

    #[test]
    fn nodes_stay_small_and_scalars_keep_their_text() {
        assert_eq!(std::mem::size_of::<Scalar>(), 16);
        assert_eq!(std::mem::size_of::<NodeValue>(), 16);
        assert_eq!(std::mem::size_of::<Node>(), 20);
        for text in [
            "",
            "a",
            "twelve bytes",
            "thirteen byte",
            "ünï",
            "a much longer text, stored on the heap: ünïcödé",
        ] {
            for plain in [true, false] {
                let s = Scalar::new(text, plain);
                assert_eq!((s.text(), s.plain()), (text, plain));
                assert_eq!(s, Scalar::new(text, plain));
                assert_eq!(s.clone(), s);
            }
        }
    }

    /// A span from (line, column) pairs.
    pub(crate) fn span(a: (u32, u32), b: (u32, u32)) -> Span {
        let pos = |(line, column)| Pos { line, column };
        Span {
            start: pos(a),
            end: pos(b),
        }
    }

    #[test]
    fn nodes_keep_every_span_they_are_given() {
        let spans = [
            span((3, 5), (3, 9)),
            span((3, 5), (3, 5)),
            span((1, 1), (1, 65_536)),
            span((1, 70_000), (1, 70_004)),
            span((2, 7), (5, 1)),
            span((u32::MAX, 1), (u32::MAX, 2)),
        ];
        for text in ["x", "a much longer text, stored on the heap"] {
            for sp in spans {
                let node = Node::new(sp, NodeValue::Scalar(Scalar::new(text, true)));
                assert_eq!((node.span(), node.as_str()), (sp, Some(text)), "{sp:?}");
                let copy = node.clone();
                assert_eq!((copy.span(), &copy), (sp, &node));
                for moved in spans {
                    let mut n = node.clone();
                    n.set_span(moved);
                    assert_eq!((n.span(), n.as_str()), (moved, Some(text)));
                }
            }
        }
        let item = |sp| Node::new(sp, NodeValue::Scalar(Scalar::new("i", true)));
        let seq = NodeValue::Seq(List::new(vec![item(spans[0]), item(spans[1])]));
        let mut node = Node::new(spans[4], seq);
        assert_eq!(node.span(), spans[4]);
        assert_eq!(node.items().len(), 2);
        assert_eq!(node.items()[1].span(), spans[1]);
        node.set_value(NodeValue::Scalar(Scalar::new("redacted", false)));
        assert_eq!((node.span(), node.as_str()), (spans[4], Some("redacted")));
        node.set_value(NodeValue::Map(List::default()));
        assert_eq!((node.span(), node.entries().len()), (spans[4], 0));
    }

    #[test]
    fn starts_pack_below_line_two_to_the_twenty_and_column_4096() {
        let pos = |line, column| Pos { line, column };
        for near in [pos(0, 0), pos(1, 1), pos(1_048_575, 4_094), pos(7, 4_095)] {
            assert_eq!(Start::of(near).pos(), Some(near), "{near:?}");
        }
        for far in [
            pos(1_048_575, 4_095),
            pos(1_048_576, 1),
            pos(3, 4_096),
            pos(u32::MAX, 0),
        ] {
            assert_eq!(Start::of(far), Start::KEPT_BY_VALUE, "{far:?}");
        }
    }

    #[test]
    fn collections_keep_starts_their_node_cannot() {
        let far = span((2_000_000, 3), (2_000_001, 9));
        let also_far = span((5, 5_000), (5, 5_010));
        let near = span((4, 2), (6, 1));
        let item = |sp| Node::new(sp, NodeValue::Scalar(Scalar::new("i", true)));
        let key = |sp| Key::new(sp, "k", true);
        let empty_map = || NodeValue::Map(List::default());
        let seq = || NodeValue::Seq(List::new(vec![item(span((4, 4), (4, 5)))]));
        for value in [empty_map(), seq()] {
            let mut node = Node::new(far, value.clone());
            assert_eq!(node.span(), far);
            let copy = node.clone();
            assert_eq!((copy.span(), &copy), (far, &node));
            assert_ne!(node, Node::new(also_far, value.clone()));
            node.set_span(also_far);
            assert_eq!(node.span(), also_far);
            node.set_span(near);
            assert_eq!(
                (node.span(), &node),
                (near, &Node::new(near, value.clone()))
            );
            node.set_span(far);
            assert_eq!(node.span(), far);
            // A value moved to a near node leaves the start behind.
            let moved = Node::new(near, node.value.clone());
            assert_eq!((moved.span(), &moved), (near, &Node::new(near, value)));
        }
        // Dropping an item keeps the span; a parser's collection far down a file keeps it too.
        let mut map = Node::new(
            far,
            NodeValue::Map(List::new(vec![
                (key(span((9, 1), (9, 2))), item(span((9, 4), (9, 5)))),
                (key(span((10, 1), (10, 2))), item(span((10, 4), (10, 5)))),
            ])),
        );
        if let NodeValue::Map(entries) = &mut map.value {
            entries.retain(|(k, _)| k.span().start.line == 9);
        }
        assert_eq!((map.span(), map.entries().len()), (far, 1));
        let parsed = Node::ending_with_last_item(far.start, seq());
        assert_eq!(parsed.span(), span((2_000_000, 3), (4, 5)));
        let parsed_empty = Node::ending_with_last_item(also_far.start, empty_map());
        assert_eq!(parsed_empty.span(), span((5, 5_000), (5, 5_000)));
    }

    #[test]
    fn nodes_differing_only_in_where_they_end_differ() {
        let scalar = |sp| Node::new(sp, NodeValue::Scalar(Scalar::new("x", true)));
        assert_ne!(scalar(span((1, 1), (1, 2))), scalar(span((1, 1), (1, 3))));
        assert_ne!(scalar(span((1, 1), (1, 2))), scalar(span((1, 1), (2, 2))));
        let map = |sp| Node::new(sp, NodeValue::Map(List::default()));
        assert_ne!(map(span((1, 1), (2, 1))), map(span((1, 1), (3, 1))));
        assert_eq!(map(span((1, 1), (2, 1))), map(span((1, 1), (2, 1))));
    }

    #[test]
    fn plain_scalars_resolve_by_core_schema() {
        let s = Scalar::new;
        assert_eq!(s("42", true).resolved(), Resolved::Int(42));
        assert_eq!(s("42", false).resolved(), Resolved::Str("42"));
        assert_eq!(s("true", true).resolved(), Resolved::Bool(true));
        assert_eq!(s("~", true).resolved(), Resolved::Null);
        assert_eq!(s("1.5", true).resolved(), Resolved::Float(1.5));
        assert_eq!(s("0x1f", true).resolved(), Resolved::Int(31));
        assert_eq!(s("1.2.3", true).resolved(), Resolved::Str("1.2.3"));
        assert_eq!(s("yes", true).resolved(), Resolved::Str("yes"));
    }

    #[test]
    fn items_at_follows_keys_and_yields_nothing_when_absent() {
        let f = crate::load_source(
            "t.yaml".into(),
            b"spec:\n  http: [a, b]\n  name: x\n".to_vec(),
            &crate::LoadLimits::default(),
        );
        let root = &f.documents[0].root;
        let names: Vec<_> = root
            .items_at(&["spec", "http"])
            .iter()
            .map(|n| n.as_str())
            .collect();
        assert_eq!(names, [Some("a"), Some("b")]);
        assert!(root.items_at(&["spec", "name"]).is_empty());
        assert!(root.items_at(&["spec", "tcp"]).is_empty());
        assert!(root.items_at(&["status", "http"]).is_empty());
    }
}
