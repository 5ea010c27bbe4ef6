//! One full collection cycle of every collector (`all_collectors` + `collect_all_once`) on this
//! machine's real /proc and /sys, into a `ram` host.
//!
//! `cargo bench -p tributary-collectors --bench collection_cycle`
//!
//! The simulated clock advances 1 s per iteration so that every cycle stores one slot per
//! dimension, as in production; the files are really re-read each time. `per_module/*` times
//! each collector alone (same host, same clock).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tributary_collectors::{Collector, all_collectors, collect_all_once, now_us};
use tributary_rrd::{Host, HostConfig, MemoryMode};

const USEC: i64 = 1_000_000;

fn host() -> Host {
    Host::new(HostConfig {
        hostname: "bench".into(),
        machine_guid: "11111111-2222-3333-4444-555555555555".into(),
        memory_mode: MemoryMode::Ram,
        history: 3600,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    })
}

fn dimensions(host: &Host) -> usize {
    host.charts().iter().map(|c| c.lock().dims().len()).sum()
}

fn bench_cycle(c: &mut Criterion) {
    let host = host();
    let mut collectors = all_collectors(Path::new(""), 1);
    let modules = collectors.len();
    let start = now_us() / USEC * USEC + USEC / 2;
    let mut k = 0i64;
    for _ in 0..5 {
        collect_all_once(&mut collectors, &host, start + k * USEC);
        k += 1;
    }
    let charts = host.charts().len();
    let dims = dimensions(&host);
    println!(
        "collection_cycle: {} of {modules} collector modules working, {charts} charts, {dims} dimensions",
        collectors.len()
    );
    let mut g = c.benchmark_group("collection_cycle");
    g.throughput(Throughput::Elements(dims as u64));
    g.bench_function("all_collectors", |b| {
        b.iter(|| {
            black_box(collect_all_once(&mut collectors, &host, start + k * USEC));
            k += 1;
        });
    });
    g.finish();

    let mut g = c.benchmark_group("per_module");
    for module in all_collectors(Path::new(""), 1) {
        let name = module.name();
        let host = self::host();
        let mut one: Vec<Box<dyn Collector>> = vec![module];
        let mut k = 0i64;
        for _ in 0..5 {
            collect_all_once(&mut one, &host, start + k * USEC);
            k += 1;
        }
        if one.is_empty() {
            continue; // not available on this machine
        }
        g.bench_function(name, |b| {
            b.iter(|| {
                black_box(collect_all_once(&mut one, &host, start + k * USEC));
                k += 1;
            });
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = bench_cycle
}
criterion_main!(benches);
