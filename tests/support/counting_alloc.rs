//! A counting global allocator for the "no per-value heap allocation" tests: it forwards to
//! the system allocator and counts the calls of threads that opted in (`heap_calls`). With
//! `TRIBUTARY_ALLOC_BACKTRACE=1` set, every counted call prints its backtrace. Included with
//! `#[path]` by `crates/rrd/tests/no_alloc.rs` and `crates/collectors/tests/no_alloc.rs`.
#![allow(unsafe_code)] // a #[global_allocator] cannot be written without it
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// Forwards to the system allocator and counts the calls made by threads that opted in.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

/// `TRIBUTARY_ALLOC_BACKTRACE` was set: print where every counted call comes from.
pub static BACKTRACES: AtomicBool = AtomicBool::new(false);

fn note() {
    // `try_with`: thread-locals may be gone while a thread exits.
    let _ignored = COUNTING.try_with(|on| {
        if on.get() {
            CALLS.with(|c| c.set(c.get() + 1));
            if BACKTRACES.load(Ordering::Relaxed) {
                on.set(false); // the backtrace itself allocates
                eprintln!(
                    "counted heap call at:\n{}",
                    std::backtrace::Backtrace::force_capture()
                );
                on.set(true);
            }
        }
    });
}

// SAFETY: every method forwards to `System` with the arguments it was given; the counting
// touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as ours (kept zeroed so pool blocks stay lazily committed).
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note();
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap calls made by `f` on this thread.
pub fn heap_calls(f: impl FnOnce()) -> u64 {
    CALLS.with(|c| c.set(0));
    COUNTING.with(|on| on.set(true));
    f();
    COUNTING.with(|on| on.set(false));
    CALLS.with(Cell::get)
}
