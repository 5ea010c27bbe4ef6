//! A parent's ingestion, tributary and the real netdata 1.37.1 side by side in one run: each
//! parent in turn (ram database, no local collectors, health off) receives the same load from
//! `streamgen` (this repository's load generator, its own process), and the parent's CPU time
//! (utime + stime of /proc/PID/stat, all threads) and RSS are read over fixed windows.
//!
//! `cargo bench --bench ingest_vs_netdata`
//!
//! Scenarios (knobs in the environment):
//! * paced: `TRIB_BENCH_CHILDREN` (100) × `TRIB_BENCH_CHARTS` (100) × `TRIB_BENCH_DIMS` (10)
//!   values every second, like real agents: CPU seconds per million values, over
//!   `TRIB_BENCH_WINDOWS` (3) windows of `TRIB_BENCH_WINDOW_SECONDS` (10) after a 10 s warm-up;
//! * fast: `TRIB_BENCH_FAST_CHILDREN` (4) children × the same charts, sending as fast as the
//!   parent reads: values/s ingested and CPU seconds per million values.
//!
//! Prints one table with both agents and their ratio (min – median – max over the windows),
//! and a `FIGURE` line per figure (`benches/all-figures` collects them).
//!
//! `TRIB_BENCH_SUSTAIN=1` instead searches the largest paced load a tributary parent sustains
//! (1 M values/s steps up to `TRIB_BENCH_SUSTAIN_MAX`, 6 M; see `sustain`).
//!
//! `TRIB_BENCH_GROWTH=1` instead shows how a tributary parent's cost grows (issue 10): paced
//! loads from 10 to 1,000 children and 10,000 to 1,000,000 dimensions (2,000,000 with
//! `TRIB_BENCH_GROWTH_MAX=2000000`), each on a fresh parent with history 3600: CPU seconds per
//! million values, and RSS per 1000 dimensions (first page of each ring) and in all.
//! `NETDATA` selects the netdata binary (default /usr/sbin/netdata; the bench fails without it).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;
use common::{env_u64, free_port, mmm, tributary_dirs, vm_rss_kb, wait_listening};

const KEY: &str = "11111111-2222-3333-4444-555555555555";

fn clock_ticks() -> f64 {
    // Linux reports /proc times in USER_HZ, 100 on every architecture we run on.
    100.0
}

/// utime + stime of a whole process, seconds.
fn cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / clock_ticks()
}

/// A parent under test; killed on drop.
struct Parent {
    name: &'static str,
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Parent {
    fn drop(&mut self) {
        common::stop(&mut self.child, &self.dir);
    }
}

/// The children's database on both parents: `TRIB_BENCH_MODE` (default `ram`; `none` shows what
/// storing costs).
fn stream_conf() -> String {
    let mode = std::env::var("TRIB_BENCH_MODE").unwrap_or_else(|_| "ram".into());
    format!(
        "[{KEY}]\n    enabled = yes\n    default memory mode = {mode}\n    default history = 3600\n    health enabled by default = no\n    enable replication = no\n"
    )
}

fn start_tributary() -> Parent {
    let dir = std::env::temp_dir().join(format!("trib-ingest-bench-{}", std::process::id()));
    for d in ["etc", "cache", "lib", "log", "plugins.d"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("etc/stream.conf"), stream_conf()).unwrap();
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tributary"));
    cmd.args(["-D", "-i", "127.0.0.1", "-p", &port.to_string()]);
    tributary_dirs(&mut cmd, &dir);
    for (s, k, v) in [
        ("plugins", "proc", String::from("no")),
        ("plugins", "diskspace", String::from("no")),
        ("plugins", "idlejitter", String::from("no")),
        ("health", "enabled", String::from("no")),
        ("web", "mode", String::from("multi-threaded")),
    ] {
        cmd.args(["-W", "set", s, k, &v]);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tributary");
    wait_listening(port);
    Parent {
        name: "tributary",
        child,
        port,
        dir,
    }
}

fn start_netdata() -> Parent {
    let binary = std::env::var("NETDATA").unwrap_or_else(|_| "/usr/sbin/netdata".into());
    assert!(
        std::path::Path::new(&binary).exists(),
        "{binary} is missing: this bench compares with a real netdata 1.37.1. Install it with: apt-get install -y netdata-core"
    );
    let dir = std::env::temp_dir().join(format!("nd-ingest-bench-{}", std::process::id()));
    for d in ["etc", "cache", "lib", "log", "run", "plugins"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let _copied = std::fs::copy(
        "/usr/lib/netdata/plugins.d/system-info.sh",
        dir.join("plugins/system-info.sh"),
    );
    let port = free_port();
    let d = dir.display();
    let conf = format!(
        "[global]\n    hostname = nd-ingest-bench\n    run as user = root\n    process scheduling policy = keep\n\
         [web]\n    bind to = 127.0.0.1:{port}\n    allow streaming from = *\n\
         [db]\n    mode = ram\n\
         [directories]\n    config = {d}/etc\n    stock config = /usr/lib/netdata/conf.d\n    cache = {d}/cache\n    lib = {d}/lib\n    log = {d}/log\n    run = {d}/run\n    plugins = {d}/plugins\n\
         [logs]\n    debug = {d}/log/debug.log\n    error = {d}/log/error.log\n    access = none\n\
         [health]\n    enabled = no\n[ml]\n    enabled = no\n[registry]\n    enabled = no\n[cloud]\n    enabled = no\n[statsd]\n    enabled = no\n\
         [plugins]\n    enable running new plugins = no\n    proc = no\n    diskspace = no\n    idlejitter = no\n    cgroups = no\n    tc = no\n    timex = no\n    checks = no\n    statsd = no\n    apps = no\n    python.d = no\n    charts.d = no\n    go.d = no\n    ebpf = no\n    perf = no\n    slabinfo = no\n    fping = no\n    ioping = no\n    nfacct = no\n    cups = no\n    netdata monitoring = no\n"
    );
    std::fs::write(dir.join("etc/netdata.conf"), conf).unwrap();
    std::fs::write(dir.join("etc/stream.conf"), stream_conf()).unwrap();
    let child = Command::new(&binary)
        .args(["-D", "-c"])
        .arg(dir.join("etc/netdata.conf"))
        .env("DO_NOT_TRACK", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start netdata");
    wait_listening(port);
    std::thread::sleep(Duration::from_secs(3));
    Parent {
        name: "netdata",
        child,
        port,
        dir,
    }
}

fn streamgen(port: u16, children: u64, charts: u64, dims: u64, seconds: u64, fast: bool) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamgen"));
    cmd.args(["--parent", &format!("127.0.0.1:{port}"), "--key", KEY])
        .args(["--children", &children.to_string()])
        .args(["--charts", &charts.to_string()])
        .args(["--dims", &dims.to_string()])
        .args(["--seconds", &seconds.to_string()]);
    if fast {
        cmd.arg("--fast");
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start streamgen")
}

/// `key=value` from streamgen's report line.
fn field(report: &str, key: &str) -> f64 {
    report
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// What one agent did.
#[derive(Debug, Default, Clone)]
struct Figures {
    paced_cpu_per_m: Vec<f64>,
    rss_per_1000_dims_kb: f64,
    fast_values_per_s: f64,
    fast_cpu_per_m: f64,
    wire_bytes_per_value: f64,
    generator_cpu_share: f64,
}

fn measure(parent: &Parent) -> Figures {
    let children = env_u64("TRIB_BENCH_CHILDREN", 100);
    let charts = env_u64("TRIB_BENCH_CHARTS", 100);
    let dims = env_u64("TRIB_BENCH_DIMS", 10);
    let windows = env_u64("TRIB_BENCH_WINDOWS", 3);
    let window = env_u64("TRIB_BENCH_WINDOW_SECONDS", 10);
    let fast_children = env_u64("TRIB_BENCH_FAST_CHILDREN", 4);
    let pid = parent.child.id();
    let mut f = Figures::default();

    let rss0 = vm_rss_kb(pid);
    let warmup = 10;
    let total = warmup + windows * window + 2;
    let load = streamgen(parent.port, children, charts, dims, total, false);
    std::thread::sleep(Duration::from_secs(warmup));
    let per_s = (children * charts * dims) as f64;
    for _ in 0..windows {
        let c0 = cpu_s(pid);
        std::thread::sleep(Duration::from_secs(window));
        let c1 = cpu_s(pid);
        f.paced_cpu_per_m
            .push((c1 - c0) / (per_s * window as f64 / 1e6));
    }
    let rss1 = vm_rss_kb(pid);
    f.rss_per_1000_dims_kb =
        (rss1.saturating_sub(rss0)) as f64 / ((children * charts * dims) as f64 / 1000.0);
    let out = load.wait_with_output().expect("streamgen");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("  {} paced: {}", parent.name, report.trim());
    assert!(
        out.status.success(),
        "streamgen failed against {}: {report}",
        parent.name
    );
    f.wire_bytes_per_value = field(&report, "bytes_per_value");

    // The paced children just disconnected: give the parent a moment to notice before the
    // fast run reconnects with the same GUIDs (a parent refuses a GUID still streaming).
    std::thread::sleep(Duration::from_secs(3));
    let fast_seconds = 15;
    let c0 = cpu_s(pid);
    let load = streamgen(parent.port, fast_children, charts, dims, fast_seconds, true);
    let out = load.wait_with_output().expect("streamgen");
    let c1 = cpu_s(pid);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("  {} fast: {}", parent.name, report.trim());
    assert!(
        out.status.success(),
        "streamgen failed against {}: {report}",
        parent.name
    );
    let values = field(&report, "values");
    f.fast_values_per_s = field(&report, "values_per_s");
    f.fast_cpu_per_m = (c1 - c0) / (values / 1e6);
    f.generator_cpu_share = field(&report, "generator_cpu_s") / (c1 - c0).max(1e-9);
    f
}

/// `TRIB_BENCH_GROWTH=1`: one fresh tributary parent per load, paced.
fn growth() {
    let max = env_u64("TRIB_BENCH_GROWTH_MAX", 1_000_000);
    let loads: Vec<(u64, u64, u64)> = [
        (10, 100, 10),
        (100, 100, 10),
        (1000, 10, 10),
        (100, 1000, 10),
        (200, 1000, 10),
    ]
    .into_iter()
    .filter(|(c, h, d)| c * h * d <= max)
    .collect();
    println!(
        "\n| children × charts × dims | dimensions | CPU s per million values (min – median – max) | RSS per 1000 dims | RSS in all |"
    );
    println!("|---|---|---|---|---|");
    for (children, charts, dims) in loads {
        let p = start_tributary();
        let pid = p.child.id();
        let rss0 = vm_rss_kb(pid);
        let (warmup, windows, window) = (15, 3, 10);
        let load = streamgen(
            p.port,
            children,
            charts,
            dims,
            warmup + windows * window + 2,
            false,
        );
        std::thread::sleep(Duration::from_secs(warmup));
        let per_s = (children * charts * dims) as f64;
        let mut cpu = Vec::new();
        for _ in 0..windows {
            let c0 = cpu_s(pid);
            std::thread::sleep(Duration::from_secs(window));
            cpu.push((cpu_s(pid) - c0) / (per_s * window as f64 / 1e6));
        }
        let rss1 = vm_rss_kb(pid);
        let out = load.wait_with_output().expect("streamgen");
        let report = String::from_utf8_lossy(&out.stdout).into_owned();
        eprintln!("  {children}x{charts}x{dims}: {}", report.trim());
        assert!(out.status.success(), "streamgen failed: {report}");
        let (lo, med, hi) = mmm(&cpu);
        println!(
            "| {children} × {charts} × {dims} | {} | {lo:.3} – {med:.3} – {hi:.3} | {:.0} kB | {:.0} MB |",
            children * charts * dims,
            rss1.saturating_sub(rss0) as f64 / (per_s / 1000.0),
            rss1 as f64 / 1024.0
        );
    }
}

/// `TRIB_BENCH_SUSTAIN=1`: the largest paced load one tributary parent sustains (10-dimension
/// charts, one collection per chart per second), from 1 M values/s up in steps of 1 M to
/// `TRIB_BENCH_SUSTAIN_MAX` (6 M). A load is sustained when streamgen ends its run less than
/// 1.5 s behind its schedule (a parent that does not keep up pushes back through TCP and the
/// generator falls behind). Each load runs on a fresh parent; the search stops at the first load
/// not sustained.
fn sustain() {
    let max = env_u64("TRIB_BENCH_SUSTAIN_MAX", 6_000_000);
    let step = env_u64("TRIB_BENCH_SUSTAIN_STEP", 1_000_000);
    let (charts, dims) = (1000u64, 10u64);
    println!(
        "\n| load (children × charts × dims) | values/s offered | parent CPU (cores) | CPU s per million values | generator CPU (cores) | behind at the end | RSS | sustained |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut largest = 0u64;
    let mut load_values = step;
    while load_values <= max {
        let children = load_values / (charts * dims);
        let p = start_tributary();
        let pid = p.child.id();
        let warmup = 20 + load_values / 250_000;
        let window = 20;
        let load = streamgen(p.port, children, charts, dims, warmup + window, false);
        std::thread::sleep(Duration::from_secs(warmup));
        let c0 = cpu_s(pid);
        std::thread::sleep(Duration::from_secs(window));
        let cores = (cpu_s(pid) - c0) / window as f64;
        let rss = vm_rss_kb(pid);
        let out = load.wait_with_output().expect("streamgen");
        let report = String::from_utf8_lossy(&out.stdout).into_owned();
        eprintln!("  {children}x{charts}x{dims}: {}", report.trim());
        assert!(out.status.success(), "streamgen failed: {report}");
        let behind_ms = field(&report, "behind_ms");
        let generator = field(&report, "generator_cpu_s") / field(&report, "seconds");
        let ok = behind_ms < 1500.0;
        println!(
            "| {children} × {charts} × {dims} | {load_values} | {cores:.2} | {:.3} | {generator:.2} | {:.1} s | {:.1} GB | {} |",
            cores / (load_values as f64 / 1e6),
            behind_ms / 1000.0,
            rss as f64 * 1024.0 / 1e9,
            if ok { "yes" } else { "no" }
        );
        drop(p);
        if !ok {
            break;
        }
        largest = load_values;
        load_values += step;
    }
    println!("largest paced load sustained: {largest} values/s (searched up to {max})");
    println!("FIGURE\tlargest paced load sustained\t-\t{largest}\tvalues/s\thigher");
}

fn main() {
    // `cargo bench` passes `--bench`; this is a plain binary.
    if env_u64("TRIB_BENCH_GROWTH", 0) == 1 {
        return growth();
    }
    if env_u64("TRIB_BENCH_SUSTAIN", 0) == 1 {
        return sustain();
    }
    let uname = Command::new("uname")
        .arg("-srm")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    eprintln!("ingestion bench on {uname}, {cpus} CPUs");
    let t = {
        let p = start_tributary();
        measure(&p)
    };
    let n = {
        let p = start_netdata();
        measure(&p)
    };
    let (tmin, tmed, tmax) = mmm(&t.paced_cpu_per_m);
    let (nmin, nmed, nmax) = mmm(&n.paced_cpu_per_m);
    println!("\n| figure | netdata 1.37.1 | tributary | netdata / tributary |");
    println!("|---|---|---|---|");
    println!(
        "| paced ingestion, CPU s per million values (min – median – max) | {nmin:.3} – {nmed:.3} – {nmax:.3} | {tmin:.3} – {tmed:.3} – {tmax:.3} | {:.1}x |",
        nmed / tmed
    );
    println!(
        "| as fast as possible, values/s ingested | {:.0} | {:.0} | {:.2}x (tributary/netdata) |",
        n.fast_values_per_s,
        t.fast_values_per_s,
        t.fast_values_per_s / n.fast_values_per_s
    );
    println!(
        "| as fast as possible, CPU s per million values | {:.3} | {:.3} | {:.1}x |",
        n.fast_cpu_per_m,
        t.fast_cpu_per_m,
        n.fast_cpu_per_m / t.fast_cpu_per_m
    );
    println!(
        "| RSS growth per 1000 dimensions after the paced run (ring not full) | {:.0} kB | {:.0} kB | {:.1}x |",
        n.rss_per_1000_dims_kb,
        t.rss_per_1000_dims_kb,
        n.rss_per_1000_dims_kb / t.rss_per_1000_dims_kb
    );
    println!(
        "| streamgen's CPU as a share of the parent's (fast run) | {:.0}% | {:.0}% | |",
        n.generator_cpu_share * 100.0,
        t.generator_cpu_share * 100.0
    );
    println!(
        "| wire bytes per value (LZ4, generator side) | {:.2} | {:.2} | |",
        n.wire_bytes_per_value, t.wire_bytes_per_value
    );
    use common::{Better, figure};
    figure(
        "paced ingestion, CPU s per million values",
        &n.paced_cpu_per_m,
        &t.paced_cpu_per_m,
        "s",
        Better::Lower,
    );
    figure(
        "fast ingestion, CPU s per million values",
        &[n.fast_cpu_per_m],
        &[t.fast_cpu_per_m],
        "s",
        Better::Lower,
    );
    figure(
        "fast ingestion, values/s",
        &[n.fast_values_per_s],
        &[t.fast_values_per_s],
        "values/s",
        Better::Higher,
    );
}
