//! Memory per stored sample, measured: the resident anonymous memory (`RssAnon` of
//! /proc/self/status) of this process while a `ram` host with 1,000 charts × 10 dimensions
//! (10,000 dimensions, history 3600 → rings of 4096 slots) is filled by simulated per-second
//! collections, compared with the theory (4 bytes per sample, rings carved out of 16 MiB pool
//! blocks committed by the kernel only when written).
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

fn collect(charts: &[Arc<Chart>], k: i64) {
    let now = START_US + k * USEC;
    for (c, chart) in charts.iter().enumerate() {
        let mut st = chart.lock();
        st.begin(now, 0);
        for d in 0..DIMS_PER_CHART {
            let seed = (c * DIMS_PER_CHART + d) as i64;
            let v = if d % 2 == 0 {
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
    let reserved = host.pool_blocks() as f64 * 16.0 * MIB;

    println!(
        "memory per sample — ram host, {n_charts} charts x {DIMS_PER_CHART} = {dims} dimensions, history {HISTORY} -> {entries} slots per ring"
    );
    println!(
        "  pool: {} blocks of 16 MiB = {:.1} MiB reserved; ring {} B = {:.1} KiB per dimension; theory for full rings: {:.1} MiB",
        host.pool_blocks(),
        reserved / MIB,
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
        "  ram host created, nothing stored yet: RssAnon +{:.1} MiB = {:.0} B per dimension ({:.0}% of the rings already committed{})",
        at_creation / MIB,
        at_creation / dims as f64,
        100.0 * (at_creation - bookkeeping as f64).max(0.0) / (ring * dims as f64),
        if at_creation - bookkeeping as f64 > 0.5 * ring * dims as f64 {
            ": new rings are filled with the empty-slot marker, which touches every page"
        } else {
            ""
        }
    );
    println!(
        "  {:>8} {:>12} {:>14} {:>16} {:>18} {:>18}",
        "seconds", "samples/dim", "host MiB", "theory 4B MiB", "host B/sample", "rings B/sample"
    );
    // The first collection of a chart stores nothing (netdata waits for a second one), so
    // after k collections every dimension holds k - 1 samples (at most `entries`).
    let checkpoints = [60i64, 600, 1800, 3601, 2 * entries as i64 + 2];
    let mut k = 0i64;
    let t0 = Instant::now();
    for &until in &checkpoints {
        while k < until {
            collect(&charts, k);
            k += 1;
        }
        let stored = ((k - 1) as usize).min(entries);
        let host_bytes = rss_anon().saturating_sub(base) as f64;
        let samples = (dims * stored) as f64;
        println!(
            "  {:>8} {:>12} {:>14.1} {:>16.1} {:>18.2} {:>18.2}",
            k,
            stored,
            host_bytes / MIB,
            samples * 4.0 / MIB,
            host_bytes / samples,
            (host_bytes - bookkeeping as f64) / samples
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
        "  rings resident at the end: {:.1} MiB = {:.1} KiB per dimension = {:.2} B per slot (ring {:.1} KiB, 4 B per slot)",
        full / MIB,
        full / dims as f64 / KIB,
        full / (dims * entries) as f64,
        ring / KIB
    );
    println!(
        "  (collecting {values:.0} values took {:.2} s: {:.1} ns per value)",
        elapsed.as_secs_f64(),
        elapsed.as_nanos() as f64 / values
    );
}
