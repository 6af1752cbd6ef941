//! The graph's collections, counted: [`Tally`] wraps a collection of the graph so
//! that what queries take out of it is recorded in [`meshlint_diag::work`] (every
//! element an iteration yields; for a lookup, the size of what it found, since the
//! caller walks it). Everything else (`len`, indexing, building) goes through `Deref`
//! untouched. The complexity test reads this count per rule (issue 17): a rule whose
//! count grows faster than its input is walking collections it should look up.

use meshlint_diag::work::{self, Counted};
use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};
use std::ops::{Deref, DerefMut};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally<T>(T);

impl<T> Tally<T> {
    pub fn new(inner: T) -> Tally<T> {
        Tally(inner)
    }
}

impl<T> Deref for Tally<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Tally<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// How much work handing out a looked-up value stands for.
pub trait Weight {
    fn weight(&self) -> u64;
}

impl<T> Weight for Vec<T> {
    fn weight(&self) -> u64 {
        self.len().max(1) as u64
    }
}

impl<T> Weight for BTreeSet<T> {
    fn weight(&self) -> u64 {
        self.len().max(1) as u64
    }
}

impl<K, V> Weight for BTreeMap<K, V> {
    fn weight(&self) -> u64 {
        self.len().max(1) as u64
    }
}

impl<T> Weight for Tally<T> {
    /// A nested counted collection charges when it is walked, not when it is found.
    fn weight(&self) -> u64 {
        1
    }
}

/// Values that are one thing, not a list: finding them is one unit.
macro_rules! weighs_one {
    ($($t:ty),*) => {
        $(impl Weight for $t {
            fn weight(&self) -> u64 {
                1
            }
        })*
    };
}
weighs_one!(
    usize,
    u32,
    bool,
    String,
    (usize, usize),
    petgraph::graph::NodeIndex
);

impl<T> Weight for std::sync::Arc<T> {
    fn weight(&self) -> u64 {
        1
    }
}

impl<T> Weight for Option<T> {
    fn weight(&self) -> u64 {
        1
    }
}

impl<T> Tally<Vec<T>> {
    pub fn iter(&self) -> Counted<std::slice::Iter<'_, T>> {
        Counted(self.0.iter())
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        work::add(1);
        self.0.get(i)
    }

    /// A linear search: charged for the whole list.
    pub fn contains(&self, x: &T) -> bool
    where
        T: PartialEq,
    {
        work::add(self.0.len().max(1) as u64);
        self.0.contains(x)
    }
}

impl<'a, T> IntoIterator for &'a Tally<Vec<T>> {
    type Item = &'a T;
    type IntoIter = Counted<std::slice::Iter<'a, T>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Ord> Tally<BTreeSet<T>> {
    pub fn iter(&self) -> Counted<std::collections::btree_set::Iter<'_, T>> {
        Counted(self.0.iter())
    }

    pub fn contains<Q: Ord + ?Sized>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        work::add(1);
        self.0.contains(value)
    }
}

impl<'a, T: Ord> IntoIterator for &'a Tally<BTreeSet<T>> {
    type Item = &'a T;
    type IntoIter = Counted<std::collections::btree_set::Iter<'a, T>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Hash + Eq, S: BuildHasher> Tally<HashSet<T, S>> {
    pub fn iter(&self) -> Counted<std::collections::hash_set::Iter<'_, T>> {
        Counted(self.0.iter())
    }

    pub fn contains<Q: Hash + Eq + ?Sized>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        work::add(1);
        self.0.contains(value)
    }
}

impl<'a, T: Hash + Eq, S: BuildHasher> IntoIterator for &'a Tally<HashSet<T, S>> {
    type Item = &'a T;
    type IntoIter = Counted<std::collections::hash_set::Iter<'a, T>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K: Ord, V: Weight> Tally<BTreeMap<K, V>> {
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        let found = self.0.get(key);
        work::add(found.map_or(1, Weight::weight));
        found
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        work::add(1);
        self.0.contains_key(key)
    }

    pub fn iter(&self) -> Counted<std::collections::btree_map::Iter<'_, K, V>> {
        Counted(self.0.iter())
    }

    pub fn keys(&self) -> Counted<std::collections::btree_map::Keys<'_, K, V>> {
        Counted(self.0.keys())
    }

    pub fn values(&self) -> Counted<std::collections::btree_map::Values<'_, K, V>> {
        Counted(self.0.values())
    }
}

impl<'a, K: Ord, V: Weight> IntoIterator for &'a Tally<BTreeMap<K, V>> {
    type Item = (&'a K, &'a V);
    type IntoIter = Counted<std::collections::btree_map::Iter<'a, K, V>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K: Hash + Eq, V: Weight, S: BuildHasher> Tally<HashMap<K, V, S>> {
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        let found = self.0.get(key);
        work::add(found.map_or(1, Weight::weight));
        found
    }

    pub fn contains_key<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        work::add(1);
        self.0.contains_key(key)
    }

    pub fn iter(&self) -> Counted<std::collections::hash_map::Iter<'_, K, V>> {
        Counted(self.0.iter())
    }

    pub fn keys(&self) -> Counted<std::collections::hash_map::Keys<'_, K, V>> {
        Counted(self.0.keys())
    }

    pub fn values(&self) -> Counted<std::collections::hash_map::Values<'_, K, V>> {
        Counted(self.0.values())
    }
}

impl<K: Hash + Eq, T, S: BuildHasher> Tally<HashMap<K, Vec<T>, S>> {
    /// The list under `key`, charged one unit for the lookup and one per element the
    /// caller actually takes (for walks that stop at the first match, where [`Self::get`]
    /// would charge the whole list).
    pub fn walk<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Counted<std::slice::Iter<'_, T>>
    where
        K: Borrow<Q>,
    {
        work::add(1);
        Counted(self.0.get(key).map(Vec::as_slice).unwrap_or(&[]).iter())
    }
}

impl<'a, K: Hash + Eq, V: Weight, S: BuildHasher> IntoIterator for &'a Tally<HashMap<K, V, S>> {
    type Item = (&'a K, &'a V);
    type IntoIter = Counted<std::collections::hash_map::Iter<'a, K, V>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: FromIterator<A>, A> FromIterator<A> for Tally<T> {
    fn from_iter<I: IntoIterator<Item = A>>(iter: I) -> Tally<T> {
        Tally(iter.into_iter().collect())
    }
}

/// A new list of an index, with room for one element: most keys of the indexes have
/// one, and a `Vec`'s first push allocates room for four, which [`shrink_lists`] then
/// moved into a new allocation, leaving the first one free among live ones (on gen-mesh
/// 2,000, tens of thousands of such holes that the allocator kept through the run).
pub(crate) fn new_list<T>() -> Vec<T> {
    Vec::with_capacity(1)
}

/// Gives back the room an index's lists grew into: built by pushing, a list of one
/// element holds four (a `Vec`'s first allocation), and the indexes live to the end of
/// the run. With elements of a few hundred bytes (`RouteTo`) that was most of an index.
pub(crate) fn shrink_lists<K: Hash + Eq, T, S: BuildHasher>(map: &mut HashMap<K, Vec<T>, S>) {
    for list in map.values_mut() {
        list.shrink_to_fit();
    }
    map.shrink_to_fit();
}
