//! A parent's memory per 1000 dimensions with full rings, tributary and the real netdata
//! 1.37.1 side by side in one run: both agents (`ram`, history 3600, i.e. 4096 slots per
//! dimension in both) are parents of the same fake child (`web_vs_netdata/feeder.rs`), which
//! replicates `TRIB_BENCH_HISTORY` (4200) seconds of 500 charts × 10 dimensions into each, more
//! than a ring holds, then streams one collection per second. The figure is the growth of the
//! agent's resident memory (`VmRSS`) from before the child connected to after its history was
//! stored, per 1000 dimensions, sampled `TRIB_BENCH_WINDOWS` (3) times 5 s apart.
//!
//! The feeder's values are sawtooth gauges with three decimals that jump by thousands of
//! thousandths per second: neither constant nor steady, so the compression of tributary's
//! pages is measured on values harder than most real charts.
//!
//! `cargo bench --bench memory_vs_netdata`
//!
//! Knobs: `TRIB_BENCH_CHARTS` (500), `TRIB_BENCH_DIMS` (10), `TRIB_BENCH_HISTORY` (4200 s),
//! `TRIB_BENCH_WINDOWS` (3), `NETDATA` (default /usr/sbin/netdata; the bench fails without it).

#[path = "web_vs_netdata/agents.rs"]
mod agents;
mod common;
#[path = "web_vs_netdata/feeder.rs"]
mod feeder;

use std::time::{Duration, Instant};

use common::{env_u64, mmm, vm_rss_kb};

const GUID: &str = "7e57b3c4-0000-4000-8000-00000000feed";
const HOST: &str = "membench-child";

/// Waits until the agent answers the last chart with the whole history it was offered.
fn wait_for_history(a: &agents::Agent, shape: &feeder::Shape, feed: &feeder::Feed) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while !feed.replicated() {
        assert!(
            Instant::now() < deadline,
            "{}: replication did not finish",
            a.name
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let path = format!(
        "/api/v1/data?chart={}&after=-{}&points=1&group=average&format=json&options=jsonwrap",
        feeder::chart_id(shape.charts - 1),
        shape.history
    );
    let req = format!("GET /host/{HOST}{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    loop {
        use std::io::{Read, Write};
        let mut body = String::new();
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", a.port)) {
            let _w = s.write_all(req.as_bytes());
            let _r = s.read_to_string(&mut body);
        }
        // `first_entry` tells how far back the chart goes.
        let first = body
            .split("\"first_entry\":")
            .nth(1)
            .and_then(|r| r.split([',', '}']).next())
            .and_then(|v| v.trim().parse::<i64>().ok());
        let last = body
            .split("\"last_entry\":")
            .nth(1)
            .and_then(|r| r.split([',', '}']).next())
            .and_then(|v| v.trim().parse::<i64>().ok());
        if let (Some(f), Some(l)) = (first, last)
            && l - f >= 4000
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: the last chart never held its history: {body:.300}",
            a.name
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn main() {
    // `cargo bench` passes `--bench`; this is a plain binary.
    let shape = feeder::Shape {
        hostname: HOST.into(),
        charts: env_u64("TRIB_BENCH_CHARTS", 500) as usize,
        dims: env_u64("TRIB_BENCH_DIMS", 10) as usize,
        history: env_u64("TRIB_BENCH_HISTORY", 4200) as i64,
    };
    let windows = env_u64("TRIB_BENCH_WINDOWS", 3).max(1) as usize;
    let dims = (shape.charts * shape.dims) as f64;
    let mut rows = Vec::new();
    // One agent at a time: the other's replication would not disturb a memory figure, but
    // feeding both at once doubles the wait for the slower one.
    for make in [agents::tributary as fn() -> agents::Agent, || {
        agents::netdata("ram")
    }] {
        let a = make();
        std::thread::sleep(Duration::from_secs(2));
        let pid = a.child.id();
        let before = vm_rss_kb(pid);
        let cpu0 = a.cpu_ns();
        let started = Instant::now();
        let feed = feeder::start(a.port, agents::KEY, GUID, &shape);
        wait_for_history(&a, &shape, &feed);
        eprintln!(
            "  {} ({}): {} charts × {} dimensions with {} s of history in {:.1} s, {:.2} CPU s",
            a.name,
            a.mode,
            shape.charts,
            shape.dims,
            shape.history,
            started.elapsed().as_secs_f64(),
            (a.cpu_ns() - cpu0) as f64 / 1e9
        );
        let mut per_1000 = Vec::new();
        for w in 0..windows {
            if w > 0 {
                std::thread::sleep(Duration::from_secs(5));
            }
            let after = vm_rss_kb(pid);
            per_1000.push(after.saturating_sub(before) as f64 * 1024.0 / 1e6 / (dims / 1000.0));
        }
        drop(feed);
        rows.push((a.name, mmm(&per_1000)));
    }
    println!(
        "\nparent memory per 1000 dimensions, ring full (ram, history 3600 = 4096 slots, {} dimensions, {} s replicated)",
        dims, shape.history
    );
    println!("| agent | RSS growth per 1000 dimensions, MB (min – median – max) |");
    println!("|---|---|");
    for (name, (lo, med, hi)) in &rows {
        println!("| {name} | {lo:.2} – {med:.2} – {hi:.2} |");
    }
    let (t, n) = (rows[0].1.1, rows[1].1.1);
    println!(
        "ratio netdata / tributary (median): {:.1}x",
        n / t.max(1e-9)
    );
    println!(
        "FIGURE\tmemory_per_1000_dims_ring_full\t{:.2}/{:.2}/{:.2}\t{:.2}/{:.2}/{:.2}\tMB",
        rows[1].1.0, rows[1].1.1, rows[1].1.2, rows[0].1.0, rows[0].1.1, rows[0].1.2
    );
}
