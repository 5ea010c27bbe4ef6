//! The stream sender (netdata 1.37's streaming/sender.c, spec: streaming-protocol.md §2, §5,
//! §9.1): streams a host to a parent — the handshake with netdata's parameters, the
//! capability negotiation, chart definitions when a chart is first collected or changes, then
//! `BEGIN/SET/END` with the raw collected values every collection, LZ4-framed when negotiated.
//!
//! Collections reach the sender through the host's [`CollectionObserver`]: the collector thread
//! formats the lines into a bounded buffer (`buffer size bytes`) and wakes the sender task,
//! which writes the buffer to the socket. While disconnected nothing is buffered, as in netdata.
//! Destinations are tried in order; a refused handshake backs off for netdata's time per reply.
//!
//! A proxy runs one sender per received host (see `receiver.rs`), fed by the receiver's
//! collections through the same observer.
//!
//! Replication (REPLICATION negotiated): every definition ends with `CHART_DEFINITION_END`
//! carrying the chart's stored range, and the chart's collections are held back until the
//! parent's `REPLAY_CHART` was answered from the database (`replication.rs`). Requests are
//! queued and answered while the send buffer is less than half full, so live collections
//! never wait behind a long replication.
//!
//! A destination ending in `:SSL` is reached over TLS (rustls; `ssl skip certificate
//! verification`, `CAfile`, `CApath`), with netdata's 300 s back-off when the handshake fails.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tributary_config::{Destination, SenderSettings, Transport};
use tributary_protocol::capabilities::{Caps, parse_reply};
use tributary_protocol::frame::FrameEncoder;
use tributary_protocol::handshake::StreamRequest;
use tributary_rrd::{ChartState, CollectionObserver, CustomVars, Host};

use super::relay::{PassedOn, Relay, Upstream};

/// What the collector thread shares with the sender task.
#[derive(Debug)]
struct Shared {
    state: Mutex<SinkState>,
    wake: Notify,
}

#[derive(Debug, Default)]
struct SinkState {
    /// Lines waiting to be written.
    buffer: Vec<u8>,
    /// Chart id → the definition version and the custom variables' version the parent has.
    sent: HashMap<String, (u64, u64)>,
    /// The version of the host's custom variables the parent has.
    host_vars_sent: u64,
    /// Charts waiting for the parent's replication request to be answered: no collections
    /// are sent for them until then.
    replicating: HashSet<String>,
    /// Without REPLICATION: collections sent per chart since connect, for netdata's `initial
    /// clock resync iterations` (the first ones carry 0 µs so the parent syncs to its clock).
    resync: HashMap<String, u64>,
    connected: bool,
    caps: Caps,
    /// The buffer overflowed: the connection is restarted (netdata does the same).
    overflowed: bool,
    /// When the previous connection ended (s; 0: this is the first one).
    last_disconnect_s: i64,
    /// The spool's loss was logged for the current connection.
    spool_loss_logged: bool,
    /// Counts connections: replies passed up through a relay name the one they are for.
    connection: u64,
    /// Requests passed on to a child that left before answering: answered from the spool.
    relayed_back: VecDeque<ReplayRequest>,
}

impl SinkState {
    /// Drops what belonged to a connection: unsent lines and what the parent was told
    /// (every chart is defined again, replicated again and resynced again on the next one).
    fn forget_connection(&mut self) {
        self.overflowed = false;
        self.buffer.clear();
        self.sent.clear();
        self.host_vars_sent = 0;
        self.replicating.clear();
        self.resync.clear();
        self.relayed_back.clear();
    }
}

/// The sender's side of a [`Relay`]: replies of the child land in the send buffer.
#[derive(Debug)]
struct RelayPort {
    shared: Arc<Shared>,
}

impl Upstream for RelayPort {
    fn forward(&self, connection: u64, line: &str) {
        let mut st = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.connected && st.connection == connection {
            st.buffer.extend_from_slice(line.as_bytes());
            drop(st);
            self.shared.wake.notify_one();
        }
    }

    fn finished(&self, connection: u64, chart: &str) {
        let mut st = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.connected && st.connection == connection {
            st.replicating.remove(chart);
        }
    }

    fn answer_locally(&self, request: PassedOn) {
        let mut st = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.connected && st.connection == request.connection {
            st.relayed_back.push_back(ReplayRequest {
                chart: request.chart,
                start_streaming: request.start_streaming,
                after: request.after,
                before: request.before,
            });
            drop(st);
            self.shared.wake.notify_one();
        }
    }
}

/// The [`CollectionObserver`] that formats collections for the parent.
#[derive(Debug)]
pub struct StreamSink {
    shared: Arc<Shared>,
    settings: SenderSettings,
    host_name: String,
    /// The host's custom variables (`VARIABLE HOST`), sent when they change.
    host_vars: Arc<Mutex<CustomVars>>,
    /// Replication older than the spool is passed on to the child (a proxy without a
    /// database): definitions advertise the child's first entry.
    relays: bool,
}

/// Writes `VARIABLE SCOPE name = value` lines as netdata does (`%0.7f`).
fn write_variables(out: &mut Vec<u8>, scope: &str, vars: &CustomVars) {
    for (name, value) in vars.iter() {
        let _infallible = writeln!(out, "VARIABLE {scope} {name} = {value:.7}");
    }
}

fn chart_name_field(c: &ChartState) -> &str {
    let d = &c.def;
    if d.name == d.id {
        return "";
    }
    d.name
        .split_once('.')
        .map_or(d.name.as_str(), |(_, rest)| rest)
}

/// Writes a chart definition as netdata 1.37.1 sends it (spec §5.2).
fn write_definition(out: &mut Vec<u8>, c: &ChartState, caps: Caps) -> std::io::Result<()> {
    let d = &c.def;
    let options = format!(
        "{} {} {} {}",
        if d.obsolete { "obsolete" } else { "" },
        if d.detail { "detail" } else { "" },
        if d.store_first { "store_first" } else { "" },
        if d.hidden { "hidden" } else { "" },
    );
    writeln!(
        out,
        "CHART \"{}\" \"{}\" \"{}\" \"{}\" \"{}\" \"{}\" \"{}\" {} {} \"{options}\" \"{}\" \"{}\"",
        d.id,
        chart_name_field(c),
        d.title,
        d.units,
        d.family,
        d.context,
        d.chart_type.as_str(),
        d.priority,
        c.update_every(),
        d.plugin,
        d.module
    )?;
    if caps.contains(Caps::CLABELS) && !c.labels.is_empty() {
        for l in &c.labels {
            writeln!(out, "CLABEL \"{}\" \"{}\" {}", l.name, l.value, l.source)?;
        }
        writeln!(out, "CLABEL_COMMIT")?;
    }
    for dim in c.dims() {
        let o = &dim.def;
        writeln!(
            out,
            "DIMENSION \"{}\" \"{}\" \"{}\" {} {} \"{} {} {}\"",
            o.id,
            o.name,
            o.algorithm.as_str(),
            o.multiplier,
            o.divisor,
            if o.obsolete { "obsolete" } else { "" },
            if o.hidden { "hidden" } else { "" },
            if o.noreset { "noreset" } else { "" },
        )?;
    }
    Ok(())
}

impl CollectionObserver for StreamSink {
    fn collected(&self, chart: &ChartState, duration_us: i64) {
        let def = &chart.def;
        if !self.settings.send_charts_matching.matches(&def.id)
            && !self.settings.send_charts_matching.matches(&def.name)
        {
            return;
        }
        let mut st = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        if !st.connected || st.overflowed {
            return;
        }
        let caps = st.caps;
        let SinkState {
            buffer,
            sent,
            replicating,
            resync,
            host_vars_sent,
            ..
        } = &mut *st;
        {
            let host_vars = self.host_vars.lock().unwrap_or_else(|p| p.into_inner());
            if host_vars.version() != *host_vars_sent {
                write_variables(buffer, "HOST", &host_vars);
                *host_vars_sent = host_vars.version();
            }
        }
        let chart_vars_sent = match sent.get(def.id.as_str()) {
            Some(&(version, vars)) if version == chart.version => Some(vars),
            _ => None,
        };
        if chart_vars_sent.is_none() {
            // Formatting into a Vec cannot fail.
            let _infallible = write_definition(buffer, chart, caps);
            write_variables(buffer, "CHART", &chart.vars);
            sent.insert(def.id.clone(), (chart.version, chart.vars.version()));
            if caps.contains(Caps::REPLICATION) {
                let mut first = chart.first_entry_t();
                let upstream_first = chart.sender_first_entry_t;
                if self.relays && upstream_first > 0 && (first == 0 || upstream_first < first) {
                    first = upstream_first;
                }
                let _infallible = writeln!(
                    buffer,
                    "CHART_DEFINITION_END {first} {} {}",
                    chart.last_entry_t(),
                    crate::daemon::now_us() / 1_000_000
                );
                replicating.insert(def.id.clone());
            }
        }
        if replicating.contains(def.id.as_str()) {
            drop(st);
            self.shared.wake.notify_one();
            return;
        }
        let micros = if caps.contains(Caps::REPLICATION) {
            duration_us.max(0)
        } else {
            let sent_so_far = match resync.get_mut(def.id.as_str()) {
                Some(n) => {
                    *n += 1;
                    *n
                }
                None => {
                    resync.insert(def.id.clone(), 1);
                    1
                }
            };
            if sent_so_far <= self.settings.initial_clock_resync_iterations {
                0
            } else {
                duration_us.max(0)
            }
        };
        let _infallible = writeln!(buffer, "BEGIN \"{}\" {micros}", def.id);
        for d in chart.dims().iter().filter(|d| d.in_last_collection) {
            let _infallible = writeln!(buffer, "SET \"{}\" = {}", d.def.id, d.last_collected);
        }
        if chart_vars_sent.is_some_and(|v| v != chart.vars.version()) {
            // Changed chart variables travel inside the collection, as netdata sends them.
            write_variables(buffer, "CHART", &chart.vars);
            if let Some(entry) = sent.get_mut(def.id.as_str()) {
                entry.1 = chart.vars.version();
            }
        }
        buffer.extend_from_slice(b"END\n");
        if buffer.len() as u64 > self.settings.buffer_size_bytes {
            log::error!(
                "STREAM {} [send]: buffer full ({} bytes, more than 'buffer size bytes' = {}): the parent does not keep up; dropping the buffered data and restarting the connection",
                self.host_name,
                buffer.len(),
                self.settings.buffer_size_bytes
            );
            buffer.clear();
            st.overflowed = true;
        }
        drop(st);
        self.shared.wake.notify_one();
    }
}

/// Starts streaming `host` to its parent: installs the observer and spawns the sender task on
/// the current tokio runtime. `hops` is the host's distance from its origin as sent upstream:
/// 1 for localhost, the received hops + 1 when a proxy forwards a child.
/// `system_info`: the `NETDATA_SYSTEM_*` parameters of the request (this machine's for
/// localhost, the child's own for a proxied host).
///
/// `relay`: for a received host without a database, replication requests older than its
/// spool are passed on to the child through it (`relay.rs`).
pub fn start(
    host: Arc<Host>,
    settings: SenderSettings,
    hops: u16,
    system_info: Vec<(String, String)>,
    relay: Option<Arc<Relay>>,
) {
    let shared = Arc::new(Shared {
        state: Mutex::new(SinkState::default()),
        wake: Notify::new(),
    });
    if let Some(r) = &relay {
        r.set_upstream(Arc::new(RelayPort {
            shared: Arc::clone(&shared),
        }));
    }
    let sink = Arc::new(StreamSink {
        shared: Arc::clone(&shared),
        settings: settings.clone(),
        host_name: host.hostname().to_string(),
        host_vars: Arc::clone(&host.vars),
        relays: relay.is_some(),
    });
    host.set_observer(Some(sink));
    tokio::spawn(run(host, settings, shared, hops, system_info, relay));
}

/// Why a connection ended, and how long to wait before the next attempt.
struct Ended {
    reason: String,
    backoff: Duration,
}

impl Ended {
    /// Ended; the next attempt follows after `reconnect delay seconds`.
    fn retry(reason: String) -> Ended {
        Ended::after(reason, 0)
    }

    /// Ended; this destination is skipped for `seconds` (netdata's back-off per reply).
    fn after(reason: String, seconds: u64) -> Ended {
        Ended {
            reason,
            backoff: Duration::from_secs(seconds),
        }
    }
}

async fn run(
    host: Arc<Host>,
    settings: SenderSettings,
    shared: Arc<Shared>,
    hops: u16,
    system_info: Vec<(String, String)>,
    relay: Option<Arc<Relay>>,
) {
    let name = host.hostname().to_string();
    let reconnect = Duration::from_secs(settings.reconnect_delay_secs.max(1));
    let mut backoff_until: HashMap<usize, tokio::time::Instant> = HashMap::new();
    loop {
        for (i, dest) in settings.destinations.iter().enumerate() {
            if backoff_until
                .get(&i)
                .is_some_and(|t| *t > tokio::time::Instant::now())
            {
                continue;
            }
            let peer = format!("{}:{}", dest.host, dest.port);
            let prefix = format!("STREAM {name} [send to {peer}]");
            if dest.transport != Transport::Tcp {
                log::error!(
                    "{prefix}: only TCP destinations are supported by this build; skipping it"
                );
                backoff_until.insert(i, tokio::time::Instant::now() + Duration::from_secs(3600));
                continue;
            }
            let link = Link {
                hops,
                system_info: &system_info,
                relay: relay.as_deref(),
            };
            let ended = session(&host, &settings, &shared, dest, &prefix, &link).await;
            {
                let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
                if st.connected {
                    st.last_disconnect_s = crate::daemon::now_us() / 1_000_000;
                }
                st.connected = false;
                st.forget_connection();
            }
            log::error!("{prefix}: {}", ended.reason);
            if !ended.backoff.is_zero() {
                backoff_until.insert(i, tokio::time::Instant::now() + ended.backoff);
            }
        }
        tokio::time::sleep(reconnect).await;
    }
}

/// What a connection says about the host beyond its settings.
struct Link<'a> {
    /// Distance from the host's origin as sent upstream.
    hops: u16,
    /// The `NETDATA_SYSTEM_*` parameters of the request.
    system_info: &'a [(String, String)],
    /// Where replication older than the spool is passed on (a proxy without a database).
    relay: Option<&'a Relay>,
}

/// One connection: handshake, then stream until something fails.
async fn session(
    host: &Host,
    settings: &SenderSettings,
    shared: &Shared,
    dest: &Destination,
    prefix: &str,
    link: &Link<'_>,
) -> Ended {
    let timeout = Duration::from_secs(settings.timeout_secs.max(1));
    let fail = Ended::retry;
    log::info!("{prefix}: initializing communication...");
    let stream =
        match tokio::time::timeout(timeout, TcpStream::connect((dest.host.as_str(), dest.port)))
            .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return fail(format!("failed to connect: {e}")),
            Err(_) => {
                return fail(format!(
                    "failed to connect within {} seconds",
                    timeout.as_secs()
                ));
            }
        };
    let _nodelay = stream.set_nodelay(true);
    if !dest.ssl {
        return talk(stream, host, settings, shared, prefix, link).await;
    }
    #[cfg(not(feature = "tls"))]
    return Ended::after(
        "cannot set up SSL: this tributary is built without TLS (cargo feature `tls`)".into(),
        300,
    );
    #[cfg(feature = "tls")]
    let tls = match crate::tls::client_config(
        settings.ssl_skip_certificate_verification,
        settings.ca_file.as_deref(),
        settings.ca_path.as_deref(),
    )
    .and_then(|c| Ok((c, crate::tls::server_name(&dest.host)?)))
    {
        Ok((config, name)) => {
            match tokio::time::timeout(
                timeout,
                tokio_rustls::TlsConnector::from(config).connect(name, stream),
            )
            .await
            {
                Ok(Ok(t)) => t,
                Ok(Err(e)) => {
                    return Ended::after(format!("SSL handshake failed: {e}"), 300);
                }
                Err(_) => return fail("SSL handshake timed out".into()),
            }
        }
        Err(e) => {
            return Ended::after(format!("cannot set up SSL: {e}"), 300);
        }
    };
    #[cfg(feature = "tls")]
    talk(tls, host, settings, shared, prefix, link).await
}

/// The handshake and the streaming, over a plain or a TLS connection.
async fn talk<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    host: &Host,
    settings: &SenderSettings,
    shared: &Shared,
    prefix: &str,
    link: &Link<'_>,
) -> Ended {
    let Link {
        hops,
        system_info,
        relay,
    } = *link;
    let timeout = Duration::from_secs(settings.timeout_secs.max(1));
    let fail = Ended::retry;
    let ours = Caps::ours(settings.enable_compression);
    let mut req = StreamRequest::new(
        &settings.api_key,
        host.hostname(),
        host.machine_guid(),
        ours,
    );
    req.update_every = Some(1);
    req.hops = hops;
    req.system_info = system_info.to_vec();
    req.os = host.config().os.clone();
    req.timezone = host.config().timezone.clone();
    req.program_name = "tributary".into();
    req.program_version = env!("CARGO_PKG_VERSION").into();
    let bytes = match req.to_request_bytes() {
        Ok(b) => b,
        Err(e) => {
            return Ended::after(format!("cannot build the request: {e}"), 3600);
        }
    };
    // Every write is flushed: over TLS the tail of a write otherwise waits in the session's
    // buffer for the next one — and with replication the next one may wait for the parent.
    if let Err(e) = write_flushed(&mut stream, &bytes).await {
        return fail(format!("failed to send the request: {e}"));
    }
    log::info!("{prefix}: waiting response from remote netdata...");
    let mut reply = vec![0u8; 8192];
    let n = match tokio::time::timeout(timeout, stream.read(&mut reply)).await {
        Ok(Ok(0)) => {
            return Ended::after(
                "remote netdata closed the connection without a reply".into(),
                30,
            );
        }
        Ok(Ok(n)) => n,
        Ok(Err(e)) => {
            return Ended::after(format!("failed to read the reply: {e}"), 30);
        }
        Err(_) => {
            return Ended::after("no reply from remote netdata".into(), 30);
        }
    };
    let caps = match parse_reply(&reply[..n]) {
        Ok(c) => c.intersect(ours),
        Err(e) => {
            return Ended::after(
                format!(
                    "remote netdata refused: {e} ('{}')",
                    String::from_utf8_lossy(&reply[..n])
                ),
                u64::from(e.backoff_seconds()),
            );
        }
    };
    log::info!(
        "{prefix}: established communication with negotiated capabilities {caps} - sending metrics..."
    );
    {
        let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        st.forget_connection();
        st.connection += 1;
        st.spool_loss_logged = false;
        st.caps = caps;
        st.connected = true;
        {
            let host_vars = host.vars.lock().unwrap_or_else(|p| p.into_inner());
            write_variables(&mut st.buffer, "HOST", &host_vars);
            st.host_vars_sent = host_vars.version();
        }
        if caps.contains(Caps::HLABELS) {
            let labels = host
                .labels
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            for (k, v) in labels {
                let _infallible = writeln!(st.buffer, "LABEL \"{k}\" = 1 \"{v}\"");
            }
            st.buffer.extend_from_slice(b"OVERWRITE labels\n");
        }
    }
    let mut encoder = caps.contains(Caps::COMPRESSION).then(FrameEncoder::new);
    let mut out: Vec<u8> = Vec::with_capacity(SPARE_BUFFER_BYTES);
    let mut wire: Vec<u8> = Vec::with_capacity(SPARE_BUFFER_BYTES);
    let mut from_parent = vec![0u8; 4096];
    let mut parent_lines = ParentLines::default();
    let mut requests: VecDeque<ReplayRequest> = VecDeque::new();
    let mut sent_bytes: u64 = 0;
    let half_buffer = (settings.buffer_size_bytes / 2).max(64 * 1024) as usize;
    loop {
        let room = !requests.is_empty() && buffered_len(shared) < half_buffer;
        tokio::select! {
            () = shared.wake.notified() => {}
            () = std::future::ready(()), if room => {}
            r = stream.read(&mut from_parent) => match r {
                Ok(0) => return fail(format!("remote netdata closed the connection after {sent_bytes} bytes")),
                Ok(n) => parent_lines.feed(&from_parent[..n], prefix, &mut requests),
                Err(e) => return fail(format!("read error: {e}")),
            },
        }
        {
            let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            requests.extend(st.relayed_back.drain(..));
        }
        answer_requests(host, shared, &mut requests, half_buffer, prefix, relay);
        {
            let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            if st.overflowed {
                return fail("buffer overflow; reconnecting".into());
            }
            std::mem::swap(&mut st.buffer, &mut out);
        }
        if out.is_empty() {
            continue;
        }
        let payload: &[u8] = match encoder.as_mut() {
            Some(enc) => {
                wire.clear();
                if let Err(e) = enc.encode(&out, &mut wire) {
                    return fail(format!("compression failed: {e}"));
                }
                &wire
            }
            None => &out,
        };
        match tokio::time::timeout(timeout, write_flushed(&mut stream, payload)).await {
            Ok(Ok(())) => sent_bytes += payload.len() as u64,
            Ok(Err(e)) => return fail(format!("send error after {sent_bytes} bytes: {e}")),
            Err(_) => {
                return fail(format!(
                    "no data could be sent for {} seconds",
                    timeout.as_secs()
                ));
            }
        }
        out.clear();
        // A burst (definitions at connect, replication replies) must not keep its memory:
        // a headless collector lives in a few MB.
        if out.capacity() > SPARE_BUFFER_BYTES * 4 {
            out.shrink_to(SPARE_BUFFER_BYTES);
        }
        if wire.capacity() > SPARE_BUFFER_BYTES * 4 {
            wire.clear();
            wire.shrink_to(SPARE_BUFFER_BYTES);
        }
    }
}

/// Writes all of `bytes` and flushes them to the socket.
async fn write_flushed<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// The send buffers' size in steady state (one collection of a few hundred dimensions).
const SPARE_BUFFER_BYTES: usize = 16 * 1024;

/// A parent's `REPLAY_CHART` waiting to be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ReplayRequest {
    chart: String,
    start_streaming: bool,
    after: i64,
    before: i64,
}

/// Splits what the parent sends into lines and queues its replication requests.
#[derive(Debug, Default)]
struct ParentLines {
    pending: Vec<u8>,
}

impl ParentLines {
    /// The parent's commands are short; a line longer than this is garbage.
    const MAX_LINE: usize = 16 * 1024;

    fn feed(&mut self, bytes: &[u8], prefix: &str, requests: &mut VecDeque<ReplayRequest>) {
        self.pending.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(nl) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&self.pending[start..start + nl]).into_owned();
            start += nl + 1;
            match tributary_protocol::parse_line(&line) {
                Ok(tributary_protocol::Command::ReplayChart {
                    id,
                    start_streaming,
                    after,
                    before,
                }) => requests.push_back(ReplayRequest {
                    chart: id.to_string(),
                    start_streaming,
                    after,
                    before,
                }),
                Ok(tributary_protocol::Command::Empty) => {}
                _ => log::info!("{prefix}: ignored from parent: '{}'", line.trim_end()),
            }
        }
        self.pending.drain(..start);
        if self.pending.len() > Self::MAX_LINE {
            log::error!(
                "{prefix}: the parent sent a line of more than {} bytes; discarded",
                Self::MAX_LINE
            );
            self.pending.clear();
        }
    }
}

fn buffered_len(shared: &Shared) -> usize {
    shared
        .state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .buffer
        .len()
}

/// A headless child whose outage outlasted its spool: says once per connection how much
/// was lost — the spool's oldest sample is newer than the end of the previous connection.
/// (The parent never asks for more than the child has, so the request cannot tell.)
fn log_spool_loss(
    host: &Host,
    shared: &Shared,
    chart: &ChartState,
    rq: &ReplayRequest,
    prefix: &str,
) {
    let spool = host.spool_entries();
    let first = chart.first_entry_t();
    if spool == 0 || rq.after == 0 || first == 0 {
        return;
    }
    let mut sink = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    let disconnected = sink.last_disconnect_s;
    if sink.spool_loss_logged || disconnected == 0 || first <= disconnected + chart.update_every() {
        return;
    }
    sink.spool_loss_logged = true;
    log::error!(
        "{prefix}: the outage was longer than the spool ({} s of collections): its oldest {} s are lost; replaying the rest",
        spool as i64 * chart.update_every(),
        first - disconnected
    );
}

/// A proxy without a database: passes the part of `rq` older than the spool (and half the
/// spool beyond) on to the child, as a request that does not start streaming: the parent's
/// next step, which the spool covers, finishes the chart here. False when the spool covers it all or no child
/// is there to ask.
fn pass_on(relay: &Relay, shared: &Shared, chart: &ChartState, rq: &ReplayRequest) -> bool {
    let spool_first = chart.first_entry_t();
    let ue = chart.update_every().max(1);
    if rq.after == 0 || rq.before == 0 || (spool_first != 0 && rq.after >= spool_first - ue) {
        return false;
    }
    // The passed-on part reaches half the spool in: the spool keeps moving while the child
    // answers, and the parent's next step must still find its start here.
    let margin = (chart.clock().entries as i64 / 2) * ue;
    let before = if spool_first == 0 {
        rq.before
    } else {
        rq.before.min(spool_first + margin)
    };
    if before <= rq.after {
        return false;
    }
    let connection = shared
        .state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .connection;
    let line = super::replication::Request {
        after: rq.after,
        before,
        start_streaming: false,
    }
    .line(&rq.chart);
    relay.pass_on(
        PassedOn {
            chart: rq.chart.clone(),
            start_streaming: rq.start_streaming,
            after: rq.after,
            before: rq.before,
            connection,
        },
        line,
    )
}

/// Answers queued replication requests from the database while the send buffer has room.
/// Each reply is written with the chart locked, so the chart's first live collection can
/// only follow its last replayed point.
fn answer_requests(
    host: &Host,
    shared: &Shared,
    requests: &mut VecDeque<ReplayRequest>,
    half_buffer: usize,
    prefix: &str,
    relay: Option<&Relay>,
) {
    let mut reply = Vec::new();
    // Replies go out in rounds of about this many bytes, so live collections interleave and
    // the buffers stay small.
    let budget = half_buffer.min(256 * 1024);
    while buffered_len(shared) < budget {
        let Some(rq) = requests.pop_front() else {
            return;
        };
        let Some(chart) = host.find_chart(&rq.chart) else {
            log::error!(
                "{prefix}: the parent asked to replicate chart '{}', which this host does not have",
                rq.chart
            );
            continue;
        };
        let st = chart.lock();
        if let Some(relay) = relay
            && pass_on(relay, shared, &st, &rq)
        {
            continue;
        }
        reply.clear();
        let now = crate::daemon::now_us() / 1_000_000;
        log_spool_loss(host, shared, &st, &rq, prefix);
        let streaming = super::replication::write_reply(
            &mut reply,
            &st,
            rq.start_streaming,
            rq.after,
            rq.before,
            now,
        );
        let mut sink = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        if !sink.connected {
            return;
        }
        sink.buffer.extend_from_slice(&reply);
        if streaming {
            sink.replicating.remove(&rq.chart);
        }
        drop(sink);
        drop(st);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_protocol::{Command, parse_line};
    use tributary_rrd::{Algorithm, ChartDef, ChartType, DimDef, HostConfig, MemoryMode};

    #[test]
    fn custom_variables_follow_the_definition_and_travel_when_they_change() {
        let host = Host::new(HostConfig {
            hostname: "h".into(),
            machine_guid: "11111111-2222-3333-4444-555555555555".into(),
            memory_mode: MemoryMode::Ram,
            history: 60,
            cache_dir: None,
            os: "linux".into(),
            timezone: "UTC".into(),
        });
        let shared = Arc::new(Shared {
            state: Mutex::new(SinkState {
                connected: true,
                ..SinkState::default()
            }),
            wake: Notify::new(),
        });
        let sink = StreamSink {
            shared: Arc::clone(&shared),
            settings: SenderSettings {
                initial_clock_resync_iterations: 0,
                ..tributary_config::StreamConf::new(
                    &tributary_config::Config::parse("", "stream.conf").unwrap(),
                )
                .sender()
                .unwrap()
            },
            host_name: "h".into(),
            host_vars: Arc::clone(&host.vars),
            relays: false,
        };
        let c = host.chart(
            ChartDef {
                id: "a.b".into(),
                name: "a.b".into(),
                update_every: 1,
                ..ChartDef::default()
            },
            0,
        );
        let mut st = c.lock();
        st.dimension(DimDef::new("x")).unwrap();
        st.vars.set("myvar", 42.5).unwrap();
        let take = || {
            let mut s = shared.state.lock().unwrap();
            String::from_utf8(std::mem::take(&mut s.buffer)).unwrap()
        };
        sink.collected(&st, 1_000_000);
        let first = take();
        let lines: Vec<&str> = first.lines().collect();
        let var = lines
            .iter()
            .position(|l| *l == "VARIABLE CHART myvar = 42.5000000")
            .unwrap_or_else(|| panic!("{first}"));
        assert!(lines[var - 1].starts_with("DIMENSION"), "{first}");
        assert_eq!(lines[var + 1], "BEGIN \"a.b\" 1000000", "{first}");
        // Unchanged: nothing more.
        sink.collected(&st, 1_000_000);
        assert!(!take().contains("VARIABLE"));
        // Changed chart variable: inside the collection. Changed host variable: before it.
        st.vars.set("myvar", 43.0).unwrap();
        host.vars.lock().unwrap().set("hostvar", 2.0).unwrap();
        sink.collected(&st, 1_000_000);
        assert_eq!(
            take(),
            "VARIABLE HOST hostvar = 2.0000000\nBEGIN \"a.b\" 1000000\nVARIABLE CHART myvar = 43.0000000\nEND\n"
        );
        for line in first.lines() {
            assert!(
                !matches!(parse_line(line).unwrap(), Command::Other(_)),
                "{line}"
            );
        }
    }

    #[test]
    fn definitions_are_written_as_netdata_writes_them_and_parse_back() {
        let host = Host::new(HostConfig {
            hostname: "h".into(),
            machine_guid: "11111111-2222-3333-4444-555555555555".into(),
            memory_mode: MemoryMode::Ram,
            history: 60,
            cache_dir: None,
            os: "linux".into(),
            timezone: "UTC".into(),
        });
        let def = ChartDef {
            id: "system.idlejitter".into(),
            name: "system.idlejitter".into(),
            title: "CPU Idle Jitter".into(),
            units: "microseconds lost/s".into(),
            family: "idlejitter".into(),
            context: "system.idlejitter".into(),
            chart_type: ChartType::Area,
            priority: 800,
            update_every: 1,
            plugin: "idlejitter.plugin".into(),
            ..ChartDef::default()
        };
        let c = host.chart(def, 0);
        let mut st = c.lock();
        st.dimension(DimDef::new("min")).unwrap();
        let mut hidden = DimDef::new("x").algo(Algorithm::Incremental, -1, 8);
        hidden.hidden = true;
        st.dimension(hidden).unwrap();
        let mut out = Vec::new();
        write_definition(&mut out, &st, Caps::ours(true)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "CHART \"system.idlejitter\" \"\" \"CPU Idle Jitter\" \"microseconds lost/s\" \"idlejitter\" \"system.idlejitter\" \"area\" 800 1 \"   \" \"idlejitter.plugin\" \"\"\n\
             CLABEL \"_collect_plugin\" \"idlejitter.plugin\" 1\n\
             CLABEL \"_collect_module\" \"[none]\" 1\n\
             CLABEL_COMMIT\n\
             DIMENSION \"min\" \"min\" \"absolute\" 1 1 \"  \"\n\
             DIMENSION \"x\" \"x\" \"incremental\" -1 8 \" hidden \"\n"
        );
        for line in text.lines() {
            assert!(
                !matches!(parse_line(line).unwrap(), Command::Other(_)),
                "{line}"
            );
        }
    }
}
