//! Exporting to real time-series databases on loopback: carbon (whisper files read back),
//! VictoriaMetrics (graphite, opentsdb telnet and HTTP, remote write) and Prometheus (remote
//! write receiver). A parent agent runs a plugin that collects a known sequence and receives
//! the same plugin's chart from a streamed child; every value a receiver stored must equal the
//! average (or sum) of what the parent's `/api/v1/data` reports for the points of its window.
//! Then the faults: outages with backfill, a receiver that never reads, remote write errors,
//! destinations that resolve to nothing.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::agent::Agent;
use crate::support::fault_proxy::FaultProxy;
use crate::support::receivers::{Carbon, Prometheus, Victoria};
use crate::support::{TempDir, free_port, http_get, wait_until};

const KEY: &str = "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

/// A plugin collecting `exptest.seq`: `up` = seconds mod 1000 (×1), `down` = seconds mod 97
/// (×-1/4), units `widgets/s` (remote write names it `_widgets_persec`).
const PLUGIN: &str = r#"#!/bin/sh
echo "CHART exptest.seq '' 'Exporting test sequence' 'widgets/s' exptest exptest.seq line 1000 1"
echo "DIMENSION up '' absolute 1 1"
echo "DIMENSION down '' absolute -1 4"
while true; do
  n=$(date +%s)
  echo "BEGIN exptest.seq"
  echo "SET up = $((n % 1000))"
  echo "SET down = $((n % 97))"
  echo "END"
  sleep 1
done
"#;

fn write_plugin(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let d = dir.join("plugins.d");
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("exptest.plugin");
    std::fs::write(&p, PLUGIN).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A parent (hostname `exp-parent`, exporting with `exporting_conf`) and a streamed child
/// (`exp-child`), both collecting `exptest.seq`.
struct Pair {
    parent: Agent,
    _child: Agent,
    _dirs: (TempDir, TempDir),
}

fn start_parent(dir: &TempDir, exporting_conf: &str, extra: &[(&str, &str, &str)]) -> Agent {
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/exporting.conf"), exporting_conf).unwrap();
    write_plugin(dir.path());
    let mut b = Agent::builder()
        .dir(dir.path())
        .set("global", "hostname", "exp-parent")
        .stream_conf(&format!(
            "[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    default history = 3600\n    allow from = *\n"
        ));
    for (s, k, v) in extra {
        b = b.set(s, k, v);
    }
    b.start()
}

fn start_pair(exporting_conf: &str) -> Pair {
    let (pd, cd) = (TempDir::new("exp-parent"), TempDir::new("exp-child"));
    let parent = start_parent(&pd, exporting_conf, &[]);
    write_plugin(cd.path());
    let child = Agent::builder()
        .dir(cd.path())
        .set("global", "hostname", "exp-child")
        .stream_conf(&format!(
            "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    api key = {KEY}\n    reconnect delay seconds = 1\n",
            parent.port
        ))
        .start();
    Pair {
        parent,
        _child: child,
        _dirs: (pd, cd),
    }
}

/// `/api/v1/data` of `exptest.seq` on `host` (None: localhost): time → (up, down).
fn our_points(agent: &Agent, host: Option<&str>) -> BTreeMap<i64, (Option<f64>, Option<f64>)> {
    let prefix = host.map(|h| format!("/host/{h}")).unwrap_or_default();
    let Ok((200, body)) = http_get(
        agent.port,
        &format!("{prefix}/api/v1/data?chart=exptest.seq&after=-900&format=json"),
    ) else {
        return BTreeMap::new();
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let labels: Vec<String> = v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let col = |n: &str| labels.iter().position(|l| l == n).unwrap();
    let (up, down) = (col("up"), col("down"));
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_i64().unwrap(), (r[up].as_f64(), r[down].as_f64())))
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Agg {
    Average,
    Sum,
}

/// Compares the points a receiver stored for one series with the agent's: the point at `t`
/// is the aggregate of the agent's points in `(t - every, t]`. The first stored point (its
/// window starts at the engine's start) is not compared. Returns how many points agreed; panics
/// on the first that does not.
fn compare(
    what: &str,
    stored: &[(i64, f64)],
    ours: &BTreeMap<i64, f64>,
    every: i64,
    agg: Agg,
) -> usize {
    let mut agreed = 0;
    for &(t, v) in stored.iter().skip(1) {
        let window: Vec<f64> = ours.range(t - every + 1..=t).map(|(_, v)| *v).collect();
        if window.len() as i64 != every {
            continue; // not (or no longer) all in the agent's answer
        }
        let sum: f64 = window.iter().sum();
        let expected = match agg {
            Agg::Average => sum / window.len() as f64,
            Agg::Sum => sum,
        };
        assert!(
            (expected - v).abs() <= 1e-4 + 1e-7 * expected.abs(),
            "{what}: the receiver stored {v} at {t}, /api/v1/data's points {window:?} give {expected}\nstored: {stored:?}"
        );
        agreed += 1;
    }
    agreed
}

fn dim(points: &BTreeMap<i64, (Option<f64>, Option<f64>)>, up: bool) -> BTreeMap<i64, f64> {
    points
        .iter()
        .filter_map(|(t, (u, d))| if up { *u } else { *d }.map(|v| (*t, v)))
        .collect()
}

/// Reads back a receiver's points of (host, dimension).
type Fetch<'a> = dyn Fn(&str, &str) -> Vec<(i64, f64)> + 'a;

/// Waits until `fetch(host, dim)` gives at least `n` points that agree with the agent, for
/// both hosts and both dimensions.
fn wait_agreement(
    pair_parent: &Agent,
    what: &str,
    every: i64,
    agg: Agg,
    n: usize,
    fetch: &Fetch<'_>,
) {
    wait_until(Duration::from_secs(90), what, || {
        let mut all = true;
        for (host, api_host) in [("exp-parent", None), ("exp-child", Some("exp-child"))] {
            let ours = our_points(pair_parent, api_host);
            for (dname, up) in [("up", true), ("down", false)] {
                let stored = fetch(host, dname);
                let agreed = compare(
                    &format!("{what} {host} {dname}"),
                    &stored,
                    &dim(&ours, up),
                    every,
                    agg,
                );
                all &= agreed >= n;
            }
        }
        all.then_some(())
    });
}

#[test]
fn graphite_to_carbon_stores_what_the_api_reports_for_localhost_and_a_child() {
    let carbon = Carbon::start();
    let pair = start_pair(&format!(
        "[graphite:carbon]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    update every = 2\n    send configured labels = no\n    send charts matching = exptest.*\n",
        carbon.port
    ));
    let now = crate::support::now_f() as i64;
    wait_agreement(&pair.parent, "carbon", 2, Agg::Average, 4, &|host, d| {
        carbon.fetch(
            &format!("netdata.{host}.exptest.seq.{d}"),
            now - 120,
            now + 600,
        )
    });
    let log = pair.parent.log();
    assert!(
        log.contains("EXPORTING: instance carbon: connected to 127.0.0.1:"),
        "{log}"
    );
}

#[test]
fn victoria_metrics_stores_graphite_opentsdb_and_remote_write_as_the_api_reports() {
    let vm = Victoria::start();
    let pair = start_pair(&format!(
        "[exporting:global]\n    send charts matching = exptest.*\n\
         [graphite:vm_graphite]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    update every = 2\n\
         [opentsdb:vm_tsdb]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    update every = 3\n    data source = sum\n\
         [opentsdb:http:vm_tsdb_http]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    update every = 2\n    prefix = ohttp\n\
         [prometheus_remote_write:vm_rw]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    remote write URL path = /api/v1/write\n    update every = 1\n",
        vm.graphite, vm.opentsdb, vm.opentsdb_http, vm.http
    ));
    let one = |selector: String| -> Vec<(i64, f64)> {
        let mut series = vm.export(&selector);
        assert!(series.len() <= 1, "{selector}: {series:?}");
        series.pop().map(|(_, p)| p).unwrap_or_default()
    };
    wait_agreement(
        &pair.parent,
        "vm graphite",
        2,
        Agg::Average,
        3,
        &|host, d| one(format!("{{__name__=\"netdata.{host}.exptest.seq.{d}\"}}")),
    );
    wait_agreement(
        &pair.parent,
        "vm opentsdb (sum)",
        3,
        Agg::Sum,
        3,
        &|host, d| {
            one(format!(
                "{{__name__=\"netdata.exptest.seq.{d}\",host=\"{host}\"}}"
            ))
        },
    );
    wait_agreement(
        &pair.parent,
        "vm opentsdb:http",
        2,
        Agg::Average,
        3,
        &|host, d| {
            one(format!(
                "{{__name__=\"ohttp.exptest.seq.{d}\",host=\"{host}\"}}"
            ))
        },
    );
    wait_agreement(
        &pair.parent,
        "vm remote write",
        1,
        Agg::Average,
        4,
        &|host, d| {
            one(format!(
                "{{__name__=\"netdata_exptest_seq_widgets_persec_average\",instance=\"{host}\",dimension=\"{d}\"}}"
            ))
        },
    );
    // netdata's labels arrive as labels.
    let info = vm.export("{__name__=\"netdata_info\",instance=\"exp-parent\"}");
    assert_eq!(info.len(), 1, "{info:?}");
    assert_eq!(info[0].0["application"], "netdata");
    assert_eq!(info[0].0["_is_ephemeral"], "false");
    let rw = vm.export("{__name__=\"netdata_exptest_seq_widgets_persec_average\",instance=\"exp-parent\",dimension=\"up\"}");
    assert_eq!(rw[0].0["chart"], "exptest.seq");
    assert_eq!(rw[0].0["family"], "exptest");
}

#[test]
fn prometheus_remote_write_receiver_stores_what_the_api_reports() {
    let prom = Prometheus::start();
    let pair = start_pair(&format!(
        "[prometheus_remote_write:prom]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    remote write URL path = /api/v1/write\n    update every = 2\n    send charts matching = exptest.*\n",
        prom.port
    ));
    wait_agreement(
        &pair.parent,
        "prometheus",
        2,
        Agg::Average,
        4,
        &|host, d| {
            let mut s = prom.samples(&format!(
            "netdata_exptest_seq_widgets_persec_average{{instance=\"{host}\",dimension=\"{d}\"}}"
        ));
            assert!(s.len() <= 1);
            s.pop().map(|(_, p)| p).unwrap_or_default()
        },
    );
}

/// A line receiver on loopback that keeps every line it gets.
struct Recorder {
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let port = free_port();
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l2 = Arc::clone(&lines);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut c) = conn else { continue };
                let l3 = Arc::clone(&l2);
                std::thread::spawn(move || {
                    let mut pending = Vec::new();
                    let mut buf = [0u8; 65536];
                    while let Ok(n) = c.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        pending.extend_from_slice(&buf[..n]);
                        while let Some(p) = pending.iter().position(|&b| b == b'\n') {
                            let line: Vec<u8> = pending.drain(..=p).collect();
                            l3.lock()
                                .unwrap()
                                .push(String::from_utf8_lossy(&line).trim_end().to_string());
                        }
                    }
                });
            }
        });
        Recorder { port, lines }
    }

    /// `(timestamp, value)` of every line of graphite metric `name`, in arrival order.
    fn graphite(&self, name: &str) -> Vec<(i64, f64)> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| {
                let mut f = l.split(' ');
                (f.next()? == name).then_some(())?;
                let v = f.next()?.parse().ok()?;
                Some((f.next()?.parse().ok()?, v))
            })
            .collect()
    }
}

fn start_single(exporting_conf: &str) -> (Agent, TempDir) {
    let dir = TempDir::new("exp-single");
    let agent = start_parent(&dir, exporting_conf, &[]);
    (agent, dir)
}

#[test]
fn after_an_outage_every_missed_cycle_is_backfilled_from_the_database_once() {
    let rec = Recorder::start();
    let proxy = FaultProxy::start(rec.port);
    let (agent, _dir) = start_single(&format!(
        "[graphite:outage]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    update every = 1\n    send configured labels = no\n    send charts matching = exptest.*\n    buffer on failures = 2\n",
        proxy.port
    ));
    let name = "netdata.exp-parent.exptest.seq.up";
    wait_until(Duration::from_secs(30), "the first batches", || {
        (rec.graphite(name).len() >= 3).then_some(())
    });
    proxy.cut();
    let cut_at = crate::support::now_f() as i64;
    std::thread::sleep(Duration::from_secs(8));
    proxy.heal();
    // Back-off is at most 10 s; then the whole outage is sent.
    let got = wait_until(Duration::from_secs(40), "the backfill", || {
        let g = rec.graphite(name);
        g.iter().any(|(t, _)| *t > cut_at + 10).then_some(g)
    });
    let mut times: Vec<i64> = got.iter().map(|(t, _)| *t).collect();
    times.sort_unstable();
    let (first, last) = (times[0], *times.last().unwrap());
    let missing: Vec<i64> = (first..=last)
        .filter(|t| times.binary_search(t).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "cycles never delivered: {missing:?} (outage from {cut_at}, buffer on failures = 2)"
    );
    // A batch written just before the cut may be resent (graphite has no acknowledgement):
    // such a duplicate must be the same point.
    let mut seen: BTreeMap<i64, f64> = BTreeMap::new();
    let mut dups = 0;
    for (t, v) in &got {
        if let Some(old) = seen.insert(*t, *v) {
            assert_eq!(old, *v, "point {t} sent twice with different values");
            dups += 1;
        }
    }
    assert!(dups <= 2, "{dups} points sent twice: {got:?}");
    let ours = dim(&our_points(&agent, None), true);
    let mut sorted: Vec<(i64, f64)> = seen.into_iter().collect();
    sorted.sort_unstable_by_key(|p| p.0);
    assert!(compare("backfill", &sorted, &ours, 1, Agg::Average) >= 10);
    let log = agent.log();
    assert!(
        log.contains(&format!(
            "EXPORTING: instance outage (127.0.0.1:{}): failed to send a batch",
            proxy.port
        )) || log.contains(&format!(
            "EXPORTING: instance outage: destination 127.0.0.1:{} closed the socket",
            proxy.port
        )),
        "{log}"
    );
    assert!(
        log.contains("EXPORTING: instance outage: destination 127.0.0.1:"),
        "{log}"
    );
}

/// An HTTP proxy in front of a real receiver whose answer can be switched: `0` forwards,
/// any other number is answered as that status without forwarding.
struct HttpFault {
    port: u16,
    status: Arc<Mutex<u16>>,
}

impl HttpFault {
    fn start(upstream: u16) -> HttpFault {
        let port = free_port();
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let status = Arc::new(Mutex::new(0u16));
        let s2 = Arc::clone(&status);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut c) = conn else { continue };
                let s3 = Arc::clone(&s2);
                std::thread::spawn(move || {
                    while let Some(req) = read_request(&mut c) {
                        let code = *s3.lock().unwrap();
                        let answer = if code == 0 {
                            forward(upstream, &req)
                        } else {
                            format!(
                                "HTTP/1.1 {code} Injected\r\nContent-Length: 9\r\n\r\ninjected\n"
                            )
                            .into_bytes()
                        };
                        if c.write_all(&answer).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        HttpFault { port, status }
    }

    fn set(&self, code: u16) {
        *self.status.lock().unwrap() = code;
    }
}

fn read_request(c: &mut std::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut b = [0u8; 65536];
    loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < p + 4 + len {
                let n = c.read(&mut b).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&b[..n]);
            }
            return Some(buf);
        }
        let n = c.read(&mut b).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
    }
}

fn forward(upstream: u16, req: &[u8]) -> Vec<u8> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", upstream)).unwrap();
    s.write_all(req).unwrap();
    read_request(&mut s)
        .unwrap_or_else(|| b"HTTP/1.1 502 Bad\r\nContent-Length: 0\r\n\r\n".to_vec())
}

#[test]
fn remote_write_retries_5xx_with_backfill_and_drops_4xx_batches_with_a_log_line() {
    let prom = Prometheus::start();
    let fault = HttpFault::start(prom.port);
    let (agent, _dir) = start_single(&format!(
        "[prometheus_remote_write:rwfault]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    remote write URL path = /api/v1/write\n    update every = 1\n    send charts matching = exptest.*\n",
        fault.port
    ));
    let selector =
        "netdata_exptest_seq_widgets_persec_average{instance=\"exp-parent\",dimension=\"up\"}";
    let samples = || {
        prom.samples(selector)
            .pop()
            .map(|(_, p)| p)
            .unwrap_or_default()
    };
    wait_until(Duration::from_secs(30), "the first samples", || {
        (samples().len() >= 2).then_some(())
    });
    fault.set(503);
    let t503 = crate::support::now_f() as i64;
    std::thread::sleep(Duration::from_secs(5));
    fault.set(0);
    let got = wait_until(Duration::from_secs(40), "the backfill after 503", || {
        let s = samples();
        s.iter().any(|(t, _)| *t > t503 + 8).then_some(s)
    });
    let times: Vec<i64> = got.iter().map(|(t, _)| *t).collect();
    let gaps: Vec<i64> = (times[0]..=*times.last().unwrap())
        .filter(|t| !times.contains(t))
        .collect();
    assert!(gaps.is_empty(), "503 lost cycles {gaps:?}: {got:?}");
    let ours = dim(&our_points(&agent, None), true);
    assert!(compare("rw after 503", &got, &ours, 1, Agg::Average) >= 8);

    fault.set(400);
    std::thread::sleep(Duration::from_secs(4));
    fault.set(0);
    let t_back = crate::support::now_f() as i64;
    wait_until(Duration::from_secs(30), "samples after the 400s", || {
        samples().iter().any(|(t, _)| *t > t_back).then_some(())
    });
    let log = agent.log();
    assert!(
        log.contains(&format!(
            "EXPORTING: instance rwfault (127.0.0.1:{}): failed to send a batch: 127.0.0.1:{} answered 503: injected",
            fault.port, fault.port
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "EXPORTING: instance rwfault (127.0.0.1:{}): batch rejected, dropped: 127.0.0.1:{} answered 400: injected",
            fault.port, fault.port
        )),
        "{log}"
    );
}

/// A plugin with one chart of 5000 dimensions.
const BULK_PLUGIN: &str = r#"#!/usr/bin/env python3
import sys, time
N = 5000
out = sys.stdout
out.write("CHART bulk.many '' 'many' 'n' bulk bulk.many line 2000 1\n")
out.write("".join("DIMENSION d%d '' absolute 1 1\n" % i for i in range(N)))
while True:
    now = int(time.time())
    out.write("BEGIN bulk.many\n" + "".join("SET d%d = %d\n" % (i, now + i) for i in range(N)) + "END\n")
    out.flush()
    time.sleep(1)
"#;

fn write_bulk_plugin(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let d = dir.join("plugins.d");
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("bulk.plugin");
    std::fs::write(&p, BULK_PLUGIN).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

/// A python3 TCP server on loopback: `mode` `stall` accepts with a tiny receive buffer and never
/// reads; `cut` reads 1000 bytes of each connection, then closes it.
fn bad_server(mode: &str) -> (Killed, u16) {
    let port = free_port();
    let script = r#"
import socket, sys, threading, time
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.bind(("127.0.0.1", port)); s.listen(16)
held = []
while True:
    c, _ = s.accept()
    if mode == "stall":
        held.append(c)
    else:
        got = 0
        while got < 1000:
            d = c.recv(1000 - got)
            if not d: break
            got += len(d)
        c.close()
"#;
    let child = Killed(
        std::process::Command::new("python3")
            .args(["-c", script, mode, &port.to_string()])
            .spawn()
            .expect("python3"),
    );
    wait_until(Duration::from_secs(10), "the bad server", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    (child, port)
}

/// A helper process, killed by its PID and reaped when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _killed = self.0.kill();
        let _reaped = self.0.wait();
    }
}

#[test]
fn receivers_that_never_read_close_mid_batch_or_resolve_to_nothing_leave_the_agent_unaffected() {
    let (_stall, stall_port) = bad_server("stall");
    let (_cut, cut_port) = bad_server("cut");
    // Far too long a label for DNS: glibc refuses it without asking any name server.
    let nowhere = format!("{}.invalid", "a".repeat(70));
    // 5000 dimensions (about 400 KB per graphite batch) fill the kernel's socket buffers of
    // the receiver that never reads within seconds.
    let dir = TempDir::new("exp-single");
    write_bulk_plugin(dir.path());
    let agent = start_parent(
        &dir,
        &format!(
            "[exporting:global]\n    update every = 1\n    timeout ms = 1500\n    send charts matching = *\n\
         [graphite:stall]\n    enabled = yes\n    destination = 127.0.0.1:{stall_port}\n\
         [opentsdb:cut]\n    enabled = yes\n    destination = 127.0.0.1:{cut_port}\n\
         [json:nowhere]\n    enabled = yes\n    destination = {nowhere}:5448\n"
        ),
        &[],
    );
    let pid = agent.pid();
    std::thread::sleep(Duration::from_secs(15));
    let rss_before = rss_kb(pid);
    std::thread::sleep(Duration::from_secs(10));
    let rss_after = rss_kb(pid);
    // The agent still answers, quickly.
    let t0 = std::time::Instant::now();
    let (status, _) = http_get(agent.port, "/api/v1/info").unwrap();
    assert_eq!(status, 200);
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert!(
        rss_after < rss_before + 8 * 1024,
        "memory grew from {rss_before} kB to {rss_after} kB"
    );
    let log = agent.log();
    assert!(
        log.contains(&format!(
            "EXPORTING: instance stall (127.0.0.1:{stall_port}): failed to send a batch: 127.0.0.1:{stall_port}: cannot send"
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!("instance cut: destination 127.0.0.1:{cut_port} closed the socket"))
            || log.contains(&format!(
                "EXPORTING: instance cut (127.0.0.1:{cut_port}): failed to send a batch: 127.0.0.1:{cut_port}: cannot send"
            )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "EXPORTING: instance nowhere: cannot resolve destination {nowhere}:5448"
        )),
        "{log}"
    );
}

#[test]
fn the_legacy_backend_section_exports_and_memory_mode_none_exports_nothing() {
    let rec = Recorder::start();
    let dir = TempDir::new("exp-backend");
    let dest = format!("127.0.0.1:{}", rec.port);
    let agent = start_parent(
        &dir,
        "",
        &[
            ("backend", "enabled", "yes"),
            ("backend", "type", "graphite"),
            ("backend", "destination", &dest),
            ("backend", "update every", "2"),
            ("backend", "prefix", "legacy"),
            ("backend", "send charts matching", "exptest.*"),
        ],
    );
    let got = wait_until(Duration::from_secs(40), "[backend] lines", || {
        let g = rec.graphite("legacy.exp-parent.exptest.seq.up");
        (g.len() >= 4).then_some(g)
    });
    let ours = dim(&our_points(&agent, None), true);
    assert!(compare("backend", &got, &ours, 2, Agg::Average) >= 3);
    // No labels on legacy backend lines: the metric name is the whole first field.
    assert!(rec.lines.lock().unwrap().iter().all(|l| !l.contains(';')));

    let rec2 = Recorder::start();
    let dir2 = TempDir::new("exp-none");
    let none = start_parent(
        &dir2,
        &format!(
            "[graphite:nodb]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    update every = 1\n",
            rec2.port
        ),
        &[("db", "mode", "none")],
    );
    std::thread::sleep(Duration::from_secs(4));
    assert!(rec2.lines.lock().unwrap().is_empty());
    let log = none.log();
    assert_eq!(
        log.matches("EXPORTING: memory mode is none: this node keeps no database")
            .count(),
        1,
        "{log}"
    );
}

#[test]
fn a_restarted_agent_resumes_each_host_where_the_backend_stopped_receiving() {
    let rec = Recorder::start();
    let dir = TempDir::new("exp-restart");
    let conf = format!(
        "[graphite:resume]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    update every = 2\n    send configured labels = no\n    send charts matching = exptest.*\n",
        rec.port
    );
    let name = "netdata.exp-parent.exptest.seq.up";
    let extra = [("db", "mode", "save")];
    let mut agent = start_parent(&dir, &conf, &extra);
    wait_until(Duration::from_secs(30), "the first batches", || {
        (rec.graphite(name).len() >= 3).then_some(())
    });
    agent.stop();
    let progress = std::fs::read_to_string(dir.path().join("lib/exporting/resume.progress"))
        .expect("the progress file");
    assert_eq!(progress.lines().count(), 1, "{progress}");
    std::thread::sleep(Duration::from_secs(3));
    let agent = start_parent(&dir, &conf, &extra);
    let restarted = crate::support::now_f() as i64;
    let got = wait_until(Duration::from_secs(40), "batches after the restart", || {
        let g = rec.graphite(name);
        g.iter().any(|(t, _)| *t > restarted + 2).then_some(g)
    });
    assert!(
        agent
            .log()
            .contains("EXPORTING: instance resume: resuming 1 hosts from")
    );
    // Every stored point up to the last exported one reached the backend, once.
    let ours = dim(&our_points(&agent, None), true);
    let last = got.iter().map(|(t, _)| *t).max().unwrap();
    let first = got.iter().map(|(t, _)| *t).min().unwrap();
    let mut sent: BTreeMap<i64, f64> = BTreeMap::new();
    for (t, v) in &got {
        assert!(
            sent.insert(*t, *v).is_none(),
            "point {t} sent twice: {got:?}"
        );
    }
    // Each exported point covers (t-2, t]: the points of the database inside the exported span
    // all belong to some exported window.
    let missing: Vec<i64> = ours
        .range(first..=last)
        .map(|(t, _)| *t)
        .filter(|t| !sent.contains_key(t) && !sent.contains_key(&(t + 1)))
        .collect();
    assert!(
        missing.is_empty(),
        "stored but never exported: {missing:?}\nsent: {got:?}"
    );
    let sorted: Vec<(i64, f64)> = sent.into_iter().collect();
    assert!(compare("resume", &sorted, &ours, 2, Agg::Average) >= 3);
}
