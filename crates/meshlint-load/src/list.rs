//! The items of a YAML collection, with the position where the collection ends.
//!
//! A `Box<[T]>` is 16 bytes aligned to 8, so a [`crate::NodeValue`] holding one could not
//! be smaller than 24 bytes. A [`List`] is 12 bytes aligned to 4 (a pointer and a `u32`
//! length), which leaves room for the enum's tag in the scalar variant. Its one
//! allocation starts with the collection's end position, so a [`crate::Node`] keeps only
//! where it starts: a node is 24 bytes, and a tree has about one node for each 8 bytes of
//! YAML (trees are most of a run's memory).
//!
//! A collection of more than `u32::MAX` items would be 96 GiB of nodes; the loader's node
//! budgets stop far below that.

use meshlint_diag::Pos;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// An owned, fixed-length sequence of `T` and an end position (built once; the model's
/// cleaning may drop items with [`crate::retain`]).
#[repr(C, packed(4))]
pub struct List<T> {
    /// The allocation: a [`Pos`], then (aligned for `T`) `len` items.
    ptr: NonNull<u8>,
    len: u32,
    owns: PhantomData<T>,
}

// SAFETY: a `List<T>` owns its items exactly as a `Box<[T]>` does.
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: as above; shared access only hands out `&[T]` and copies of the end.
unsafe impl<T: Sync> Sync for List<T> {}

impl<T> List<T> {
    /// Where the items start in the allocation, after the end position.
    const ITEMS_AT: usize = {
        let align = std::mem::align_of::<T>();
        std::mem::size_of::<Pos>().div_ceil(align) * align
    };

    fn layout(len: usize) -> Layout {
        let size = std::mem::size_of::<T>()
            .checked_mul(len)
            .and_then(|items| items.checked_add(Self::ITEMS_AT))
            .expect("a list's size fits in memory");
        let align = std::mem::align_of::<T>().max(std::mem::align_of::<Pos>());
        Layout::from_size_align(size, align).expect("a list's size fits in memory")
    }

    /// Takes the items of `items`; the end position starts as the default.
    pub fn new(mut items: Vec<T>) -> List<T> {
        let len = u32::try_from(items.len())
            .expect("a YAML collection holds fewer than 2^32 items (the node budget)");
        let layout = Self::layout(items.len());
        // SAFETY: the layout is never zero-sized (it holds a `Pos`).
        let raw = unsafe { alloc(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            handle_alloc_error(layout)
        };
        // SAFETY: the allocation is aligned for `Pos` and `T`, holds a `Pos` at 0 and
        // `len` items at `ITEMS_AT`; the items are moved out of the vector, whose length
        // is then set to 0 so that dropping it frees only its buffer.
        unsafe {
            ptr.as_ptr().cast::<Pos>().write(Pos::default());
            let to = ptr.as_ptr().add(Self::ITEMS_AT).cast::<T>();
            std::ptr::copy_nonoverlapping(items.as_ptr(), to, items.len());
            items.set_len(0);
        }
        List {
            ptr,
            len,
            owns: PhantomData,
        }
    }

    fn items_ptr(&self) -> *mut T {
        let ptr = self.ptr;
        // SAFETY: `ITEMS_AT` is within the allocation (at its end for an empty list).
        unsafe { ptr.as_ptr().add(Self::ITEMS_AT).cast::<T>() }
    }

    /// Where the collection ends.
    pub fn end(&self) -> Pos {
        let ptr = self.ptr;
        // SAFETY: every allocation starts with an initialised, aligned `Pos`.
        unsafe { ptr.as_ptr().cast::<Pos>().read() }
    }

    pub fn set_end(&mut self, end: Pos) {
        let ptr = self.ptr;
        // SAFETY: as in `end`; `&mut self` makes the write unique.
        unsafe { ptr.as_ptr().cast::<Pos>().write(end) }
    }

    /// The items back as a vector (the end position is dropped).
    pub fn into_vec(self) -> Vec<T> {
        let this = std::mem::ManuallyDrop::new(self);
        let len = this.len as usize;
        let mut items = Vec::with_capacity(len);
        // SAFETY: the items are moved into the vector and the allocation freed without
        // dropping them; `ManuallyDrop` keeps `Drop` from running on `this`.
        unsafe {
            std::ptr::copy_nonoverlapping(this.items_ptr(), items.as_mut_ptr(), len);
            items.set_len(len);
            dealloc(this.ptr.as_ptr(), Self::layout(len));
        }
        items
    }

    /// Keeps the items `keep` accepts, in order, and the end position.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        let end = self.end();
        let mut items = std::mem::take(self).into_vec();
        items.retain(keep);
        *self = List::new(items);
        self.set_end(end);
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        let len = self.len as usize;
        // SAFETY: the items are initialised and owned by this list; they and the
        // allocation are freed once, here, with the layout they were allocated with.
        unsafe {
            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(self.items_ptr(), len));
            dealloc(self.ptr.as_ptr(), Self::layout(len));
        }
    }
}

impl<T> Deref for List<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        // SAFETY: `items_ptr` points at `len` initialised items owned by this list.
        unsafe { std::slice::from_raw_parts(self.items_ptr(), self.len as usize) }
    }
}

impl<T> DerefMut for List<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, and `&mut self` makes this access unique.
        unsafe { std::slice::from_raw_parts_mut(self.items_ptr(), self.len as usize) }
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
        let mut copy = List::new(self.to_vec());
        copy.set_end(self.end());
        copy
    }
}

impl<T: PartialEq> PartialEq for List<T> {
    fn eq(&self, other: &List<T>) -> bool {
        self.end() == other.end() && **self == **other
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

    fn strings(items: &[&str]) -> List<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lists_are_twelve_bytes_and_keep_their_items_and_end() {
        assert_eq!(std::mem::size_of::<List<String>>(), 12);
        let mut list = strings(&["a", "b", "c"]);
        let end = Pos { line: 7, column: 3 };
        list.set_end(end);
        assert_eq!(list.len(), 3);
        list[1].push('!');
        assert_eq!(&*list, ["a", "b!", "c"]);
        let copy = list.clone();
        assert_eq!(copy, list);
        assert_eq!(copy.end(), end);
        assert_eq!(format!("{copy:?}"), r#"["a", "b!", "c"]"#);
        list.retain(|s| s != "c");
        assert_eq!(
            (&*list, list.end()),
            (&["a".to_string(), "b!".into()][..], end)
        );
        assert_ne!(copy, list);
        assert_eq!(list.into_vec(), ["a", "b!"]);
        let empty: List<String> = List::default();
        assert!(empty.is_empty());
        assert_eq!(empty.end(), Pos::default());
        assert_eq!(empty.into_iter().count(), 0);
    }

    #[test]
    fn items_of_any_alignment_are_dropped_once() {
        // Counts must add up: a leak or a double drop would change them.
        let counted = std::rc::Rc::new(());
        let list = List::new(vec![counted.clone(), counted.clone()]);
        assert_eq!(std::rc::Rc::strong_count(&counted), 3);
        drop(list);
        assert_eq!(std::rc::Rc::strong_count(&counted), 1);
        let small: List<u8> = List::new(vec![1, 2, 3]);
        assert_eq!(&*small, [1, 2, 3]);
        let wide: List<u128> = List::new(vec![u128::MAX]);
        assert_eq!(wide[0], u128::MAX);
        assert_eq!(wide.as_ptr() as usize % std::mem::align_of::<u128>(), 0);
    }
}
