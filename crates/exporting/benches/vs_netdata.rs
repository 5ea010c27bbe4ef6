//! Side by side with the real netdata 1.37.1 exporting engine, in one run: both agents (netdata
//! with `[db] mode = alloc`, tributary with `ram`; local collectors off) run the same external
//! plugin with `TRIBUTARY_BENCH_DIMS` dimensions (default 100,000: 1,000 charts × 100) and one
//! graphite instance (`update every = 10`, `average`, labels off) each, sending to its own
//! discarding sink in this process. Over the window the CPU time of every thread whose name
//! starts with `EXPORTING` (utime+stime of /proc/PID/task/TID/stat) is divided by the cycles,
//! and the sink's bytes likewise.
//!
//! `cargo build --release && cargo bench -p tributary-exporting --bench vs_netdata`
//! Environment: `TRIBUTARY_BIN` (default `target/release/tributary`), `NETDATA` (default
//! `/usr/sbin/netdata`), `TRIBUTARY_VS_NETDATA_SECONDS` (window, default 60),
//! `TRIBUTARY_VS_NETDATA_WARMUP` (default 30).

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const PLUGIN: &str = r#"#!/usr/bin/env python3
import os, sys, time
N = int(os.environ.get("BENCH_DIMS", "100000"))
PER = 100
out = sys.stdout
charts = N // PER
defs = []
for c in range(charts):
    defs.append("CHART bench.c%d '' 'bench' 'n' bench bench.ctx line %d 1\n" % (c, 100000 + c))
    defs.extend("DIMENSION d%d '' absolute 1 1\n" % d for d in range(PER))
out.write("".join(defs))
out.flush()
while True:
    now = int(time.time())
    out.write("".join("BEGIN bench.c%d\n" % c + "".join("SET d%d = %d\n" % (d, now + d) for d in range(PER)) + "END\n" for c in range(charts)))
    out.flush()
    time.sleep(1 - time.time() % 1)
"#;

fn env_u64(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A sink that reads and discards; returns its port and byte counter.
fn sink() -> (u16, Arc<AtomicU64>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let bytes = Arc::new(AtomicU64::new(0));
    let b = Arc::clone(&bytes);
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let b2 = Arc::clone(&b);
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                while let Ok(n) = c.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    b2.fetch_add(n as u64, Ordering::Relaxed);
                }
            });
        }
    });
    (port, bytes)
}

/// utime+stime ticks of the threads of `pid` whose name starts with `EXPORTING`.
fn exporting_ticks(pid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    dir.flatten()
        .filter_map(|t| {
            let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
            if !comm.starts_with("EXPORTING") {
                return None;
            }
            let stat = std::fs::read_to_string(t.path().join("stat")).ok()?;
            let rest = stat.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _sent = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        std::thread::sleep(Duration::from_secs(2));
        let _killed = self.0.kill();
        let _reaped = self.0.wait();
    }
}

fn write_plugin(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("bench.plugin");
    std::fs::write(&p, PLUGIN).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn exporting_conf(port: u16) -> String {
    format!(
        "[exporting:global]\n    update every = 10\n[graphite:bench]\n    enabled = yes\n    destination = 127.0.0.1:{port}\n    send configured labels = no\n    send charts matching = bench.*\n    buffer on failures = 2\n"
    )
}

fn main() {
    let dims = env_u64("TRIBUTARY_BENCH_DIMS", 100_000);
    let window = env_u64("TRIBUTARY_VS_NETDATA_SECONDS", 60);
    let warmup = env_u64("TRIBUTARY_VS_NETDATA_WARMUP", 30);
    let netdata = std::env::var("NETDATA").unwrap_or_else(|_| "/usr/sbin/netdata".into());
    let trib = std::env::var("TRIBUTARY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release/tributary")
        });
    assert!(
        Path::new(&netdata).exists(),
        "{netdata} missing: apt-get install -y --no-install-recommends netdata-core"
    );
    assert!(
        trib.exists(),
        "{} missing: run `cargo build --release` first",
        trib.display()
    );
    let base = std::env::temp_dir().join(format!("trib-vs-netdata-exp-{}", std::process::id()));
    let _fresh = std::fs::remove_dir_all(&base);
    let (nd_dir, tr_dir) = (base.join("netdata"), base.join("tributary"));
    for d in [&nd_dir, &tr_dir] {
        for sub in ["etc", "cache", "lib", "log", "run", "plugins"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        write_plugin(&d.join("plugins"));
    }
    let (nd_sink, nd_bytes) = sink();
    let (tr_sink, tr_bytes) = sink();
    std::fs::write(nd_dir.join("etc/exporting.conf"), exporting_conf(nd_sink)).unwrap();
    std::fs::write(tr_dir.join("etc/exporting.conf"), exporting_conf(tr_sink)).unwrap();
    let d = nd_dir.display();
    let mut plugins_off = String::new();
    for p in [
        "proc",
        "diskspace",
        "cgroups",
        "tc",
        "idlejitter",
        "apps",
        "python.d",
        "charts.d",
        "go.d",
        "node.d",
        "ebpf",
        "perf",
        "slabinfo",
        "fping",
        "ioping",
        "nfacct",
        "cups",
        "statsd",
        "timex",
        "checks",
    ] {
        plugins_off.push_str(&format!("    {p} = no\n"));
    }
    std::fs::write(
        nd_dir.join("etc/netdata.conf"),
        format!(
            "[global]\n    run as user = root\n    hostname = nd-bench\n[db]\n    mode = alloc\n    update every = 1\n    retention = 120\n\
             [directories]\n    config = {d}/etc\n    cache = {d}/cache\n    lib = {d}/lib\n    log = {d}/log\n    run = {d}/run\n    home = {d}\n    plugins = {d}/plugins\n\
             [logs]\n    debug = {d}/log/debug.log\n    error = {d}/log/error.log\n    access = none\n\
             [web]\n    bind to = 127.0.0.1:{}\n[registry]\n    enabled = no\n[health]\n    enabled = no\n[ml]\n    enabled = no\n\
             [plugins]\n    enable running new plugins = yes\n    bench = yes\n{plugins_off}",
            free_port()
        ),
    )
    .unwrap();
    let nd = Killed(
        Command::new(&netdata)
            .args(["-D", "-c"])
            .arg(nd_dir.join("etc/netdata.conf"))
            .env("BENCH_DIMS", dims.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start netdata"),
    );
    let t = tr_dir.display().to_string();
    let mut cmd = Command::new(&trib);
    cmd.args(["-D", "-i", "127.0.0.1", "-p", &free_port().to_string()]);
    for (s, k, v) in [
        ("global", "hostname", "tr-bench".to_string()),
        ("db", "mode", "ram".into()),
        ("db", "retention", "120".into()),
        ("directories", "config", format!("{t}/etc")),
        ("directories", "cache", format!("{t}/cache")),
        ("directories", "lib", format!("{t}/lib")),
        ("directories", "log", format!("{t}/log")),
        ("directories", "plugins", format!("{t}/plugins")),
        ("logs", "error", format!("{t}/log/error.log")),
        ("plugins", "proc", "no".into()),
        ("plugins", "diskspace", "no".into()),
        ("plugins", "idlejitter", "no".into()),
    ] {
        cmd.args(["-W", "set", s, k, &v]);
    }
    let tr = Killed(
        cmd.env("BENCH_DIMS", dims.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start tributary"),
    );
    eprintln!(
        "{dims} dimensions; warming up {warmup} s, then measuring {window} s (logs in {})",
        base.display()
    );
    std::thread::sleep(Duration::from_secs(warmup));
    let (nd0, tr0) = (exporting_ticks(nd.0.id()), exporting_ticks(tr.0.id()));
    let (ndb0, trb0) = (
        nd_bytes.load(Ordering::Relaxed),
        tr_bytes.load(Ordering::Relaxed),
    );
    std::thread::sleep(Duration::from_secs(window));
    let (nd1, tr1) = (exporting_ticks(nd.0.id()), exporting_ticks(tr.0.id()));
    let (ndb1, trb1) = (
        nd_bytes.load(Ordering::Relaxed),
        tr_bytes.load(Ordering::Relaxed),
    );
    let cycles = (window / 10) as f64;
    let tick_ms = 1000.0 / 100.0;
    println!("| agent | dimensions | exporting CPU per 10 s cycle (ms) | bytes per cycle |");
    println!("|---|---:|---:|---:|");
    println!(
        "| netdata 1.37.1 (alloc) | {dims} | {:.0} | {:.0} |",
        (nd1 - nd0) as f64 * tick_ms / cycles,
        (ndb1 - ndb0) as f64 / cycles
    );
    println!(
        "| tributary (ram) | {dims} | {:.0} | {:.0} |",
        (tr1 - tr0) as f64 * tick_ms / cycles,
        (trb1 - trb0) as f64 / cycles
    );
    drop(nd);
    drop(tr);
    if std::env::var_os("TRIBUTARY_KEEP").is_none() {
        let _removed = std::fs::remove_dir_all(&base);
    }
}
