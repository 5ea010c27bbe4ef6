//! The `/api/v1/data` hot path in process: a 600-point query of a 10-dimension chart makes the
//! same few heap calls as a 60-point one (nothing per point or per value: numbers go straight
//! into the response buffer), and, with `--ignored`, how long query and formatting take.

use std::sync::Arc;

use tributary_rrd::{Chart, ChartDef, DimDef, Host, HostConfig, MemoryMode};

use super::api_v1::data;

use crate::counting_alloc;

const START: i64 = 1_700_000_000;

/// A `ram` host with one chart of `dims` dimensions and `seconds` of collected history.
fn chart(dims: usize, seconds: i64) -> (Host, Arc<Chart>) {
    let host = Host::new(HostConfig {
        hostname: "alloc".into(),
        machine_guid: "11111111-2222-3333-4444-555555555555".into(),
        memory_mode: MemoryMode::Ram,
        history: 3600,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    });
    let chart = host.chart(
        ChartDef {
            id: "bench.c000".into(),
            name: "bench.c000".into(),
            update_every: 1,
            ..Default::default()
        },
        START,
    );
    {
        let mut st = chart.lock();
        for d in 0..dims {
            st.dimension(DimDef::new(&format!("d{d}")).algo(
                tributary_rrd::Algorithm::Absolute,
                1,
                1000,
            ))
            .unwrap();
        }
        for k in 0..seconds {
            let now = (START + k) * 1_000_000;
            st.begin(now, 0);
            for d in 0..dims {
                st.set(d, (k * 7919 * (d as i64 + 1)).rem_euclid(100_000), now);
            }
            st.done(now);
        }
    }
    (host, chart)
}

fn params(query: &str) -> Vec<(String, String)> {
    super::router::query_pairs(query)
}

/// Heap calls of one whole data request (parameters parsed beforehand): query, id, render.
fn calls_of(chart: &Chart, p: &data::DataParams) -> (u64, usize) {
    let st = chart.lock();
    let mut len = 0;
    let calls = counting_alloc::heap_calls(|| {
        let reply = data::render_chart("alloc", &st, p);
        len = reply.body.len();
        drop(reply);
    });
    (calls, len)
}

#[test]
fn a_600_point_query_allocates_no_more_than_a_60_point_one() {
    let (_host, chart) = chart(10, 720);
    let now = START + 720;
    for format in ["json", "csv", "array", "datatable"] {
        let small = data::parse(
            &params(&format!(
                "chart=bench.c000&points=60&after=-60&format={format}"
            )),
            now,
        );
        let big = data::parse(
            &params(&format!(
                "chart=bench.c000&points=600&after=-600&format={format}"
            )),
            now,
        );
        let (c60, len60) = calls_of(&chart, &small);
        let (c600, len600) = calls_of(&chart, &big);
        eprintln!("{format}: {c600} heap calls, {len600} bytes");
        assert!(len600 > 9 * len60, "{format}: {len60} vs {len600} bytes");
        assert_eq!(
            c60, c600,
            "{format}: 60 points made {c60} heap calls, 600 points {c600}: something allocates per point"
        );
        assert!(
            c600 <= 24,
            "{format}: {c600} heap calls for one query (a fixed number is expected)"
        );
    }
}

/// The data-query workload whose instructions `tests/instruction_counts.rs` counts with
/// callgrind (`data_queries` in `benches/instruction_counts.txt`): 50 whole requests of 600
/// points × 10 dimensions as JSON, from compressed pages (720 s of history), rendered.
#[inline(never)]
fn measured_data_queries(chart: &Chart, p: &data::DataParams) -> usize {
    let st = chart.lock();
    (0..50)
        .map(|_| data::render_chart("alloc", &st, p).body.len())
        .sum()
}

#[test]
fn data_query_workload() {
    let (_host, chart) = chart(10, 720);
    let p = data::parse(
        &params("chart=bench.c000&points=600&after=-600&format=json"),
        START + 720,
    );
    let bytes = measured_data_queries(&chart, &p);
    // 600 rows of 10 numbers with 3 decimals, 50 times
    assert!(bytes > 50 * 600 * 10 * 4, "{bytes} bytes");
}
