//! "Hot paths without per-value allocation": once an encoder has formatted a batch, formatting
//! the next one of the same host (1000 dimensions) costs a constant handful of heap calls (the
//! host's list of charts), whatever the format and data source.

#[path = "../../../tests/support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::heap_calls;
use tributary_config::{Config, SimplePattern};
use tributary_exporting::batch::{HostInput, encode_host};
use tributary_exporting::config::from_exporting_conf;
use tributary_exporting::encode::{Encoder, HostMeta};
use tributary_rrd::{Algorithm, ChartDef, DimDef, Host, HostConfig, MemoryMode};

const START: i64 = 1_700_000_000;

#[test]
fn formatting_a_batch_does_not_allocate_per_value() {
    let host = Host::new(HostConfig {
        hostname: "alloc".into(),
        machine_guid: "11111111-2222-3333-4444-555555555555".into(),
        memory_mode: MemoryMode::Ram,
        history: 600,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    });
    let charts: Vec<_> = (0..50)
        .map(|c| {
            let id = format!("alloc.chart{c}");
            let chart = host.chart(
                ChartDef {
                    id: id.clone(),
                    name: id,
                    family: "f".into(),
                    context: "alloc.ctx".into(),
                    units: "%".into(),
                    update_every: 1,
                    ..Default::default()
                },
                START,
            );
            let mut st = chart.lock();
            for d in 0..20 {
                let algo = if d % 2 == 0 {
                    Algorithm::Absolute
                } else {
                    Algorithm::Incremental
                };
                st.dimension(DimDef::new(&format!("d{d}")).algo(algo, 1, 1))
                    .unwrap();
            }
            drop(st);
            chart
        })
        .collect();
    for k in 0..30 {
        let now_us = (START + k) * 1_000_000 + 500_000;
        for chart in &charts {
            let mut st = chart.lock();
            st.begin(now_us, 0);
            for d in 0..20 {
                st.set(d, k * 100 + d as i64, now_us);
            }
            st.done(now_us);
        }
    }
    let before = charts[0].lock().last_entry_t() + 3;
    let labels = vec![("room".to_string(), "a b".to_string())];
    let input = HostInput {
        host: &host,
        meta: HostMeta {
            prefix: "netdata",
            hostname: "alloc",
            labels: &labels,
            labels_enabled: true,
            tags: "",
            program_name: "netdata",
            program_version: "v1",
        },
    };
    for section in [
        "graphite:a",
        "opentsdb:b",
        "opentsdb:http:c",
        "json:d",
        "json:http:e",
        "prometheus_remote_write:f",
    ] {
        for source in ["average", "sum", "as collected"] {
            let text = format!("[{section}]\nenabled = yes\ndata source = {source}\n");
            let inst = from_exporting_conf(&Config::parse(&text, "x").unwrap(), "h")
                .0
                .remove(0);
            let pattern = SimplePattern::new("*");
            let mut enc = Encoder::new(inst.connector, inst.data_source, true);
            let mut run = || {
                enc.begin();
                let n = encode_host(&mut enc, &inst, &pattern, &input, before - 5, before, 0);
                assert_eq!(n.metrics, 1000, "{section} {source}");
                assert!(!enc.finish().is_empty());
            };
            run();
            run();
            let calls = heap_calls(&mut run);
            assert!(
                calls <= 4,
                "{section} {source}: {calls} heap calls for 1000 values"
            );
        }
    }
}
