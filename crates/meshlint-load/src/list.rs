//! The items of a YAML collection, and where the collection ends when that is not where
//! its last item ends.
//!
//! A `Box<[T]>` is 16 bytes aligned to 8, so a [`crate::NodeValue`] holding one could not
//! be smaller than 24 bytes. A [`List`] is 12 bytes aligned to 4 (a pointer and a `u32`
//! length), which leaves room for the enum's tag in the scalar variant, so a value is 16
//! bytes aligned to 4 and a [`crate::Node`] 20 (a tree has about one node for each 8
//! bytes of YAML, and trees are most of a run's memory).
//!
//! A node keeps where it starts; a collection ends where its last item ends, as both
//! parsers build them, so a list stores an end only when that is not so: an empty list
//! keeps it in place of the pointer (and allocates nothing), and a list whose items were
//! filtered or whose node was moved keeps it at the head of its allocation. A node whose
//! start does not fit in its four bytes (see [`crate::Node`]) has its list keep the whole
//! span at the head of the allocation, also when the list is empty.
//!
//! A collection of more than 2^30 items would be 20 GiB of nodes; the loader's node
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
    /// The number of items, with [`List::STORED_END`] when the allocation starts with the
    /// list's end, or with [`List::STORED_END`] and [`List::STORED_START`] when it starts
    /// with the node's start and then the end. 0 for an empty list that stores its end in
    /// place of the pointer.
    meta: u32,
    owns: PhantomData<T>,
}

#[repr(C)]
#[derive(Clone, Copy)]
union Raw {
    /// The allocation of a list that is not empty or keeps a span: the start and end it
    /// stores, if any, then (aligned for `T`) the items.
    ptr: *mut u8,
    /// An empty list's end.
    end: Pos,
}

// SAFETY: a `List<T>` owns its items exactly as a `Box<[T]>` does.
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: as above; shared access only hands out `&[T]` and copies of the end.
unsafe impl<T: Sync> Sync for List<T> {}

/// What an allocation holds before the items.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Head {
    Nothing,
    End,
    /// The node's start, then the end.
    Span,
}

impl Head {
    fn flags(self) -> u32 {
        match self {
            Head::Nothing => 0,
            Head::End => STORED_END,
            Head::Span => STORED_END | STORED_START,
        }
    }

    fn positions(self) -> usize {
        match self {
            Head::Nothing => 0,
            Head::End => 1,
            Head::Span => 2,
        }
    }
}

const STORED_END: u32 = 1 << 31;
const STORED_START: u32 = 1 << 30;
const LENGTH: u32 = !(STORED_END | STORED_START);
const POS_BYTES: usize = std::mem::size_of::<Pos>();

impl<T> List<T> {
    /// Where the items start after `head`: its positions, rounded up to `T`'s alignment.
    fn items_offset(head: Head) -> usize {
        let align = std::mem::align_of::<T>();
        (head.positions() * POS_BYTES).div_ceil(align) * align
    }

    fn layout(len: usize, head: Head) -> Layout {
        let head_align = match head {
            Head::Nothing => 1,
            _ => std::mem::align_of::<Pos>(),
        };
        let size = std::mem::size_of::<T>()
            .checked_mul(len)
            .and_then(|items| items.checked_add(Self::items_offset(head)))
            .expect("a list's size fits in memory");
        let align = std::mem::align_of::<T>().max(head_align);
        Layout::from_size_align(size, align).expect("a list's size fits in memory")
    }

    fn head(&self) -> Head {
        if self.meta & STORED_START != 0 {
            Head::Span
        } else if self.meta & STORED_END != 0 {
            Head::End
        } else {
            Head::Nothing
        }
    }

    fn items_ptr(&self) -> *mut T {
        if self.meta == 0 {
            return std::ptr::NonNull::dangling().as_ptr();
        }
        // SAFETY: a list whose `meta` is not 0 has an allocation in `ptr`, which holds
        // the items (possibly none, after a span) at this offset.
        unsafe {
            self.raw
                .ptr
                .add(Self::items_offset(self.head()))
                .cast::<T>()
        }
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
        let head = if end.is_some() {
            Head::End
        } else {
            Head::Nothing
        };
        let mut list = Self::filled(items, head);
        if let Some(end) = end {
            list.write_stored_end(end);
        }
        list
    }

    /// Takes the items of `items`, storing the node's start and the list's end.
    fn with_span(items: Vec<T>, start: Pos, end: Pos) -> List<T> {
        let mut list = Self::filled(items, Head::Span);
        list.write_stored_end(end);
        // SAFETY: a list allocated with `Head::Span` starts with room for an aligned
        // `Pos`; the list is not shared yet.
        unsafe { list.raw.ptr.cast::<Pos>().write(start) };
        list
    }

    /// A list of `items` allocated with `head` (its positions the default one).
    fn filled(items: Vec<T>, head: Head) -> List<T> {
        let list = Self::allocate(items.len(), head);
        let mut items = std::mem::ManuallyDrop::new(items);
        // SAFETY: the list has room for exactly `items.len()` items, moved out of the
        // vector, whose length is then set to 0 so that dropping it frees only its buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(items.as_ptr(), list.items_ptr(), items.len());
            items.set_len(0);
            std::mem::ManuallyDrop::drop(&mut items);
        }
        list
    }

    /// Where in the allocation the stored end is (after the start, for a span).
    fn end_offset(&self) -> usize {
        (self.head().positions() - 1) * POS_BYTES
    }

    /// Writes the end of an empty list, or of one allocated to store its end.
    fn write_stored_end(&mut self, end: Pos) {
        if self.meta == 0 {
            self.raw = Raw { end };
        } else {
            assert!(
                self.head() != Head::Nothing,
                "the list was allocated to store its end"
            );
            // SAFETY: such an allocation starts with room for one or two aligned `Pos`
            // (start, then end); `&mut self` makes the write unique.
            unsafe { self.raw.ptr.add(self.end_offset()).cast::<Pos>().write(end) }
        }
    }

    /// Moves the drained items straight into a list (a parser's stack of finished
    /// items), without the vector `collect` would build first and free.
    pub fn from_drain(mut items: std::vec::Drain<'_, T>) -> List<T> {
        let list = Self::allocate(items.len(), Head::Nothing);
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
    /// dropped; the positions of its `head` are the default one. An empty list
    /// allocates only to keep a span.
    fn allocate(len: usize, head: Head) -> List<T> {
        if len == 0 && head != Head::Span {
            return List::empty();
        }
        let len32 = u32::try_from(len)
            .ok()
            .filter(|n| n & !LENGTH == 0)
            .expect("a YAML collection holds fewer than 2^30 items (the node budget)");
        let layout = Self::layout(len, head);
        // SAFETY: the layout is not zero-sized (it holds at least one item, and items of
        // zero size are not stored in lists, or a span).
        let ptr = unsafe { alloc(layout) };
        if ptr.is_null() {
            handle_alloc_error(layout)
        }
        for i in 0..head.positions() {
            // SAFETY: the allocation is aligned for `Pos` and starts with room for
            // `head.positions()` of them.
            unsafe { ptr.cast::<Pos>().add(i).write(Pos::default()) };
        }
        List {
            raw: Raw { ptr },
            meta: len32 | head.flags(),
            owns: PhantomData,
        }
    }

    /// The end this list stores: always for an empty list, else only when it is not the
    /// last item's or the list keeps a span.
    fn stored_end(&self) -> Option<Pos> {
        if self.meta == 0 {
            // SAFETY: an empty list's `raw` is its end.
            Some(unsafe { self.raw.end })
        } else if self.head() != Head::Nothing {
            // SAFETY: the allocation starts with initialised, aligned positions, the
            // end last.
            Some(unsafe { self.raw.ptr.add(self.end_offset()).cast::<Pos>().read() })
        } else {
            None
        }
    }

    /// The start of the node this list is the value of, when the node could not keep it.
    pub(crate) fn stored_start(&self) -> Option<Pos> {
        // SAFETY: a span's allocation starts with the initialised, aligned start.
        (self.head() == Head::Span).then(|| unsafe { self.raw.ptr.cast::<Pos>().read() })
    }

    /// The items back as a vector (the stored end is dropped).
    pub fn into_vec(self) -> Vec<T> {
        let this = std::mem::ManuallyDrop::new(self);
        if this.meta == 0 {
            return Vec::new();
        }
        let len = this.len();
        let mut items = Vec::with_capacity(len);
        // SAFETY: the items are moved into the vector and the allocation freed without
        // dropping them; `ManuallyDrop` keeps `Drop` from running on `this`.
        unsafe {
            std::ptr::copy_nonoverlapping(this.items_ptr(), items.as_mut_ptr(), len);
            items.set_len(len);
            dealloc(this.raw.ptr, Self::layout(len, this.head()));
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
    /// end there. A span the list kept is dropped: its node keeps its start again.
    pub fn set_end(&mut self, end: Pos) {
        if self.head() == Head::Span {
            *self = List::new(std::mem::take(self).into_vec());
        }
        if self.meta == 0 || self.head() == Head::End {
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
        let (start, end) = (self.stored_start(), self.end());
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
        *self = match start {
            Some(start) => List::with_span(items, start, end),
            None => {
                let mut list = List::new(items);
                list.set_end(end);
                list
            }
        };
    }

    /// Keeps the node's start and the collection's end (for a node whose start does not
    /// fit in it).
    pub(crate) fn store_span(&mut self, start: Pos, end: Pos) {
        if self.head() == Head::Span {
            self.write_stored_end(end);
            // SAFETY: as in `with_span`; `&mut self` makes the write unique.
            unsafe { self.raw.ptr.cast::<Pos>().write(start) };
        } else {
            *self = List::with_span(std::mem::take(self).into_vec(), start, end);
        }
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        if self.meta == 0 {
            return;
        }
        let len = self.len();
        // SAFETY: the items are initialised and owned by this list; they and the
        // allocation are freed once, here, with the layout they were allocated with.
        unsafe {
            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(self.items_ptr(), len));
            dealloc(self.raw.ptr, Self::layout(len, self.head()));
        }
    }
}

impl<T> Deref for List<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        let len = (self.meta & LENGTH) as usize;
        // SAFETY: `items_ptr` points at `len` initialised items owned by this list (for
        // an empty list, a dangling but aligned pointer).
        unsafe { std::slice::from_raw_parts(self.items_ptr(), len) }
    }
}

impl<T> DerefMut for List<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        let len = (self.meta & LENGTH) as usize;
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
        match (self.stored_start(), self.stored_end()) {
            (Some(start), Some(end)) => List::with_span(self.to_vec(), start, end),
            (_, end) => List::with_end(self.to_vec(), end),
        }
    }
}

/// Equal items, end and stored start (a stored end equal to the last item's equals a
/// derived one).
impl<T: PartialEq + Ends> PartialEq for List<T> {
    fn eq(&self, other: &List<T>) -> bool {
        self.end() == other.end()
            && self.stored_start() == other.stored_start()
            && **self == **other
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
        // A kept span (start, then end) keeps them aligned too, and moves with the items.
        list.store_span(at(2), at(6));
        assert_eq!(
            (list.stored_start(), list.end(), list[0].0),
            (Some(at(2)), at(6), 7)
        );
        assert_eq!(list.as_ptr() as usize % std::mem::align_of::<u128>(), 0);
        assert_ne!(list, copy);
        list.set_end(at(5));
        assert_eq!((list.stored_start(), &list), (None, &copy));
    }

    impl Ends for std::rc::Rc<()> {
        fn end(&self) -> Pos {
            at(1)
        }
    }

    #[test]
    fn a_kept_span_is_freed_once_and_survives_copies_and_filtering() {
        let counted = std::rc::Rc::new(());
        let mut empty: List<std::rc::Rc<()>> = List::default();
        empty.store_span(at(3), at(3));
        let copy = empty.clone();
        assert_eq!(
            (copy.stored_start(), copy.stored_end()),
            (Some(at(3)), Some(at(3)))
        );
        assert_eq!((empty.len(), empty.into_vec().len()), (0, 0));
        let mut list = List::new(vec![counted.clone(), counted.clone(), counted.clone()]);
        list.store_span(at(1), at(8));
        let mut seen = 0;
        list.retain(|_| {
            seen += 1;
            seen != 2
        });
        assert_eq!(std::rc::Rc::strong_count(&counted), 3);
        assert_eq!(
            (list.len(), list.stored_start(), list.stored_end()),
            (2, Some(at(1)), Some(at(8)))
        );
        let copy = list.clone();
        assert_eq!(std::rc::Rc::strong_count(&counted), 5);
        drop((list, copy));
        assert_eq!(std::rc::Rc::strong_count(&counted), 1);
    }
}
