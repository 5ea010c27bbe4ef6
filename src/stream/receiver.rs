//! The stream receiver (netdata 1.37's streaming/receiver.c, spec: streaming-protocol.md §2, §9.2):
//! a child's `STREAM ...` request, its validation against stream.conf, the accept prompt for the
//! negotiated capabilities, and then the child's lines — LZ4-framed when COMPRESSION was
//! negotiated — stored in the child's own host through [`Ingest`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tributary_config::StreamConf;
use tributary_protocol::capabilities::Caps;
use tributary_protocol::frame::FrameDecoder;
use tributary_protocol::handshake::StreamRequest;
use tributary_protocol::parse_line;
use tributary_rrd::{HostConfig, MemoryMode};

use super::log_events;
use super::relay::Relay;
use crate::daemon::{AgentState, now_us};
use crate::ingest::{Ingest, Reply};

/// netdata's replies to a refused request (no HTTP framing, no newline).
pub const DENIED: &str = "You are not permitted to access this. Check the logs for more info.";
/// The reply when the GUID already streams here.
pub const ALREADY_STREAMING: &str = "This GUID is already streaming to this server";
/// The reply when a child sends us our own host.
pub const LOCALHOST_LOOP: &str = "Don't hit me baby, you are trying to stream my localhost back";

/// The request must arrive within this time and size.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// netdata's receiver drops lines longer than this (`PLUGINSD_LINE_MAX`-ish, spec §4).
pub const MAX_LINE_BYTES: usize = 15 * 1024;
/// A child that sends nothing for this long is disconnected (netdata: 600 s socket timeout).
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// An existing receiver silent for longer than this is replaced by a new connection.
const STALE_RECEIVER_US: i64 = 30_000_000;

/// One connected child.
#[derive(Debug)]
pub struct ActiveReceiver {
    /// The child's address.
    pub peer: SocketAddr,
    /// When it connected (µs).
    pub since_us: i64,
    /// When its last bytes arrived (µs).
    pub last_us: Arc<AtomicI64>,
    /// Its distance from the origin host.
    pub hops: u32,
    /// Bytes read from its socket so far (compressed, as on the wire).
    pub bytes: Arc<AtomicU64>,
    /// Whether the stream is LZ4-compressed.
    pub compressed: bool,
    id: u64,
}

/// What `/api/v1/streaming` shows of a connected child's traffic.
#[derive(Debug, Clone, Copy)]
pub struct Traffic {
    /// Bytes read from its socket so far.
    pub bytes: u64,
    /// When its last bytes arrived (µs).
    pub last_us: i64,
    /// Whether the stream is LZ4-compressed.
    pub compressed: bool,
}

/// The children streaming into this agent right now, by machine GUID.
#[derive(Debug, Default)]
pub struct Receivers {
    active: Mutex<HashMap<String, ActiveReceiver>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Receivers {
    /// `(peer, hops, connected since µs)` of a host's receiver, while it is connected.
    pub fn status(&self, guid: &str) -> Option<(SocketAddr, u32, i64)> {
        let a = self.active.lock().unwrap_or_else(|p| p.into_inner());
        a.get(guid).map(|r| (r.peer, r.hops, r.since_us))
    }

    /// The traffic of a host's receiver, while it is connected.
    pub fn traffic(&self, guid: &str) -> Option<Traffic> {
        let a = self.active.lock().unwrap_or_else(|p| p.into_inner());
        a.get(guid).map(|r| Traffic {
            bytes: r.bytes.load(Ordering::Relaxed),
            last_us: r.last_us.load(Ordering::Relaxed),
            compressed: r.compressed,
        })
    }

    /// Registers a receiver, unless a live one (traffic in the last 30 s) exists for the GUID.
    fn register(
        &self,
        guid: &str,
        peer: SocketAddr,
        hops: u32,
        compressed: bool,
    ) -> Option<(u64, Arc<AtomicI64>, Arc<AtomicU64>)> {
        let mut a = self.active.lock().unwrap_or_else(|p| p.into_inner());
        let now = now_us();
        if a.get(guid)
            .is_some_and(|old| now - old.last_us.load(Ordering::Relaxed) <= STALE_RECEIVER_US)
        {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let last_us = Arc::new(AtomicI64::new(now));
        let bytes = Arc::new(AtomicU64::new(0));
        a.insert(
            guid.to_string(),
            ActiveReceiver {
                peer,
                since_us: now,
                last_us: Arc::clone(&last_us),
                hops,
                bytes: Arc::clone(&bytes),
                compressed,
                id,
            },
        );
        Some((id, last_us, bytes))
    }

    fn unregister(&self, guid: &str, id: u64) {
        let mut a = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if a.get(guid).is_some_and(|r| r.id == id) {
            a.remove(guid);
        }
    }
}

/// Reads the request: up to the empty line that ends its headers.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "closed before the request ended",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.windows(2).any(|w| w == b"\n\n") {
            return Ok(buf);
        }
        if buf.len() > MAX_REQUEST_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "request too big",
            ));
        }
    }
}

/// `[web] accept a streaming request every seconds`: at most one new stream per period.
///
/// As netdata 1.37.1 (verified): the clock starts at the first request, so that one is
/// refused too when a limit is set; a request is accepted once the period has passed since
/// the last accepted one (or the first request), and restarts the period.
#[derive(Debug)]
pub struct AcceptRate {
    every_secs: i64,
    last_accepted_s: std::sync::Mutex<i64>,
}

impl AcceptRate {
    /// A limiter of one stream per `every_secs` seconds (0: no limit).
    pub fn new(every_secs: u64) -> AcceptRate {
        AcceptRate {
            every_secs: i64::try_from(every_secs).unwrap_or(i64::MAX),
            last_accepted_s: std::sync::Mutex::new(0),
        }
    }

    /// Whether a request arriving at `now_s` may go on; Err: seconds until one may.
    pub fn admit(&self, now_s: i64) -> Result<(), i64> {
        if self.every_secs <= 0 {
            return Ok(());
        }
        let mut last = self
            .last_accepted_s
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if *last == 0 {
            *last = now_s;
        }
        let since = now_s - *last;
        if since < self.every_secs {
            return Err(self.every_secs - since);
        }
        *last = now_s;
        Ok(())
    }
}

async fn refuse<S: AsyncWrite + Unpin>(stream: &mut S, reply: &str) {
    let _ignored = tokio::time::timeout(Duration::from_secs(10), async {
        stream.write_all(reply.as_bytes()).await?;
        stream.flush().await
    })
    .await;
    let _closed = stream.shutdown().await;
}

/// Serves one stream connection until the child disconnects.
pub async fn serve<S>(mut stream: S, peer: SocketAddr, state: Arc<AgentState>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let raw = match tokio::time::timeout(REQUEST_TIMEOUT, read_request(&mut stream)).await {
        Ok(Ok(raw)) => raw,
        Ok(Err(e)) => return log_events::bad_request(peer, &e.to_string()),
        Err(_) => return log_events::bad_request(peer, "no complete request within 60 seconds"),
    };
    let req = match StreamRequest::parse(&raw) {
        Ok(r) => r,
        Err(e) => {
            log_events::bad_request(peer, &e.to_string());
            return refuse(&mut stream, DENIED).await;
        }
    };
    let ev = log_events::Receiver::new(&req.hostname, peer);
    if !state.allow_streaming.matches(&peer.ip().to_string()) {
        ev.denied("not in [web] allow streaming from");
        return refuse(&mut stream, tributary_protocol::capabilities::REJECT_ACL).await;
    }
    let stream_conf = StreamConf::new(&state.stream_config);
    if let Err(denied) =
        stream_conf.check_access(&req.key, &req.machine_guid, &peer.ip().to_string())
    {
        ev.denied(denied.log_reason());
        return refuse(&mut stream, DENIED).await;
    }
    if req
        .machine_guid
        .eq_ignore_ascii_case(state.hosts.localhost().machine_guid())
    {
        ev.denied("machine GUID is this agent's own: a localhost loop");
        return refuse(&mut stream, LOCALHOST_LOOP).await;
    }
    let settings = match stream_conf.receiver(&req.key, &req.machine_guid, &state.receiver_defaults)
    {
        Ok(s) => s,
        Err(e) => {
            ev.denied(&format!("stream.conf: {e}"));
            return refuse(&mut stream, DENIED).await;
        }
    };
    if let Err(wait) = state.stream_rate.admit(crate::daemon::now_us() / 1_000_000) {
        ev.denied(&format!(
            "rate limit ('accept a streaming request every seconds'), will accept new connection in {wait} secs"
        ));
        return refuse(&mut stream, tributary_protocol::capabilities::REJECT_BUSY).await;
    }
    let caps = req.caps.intersect(Caps::ours(settings.enable_compression));
    let Some((receiver_id, last_us, bytes)) = state.receivers.register(
        &req.machine_guid,
        peer,
        u32::from(req.hops),
        caps.contains(Caps::COMPRESSION),
    ) else {
        ev.denied("this GUID is already streaming to this server");
        return refuse(&mut stream, ALREADY_STREAMING).await;
    };
    // netdata turns a memory mode it does not know into `save`; tributary has no dbengine, so
    // `dbengine` (netdata's default) becomes `ram`, as for localhost.
    let memory_mode = MemoryMode::parse(&settings.memory_mode).unwrap_or(MemoryMode::Save);
    let host = state.hosts.add(HostConfig {
        hostname: req.hostname.clone(),
        machine_guid: req.machine_guid.to_ascii_lowercase(),
        memory_mode,
        history: i64::try_from(settings.history).unwrap_or(i64::MAX),
        cache_dir: state
            .cache_dir
            .as_ref()
            .map(|d| d.join(req.machine_guid.to_ascii_lowercase())),
        os: req.os.clone(),
        timezone: req.timezone.clone(),
    });
    log::info!(
        "Host '{}' (at registry as '{}') with guid '{}' initialized, os '{}', timezone '{}', tags '{}', program_name '{}', program_version '{}', update every {}, memory mode {}, history entries {}, streaming {} (to '{}' with api key '{}'), health disabled",
        req.hostname,
        req.registry_hostname,
        host.machine_guid(),
        req.os,
        req.timezone,
        req.tags,
        req.program_name,
        req.program_version,
        req.update_every.unwrap_or(1),
        host.memory_mode(),
        host.entries(),
        if settings.proxy_enabled {
            "enabled"
        } else {
            "disabled"
        },
        settings.proxy_destination,
        settings.proxy_api_key,
    );
    if settings.proxy_enabled {
        if memory_mode == MemoryMode::None
            && let Ok(sender) = StreamConf::new(&state.stream_config).sender()
        {
            // A proxy without a database keeps a spool per received host, to replay the
            // last minutes to its own parent after an outage upstream.
            let ue = u64::from(req.update_every.unwrap_or(1).max(1));
            host.enable_spool(
                (sender.spool_seconds / ue) as usize,
                sender.spool_bytes as usize,
            );
        }
        start_proxy(&state, &host, &settings, &req, &ev);
    }
    // Requests its parent passes down to this child (a proxy without a database).
    let relay = state.relays.get(&req.machine_guid);
    let (to_child, mut for_child) = tokio::sync::mpsc::unbounded_channel::<String>();
    let child_connection = caps
        .contains(Caps::REPLICATION)
        .then(|| relay.child_connected(to_child));
    let prompt = caps.accept_prompt();
    let sent = async {
        stream.write_all(prompt.as_bytes()).await?;
        stream.flush().await
    };
    match tokio::time::timeout(Duration::from_secs(60), sent).await {
        Ok(Ok(())) => {}
        _ => {
            ev.error("cannot send the accept prompt");
            state.receivers.unregister(&req.machine_guid, receiver_id);
            return;
        }
    }
    ev.receiving(caps, memory_mode, host.entries());
    state.health.child_connected(
        &host,
        settings.health_enabled,
        settings.postpone_alarms_on_connect_secs,
    );

    let update_every = settings
        .update_every
        .map_or(req.update_every.unwrap_or(1), |u| u.clamp(1, 86400) as u32);
    let mut ingest =
        Ingest::new(Arc::clone(&host), update_every, "").with_limits(crate::ingest::Limits {
            max_charts: settings.max_charts,
            max_dimensions: settings.max_dimensions,
        });
    if caps.contains(Caps::REPLICATION) {
        ingest = ingest.with_replication(
            super::replication::ReplicationConfig {
                enabled: settings.enable_replication,
                seconds_to_replicate: i64::try_from(settings.seconds_to_replicate)
                    .unwrap_or(i64::MAX),
                step: i64::try_from(settings.replication_step_secs.max(1)).unwrap_or(600),
            },
            ev.prefix(),
        );
    }
    let result = receive(
        &mut stream,
        &mut ingest,
        caps.contains(Caps::COMPRESSION),
        &last_us,
        &bytes,
        Passing {
            relay: &relay,
            for_child: &mut for_child,
        },
    )
    .await;
    if let Some(c) = child_connection {
        relay.child_disconnected(c);
    }
    state.receivers.unregister(&req.machine_guid, receiver_id);
    state.health.child_disconnected(&host);
    match result {
        Ok(()) => ev.disconnected("the child closed the connection", ingest.collections),
        Err(reason) => ev.disconnected(&reason, ingest.collections),
    }
}

/// A proxy forwards every host it receives: one sender per received host, started once, with
/// `[stream]` settings overridden by the key's / GUID's `proxy *` ones, and hops + 1.
fn start_proxy(
    state: &Arc<AgentState>,
    host: &Arc<tributary_rrd::Host>,
    settings: &tributary_config::ReceiverSettings,
    req: &StreamRequest,
    ev: &log_events::Receiver,
) {
    let guid = req.machine_guid.to_ascii_lowercase();
    let mut proxied = state.proxied.lock().unwrap_or_else(|p| p.into_inner());
    if proxied.contains(&guid) {
        return;
    }
    let mut sender = match StreamConf::new(&state.stream_config).sender() {
        Ok(s) => s,
        Err(e) => return ev.error(&format!("cannot proxy: stream.conf: {e}")),
    };
    sender.destination = settings.proxy_destination.clone();
    sender.api_key = settings.proxy_api_key.clone();
    sender.send_charts_matching =
        tributary_config::SimplePattern::new(&settings.proxy_send_charts_matching);
    sender.destinations = match settings.proxy_destinations(sender.default_port) {
        Ok(d) => d,
        Err(e) => return ev.error(&format!("cannot proxy: proxy destination: {e}")),
    };
    if sender.destinations.is_empty() || sender.api_key.trim().is_empty() {
        return ev.error("proxy enabled without a destination or an api key: not forwarding");
    }
    proxied.insert(guid);
    ev.proxying(&sender.destination);
    super::sender::start(
        Arc::clone(host),
        sender,
        req.hops.saturating_add(1),
        forwarded_system_info(req),
        // Without a database of its own, the host's replication reaches back to the child.
        (host.memory_mode() == MemoryMode::None).then(|| state.relays.get(&req.machine_guid)),
    );
}

/// The child's system parameters as a proxy forwards them: every name netdata expects, with
/// `unknown` for what the child did not send (a netdata parent needs them all).
fn forwarded_system_info(req: &StreamRequest) -> Vec<(String, String)> {
    tributary_protocol::handshake::SYSTEM_INFO_PARAMS
        .iter()
        .map(|&name| {
            let v = req
                .system_info(name)
                .filter(|v| !v.is_empty())
                .unwrap_or(match name {
                    "NETDATA_PROTOCOL_VERSION" => "1.1",
                    "NETDATA_HOST_IS_K8S_NODE" => "false",
                    _ => "unknown",
                });
            (name.to_string(), v.to_string())
        })
        .collect()
}

/// The receiver's part of a relay: requests to write to the child, replies to hand up.
struct Passing<'a> {
    relay: &'a Relay,
    for_child: &'a mut tokio::sync::mpsc::UnboundedReceiver<String>,
}

/// Splits a child's bytes into lines and applies them: to the host through `Ingest`, or —
/// for replies to requests passed on from upstream — unchanged to the relay.
struct Lines<'a> {
    ingest: &'a mut Ingest,
    relay: &'a Relay,
    /// The start of a line whose end has not arrived yet.
    pending: Vec<u8>,
    /// The chart and parent connection of the passed-on reply being read.
    relaying: Option<(String, u64)>,
    /// Lines for the child (replication requests), written after each read.
    replies: String,
}

impl Lines<'_> {
    /// Applies every complete line of `bytes` (received at `now`); keeps the tail.
    fn feed(&mut self, bytes: &[u8], now: i64) -> Result<(), String> {
        let mut start = 0;
        while let Some(nl) = bytes[start..].iter().position(|&b| b == b'\n') {
            let piece = &bytes[start..start + nl];
            start += nl + 1;
            if self.pending.is_empty() {
                self.line(piece, now)?;
            } else {
                let mut joined = std::mem::take(&mut self.pending);
                joined.extend_from_slice(piece);
                let r = self.line(&joined, now);
                joined.clear();
                self.pending = joined;
                r?;
            }
        }
        self.pending.extend_from_slice(&bytes[start..]);
        if self.pending.len() > MAX_LINE_BYTES {
            return Err(format!("a line longer than {MAX_LINE_BYTES} bytes"));
        }
        Ok(())
    }

    fn line(&mut self, line_bytes: &[u8], now: i64) -> Result<(), String> {
        if line_bytes.len() > MAX_LINE_BYTES {
            return Err(format!(
                "a line of {} bytes is longer than {MAX_LINE_BYTES}",
                line_bytes.len()
            ));
        }
        // Valid UTF-8 is the rule; only a bad line pays for the lossy copy.
        let line = match std::str::from_utf8(line_bytes) {
            Ok(l) => std::borrow::Cow::Borrowed(l),
            Err(_) => String::from_utf8_lossy(line_bytes),
        };
        let cmd = parse_line(&line)
            .map_err(|e| format!("parser error: {e} in line '{}'", clip(&line)))?;
        if let Some((chart, connection)) = &self.relaying {
            // A reply to a request passed on from upstream: handed up as it is.
            self.relay
                .forward(*connection, &format!("{}\n", line.trim_end_matches('\r')));
            if let tributary_protocol::Command::ReplayEnd {
                start_streaming, ..
            } = cmd
            {
                self.relay.reply_ends(chart, start_streaming);
                self.relaying = None;
            }
            return Ok(());
        }
        if let tributary_protocol::Command::ReplayBegin { id, .. } = &cmd
            && !id.is_empty()
            && let Some(connection) = self.relay.reply_begins(id)
        {
            self.relay
                .forward(connection, &format!("{}\n", line.trim_end_matches('\r')));
            self.relaying = Some((id.to_string(), connection));
            return Ok(());
        }
        match self.ingest.apply(cmd, now) {
            Ok(Reply::None) => Ok(()),
            Ok(Reply::Send(text)) => {
                self.replies.push_str(&text);
                Ok(())
            }
            Err(e) => Err(format!("{e} in line '{}'", clip(&line))),
        }
    }
}

/// Reads, decompresses, splits and applies lines until EOF or an error (the reason).
async fn receive<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    ingest: &mut Ingest,
    compressed: bool,
    last_us: &AtomicI64,
    bytes: &AtomicU64,
    passing: Passing<'_>,
) -> Result<(), String> {
    let Passing { relay, for_child } = passing;
    let mut decoder = compressed.then(FrameDecoder::new);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut lines = Lines {
        ingest,
        relay,
        pending: Vec::with_capacity(MAX_LINE_BYTES),
        relaying: None,
        replies: String::new(),
    };
    loop {
        let read = tokio::select! {
            r = tokio::time::timeout(IDLE_TIMEOUT, stream.read(&mut chunk)) => r,
            Some(line) = for_child.recv() => {
                stream
                    .write_all(line.as_bytes())
                    .await
                    .map_err(|e| format!("write error: {e}"))?;
                stream.flush().await.map_err(|e| format!("write error: {e}"))?;
                continue;
            }
        };
        let n = match read {
            Err(_) => return Err(format!("no data for {} seconds", IDLE_TIMEOUT.as_secs())),
            Ok(Err(e)) => return Err(format!("read error: {e}")),
            Ok(Ok(0)) => return Ok(()),
            Ok(Ok(n)) => n,
        };
        let now = now_us();
        last_us.store(now, Ordering::Relaxed);
        bytes.fetch_add(n as u64, Ordering::Relaxed);
        match decoder.as_mut() {
            // Each decoded block is split in place: no copy of the decompressed text.
            Some(d) => {
                let mut input = &chunk[..n];
                while let Some(piece) = d
                    .next_chunk(&mut input)
                    .map_err(|e| format!("decompression failed: {e}"))?
                {
                    lines.feed(piece, now)?;
                }
            }
            None => lines.feed(&chunk[..n], now)?,
        }
        if !lines.replies.is_empty() {
            stream
                .write_all(lines.replies.as_bytes())
                .await
                .map_err(|e| format!("write error: {e}"))?;
            // Over TLS the replies would otherwise wait in the session's buffer.
            stream
                .flush()
                .await
                .map_err(|e| format!("write error: {e}"))?;
            lines.replies.clear();
        }
    }
}

fn clip(line: &str) -> String {
    line.chars().take(120).collect()
}
