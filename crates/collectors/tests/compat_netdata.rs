//! The compatibility proof: runs the real netdata 1.37 (Debian `netdata-core`) with only the
//! proc, diskspace and idlejitter plugins, reads its /api/v1/charts, runs tributary's
//! collectors on the same machine and compares chart ids, dimension ids, units and contexts.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use tributary_collectors::idlejitter::IdleJitter;
use tributary_collectors::{all_collectors, collect_all_once, now_us};
use tributary_rrd::{Host, HostConfig, MemoryMode};

const NETDATA: &str = "/usr/sbin/netdata";

/// Kills netdata (by its PID) and removes its directory when dropped.
struct NetdataGuard {
    child: Child,
    dir: PathBuf,
}

impl Drop for NetdataGuard {
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
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return None;
    }
    Some(body.to_string())
}

fn start_netdata(port: u16) -> NetdataGuard {
    let dir = std::env::temp_dir().join(format!("tributary-compat-{}-{port}", std::process::id()));
    for d in ["cache", "lib", "log", "run"] {
        std::fs::create_dir_all(dir.join(d)).expect("create netdata dirs");
    }
    let conf = dir.join("netdata.conf");
    let d = dir.display();
    let text = format!(
        "[global]\n    hostname = tributary-compat\n    run as user = {user}\n\
         [web]\n    bind to = 127.0.0.1\n\
         [db]\n    mode = ram\n\
         [directories]\n    cache = {d}/cache\n    lib = {d}/lib\n    log = {d}/log\n    run = {d}/run\n\
         [logs]\n    debug = {d}/log/debug.log\n    error = {d}/log/error.log\n    access = none\n\
         [health]\n    enabled = no\n\
         [ml]\n    enabled = no\n\
         [registry]\n    enabled = no\n\
         [statsd]\n    enabled = no\n\
         [plugins]\n    proc = yes\n    diskspace = yes\n    idlejitter = yes\n    cgroups = no\n    tc = no\n\
         \x20   timex = no\n    checks = no\n    statsd = no\n    apps = no\n    python.d = no\n    charts.d = no\n\
         \x20   go.d = no\n    ebpf = no\n    perf = no\n    slabinfo = no\n    fping = no\n    ioping = no\n\
         \x20   nfacct = no\n    cups = no\n    node.d = no\n    netdata monitoring = no\n\
         \x20   enable running new plugins = no\n",
        user = current_user(),
    );
    std::fs::write(&conf, text).expect("write netdata.conf");
    let child = Command::new(NETDATA)
        .arg("-D")
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start netdata");
    NetdataGuard { child, dir }
}

fn current_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            // root when running in containers without USER
            let uid = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("Uid:"))
                        .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
                })
                .unwrap_or_default();
            if uid == "0" {
                "root".into()
            } else {
                "netdata".into()
            }
        })
}

/// chart id -> (units, context, visible dimension ids)
type Charts = BTreeMap<String, (String, String, BTreeSet<String>)>;

fn netdata_charts(body: &str) -> Charts {
    let v: serde_json::Value = serde_json::from_str(body).expect("netdata /api/v1/charts is JSON");
    let mut out = Charts::new();
    if let Some(charts) = v["charts"].as_object() {
        for (id, c) in charts {
            let dims = c["dimensions"]
                .as_object()
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default();
            out.insert(
                id.clone(),
                (
                    c["units"].as_str().unwrap_or("").to_string(),
                    c["context"].as_str().unwrap_or("").to_string(),
                    dims,
                ),
            );
        }
    }
    out
}

fn our_charts(host: &Host) -> Charts {
    let mut out = Charts::new();
    for c in host.charts() {
        let st = c.lock();
        if st.def.obsolete {
            continue;
        }
        let dims = st
            .dims()
            .iter()
            .filter(|d| !d.def.hidden)
            .map(|d| d.def.id.clone())
            .collect();
        out.insert(
            c.id().to_string(),
            (st.def.units.clone(), st.def.context.clone(), dims),
        );
    }
    out
}

#[test]
fn charts_match_real_netdata() {
    assert!(
        Path::new(NETDATA).exists(),
        "{NETDATA} is missing: the compatibility test needs the real netdata 1.37; run `apt-get install netdata-core`"
    );
    let port = free_port();
    let _guard = start_netdata(port);
    let started = Instant::now();

    // our side, in parallel with netdata's start-up
    let host = Arc::new(Host::new(HostConfig {
        hostname: "tributary-compat".into(),
        machine_guid: "00000000-0000-0000-0000-000000000000".into(),
        memory_mode: MemoryMode::Ram,
        history: 60,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let jitter = IdleJitter::new(1, 0)
        .spawn(Arc::clone(&host), Arc::clone(&stop))
        .expect("spawn idlejitter");
    let mut collectors = all_collectors(Path::new(""), 1);
    for i in 0..3 {
        if i > 0 {
            std::thread::sleep(Duration::from_secs(1));
        }
        collect_all_once(&mut collectors, &host, now_us());
    }

    // netdata: wait until the proc charts are there and stable
    let mut theirs = Charts::new();
    let mut last_len = 0;
    while started.elapsed() < Duration::from_secs(20) {
        if let Some(body) = http_get(port, "/api/v1/charts") {
            theirs = netdata_charts(&body);
            let ready = theirs.contains_key("system.cpu")
                && theirs.contains_key("system.idlejitter")
                && theirs.keys().any(|k| k.starts_with("disk_space."));
            if ready && theirs.len() == last_len && started.elapsed() > Duration::from_secs(6) {
                break;
            }
            last_len = theirs.len();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _joined = jitter.join();
    assert!(
        !theirs.is_empty(),
        "netdata did not serve /api/v1/charts on port {port}"
    );

    let ours = our_charts(&host);
    let mut missing = Vec::new();
    let mut mismatched = Vec::new();
    let (mut dims_total, mut dims_found) = (0usize, 0usize);
    for (id, (units, ctx, dims)) in &theirs {
        dims_total += dims.len();
        match ours.get(id) {
            None => missing.push(id.clone()),
            Some((u, c, d)) => {
                dims_found += dims.intersection(d).count();
                if u != units || c != ctx {
                    mismatched.push(format!(
                        "{id}: units '{u}' vs '{units}', context '{c}' vs '{ctx}'"
                    ));
                }
                let miss: Vec<_> = dims.difference(d).collect();
                let extra: Vec<_> = d.difference(dims).collect();
                if !miss.is_empty() || !extra.is_empty() {
                    mismatched.push(format!(
                        "{id}: dimensions missing {miss:?}, extra {extra:?}"
                    ));
                }
            }
        }
    }
    let extra: Vec<_> = ours.keys().filter(|k| !theirs.contains_key(*k)).collect();
    let found = theirs.len() - missing.len();
    let chart_pct = 100.0 * found as f64 / theirs.len() as f64;
    let dim_pct = if dims_total == 0 {
        100.0
    } else {
        100.0 * dims_found as f64 / dims_total as f64
    };
    println!(
        "netdata charts: {}, ours: {}, matched: {found} ({chart_pct:.1}%)",
        theirs.len(),
        ours.len()
    );
    println!("netdata dimensions: {dims_total}, matched: {dims_found} ({dim_pct:.1}%)");
    println!("missing charts: {missing:?}");
    println!("extra charts: {extra:?}");
    for m in &mismatched {
        println!("mismatch: {m}");
    }
    println!("elapsed: {:?}", started.elapsed());
    assert!(
        chart_pct >= 90.0,
        "only {chart_pct:.1}% of netdata's charts; missing {missing:?}"
    );
    assert!(
        dim_pct >= 90.0,
        "only {dim_pct:.1}% of netdata's dimensions"
    );
}
