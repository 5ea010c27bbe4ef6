//! The two agents under test, as parents of the fake child: tributary (this build, `ram`)
//! and the real netdata 1.37.1 (`TRIB_BENCH_ND_MODE`, default `dbengine`), each in its own
//! temporary directory, no local collectors, health off, replication on. Killed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{self, free_port, tributary_dirs, wait_listening};

/// The API key of the fake child.
pub const KEY: &str = "3c2b1a09-8e7d-4c6b-9a5f-4e3d2c1b0a99";

/// A parent under test.
pub struct Agent {
    /// `tributary` or `netdata`.
    pub name: &'static str,
    /// Its memory mode for the child's database.
    pub mode: String,
    /// Its process.
    pub child: Child,
    /// Its HTTP/stream port.
    pub port: u16,
    dir: PathBuf,
}

impl Agent {
    /// On-CPU nanoseconds of every thread of the process (`/proc/PID/task/*/schedstat`).
    pub fn cpu_ns(&self) -> u64 {
        let pid = self.child.id();
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return 0;
        };
        tasks
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
            .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .sum()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        common::stop(&mut self.child, &self.dir);
    }
}

fn stream_conf(mode: &str) -> String {
    format!(
        "[{KEY}]\n    enabled = yes\n    allow from = *\n    default memory mode = {mode}\n    default history = 3600\n    health enabled by default = no\n    enable replication = yes\n    seconds to replicate = 86400\n    seconds per replication step = 600\n"
    )
}

fn temp_dir(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("webbench-{what}-{}", std::process::id()))
}

/// Starts tributary (this build, or `TRIBUTARY`, e.g. a `--profile profiling` binary for
/// perf) with a `ram` database for the child.
pub fn tributary() -> Agent {
    let dir = temp_dir("tributary");
    for d in ["etc", "cache", "lib", "log", "plugins.d"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("etc/stream.conf"), stream_conf("ram")).unwrap();
    let port = free_port();
    let binary =
        std::env::var("TRIBUTARY").unwrap_or_else(|_| env!("CARGO_BIN_EXE_tributary").into());
    let mut cmd = Command::new(binary);
    cmd.args(["-D", "-i", "127.0.0.1", "-p", &port.to_string()]);
    tributary_dirs(&mut cmd, &dir);
    for (s, k, v) in [
        ("plugins", "proc", String::from("no")),
        ("plugins", "diskspace", String::from("no")),
        ("plugins", "idlejitter", String::from("no")),
        ("health", "enabled", String::from("no")),
        (
            "web",
            "mode",
            std::env::var("TRIB_BENCH_WEB_MODE").unwrap_or_else(|_| "multi-threaded".into()),
        ),
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
    Agent {
        name: "tributary",
        mode: "ram".into(),
        child,
        port,
        dir,
    }
}

/// Starts the real netdata 1.37.1 (`NETDATA`, default /usr/sbin/netdata).
pub fn netdata(mode: &str) -> Agent {
    let binary = std::env::var("NETDATA").unwrap_or_else(|_| "/usr/sbin/netdata".into());
    assert!(
        std::path::Path::new(&binary).exists(),
        "{binary} is missing: this bench compares with a real netdata 1.37.1. Install it with: apt-get install -y netdata-core"
    );
    let dir = temp_dir("netdata");
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
        "[global]\n    hostname = nd-web-bench\n    run as user = root\n    process scheduling policy = keep\n\
         [web]\n    bind to = 127.0.0.1:{port}\n    allow streaming from = *\n    allow connections from = *\n    allow dashboard from = *\n\
         [db]\n    mode = {mode}\n    update every = 1\n\
         [directories]\n    config = {d}/etc\n    stock config = /usr/lib/netdata/conf.d\n    cache = {d}/cache\n    lib = {d}/lib\n    log = {d}/log\n    run = {d}/run\n    plugins = {d}/plugins\n\
         [logs]\n    debug = {d}/log/debug.log\n    error = {d}/log/error.log\n    access = none\n\
         [health]\n    enabled = no\n[ml]\n    enabled = no\n[registry]\n    enabled = no\n[cloud]\n    enabled = no\n[statsd]\n    enabled = no\n\
         [plugins]\n    enable running new plugins = no\n    proc = no\n    diskspace = no\n    idlejitter = no\n    cgroups = no\n    tc = no\n    timex = no\n    checks = no\n    statsd = no\n    apps = no\n    python.d = no\n    charts.d = no\n    go.d = no\n    ebpf = no\n    perf = no\n    slabinfo = no\n    fping = no\n    ioping = no\n    nfacct = no\n    cups = no\n    netdata monitoring = no\n"
    );
    std::fs::write(dir.join("etc/netdata.conf"), conf).unwrap();
    std::fs::write(dir.join("etc/stream.conf"), stream_conf(mode)).unwrap();
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
    Agent {
        name: "netdata",
        mode: mode.into(),
        child,
        port,
        dir,
    }
}
