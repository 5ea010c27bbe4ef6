//! "The collection path does no per-value heap allocation" (ARCHITECTURE.md), checked with a
//! counting global allocator: once the charts and dimensions exist, steady-state
//! `lock → begin → set… → done` cycles must not allocate, reallocate or free at all, in every
//! memory mode that keeps memory (ram, save, map) and in none.
//!
//! `ram` and `save` keep compressed pages: while a ring fills its first turn, sealing a page may
//! grow the ring's page store (at most one heap call per sealed page, checked). Once the ring
//! has turned, a sealed page replaces a page of the same ring; the store grows (by at least one
//! raw page) only when the ring's pages became less compressible than ever before — rare, and
//! never per value: the test's values are chosen to compress badly and unevenly, and allow one
//! heap call per 10 rings in 300 collections (0 in `none` and `map`).

use std::sync::Arc;

#[path = "../../../tests/support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{BACKTRACES, heap_calls};
use tributary_rrd::{Algorithm, Chart, ChartDef, DimDef, Host, HostConfig, MemoryMode};

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
    if std::env::var_os("TRIBUTARY_ALLOC_BACKTRACE").is_some() {
        BACKTRACES.store(true, std::sync::atomic::Ordering::Relaxed);
    }
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
    // The first turn of the rings (ram: 1024 slots; save and map: 60), of the charts that
    // store every other second too.
    let entries = charts[0].lock().clock().entries as i64;
    let filling = heap_calls(|| {
        for k in 5..2 * entries + 5 {
            cycle(&charts, k);
        }
    });
    let pages = (entries as usize).div_ceil(tributary_rrd::page_codec::PAGE_SLOTS);
    // Charts storing every second turned their rings twice in that time: 2 seals per page.
    assert!(
        filling as usize <= charts.len() * DIMS * pages * 2,
        "{mode}: {filling} heap calls while {} rings of {pages} pages filled",
        charts.len() * DIMS
    );
    // 300 cycles: the rings wrap again, counters reset three times.
    let start = 2 * entries + 5;
    let calls = heap_calls(|| {
        for k in start..start + 300 {
            cycle(&charts, k);
        }
    });
    let allowed = match mode {
        MemoryMode::Ram | MemoryMode::Save => (charts.len() * DIMS / 10) as u64,
        _ => 0,
    };
    assert!(
        calls <= allowed,
        "{mode}: {calls} heap calls in 300 steady-state collections of {} values (allowed {allowed})",
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
