//! One export cycle of 100,000 dimensions (10,000 charts × 10, half absolute, half incremental,
//! 60 s of 1 s samples in a ram database) to every format: CPU time per cycle (median of 7,
//! one thread, so wall clock ≈ CPU) and the bytes one batch puts on the wire. Prints a table.
//!
//! `cargo bench -p tributary-exporting --bench export_cycle`
//! (`TRIBUTARY_BENCH_DIMS` changes the number of dimensions.)

use std::hint::black_box;
use std::time::Instant;

use tributary_config::{Config, SimplePattern};
use tributary_exporting::batch::{HostInput, encode_host};
use tributary_exporting::config::from_exporting_conf;
use tributary_exporting::encode::{Encoder, HostMeta};
use tributary_exporting::window::aligned;
use tributary_rrd::{Algorithm, ChartDef, DimDef, Host, HostConfig, MemoryMode};

const DIMS_PER_CHART: usize = 10;
const START: i64 = 1_700_000_000;
const SECONDS: i64 = 60;

fn main() {
    let total: usize = std::env::var("TRIBUTARY_BENCH_DIMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let n_charts = total / DIMS_PER_CHART;
    let host = Host::new(HostConfig {
        hostname: "bench".into(),
        machine_guid: "11111111-2222-3333-4444-555555555555".into(),
        memory_mode: MemoryMode::Ram,
        history: 3600,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    });
    let charts: Vec<_> = (0..n_charts)
        .map(|c| {
            let id = format!("bench.chart{c}");
            let chart = host.chart(
                ChartDef {
                    id: id.clone(),
                    name: id,
                    family: "bench".into(),
                    context: format!("bench.ctx{}", c % 100),
                    units: "things/s".into(),
                    update_every: 1,
                    ..Default::default()
                },
                START,
            );
            let mut st = chart.lock();
            for d in 0..DIMS_PER_CHART {
                let algo = if d % 2 == 0 {
                    Algorithm::Absolute
                } else {
                    Algorithm::Incremental
                };
                st.dimension(DimDef::new(&format!("dim{d}")).algo(algo, 1, 1))
                    .unwrap();
            }
            drop(st);
            chart
        })
        .collect();
    for k in 0..SECONDS {
        let now_us = (START + k) * 1_000_000 + 500_000;
        for (c, chart) in charts.iter().enumerate() {
            let mut st = chart.lock();
            st.begin(now_us, 0);
            for d in 0..DIMS_PER_CHART {
                let seed = (c * DIMS_PER_CHART + d) as i64;
                st.set(d, k * (100 + seed) + (k * 7 + seed) % 13, now_us);
            }
            st.done(now_us);
        }
    }
    let last = charts[0].lock().last_entry_t();
    // A cycle of 10 s whose window ends at the newest slot.
    let before = last + 3;
    let after = before - 10;
    assert_eq!(aligned(after, before, 1).1, last);

    let labels = vec![
        ("room".to_string(), "lab one".to_string()),
        ("_is_ephemeral".to_string(), "false".to_string()),
    ];
    let meta = HostMeta {
        prefix: "netdata",
        hostname: "bench",
        labels: &labels,
        labels_enabled: true,
        tags: "",
        program_name: "netdata",
        program_version: "v1.37.1",
    };
    let input = HostInput { host: &host, meta };
    println!("| format | data source | dimensions | CPU per cycle (ms) | bytes per batch |");
    println!("|---|---|---:|---:|---:|");
    for (section, source) in [
        ("graphite:g", "average"),
        ("graphite:g", "as collected"),
        ("graphite:http:gh", "average"),
        ("opentsdb:o", "average"),
        ("opentsdb:http:oh", "average"),
        ("json:j", "average"),
        ("json:http:jh", "average"),
        ("prometheus_remote_write:rw", "average"),
        ("prometheus_remote_write:rw", "as collected"),
    ] {
        let text = format!("[{section}]\nenabled = yes\ndata source = {source}\n");
        let cfg = Config::parse(&text, "exporting.conf").unwrap();
        let inst = from_exporting_conf(&cfg, "bench").0.remove(0);
        let charts_pattern = SimplePattern::new(&inst.send_charts_matching);
        let mut enc = Encoder::new(inst.connector, inst.data_source, true);
        let mut times = Vec::new();
        let mut bytes = 0;
        let mut metrics = 0;
        for _ in 0..7 {
            let t = Instant::now();
            enc.begin();
            let counts = encode_host(
                &mut enc,
                &inst,
                &charts_pattern,
                &input,
                after,
                before,
                before * 1000,
            );
            bytes = black_box(enc.finish()).len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            metrics = counts.metrics;
        }
        times.sort_by(f64::total_cmp);
        if inst.connector == tributary_exporting::Connector::RemoteWrite {
            eprintln!(
                "remote write ({source}): {} bytes of protobuf before snappy",
                enc.raw_body().len()
            );
        }
        assert_eq!(metrics, total, "{section}: every dimension exported");
        println!(
            "| {} | {source} | {metrics} | {:.1} | {bytes} |",
            inst.connector.as_str(),
            times[times.len() / 2]
        );
    }
}
