//! The headless collector, tributary and the real netdata 1.37.1 side by side in one run.
//! A tributary parent (this build, `ram`, no local collectors) receives, in turn, a tributary
//! headless child (the README's headless build: `[db] mode = none`, `[web] mode = none`, every
//! internal collector, no external plugins) and a netdata 1.37.1 headless child (`memory mode
//! = none`, `web mode = none`, its internal `proc`, `diskspace` and `idlejitter` plugins, no
//! external plugins), each streaming LZ4 to the parent from its own temporary directories.
//!
//! Over `TRIB_BENCH_WINDOWS` (5) windows of `TRIB_BENCH_WINDOW_SECONDS` (10) after
//! `TRIB_BENCH_WARMUP` (30) seconds it measures, per child:
//! * RSS: the sum of VmRSS over the child's whole process tree (netdata's spawn server and any
//!   helper included), sampled at the end of each window; also the main process alone;
//! * CPU per 1000 values: utime + stime (+ that of reaped children) of the process tree during
//!   the window, divided by the values the parent received in it. Values are counted on the
//!   parent: for every chart of `/host/NAME/api/v1/charts`, its dimensions × the collections
//!   its `last_entry` advanced by during the window;
//! * wire bytes per value: the bytes the parent read from the child's stream
//!   (`/api/v1/streaming`'s `bytes_received`) during the window, per value.
//!
//! Prints a table (min – median – max over the windows, ratio of the medians) and one
//! machine-readable `FIGURE` line per figure (`benches/all-figures` collects them).
//!
//! `cargo bench --bench headless_vs_netdata`
//!
//! `NETDATA` selects the netdata binary (default /usr/sbin/netdata; the bench fails without
//! it), `TRIBUTARY_HEADLESS` a prebuilt headless binary instead of building it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{env_u64, free_port, mmm, tributary_dirs, vm_rss_kb, wait_listening};

const KEY: &str = "4d5e6f70-8192-4a3b-8c4d-5e6f708192a3";

/// Linux reports /proc times in USER_HZ, 100 on every architecture we run on.
const CLOCK_TICKS: f64 = 100.0;

/// One process of a tree.
struct Proc {
    pid: u32,
    ppid: u32,
    comm: String,
    /// CPU time: on-CPU nanoseconds of its live threads (`/proc/PID/task/*/schedstat`) plus
    /// cutime + cstime (its reaped children, 10 ms ticks).
    cpu_ns: u64,
}

/// On-CPU nanoseconds of every live thread of `pid`.
fn threads_on_cpu_ns(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
                .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0)
}

fn read_proc(pid: u32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (head, after) = stat.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_string();
    let f: Vec<&str> = after.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // After the comm: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    let reaped_ns = (num(13) + num(14)) as f64 / CLOCK_TICKS * 1e9;
    Some(Proc {
        pid,
        ppid: num(1) as u32,
        comm,
        cpu_ns: threads_on_cpu_ns(pid) + reaped_ns as u64,
    })
}

/// `root` and all its descendants now.
fn tree(root: u32) -> Vec<Proc> {
    let all: Vec<Proc> = std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(read_proc)
                .collect()
        })
        .unwrap_or_default();
    let mut children: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, p) in all.iter().enumerate() {
        children.entry(p.ppid).or_default().push(i);
    }
    let mut keep = vec![false; all.len()];
    let mut todo: Vec<usize> = all.iter().position(|p| p.pid == root).into_iter().collect();
    while let Some(i) = todo.pop() {
        keep[i] = true;
        todo.extend(children.get(&all[i].pid).into_iter().flatten());
    }
    all.into_iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(p))
        .collect()
}

/// A process under test with its directory; stopped and removed on drop.
struct Agent {
    child: Child,
    dir: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        common::stop(&mut self.child, &self.dir);
    }
}

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("headless-bench-{what}-{}", std::process::id()));
    let _ignored = std::fs::remove_dir_all(&dir);
    for d in ["etc", "cache", "lib", "log", "run", "plugins.d"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    dir
}

fn spawn(cmd: &mut Command, what: &str) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"))
}

/// The parent: this build's tributary, `ram`, no local collectors, health off.
fn start_parent() -> (Agent, u16) {
    let dir = temp_dir("parent");
    std::fs::write(
        dir.join("etc/stream.conf"),
        format!(
            "[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    default history = 3600\n    health enabled by default = no\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tributary"));
    cmd.args(["-D", "-i", "127.0.0.1", "-p", &port.to_string()]);
    tributary_dirs(&mut cmd, &dir);
    for (s, k, v) in [
        ("global", "hostname", "headless-bench-parent"),
        ("plugins", "proc", "no"),
        ("plugins", "diskspace", "no"),
        ("plugins", "idlejitter", "no"),
        ("health", "enabled", "no"),
    ] {
        cmd.args(["-W", "set", s, k, v]);
    }
    let child = spawn(&mut cmd, "the tributary parent");
    wait_listening(port);
    (Agent { child, dir }, port)
}

fn sender_conf(parent_port: u16) -> String {
    format!(
        "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{parent_port}\n    api key = {KEY}\n"
    )
}

fn start_tributary_child(binary: &Path, parent_port: u16, hostname: &str) -> Agent {
    let dir = temp_dir("tributary");
    std::fs::write(dir.join("etc/stream.conf"), sender_conf(parent_port)).unwrap();
    let mut cmd = Command::new(binary);
    cmd.arg("-D");
    tributary_dirs(&mut cmd, &dir);
    for (s, k, v) in [
        ("global", "hostname", hostname),
        ("db", "mode", "none"),
        ("web", "mode", "none"),
    ] {
        cmd.args(["-W", "set", s, k, v]);
    }
    let child = spawn(&mut cmd, "the tributary headless child");
    Agent { child, dir }
}

fn start_netdata_child(parent_port: u16, hostname: &str) -> Agent {
    let binary = std::env::var("NETDATA").unwrap_or_else(|_| "/usr/sbin/netdata".into());
    assert!(
        Path::new(&binary).exists(),
        "{binary} is missing: this bench compares with a real netdata 1.37.1. Install it with: apt-get install -y netdata-core"
    );
    let dir = temp_dir("netdata");
    // netdata 1.37.1's sender needs system-info.sh in its plugins directory.
    let _copied = std::fs::copy(
        "/usr/lib/netdata/plugins.d/system-info.sh",
        dir.join("plugins.d/system-info.sh"),
    );
    let d = dir.display();
    let conf = format!(
        "[global]\n    hostname = {hostname}\n    run as user = root\n    process scheduling policy = keep\n\
         [db]\n    mode = none\n    update every = 1\n\
         [web]\n    mode = none\n\
         [directories]\n    config = {d}/etc\n    stock config = /usr/lib/netdata/conf.d\n    cache = {d}/cache\n    lib = {d}/lib\n    log = {d}/log\n    run = {d}/run\n    home = {d}\n    plugins = {d}/plugins.d\n\
         [logs]\n    debug = {d}/log/debug.log\n    error = {d}/log/error.log\n    access = none\n\
         [health]\n    enabled = no\n[ml]\n    enabled = no\n[registry]\n    enabled = no\n[cloud]\n    enabled = no\n[statsd]\n    enabled = no\n\
         [plugins]\n    enable running new plugins = no\n    proc = yes\n    diskspace = yes\n    idlejitter = yes\n    cgroups = no\n    tc = no\n    timex = no\n    checks = no\n    statsd = no\n    netdata monitoring = no\n    apps = no\n    python.d = no\n    charts.d = no\n    go.d = no\n    ebpf = no\n    perf = no\n    slabinfo = no\n    fping = no\n    ioping = no\n    nfacct = no\n    cups = no\n"
    );
    std::fs::write(dir.join("etc/netdata.conf"), conf).unwrap();
    std::fs::write(dir.join("etc/stream.conf"), sender_conf(parent_port)).unwrap();
    let mut cmd = Command::new(&binary);
    cmd.args(["-D", "-c"])
        .arg(dir.join("etc/netdata.conf"))
        .env("DO_NOT_TRACK", "1");
    let child = spawn(&mut cmd, "netdata");
    Agent { child, dir }
}

/// A plain HTTP GET on 127.0.0.1 (`Connection: close`); the body, when the status is 200.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    if head.split_whitespace().nth(1) != Some("200") {
        return None;
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            if n == 0 || tail.len() < n {
                break;
            }
            out.push_str(&tail[..n]);
            rest = tail[n..].trim_start_matches("\r\n");
        }
        return Some(out);
    }
    Some(body.to_string())
}

/// Per chart of the child on the parent: (dimensions, update every, last entry).
fn charts(port: u16, host: &str) -> HashMap<String, (u64, u64, i64)> {
    let Some(body) = http_get(port, &format!("/host/{host}/api/v1/charts")) else {
        return HashMap::new();
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) else {
        return HashMap::new();
    };
    v["charts"]
        .as_object()
        .map(|charts| {
            charts
                .iter()
                .map(|(id, c)| {
                    let dims = c["dimensions"].as_object().map_or(0, |d| d.len() as u64);
                    let every = c["update_every"].as_u64().unwrap_or(1).max(1);
                    let last = c["last_entry"].as_i64().unwrap_or(0);
                    (id.clone(), (dims, every, last))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Values collected between two snapshots of [`charts`].
fn values_between(
    a: &HashMap<String, (u64, u64, i64)>,
    b: &HashMap<String, (u64, u64, i64)>,
) -> u64 {
    b.iter()
        .filter_map(|(id, &(dims, every, last))| {
            let &(_, _, before) = a.get(id).filter(|&&(_, _, t)| t > 0)?;
            let collections = u64::try_from(last - before).ok()? / every;
            Some(dims * collections)
        })
        .sum()
}

/// Dimensions collected at least once in the last 5 s (the child's live set).
fn live_dims(c: &HashMap<String, (u64, u64, i64)>) -> u64 {
    let newest = c.values().map(|&(_, _, l)| l).max().unwrap_or(0);
    c.values()
        .filter(|&&(_, every, last)| last + 5 * every as i64 >= newest)
        .map(|&(dims, _, _)| dims)
        .sum()
}

/// Bytes the parent has read from `host`'s stream.
fn bytes_received(port: u16, host: &str) -> Option<u64> {
    let body = http_get(port, "/api/v1/streaming")?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    v["hosts"]
        .as_array()?
        .iter()
        .find(|h| h["hostname"] == host)?["bytes_received"]
        .as_u64()
}

/// What one child did, per window.
#[derive(Default)]
struct Figures {
    rss_tree_kb: Vec<f64>,
    rss_main_kb: Vec<f64>,
    ms_per_1000_values: Vec<f64>,
    values_per_s: Vec<f64>,
    bytes_per_value: Vec<f64>,
    dims: u64,
    charts: usize,
    processes: String,
}

fn measure(name: &str, agent: &Agent, parent_port: u16, host: &str) -> Figures {
    let warmup = env_u64("TRIB_BENCH_WARMUP", 30);
    let windows = env_u64("TRIB_BENCH_WINDOWS", 5);
    let window = env_u64("TRIB_BENCH_WINDOW_SECONDS", 10);
    let pid = agent.child.id();
    let start = Instant::now();
    // The child is streaming when the parent sees its charts advance.
    loop {
        let c = charts(parent_port, host);
        if live_dims(&c) > 100 && bytes_received(parent_port, host).is_some() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{name}: no stream from {host} after 120 s (its log: {})",
            agent.dir.join("log/error.log").display()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(warmup));
    let mut f = Figures::default();
    for _ in 0..windows {
        let c0 = charts(parent_port, host);
        let b0 = bytes_received(parent_port, host).unwrap_or(0);
        let t0: u64 = tree(pid).iter().map(|p| p.cpu_ns).sum();
        let w0 = Instant::now();
        std::thread::sleep(Duration::from_secs(window));
        let t1: u64 = tree(pid).iter().map(|p| p.cpu_ns).sum();
        let elapsed = w0.elapsed().as_secs_f64();
        let b1 = bytes_received(parent_port, host).unwrap_or(0);
        let c1 = charts(parent_port, host);
        let procs = tree(pid);
        let rss: u64 = procs.iter().map(|p| vm_rss_kb(p.pid)).sum();
        let values = values_between(&c0, &c1);
        let cpu_s = t1.saturating_sub(t0) as f64 / 1e9;
        assert!(
            values > 0,
            "{name}: the parent received no values in a window"
        );
        f.rss_tree_kb.push(rss as f64);
        f.rss_main_kb.push(vm_rss_kb(pid) as f64);
        f.ms_per_1000_values
            .push(cpu_s * 1000.0 / (values as f64 / 1000.0));
        f.values_per_s.push(values as f64 / elapsed);
        f.bytes_per_value
            .push(b1.saturating_sub(b0) as f64 / values as f64);
        f.dims = live_dims(&c1);
        f.charts = c1.len();
        f.processes = procs
            .iter()
            .map(|p| format!("{} {} kB", p.comm, vm_rss_kb(p.pid)))
            .collect::<Vec<_>>()
            .join(", ");
        eprintln!(
            "  {name}: RSS {rss} kB ({}), CPU {cpu_s:.2} s for {values} values",
            f.processes
        );
    }
    f
}

fn cell(v: &[f64], decimals: usize) -> String {
    let (lo, med, hi) = mmm(v);
    format!("{lo:.decimals$} – {med:.decimals$} – {hi:.decimals$}")
}

fn main() {
    // `cargo bench` passes `--bench`; this is a plain binary.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let binary = std::env::var_os("TRIBUTARY_HEADLESS")
        .map_or_else(|| common::headless_build::build(&root), PathBuf::from);
    let (parent, port) = start_parent();
    eprintln!(
        "headless bench: parent on port {port}, tributary child {}",
        binary.display()
    );
    let t = {
        let child = start_tributary_child(&binary, port, "hl-tributary");
        measure("tributary", &child, port, "hl-tributary")
    };
    let n = {
        let child = start_netdata_child(port, "hl-netdata");
        measure("netdata", &child, port, "hl-netdata")
    };
    drop(parent);

    println!(
        "\nheadless collectors streaming to a tributary parent: tributary {} charts, {} live dimensions; netdata {} charts, {} live dimensions",
        t.charts, t.dims, n.charts, n.dims
    );
    println!("netdata's processes: {}", n.processes);
    println!("tributary's processes: {}", t.processes);
    println!(
        "\n| figure (min – median – max) | netdata 1.37.1 | tributary | netdata / tributary |"
    );
    println!("|---|---|---|---|");
    let ratio = |a: &[f64], b: &[f64]| mmm(a).1 / mmm(b).1;
    for (what, nv, tv, d) in [
        (
            "RSS of all processes, kB",
            &n.rss_tree_kb,
            &t.rss_tree_kb,
            0,
        ),
        (
            "RSS of the main process, kB",
            &n.rss_main_kb,
            &t.rss_main_kb,
            0,
        ),
        (
            "CPU ms per 1000 values collected and streamed",
            &n.ms_per_1000_values,
            &t.ms_per_1000_values,
            3,
        ),
        (
            "values streamed per second",
            &n.values_per_s,
            &t.values_per_s,
            0,
        ),
        (
            "wire bytes per value (LZ4)",
            &n.bytes_per_value,
            &t.bytes_per_value,
            2,
        ),
    ] {
        println!(
            "| {what} | {} | {} | {:.2}x |",
            cell(nv, d),
            cell(tv, d),
            ratio(nv, tv)
        );
    }
    let mb = |v: &[f64]| v.iter().map(|kb| kb / 1024.0).collect::<Vec<_>>();
    common::figure(
        "headless RSS, all processes",
        &mb(&n.rss_tree_kb),
        &mb(&t.rss_tree_kb),
        "MB",
        common::Better::Lower,
    );
    common::figure(
        "headless CPU per 1000 values",
        &n.ms_per_1000_values,
        &t.ms_per_1000_values,
        "ms",
        common::Better::Lower,
    );
    common::figure(
        "headless wire bytes per value (LZ4)",
        &n.bytes_per_value,
        &t.bytes_per_value,
        "bytes",
        common::Better::Lower,
    );
}
