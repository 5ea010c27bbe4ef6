//! "Parsing a plugin line costs no heap allocation per value": once a plugin's charts and
//! dimensions exist, every steady-state line (BEGIN, SET, END, in the forms plugins write them)
//! goes through [`super::reader::apply_line`] — the tokenizer, the parser and `Ingest` into a `ram`
//! host — without one allocation, reallocation or free. Counted with the counting global
//! allocator of the binary's unit tests (`tests/support/counting_alloc.rs`, this thread only).

use std::sync::Arc;

use tributary_rrd::{Host, HostConfig, MemoryMode};

use super::reader::apply_line;
use crate::counting_alloc::heap_calls;
use crate::ingest::Ingest;

const CHARTS: usize = 10;
const DIMS: usize = 10;
const USEC: i64 = 1_000_000;
const START_US: i64 = 1_700_000_000 * USEC + 250_000;

fn definitions() -> Vec<String> {
    let algos = ["absolute", "incremental", "percentage-of-absolute-row"];
    let mut out = Vec::new();
    for c in 0..CHARTS {
        out.push(format!(
            "CHART bench.c{c} '' 'Chart {c}' 'units' bench bench.c{c} line {} 1 '' 'bench.plugin' ''",
            1000 + c
        ));
        for d in 0..DIMS {
            out.push(format!(
                "DIMENSION d{d} 'dim {d}' {} 1 {}",
                algos[d % algos.len()],
                1 + d % 3
            ));
        }
    }
    out
}

/// One collection of every chart in the shapes real plugins send (apps.plugin, python.d,
/// charts.d): quoted and bare ids, `=` and spaces, hex, a negative value, an empty value.
fn cycle(k: usize) -> Vec<String> {
    let mut out = Vec::new();
    for c in 0..CHARTS {
        out.push(if k == 0 {
            format!("BEGIN bench.c{c}")
        } else {
            format!("BEGIN 'bench.c{c}' 1000000")
        });
        for d in 0..DIMS {
            let v = (k * 1000 + c * 31 + d) as i64;
            out.push(match d % 5 {
                0 => format!("SET d{d} = {v}"),
                1 => format!("SET \"d{d}\" = {v}"),
                2 => format!("SET d{d} {:#x}", v),
                3 if k % 7 == 3 => format!("SET d{d} = "),
                3 => format!("SET d{d} = -{v}"),
                _ => format!("SET 'd{d}' = {v}\n"),
            });
        }
        out.push("END".into());
    }
    out
}

#[test]
fn counting_allocator_counts() {
    assert!(heap_calls(|| drop(std::hint::black_box(vec![1u8; 10]))) > 0);
}

#[test]
fn steady_state_plugin_lines_do_not_allocate() {
    let host = Arc::new(Host::new(HostConfig {
        hostname: "alloc".into(),
        machine_guid: "11111111-2222-3333-4444-555555555555".into(),
        memory_mode: MemoryMode::Ram,
        history: 60,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    }));
    let mut ingest = Ingest::new(Arc::clone(&host), 1, "bench.plugin");
    for line in definitions() {
        apply_line(&mut ingest, line.as_bytes(), START_US).unwrap();
    }
    // The rings (ram: 1024 slots for history 60) turn once during the warm-up: while a ring
    // fills its first turn, its compressed page store grows (rrd's no_alloc test checks that
    // bound); this test is about the lines.
    let entries = 1024;
    let warm_up = entries + 5;
    let cycles: Vec<Vec<String>> = (0..warm_up + 300).map(cycle).collect();
    let run = |ingest: &mut Ingest, k: usize| {
        let now = START_US + k as i64 * USEC;
        for line in &cycles[k] {
            if apply_line(ingest, line.as_bytes(), now).is_err() {
                panic!("refused: {line}");
            }
        }
    };
    // Warm-up: the first collections fill the charts' state, then the rings.
    for k in 0..warm_up {
        run(&mut ingest, k);
    }
    assert_eq!(
        host.find_chart("bench.c0")
            .map(|c| c.lock().clock().entries),
        Some(entries)
    );
    let calls = heap_calls(|| {
        for k in warm_up..cycles.len() {
            run(&mut ingest, k);
        }
    });
    assert_eq!(
        calls,
        0,
        "heap calls in {} steady-state lines",
        (cycles.len() - warm_up) * cycles[0].len()
    );
    assert_eq!(ingest.collections, (cycles.len() * CHARTS) as u64);
    // The values arrived.
    let chart = host.find_chart("bench.c0").unwrap();
    assert!(chart.lock().last_entry_t() > 0);
}
