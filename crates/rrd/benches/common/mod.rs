//! The host both rrd benches collect into: `n_charts` charts of `dims` dimensions, half
//! absolute and half incremental, dimension `d` at index `d`.

use std::sync::Arc;

use tributary_rrd::{Algorithm, Chart, ChartDef, DimDef, Host, HostConfig, MemoryMode};

/// µs per second.
pub const USEC: i64 = 1_000_000;
/// The benches' first collection: 2023-11-14 22:13:20 UTC plus half a second, as collectors tick.
pub const START_US: i64 = 1_700_000_000 * USEC + 500_000;

/// A `mode` host with `history`, and its charts.
pub fn bench_host(
    mode: MemoryMode,
    history: i64,
    n_charts: usize,
    dims: usize,
) -> (Host, Vec<Arc<Chart>>) {
    let host = Host::new(HostConfig {
        hostname: "bench".into(),
        machine_guid: "11111111-2222-3333-4444-555555555555".into(),
        memory_mode: mode,
        history,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    });
    let charts = (0..n_charts)
        .map(|c| {
            let id = format!("bench.chart{c}");
            let chart = host.chart(
                ChartDef {
                    id: id.clone(),
                    name: id,
                    update_every: 1,
                    ..Default::default()
                },
                START_US / USEC,
            );
            let mut st = chart.lock();
            for d in 0..dims {
                let algo = if d % 2 == 0 {
                    Algorithm::Absolute
                } else {
                    Algorithm::Incremental
                };
                let idx = st
                    .dimension(DimDef::new(&format!("d{d}")).algo(algo, 1, 1))
                    .expect("dimensions of a memory host cannot fail");
                assert_eq!(idx, d);
            }
            drop(st);
            chart
        })
        .collect();
    (host, charts)
}
