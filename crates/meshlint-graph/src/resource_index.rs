//! Lookups of resources by their own fields — (kind, namespace, name), (namespace,
//! kind) and (kind, name) — in hash tables that hold resource numbers only. A lookup compares the key
//! it was given with the resource a slot points at, so no key is copied into the index:
//! the hash maps these replace kept a `String` or two per resource and took 8.5 MB on
//! the 2,000-namespace gen-mesh corpus; these take about 1.

use meshlint_model::{Kind, Resource};
use std::hash::{Hash, Hasher};

/// An open-addressing table of `u32` values (linear probing, at most two thirds full).
/// What a value means and how it compares with a key is the caller's business.
///
/// Two thirds, not half: a table at most half full took twice the room whenever its
/// values passed a quarter of a power of two (the 320,000 resources of the
/// 20,000-namespace gen-mesh corpus took 4 MB instead of 2), and a probe still ends
/// within a few slots.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    slots: Box<[u32]>,
    /// `64 - log2(slots.len())`: a hash's top bits pick the first slot.
    shift: u32,
}

const EMPTY: u32 = u32::MAX;

impl Slots {
    pub(crate) fn with_room_for(n: usize) -> Slots {
        let len = Slots::len_for(n);
        Slots {
            slots: vec![EMPTY; len].into_boxed_slice(),
            shift: 64 - len.trailing_zeros(),
        }
    }

    /// The number of slots [`Slots::with_room_for`] gives `n` values: a power of two
    /// whose two thirds hold them.
    pub(crate) fn len_for(n: usize) -> usize {
        (n.max(1) * 3).div_ceil(2).next_power_of_two()
    }

    /// How many values the table holds before it needs more slots.
    pub(crate) fn room(&self) -> usize {
        self.slots.len() * 2 / 3
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The value whose key `is_key` accepts, among those stored under `hash`.
    pub(crate) fn find(&self, hash: u64, mut is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = (hash >> self.shift) as usize;
        loop {
            match self.slots[at] {
                EMPTY => return None,
                v if is_key(v) => return Some(v),
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// Stores `value` under `hash`; the caller has checked that its key is not stored.
    pub(crate) fn insert(&mut self, hash: u64, value: u32) {
        let mask = self.slots.len() - 1;
        let mut at = (hash >> self.shift) as usize;
        while self.slots[at] != EMPTY {
            at = (at + 1) & mask;
        }
        self.slots[at] = value;
    }
}

/// The Fx hash (as in rustc): quick on short keys; its entropy is in the top bits,
/// which [`Slots`] uses.
struct Fx(u64);

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        // Whole words are read in place and the tail is assembled byte by byte: copying
        // each chunk into a buffer called `memcpy` once per word, which made hashing a
        // host name cost several times its lookup.
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.add(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        let tail = words.remainder();
        if !tail.is_empty() {
            let word = tail
                .iter()
                .rev()
                .fold(0u64, |w, &b| (w << 8) | u64::from(b));
            self.add(word);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) fn hash_of(key: impl Hash) -> u64 {
    let mut h = Fx(0);
    key.hash(&mut h);
    h.finish()
}

/// The first resource of each (kind, namespace, name), namespace as
/// [`Resource::namespace`] gives it.
#[derive(Debug, Default)]
pub(crate) struct ByIdentity(Slots);

impl ByIdentity {
    pub(crate) fn new(resources: &[Resource]) -> ByIdentity {
        let mut slots = Slots::with_room_for(resources.len());
        for (i, r) in resources.iter().enumerate() {
            let hash = hash_of((r.kind, r.namespace(), r.name()));
            if Self::lookup(&slots, resources, hash, r.kind, r.namespace(), r.name()).is_none() {
                slots.insert(hash, i as u32);
            }
        }
        ByIdentity(slots)
    }

    fn lookup(
        slots: &Slots,
        resources: &[Resource],
        hash: u64,
        kind: Kind,
        ns: &str,
        name: &str,
    ) -> Option<usize> {
        slots
            .find(hash, |i| {
                let r = &resources[i as usize];
                r.kind == kind && r.name() == name && r.namespace() == ns
            })
            .map(|i| i as usize)
    }

    pub(crate) fn get(
        &self,
        resources: &[Resource],
        kind: Kind,
        ns: &str,
        name: &str,
    ) -> Option<usize> {
        Self::lookup(
            &self.0,
            resources,
            hash_of((kind, ns, name)),
            kind,
            ns,
            name,
        )
    }
}

/// Resources grouped by a key read from the resource itself, each group in input order:
/// one flat list of resource numbers and where each group starts in it, so a group of
/// one costs a few bytes instead of a hash map entry, a copied key and a `Vec`.
#[derive(Debug, Default)]
struct Groups {
    /// Resource numbers grouped by key.
    order: Box<[usize]>,
    /// Per group: where it starts in `order` (it ends where the next starts).
    starts: Box<[u32]>,
    /// Group numbers, keyed by the key of their first resource.
    groups: Slots,
}

impl Groups {
    /// Groups the resources `keep` accepts; `hash` and `same` hash and compare their keys.
    fn new(
        resources: &[Resource],
        keep: impl Fn(&Resource) -> bool,
        hash: impl Fn(&Resource) -> u64,
        same: impl Fn(&Resource, &Resource) -> bool,
    ) -> Groups {
        let mut groups = Slots::with_room_for(resources.len());
        let mut first: Vec<usize> = Vec::new();
        let mut counts: Vec<u32> = Vec::new();
        let mut group_of = Vec::with_capacity(resources.len());
        for (i, r) in resources.iter().enumerate() {
            if !keep(r) {
                group_of.push(u32::MAX);
                continue;
            }
            let h = hash(r);
            let found = groups.find(h, |g| same(&resources[first[g as usize]], r));
            let g = found.unwrap_or_else(|| {
                let g = first.len() as u32;
                first.push(i);
                counts.push(0);
                groups.insert(h, g);
                g
            });
            counts[g as usize] += 1;
            group_of.push(g);
        }
        let mut starts = Vec::with_capacity(counts.len() + 1);
        let mut total = 0u32;
        for c in &counts {
            starts.push(total);
            total += c;
        }
        starts.push(total);
        // The table was sized for one group per resource while grouping; a table sized
        // for the groups found holds the same answers (a namespace's 16 resources of
        // eight kinds took four times the room).
        let mut groups = Slots::with_room_for(first.len());
        for (g, &i) in first.iter().enumerate() {
            groups.insert(hash(&resources[i]), g as u32);
        }
        let mut next: Vec<u32> = starts[..counts.len()].to_vec();
        let mut order = vec![0usize; total as usize];
        for (i, g) in group_of.into_iter().enumerate() {
            if g == u32::MAX {
                continue;
            }
            let at = &mut next[g as usize];
            order[*at as usize] = i;
            *at += 1;
        }
        // Kept for the lookups' comparisons: the first resource of group `g` is
        // `order[starts[g]]`.
        Groups {
            order: order.into_boxed_slice(),
            starts: starts.into_boxed_slice(),
            groups,
        }
    }

    /// The group whose first resource `is_key` accepts, among those hashed to `hash`.
    fn get<'a>(
        &'a self,
        resources: &[Resource],
        hash: u64,
        is_key: impl Fn(&Resource) -> bool,
    ) -> &'a [usize] {
        let found = self.groups.find(hash, |g| {
            is_key(&resources[self.order[self.starts[g as usize] as usize]])
        });
        match found {
            Some(g) => {
                let g = g as usize;
                &self.order[self.starts[g] as usize..self.starts[g + 1] as usize]
            }
            None => &[],
        }
    }
}

/// Resources by (namespace, kind), each group in input order.
#[derive(Debug, Default)]
pub(crate) struct ByNamespaceKind(Groups);

impl ByNamespaceKind {
    pub(crate) fn new(resources: &[Resource]) -> ByNamespaceKind {
        ByNamespaceKind(Groups::new(
            resources,
            |_| true,
            |r| hash_of((r.namespace(), r.kind)),
            |a, b| a.kind == b.kind && a.namespace() == b.namespace(),
        ))
    }

    pub(crate) fn get(&self, resources: &[Resource], ns: &str, kind: Kind) -> &[usize] {
        self.0.get(resources, hash_of((ns, kind)), |f| {
            f.kind == kind && f.namespace() == ns
        })
    }
}

/// Resources by (kind, name) in every namespace, each group in input order.
#[derive(Debug, Default)]
pub(crate) struct ByKindName(Groups);

impl ByKindName {
    pub(crate) fn new(resources: &[Resource]) -> ByKindName {
        ByKindName(Groups::new(
            resources,
            |_| true,
            |r| hash_of((r.kind, r.name())),
            |a, b| a.kind == b.kind && a.name() == b.name(),
        ))
    }

    pub(crate) fn get(&self, resources: &[Resource], kind: Kind, name: &str) -> &[usize] {
        self.0.get(resources, hash_of((kind, name)), |f| {
            f.kind == kind && f.name() == name
        })
    }
}
