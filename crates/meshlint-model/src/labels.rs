//! [`Labels`]: labels, annotations and selectors in one small allocation.
//!
//! A Kubernetes object has a handful of labels; a `BTreeMap` stored them in a B-tree
//! leaf of eleven slots (about 540 bytes) however few there were, and a sorted boxed
//! slice of `(String, String)` still took 48 bytes per entry plus two heap copies: 30 MB
//! of the peak on the 20,000-namespace gen-mesh corpus. Here all texts of a mapping sit
//! in one buffer after their end offsets, sorted by key; lookups and iteration in key
//! order answer as the map did.

use serde::{Serialize, Serializer};
use std::fmt;

/// A string-to-string mapping sorted by key, with at most one entry per key.
///
/// The buffer: the entry count, then for each entry the end offsets of its key and of
/// its value (counted from the start of the texts), then the texts (key, value, key,
/// value, …). Numbers take four bytes of seven bits each (little-endian), so the whole
/// buffer is ASCII but for the texts: it is a `str`, and a text is read by slicing it,
/// where bytes would need their UTF-8 checked on every lookup. Empty: no buffer at all.
/// The encoding is canonical, so equal mappings have equal buffers.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Labels(Box<str>);

const WORD: usize = 4;

/// Largest number a word holds: a mapping's texts come from one input file, which the
/// loader limits to 64 MiB.
const WORD_MAX: usize = (1 << (7 * WORD)) - 1;

impl Labels {
    /// An empty mapping (no allocation).
    pub fn new() -> Labels {
        Labels::default()
    }

    /// Packs entries already sorted by key, with distinct keys.
    fn pack<K: AsRef<str>, V: AsRef<str>>(entries: &[(K, V)]) -> Labels {
        if entries.is_empty() {
            return Labels::new();
        }
        let texts: usize = entries
            .iter()
            .map(|(k, v)| k.as_ref().len() + v.as_ref().len())
            .sum();
        assert!(texts <= WORD_MAX, "labels of more than 256 MiB");
        let mut buf = String::with_capacity(WORD * (1 + 2 * entries.len()) + texts);
        push_word(&mut buf, entries.len());
        let mut end = 0;
        for (k, v) in entries {
            end += k.as_ref().len();
            push_word(&mut buf, end);
            end += v.as_ref().len();
            push_word(&mut buf, end);
        }
        for (k, v) in entries {
            buf.push_str(k.as_ref());
            buf.push_str(v.as_ref());
        }
        Labels(buf.into_boxed_str())
    }

    fn read(&self, at: usize) -> usize {
        let bytes = self.0.as_bytes().get(at..at + WORD).unwrap_or(&[0; WORD]);
        bytes
            .iter()
            .rev()
            .fold(0, |n, b| (n << 7) | usize::from(*b))
    }

    /// Text `j` (key of entry `j / 2` when even, its value when odd).
    fn text(&self, j: usize) -> &str {
        let base = WORD * (1 + 2 * self.len());
        let start = if j == 0 { 0 } else { self.read(WORD * j) };
        let end = self.read(WORD * (j + 1));
        // Always at character boundaries: the texts were packed whole.
        self.0.get(base + start..base + end).unwrap_or("")
    }

    fn entry(&self, i: usize) -> (&str, &str) {
        (self.text(2 * i), self.text(2 * i + 1))
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = (low + high) / 2;
            match self.text(2 * mid).cmp(key) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(low)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key).ok().map(|i| self.text(2 * i + 1))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value`, returning the value it replaces (as `BTreeMap::insert`).
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        let mut entries: Vec<(&str, &str)> = self.iter().collect();
        let replaced = match self.position(&key) {
            Ok(i) => Some(
                std::mem::replace(&mut entries[i], (&key, &value))
                    .1
                    .to_string(),
            ),
            Err(i) => {
                entries.insert(i, (&key, &value));
                None
            }
        };
        *self = Labels::pack(&entries);
        replaced
    }

    pub fn len(&self) -> usize {
        if self.0.is_empty() {
            0
        } else {
            self.read(0)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            labels: self,
            front: 0,
            back: self.len(),
        }
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.iter().map(|(_, v)| v)
    }
}

/// Appends `n` (at most [`WORD_MAX`]) as four ASCII bytes of seven bits each.
fn push_word(buf: &mut String, n: usize) {
    for i in 0..WORD {
        buf.push(char::from(((n >> (7 * i)) & 0x7f) as u8));
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Labels) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Labels {
    /// As the entries compare (the buffer's bytes would not).
    fn cmp(&self, other: &Labels) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

/// Iterator over `(&key, &value)` in key order, as `BTreeMap::iter` yields them.
#[derive(Clone)]
pub struct Iter<'a> {
    labels: &'a Labels,
    front: usize,
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.front == self.back {
            return None;
        }
        self.front += 1;
        Some(self.labels.entry(self.front - 1))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        Some(self.labels.entry(self.back))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Labels {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Labels {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }
}

/// Sorted by key, and of entries with the same key the last one counts (as collecting
/// into a `BTreeMap`).
fn collect_sorted<K: AsRef<str>, V: AsRef<str>>(mut entries: Vec<(K, V)>) -> Labels {
    // Stable: entries with equal keys keep their order, so the last is the later one.
    entries.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    let mut out: Vec<(K, V)> = Vec::with_capacity(entries.len());
    for entry in entries {
        match out.last_mut() {
            Some(last) if last.0.as_ref() == entry.0.as_ref() => *last = entry,
            _ => out.push(entry),
        }
    }
    Labels::pack(&out)
}

impl FromIterator<(String, String)> for Labels {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Labels {
        collect_sorted(iter.into_iter().collect())
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Labels {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(iter: I) -> Labels {
        collect_sorted(iter.into_iter().collect())
    }
}

impl<const N: usize> From<[(String, String); N]> for Labels {
    fn from(entries: [(String, String); N]) -> Labels {
        entries.into_iter().collect()
    }
}

impl Extend<(String, String)> for Labels {
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, iter: I) {
        let mut entries: Vec<(String, String)> = std::mem::take(self).into_iter().collect();
        entries.extend(iter);
        *self = entries.into_iter().collect();
    }
}

impl std::ops::Index<&str> for Labels {
    type Output = str;

    /// The value of a key known to be there (panics otherwise, as `BTreeMap` does).
    fn index(&self, key: &str) -> &str {
        self.get(key).expect("no entry for this key in the labels")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().copied().collect()
    }

    #[test]
    fn sorted_by_key_and_the_last_of_equal_keys_counts() {
        let l = labels(&[("b", "1"), ("a", "2"), ("b", "3")]);
        let entries: Vec<_> = l.iter().collect();
        assert_eq!(entries, [("a", "2"), ("b", "3")]);
        assert_eq!(l.get("b"), Some("3"));
        assert!(l.contains_key("a") && !l.contains_key("c"));
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn insert_replaces_or_keeps_order() {
        let mut l = Labels::new();
        assert!(l.is_empty());
        assert_eq!(l.insert("z".into(), "1".into()), None);
        assert_eq!(l.insert("a".into(), "2".into()), None);
        assert_eq!(l.insert("z".into(), "3".into()), Some("1".to_string()));
        assert_eq!(l, labels(&[("a", "2"), ("z", "3")]));
        assert_eq!(format!("{l:?}"), r#"{"a": "2", "z": "3"}"#);
        assert_eq!(serde_json::to_string(&l).unwrap(), r#"{"a":"2","z":"3"}"#);
    }

    #[test]
    fn long_texts_take_offsets_of_several_seven_bit_bytes() {
        let long = "é".repeat(70_000);
        let medium = "m".repeat(300);
        let l = labels(&[("z", long.as_str()), ("a", medium.as_str()), ("ü", "v")]);
        assert_eq!(l.get("z"), Some(long.as_str()));
        assert_eq!(l.get("a"), Some(medium.as_str()));
        assert_eq!(l.get("ü"), Some("v"));
        assert_eq!(l.len(), 3);
        assert!(l.0.is_char_boundary(l.0.len()));
    }

    #[test]
    fn empty_texts_reverse_order_and_comparison() {
        let l = labels(&[("", "x"), ("k", ""), ("é", "ü")]);
        assert_eq!(l.get(""), Some("x"));
        assert_eq!(l.get("k"), Some(""));
        assert_eq!(l["é"], *"ü");
        let back: Vec<_> = l.iter().rev().collect();
        assert_eq!(back, [("é", "ü"), ("k", ""), ("", "x")]);
        assert_eq!(l.keys().len(), 3);
        // Ordered as the entries are, not as the buffers' bytes.
        assert!(labels(&[("a", "1"), ("b", "1")]) < labels(&[("b", "0")]));
        assert_eq!(Labels::new().iter().next(), None);
        let owned: Vec<(String, String)> = l.clone().into_iter().collect();
        assert_eq!(owned.into_iter().collect::<Labels>(), l);
    }
}
