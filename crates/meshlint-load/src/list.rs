//! The items of a YAML collection: a boxed slice whose length is a `u32`.
//!
//! A `Box<[T]>` is 16 bytes aligned to 8, so a [`crate::NodeValue`] holding one could not
//! be smaller than 24 bytes. A [`List`] is 12 bytes aligned to 4, which leaves room for
//! the enum's tag in the scalar variant and makes every node 8 bytes smaller (a tree has
//! about one node for each 8 bytes of YAML, and trees are most of a run's memory).
//! A collection of more than `u32::MAX` items would be 128 GiB of nodes; the loader's node
//! budgets stop far below that.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// An owned, fixed-length sequence of `T` (built once; the model's cleaning may drop items
/// with [`crate::retain`]).
#[repr(C, packed(4))]
pub struct List<T> {
    // The pointer and length of a leaked `Box<[T]>`, which `Drop` turns back into one.
    ptr: NonNull<T>,
    len: u32,
    owns: PhantomData<T>,
}

// SAFETY: a `List<T>` owns its items exactly as a `Box<[T]>` does.
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: as above; shared access only hands out `&[T]`.
unsafe impl<T: Sync> Sync for List<T> {}

impl<T> List<T> {
    /// Takes the items of `items`, dropping its spare capacity.
    pub fn new(items: Vec<T>) -> List<T> {
        let len = u32::try_from(items.len())
            .expect("a YAML collection holds fewer than 2^32 items (the node budget)");
        let boxed: Box<[T]> = items.into_boxed_slice();
        let ptr = NonNull::from(Box::leak(boxed)).cast::<T>();
        List {
            ptr,
            len,
            owns: PhantomData,
        }
    }

    /// The items back as a vector (no copy).
    pub fn into_vec(self) -> Vec<T> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `ptr` and `len` came from a leaked `Box<[T]>` that nothing else owns;
        // `ManuallyDrop` keeps `Drop` from freeing it a second time.
        unsafe { this.reclaim() }.into_vec()
    }

    /// Rebuilds the box this list was made from. The caller must not use `self` again.
    unsafe fn reclaim(&self) -> Box<[T]> {
        let (ptr, len) = (self.ptr, self.len);
        // SAFETY (caller): see `into_vec` and `drop`.
        unsafe {
            Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                ptr.as_ptr(),
                len as usize,
            ))
        }
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        // SAFETY: the box is owned by this list only and is rebuilt once, here.
        drop(unsafe { self.reclaim() });
    }
}

impl<T> Deref for List<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        let (ptr, len) = (self.ptr, self.len);
        // SAFETY: `ptr` points at `len` initialised items owned by this list (for an empty
        // list, the dangling but aligned pointer of an empty box).
        unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len as usize) }
    }
}

impl<T> DerefMut for List<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        let (ptr, len) = (self.ptr, self.len);
        // SAFETY: as in `deref`, and `&mut self` makes this access unique.
        unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr(), len as usize) }
    }
}

impl<T> Default for List<T> {
    fn default() -> List<T> {
        List::new(Vec::new())
    }
}

impl<T> From<Vec<T>> for List<T> {
    fn from(items: Vec<T>) -> List<T> {
        List::new(items)
    }
}

impl<T> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> List<T> {
        List::new(iter.into_iter().collect())
    }
}

impl<T: Clone> Clone for List<T> {
    fn clone(&self) -> List<T> {
        List::new(self.to_vec())
    }
}

impl<T: PartialEq> PartialEq for List<T> {
    fn eq(&self, other: &List<T>) -> bool {
        **self == **other
    }
}

impl<T: fmt::Debug> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> IntoIterator for List<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl<'a, T> IntoIterator for &'a List<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut List<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_twelve_bytes_and_keep_their_items() {
        assert_eq!(std::mem::size_of::<List<String>>(), 12);
        let mut list: List<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(list.len(), 3);
        list[1].push('!');
        assert_eq!(&*list, ["a", "b!", "c"]);
        let copy = list.clone();
        assert_eq!(copy, list);
        assert_eq!(format!("{copy:?}"), r#"["a", "b!", "c"]"#);
        assert_eq!(list.into_vec(), ["a", "b!", "c"]);
        let empty: List<String> = List::default();
        assert!(empty.is_empty());
        assert_eq!(empty.into_iter().count(), 0);
        // Items are dropped with the list (a leak or a double free would show under Miri
        // or a sanitizer; here the counts must add up).
        let counted = std::rc::Rc::new(());
        let list = List::new(vec![counted.clone(), counted.clone()]);
        assert_eq!(std::rc::Rc::strong_count(&counted), 3);
        drop(list);
        assert_eq!(std::rc::Rc::strong_count(&counted), 1);
    }
}
