//! Test helpers that need nothing of the agent: ports, temp dirs, HTTP, waiting, and a real
//! netdata 1.37.1 (Debian's netdata-core) started in the foreground with its own configuration
//! in a temp directory, listening on 127.0.0.1 only. Every process is killed by its PID when its
//! guard drops, so a failed assertion leaks nothing. Self-contained (one file) so that crate
//! tests can include it with `#[path]`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 from 24000-24999 (real-peers.md): below the kernel's ephemeral
/// range, so a client can never connect to itself on a port whose server is not up yet.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = (std::process::id() % 1000) as u16;
    for _ in 0..1000 {
        let port = 24000 + (base + NEXT.fetch_add(7, Ordering::SeqCst)) % 1000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 24000-24999");
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `/tmp/trib-NAME-PID-N`.
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "trib-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ignored = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ignored = std::fs::remove_dir_all(&self.0);
    }
}

/// A plain HTTP/1.1 GET; returns (status, body). Reads exactly the response (by
/// Content-Length or chunked framing), so servers that keep the connection open are fine.
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(8)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = s.read(&mut buf).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "GET {path}: {e}; received so far: {:?}",
                    String::from_utf8_lossy(&raw)
                ),
            )
        })?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        if response_complete(&raw) {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

fn response_complete(raw: &[u8]) -> bool {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let body = &raw[end + 4..];
    if let Some(len) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        return body.len() >= len;
    }
    if head.contains("transfer-encoding: chunked") {
        return body.ends_with(b"0\r\n\r\n");
    }
    false
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// [`http_get`], retried on a fresh connection up to 4 times when a request gets no answer
/// (netdata 1.37 occasionally leaves one request of a connection unanswered).
pub fn http_get_retry(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut last = None;
    for _ in 0..4 {
        match http_get(port, path) {
            Ok(r) => return Ok(r),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("at least one attempt"))
}

/// Polls `f` every 100 ms until it returns Some, or panics after `timeout` with `what`.
pub fn wait_until<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM (or another signal) to `pid`.
pub fn signal(pid: u32, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{sig} {pid}");
}

/// Where Debian installs netdata.
pub const NETDATA: &str = "/usr/sbin/netdata";

/// Fails the test (never skips) when netdata is not installed.
pub fn require_netdata() {
    assert!(
        Path::new(NETDATA).exists(),
        "{NETDATA} is missing: this test needs a real netdata 1.37.1 as its peer. \
         Install it with: apt-get install -y netdata-core netdata-plugins-bash netdata-web \
         (.ci/run does this)"
    );
}

/// A running netdata; killed on drop.
pub struct Netdata {
    child: Child,
    /// Its web/stream port.
    pub port: u16,
    /// Its temp directory (config, cache, lib, log).
    pub dir: TempDir,
}

impl Netdata {
    /// Starts netdata with `db_mode`, only the internal plugins listed enabled (`proc`,
    /// `diskspace`, `idlejitter`), and `stream_conf` as its stream.conf.
    pub fn start(name: &str, db_mode: &str, plugins: &[&str], stream_conf: &str) -> Netdata {
        Self::start_with_web(name, db_mode, plugins, stream_conf, "")
    }

    /// As [`Netdata::start`], with `web_extra` lines added to its `[web]` section (TLS).
    pub fn start_with_web(
        name: &str,
        db_mode: &str,
        plugins: &[&str],
        stream_conf: &str,
        web_extra: &str,
    ) -> Netdata {
        require_netdata();
        let dir = TempDir::new(&format!("nd-{name}"));
        let d = dir.path();
        for sub in ["etc", "log", "cache", "lib", "lock", "plugins"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        // netdata 1.37.1 needs system-info.sh in its plugins directory (its sender crashes without it).
        let _ignored = std::fs::copy(
            "/usr/lib/netdata/plugins.d/system-info.sh",
            d.join("plugins/system-info.sh"),
        );
        let port = free_port();
        let on = |p: &str| if plugins.contains(&p) { "yes" } else { "no" };
        let conf = format!(
            "[global]\n    run as user = root\n    hostname = {name}\n    process scheduling policy = keep\n\
             [db]\n    mode = {db_mode}\n    update every = 1\n\
             [directories]\n    config = {d}/etc\n    stock config = /usr/lib/netdata/conf.d\n    log = {d}/log\n    cache = {d}/cache\n    lib = {d}/lib\n    lock = {d}/lock\n    home = {d}\n    plugins = \"{d}/plugins\"\n\
             [logs]\n    debug log = {d}/log/debug.log\n    error log = {d}/log/error.log\n    access log = {d}/log/access.log\n\
             [health]\n    enabled = no\n[ml]\n    enabled = no\n[registry]\n    enabled = no\n[cloud]\n    enabled = no\n\
             [plugins]\n    enable running new plugins = no\n    proc = {}\n    diskspace = {}\n    idlejitter = {}\n    cgroups = no\n    tc = no\n    timex = no\n    checks = no\n    statsd = no\n    netdata monitoring = no\n    apps = no\n    python.d = no\n    charts.d = no\n    go.d = no\n    ebpf = no\n    perf = no\n    slabinfo = no\n    fping = no\n    ioping = no\n    cups = no\n    nfacct = no\n\
             [web]\n    mode = static-threaded\n    bind to = 127.0.0.1:{port}\n    default port = {port}\n    allow connections from = *\n    allow streaming from = *\n{web_extra}",
            on("proc"),
            on("diskspace"),
            on("idlejitter"),
            d = d.display(),
        );
        std::fs::write(d.join("etc/netdata.conf"), conf).unwrap();
        std::fs::write(d.join("etc/stream.conf"), stream_conf).unwrap();
        let child = Self::spawn(d);
        let nd = Netdata { child, port, dir };
        // With TLS configured, netdata 1.37.1 answers plain HTTP only now and then: the
        // caller waits over HTTPS instead.
        if !web_extra.contains("ssl") {
            nd.wait_serving();
        }
        nd
    }

    fn spawn(d: &Path) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("log/stdout.log"))
            .unwrap();
        Command::new(NETDATA)
            .args(["-D", "-c"])
            .arg(d.join("etc/netdata.conf"))
            .env("DO_NOT_TRACK", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start netdata")
    }

    fn wait_serving(&self) {
        let port = self.port;
        // Many netdatas start at once in the full suite; with TLS they take longer.
        wait_until(Duration::from_secs(90), "netdata's web server", || {
            http_get(port, "/api/v1/info")
                .ok()
                .filter(|(s, _)| *s == 200)
        });
    }

    /// Stops netdata (SIGTERM, then SIGKILL after 10 s), keeping its directory.
    pub fn stop(&mut self) {
        let pid = self.child.id().to_string();
        let _ignored = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ignored = self.child.kill();
        let _ignored = self.child.wait();
    }

    /// Starts it again on the same port, configuration and directories.
    pub fn restart(&mut self) {
        self.child = Self::spawn(self.dir.path());
        self.wait_serving();
    }

    /// netdata's error log, for failure messages.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/error.log")).unwrap_or_default()
    }

    /// Its config directory.
    pub fn etc(&self) -> PathBuf {
        self.dir.path().join("etc")
    }
}

impl Drop for Netdata {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The wall clock in seconds (fractional).
pub fn now_f() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Sleeps until the wall clock reaches `t` seconds.
pub fn sleep_until(t: f64) {
    let d = t - now_f();
    if d > 0.0 {
        std::thread::sleep(Duration::from_secs_f64(d));
    }
}

/// Connects to `nd` as a plain protocol-v1 child (the fake children of the golden tests):
/// sends the STREAM request and returns the stream once netdata accepted it. A parent still
/// starting up may refuse or drop a stream, so this tries for up to 10 seconds.
pub fn fake_child_stream(nd: &Netdata, key: &str, hostname: &str, guid: &str) -> TcpStream {
    let mut last = String::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(("127.0.0.1", nd.port)).unwrap();
        write!(
            s,
            "STREAM key={key}&hostname={hostname}&registry_hostname={hostname}&machine_guid={guid}&update_every=1&os=linux&timezone=UTC&tags=&ver=1 HTTP/1.1\r\nUser-Agent: tributary-test/1\r\nAccept: */*\r\n\r\n"
        )
        .unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).unwrap_or(0);
        if &buf[..n] == b"Hit me baby, push them over..." {
            return s;
        }
        last = String::from_utf8_lossy(&buf[..n]).into_owned();
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!(
        "netdata refused the stream: '{last}'; its log:\n{}",
        nd.error_log()
    );
}
