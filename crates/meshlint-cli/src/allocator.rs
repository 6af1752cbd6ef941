//! How the binaries' allocator (mimalloc, see `src/main.rs`) hands memory back.
//!
//! With its defaults on Linux, mimalloc commits whole arenas up front and purges freed
//! pages only after a second, so memory freed while loading (parser buffers, vectors
//! that grew by doubling) stayed resident through the rest of the run: about 40 MB of
//! the 245 MB peak on the 2,000-namespace gen-mesh corpus (docs/performance.md,
//! "Session 5: memory"). Arena memory is therefore committed as it is used, and freed
//! pages are returned at once: a batch run frees what one stage built (the loader's
//! buffers, the graph's temporary tables) just before the next stage allocates, and
//! returning them lowered gen-mesh 2,000's peak from 80–83 to 77–79 MB (20,000: 702–708
//! to 688 MB; a realistic 2,000-namespace corpus: 110–111 to 105–106 MB) for about 2 %
//! more CPU ("Session 7: memory"; in session 5, with more churn, it cost 10–15 %). The
//! language server, which frees and rebuilds on every edit, keeps freed pages for
//! 100 ms instead ([`keep_freed_pages_for_reuse`]), so that typing does not fault the
//! same pages in again. The arena option must be set before the first allocation, which
//! reserves the first arena (the Rust runtime allocates before `main`): the binaries run
//! [`release_memory_promptly`] as an ELF initialiser on Linux, and `cli::main` runs it
//! again for other systems. The purge delay is read whenever mimalloc purges, so the
//! server can change it later. `MIMALLOC_*` environment variables are overridden.

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

/// Commit arena memory as it is used and return freed pages at once. Harmless when
/// mimalloc is linked but not the global allocator (tests, `system-allocator`).
pub extern "C" fn release_memory_promptly() {
    // SAFETY: mi_option_set only stores a value in mimalloc's option table; it runs at
    // start-up, before other threads exist.
    unsafe {
        mi_option_set(ARENA_EAGER_COMMIT, 0);
        mi_option_set(PURGE_DELAY, 0);
    }
}

/// Return pages only after they stayed free for 100 ms (the language server: each edit
/// frees what the previous analysis built and allocates as much again).
pub fn keep_freed_pages_for_reuse() {
    // SAFETY: as above; the server calls this before it starts its threads.
    unsafe { mi_option_set(PURGE_DELAY, 100) }
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
