//! A fake child that gives a parent the same history as every other parent it feeds: it
//! offers `history` seconds of C charts × D dimensions through netdata 1.37's replication
//! (`CHART_DEFINITION_END first last now`, answering each `REPLAY_CHART` with
//! `RBEGIN`/`RSET`/`RDSTATE`/`RSSTATE`/`REND`), then streams one live collection per second.
//! Every value is a pure function of (time, chart, dimension), so two parents fed at the same
//! time hold the same points.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use tributary_protocol::capabilities::{Caps, parse_reply};
use tributary_protocol::handshake::StreamRequest;

/// The divisor of every dimension: values are collected in thousandths, so the stored ones
/// have up to three decimals, like most real charts.
const DIVISOR: i64 = 1000;

/// What the fake child holds.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Hostname (and the `/host/NAME/` prefix of the queries).
    pub hostname: String,
    /// Charts (`bench.c000` …).
    pub charts: usize,
    /// Dimensions per chart (`d0` …).
    pub dims: usize,
    /// Seconds of history offered for replication.
    pub history: i64,
}

/// The id of chart `c`.
pub fn chart_id(c: usize) -> String {
    format!("bench.c{c:03}")
}

/// The collected value of dimension `d` of chart `c` at time `t` (thousandths).
fn collected(t: i64, c: usize, d: usize) -> i64 {
    (t.wrapping_mul(7919 * (d as i64 + 1)) + c as i64 * 104_729).rem_euclid(100_000)
}

fn wall_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A running feed; stops streaming when dropped.
pub struct Feed {
    stop: Arc<AtomicBool>,
    finished: Arc<AtomicUsize>,
    charts: usize,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Feed {
    /// True once the parent asked for and received the history of every chart.
    pub fn replicated(&self) -> bool {
        self.finished.load(Ordering::Relaxed) >= self.charts
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ignored = t.join();
        }
    }
}

/// Connects to the parent on `port` with `key` and starts feeding it `shape`.
pub fn start(port: u16, key: &str, guid: &str, shape: &Shape) -> Feed {
    let caps = Caps::ours(false);
    let mut req = StreamRequest::new(key, &shape.hostname, guid, caps);
    req.update_every = Some(1);
    req.os = "linux".into();
    req.timezone = "UTC".into();
    req.program_name = "webbench".into();
    let bytes = req.to_request_bytes().expect("a valid STREAM request");
    let mut sock = None;
    for _ in 0..50 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the parent");
        s.write_all(&bytes).expect("send STREAM");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut reply = [0u8; 512];
        let n = s.read(&mut reply).unwrap_or(0);
        match parse_reply(&reply[..n]) {
            Ok(got) => {
                assert!(
                    got.intersect(caps).contains(Caps::REPLICATION),
                    "the parent on {port} did not negotiate REPLICATION"
                );
                sock = Some(s);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
    let sock = sock.unwrap_or_else(|| panic!("the parent on {port} refused the stream"));
    sock.set_read_timeout(None).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicUsize::new(0));
    let shape2 = shape.clone();
    let (stop2, finished2) = (Arc::clone(&stop), Arc::clone(&finished));
    let thread = std::thread::spawn(move || run(sock, &shape2, &stop2, &finished2));
    Feed {
        stop,
        finished,
        charts: shape.charts,
        thread: Some(thread),
    }
}

/// One `REPLAY_CHART "id" "true|false" after before`.
struct Replay {
    chart: usize,
    start_streaming: bool,
    after: i64,
    before: i64,
}

fn parse_replay(line: &str) -> Option<Replay> {
    let mut w = line.split_whitespace();
    if w.next()? != "REPLAY_CHART" {
        return None;
    }
    let id = w.next()?.trim_matches(['"', '\'']);
    let chart = id.strip_prefix("bench.c")?.parse().ok()?;
    let start_streaming = w.next()?.trim_matches(['"', '\'']) == "true";
    let after = w.next()?.parse().ok()?;
    let before = w.next()?.parse().ok()?;
    Some(Replay {
        chart,
        start_streaming,
        after,
        before,
    })
}

fn run(mut sock: TcpStream, shape: &Shape, stop: &AtomicBool, finished: &AtomicUsize) {
    let t0 = wall_s() as i64;
    let (first, last) = (t0 - shape.history + 1, t0 - 1);
    let (tx, rx) = mpsc::channel();
    let reader = sock.try_clone().expect("clone the socket");
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if let Some(r) = parse_replay(&line)
                && tx.send(r).is_err()
            {
                break;
            }
        }
    });
    let mut out = Vec::with_capacity(1 << 20);
    for c in 0..shape.charts {
        let id = chart_id(c);
        let _w = writeln!(
            out,
            "CHART \"{id}\" \"\" \"webbench chart {c}\" \"units\" \"bench\" \"{id}\" \"line\" {} 1 \"\" \"webbench\" \"\"",
            1000 + c
        );
        let _w = writeln!(out, "CLABEL \"generator\" \"webbench\" 1\nCLABEL_COMMIT");
        for d in 0..shape.dims {
            let _w = writeln!(
                out,
                "DIMENSION \"d{d}\" \"d{d}\" \"absolute\" 1 {DIVISOR} \"\""
            );
        }
        let _w = writeln!(out, "CHART_DEFINITION_END {first} {last} {t0}");
    }
    if sock.write_all(&out).is_err() {
        return;
    }
    while finished.load(Ordering::Relaxed) < shape.charts {
        let Ok(r) = rx.recv_timeout(Duration::from_secs(60)) else {
            eprintln!("webbench feeder: no REPLAY_CHART from the parent for 60 s");
            return;
        };
        out.clear();
        if reply(&mut out, shape, &r, first, last) {
            finished.fetch_add(1, Ordering::Relaxed);
        }
        if sock.write_all(&out).is_err() {
            return;
        }
    }
    // Live: one collection of every chart just after each whole second.
    let mut next = wall_s().floor() + 1.1;
    while !stop.load(Ordering::Relaxed) {
        let wait = next - wall_s();
        if wait > 0.0 {
            std::thread::sleep(Duration::from_secs_f64(wait.min(0.2)));
            continue;
        }
        let t = next.floor() as i64;
        next += 1.0;
        out.clear();
        for c in 0..shape.charts {
            let _w = writeln!(out, "BEGIN \"{}\" 1000000", chart_id(c));
            for d in 0..shape.dims {
                let _w = writeln!(out, "SET \"d{d}\" = {}", collected(t, c, d));
            }
            out.extend_from_slice(b"END\n");
        }
        if sock.write_all(&out).is_err() {
            return;
        }
    }
}

/// The answer to one request (netdata's `replicate_chart_response`); true when the chart
/// starts streaming.
fn reply(out: &mut Vec<u8>, shape: &Shape, r: &Replay, first: i64, last: i64) -> bool {
    let id = chart_id(r.chart);
    let _w = writeln!(out, "RBEGIN \"{id}\"");
    let (mut after_sent, mut before_sent) = (r.after, r.before);
    let now = wall_s() as i64;
    if r.after != 0 && r.before != 0 {
        let before = if r.start_streaming {
            last
        } else {
            r.before.min(last)
        };
        if r.start_streaming {
            before_sent = before_sent.max(last);
        }
        for t in (r.after + 1).max(first)..=before {
            let _w = writeln!(out, "RBEGIN '' {} {t} {now}", t - 1);
            for d in 0..shape.dims {
                let v = collected(t, r.chart, d);
                let _w = writeln!(out, "RSET \"d{d}\" {}.{:03} \"\"", v / DIVISOR, v % DIVISOR);
            }
        }
    } else {
        after_sent = 0;
        before_sent = 0;
    }
    let streaming = r.start_streaming || r.after == 0 || r.before == 0 || r.before >= last;
    if streaming {
        for d in 0..shape.dims {
            let v = collected(last, r.chart, d);
            let _w = writeln!(
                out,
                "RDSTATE \"d{d}\" {} {v} {v}.0000000 {}.{:03}",
                last * 1_000_000,
                v / DIVISOR,
                v % DIVISOR
            );
        }
        let _w = writeln!(out, "RSSTATE {} {}", last * 1_000_000, last * 1_000_000);
    }
    let _w = writeln!(
        out,
        "REND 1 {first} {last} {} {after_sent} {before_sent} {now}",
        if streaming { "true" } else { "false" }
    );
    streaming
}
