//! "The collection path does no per-value heap allocation" (ARCHITECTURE.md), checked on this
//! machine's real /proc and /sys: after a few warm-up cycles (files opened, buffers grown,
//! charts and dimensions created), steady-state `collect_all_once` cycles of every collector
//! must not allocate, reallocate or free. A failure names the modules that did; run it with
//! `TRIBUTARY_ALLOC_BACKTRACE=1 cargo test -p tributary-collectors --test no_alloc -- --nocapture`
//! to print a backtrace of every counted heap call.

use std::path::Path;
use std::sync::atomic::Ordering;

#[path = "../../../tests/support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{BACKTRACES, heap_calls};
use tributary_collectors::{Collector, all_collectors, collect_all_once, now_us};
use tributary_rrd::{Host, HostConfig, MemoryMode};

const USEC: i64 = 1_000_000;
const WARM_UP: i64 = 5;
const CYCLES: i64 = 30;

fn host() -> Host {
    Host::new(HostConfig {
        hostname: "alloc".into(),
        machine_guid: "11111111-2222-3333-4444-555555555555".into(),
        memory_mode: MemoryMode::Ram,
        history: 3600,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    })
}

#[test]
fn counting_allocator_counts() {
    let calls = heap_calls(|| {
        std::hint::black_box(vec![1u8; 10]);
    });
    assert_eq!(calls, 2, "one alloc and one free");
}

/// What the collectors have built in `host`: charts, dimensions and definition versions. A cycle
/// that changes it (a chart appearing on demand, a new mount or interface, a device gone) may
/// allocate for the new structure; that is not per-value allocation.
fn structure(host: &Host) -> (usize, usize, u64) {
    let charts = host.charts();
    let (mut dims, mut versions) = (0, 0);
    for c in &charts {
        let st = c.lock();
        dims += st.dims().len();
        versions += st.version;
    }
    (charts.len(), dims, versions)
}

/// Runs `cycles` steady-state cycles one at a time; returns the heap calls of the cycles that
/// kept the structure, and the cycles excused because it changed.
fn steady_calls(
    collectors: &mut Vec<Box<dyn Collector>>,
    host: &Host,
    start: i64,
) -> (u64, Vec<String>) {
    let mut calls = 0;
    let mut excused = Vec::new();
    for k in WARM_UP..WARM_UP + CYCLES {
        let before = structure(host);
        let n = heap_calls(|| {
            collect_all_once(collectors, host, start + k * USEC);
        });
        let after = structure(host);
        if before == after {
            calls += n;
        } else if n > 0 {
            excused.push(format!(
                "cycle {k}: {n} heap calls while (charts, dimensions, versions) went {before:?} -> {after:?}"
            ));
        }
    }
    (calls, excused)
}

#[test]
fn steady_state_collection_does_not_allocate() {
    if std::env::var_os("TRIBUTARY_ALLOC_BACKTRACE").is_some() {
        BACKTRACES.store(true, Ordering::Relaxed);
    }
    let start = now_us() / USEC * USEC + USEC / 2;

    // every collector together, as the collection thread runs them
    let host = host();
    let mut all = all_collectors(Path::new(""), 1);
    for k in 0..WARM_UP {
        collect_all_once(&mut all, &host, start + k * USEC);
    }
    let working = all.len();
    let (total, mut excused) = steady_calls(&mut all, &host, start);
    assert_eq!(all.len(), working, "a collector failed during the test");

    // then each one alone, to name the culprits
    let mut culprits = Vec::new();
    for module in all_collectors(Path::new(""), 1) {
        let name = module.name();
        let host = self::host();
        let mut one: Vec<Box<dyn Collector>> = vec![module];
        for k in 0..WARM_UP {
            collect_all_once(&mut one, &host, start + k * USEC);
        }
        if one.is_empty() {
            continue; // not available on this machine
        }
        let (calls, ex) = steady_calls(&mut one, &host, start);
        excused.extend(ex.into_iter().map(|e| format!("{name}: {e}")));
        if calls > 0 {
            culprits.push(format!("{name}: {calls}"));
        }
    }
    for e in &excused {
        eprintln!("excused (structure changed): {e}");
    }
    assert!(
        total == 0 && culprits.is_empty(),
        "{total} heap calls in {CYCLES} steady-state cycles of {working} collectors; per module \
         (alone, {CYCLES} cycles): {}; rerun with TRIBUTARY_ALLOC_BACKTRACE=1 and --nocapture \
         to see where",
        culprits.join(", ")
    );
}
