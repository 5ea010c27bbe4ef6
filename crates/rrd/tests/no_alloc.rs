//! "The collection path does no per-value heap allocation" (ARCHITECTURE.md), checked with a
//! counting global allocator: once the charts and dimensions exist, steady-state
//! `lock → begin → set… → done` cycles must not allocate, reallocate or free at all, in every
//! memory mode that keeps memory (ram, save, map) and in none.

#![allow(unsafe_code)] // a #[global_allocator] cannot be written without it

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use tributary_rrd::{Algorithm, Chart, ChartDef, DimDef, Host, HostConfig, MemoryMode};

/// Forwards to the system allocator and counts the calls made by threads that opted in.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: thread-locals may be gone while a thread exits.
    let _ignored = COUNTING.try_with(|on| {
        if on.get() {
            CALLS.with(|c| c.set(c.get() + 1));
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
fn heap_calls(f: impl FnOnce()) -> u64 {
    CALLS.with(|c| c.set(0));
    COUNTING.with(|on| on.set(true));
    f();
    COUNTING.with(|on| on.set(false));
    CALLS.with(Cell::get)
}

const USEC: i64 = 1_000_000;
const START_US: i64 = 1_700_000_000 * USEC + 500_000;
const DIMS: usize = 12;

fn charts(host: &Host) -> Vec<Arc<Chart>> {
    let algos = [
        Algorithm::Absolute,
        Algorithm::Incremental,
        Algorithm::PercentageOfAbsoluteRow,
        Algorithm::PercentageOfIncrementalRow,
    ];
    (0..20)
        .map(|c| {
            let id = format!("alloc.chart{c}");
            let chart = host.chart(
                ChartDef {
                    id: id.clone(),
                    name: id,
                    update_every: 1 + (c % 2) as u32,
                    store_first: c % 3 == 0,
                    ..Default::default()
                },
                START_US / USEC,
            );
            {
                let mut st = chart.lock();
                for d in 0..DIMS {
                    st.dimension(DimDef::new(&format!("d{d}")).algo(algos[d % 4], 3, 2))
                        .expect("dimension");
                }
            }
            chart
        })
        .collect()
}

/// One collection of every chart; the clock jitters around 1 s steps, counters wrap and reset
/// now and then, so the reset, interpolation and gap paths run too.
fn cycle(charts: &[Arc<Chart>], k: i64) {
    let jitter = (k * 7919) % 300_000 - 150_000;
    let now = START_US + k * USEC + jitter;
    for (c, chart) in charts.iter().enumerate() {
        let mut st = chart.lock();
        st.begin(now, 0);
        for d in 0..DIMS {
            let seed = (c * DIMS + d) as i64;
            let v = if k % 97 == 13 && d == 1 {
                0 // a counter reset
            } else if d % 2 == 0 {
                (k * 31 + seed * 17) % 1000 - 100
            } else {
                k * (100 + seed) + (k * 7 + seed) % 13
            };
            st.set(d, v, now);
        }
        std::hint::black_box(st.done(now));
    }
}

fn check(mode: MemoryMode, cache_dir: Option<std::path::PathBuf>) {
    let host = Host::new(HostConfig {
        hostname: "alloc".into(),
        machine_guid: "11111111-2222-3333-4444-555555555555".into(),
        memory_mode: mode,
        history: 60,
        cache_dir,
        os: "linux".into(),
        timezone: "UTC".into(),
    });
    let charts = charts(&host);
    for k in 0..5 {
        cycle(&charts, k);
    }
    // 300 cycles: the 60-slot (ram: 1024-slot) rings wrap, counters reset three times.
    let calls = heap_calls(|| {
        for k in 5..305 {
            cycle(&charts, k);
        }
    });
    assert_eq!(
        calls,
        0,
        "{mode}: {calls} heap calls in 300 steady-state collections of {} values",
        300 * charts.len() * DIMS
    );
    // ... and the values are really stored
    let st = charts[1].lock();
    if mode != MemoryMode::None {
        let t = st.last_entry_t();
        assert!(st.value_at(0, t).is_some(), "{mode}: nothing stored");
    }
}

#[test]
fn counting_allocator_counts() {
    let calls = heap_calls(|| {
        std::hint::black_box(vec![1u8; 10]);
    });
    assert_eq!(calls, 2, "one alloc and one free");
}

#[test]
fn steady_state_collection_does_not_allocate() {
    check(MemoryMode::Ram, None);
    check(MemoryMode::None, None);
    let dir = std::env::temp_dir().join(format!("tributary-no-alloc-{}", std::process::id()));
    for mode in [MemoryMode::Save, MemoryMode::Map] {
        let d = dir.join(mode.as_str());
        std::fs::create_dir_all(&d).expect("create cache dir");
        check(mode, Some(d));
    }
    let _removed = std::fs::remove_dir_all(&dir);
}
