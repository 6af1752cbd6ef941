//! Mapping keys: 12 bytes each, their spelling shared.
//!
//! Keys are about half of a tree's nodes, and manifests write the same few dozen keys
//! (`name`, `spec`, `matchLabels`) over and over. A [`Key`] keeps where it starts, packed
//! in four bytes as a node's start is, and a pointer to its spelling: the text, whether it
//! was quoted, and where it ends relative to where it starts. Spellings are interned once
//! per process, so a mapping entry takes 32 bytes instead of 40.
//!
//! A key whose start does not pack (line 2^20, column 2^12 and later), and any key once
//! the table of shared spellings is full (a long-running language server sees every
//! partial key typed), owns its spelling, start included, and frees it when dropped.

use crate::node::{is_null_text, Node, NodeValue, Scalar, Start};
use meshlint_diag::{Pos, Span};
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::sync::Mutex;

/// Keys are short texts looked up once per key written: the standard library's SipHash
/// was most of the cost of interning them. foldhash is several times faster on such
/// texts and still seeded per process.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// A mapping key and where it was written.
#[repr(C, packed(4))]
pub struct Key {
    start: Start,
    /// A spelling in the shared table (never freed), or one this key owns
    /// (`Spelling::owned`), allocated as a `Box`.
    spelling: NonNull<Spelling>,
}

// SAFETY: a key's spelling is immutable; a shared one lives for the whole process, an
// owned one is owned by exactly this key (as a `Box` would be).
unsafe impl Send for Key {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Key {}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Spelling {
    text: Box<str>,
    plain: bool,
    /// A mapping or sequence written as a key (`? [a, b]`): it has no text, and no lookup
    /// by name finds it.
    collection: bool,
    reach: Reach,
    /// Neither null nor a collection: lookups by name find it. Computed once per
    /// spelling, as lookups ask it of every key they pass.
    named: bool,
    /// The start of a key whose start does not pack into [`Start`].
    far_start: Option<Pos>,
    owned: bool,
}

impl Spelling {
    fn new(text: &str, plain: bool, collection: bool, reach: Reach) -> Spelling {
        let null = plain && is_null_text(text);
        Spelling {
            text: text.into(),
            plain,
            collection,
            reach,
            named: !collection && !null,
            far_start: None,
            owned: false,
        }
    }
}

/// Where a key ends, relative to where it starts.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Reach {
    /// Columns to the right on the same line.
    SameLine(u32),
    /// On a later line, at a column.
    Below { lines: u32, column: u32 },
}

impl Reach {
    fn between(start: Pos, end: Pos) -> Reach {
        if end.line == start.line {
            Reach::SameLine(end.column.saturating_sub(start.column))
        } else {
            Reach::Below {
                lines: end.line.saturating_sub(start.line),
                column: end.column,
            }
        }
    }

    fn end_from(self, start: Pos) -> Pos {
        match self {
            Reach::SameLine(columns) => Pos {
                line: start.line,
                column: start.column.saturating_add(columns),
            },
            Reach::Below { lines, column } => Pos {
                line: start.line.saturating_add(lines),
                column,
            },
        }
    }
}

/// Most spellings shared; later ones are owned by their keys. The 31 repositories of the
/// precision corpus write about 6,000 distinct keys in 900,000.
const SHARED_LIMIT: usize = 1 << 14;

/// Spellings shared by every thread, found by their content.
static SHARED: Mutex<Option<HashSet<SharedSpelling>>> = Mutex::new(None);

/// A spelling in the shared table, which is never freed; hashed and compared by content.
#[derive(Clone, Copy)]
struct SharedSpelling(&'static Spelling);

impl std::hash::Hash for SharedSpelling {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl PartialEq for SharedSpelling {
    fn eq(&self, other: &SharedSpelling) -> bool {
        self.0 == other.0
    }
}

impl Eq for SharedSpelling {}

impl std::borrow::Borrow<Spelling> for SharedSpelling {
    fn borrow(&self) -> &Spelling {
        self.0
    }
}

/// The spellings of one text a thread has used: one almost always (a key written plain),
/// two when it was also quoted. More go to the shared table each time.
type SeenSpellings = [Option<SharedSpelling>; 2];

thread_local! {
    /// The shared spellings this thread has used, by text (borrowed from the shared
    /// spelling): most keys are found here, without the lock.
    static SEEN: RefCell<HashMap<&'static str, SeenSpellings>> = RefCell::new(HashMap::default());
    /// The spelling last used in each of a few slots chosen without hashing the whole
    /// text: the same few dozen keys repeat, and a hit skips `SEEN`'s hash.
    static RECENT: [Cell<Option<SharedSpelling>>; RECENT_SLOTS] =
        const { [const { Cell::new(None) }; RECENT_SLOTS] };
}

const RECENT_SLOTS: usize = 64;

/// A slot of `RECENT` from the length, first and last bytes and quoting.
fn recent_slot(text: &str, plain: bool) -> usize {
    let bytes = text.as_bytes();
    let first = u32::from(bytes.first().copied().unwrap_or(0));
    let last = u32::from(bytes.last().copied().unwrap_or(0));
    let mixed = (bytes.len() as u32).wrapping_mul(0x9E37_79B9)
        ^ first.wrapping_mul(0x85EB_CA6B)
        ^ last.wrapping_mul(0xC2B2_AE35)
        ^ u32::from(plain).wrapping_mul(0x27D4_EB2F);
    (mixed >> (32 - RECENT_SLOTS.trailing_zeros())) as usize
}

/// The shared spelling of `text` with these properties (`None` once the table is
/// full). Allocates only for a spelling no thread has used yet.
fn shared(text: &str, plain: bool, collection: bool, reach: Reach) -> Option<SharedSpelling> {
    let matches = |s: &SharedSpelling| {
        s.0.plain == plain && s.0.collection == collection && s.0.reach == reach
    };
    let slot = recent_slot(text, plain);
    let recent = RECENT.with(|recent| recent[slot].get());
    if let Some(hit) = recent.filter(|s| matches(s) && *s.0.text == *text) {
        return Some(hit);
    }
    let seen = SEEN.with(|seen| {
        seen.borrow()
            .get(text)
            .and_then(|list| list.iter().flatten().copied().find(matches))
    });
    if seen.is_some() {
        RECENT.with(|recent| recent[slot].set(seen));
        return seen;
    }
    let wanted = Spelling::new(text, plain, collection, reach);
    let found = {
        let mut table = SHARED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let table = table.get_or_insert_with(HashSet::default);
        match table.get(&wanted) {
            Some(found) => *found,
            None if table.len() >= SHARED_LIMIT => return None,
            None => {
                let leaked = SharedSpelling(Box::leak(Box::new(wanted)));
                table.insert(leaked);
                leaked
            }
        }
    };
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.len() < SHARED_LIMIT {
            let slots = seen.entry(&found.0.text).or_default();
            if let Some(free) = slots.iter_mut().find(|slot| slot.is_none()) {
                *free = Some(found);
            }
        }
    });
    RECENT.with(|recent| recent[slot].set(Some(found)));
    Some(found)
}

impl Key {
    /// A key with `text` written at `span`.
    pub fn new(span: Span, text: &str, plain: bool) -> Key {
        Key::spelled(span, text, plain, false)
    }

    /// A key written as a node: a scalar's text, or a collection (which no lookup finds).
    pub fn from_node(node: &Node) -> Key {
        match &node.value {
            NodeValue::Scalar(s) => Key::spelled(node.span(), s.text(), s.plain(), false),
            NodeValue::Seq(_) | NodeValue::Map(_) => Key::spelled(node.span(), "", false, true),
        }
    }

    fn spelled(span: Span, text: &str, plain: bool, collection: bool) -> Key {
        let start = Start::of(span.start);
        let far = start == Start::KEPT_BY_VALUE;
        let reach = Reach::between(span.start, span.end);
        if !far {
            if let Some(SharedSpelling(found)) = shared(text, plain, collection, reach) {
                return Key {
                    start,
                    spelling: NonNull::from(found),
                };
            }
        }
        let owned = Spelling {
            far_start: far.then_some(span.start),
            owned: true,
            ..Spelling::new(text, plain, collection, reach)
        };
        Key {
            start,
            spelling: NonNull::from(Box::leak(Box::new(owned))),
        }
    }

    fn spelling(&self) -> &Spelling {
        let spelling = self.spelling;
        // SAFETY: the pointer is a shared spelling (never freed) or one this key owns
        // (freed only when the key is dropped); either outlives `&self`.
        unsafe { spelling.as_ref() }
    }

    /// The text as written (after YAML's unescaping); empty for a collection.
    pub fn text(&self) -> &str {
        &self.spelling().text
    }

    /// Written without quotes: resolved by the core schema (`~` is a null key).
    pub fn plain(&self) -> bool {
        self.spelling().plain
    }

    /// A mapping or sequence written as a key.
    pub fn is_collection(&self) -> bool {
        self.spelling().collection
    }

    pub fn is_null(&self) -> bool {
        let s = self.spelling();
        !s.collection && !s.named
    }

    /// The text of a scalar key, null ones included (`None` for a collection).
    pub fn scalar_text(&self) -> Option<&str> {
        (!self.is_collection()).then(|| self.text())
    }

    /// The key's text, unless it is null or a collection.
    pub fn as_str(&self) -> Option<&str> {
        let s = self.spelling();
        s.named.then_some(&*s.text)
    }

    /// Where the key was written.
    pub fn span(&self) -> Span {
        let spelling = self.spelling();
        let start = self.start.pos().or(spelling.far_start).unwrap_or_default();
        Span {
            start,
            end: spelling.reach.end_from(start),
        }
    }

    /// The key as a node: a scalar of its text (an empty mapping for a collection key).
    pub fn to_node(&self) -> Node {
        let value = if self.is_collection() {
            NodeValue::Map(crate::List::default())
        } else {
            NodeValue::Scalar(Scalar::new(self.text(), self.plain()))
        };
        Node::new(self.span(), value)
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        if self.spelling().owned {
            // SAFETY: an owned spelling was leaked from a `Box` for this key alone.
            drop(unsafe { Box::from_raw(self.spelling.as_ptr()) });
        }
    }
}

impl Clone for Key {
    fn clone(&self) -> Key {
        let spelling = if self.spelling().owned {
            NonNull::from(Box::leak(Box::new(self.spelling().clone())))
        } else {
            self.spelling
        };
        Key {
            start: self.start,
            spelling,
        }
    }
}

/// Equal text, quoting and span.
impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        let (a, b) = (self.spelling(), other.spelling());
        self.span() == other.span()
            && a.text == b.text
            && a.plain == b.plain
            && a.collection == b.collection
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("span", &self.span())
            .field("text", &self.text())
            .field("plain", &self.plain())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::tests::span;

    #[test]
    fn keys_are_twelve_bytes_and_keep_text_quoting_and_span() {
        assert_eq!(std::mem::size_of::<Key>(), 12);
        assert_eq!(std::mem::size_of::<(Key, Node)>(), 32);
        let spans = [
            span((3, 5), (3, 9)),
            span((3, 5), (4, 2)),
            span((1_048_575, 4_095), (1_048_575, 4_099)),
            span((2_000_000, 3), (2_000_000, 7)),
            span((8, 5_000), (8, 5_010)),
        ];
        for sp in spans {
            for (text, plain) in [("name", true), ("a longer key with: spaces", false)] {
                let key = Key::new(sp, text, plain);
                assert_eq!((key.span(), key.text(), key.plain()), (sp, text, plain));
                assert_eq!(key.as_str(), Some(text));
                let copy = key.clone();
                assert_eq!(copy, key);
                drop(key);
                assert_eq!((copy.span(), copy.text()), (sp, text));
            }
        }
        // Keys written alike share a spelling; where they start is their own.
        let a = Key::new(span((1, 1), (1, 5)), "spec", true);
        let b = Key::new(span((9, 1), (9, 5)), "spec", true);
        let (a_spelling, b_spelling) = (a.spelling, b.spelling);
        assert_eq!(a_spelling, b_spelling);
        assert_ne!(a, b);
        assert_ne!(a, Key::new(span((1, 1), (1, 5)), "spec", false));
    }

    #[test]
    fn null_and_collection_keys_have_no_name() {
        assert_eq!(Key::new(span((1, 1), (1, 2)), "~", true).as_str(), None);
        assert_eq!(
            Key::new(span((1, 1), (1, 4)), "~", false).as_str(),
            Some("~")
        );
        let seq = Node::new(span((2, 3), (2, 9)), NodeValue::Seq(crate::List::default()));
        let key = Key::from_node(&seq);
        assert!(key.is_collection());
        assert_eq!((key.as_str(), key.span()), (None, seq.span()));
        let scalar = Node::new(
            span((4, 1), (4, 3)),
            NodeValue::Scalar(Scalar::new("x", false)),
        );
        let key = Key::from_node(&scalar);
        assert_eq!(
            (key.as_str(), key.plain(), key.to_node()),
            (Some("x"), false, scalar)
        );
    }
}
