//! A hash map for the graph's large string-keyed indexes that holds its entries in one
//! dense vector and only `u32` positions in its hash table.
//!
//! A standard `HashMap` keeps its `(key, value)` pairs in the table itself, which is
//! between 44% and 87% full: with 8,000 hosts and 72-byte entries (two `String`s and a
//! `Vec`), the table of one index took 1.2 MB on the 2,000-namespace gen-mesh corpus,
//! half of it empty slots. Here the empty slots cost 4 bytes each and the entries no
//! slack once shrunk. Entries iterate in insertion order.

use crate::fast_map::HashMap;
use crate::resource_index::{hash_of, Slots};
use crate::tally::{Tally, Weight};
use meshlint_diag::work::{self, Counted};
use std::borrow::Borrow;
use std::hash::Hash;

#[derive(Debug)]
pub(crate) struct FlatMap<K, V> {
    entries: Vec<(K, V)>,
    /// Positions in `entries`, by the hash of their key.
    slots: Slots,
}

impl<K, V> Default for FlatMap<K, V> {
    fn default() -> Self {
        FlatMap {
            entries: Vec::new(),
            slots: Slots::default(),
        }
    }
}

impl<K: Hash + Eq, V> FlatMap<K, V> {
    /// An empty map with room for `n` entries, for an index whose number of keys has a
    /// known bound: grown by doubling, an index of 8,000 hosts left a trail of freed
    /// entry vectors and tables behind it, about as large as itself. The room it does
    /// not use is never touched, so it takes address space, not memory.
    pub(crate) fn with_capacity(n: usize) -> FlatMap<K, V> {
        FlatMap {
            entries: Vec::with_capacity(n),
            slots: Slots::with_room_for(n),
        }
    }

    fn position<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
    {
        self.slots
            .find(hash_of(key), |i| self.entries[i as usize].0.borrow() == key)
            .map(|i| i as usize)
    }

    pub(crate) fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// The position of `key` among the entries (they keep the order they were added
    /// in, so a position names the key for as long as the map lives): another index
    /// keyed by these keys can hold the `u32` rather than a copy of the key.
    pub(crate) fn position_of<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
    {
        self.position(key).map(|i| i as u32)
    }

    pub(crate) fn contains_key<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.position(key).is_some()
    }

    /// The value whose key `is_key` accepts, among those hashed as `hash` (the
    /// [`hash_of`] of a borrowed form of the key, such as `(&str, &str)` for a pair of
    /// `String`s): a lookup that builds no owned key.
    pub(crate) fn get_hashed(&self, hash: u64, is_key: impl Fn(&K) -> bool) -> Option<&V> {
        self.slots
            .find(hash, |i| is_key(&self.entries[i as usize].0))
            .map(|i| &self.entries[i as usize].1)
    }

    /// The value whose key `is_key` accepts, among those hashed as `hash`, inserted as
    /// `make()` when absent: the key is built only then.
    pub(crate) fn entry_hashed(
        &mut self,
        hash: u64,
        is_key: impl Fn(&K) -> bool,
        make: impl FnOnce() -> (K, V),
    ) -> &mut V {
        let found = self
            .slots
            .find(hash, |i| is_key(&self.entries[i as usize].0));
        let i = match found {
            Some(i) => i as usize,
            None => {
                let (key, value) = make();
                debug_assert_eq!(hash_of(&key), hash);
                self.push(key, value)
            }
        };
        &mut self.entries[i].1
    }

    /// Adds an entry whose key is not in the map yet; its position in `entries`.
    fn push(&mut self, key: K, value: V) -> usize {
        if self.entries.len() + 1 > self.slots.room() {
            self.rehash(self.entries.len() + 1);
        }
        let i = self.entries.len();
        self.slots.insert(hash_of(&key), i as u32);
        self.entries.push((key, value));
        i
    }

    fn rehash(&mut self, room: usize) {
        let mut slots = Slots::with_room_for(room);
        for (i, (k, _)) in self.entries.iter().enumerate() {
            slots.insert(hash_of(k), i as u32);
        }
        self.slots = slots;
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The position of `key`, added (with `V::default()`) when absent: numbers keys in
    /// the order they first came.
    pub(crate) fn number(&mut self, key: K) -> u32
    where
        V: Default,
    {
        match self.position(&key) {
            Some(i) => i as u32,
            None => self.push(key, V::default()) as u32,
        }
    }

    /// The keys in the order they were added (see [`Self::number`]).
    pub(crate) fn into_keys(self) -> Vec<K> {
        let mut keys: Vec<K> = self.entries.into_iter().map(|(k, _)| k).collect();
        keys.shrink_to_fit();
        keys
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The key at a position [`Self::position_of`] gave.
    pub(crate) fn key_at(&self, position: u32) -> &K {
        &self.entries[position as usize].0
    }

    /// The value at a position [`Self::position_of`] gave.
    pub(crate) fn at_mut(&mut self, position: u32) -> &mut V {
        &mut self.entries[position as usize].1
    }

    /// The values, to change in place (their keys stay as they are).
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }
}

impl<K: Hash + Eq, T> FlatMap<K, Vec<T>> {
    /// The list under `key`, inserted as a [`crate::tally::new_list`] when absent.
    pub(crate) fn list(&mut self, key: K) -> &mut Vec<T> {
        let i = match self.position(&key) {
            Some(i) => i,
            None => self.push(key, crate::tally::new_list()),
        };
        &mut self.entries[i].1
    }

    /// Gives back the room the entries and their lists grew into (see
    /// [`crate::tally::shrink_lists`]).
    pub(crate) fn shrink_lists(&mut self) {
        for (_, list) in &mut self.entries {
            list.shrink_to_fit();
        }
        self.entries.shrink_to_fit();
        // A table sized for fewer entries is smaller only across a power of two.
        if Slots::len_for(self.entries.len()) != self.slots.len() {
            self.rehash(self.entries.len());
        }
    }
}

/// The counted reads, as [`Tally`] counts a `HashMap`'s.
impl<K: Hash + Eq, V: Weight> Tally<FlatMap<K, V>> {
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        let found = (**self).get(key);
        work::add(found.map_or(1, Weight::weight));
        found
    }

    /// [`FlatMap::get_hashed`], counted as [`Tally::get`](Self::get).
    pub fn get_hashed(&self, hash: u64, is_key: impl Fn(&K) -> bool) -> Option<&V> {
        let found = (**self).get_hashed(hash, is_key);
        work::add(found.map_or(1, Weight::weight));
        found
    }

    pub fn contains_key<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        work::add(1);
        (**self).contains_key(key)
    }

    pub fn iter(&self) -> Counted<impl Iterator<Item = (&K, &V)>> {
        Counted((**self).iter())
    }

    pub fn keys(&self) -> Counted<impl Iterator<Item = &K>> {
        Counted(self.entries.iter().map(|(k, _)| k))
    }

    pub fn values(&self) -> Counted<impl Iterator<Item = &V>> {
        Counted(self.entries.iter().map(|(_, v)| v))
    }
}

/// Lists (a `Vec` while an index is built, [`Frozen`] once it is kept) read item by item.
impl<K: Hash + Eq, T, L: std::ops::Deref<Target = [T]>> Tally<FlatMap<K, L>> {
    /// The list under `key`, charged as [`Tally::walk`] charges a `HashMap`'s: one for
    /// the lookup, one per item taken.
    pub fn walk<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Counted<std::slice::Iter<'_, T>>
    where
        K: Borrow<Q>,
    {
        work::add(1);
        Counted((**self).get(key).map_or(&[][..], |l| &**l).iter())
    }

    /// [`Self::walk`] for a key found by hash ([`FlatMap::get_hashed`]).
    pub fn walk_hashed(
        &self,
        hash: u64,
        is_key: impl Fn(&K) -> bool,
    ) -> Counted<std::slice::Iter<'_, T>> {
        work::add(1);
        Counted(
            (**self)
                .get_hashed(hash, is_key)
                .map_or(&[][..], |l| &**l)
                .iter(),
        )
    }
}

impl<'a, K: Hash + Eq, V: Weight> IntoIterator for &'a Tally<FlatMap<K, V>> {
    type Item = (&'a K, &'a V);
    type IntoIter =
        Counted<std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>>;
    fn into_iter(self) -> Self::IntoIter {
        Counted(self.entries.iter().map(|(k, v)| (k, v)))
    }
}

/// Names (export scopes, namespaces) numbered in order of first use, so that the keys of
/// an index pairing one with a host hold a `u32`, not a copy of the name: nearly every
/// such key repeats one of a few names, and a `String` of it was a separate allocation
/// per key, larger than the key's list.
#[derive(Debug, Default)]
pub(crate) struct NameNumbers(HashMap<String, u32>);

impl NameNumbers {
    /// The number of `name`, given one if it has none yet.
    pub(crate) fn number(&mut self, name: &str) -> u32 {
        if let Some(&n) = self.0.get(name) {
            return n;
        }
        let n = self.0.len() as u32;
        self.0.insert(name.to_string(), n);
        n
    }

    /// The number of `name`, if some key has it.
    pub(crate) fn find(&self, name: &str) -> Option<u32> {
        self.0.get(name).copied()
    }
}

/// A host paired with a name numbered by [`NameNumbers`].
pub(crate) type NumberedHost = (u32, std::sync::Arc<str>);

impl<T> FlatMap<NumberedHost, Vec<T>> {
    /// The list under (`name`, `host`), inserted empty when absent.
    /// The host of a new key is `share(host)` (the graph's copy, where it has one).
    pub(crate) fn host_list(
        &mut self,
        name: u32,
        host: &str,
        share: impl FnOnce(&str) -> std::sync::Arc<str>,
    ) -> &mut Vec<T> {
        self.entry_hashed(
            hash_of((name, host)),
            |(n, h)| *n == name && &**h == host,
            || ((name, share(host)), crate::tally::new_list()),
        )
    }
}

impl<V: Weight> Tally<FlatMap<NumberedHost, V>> {
    /// The list under (`name`, `host`), numbers from `names`; counted as
    /// [`Tally::get`](Self::get), a name no key has as a miss.
    pub(crate) fn get_host(&self, names: &NameNumbers, name: &str, host: &str) -> Option<&V> {
        let Some(name) = names.find(name) else {
            work::add(1);
            return None;
        };
        let found = (**self).get_hashed(hash_of((name, host)), |(n, h)| *n == name && &**h == host);
        work::add(found.map_or(1, Weight::weight));
        found
    }
}

/// A list of resource numbers, fixed once its index is built: a single number (most
/// keys of the host indexes have one) is held in place, a longer list in one boxed
/// slice. A `Vec` took 24 bytes and an allocation for one number: 5 MB over the host
/// indexes of the 20,000-namespace gen-mesh corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frozen {
    One(usize),
    Many(Box<[usize]>),
}

// One number sits where a boxed slice keeps its length: no larger than the slice.
const _: () = assert!(std::mem::size_of::<Frozen>() == 16);

impl From<Vec<usize>> for Frozen {
    fn from(list: Vec<usize>) -> Frozen {
        match list.as_slice() {
            [one] => Frozen::One(*one),
            _ => Frozen::Many(list.into_boxed_slice()),
        }
    }
}

impl std::ops::Deref for Frozen {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        match self {
            Frozen::One(one) => std::slice::from_ref(one),
            Frozen::Many(many) => many,
        }
    }
}

impl<'a> IntoIterator for &'a Frozen {
    type Item = &'a usize;
    type IntoIter = std::slice::Iter<'a, usize>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Weight for Frozen {
    fn weight(&self) -> u64 {
        self.len().max(1) as u64
    }
}

impl<K: Hash + Eq> FlatMap<K, Vec<usize>> {
    /// The same map with each list [`Frozen`] (and no room to spare).
    pub(crate) fn freeze(self) -> FlatMap<K, Frozen> {
        let mut entries: Vec<(K, Frozen)> = self
            .entries
            .into_iter()
            .map(|(k, list)| (k, Frozen::from(list)))
            .collect();
        entries.shrink_to_fit();
        let mut map = FlatMap {
            entries,
            slots: self.slots,
        };
        if Slots::len_for(map.entries.len()) != map.slots.len() {
            map.rehash(map.entries.len());
        }
        map
    }
}
