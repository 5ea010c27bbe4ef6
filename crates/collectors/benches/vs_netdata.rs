//! Side by side with the real netdata 1.37.1, in one run on one machine: netdata (own temporary
//! config: ram database, only the proc, diskspace and idlejitter plugins; proc modules that
//! tributary does not have switched off) and tributary's collectors in this process, each on
//! its own threads ticking on whole seconds. Over the measurement window the CPU time (on-CPU
//! nanoseconds of /proc/PID/task/TID/schedstat; utime+stime ticks of .../stat as a cross-check)
//! of netdata's collector threads and of ours is divided by the number of cycles.
//!
//! `cargo bench -p tributary-collectors --bench vs_netdata`
//! Environment: `TRIBUTARY_VS_NETDATA_SECONDS` (window, default 60),
//! `TRIBUTARY_VS_NETDATA_WARMUP` (seconds after netdata's plugins started, default 10),
//! `NETDATA` (binary, default /usr/sbin/netdata).
//!
//! Thread pairs compared:
//! * proc: netdata `PLUGIN[proc]` + `PLUGIN[proc netdev]` (1.37 runs /proc/net/dev on its own
//!   thread) vs our `PLUGIN[proc]` (every collector module but diskspace);
//! * diskspace: netdata `PLUGIN[diskspace]` + `PLUGIN[diskspace slow]` vs our diskspace module
//!   on its own thread (production runs it on the proc thread; it is split here to compare);
//! * idlejitter: netdata `PLUGIN[idlejitter]` vs our `IDLEJITTER`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tributary_collectors::heartbeat::Stop;
use tributary_collectors::idlejitter::IdleJitter;
use tributary_collectors::{Collector, all_collectors, collect_all_once, now_us};
use tributary_rrd::{Host, HostConfig, MemoryMode};

/// Every `[plugin:proc]` module of netdata 1.37.1 (from its generated netdata.conf).
const NETDATA_PROC_MODULES: [&str; 34] = [
    "/proc/net/dev",
    "/proc/pagetypeinfo",
    "/proc/stat",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/sys/kernel/random/entropy_avail",
    "/proc/pressure",
    "/proc/interrupts",
    "/proc/softirqs",
    "/proc/vmstat",
    "/proc/meminfo",
    "/sys/kernel/mm/ksm",
    "/sys/block/zram",
    "/sys/devices/system/edac/mc",
    "/sys/devices/system/node",
    "/proc/net/wireless",
    "/proc/net/sockstat",
    "/proc/net/sockstat6",
    "/proc/net/netstat",
    "/proc/net/sctp/snmp",
    "/proc/net/softnet_stat",
    "/proc/net/ip_vs/stats",
    "/sys/class/infiniband",
    "/proc/net/stat/conntrack",
    "/proc/net/stat/synproxy",
    "/proc/diskstats",
    "/proc/mdstat",
    "/proc/net/rpc/nfsd",
    "/proc/net/rpc/nfs",
    "/proc/spl/kstat/zfs/arcstats",
    "/proc/spl/kstat/zfs/pool/state",
    "/sys/fs/btrfs",
    "ipc",
    "/sys/class/power_supply",
];

const USEC: i64 = 1_000_000;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Kills netdata by its PID and removes its directory when dropped.
struct Netdata {
    child: Child,
    dir: PathBuf,
}

impl Drop for Netdata {
    fn drop(&mut self) {
        let _killed = self.child.kill();
        let _reaped = self.child.wait();
        let _removed = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.contains(" 200 ").then(|| body.to_string())
}

fn start_netdata(binary: &str, port: u16, disabled: &[&str]) -> Netdata {
    let dir = std::env::temp_dir().join(format!("tributary-vs-netdata-{}", std::process::id()));
    for d in ["cache", "lib", "log", "run", "plugins"] {
        std::fs::create_dir_all(dir.join(d)).expect("create netdata dirs");
    }
    // netdata runs system-info.sh from its plugins directory at start-up.
    let _copied = std::fs::copy(
        "/usr/lib/netdata/plugins.d/system-info.sh",
        dir.join("plugins/system-info.sh"),
    );
    let d = dir.display();
    let mut text = format!(
        "[global]\n    hostname = tributary-vs-netdata\n    run as user = root\n\
         [web]\n    bind to = 127.0.0.1:{port}\n\
         [db]\n    mode = ram\n\
         [directories]\n    cache = {d}/cache\n    lib = {d}/lib\n    log = {d}/log\n    run = {d}/run\n    plugins = {d}/plugins\n\
         [logs]\n    debug = {d}/log/debug.log\n    error = {d}/log/error.log\n    access = none\n\
         [health]\n    enabled = no\n\
         [ml]\n    enabled = no\n\
         [registry]\n    enabled = no\n\
         [cloud]\n    enabled = no\n\
         [statsd]\n    enabled = no\n\
         [plugins]\n    enable running new plugins = no\n    proc = yes\n    diskspace = yes\n    idlejitter = yes\n\
         \x20   cgroups = no\n    tc = no\n    timex = no\n    checks = no\n    statsd = no\n    apps = no\n\
         \x20   python.d = no\n    charts.d = no\n    go.d = no\n    ebpf = no\n    perf = no\n    slabinfo = no\n\
         \x20   fping = no\n    ioping = no\n    nfacct = no\n    cups = no\n    netdata monitoring = no\n\
         [plugin:proc]\n"
    );
    for m in disabled {
        text.push_str(&format!("    {m} = no\n"));
    }
    let conf = dir.join("netdata.conf");
    std::fs::write(&conf, text).expect("write netdata.conf");
    let child = Command::new(binary)
        .arg("-D")
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    Netdata { child, dir }
}

/// CPU time of one thread: on-CPU ns (schedstat) and utime+stime ticks (stat).
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    ns: u64,
    ticks: u64,
}

impl std::ops::Sub for Cpu {
    type Output = Cpu;
    fn sub(self, o: Cpu) -> Cpu {
        Cpu {
            ns: self.ns.saturating_sub(o.ns),
            ticks: self.ticks.saturating_sub(o.ticks),
        }
    }
}

impl std::ops::Add for Cpu {
    type Output = Cpu;
    fn add(self, o: Cpu) -> Cpu {
        Cpu {
            ns: self.ns + o.ns,
            ticks: self.ticks + o.ticks,
        }
    }
}

fn thread_cpu(pid: u32, tid: u32) -> Cpu {
    let base = format!("/proc/{pid}/task/{tid}");
    let ns = std::fs::read_to_string(format!("{base}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let ticks = std::fs::read_to_string(format!("{base}/stat"))
        .ok()
        .and_then(|s| {
            // fields after the ")" of comm: state is field 3, utime 14, stime 15
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Cpu { ns, ticks }
}

/// Threads of `pid` by name (`comm`, at most 15 bytes).
fn threads(pid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for e in rd.flatten() {
            let Some(tid) = e.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
            out.push((tid, comm.trim_end().to_string()));
        }
    }
    out
}

/// This thread's id, from the /proc/thread-self link (`PID/task/TID`).
fn my_tid() -> u32 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
        .expect("/proc/thread-self")
}

/// One of our collection threads: its id once started, and its completed cycles.
struct Ours {
    tid: Arc<AtomicU32>,
    cycles: Arc<AtomicU64>,
    handle: JoinHandle<()>,
}

fn spawn_ours(
    name: &str,
    mut modules: Vec<Box<dyn Collector>>,
    host: Arc<Host>,
    stop: Arc<Stop>,
) -> Ours {
    let tid = Arc::new(AtomicU32::new(0));
    let cycles = Arc::new(AtomicU64::new(0));
    let (t, c) = (Arc::clone(&tid), Arc::clone(&cycles));
    let handle = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            t.store(my_tid(), Ordering::Release);
            while stop.wait_for_next_tick(1) {
                collect_all_once(&mut modules, &host, now_us());
                c.fetch_add(1, Ordering::Relaxed);
            }
        })
        .expect("spawn collection thread");
    Ours {
        tid,
        cycles,
        handle,
    }
}

/// (charts, dimensions) per plugin as netdata's /api/v1/charts lists them.
fn netdata_sizes(port: u16) -> BTreeMap<String, (usize, usize)> {
    let mut out = BTreeMap::new();
    let Some(body) = http_get(port, "/api/v1/charts") else {
        return out;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) else {
        return out;
    };
    if let Some(charts) = v["charts"].as_object() {
        for c in charts.values() {
            let plugin = c["plugin"].as_str().unwrap_or("?").to_string();
            let dims = c["dimensions"].as_object().map_or(0, |d| d.len());
            let e = out.entry(plugin).or_insert((0, 0));
            e.0 += 1;
            e.1 += dims;
        }
    }
    out
}

fn our_sizes(host: &Host) -> BTreeMap<String, (usize, usize)> {
    let mut out = BTreeMap::new();
    for c in host.charts() {
        let st = c.lock();
        if st.def.obsolete {
            continue;
        }
        let e = out.entry(st.def.plugin.clone()).or_insert((0, 0));
        e.0 += 1;
        e.1 += st.dims().len();
    }
    out
}

fn machine() -> String {
    let date = Command::new("date")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{date}; {nproc} CPUs, {model}; Linux {}", kernel.trim_end())
}

fn main() {
    let seconds = env_u64("TRIBUTARY_VS_NETDATA_SECONDS", 60).max(1);
    let warmup = env_u64("TRIBUTARY_VS_NETDATA_WARMUP", 10);
    let binary = std::env::var("NETDATA").unwrap_or_else(|_| "/usr/sbin/netdata".into());
    if !Path::new(&binary).exists() {
        eprintln!(
            "vs_netdata: {binary} is missing (apt-get install netdata-core); nothing measured"
        );
        std::process::exit(2);
    }
    let version = Command::new(&binary)
        .arg("-v")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let tck = rustix::param::clock_ticks_per_second();

    // netdata, with the proc modules we do not have switched off
    let ours_names: BTreeSet<&str> = all_collectors(Path::new(""), 1)
        .iter()
        .map(|c| c.name())
        .collect();
    let disabled: Vec<&str> = NETDATA_PROC_MODULES
        .iter()
        .copied()
        .filter(|m| !ours_names.contains(m))
        .collect();
    let port = free_port();
    let netdata = start_netdata(&binary, port, &disabled);
    let npid = netdata.child.id();

    // ours, in this process
    let host = Arc::new(Host::new(HostConfig {
        hostname: "tributary-vs-netdata".into(),
        machine_guid: "11111111-2222-3333-4444-555555555555".into(),
        memory_mode: MemoryMode::Ram,
        history: 3600,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    }));
    let stop = Stop::new();
    let (disk, proc): (Vec<_>, Vec<_>) = all_collectors(Path::new(""), 1)
        .into_iter()
        .partition(|c| c.name() == "diskspace");
    let our_proc = spawn_ours("PLUGIN[proc]", proc, Arc::clone(&host), Arc::clone(&stop));
    let our_disk = spawn_ours(
        "PLUGIN[diskspace]",
        disk,
        Arc::clone(&host),
        Arc::clone(&stop),
    );
    // the tick loop alone (no collector): what waking once per tick costs
    let our_tick = spawn_ours(
        "TICK-ONLY",
        Vec::new(),
        Arc::clone(&host),
        Arc::clone(&stop),
    );
    let jitter = IdleJitter::new(1, 0)
        .spawn(Arc::clone(&host), stop.flag())
        .expect("spawn idlejitter");

    // wait for netdata's collector threads
    let started = Instant::now();
    loop {
        let t = threads(npid);
        if t.iter().any(|(_, n)| n == "PLUGIN[proc]")
            && t.iter().any(|(_, n)| n.starts_with("PLUGIN[diskspac"))
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            panic!("netdata (pid {npid}) did not start its PLUGIN[proc] thread within 60 s: {t:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "vs_netdata: netdata pid {npid} up after {:.1} s; warming up {warmup} s, then measuring {seconds} s",
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(warmup));

    let our_jitter_tid = threads(std::process::id())
        .into_iter()
        .find(|(_, n)| n == "IDLEJITTER")
        .map(|(t, _)| t)
        .expect("our IDLEJITTER thread");
    let group = |name: &str| -> &'static str {
        if name == "PLUGIN[proc]" || name.starts_with("PLUGIN[proc net") {
            "proc"
        } else if name.starts_with("PLUGIN[diskspac") {
            "diskspace"
        } else if name.starts_with("PLUGIN[idlejitt") {
            "idlejitter"
        } else {
            ""
        }
    };
    let nd_threads: Vec<(u32, String)> = threads(npid)
        .into_iter()
        .filter(|(_, n)| !group(n).is_empty())
        .collect();
    let me = std::process::id();
    let our_tids = [
        ("proc", our_proc.tid.load(Ordering::Acquire)),
        ("diskspace", our_disk.tid.load(Ordering::Acquire)),
        ("idlejitter", our_jitter_tid),
        ("tick", our_tick.tid.load(Ordering::Acquire)),
    ];
    let snapshot = || -> (BTreeMap<&'static str, Cpu>, BTreeMap<&'static str, Cpu>, Cpu) {
        let mut nd = BTreeMap::new();
        for (tid, name) in &nd_threads {
            let e = nd.entry(group(name)).or_insert_with(Cpu::default);
            *e = *e + thread_cpu(npid, *tid);
        }
        let ours = our_tids
            .iter()
            .map(|&(g, tid)| (g, thread_cpu(me, tid)))
            .collect();
        let whole = std::fs::read_to_string(format!("/proc/{npid}/stat"))
            .ok()
            .and_then(|s| {
                let rest = &s[s.rfind(')')? + 2..];
                let f: Vec<&str> = rest.split_whitespace().collect();
                Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0);
        (nd, ours, Cpu { ns: 0, ticks: whole })
    };

    // start in the middle of a second: every thread is between two cycles
    let now = now_us();
    let to_half = (now / USEC + 1) * USEC + USEC / 2 - now;
    std::thread::sleep(Duration::from_micros(to_half as u64));
    let c0 = (
        our_proc.cycles.load(Ordering::Relaxed),
        our_disk.cycles.load(Ordering::Relaxed),
        our_tick.cycles.load(Ordering::Relaxed),
    );
    let (nd0, ours0, whole0) = snapshot();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let (nd1, ours1, whole1) = snapshot();
    let window = t0.elapsed().as_secs_f64();
    let c1 = (
        our_proc.cycles.load(Ordering::Relaxed),
        our_disk.cycles.load(Ordering::Relaxed),
        our_tick.cycles.load(Ordering::Relaxed),
    );
    let nd_sizes = netdata_sizes(port);
    let our_sizes = our_sizes(&host);

    stop.stop();
    drop(netdata); // kills netdata by its pid
    for h in [our_proc.handle, our_disk.handle, our_tick.handle, jitter] {
        let _joined = h.join();
    }

    let nd_cycles = seconds; // netdata's heartbeat: one cycle per second
    let ticks_ns = 1e9 / tck as f64;
    println!("tributary collectors vs {version}, side by side, one run");
    println!("  machine: {}", machine());
    println!(
        "  window: {window:.1} s after {warmup} s of warm-up; CPU = on-CPU time of the threads (schedstat), ticks = utime+stime at {tck} Hz"
    );
    println!(
        "  netdata proc modules switched off (tributary has no such module): {}",
        disabled.join(", ")
    );
    println!(
        "  netdata threads measured: {}",
        nd_threads
            .iter()
            .map(|(t, n)| format!("{n}({t})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let size = |m: &BTreeMap<String, (usize, usize)>, p: &str| {
        m.get(p)
            .map_or("?".into(), |(c, d)| format!("{c} charts/{d} dims"))
    };
    println!(
        "  {:<11} {:>7} {:>12} {:>12} {:>12} {:>12} {:>7} {:>19} {:>19}",
        "",
        "cycles",
        "netdata",
        "tributary",
        "nd ticks",
        "ours ticks",
        "ours/nd",
        "netdata size",
        "tributary size"
    );
    for (g, plugin) in [
        ("proc", "proc.plugin"),
        ("diskspace", "diskspace.plugin"),
        ("idlejitter", "idlejitter.plugin"),
    ] {
        let nd = nd1.get(g).copied().unwrap_or_default() - nd0.get(g).copied().unwrap_or_default();
        let us =
            ours1.get(g).copied().unwrap_or_default() - ours0.get(g).copied().unwrap_or_default();
        let ours_cycles = match g {
            "proc" => c1.0 - c0.0,
            "diskspace" => c1.1 - c0.1,
            _ => seconds,
        };
        let nd_per = nd.ns as f64 / nd_cycles as f64 / 1e3;
        let us_per = us.ns as f64 / ours_cycles.max(1) as f64 / 1e3;
        println!(
            "  {:<11} {:>7} {:>9.1} µs {:>9.1} µs {:>9.1} µs {:>9.1} µs {:>7.2} {:>19} {:>19}",
            g,
            format!("{nd_cycles}/{ours_cycles}"),
            nd_per,
            us_per,
            nd.ticks as f64 * ticks_ns / nd_cycles as f64 / 1e3,
            us.ticks as f64 * ticks_ns / ours_cycles.max(1) as f64 / 1e3,
            if nd_per > 0.0 {
                us_per / nd_per
            } else {
                f64::NAN
            },
            size(&nd_sizes, plugin),
            size(&our_sizes, plugin),
        );
    }
    let tick = ours1.get("tick").copied().unwrap_or_default()
        - ours0.get("tick").copied().unwrap_or_default();
    println!(
        "  our tick loop alone (one wake-up per tick, no collector): {:.1} µs per cycle ({} cycles); it is part of both our rows above",
        tick.ns as f64 / (c1.2 - c0.2).max(1) as f64 / 1e3,
        c1.2 - c0.2
    );
    println!(
        "  (per cycle; idlejitter per second. netdata process total: {:.1} ms CPU per second, all threads)",
        (whole1 - whole0).ticks as f64 * ticks_ns / window / 1e6
    );
}
