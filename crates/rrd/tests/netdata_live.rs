//! Live golden test: streams tributary's own deterministic sequence (charts with
//! `update every = 2`, irregular declared durations, skipped collections, a 64-bit counter that
//! drops, a zero and a negative percentage row, hidden dimensions, huge multipliers) from a fake
//! child into a **real netdata 1.37.1 parent**, reads back what netdata stored
//! (`/host/tc-child/api/v1/data`, one row per slot), replays the same lines, with their send
//! times, into tributary's database, and compares every slot as the string netdata printed.
//!
//! Run with `TRIBUTARY_CAPTURE_DIR=DIR` to keep the capture (sent.txt + results.json), as
//! `tests/fixtures/collection-math/tributary-ue2/` was made; `collection_math.rs` replays that
//! capture offline.

#[path = "../../../tests/support/peers.rs"]
mod peers;

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use peers::{Netdata, TempDir, fake_child_stream, http_get_retry, now_f, sleep_until};
use tributary_rrd::MemoryMode;

const KEY: &str = "7f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const CHILD_GUID: &str = "5b9e3c1a-0f2d-4e6b-9a8c-7d6e5f4a3b2c";
/// Declaring this many µs makes netdata reset the chart ("took too long"); the next collection
/// then starts a new, deterministic phase (spec: collection-math.md §2.1).
const HUGE: u64 = 100_000_000_000;
const N: i64 = 34;

/// (chart id, update every, [(dim, algorithm, multiplier, divisor, options)]).
type ChartSpec = (
    &'static str,
    i64,
    &'static [(&'static str, &'static str, i64, i64, &'static str)],
);

const CHARTS: &[ChartSpec] = &[
    (
        "tc.ue2abs",
        2,
        &[
            ("a", "absolute", 1, 1, ""),
            ("b", "absolute", 3, 7, ""),
            ("h", "absolute", 1, 1, "hidden"),
        ],
    ),
    (
        "tc.ue2inc",
        2,
        &[
            ("c", "incremental", 1, 1, ""),
            ("d", "incremental", -5, 3, ""),
        ],
    ),
    (
        "tc.jitter",
        1,
        &[("a", "absolute", 1, 1, ""), ("i", "incremental", 1, 1, "")],
    ),
    (
        "tc.drop64",
        1,
        &[
            ("u", "incremental", 1, 1, ""),
            ("v", "incremental", 1, 1, ""),
        ],
    ),
    (
        "tc.pct",
        1,
        &[
            ("x", "percentage-of-absolute-row", 1, 1, ""),
            ("y", "percentage-of-absolute-row", 1, 1, ""),
            ("p", "percentage-of-incremental-row", 1, 1, ""),
            ("q", "percentage-of-incremental-row", 1, 1, ""),
        ],
    ),
    (
        "tc.skip",
        1,
        &[
            ("a", "absolute", 1, 1, ""),
            ("i", "incremental", 1000000, 1, ""),
        ],
    ),
];

/// The values of collection `k` for one chart, or None when the chart skips it.
fn values(chart: &str, k: i64) -> Option<Vec<String>> {
    let v: Vec<i64> = match chart {
        "tc.ue2abs" => vec![50 + 13 * k, 1000 - 7 * k * k, k % 5],
        "tc.ue2inc" => vec![1_000_000 + 4321 * k + (k * k) % 17, 10 * k * k],
        "tc.jitter" => vec![200 + (k % 4) * 25, 77_000 + 333 * k],
        // u: close to 2^64 (negative as i64), then a small value: a drop whose size decides
        // between wrap and reset; v: a 32-bit wrap.
        "tc.drop64" => vec![
            if k < 16 {
                -100_000 + 1000 * k
            } else {
                700 * (k - 16)
            },
            if k < 20 {
                4_294_960_000 + 600 * k
            } else {
                600 * (k - 20)
            },
        ],
        "tc.pct" => vec![
            if k == 14 { 0 } else { 10 + k },
            if k == 14 {
                0
            } else if k == 20 {
                -5
            } else {
                90 - k
            },
            300 * k,
            if k == 25 {
                return Some(vec![
                    (10 + k).to_string(),
                    (90 - k).to_string(),
                    (300 * k).to_string(),
                    String::new(),
                ]);
            } else {
                100 * k + (k % 3) * 50
            },
        ],
        "tc.skip" => {
            if matches!(k, 12 | 13 | 19 | 26 | 27 | 28) {
                return None;
            }
            vec![5000 - 11 * k, 3 * k]
        }
        _ => unreachable!(),
    };
    Some(v.into_iter().map(|x| x.to_string()).collect())
}

/// Declared µs for collection `k` of `chart` (None: not collected).
fn duration(chart: &str, ue: i64, k: i64) -> u64 {
    let step = ue as u64 * 1_000_000;
    let reset_at = 2 * ue; // the 3rd collection of the chart
    if k == 0 {
        return 0;
    }
    if k == reset_at {
        return HUGE;
    }
    match chart {
        "tc.jitter" if k > reset_at => {
            if k % 2 == 0 {
                900_000
            } else {
                1_100_000
            }
        }
        "tc.skip" => {
            let mut prev = k - 1;
            while values(chart, prev).is_none() {
                prev -= 1;
            }
            (k - prev) as u64 * 1_000_000
        }
        _ => step,
    }
}

/// Streams the sequence, returns (sent.txt text, first second S, the open stream). The stream
/// stays open while netdata is queried: a parent tearing down a receiver can stall queries of
/// that host.
fn stream_sequence(nd: &Netdata) -> (String, i64, TcpStream) {
    let mut s = fake_child_stream(nd, KEY, "tc-child", CHILD_GUID);

    let mut sent =
        String::from("# t=<unix time the line was written to the socket, 6 decimals> | <line>\n");
    let mut send = |s: &mut TcpStream, lines: &[String]| {
        let t = now_f();
        let mut block = String::new();
        for l in lines {
            sent.push_str(&format!("{t:.6} | {l}\n"));
            block.push_str(l);
            block.push('\n');
        }
        s.write_all(block.as_bytes()).unwrap();
    };
    let start = now_f().ceil() as i64 + 1;
    sleep_until(start as f64 - 0.7);
    let mut defs = Vec::new();
    for (id, ue, dims) in CHARTS {
        defs.push(format!("CHART \"{id}\" \"\" \"tributary {id}\" \"units\" \"tc\" \"{id}\" \"line\" 1000 {ue} \"\" \"tcgen\" \"tc\""));
        for (d, algo, m, div, o) in *dims {
            defs.push(format!(
                "DIMENSION \"{d}\" \"{d}\" \"{algo}\" {m} {div} \"{o}\""
            ));
        }
    }
    send(&mut s, &defs);
    for k in 0..N {
        sleep_until(start as f64 + k as f64 + 0.3);
        let mut lines = Vec::new();
        for (id, ue, dims) in CHARTS {
            if k % ue != 0 {
                continue;
            }
            let kk = k / ue; // the chart's own collection number
            let Some(vals) = values(id, kk) else { continue };
            lines.push(format!("BEGIN \"{id}\" {}", duration(id, *ue, kk)));
            for ((d, ..), v) in dims.iter().zip(vals) {
                lines.push(format!("SET \"{d}\" = {v}"));
            }
            lines.push("END".into());
        }
        send(&mut s, &lines);
    }
    std::thread::sleep(Duration::from_millis(1500));
    (sent, start, s)
}

#[test]
fn tributary_stores_what_a_real_netdata_stores_for_its_own_sequence() {
    let stream_conf = format!(
        "[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    default history = 3600\n    health enabled by default = no\n    allow from = *\n"
    );
    let nd = Netdata::start("tc-parent", "ram", &[], &stream_conf);
    let (sent, start, _stream) = stream_sequence(&nd);

    let mut results =
        serde_json::json!({"start": start, "n": N, "mode": "ram", "data": {}, "chart": {}});
    for (id, ue, _) in CHARTS {
        // Ask for exactly the stored slots: netdata's query engine shifts windows that are not
        // aligned to the chart's slots and then averages neighbouring slots into one row.
        let (_, chart) =
            http_get_retry(nd.port, &format!("/host/tc-child/api/v1/chart?chart={id}")).unwrap();
        let chart: serde_json::Value = serde_json::from_str(&chart).unwrap();
        let before = chart["last_entry"].as_i64().unwrap();
        let after = chart["first_entry"].as_i64().unwrap() + ue;
        let points = (before - after) + 1;
        let q = format!(
            "/host/tc-child/api/v1/data?chart={id}&after={after}&before={before}&points={points}&group=average&format=json&options=seconds%7Cjsonwrap%7Cunaligned%7Cflip"
        );
        let (status, body) = http_get_retry(nd.port, &q)
            .unwrap_or_else(|e| panic!("{e}\nnetdata's log:\n{}", nd.error_log()));
        assert_eq!(status, 200, "{q}: {body}\n{}", nd.error_log());
        results["data"][id] = serde_json::json!({"query": q, "raw": body});
        results["chart"][id] = chart;
    }
    let capture = TempDir::new("tc-capture");
    let dir = std::env::var_os("TRIBUTARY_CAPTURE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| capture.path().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sent.txt"), &sent).unwrap();
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&results).unwrap(),
    )
    .unwrap();

    let h = common::host(MemoryMode::Ram, None);
    common::replay(&sent, &h);
    let n = common::compare(Path::new(&dir), &h, true);
    assert!(n > 300, "only {n} values compared");
}
