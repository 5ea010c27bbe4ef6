//! The web API, tributary and the real netdata 1.37.1 side by side in one run: both agents
//! run at once as parents of the same fake child (`web_vs_netdata/feeder.rs`), which gives
//! each of them the same 100 charts × 10 dimensions with 720 s of history (replication) and
//! then one collection per second. One keep-alive connection per agent (a small HTTP/1.1
//! client, `web_vs_netdata/client.rs`) sends the same request back to back:
//!
//! * `/host/webbench-child/api/v1/data?chart=bench.c000&points=600&after=-600` (600 rows × 10
//!   dimensions, JSON);
//! * `/host/webbench-child/api/v1/charts` (100 charts).
//!
//! Measuring windows alternate between the agents (tributary, netdata, tributary, …) so that
//! the machine's noise hits both alike; each window gives requests/s, median and p99 latency
//! and the agent's CPU per request (on-CPU time of all its threads, `/proc/PID/task/*/schedstat`).
//! Prints one table: min – median – max over the windows, and the ratio of each adjacent pair,
//! and a `FIGURE` line per request (`benches/all-figures`).
//!
//! `cargo bench --bench web_vs_netdata`
//!
//! Knobs: `TRIB_BENCH_WINDOWS` (5), `TRIB_BENCH_WINDOW_SECONDS` (2), `TRIB_BENCH_CHARTS` (100),
//! `TRIB_BENCH_DIMS` (10), `TRIB_BENCH_HISTORY` (720 s), `TRIB_BENCH_ND_MODE` (netdata's memory
//! mode for the child: `dbengine`, its default, or `ram`), `NETDATA` (the netdata binary,
//! default /usr/sbin/netdata; the bench fails without it), `TRIBUTARY` (our binary, default
//! this build's), `TRIB_BENCH_WEB_MODE` (tributary's `[web] mode`, default `multi-threaded`).

#[path = "web_vs_netdata/agents.rs"]
mod agents;
mod common;
use common::{env_u64, mmm};
#[path = "web_vs_netdata/client.rs"]
mod client;
#[path = "web_vs_netdata/feeder.rs"]
mod feeder;

use std::process::Command;
use std::time::{Duration, Instant};

use agents::Agent;
use client::{KeepAlive, Window};

const GUID: &str = "7e57b3c4-0000-4000-8000-00000000beef";
const HOST: &str = "webbench-child";

/// Rows of a JSON data answer whose first dimension has a value.
fn valued_rows(body: &[u8]) -> usize {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return 0;
    };
    v["data"].as_array().map_or(0, |rows| {
        rows.iter()
            .filter(|r| r.get(1).is_some_and(serde_json::Value::is_number))
            .count()
    })
}

fn wait_for_history(a: &Agent, data_path: &str, want_rows: usize, charts: usize) {
    let req = KeepAlive::request(data_path);
    let charts_req = KeepAlive::request(&format!("/host/{HOST}/api/v1/charts"));
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut seen = (0, 0);
    while Instant::now() < deadline {
        let mut c = KeepAlive::connect(a.port);
        let rows = match c.get(&req) {
            Ok((200, body)) => valued_rows(body),
            _ => 0,
        };
        let listed = match c.get(&charts_req) {
            Ok((200, body)) => serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["charts_count"].as_u64())
                .unwrap_or(0) as usize,
            _ => 0,
        };
        seen = (rows, listed);
        if rows >= want_rows && listed >= charts {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!(
        "{} never held the history: {} valued rows of {want_rows}, {} charts of {charts}",
        a.name, seen.0, seen.1
    );
}

fn fmt3(v: &[f64], decimals: usize) -> String {
    let (a, b, c) = mmm(v);
    format!("{a:.decimals$} – {b:.decimals$} – {c:.decimals$}")
}

fn machine() -> String {
    let out = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{}, {} CPUs ({model}), {}",
        out("date", &["-u"]),
        cpus,
        out("uname", &["-srm"])
    )
}

fn main() {
    // `cargo bench` passes `--bench`; this is a plain binary.
    let shape = feeder::Shape {
        hostname: HOST.into(),
        charts: env_u64("TRIB_BENCH_CHARTS", 100) as usize,
        dims: env_u64("TRIB_BENCH_DIMS", 10) as usize,
        history: env_u64("TRIB_BENCH_HISTORY", 720) as i64,
    };
    let windows = env_u64("TRIB_BENCH_WINDOWS", 5) as usize;
    let window_s = env_u64("TRIB_BENCH_WINDOW_SECONDS", 2) as f64;
    let nd_mode = std::env::var("TRIB_BENCH_ND_MODE").unwrap_or_else(|_| "dbengine".into());
    eprintln!("web API bench on {}", machine());

    let agents = [agents::tributary(), agents::netdata(&nd_mode)];
    for a in &agents {
        eprintln!("  {} pid {} port {}", a.name, a.child.id(), a.port);
    }
    let started = Instant::now();
    let feeds: Vec<feeder::Feed> = agents
        .iter()
        .map(|a| feeder::start(a.port, agents::KEY, GUID, &shape))
        .collect();
    let data_path = format!(
        "/host/{HOST}/api/v1/data?chart={}&points=600&after=-600",
        feeder::chart_id(0)
    );
    let charts_path = format!("/host/{HOST}/api/v1/charts");
    for (a, f) in agents.iter().zip(&feeds) {
        let deadline = Instant::now() + Duration::from_secs(180);
        while !f.replicated() {
            assert!(
                Instant::now() < deadline,
                "{}: replication did not finish",
                a.name
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        wait_for_history(a, &data_path, 595, shape.charts);
    }
    eprintln!(
        "both agents hold {} charts × {} dimensions with {} s of history ({:.1} s to feed)",
        shape.charts,
        shape.dims,
        shape.history,
        started.elapsed().as_secs_f64()
    );

    let requests = [("data", data_path), ("charts", charts_path)];
    let mut clients: Vec<KeepAlive> = agents.iter().map(|a| KeepAlive::connect(a.port)).collect();
    for (what, path) in &requests {
        let req = KeepAlive::request(path);
        for (a, c) in agents.iter().zip(clients.iter_mut()) {
            let (status, body) = c.get(&req).expect("a first answer");
            assert_eq!(status, 200, "{} {what}", a.name);
            eprintln!("  {} {what}: {} bytes", a.name, body.len());
            // warm-up
            let _w = client::measure(c, &req, 1.0, &|| a.cpu_ns());
        }
    }
    // results[request][agent] = windows
    let mut results: Vec<Vec<Vec<Window>>> = vec![vec![Vec::new(); agents.len()]; requests.len()];
    for _ in 0..windows {
        for (r, (_, path)) in requests.iter().enumerate() {
            let req = KeepAlive::request(path);
            for (i, (a, c)) in agents.iter().zip(clients.iter_mut()).enumerate() {
                let w = client::measure(c, &req, window_s, &|| a.cpu_ns());
                results[r][i].push(w);
            }
        }
    }
    drop(feeds);

    println!(
        "\n{} windows of {window_s} s per agent and request, alternating; netdata's database: {nd_mode}, tributary's: ram\n",
        windows
    );
    println!(
        "| request | agent | requests/s (min – median – max) | p50 latency µs | p99 latency µs | agent CPU µs per request |"
    );
    println!("|---|---|---|---|---|---|");
    for (r, (what, _)) in requests.iter().enumerate() {
        for (i, a) in agents.iter().enumerate() {
            let w = &results[r][i];
            let get = |f: fn(&Window) -> f64| w.iter().map(f).collect::<Vec<f64>>();
            println!(
                "| {what} | {} ({}) | {} | {} | {} | {} |",
                a.name,
                a.mode,
                fmt3(&get(|w| w.rps), 0),
                fmt3(&get(|w| w.p50_us), 0),
                fmt3(&get(|w| w.p99_us), 0),
                fmt3(&get(|w| w.cpu_us_per_req), 1),
            );
        }
    }
    println!(
        "\n| request | throughput tributary/netdata, per window pair (min – median – max) | median latency netdata/tributary | CPU per request netdata/tributary |"
    );
    println!("|---|---|---|---|");
    for (r, (what, _)) in requests.iter().enumerate() {
        let (t, n) = (&results[r][0], &results[r][1]);
        let pair = |f: fn(&Window) -> f64, inv: bool| {
            t.iter()
                .zip(n)
                .map(|(t, n)| if inv { f(n) / f(t) } else { f(t) / f(n) })
                .collect::<Vec<f64>>()
        };
        println!(
            "| {what} | **{}x** | {}x | {}x |",
            fmt3(&pair(|w| w.rps, false), 2),
            fmt3(&pair(|w| w.p50_us, true), 2),
            fmt3(&pair(|w| w.cpu_us_per_req, true), 2),
        );
    }
    // Machine-readable lines for `benches/all-figures`.
    for (r, (what, _)) in requests.iter().enumerate() {
        let rps = |i: usize| results[r][i].iter().map(|w| w.rps).collect::<Vec<f64>>();
        common::figure(
            &format!("{what} requests/s (1 keep-alive connection)"),
            &rps(1),
            &rps(0),
            "req/s",
            common::Better::Higher,
        );
    }
}
