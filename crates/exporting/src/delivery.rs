//! One worker thread per instance: scheduling, connections with failover and back-off, HTTP
//! framing, bounded buffering and backfill.
//!
//! A cycle is due when `now % update_every == update_every - 1` (netdata's schedule with a 1 s
//! database). For `average`/`sum` the worker keeps, per host, the end of the last cycle the
//! backend accepted: when a destination comes back after an outage, every missed cycle is
//! rebuilt from the database (up to its retention) and sent in order, each exactly as it would
//! have been sent on time; nothing is kept in memory meanwhile but that progress. `as
//! collected` values cannot be rebuilt, so up to `buffer on failures` formatted batches are
//! kept and the oldest dropped (and logged). A batch the backend did not fully accept is
//! resent whole: line receivers (graphite, opentsdb) overwrite a point with the same time, so
//! nothing is stored twice; a batch a backend acknowledged is never sent again.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tributary_config::{Destination, SimplePattern, Transport};
use tributary_rrd::{Host, MemoryMode};

use crate::batch::{HostInput, encode_host, passing_labels};
use crate::config::{Connector, DataSource, InstanceConfig};
use crate::encode::{Encoder, HostMeta};
use crate::telemetry::{CycleCounts, Telemetry};

/// A host as the agent offers it to the exporters, with what the formats need.
#[derive(Debug, Clone)]
pub struct HostSource {
    /// The host.
    pub host: Arc<Host>,
    /// It is this agent's own host (`localhost` for `send hosts matching`, the instance's
    /// `hostname`).
    pub is_localhost: bool,
    /// All its host labels.
    pub labels: Vec<(String, String)>,
    /// Its host tags (streamed children's `tags=`).
    pub tags: String,
    /// The program that collects it (`netdata`).
    pub program_name: String,
    /// That program's version.
    pub program_version: String,
}

/// Gives the hosts to export, localhost first.
pub type HostsFn = Arc<dyn Fn() -> Vec<HostSource> + Send + Sync>;

/// What a worker needs besides its configuration.
#[derive(Clone)]
pub struct WorkerEnv {
    /// The hosts.
    pub hosts: HostsFn,
    /// The database's `update every` (seconds).
    pub db_update_every: i64,
    /// Where the per-host progress is kept across restarts (`LIB/exporting/NAME.progress`);
    /// `None`: not kept.
    pub state_dir: Option<PathBuf>,
    /// Set to stop the worker.
    pub stop: Arc<AtomicBool>,
    /// Where the instance's own charts (`netdata.exporting_NAME_*`) go; `None`: nowhere.
    pub localhost: Option<Arc<Host>>,
}

impl std::fmt::Debug for WorkerEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerEnv")
            .field("db_update_every", &self.db_update_every)
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

/// Seconds since the epoch.
pub fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// What [`Link::probe`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// No connection.
    NotConnected,
    /// Connected, the peer has not closed.
    Alive,
    /// The peer closed the connection (now dropped).
    Closed,
}

/// Why a batch was not delivered.
#[derive(Debug)]
pub enum SendError {
    /// No destination accepted a connection.
    Connect(String),
    /// Writing or reading failed, or the peer closed the connection.
    Io(String),
    /// The HTTP server answered with a status that says retrying is useless (4xx): the batch
    /// is dropped.
    Rejected(String),
    /// The HTTP server answered with a status worth retrying (5xx, others).
    Retry(String),
}

/// One configured destination entry.
#[derive(Debug, Clone)]
struct Target {
    /// The entry as written (`127.0.0.1:2003`).
    text: String,
    parsed: Destination,
}

/// The connection of an instance to the destination that accepted it.
#[derive(Debug)]
pub struct Link {
    cfg_name: String,
    connector: Connector,
    targets: Vec<Target>,
    destination_option: String,
    timeout: Duration,
    auth: Option<String>,
    remote_write_path: String,
    stream: Option<(TcpStream, usize)>,
    response: Vec<u8>,
    head: Vec<u8>,
    ever_connected: bool,
    /// Bytes read from destinations (answers, anything a line receiver sent).
    pub received: u64,
    /// Answers read.
    pub reads: u64,
    /// Connections made after an earlier one was lost.
    pub reconnects: u64,
}

/// Parses the `destination` option: entries separated by spaces or commas, anything after a
/// `/` in an entry cut (URLs), the connector's port when none is given.
fn parse_targets(name: &str, list: &str, port: u16) -> Vec<Target> {
    list.split(|c: char| c.is_ascii_whitespace() || c == ',')
        .filter(|e| !e.is_empty())
        .filter_map(|entry| {
            let cut = entry.split('/').next().unwrap_or(entry);
            let cut = if cut.is_empty() { entry } else { cut };
            match Destination::parse(cut, port) {
                Ok(parsed) => Some(Target {
                    text: cut.to_string(),
                    parsed,
                }),
                Err(e) => {
                    log::error!("EXPORTING: instance {name}: destination ignored: {e}");
                    None
                }
            }
        })
        .collect()
}

/// Standard base64 of `s` (HTTP basic authentication).
pub fn base64(s: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(s.len().div_ceil(3) * 4);
    for chunk in s.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl Link {
    /// A link for `cfg`, not connected yet.
    pub fn new(cfg: &InstanceConfig) -> Link {
        let auth = (!cfg.username.is_empty() || !cfg.password.is_empty())
            .then(|| base64(format!("{}:{}", cfg.username, cfg.password).as_bytes()));
        Link {
            cfg_name: cfg.name.clone(),
            connector: cfg.connector,
            targets: parse_targets(&cfg.name, &cfg.destination, cfg.connector.default_port()),
            destination_option: cfg.destination.clone(),
            timeout: Duration::from_millis(cfg.timeout_ms.max(1)),
            auth,
            remote_write_path: cfg.remote_write_path.clone(),
            stream: None,
            response: Vec::new(),
            head: Vec::new(),
            ever_connected: false,
            received: 0,
            reads: 0,
            reconnects: 0,
        }
    }

    /// The destination connected now, if any.
    pub fn connected_to(&self) -> Option<&str> {
        self.stream
            .as_ref()
            .map(|(_, i)| self.targets[*i].text.as_str())
    }

    fn close(&mut self) {
        self.stream = None;
    }

    /// Tries every destination in order, every address of each; the first that accepts wins.
    fn connect(&mut self) -> Result<(), SendError> {
        let mut errors = Vec::new();
        for (i, t) in self.targets.iter().enumerate() {
            if t.parsed.transport != Transport::Tcp {
                errors.push(format!("{}: only TCP destinations are supported", t.text));
                continue;
            }
            let addrs: Vec<SocketAddr> =
                match (t.parsed.host.as_str(), t.parsed.port).to_socket_addrs() {
                    Ok(a) => a.collect(),
                    Err(e) => {
                        log::error!(
                            "EXPORTING: instance {}: cannot resolve destination {}: {e}",
                            self.cfg_name,
                            t.text
                        );
                        errors.push(format!("{}: cannot resolve: {e}", t.text));
                        continue;
                    }
                };
            if addrs.is_empty() {
                log::error!(
                    "EXPORTING: instance {}: destination {} resolves to no address",
                    self.cfg_name,
                    t.text
                );
                errors.push(format!("{}: resolves to no address", t.text));
            }
            for a in addrs {
                match TcpStream::connect_timeout(&a, self.timeout) {
                    Ok(s) => {
                        let _nodelay = s.set_nodelay(true);
                        let _w = s.set_write_timeout(Some(self.timeout));
                        let _r = s.set_read_timeout(Some(self.timeout));
                        log::info!(
                            "EXPORTING: instance {}: connected to {} ({a})",
                            self.cfg_name,
                            t.text
                        );
                        self.stream = Some((s, i));
                        if self.ever_connected {
                            self.reconnects += 1;
                        }
                        self.ever_connected = true;
                        return Ok(());
                    }
                    Err(e) => {
                        log::error!(
                            "EXPORTING: instance {}: cannot connect to {} ({a}): {e}",
                            self.cfg_name,
                            t.text
                        );
                        errors.push(format!("{} ({a}): {e}", t.text));
                    }
                }
            }
        }
        if self.targets.is_empty() {
            errors.push("no usable destination".into());
        }
        Err(SendError::Connect(errors.join("; ")))
    }

    /// Line protocols: reads what the peer sent (discarded) without blocking; `false` when it
    /// closed the connection.
    fn peer_alive(&mut self) -> bool {
        let Some((s, _)) = self.stream.as_mut() else {
            return false;
        };
        if s.set_nonblocking(true).is_err() {
            return false;
        }
        let mut buf = [0u8; 4096];
        let alive = loop {
            match s.read(&mut buf) {
                Ok(0) => break false,
                Ok(n) => {
                    self.received += n as u64;
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break true,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break false,
            }
        };
        alive && s.set_nonblocking(false).is_ok()
    }

    /// Before a send: whether the connection still stands. A line receiver acknowledges
    /// nothing, so the only sign that what was written arrived is that the receiver has not
    /// closed the connection since; [`Probe::Closed`] means the last batches may be lost.
    pub fn probe(&mut self) -> Probe {
        if self.stream.is_none() {
            return Probe::NotConnected;
        }
        if self.peer_alive() {
            return Probe::Alive;
        }
        log::error!(
            "EXPORTING: instance {}: destination {} closed the socket",
            self.cfg_name,
            self.connected_to().unwrap_or("?")
        );
        self.close();
        Probe::Closed
    }

    /// Sends one batch body (with its HTTP request around it for the HTTP connectors) and, for
    /// HTTP, waits for the answer.
    /// An HTTP request on a kept-alive connection that the server closed meanwhile is retried
    /// once on a new connection (nothing of it was answered).
    pub fn send(&mut self, body: &[u8]) -> Result<(), SendError> {
        let reused = self.stream.is_some();
        if !reused {
            self.connect()?;
        }
        self.build_head(body.len());
        let mut result = self.write_and_answer(body);
        if matches!(result, Err(SendError::Io(_))) {
            self.close();
            if reused && self.connector.is_http() {
                self.connect()?;
                self.build_head(body.len());
                result = self.write_and_answer(body);
                if matches!(result, Err(SendError::Io(_))) {
                    self.close();
                }
            }
        }
        result
    }

    fn build_head(&mut self, len: usize) {
        self.head.clear();
        if !self.connector.is_http() {
            return;
        }
        let host = if self.connector == Connector::RemoteWrite {
            self.stream
                .as_ref()
                .map_or("", |(_, i)| self.targets[*i].text.as_str())
        } else {
            self.destination_option.as_str()
        };
        request_head(
            &mut self.head,
            self.connector,
            &self.remote_write_path,
            host,
            self.auth.as_deref(),
            len,
        );
    }

    fn write_and_answer(&mut self, body: &[u8]) -> Result<(), SendError> {
        let dest = self.connected_to().unwrap_or("?").to_string();
        let Some((s, _)) = self.stream.as_mut() else {
            return Err(SendError::Io("not connected".into()));
        };
        let io = |what: &str, e: std::io::Error| SendError::Io(format!("{dest}: {what}: {e}"));
        if !self.head.is_empty() {
            s.write_all(&self.head).map_err(|e| io("cannot send", e))?;
        }
        s.write_all(body).map_err(|e| io("cannot send", e))?;
        if !self.connector.is_http() {
            return Ok(());
        }
        let (status, close) =
            read_response(s, &mut self.response).map_err(|e| io("no answer", e))?;
        if close {
            self.stream = None;
        }
        match status {
            200..=299 => Ok(()),
            400..=499 => Err(SendError::Rejected(format!(
                "{dest} answered {status}: {}",
                String::from_utf8_lossy(&self.response).trim()
            ))),
            _ => Err(SendError::Retry(format!(
                "{dest} answered {status}: {}",
                String::from_utf8_lossy(&self.response).trim()
            ))),
        }
    }
}

/// Writes netdata's HTTP request head for a body of `len` bytes: `POST /api/put` (remote write:
/// `path`), `Host: host`, basic authentication `auth` (base64, its line ends in a bare LF as
/// netdata's does), the connector's content type and the length.
pub fn request_head(
    h: &mut Vec<u8>,
    connector: Connector,
    path: &str,
    host: &str,
    auth: Option<&str>,
    len: usize,
) {
    let _w = if connector == Connector::RemoteWrite {
        write!(h, "POST {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n")
    } else {
        write!(h, "POST /api/put HTTP/1.1\r\nHost: {host}\r\n")
    };
    if let Some(a) = auth {
        h.extend_from_slice(b"Authorization: Basic ");
        h.extend_from_slice(a.as_bytes());
        h.push(b'\n');
    }
    let _w = match connector {
        Connector::RemoteWrite => write!(
            h,
            "Content-Encoding: snappy\r\nContent-Type: application/x-protobuf\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n"
        ),
        Connector::GraphiteHttp => write!(h, "Content-Type: application/graphite\r\n"),
        _ => write!(h, "Content-Type: application/json\r\n"),
    };
    let _w = write!(h, "Content-Length: {len}\r\n\r\n");
}

/// Reads one HTTP/1.1 response; returns its status and whether the server closes the
/// connection. The body (at most 64 KiB kept) goes to `body`.
fn read_response(s: &mut TcpStream, body: &mut Vec<u8>) -> std::io::Result<(u16, bool)> {
    let bad = |m: &str| std::io::Error::new(ErrorKind::InvalidData, m.to_string());
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > 64 * 1024 {
            return Err(bad("response header too long"));
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::new(
                ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad("not an HTTP response"))?;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut close = false;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
        match k.as_str() {
            "content-length" => length = v.parse().ok(),
            "transfer-encoding" => chunked = v.contains("chunked"),
            "connection" => close = v == "close",
            _ => {}
        }
    }
    let mut rest = buf[head_end..].to_vec();
    body.clear();
    if chunked {
        while !rest.windows(5).any(|w| w == b"0\r\n\r\n") {
            if rest.len() > 1024 * 1024 {
                return Err(bad("response body too long"));
            }
            let n = s.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            rest.extend_from_slice(&chunk[..n]);
        }
        body.extend_from_slice(&rest[..rest.len().min(64 * 1024)]);
    } else if let Some(len) = length {
        while rest.len() < len {
            if rest.len() > 1024 * 1024 {
                return Err(bad("response body too long"));
            }
            let n = s.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "response body cut short",
                ));
            }
            rest.extend_from_slice(&chunk[..n]);
        }
        body.extend_from_slice(&rest[..len.min(64 * 1024)]);
    } else {
        close = true;
    }
    Ok((status, close))
}

/// Counters of an instance since it started (for the log and the tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Batches accepted by a destination.
    pub batches_sent: u64,
    /// Values in them.
    pub metrics_sent: u64,
    /// Bytes sent (bodies).
    pub bytes_sent: u64,
    /// Failed attempts.
    pub failures: u64,
    /// Batches dropped (buffer full or rejected by the server).
    pub batches_lost: u64,
}

/// The time before the oldest point any chart of `host` still stores (`None`: nothing stored).
fn oldest_entry(host: &Host) -> Option<i64> {
    host.charts()
        .iter()
        .filter_map(|c| {
            let st = c.lock();
            (st.last_entry_t() != 0).then(|| st.first_entry_t())
        })
        .min()
}

/// An exporting instance: configuration, encoder, link, progress.
pub struct Worker {
    cfg: InstanceConfig,
    env: WorkerEnv,
    hosts_pattern: SimplePattern,
    charts_pattern: SimplePattern,
    encoder: Encoder,
    link: Link,
    /// Per host machine GUID: the end of the last cycle sent.
    progress: HashMap<String, i64>,
    /// The same, as far as the backend is known to have it: HTTP answers confirm at once; on
    /// line protocols a connection found still open confirms what was written on it.
    confirmed: HashMap<String, i64>,
    /// `as collected` batches written on the current connection, not confirmed yet.
    unconfirmed: Vec<Vec<u8>>,
    /// The end of the last cycle (new hosts start there).
    last_before: i64,
    /// `as collected` batches not delivered yet, oldest first (at most `buffer on failures`).
    pending: VecDeque<Vec<u8>>,
    retry_at: i64,
    backoff: i64,
    logged_hosts: HashSet<String>,
    counts: CycleCounts,
    telemetry: Telemetry,
    /// Counters.
    pub stats: Stats,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("instance", &self.cfg.name)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker for `cfg`, starting its first cycle at `start` (seconds).
    pub fn new(cfg: InstanceConfig, env: WorkerEnv, start: i64) -> Worker {
        let mut w = Worker {
            hosts_pattern: SimplePattern::new(&cfg.send_hosts_matching),
            charts_pattern: SimplePattern::new(&cfg.send_charts_matching),
            encoder: Encoder::new(
                cfg.connector,
                cfg.data_source,
                cfg.send_names_instead_of_ids,
            ),
            link: Link::new(&cfg),
            progress: HashMap::new(),
            confirmed: HashMap::new(),
            unconfirmed: Vec::new(),
            last_before: start,
            pending: VecDeque::new(),
            retry_at: 0,
            backoff: 0,
            logged_hosts: HashSet::new(),
            counts: CycleCounts::default(),
            telemetry: Telemetry::new(&cfg.name, cfg.update_every),
            stats: Stats::default(),
            cfg,
            env,
        };
        w.load_progress();
        w
    }

    fn progress_file(&self) -> Option<PathBuf> {
        self.env
            .state_dir
            .as_ref()
            .map(|d| d.join(format!("{}.progress", self.cfg.name)))
    }

    fn load_progress(&mut self) {
        if self.cfg.data_source == DataSource::AsCollected {
            return;
        }
        let Some(path) = self.progress_file() else {
            return;
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            return;
        };
        for line in text.lines() {
            if let Some((guid, t)) = line.split_once(' ')
                && let Ok(t) = t.trim().parse::<i64>()
            {
                self.progress.insert(guid.to_string(), t);
                self.confirmed.insert(guid.to_string(), t);
            }
        }
        if !self.progress.is_empty() {
            log::info!(
                "EXPORTING: instance {}: resuming {} hosts from {}",
                self.cfg.name,
                self.progress.len(),
                path.display()
            );
        }
    }

    fn save_progress(&self) {
        let Some(path) = self.progress_file() else {
            return;
        };
        let mut text = String::new();
        for (g, t) in &self.confirmed {
            text.push_str(&format!("{g} {t}\n"));
        }
        let tmp = path.with_extension("progress.tmp");
        if let Err(e) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path)) {
            log::error!(
                "EXPORTING: instance {}: cannot write {}: {e}",
                self.cfg.name,
                path.display()
            );
        }
    }

    /// The instance's configuration.
    pub fn config(&self) -> &InstanceConfig {
        &self.cfg
    }

    /// Whether a cycle ends at `now` (netdata: `now % update_every >= update_every - db ue`).
    pub fn due(&self, now: i64) -> bool {
        let ue = self.cfg.update_every;
        now.rem_euclid(ue) >= ue - self.env.db_update_every.min(ue)
    }

    /// The hosts this instance exports (filtered), logging once per host why one is not.
    fn hosts(&mut self) -> Vec<HostSource> {
        let all = (self.env.hosts)();
        let mut out = Vec::with_capacity(all.len());
        for h in all {
            let key = if h.is_localhost {
                "localhost"
            } else {
                h.host.hostname()
            };
            let guid = h.host.machine_guid().to_string();
            let first = !self.logged_hosts.contains(&guid);
            let wanted = self.hosts_pattern.matches(key);
            let needs_db = self.cfg.data_source != DataSource::AsCollected;
            if first {
                self.logged_hosts.insert(guid);
                if !wanted {
                    log::info!(
                        "EXPORTING: instance {}: disabled exporting of host '{}' (send hosts matching)",
                        self.cfg.name,
                        h.host.hostname()
                    );
                } else if needs_db && h.host.memory_mode() == MemoryMode::None {
                    log::info!(
                        "EXPORTING: instance {}: host '{}' has memory mode none: it keeps no database to export from",
                        self.cfg.name,
                        h.host.hostname()
                    );
                } else {
                    log::info!(
                        "EXPORTING: instance {}: enabled exporting of host '{}'",
                        self.cfg.name,
                        h.host.hostname()
                    );
                }
            }
            if wanted && !(needs_db && h.host.memory_mode() == MemoryMode::None) {
                out.push(h);
            }
        }
        out
    }

    fn encode(&mut self, hosts: &[HostSource], which: &[(usize, i64)], before: i64) -> usize {
        self.encoder.begin();
        let now_ms = now_ms();
        let mut metrics = 0;
        for &(i, after) in which {
            let h = &hosts[i];
            let labels = passing_labels(&self.cfg, &h.labels);
            let input = HostInput {
                host: &h.host,
                meta: HostMeta {
                    prefix: &self.cfg.prefix,
                    hostname: if h.is_localhost {
                        &self.cfg.hostname
                    } else {
                        h.host.hostname()
                    },
                    labels: &labels,
                    labels_enabled: self.cfg.send_configured_labels
                        || self.cfg.send_automatic_labels,
                    tags: &h.tags,
                    program_name: &h.program_name,
                    program_version: &h.program_version,
                },
            };
            metrics += encode_host(
                &mut self.encoder,
                &self.cfg,
                &self.charts_pattern,
                &input,
                after,
                before,
                now_ms,
            )
            .metrics;
        }
        metrics
    }

    fn failed(&mut self, now: i64, e: &SendError) {
        self.stats.failures += 1;
        self.counts.failures += 1;
        if matches!(e, SendError::Io(_)) && !self.cfg.connector.is_http() {
            self.rewind();
        }
        self.backoff = (self.backoff * 2).clamp(1, self.cfg.update_every.max(10));
        self.retry_at = now + self.backoff;
        let msg = match e {
            SendError::Connect(m) => format!("cannot connect: {m}"),
            SendError::Io(m) | SendError::Retry(m) | SendError::Rejected(m) => m.clone(),
        };
        log::error!(
            "EXPORTING: instance {} ({}): failed to send a batch: {msg}; retrying in {} s",
            self.cfg.name,
            self.cfg.destination,
            self.backoff
        );
    }

    fn delivered(&mut self, metrics: usize, bytes: usize) {
        if self.backoff > 0 {
            log::info!(
                "EXPORTING: instance {}: destination {} accepts data again",
                self.cfg.name,
                self.link.connected_to().unwrap_or(&self.cfg.destination)
            );
        }
        self.backoff = 0;
        self.retry_at = 0;
        self.stats.batches_sent += 1;
        self.stats.metrics_sent += metrics as u64;
        self.stats.bytes_sent += bytes as u64;
        self.counts.writes += 1;
        self.counts.sent_metrics += metrics as u64;
        self.counts.sent_bytes += bytes as u64;
    }

    /// Runs the cycle ending at `now` (call it when [`Worker::due`]); returns after the backlog
    /// is sent or the destination failed.
    pub fn cycle(&mut self, now: i64) {
        let before = now;
        match self.link.probe() {
            Probe::Alive => self.confirm(),
            Probe::Closed => self.rewind(),
            Probe::NotConnected => {}
        }
        match self.cfg.data_source {
            DataSource::AsCollected => self.cycle_as_collected(before),
            _ => self.cycle_from_database(before),
        }
        self.last_before = before;
        self.counts.received_bytes += std::mem::take(&mut self.link.received);
        self.counts.reads += std::mem::take(&mut self.link.reads);
        self.counts.reconnects += std::mem::take(&mut self.link.reconnects);
        let counts = std::mem::take(&mut self.counts);
        if let Some(host) = &self.env.localhost {
            let now_us = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as i64);
            self.telemetry.update(host, &counts, now_us);
        }
    }

    /// Everything written so far is known to have arrived.
    fn confirm(&mut self) {
        self.confirmed.clone_from(&self.progress);
        self.unconfirmed.clear();
    }

    /// The connection closed after batches were written on it: send them again.
    fn rewind(&mut self) {
        if self.progress != self.confirmed || !self.unconfirmed.is_empty() {
            log::info!(
                "EXPORTING: instance {}: the last batches written before the connection closed are sent again",
                self.cfg.name
            );
        }
        self.progress.clone_from(&self.confirmed);
        for b in self.unconfirmed.drain(..).rev() {
            self.pending.push_front(b);
        }
        while self.pending.len() > self.cfg.buffer_on_failures {
            self.pending.pop_front();
            self.stats.batches_lost += 1;
        }
    }

    fn cycle_as_collected(&mut self, before: i64) {
        let hosts = self.hosts();
        let which: Vec<(usize, i64)> = (0..hosts.len()).map(|i| (i, self.last_before)).collect();
        let metrics = self.encode(&hosts, &which, before);
        let body = self.encoder.finish().to_vec();
        self.counts.buffered_metrics += metrics as u64;
        self.counts.buffered_bytes += body.len() as u64;
        if self.pending.len() >= self.cfg.buffer_on_failures {
            if let Some(old) = self.pending.pop_front() {
                self.counts.lost_bytes += old.len() as u64;
            }
            self.counts.discards += 1;
            self.stats.batches_lost += 1;
            log::error!(
                "EXPORTING: instance {} ({}): buffer on failures ({} batches) is full: dropped the oldest batch",
                self.cfg.name,
                self.cfg.destination,
                self.cfg.buffer_on_failures
            );
        }
        self.pending.push_back(body);
        if before < self.retry_at {
            return;
        }
        while let Some(body) = self.pending.front() {
            if self.env.stop.load(Ordering::Relaxed) {
                return;
            }
            let len = body.len();
            let body = body.clone();
            match self.link.send(&body) {
                Ok(()) => {
                    if let Some(b) = self.pending.pop_front()
                        && !self.cfg.connector.is_http()
                    {
                        self.unconfirmed.push(b);
                    }
                    self.delivered(0, len);
                }
                Err(SendError::Rejected(m)) => {
                    self.pending.pop_front();
                    self.stats.batches_lost += 1;
                    self.counts.discards += 1;
                    self.counts.lost_bytes += len as u64;
                    log::error!(
                        "EXPORTING: instance {} ({}): batch rejected, dropped: {m}",
                        self.cfg.name,
                        self.cfg.destination
                    );
                }
                Err(e) => {
                    self.failed(before, &e);
                    return;
                }
            }
        }
    }

    fn cycle_from_database(&mut self, now: i64) {
        if now < self.retry_at {
            return;
        }
        let hosts = self.hosts();
        let ue = self.cfg.update_every;
        // Where each host starts: its progress, not older than its retention.
        let mut starts: Vec<i64> = hosts
            .iter()
            .map(|h| {
                let p = *self
                    .progress
                    .get(h.host.machine_guid())
                    .unwrap_or(&self.last_before);
                // Nothing older than the host's oldest stored point can be sent.
                let floor = oldest_entry(&h.host).unwrap_or(self.last_before);
                if p < floor {
                    // Keep the cycle alignment: the oldest cycle end still in the database.
                    p + (floor - p).div_euclid(ue) * ue
                } else {
                    p
                }
            })
            .collect();
        loop {
            if self.env.stop.load(Ordering::Relaxed) {
                break;
            }
            let Some(&oldest) = starts.iter().min() else {
                // No host: still a (empty) batch per cycle, as netdata.
                self.send_current_empty(now);
                return;
            };
            if oldest >= now {
                break;
            }
            let before = (oldest + ue).min(now);
            let which: Vec<(usize, i64)> = starts
                .iter()
                .enumerate()
                .filter(|(_, s)| **s < before)
                .map(|(i, s)| (i, *s))
                .collect();
            let metrics = self.encode(&hosts, &which, before);
            self.counts.buffered_metrics += metrics as u64;
            let backfill = before < now;
            let ok = if backfill && metrics == 0 {
                true
            } else {
                let body = self.encoder.finish();
                let len = body.len();
                let body = body.to_vec();
                self.counts.buffered_bytes += len as u64;
                match self.link.send(&body) {
                    Ok(()) => {
                        self.delivered(metrics, len);
                        true
                    }
                    Err(SendError::Rejected(m)) => {
                        self.stats.batches_lost += 1;
                        self.counts.discards += 1;
                        self.counts.lost_metrics += metrics as u64;
                        self.counts.lost_bytes += len as u64;
                        log::error!(
                            "EXPORTING: instance {} ({}): batch rejected, dropped: {m}",
                            self.cfg.name,
                            self.cfg.destination
                        );
                        true
                    }
                    Err(e) => {
                        self.failed(now, &e);
                        false
                    }
                }
            };
            if !ok {
                break;
            }
            for (i, _) in which {
                starts[i] = before;
                self.progress
                    .insert(hosts[i].host.machine_guid().to_string(), before);
            }
            if self.cfg.connector.is_http() {
                self.confirm();
            }
        }
        self.save_progress();
    }

    fn send_current_empty(&mut self, now: i64) {
        self.encoder.begin();
        let body = self.encoder.finish().to_vec();
        match self.link.send(&body) {
            Ok(()) => self.delivered(0, body.len()),
            Err(SendError::Rejected(_)) => {}
            Err(e) => self.failed(now, &e),
        }
    }

    /// Runs until the stop flag is set: a cycle whenever one is due, on whole seconds.
    pub fn run(mut self) {
        log::info!(
            "EXPORTING: instance {} ({}) started: destination '{}', update every {} s, data source {:?}",
            self.cfg.name,
            self.cfg.connector.as_str(),
            self.cfg.destination,
            self.cfg.update_every,
            self.cfg.data_source
        );
        let mut last = now_s();
        while !self.env.stop.load(Ordering::Relaxed) {
            let now_f = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let next = now_f.floor() + 1.0;
            std::thread::sleep(
                Duration::from_secs_f64((next - now_f).clamp(0.0, 1.0))
                    .min(Duration::from_millis(250)),
            );
            let now = now_s();
            if now == last {
                continue;
            }
            last = now;
            if self.due(now) {
                self.cycle(now);
            }
        }
        // A line receiver still connected at exit has what was written: keep that progress.
        if self.link.probe() == Probe::Alive {
            self.confirm();
        }
        if self.cfg.data_source != DataSource::AsCollected {
            self.save_progress();
        }
        log::info!(
            "EXPORTING: instance {} stopped: {} batches, {} metrics, {} bytes sent, {} failures, {} batches lost",
            self.cfg.name,
            self.stats.batches_sent,
            self.stats.metrics_sent,
            self.stats.bytes_sent,
            self.stats.failures,
            self.stats.batches_lost
        );
    }
}
