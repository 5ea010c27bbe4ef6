//! Storing values: the cost of one collection (`lock; begin; set…; done`) per chart, and of
//! netdata's 32-bit sample packing.
//!
//! `cargo bench -p tributary-rrd --bench store_values`
//!
//! * `collection_cycle/{ram,none}`: a host with 100 charts × 10 dimensions (even dimensions
//!   absolute, odd ones incremental); one iteration is one collection of every chart, the clock
//!   advancing exactly 1 s per iteration, so every `done` writes one slot per dimension. The
//!   throughput line (elements = values) gives the per-value cost; `none` is the collection math
//!   alone, `ram` adds the ring write.
//! * `storage_number/{pack,unpack}`: 1024 varied values per iteration.

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use common::{START_US, USEC, bench_host};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tributary_rrd::storage_number::{SN_DEFAULT_FLAGS, pack, unpack};
use tributary_rrd::{Chart, MemoryMode};

const CHARTS: usize = 100;
const DIMS: usize = 10;

/// One collection of every chart at `now_us` (iteration number `k`).
#[inline]
fn cycle(charts: &[Arc<Chart>], k: i64, now_us: i64) {
    for (c, chart) in charts.iter().enumerate() {
        let mut st = chart.lock();
        st.begin(now_us, 0);
        for d in 0..DIMS {
            let seed = (c * DIMS + d) as i64;
            let v = if d % 2 == 0 {
                // absolute: a gauge wandering in 0..1000
                (k * 31 + seed * 17) % 1000
            } else {
                // incremental: a counter growing by 100..1100 per second
                k * (100 + seed) + (k * 7 + seed) % 13
            };
            st.set(d, black_box(v), now_us);
        }
        black_box(st.done(now_us));
    }
}

fn bench_collection(c: &mut Criterion) {
    let mut g = c.benchmark_group("collection_cycle");
    g.throughput(Throughput::Elements((CHARTS * DIMS) as u64));
    for (name, mode) in [("ram", MemoryMode::Ram), ("none", MemoryMode::None)] {
        let (_host, charts) = bench_host(mode, 3600, CHARTS, DIMS);
        let mut k: i64 = 0;
        // warm up past the first collections (no slot is stored for them)
        for _ in 0..5 {
            cycle(&charts, k, START_US + k * USEC);
            k += 1;
        }
        g.bench_function(name, |b| {
            b.iter(|| {
                cycle(&charts, k, START_US + k * USEC);
                k += 1;
            });
        });
        // the clock really advanced and every slot was written
        let st = charts[0].lock();
        assert!(st.clock().counter_done >= 5);
        if mode == MemoryMode::Ram {
            let t = st.last_entry_t();
            assert!(st.value_at(0, t).is_some_and(|v| !v.is_nan()));
        }
    }
    g.finish();
}

fn sample_values() -> Vec<f64> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..1024)
        .map(|i| {
            // xorshift: values over many magnitudes and both signs
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mantissa = (x % 10_000_000) as f64 / 1000.0;
            let scale = 10f64.powi((x >> 40) as i32 % 12 - 4);
            if i % 5 == 0 {
                -mantissa * scale
            } else {
                mantissa * scale
            }
        })
        .collect()
}

fn bench_storage_number(c: &mut Criterion) {
    let values = sample_values();
    let packed: Vec<u32> = values.iter().map(|&v| pack(v, SN_DEFAULT_FLAGS)).collect();
    let mut g = c.benchmark_group("storage_number");
    g.throughput(Throughput::Elements(values.len() as u64));
    g.bench_function("pack", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for &v in black_box(&values) {
                acc = acc.wrapping_add(pack(v, SN_DEFAULT_FLAGS));
            }
            acc
        });
    });
    g.bench_function("unpack", |b| {
        b.iter(|| {
            let mut acc = 0.0f64;
            for &p in black_box(&packed) {
                acc += unpack(p);
            }
            acc
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    targets = bench_collection, bench_storage_number
}
criterion_main!(benches);
