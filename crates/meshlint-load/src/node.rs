//! The spanned tree the loader produces.

use meshlint_diag::Span;

/// A YAML node and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: NodeValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Scalar(Scalar),
    /// Boxed slices, not vectors: a tree is built once and never grows, and a `Vec`'s
    /// capacity word would make every node 8 bytes larger.
    Seq(Box<[Node]>),
    /// Entries in source order; keys keep their own spans so a field can be pointed at.
    Map(Box<[(Node, Node)]>),
}

/// A scalar as written. Plain (unquoted) scalars are resolved by the YAML 1.2 core
/// schema on demand; quoted and block scalars are always strings.
///
/// 24 bytes, so that a [`Node`] is 40 (the tree is the bulk of meshlint's memory): texts
/// of up to [`Scalar::INLINE`] bytes (most YAML keys and values) are stored inline,
/// without a heap allocation each, and the plain flag shares the representation.
#[derive(Clone, PartialEq, Eq)]
pub struct Scalar(ScalarRepr);

#[derive(Clone, PartialEq, Eq)]
enum ScalarRepr {
    /// The unused tail of `bytes` is always zero, so equal texts compare equal.
    Inline {
        plain: bool,
        len: u8,
        bytes: [u8; Scalar::INLINE],
    },
    Heap {
        plain: bool,
        text: Box<str>,
    },
}

impl Scalar {
    /// Longest text stored without a heap allocation.
    pub const INLINE: usize = 21;

    pub fn new(text: &str, plain: bool) -> Scalar {
        if text.len() <= Scalar::INLINE {
            let mut bytes = [0u8; Scalar::INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            Scalar(ScalarRepr::Inline {
                plain,
                len: text.len() as u8,
                bytes,
            })
        } else {
            Scalar(ScalarRepr::Heap {
                plain,
                text: text.into(),
            })
        }
    }

    /// The text as written (after YAML's unescaping and folding).
    pub fn text(&self) -> &str {
        match &self.0 {
            ScalarRepr::Inline { len, bytes, .. } => {
                // SAFETY: `new` copied exactly `len` bytes of a `&str` here, and nothing
                // else writes them: they are valid UTF-8.
                unsafe { std::str::from_utf8_unchecked(&bytes[..*len as usize]) }
            }
            ScalarRepr::Heap { text, .. } => text,
        }
    }

    /// Written without quotes (and not tagged `!!str`): resolved by the core schema.
    pub fn plain(&self) -> bool {
        match &self.0 {
            ScalarRepr::Inline { plain, .. } | ScalarRepr::Heap { plain, .. } => *plain,
        }
    }

    pub fn is_null(&self) -> bool {
        self.plain() && matches!(self.text(), "" | "~" | "null" | "Null" | "NULL")
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

impl std::fmt::Debug for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scalar")
            .field("text", &self.text())
            .field("plain", &self.plain())
            .finish()
    }
}

/// Keeps the items or entries of a node that `keep` accepts, in order (the model's
/// cleaning drops invalid ones; trees are otherwise never changed after loading).
pub fn retain<T>(slice: &mut Box<[T]>, keep: impl FnMut(&T) -> bool) {
    let mut items = std::mem::take(slice).into_vec();
    items.retain(keep);
    *slice = items.into_boxed_slice();
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

impl Node {
    /// A node of `value` written at `span`. New code should build nodes with this rather
    /// than a struct literal, so that the representation can become more compact (a
    /// smaller span or scalar) without touching every construction site.
    pub fn new(span: Span, value: NodeValue) -> Node {
        Node { span, value }
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

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
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
    pub fn entries(&self) -> &[(Node, Node)] {
        self.as_map().unwrap_or(&[])
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_entry(key).map(|(_, v)| v)
    }

    pub fn get_entry(&self, key: &str) -> Option<&(Node, Node)> {
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
    pub fn lookup<'a>(&'a self, path: &[PathSegment]) -> Option<(&'a Node, Option<&'a Node>)> {
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
            NodeValue::Scalar(_) => self.span,
            NodeValue::Map(entries) => match entries.first() {
                Some((k, v)) if v.span.start.line == k.span.start.line => Span {
                    start: k.span.start,
                    end: if v.scalar().is_some() {
                        v.span.end
                    } else {
                        k.span.end
                    },
                },
                Some((k, _)) => k.span,
                None => self.span,
            },
            NodeValue::Seq(items) => match items.first() {
                Some(first) if first.span.start.line == self.span.start.line => {
                    let mut s = self.span;
                    s.end = first.head_span().end;
                    if matches!(first.value, NodeValue::Scalar(_)) && items.len() > 1 {
                        s.end = self.span.end;
                    }
                    if s.end.line != s.start.line {
                        s.end = first.head_span().end;
                    }
                    s
                }
                Some(first) => first.head_span(),
                None => self.span,
            },
        }
    }

    /// Span to report for a path: a scalar value itself, or the key naming a collection.
    pub fn span_of(&self, path: &[PathSegment]) -> Option<Span> {
        let (node, key) = self.lookup(path)?;
        Some(match (&node.value, key) {
            (NodeValue::Scalar(s), Some(k)) if s.is_null() => k.span,
            (NodeValue::Scalar(_), _) => node.span,
            (_, Some(k)) => k.span,
            (_, None) => node.head_span(),
        })
    }

    /// Counts nodes in this subtree (used by budgets and statistics).
    pub fn count(&self) -> usize {
        1 + match &self.value {
            NodeValue::Scalar(_) => 0,
            NodeValue::Seq(items) => items.iter().map(Node::count).sum(),
            NodeValue::Map(entries) => entries.iter().map(|(k, v)| k.count() + v.count()).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
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
        assert_eq!(std::mem::size_of::<Scalar>(), 24);
        assert_eq!(std::mem::size_of::<Node>(), 40);
        for text in [
            "",
            "a",
            "exactly twenty-one by",
            "twenty-two bytes long!",
            "ünï",
        ] {
            for plain in [true, false] {
                let s = Scalar::new(text, plain);
                assert_eq!((s.text(), s.plain()), (text, plain));
                assert_eq!(s, Scalar::new(text, plain));
            }
        }
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
