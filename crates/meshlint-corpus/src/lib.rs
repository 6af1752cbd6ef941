//! The corpus generators as a library, for the benchmarks and the complexity test
//! (issue 17): [`gen`] is the realistic corpus of the `meshlint-corpus` binary,
//! [`shapes`] are the other mesh shapes meshlint must stay linear on.
#![forbid(unsafe_code)]

pub mod gen;
mod rng;
pub mod shapes;
