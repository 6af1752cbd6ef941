//! A count of the work graph queries do, for the complexity test (issue 17).
//!
//! Timing tests are useless on a shared machine; counting is not. Queries add what they
//! walk (elements handed out by an index, candidates a suggestion compares, expression
//! steps of the CEL interpreter), and the rule engine reads the count around each rule
//! to say how much work each rule did. The test then checks that the work of every
//! rule grows at most linearly with the input. The count is per thread, so rules
//! evaluated in parallel do not mix their counts, and it costs one thread-local add.

use std::cell::Cell;

thread_local! {
    static WORK: Cell<u64> = const { Cell::new(0) };
}

/// Records `n` units of work done by the current thread.
#[inline]
pub fn add(n: u64) {
    WORK.with(|w| w.set(w.get().wrapping_add(n)));
}

/// Work done by the current thread so far (differences between two reads are what
/// mean something).
#[inline]
pub fn so_far() -> u64 {
    WORK.with(Cell::get)
}

/// An iterator that records one unit of work per element it yields.
pub struct Counted<I>(pub I);

impl<I: Iterator> Iterator for Counted<I> {
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        let item = self.0.next();
        if item.is_some() {
            add(1);
        }
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<I: DoubleEndedIterator> DoubleEndedIterator for Counted<I> {
    #[inline]
    fn next_back(&mut self) -> Option<I::Item> {
        let item = self.0.next_back();
        if item.is_some() {
            add(1);
        }
        item
    }
}

impl<I: ExactSizeIterator> ExactSizeIterator for Counted<I> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_is_walked_on_this_thread() {
        let before = so_far();
        let n = Counted([1, 2, 3].iter()).take(2).count();
        add(5);
        assert_eq!(n, 2);
        assert_eq!(so_far() - before, 7);
        let other = std::thread::spawn(so_far).join().unwrap();
        assert_eq!(other, 0);
    }
}
