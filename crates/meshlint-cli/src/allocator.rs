//! How the binaries' allocator (mimalloc, see `src/main.rs`) hands memory back.
//!
//! With its defaults on Linux, mimalloc commits whole arenas up front and purges freed
//! pages only after a second, so memory freed while loading (parser buffers, vectors
//! that grew by doubling) stayed resident through the rest of the run: about 40 MB of
//! the 245 MB peak on the 2,000-namespace gen-mesh corpus (docs/performance.md,
//! "Session 5: memory"). A purge delay of 0 saved 8 MB more but cost 10–15 % in the
//! graph and rules stages (pages purged and faulted in again); 100 ms costs nothing
//! measurable. The options must be set before the first
//! allocation, which reserves the first arena (the Rust runtime allocates before
//! `main`): the binaries run [`release_memory_promptly`] as an ELF initialiser on
//! Linux, and `cli::main` runs it again for other systems. `MIMALLOC_*` environment
//! variables are overridden.

use std::os::raw::{c_int, c_long};

// The option numbers of mimalloc 3 (`mi_option_e` in its `mimalloc.h`), which
// libmimalloc-sys builds by default.
const ARENA_EAGER_COMMIT: c_int = 4;
const PURGE_DELAY: c_int = 15;

// Links the mimalloc library (which defines `mi_option_set`) into every binary that
// uses this crate, also where mimalloc is not the global allocator (the
// `system-allocator` build, test binaries): a crate nothing names is not linked.
use mimalloc as _;

extern "C" {
    // Part of the mimalloc library that libmimalloc-sys compiles and links.
    fn mi_option_set(option: c_int, value: c_long);
}

/// Commit arena memory as it is used and return pages that stay free for 100 ms.
/// Harmless when mimalloc is linked but not the global allocator (tests,
/// `system-allocator`).
pub extern "C" fn release_memory_promptly() {
    // SAFETY: mi_option_set only stores a value in mimalloc's option table; it runs at
    // start-up, before other threads exist.
    unsafe {
        mi_option_set(ARENA_EAGER_COMMIT, 0);
        mi_option_set(PURGE_DELAY, 100);
    }
}

/// Runs [`release_memory_promptly`] before `main` in the binary that names it:
/// `run_before_main!();` at the top level of its `main.rs`.
#[macro_export]
macro_rules! run_before_main {
    () => {
        #[cfg(target_os = "linux")]
        #[used]
        #[link_section = ".init_array"]
        static TUNE_ALLOCATOR: extern "C" fn() = $crate::allocator::release_memory_promptly;
    };
}
