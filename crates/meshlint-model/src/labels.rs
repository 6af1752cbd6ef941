//! [`Labels`]: labels, annotations and selectors in one small allocation.
//!
//! A Kubernetes object has a handful of labels; a `BTreeMap` stored them in a B-tree
//! leaf of eleven slots (about 540 bytes) however few there were, and every resource,
//! pod template, selector and subset has one or two such maps: 15 MB of the peak on the
//! 2,000-namespace gen-mesh corpus. A sorted boxed slice holds exactly its entries, and
//! answers the same questions (lookup by key, iteration in key order) the same way.

use serde::{Serialize, Serializer};
use std::fmt;

/// A string-to-string mapping sorted by key, with at most one entry per key.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Box<[(String, String)]>);

impl Labels {
    /// An empty mapping (no allocation).
    pub fn new() -> Labels {
        Labels::default()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.position(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value`, returning the value it replaces (as `BTreeMap::insert`).
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                let mut entries = std::mem::take(&mut self.0).into_vec();
                entries.insert(i, (key, value));
                self.0 = entries.into_boxed_slice();
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.0.iter())
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.0.iter().map(|(_, v)| v)
    }
}

/// Iterator over `(&key, &value)` in key order, as `BTreeMap::iter` yields them.
#[derive(Clone)]
pub struct Iter<'a>(std::slice::Iter<'a, (String, String)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a String, &'a String);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Labels {
    type Item = (&'a String, &'a String);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Labels {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_vec().into_iter()
    }
}

impl FromIterator<(String, String)> for Labels {
    /// Like collecting into a `BTreeMap`: sorted by key, and of entries with the same
    /// key the last one counts.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Labels {
        let mut entries: Vec<(String, String)> = iter.into_iter().collect();
        // Stable: entries with equal keys keep their order, so the last is the later one.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, String)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match out.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => out.push(entry),
            }
        }
        Labels(out.into_boxed_slice())
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Labels {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(iter: I) -> Labels {
        iter.into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

impl<const N: usize> From<[(String, String); N]> for Labels {
    fn from(entries: [(String, String); N]) -> Labels {
        entries.into_iter().collect()
    }
}

impl Extend<(String, String)> for Labels {
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, iter: I) {
        let mut entries = std::mem::take(&mut self.0).into_vec();
        entries.extend(iter);
        *self = entries.into_iter().collect();
    }
}

impl std::ops::Index<&str> for Labels {
    type Output = String;

    /// The value of a key known to be there (panics otherwise, as `BTreeMap` does).
    fn index(&self, key: &str) -> &String {
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
        let entries: Vec<_> = l.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(entries, [("a", "2"), ("b", "3")]);
        assert_eq!(l.get("b").map(String::as_str), Some("3"));
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
}
