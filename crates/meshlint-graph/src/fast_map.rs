//! The hash tables of the graph's indexes.
//!
//! Their keys are short strings (names, namespaces, hosts) and small tuples of them,
//! looked up hundreds of thousands of times in a large run: the standard library's
//! SipHash, built to resist crafted keys from a network peer, took a fifth of the graph
//! build. foldhash is several times faster on such keys and still seeded at random per
//! process, so nothing may depend on the tables' iteration order, as before.

pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
