//! The global allocator (mimalloc) and how a batch run tunes it.
//!
//! The parser allocates many small nodes; mimalloc validates the corpus noticeably faster than
//! glibc's allocator (docs/BENCHMARKS.md).

use std::ffi::{c_int, c_long};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (the `mimalloc` crate's bindings do
/// not name it); the test below checks the index against its documented default.
const PURGE_DELAY: c_int = 15;

// The C library behind the `mimalloc` crate (libmimalloc-sys) exports these whatever its
// Rust bindings declare.
unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    #[cfg(test)]
    fn mi_option_get(option: c_int) -> c_long;
}

/// Keeps freed memory for reuse instead of handing it back to the OS a second later.
///
/// A batch run (`generate` on a backend, `validate`, `bench`) frees and reallocates the same
/// few megabytes per DAG without end; purged, they come back as fresh pages — often
/// transparent huge pages, each zeroed by the kernel on first touch — about 0.4 page faults a
/// DAG for a client at ~1,000 DAGs/s. Unpurged, the process stays at its peak (~100 MB for a
/// generate run). Long-lived servers (`serve`, `lsp`) keep mimalloc's default and give memory
/// back when idle.
pub fn keep_freed_memory() {
    // SAFETY: sets one integer option; mimalloc reads options atomically and allows setting
    // them at any time.
    unsafe { mi_option_set(PURGE_DELAY, -1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        // 1000 ms is mimalloc 3's default purge delay (src/options.c); no neighbouring option
        // defaults to it, so a shifted index fails here.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reads one option.
            assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, 1000);
        }
        keep_freed_memory();
        // SAFETY: as above.
        assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, -1);
    }
}
