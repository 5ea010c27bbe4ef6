//! How fast plugin lines are parsed, and parsed and applied, by tributary, and what the same
//! plugin costs under the real netdata 1.37.1 in the same run.
//!
//! `cargo bench --bench plugin_lines`
//!
//! 1. parse only: `tributary_protocol::parse_line` over every line of the fast load, in this
//!    process, one thread;
//! 2. fast, tributary: the agent (a `ram` database, no other collector) runs `bench.plugin`, a
//!    script that `exec cat`s a file of `TRIB_BENCH_CHARTS` (100) charts ×
//!    `TRIB_BENCH_DIMS` (10) dimensions × `TRIB_BENCH_COLLECTIONS` (2000) collections
//!    (`BEGIN`, one `SET` per dimension, `END`): from the agent's "connected to" log line to its
//!    "disconnected after N successful data collections" line (polled every 2 ms), and the
//!    agent's CPU time (utime + stime of the process) over the same span. netdata is not run
//!    with this load: collections faster than the clock make it reset every chart and log a
//!    line per chart per collection ("took too long to be updated ... Resetting it");
//! 3. paced, both agents: a python3 plugin writes `TRIB_BENCH_PACED_CHARTS` (2000) charts ×
//!    `TRIB_BENCH_PACED_DIMS` (20) dimensions once a second for `TRIB_BENCH_PACED_SECONDS`
//!    (15) s, as a real plugin does: CPU seconds per million lines of each agent. netdata
//!    (`NETDATA`, default /usr/sbin/netdata; the bench fails without it unless
//!    `TRIB_BENCH_NO_NETDATA=1`) and tributary both `[db] mode = ram`, retention 60 s.
//!
//! Each measurement runs `TRIB_BENCH_RUNS` (3) times; the table shows min – median – max.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{env_u64, free_port};

/// utime + stime of a whole process, seconds (USER_HZ = 100).
fn cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / 100.0
}

/// The plugin's output: definitions, then the collections. Returns (lines, SET lines).
fn write_load(path: &Path, charts: u64, dims: u64, collections: u64) -> (u64, u64) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut lines = 0;
    for c in 0..charts {
        writeln!(
            out,
            "CHART bench.c{c} '' 'bench chart {c}' 'things' bench bench.c{c} line {} 1 '' 'bench.plugin' ''",
            1000 + c
        )
        .unwrap();
        lines += 1;
        for d in 0..dims {
            let algo = if d % 2 == 0 {
                "absolute"
            } else {
                "incremental"
            };
            writeln!(out, "DIMENSION d{d} 'dim {d}' {algo} 1 1").unwrap();
            lines += 1;
        }
    }
    for k in 0..collections {
        for c in 0..charts {
            writeln!(out, "BEGIN bench.c{c}").unwrap();
            for d in 0..dims {
                writeln!(out, "SET d{d} = {}", k * (d + 1) + c).unwrap();
            }
            writeln!(out, "END").unwrap();
            lines += dims + 2;
        }
    }
    out.flush().unwrap();
    (lines, collections * charts * dims)
}

/// An agent running `bench.plugin`; killed on drop.
struct Agent {
    child: Child,
    log: PathBuf,
    dir: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        common::stop(&mut self.child, &self.dir);
    }
}

/// The paced plugin: one collection of every chart per second, for `seconds` seconds.
fn paced_script(charts: u64, dims: u64, seconds: u64) -> String {
    format!(
        r#"#!/usr/bin/env python3
import sys, time
C, D, S = {charts}, {dims}, {seconds}
out = sys.stdout
defs = []
for c in range(C):
    defs.append(f"CHART bench.c{{c}} '' 'bench chart {{c}}' 'things' bench bench.c{{c}} line {{1000 + c}} 1 '' 'bench.plugin' ''\n")
    for d in range(D):
        defs.append(f"DIMENSION d{{d}} 'dim {{d}}' {{'absolute' if d % 2 == 0 else 'incremental'}} 1 1\n")
out.write(''.join(defs))
out.flush()
t = time.time()
for k in range(S):
    out.write(''.join(f"BEGIN bench.c{{c}}\n" + ''.join(f"SET d{{d}} = {{k * (d + 1) + c}}\n" for d in range(D)) + "END\n" for c in range(C)))
    out.flush()
    t += 1
    time.sleep(max(0, t - time.time()))
"#
    )
}

fn plugin_dir(dir: &Path, script: &str) -> PathBuf {
    let plugins = dir.join("plugins.d");
    std::fs::create_dir_all(&plugins).unwrap();
    let tmp = plugins.join(".bench.tmp");
    std::fs::write(&tmp, script).unwrap();
    std::process::Command::new("chmod")
        .args(["755"])
        .arg(&tmp)
        .status()
        .unwrap();
    std::fs::rename(&tmp, plugins.join("bench.plugin")).unwrap();
    plugins
}

fn start_tributary(script: &str, run: u64) -> Agent {
    let dir = std::env::temp_dir().join(format!("trib-plugin-bench-{}-{run}", std::process::id()));
    for d in ["etc", "cache", "lib", "log"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let plugins = plugin_dir(&dir, script);
    let d = dir.display().to_string();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tributary"));
    cmd.args(["-D", "-i", "127.0.0.1", "-p", &free_port().to_string()]);
    for (s, k, v) in [
        ("directories", "config", format!("{d}/etc")),
        ("directories", "cache", format!("{d}/cache")),
        ("directories", "lib", format!("{d}/lib")),
        ("directories", "log", format!("{d}/log")),
        (
            "directories",
            "plugins",
            format!("\"{}\"", plugins.display()),
        ),
        ("logs", "error", format!("{d}/log/error.log")),
        ("db", "mode", "ram".into()),
        ("db", "retention", "60".into()),
        ("plugins", "proc", "no".into()),
        ("plugins", "diskspace", "no".into()),
        ("plugins", "idlejitter", "no".into()),
        ("health", "enabled", "no".into()),
        // No restart after `cat` ends.
        ("plugin:bench", "update every", "3600".into()),
    ] {
        cmd.args(["-W", "set", s, k, &v]);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tributary");
    Agent {
        child,
        log: dir.join("log/error.log"),
        dir,
    }
}

fn start_netdata(binary: &str, script: &str, run: u64) -> Agent {
    let dir = std::env::temp_dir().join(format!("nd-plugin-bench-{}-{run}", std::process::id()));
    for d in ["etc", "cache", "lib", "log", "run"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let plugins = plugin_dir(&dir, script);
    let _copied = std::fs::copy(
        "/usr/lib/netdata/plugins.d/system-info.sh",
        plugins.join("system-info.sh"),
    );
    let d = dir.display();
    let conf = format!(
        "[global]\n    hostname = nd-plugin-bench\n    run as user = root\n    process scheduling policy = keep\n\
         [web]\n    bind to = 127.0.0.1:{}\n\
         [db]\n    mode = ram\n    retention = 60\n\
         [directories]\n    config = {d}/etc\n    stock config = /usr/lib/netdata/conf.d\n    cache = {d}/cache\n    lib = {d}/lib\n    log = {d}/log\n    run = {d}/run\n    plugins = \"{}\"\n\
         [logs]\n    debug = {d}/log/debug.log\n    error = {d}/log/error.log\n    access = none\n\
         [health]\n    enabled = no\n[ml]\n    enabled = no\n[registry]\n    enabled = no\n[cloud]\n    enabled = no\n[statsd]\n    enabled = no\n\
         [plugins]\n    enable running new plugins = no\n    bench = yes\n    proc = no\n    diskspace = no\n    idlejitter = no\n    cgroups = no\n    tc = no\n    timex = no\n    checks = no\n    statsd = no\n    netdata monitoring = no\n\
         [plugin:bench]\n    update every = 3600\n",
        free_port(),
        plugins.display()
    );
    std::fs::write(dir.join("etc/netdata.conf"), conf).unwrap();
    let child = Command::new(binary)
        .args(["-D", "-c"])
        .arg(dir.join("etc/netdata.conf"))
        .env("DO_NOT_TRACK", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start netdata");
    Agent {
        child,
        log: dir.join("log/error.log"),
        dir,
    }
}

/// (seconds from "connected" to "disconnected", CPU seconds of the agent in between,
/// collections it reported).
fn measure(agent: &Agent) -> (f64, f64, u64) {
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut started: Option<(Instant, f64)> = None;
    loop {
        assert!(Instant::now() < deadline, "the plugin run did not finish");
        let log = std::fs::read_to_string(&agent.log).unwrap_or_default();
        if started.is_none() && log.contains("bench.plugin' running on pid") {
            started = Some((Instant::now(), cpu_s(agent.child.id())));
        }
        if let Some((t0, cpu0)) = started
            && let Some(line) = log
                .lines()
                .find(|l| l.contains("bench.plugin' (pid") && l.contains("disconnected after"))
        {
            let wall = t0.elapsed().as_secs_f64();
            let cpu = cpu_s(agent.child.id()) - cpu0;
            let n = line
                .split("disconnected after ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            return (wall, cpu, n);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn spread(mut v: Vec<f64>) -> String {
    v.sort_by(f64::total_cmp);
    let fmt = |x: f64| {
        if x >= 100.0 {
            format!("{:.0}", x)
        } else {
            format!("{x:.3}")
        }
    };
    format!(
        "{} – {} – {}",
        fmt(v[0]),
        fmt(v[v.len() / 2]),
        fmt(v[v.len() - 1])
    )
}

/// Runs `start` `runs` times; per run (lines/s, CPU s per million lines).
fn runs_of(
    name: &str,
    runs: u64,
    lines: u64,
    collections: u64,
    start: &dyn Fn(u64) -> Agent,
) -> (Vec<f64>, Vec<f64>) {
    let mut rates = Vec::new();
    let mut cpu_per_m = Vec::new();
    for r in 0..runs {
        let agent = start(r);
        let (wall, cpu, n) = measure(&agent);
        assert_eq!(n, collections, "{name}: every END applied");
        rates.push(lines as f64 / wall);
        cpu_per_m.push(cpu / (lines as f64 / 1e6));
    }
    (rates, cpu_per_m)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let charts = env_u64("TRIB_BENCH_CHARTS", 100);
    let dims = env_u64("TRIB_BENCH_DIMS", 10);
    let collections = env_u64("TRIB_BENCH_COLLECTIONS", 2000);
    let paced_charts = env_u64("TRIB_BENCH_PACED_CHARTS", 2000);
    let paced_dims = env_u64("TRIB_BENCH_PACED_DIMS", 20);
    let paced_seconds = env_u64("TRIB_BENCH_PACED_SECONDS", 15);
    let runs = env_u64("TRIB_BENCH_RUNS", 3).max(1);
    let netdata = std::env::var("NETDATA").unwrap_or_else(|_| "/usr/sbin/netdata".into());
    let with_netdata = std::env::var("TRIB_BENCH_NO_NETDATA").is_err();
    if with_netdata {
        assert!(
            Path::new(&netdata).exists(),
            "{netdata} is missing: this bench compares with a real netdata 1.37.1. Install it with: apt-get install -y netdata-core (or set TRIB_BENCH_NO_NETDATA=1)"
        );
    }
    let load = std::env::temp_dir().join(format!("plugin-bench-{}.txt", std::process::id()));
    let (lines, values) = write_load(&load, charts, dims, collections);
    let bytes = std::fs::metadata(&load).unwrap().len();
    println!(
        "fast load: {charts} charts x {dims} dimensions x {collections} collections = {lines} lines, {values} values, {bytes} bytes"
    );
    let paced_lines =
        paced_charts * (paced_dims + 1) + paced_seconds * paced_charts * (paced_dims + 2);
    println!(
        "paced load: {paced_charts} charts x {paced_dims} dimensions every second for {paced_seconds} s = {paced_lines} lines"
    );

    // 1. Parse only.
    let text = std::fs::read_to_string(&load).unwrap();
    let mut parse_rates = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut ok = 0u64;
        for line in text.lines() {
            ok += u64::from(tributary_protocol::parse_line(line).is_ok());
        }
        let s = t.elapsed().as_secs_f64();
        assert_eq!(ok, lines);
        parse_rates.push(lines as f64 / s);
    }
    drop(text);
    let mut rows = vec![(
        "parse_line only (this process, one thread)".to_string(),
        parse_rates,
        Vec::new(),
    )];

    // 2. Fast: parsed and applied as fast as the pipe delivers.
    let cat = format!("#!/bin/sh\nexec cat '{}'\n", load.display());
    let (rates, cpu) = runs_of("tributary", runs, lines, charts * collections, &|r| {
        start_tributary(&cat, r)
    });
    rows.push((
        "fast: tributary, read + parse + apply (ram)".into(),
        rates,
        cpu,
    ));
    let _removed = std::fs::remove_file(&load);

    // 3. Paced: one collection per chart per second.
    let paced = paced_script(paced_charts, paced_dims, paced_seconds);
    let paced_collections = paced_charts * paced_seconds;
    let (rates, cpu) = runs_of("tributary", runs, paced_lines, paced_collections, &|r| {
        start_tributary(&paced, r + 100)
    });
    rows.push(("paced: tributary (ram)".into(), rates, cpu));
    if with_netdata {
        let (rates, cpu) = runs_of("netdata", runs, paced_lines, paced_collections, &|r| {
            start_netdata(&netdata, &paced, r + 100)
        });
        rows.push(("paced: netdata 1.37.1 (ram)".into(), rates, cpu));
    }

    println!();
    println!("| what | lines/s (min – median – max) | CPU s per million lines |");
    println!("|---|---|---|");
    for (name, rates, cpu) in rows {
        let cpu = if cpu.is_empty() {
            "–".to_string()
        } else {
            spread(cpu)
        };
        println!("| {name} | {} | {cpu} |", spread(rates));
    }
}
