//! The global allocator (mimalloc) and how a batch run tunes it.
//!
//! The parser allocates many small nodes; mimalloc validates the corpus noticeably faster than
//! glibc's allocator (docs/BENCHMARKS.md).

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::{c_int, c_long, c_void};

use libmimalloc_sys as mi;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// mimalloc, asked for an alignment only when its plain allocation does not already give it.
///
/// mimalloc aligns every block of 16 bytes or more to 16 (`MI_MAX_ALIGN_SIZE`, as C's
/// `max_align_t` requires of `malloc`), and smaller ones to 8. Its `_aligned` entry points,
/// which the `mimalloc` crate calls for every allocation, check more on the way and, for a
/// block over 1 KiB whose size is not a power of two, over-allocate to align it — even to 8.
/// Rust's own `System` allocator makes the same choice with `malloc`.
struct MiMalloc;

/// The alignment `mi_malloc` guarantees for a block at least this large: on 64-bit targets its
/// size classes are whole double words (`MI_ALIGN2W` in its page-queue.c).
const MIN_ALIGN: usize = if cfg!(target_pointer_width = "64") { 16 } else { 8 };

/// Whether `mi_malloc(size)` is aligned enough for `align`.
fn plain(align: usize, size: usize) -> bool {
    align <= MIN_ALIGN && align <= size
}

/// A new block for `layout`: from `plain_call` where that is aligned enough, else from
/// `aligned_call` (mimalloc's plain and `_aligned` entry points of one kind).
///
/// # Safety
/// The two calls must be mimalloc's allocating pair of one kind (`mi_malloc`, `mi_zalloc`).
#[inline]
unsafe fn allocate(
    layout: Layout,
    plain_call: unsafe extern "C" fn(usize) -> *mut c_void,
    aligned_call: unsafe extern "C" fn(usize, usize) -> *mut c_void,
) -> *mut u8 {
    // SAFETY: plain FFI calls; the sizes and alignments come from a valid `Layout`.
    unsafe {
        if plain(layout.align(), layout.size()) {
            plain_call(layout.size()).cast()
        } else {
            aligned_call(layout.size(), layout.align()).cast()
        }
    }
}

// SAFETY: mimalloc returns null or a block of at least the size asked for, aligned as
// `plain` or the `_aligned` call ensures; `mi_free` and `mi_realloc` take any block it made.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc's allocating pair.
        unsafe { allocate(layout, mi::mi_malloc, mi::mi_malloc_aligned) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc's zeroing pair.
        unsafe { allocate(layout, mi::mi_zalloc, mi::mi_zalloc_aligned) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (GlobalAlloc's contract).
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; `new_size` is valid for it.
        unsafe {
            if plain(layout.align(), new_size) {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (libmimalloc-sys declares options
/// only with its `extended` feature, and not this one); the test below checks the index
/// against its documented default.
const PURGE_DELAY: c_int = 15;

// mimalloc's C library (libmimalloc-sys builds it) exports these whatever its Rust bindings
// declare.
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

    #[test]
    fn every_block_is_aligned_as_its_layout_asks() {
        // Sizes around mimalloc's size classes and its 1 KiB small-block limit, the
        // alignments Rust types have and a few larger ones; several blocks of each in a row
        // (a size class's blocks alternate between alignments), allocated, zeroed and grown.
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 7, 8, 16, 24, 40, 48, 80, 136, 1000, 1024, 1032, 1500, 4100, 70_000] {
                let Ok(layout) = Layout::from_size_align(size, align) else { continue };
                let grown = Layout::from_size_align(size * 3 + 8, align).unwrap();
                let blocks: Vec<(*mut u8, *mut u8)> = (0..6)
                    // SAFETY: non-zero sizes; each block is freed below with its layout.
                    .map(|_| unsafe { (GLOBAL.alloc(layout), GLOBAL.alloc_zeroed(layout)) })
                    .collect();
                for (p, z) in blocks {
                    assert!(!p.is_null() && (p as usize).is_multiple_of(align), "{size}/{align}");
                    assert!(
                        !z.is_null() && (z as usize).is_multiple_of(align),
                        "zeroed {size}/{align}"
                    );
                    // SAFETY: `z` is `size` bytes long; both blocks have `layout`.
                    unsafe {
                        assert!(std::slice::from_raw_parts(z, size).iter().all(|&b| b == 0));
                        let g = GLOBAL.realloc(p, layout, grown.size());
                        assert!(
                            !g.is_null() && (g as usize).is_multiple_of(align),
                            "grown {size}/{align}"
                        );
                        GLOBAL.dealloc(g, grown);
                        GLOBAL.dealloc(z, layout);
                    }
                }
            }
        }
    }
}
