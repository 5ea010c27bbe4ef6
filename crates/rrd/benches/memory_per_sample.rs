//! Memory per stored sample, measured: the resident anonymous memory (`RssAnon` of
//! /proc/self/status) of this process while a `ram` host with 1,000 charts × 10 dimensions
//! (10,000 dimensions, history 3600 → rings of 4096 slots) is filled by simulated per-second
//! collections, compared with netdata's ram mode (4 bytes per sample). tributary's rings are
//! compressed pages of 128 samples (`paged_ring`), so what a sample costs depends on the values:
//! the default pattern is half sawtooth gauges, half steady counters; `TRIBUTARY_BENCH_PATTERN=
//! noise` stores pseudo-random values (the worst case: pages stay raw).
//!
//! `cargo bench -p tributary-rrd --bench memory_per_sample`
//! (`TRIBUTARY_BENCH_DIMS=N` changes the number of dimensions, a multiple of 10.)

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::{START_US, USEC, bench_host};
use tributary_rrd::{Chart, MemoryMode};

const DIMS_PER_CHART: usize = 10;
const HISTORY: i64 = 3600;
const KIB: f64 = 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

/// `RssAnon` of this process, bytes.
fn rss_anon() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("RssAnon in /proc/self/status")
        * 1024
}

fn collect(charts: &[Arc<Chart>], k: i64, noise: bool) {
    let now = START_US + k * USEC;
    for (c, chart) in charts.iter().enumerate() {
        let mut st = chart.lock();
        st.begin(now, 0);
        for d in 0..DIMS_PER_CHART {
            let seed = (c * DIMS_PER_CHART + d) as i64;
            let v = if noise {
                let mut x = (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seed as u64;
                x ^= x >> 29;
                x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
                (x >> 40) as i64
            } else if d % 2 == 0 {
                (k * 31 + seed * 17) % 1000
            } else {
                k * (100 + seed)
            };
            st.set(d, v, now);
        }
        st.done(now);
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let dims: usize = std::env::var("TRIBUTARY_BENCH_DIMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let n_charts = (dims / DIMS_PER_CHART).max(1);
    let dims = n_charts * DIMS_PER_CHART;

    // Bookkeeping alone (charts, dimensions, collection state, no rings): a `none` host with
    // the same charts, kept alive so that the `ram` host's growth is measured on top of it.
    let base = rss_anon();
    let (none_host, _none_charts) = bench_host(MemoryMode::None, HISTORY, n_charts, DIMS_PER_CHART);
    let bookkeeping = rss_anon().saturating_sub(base);
    let base = rss_anon();
    let (host, charts) = bench_host(MemoryMode::Ram, HISTORY, n_charts, DIMS_PER_CHART);
    let created = rss_anon();
    let entries = host.entries();
    let ring = (entries * 4) as f64;
    let noise = std::env::var("TRIBUTARY_BENCH_PATTERN").is_ok_and(|p| p == "noise");

    println!(
        "memory per sample — ram host, {n_charts} charts x {DIMS_PER_CHART} = {dims} dimensions, history {HISTORY} -> {entries} slots per ring, values: {}",
        if noise {
            "noise"
        } else {
            "sawtooth gauges and steady counters"
        }
    );
    println!(
        "  netdata's ram ring: {} B = {:.1} KiB per dimension; for full rings: {:.1} MiB",
        entries * 4,
        ring / KIB,
        ring * dims as f64 / MIB
    );
    println!(
        "  bookkeeping without rings (same charts in a `none` host): {:.1} MiB = {:.0} B per dimension",
        bookkeeping as f64 / MIB,
        bookkeeping as f64 / dims as f64
    );
    let at_creation = created.saturating_sub(base) as f64;
    println!(
        "  ram host created, nothing stored yet: RssAnon +{:.1} MiB = {:.0} B per dimension",
        at_creation / MIB,
        at_creation / dims as f64,
    );
    println!(
        "  {:>8} {:>12} {:>14} {:>16} {:>18} {:>18} {:>16}",
        "seconds",
        "samples/dim",
        "host MiB",
        "netdata 4B MiB",
        "host B/sample",
        "rings B/sample",
        "pages heap MiB"
    );
    // The first collection of a chart stores nothing (netdata waits for a second one), so
    // after k collections every dimension holds k - 1 samples (at most `entries`).
    let checkpoints = [60i64, 600, 1800, 3601, 2 * entries as i64 + 2];
    let mut k = 0i64;
    let t0 = Instant::now();
    for &until in &checkpoints {
        while k < until {
            collect(&charts, k, noise);
            k += 1;
        }
        let stored = ((k - 1) as usize).min(entries);
        let host_bytes = rss_anon().saturating_sub(base) as f64;
        let samples = (dims * stored) as f64;
        println!(
            "  {:>8} {:>12} {:>14.1} {:>16.1} {:>18.2} {:>18.2} {:>16.1}",
            k,
            stored,
            host_bytes / MIB,
            samples * 4.0 / MIB,
            host_bytes / samples,
            (host_bytes - bookkeeping as f64) / samples,
            host.sample_bytes() as f64 / MIB
        );
    }
    let elapsed = t0.elapsed();
    let full = rss_anon().saturating_sub(base) as f64 - bookkeeping as f64;
    drop(none_host);
    let values = k as f64 * dims as f64;
    let first = charts[0].lock();
    assert!(
        first
            .value_at(0, first.last_entry_t())
            .is_some_and(|v| !v.is_nan()),
        "the last collection was stored"
    );
    drop(first);
    println!(
        "  rings resident at the end: {:.1} MiB = {:.2} KiB per dimension = {:.2} B per slot (netdata's ring {:.1} KiB, 4 B per slot)",
        full / MIB,
        full / dims as f64 / KIB,
        full / (dims * entries) as f64,
        ring / KIB
    );
    let total = full + bookkeeping as f64;
    println!(
        "  host with full rings, bookkeeping included: {:.2} MB per 1000 dimensions (netdata ram: {:.2} MB of rings alone)",
        total / dims as f64 * 1000.0 / 1e6,
        ring * 1000.0 / 1e6
    );
    println!(
        "  (collecting {values:.0} values took {:.2} s: {:.1} ns per value)",
        elapsed.as_secs_f64(),
        elapsed.as_nanos() as f64 / values
    );
}
