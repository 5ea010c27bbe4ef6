//! How well `ram` pages compress this machine's real metrics: every collector runs once a
//! second on the real /proc and /sys into a `ram` host (history 3600) for
//! `TRIBUTARY_BENCH_SECONDS` (default 600) of wall-clock time, the way the agent collects.
//! At checkpoints it prints the bytes per sample of the sealed (compressed) pages, and what a
//! dimension with a full ring of 4096 samples would cost at that rate: open page and page
//! table (640 B) + sealed pages, plus the ~500 B of chart and dimension bookkeeping measured by
//! `memory_per_sample`. netdata's ram mode: 4 B per sample, 16 KiB per dimension.
//!
//! `cargo bench -p tributary-collectors --bench real_compression`

use std::path::Path;
use std::time::Duration;

use tributary_collectors::{all_collectors, collect_all_once, now_us};
use tributary_rrd::page_codec::PAGE_SLOTS;
use tributary_rrd::{Host, HostConfig, MemoryMode};

const USEC: i64 = 1_000_000;
const ENTRIES: usize = 4096;
/// Open page and page table (4 B per page) of a 4096-slot ring: 640 B.
const RING_FIXED: usize = PAGE_SLOTS * 4 + ENTRIES.div_ceil(PAGE_SLOTS) * 4;
/// Chart and dimension bookkeeping per dimension (`memory_per_sample`, `none` host).
const BOOKKEEPING: f64 = 507.0;

/// MB per 1000 dimensions of full rings at `per_sample` bytes per sealed sample.
fn mb_per_1000_dims(per_sample: f64) -> f64 {
    (BOOKKEEPING + RING_FIXED as f64 + per_sample * ENTRIES as f64) / 1000.0
}

fn main() {
    let seconds: i64 = std::env::var("TRIBUTARY_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let host = Host::new(HostConfig {
        hostname: "compression".into(),
        machine_guid: "11111111-2222-3333-4444-555555555555".into(),
        memory_mode: MemoryMode::Ram,
        history: 3600,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    });
    let mut collectors = all_collectors(Path::new(""), 1);
    println!(
        "{:>8} {:>7} {:>11} {:>15} {:>14} {:>28}",
        "seconds",
        "charts",
        "dimensions",
        "sealed samples",
        "B per sample",
        "MB per 1000 dims, full ring"
    );
    let start = now_us() / USEC * USEC + USEC / 2;
    for k in 0..=seconds {
        let at = start + k * USEC;
        let now = now_us();
        if at > now {
            std::thread::sleep(Duration::from_micros((at - now) as u64));
        }
        collect_all_once(&mut collectors, &host, at);
        if k > 0 && (k % 150 == 0 || k == seconds) {
            let charts = host.charts();
            let (mut dims, mut bytes, mut samples) = (0usize, 0usize, 0usize);
            for c in &charts {
                let st = c.lock();
                dims += st.dims().len();
                let (b, s) = st.sealed_samples();
                bytes += b;
                samples += s;
            }
            let per_sample = bytes as f64 / samples.max(1) as f64;
            println!(
                "{k:>8} {:>7} {dims:>11} {samples:>15} {per_sample:>14.3} {:>28.2}",
                charts.len(),
                mb_per_1000_dims(per_sample)
            );
        }
    }
    let (mut bytes, mut samples) = (0usize, 0usize);
    for c in host.charts() {
        let (b, s) = c.lock().sealed_samples();
        bytes += b;
        samples += s;
    }
    let mb = mb_per_1000_dims(bytes as f64 / samples.max(1) as f64);
    // For benches/all-figures: netdata's side is not measured here (memory_vs_netdata does).
    println!("FIGURE\tmemory_per_1000_dims_ring_full_real_metrics\t-\t{mb:.2}\tMB");
    // Where the bytes go: the charts with the most sealed bytes.
    let mut per_chart: Vec<(String, usize, usize, usize)> = host
        .charts()
        .iter()
        .map(|c| {
            let st = c.lock();
            let (b, s) = st.sealed_samples();
            (st.def.id.clone(), st.dims().len(), b, s)
        })
        .collect();
    per_chart.sort_by_key(|c| std::cmp::Reverse(c.2));
    println!("charts with the most sealed bytes:");
    for (id, dims, b, s) in per_chart.iter().take(10) {
        println!(
            "  {id:<40} {dims:>3} dims {b:>8} B {:>6.3} B per sample",
            *b as f64 / (*s).max(1) as f64
        );
    }
}
