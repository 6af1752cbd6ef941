//! The items of a YAML collection, and where the collection ends when that is not where
//! its last item ends.
//!
//! A `Box<[T]>` is 16 bytes aligned to 8, so a [`crate::NodeValue`] holding one could not
//! be smaller than 24 bytes. A [`List`] is 12 bytes aligned to 4 (a pointer and a `u32`
//! length), which leaves room for the enum's tag in the scalar variant, so a
//! [`crate::Node`] is 24 bytes (a tree has about one node for each 8 bytes of YAML, and
//! trees are most of a run's memory).
//!
//! A node keeps where it starts; a collection ends where its last item ends, as both
//! parsers build them, so a list stores an end only when that is not so: an empty list
//! keeps it in place of the pointer (and allocates nothing), and a list whose items were
//! filtered or whose node was moved keeps it at the head of its allocation.
//!
//! A collection of more than 2^31 items would be 48 GiB of nodes; the loader's node
//! budgets stop far below that.

use meshlint_diag::Pos;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

/// Where an item of a list ends: a node's end, or an entry's value's.
pub trait Ends {
    fn end(&self) -> Pos;
}

/// An owned, fixed-length sequence of `T` (built once; the model's cleaning may drop items
/// with [`List::retain`]).
#[repr(C, packed(4))]
pub struct List<T> {
    raw: Raw,
    /// The number of items, and [`List::STORED_END`] when a non-empty list's allocation
    /// starts with its end.
    meta: u32,
    owns: PhantomData<T>,
}

#[repr(C)]
#[derive(Clone, Copy)]
union Raw {
    /// A non-empty list's allocation: its end if stored, then (aligned for `T`) the items.
    ptr: *mut u8,
    /// An empty list's end.
    end: Pos,
}

// SAFETY: a `List<T>` owns its items exactly as a `Box<[T]>` does.
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: as above; shared access only hands out `&[T]` and copies of the end.
unsafe impl<T: Sync> Sync for List<T> {}

impl<T> List<T> {
    const STORED_END: u32 = 1 << 31;

    /// Where the items start in an allocation that holds an end first.
    const ITEMS_AFTER_END: usize = {
        let align = std::mem::align_of::<T>();
        std::mem::size_of::<Pos>().div_ceil(align) * align
    };

    fn layout(len: usize, stored_end: bool) -> Layout {
        let (head, head_align) = if stored_end {
            (Self::ITEMS_AFTER_END, std::mem::align_of::<Pos>())
        } else {
            (0, 1)
        };
        let size = std::mem::size_of::<T>()
            .checked_mul(len)
            .and_then(|items| items.checked_add(head))
            .expect("a list's size fits in memory");
        let align = std::mem::align_of::<T>().max(head_align);
        Layout::from_size_align(size, align).expect("a list's size fits in memory")
    }

    fn stores_end(&self) -> bool {
        self.meta & Self::STORED_END != 0
    }

    fn items_ptr(&self) -> *mut T {
        if self.meta == 0 {
            return std::ptr::NonNull::dangling().as_ptr();
        }
        let at = if self.stores_end() {
            Self::ITEMS_AFTER_END
        } else {
            0
        };
        // SAFETY: a non-empty list's `ptr` is its allocation, which holds the items at
        // `at`.
        unsafe { self.raw.ptr.add(at).cast::<T>() }
    }

    /// An empty list ending at the default position.
    pub fn empty() -> List<T> {
        List {
            raw: Raw {
                end: Pos::default(),
            },
            meta: 0,
            owns: PhantomData,
        }
    }

    /// Takes the items of `items`; the list ends where its last item ends.
    pub fn new(items: Vec<T>) -> List<T> {
        List::with_end(items, None)
    }

    /// Takes the items of `items`, storing `end` if there is one.
    fn with_end(items: Vec<T>, end: Option<Pos>) -> List<T> {
        let mut list = Self::allocate(items.len(), end.is_some());
        let mut items = std::mem::ManuallyDrop::new(items);
        // SAFETY: the list has room for exactly `items.len()` items, moved out of the
        // vector, whose length is then set to 0 so that dropping it frees only its buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(items.as_ptr(), list.items_ptr(), items.len());
            items.set_len(0);
            std::mem::ManuallyDrop::drop(&mut items);
        }
        if let Some(end) = end {
            list.write_stored_end(end);
        }
        list
    }

    /// Writes the end of an empty list, or of one allocated to store its end.
    fn write_stored_end(&mut self, end: Pos) {
        if self.meta == 0 {
            self.raw = Raw { end };
        } else {
            assert!(self.stores_end(), "the list was allocated to store its end");
            // SAFETY: such an allocation starts with room for an aligned `Pos`; `&mut self`
            // makes the write unique.
            unsafe { self.raw.ptr.cast::<Pos>().write(end) }
        }
    }

    /// Moves the drained items straight into a list (a parser's stack of finished
    /// items), without the vector `collect` would build first and free.
    pub fn from_drain(mut items: std::vec::Drain<'_, T>) -> List<T> {
        let list = Self::allocate(items.len(), false);
        let to = list.items_ptr();
        for i in 0..list.len() {
            // A `Drain` yields exactly `len()` items; it cannot panic.
            let item = items.next().expect("a drain yields its length");
            // SAFETY: `i` is below the length the list was allocated for.
            unsafe { to.add(i).write(item) };
        }
        list
    }

    /// A list of `len` items whose items the caller must write before it is used or
    /// dropped; with `stored_end`, its end is the default position.
    fn allocate(len: usize, stored_end: bool) -> List<T> {
        if len == 0 {
            return List::empty();
        }
        let len32 = u32::try_from(len)
            .ok()
            .filter(|n| n & Self::STORED_END == 0)
            .expect("a YAML collection holds fewer than 2^31 items (the node budget)");
        let layout = Self::layout(len, stored_end);
        // SAFETY: the layout is not zero-sized (it holds at least one item; items of
        // zero size are not stored in lists).
        let ptr = unsafe { alloc(layout) };
        if ptr.is_null() {
            handle_alloc_error(layout)
        }
        if stored_end {
            // SAFETY: the allocation is aligned for `Pos` and starts with room for one.
            unsafe { ptr.cast::<Pos>().write(Pos::default()) };
        }
        let flag = if stored_end { Self::STORED_END } else { 0 };
        List {
            raw: Raw { ptr },
            meta: len32 | flag,
            owns: PhantomData,
        }
    }

    /// The end this list stores: always for an empty list, else only when it is not the
    /// last item's.
    fn stored_end(&self) -> Option<Pos> {
        if self.meta == 0 {
            // SAFETY: an empty list's `raw` is its end.
            Some(unsafe { self.raw.end })
        } else if self.stores_end() {
            // SAFETY: the allocation starts with an initialised, aligned `Pos`.
            Some(unsafe { self.raw.ptr.cast::<Pos>().read() })
        } else {
            None
        }
    }

    /// The items back as a vector (the stored end is dropped).
    pub fn into_vec(self) -> Vec<T> {
        let this = std::mem::ManuallyDrop::new(self);
        let len = this.len();
        if len == 0 {
            return Vec::new();
        }
        let mut items = Vec::with_capacity(len);
        // SAFETY: the items are moved into the vector and the allocation freed without
        // dropping them; `ManuallyDrop` keeps `Drop` from running on `this`.
        unsafe {
            std::ptr::copy_nonoverlapping(this.items_ptr(), items.as_mut_ptr(), len);
            items.set_len(len);
            dealloc(this.raw.ptr, Self::layout(len, this.stores_end()));
        }
        items
    }
}

impl<T: Ends> List<T> {
    /// Where the collection ends.
    pub fn end(&self) -> Pos {
        match self.stored_end() {
            Some(end) => end,
            None => self.last().map(Ends::end).unwrap_or_default(),
        }
    }

    /// Records where the collection ends, storing it only when the last item does not
    /// end there.
    pub fn set_end(&mut self, end: Pos) {
        if self.meta == 0 || self.stores_end() {
            self.write_stored_end(end);
        } else if self.last().map(Ends::end) != Some(end) {
            let items = std::mem::take(self).into_vec();
            *self = List::with_end(items, Some(end));
        }
    }

    /// Keeps the items `keep` accepts (asked once per item, in order); the collection
    /// still ends where it did. Keeping every item (the usual case: the model's cleaning
    /// calls this on every map it checks) changes nothing and allocates nothing.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let mut verdicts = self.iter().map(&mut keep);
        let Some(first_dropped) = verdicts.position(|kept| !kept) else {
            return;
        };
        let later: Vec<bool> = verdicts.collect();
        let end = self.end();
        let mut items = std::mem::take(self).into_vec();
        let mut i = 0;
        items.retain(|_| {
            let kept = match i.cmp(&first_dropped) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Equal => false,
                std::cmp::Ordering::Greater => later[i - first_dropped - 1],
            };
            i += 1;
            kept
        });
        *self = List::new(items);
        self.set_end(end);
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        let len = self.len();
        if len == 0 {
            return;
        }
        // SAFETY: the items are initialised and owned by this list; they and the
        // allocation are freed once, here, with the layout they were allocated with.
        unsafe {
            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(self.items_ptr(), len));
            dealloc(self.raw.ptr, Self::layout(len, self.stores_end()));
        }
    }
}

impl<T> Deref for List<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        let len = (self.meta & !Self::STORED_END) as usize;
        // SAFETY: `items_ptr` points at `len` initialised items owned by this list (for
        // an empty list, a dangling but aligned pointer).
        unsafe { std::slice::from_raw_parts(self.items_ptr(), len) }
    }
}

impl<T> DerefMut for List<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        let len = (self.meta & !Self::STORED_END) as usize;
        // SAFETY: as in `deref`, and `&mut self` makes this access unique.
        unsafe { std::slice::from_raw_parts_mut(self.items_ptr(), len) }
    }
}

impl<T> Default for List<T> {
    fn default() -> List<T> {
        List::empty()
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
        List::with_end(self.to_vec(), self.stored_end())
    }
}

/// Equal items and end (a stored end equal to the last item's equals a derived one).
impl<T: PartialEq + Ends> PartialEq for List<T> {
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

    /// A test item that ends where it says.
    #[derive(Debug, Clone, PartialEq)]
    struct Item(&'static str, u32);

    impl Ends for Item {
        fn end(&self) -> Pos {
            Pos {
                line: self.1,
                column: 1,
            }
        }
    }

    fn at(line: u32) -> Pos {
        Pos { line, column: 1 }
    }

    #[test]
    fn lists_are_twelve_bytes_and_end_where_their_last_item_does() {
        assert_eq!(std::mem::size_of::<List<Item>>(), 12);
        let mut list = List::new(vec![Item("a", 1), Item("b", 2), Item("c", 3)]);
        assert_eq!(
            (list.len(), list.end(), list.stored_end()),
            (3, at(3), None)
        );
        list[1].0 = "b!";
        assert_eq!(list[1], Item("b!", 2));
        // The same end stores nothing; another end is stored, and kept by a copy.
        list.set_end(at(3));
        assert_eq!(list.stored_end(), None);
        list.set_end(at(9));
        assert_eq!((list.end(), list.stored_end()), (at(9), Some(at(9))));
        let copy = list.clone();
        assert_eq!((copy.end(), &copy), (at(9), &list));
        assert_eq!(
            format!("{:?}", copy.iter().map(|i| i.0).collect::<Vec<_>>()),
            r#"["a", "b!", "c"]"#
        );
        // Dropping the last item keeps the collection's end; `keep` is asked once per
        // item, in order.
        let mut derived = List::new(vec![Item("a", 1), Item("b", 2)]);
        let mut asked = Vec::new();
        derived.retain(|i| {
            asked.push(i.0);
            true
        });
        assert_eq!((asked, derived.stored_end()), (vec!["a", "b"], None));
        derived.retain(|i| i.0 == "a");
        assert_eq!((derived.len(), derived.end()), (1, at(2)));
        assert_ne!(derived, List::new(vec![Item("a", 1)]));
        // Items after the first dropped one keep or go as `keep` said, in order.
        let mut mixed = List::new(vec![Item("a", 1), Item("b", 2), Item("c", 3), Item("d", 4)]);
        let mut asked = 0;
        mixed.retain(|i| {
            asked += 1;
            i.0 != "b" && i.0 != "d"
        });
        assert_eq!(
            (asked, &*mixed, mixed.end()),
            (4, &[Item("a", 1), Item("c", 3)][..], at(4))
        );
        assert_eq!(list.into_vec(), [Item("a", 1), Item("b!", 2), Item("c", 3)]);
    }

    #[test]
    fn empty_lists_allocate_nothing_and_keep_their_end() {
        let mut empty: List<Item> = List::default();
        assert!(empty.is_empty());
        assert_eq!(empty.end(), Pos::default());
        empty.set_end(at(4));
        assert_eq!((empty.end(), empty.clone().end()), (at(4), at(4)));
        let mut emptied = List::new(vec![Item("a", 1)]);
        emptied.retain(|_| false);
        assert_eq!((emptied.len(), emptied.end()), (0, at(1)));
        assert_eq!(empty.into_iter().count(), 0);
        let mut stack = vec![Item("x", 1), Item("y", 2), Item("z", 3)];
        let drained = List::from_drain(stack.drain(1..));
        assert_eq!(
            (&*drained, drained.end()),
            (&[Item("y", 2), Item("z", 3)][..], at(3))
        );
        assert_eq!(stack, [Item("x", 1)]);
    }

    #[test]
    fn items_of_any_alignment_are_dropped_once() {
        // Counts must add up: a leak or a double drop would change them.
        let counted = std::rc::Rc::new(());
        let list = List::new(vec![counted.clone(), counted.clone()]);
        assert_eq!(std::rc::Rc::strong_count(&counted), 3);
        let copy = list.clone();
        assert_eq!(std::rc::Rc::strong_count(&counted), 5);
        drop((list, copy));
        assert_eq!(std::rc::Rc::strong_count(&counted), 1);
        let small: List<u8> = List::new(vec![1, 2, 3]);
        assert_eq!(&*small, [1, 2, 3]);
        let wide: List<u128> = List::new(vec![u128::MAX]);
        assert_eq!(wide[0], u128::MAX);
        assert_eq!(wide.as_ptr() as usize % std::mem::align_of::<u128>(), 0);
    }

    #[test]
    fn a_stored_end_keeps_items_of_any_alignment_aligned() {
        #[derive(Clone, PartialEq, Debug)]
        struct Wide(u128);
        impl Ends for Wide {
            fn end(&self) -> Pos {
                at(1)
            }
        }
        let mut list = List::new(vec![Wide(7), Wide(8)]);
        list.set_end(at(5));
        assert_eq!((list.end(), list[1].0), (at(5), 8));
        assert_eq!(list.as_ptr() as usize % std::mem::align_of::<u128>(), 0);
        let copy = list.clone();
        assert_eq!(copy, list);
    }
}
