//! Object identity: one Kubernetes object may be written in several documents.
//!
//! Kustomize bases and overlays, a tutorial's alternative versions of one
//! VirtualService, or two renders of one chart put the same group/kind/namespace/name in
//! several documents. The API server would hold one object, so the graph treats them as
//! alternatives of one object: lookups are satisfied by any of them, and conflict queries
//! never compare an object with its own alternatives.

use crate::build::MeshGraph;
use meshlint_model::UNSET_NAMESPACE;
use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// The identity Kubernetes keys an object by (the API version is not part of it: `v1`
/// and `v1beta1` of one kind are the same stored object).
pub(crate) type ObjectKey = (String, String, String, String);

pub(crate) fn object_key(r: &meshlint_model::Resource) -> ObjectKey {
    let (group, kind, ns, name) = key_of(r);
    (
        group.to_string(),
        kind.to_string(),
        ns.to_string(),
        name.to_string(),
    )
}

/// An object's identity borrowed from its resource: group, kind, namespace, name.
fn key_of(r: &meshlint_model::Resource) -> (&str, &str, &str, &str) {
    (r.group(), &*r.id.kind, r.namespace(), r.name())
}

/// An [`ObjectKey`], owned or borrowed, so the copies table is searched without copying
/// four strings per lookup (queries ask it for every workload and resource they judge).
pub(crate) trait ObjectKeyView {
    fn parts(&self) -> (&str, &str, &str, &str);
}

impl ObjectKeyView for ObjectKey {
    fn parts(&self) -> (&str, &str, &str, &str) {
        (&self.0, &self.1, &self.2, &self.3)
    }
}

impl ObjectKeyView for (&str, &str, &str, &str) {
    fn parts(&self) -> (&str, &str, &str, &str) {
        *self
    }
}

impl<'a> Borrow<dyn ObjectKeyView + 'a> for ObjectKey {
    fn borrow(&self) -> &(dyn ObjectKeyView + 'a) {
        self
    }
}

// Hashed and compared by the strings: a tuple of `String`s hashes as the same tuple of
// `&str`s, as `Borrow` requires.
impl Hash for dyn ObjectKeyView + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl PartialEq for dyn ObjectKeyView + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn ObjectKeyView + '_ {}

impl MeshGraph {
    /// Every document describing the same object as `r` (itself included), in input
    /// order. A resource without a name (`generateName`) is only itself.
    pub fn copies_of(&self, r: usize) -> &[usize] {
        let res = &self.resources[r];
        if res.name().is_empty() {
            return std::slice::from_ref(&self.copy_self[r]);
        }
        let key = key_of(res);
        self.copies
            .get(&key as &dyn ObjectKeyView)
            .map(Vec::as_slice)
            .unwrap_or(std::slice::from_ref(&self.copy_self[r]))
    }

    /// Whether two resources are, or may be, documents of one object (alternatives of
    /// each other). One written without a namespace (no `-n`) may be the same object as
    /// one of its kind and name written with a namespace: it is applied to a namespace
    /// nobody named, which may be that one. Conflict queries report only what is certain,
    /// so they skip both.
    pub fn same_object(&self, a: usize, b: usize) -> bool {
        a == b || self.copies_of(a).contains(&b) || self.maybe_same_object(a, b)
    }

    fn maybe_same_object(&self, a: usize, b: usize) -> bool {
        let (ra, rb) = (&self.resources[a], &self.resources[b]);
        let (ka, kb) = (key_of(ra), key_of(rb));
        !ra.name().is_empty()
            && (ka.0, ka.1, ka.3) == (kb.0, kb.1, kb.3)
            && (ka.2 == UNSET_NAMESPACE) != (kb.2 == UNSET_NAMESPACE)
    }

    /// Whether `r` is the first document of its object in input order (the one a
    /// finding about the object as a whole is reported on).
    pub fn first_copy(&self, r: usize) -> bool {
        self.copies_of(r).first() == Some(&r)
    }
}
