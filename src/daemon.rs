//! Start-up and shut-down order: configuration → logging → directories → machine GUID →
//! localhost's database → collectors thread → web server → signals. TERM/INT stop cleanly
//! (collectors stop, `save` databases are written, the pid file is removed), HUP reopens the
//! logs, USR1 saves the databases, USR2 reloads the health configuration.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use tributary_config::Config;
use tributary_rrd::{Host, HostConfig, Hosts, MemoryMode};

use crate::cli::Args;
use crate::logging;
use crate::settings::{Settings, WebMode};

/// What every part of the running agent shares.
// Without the web server (no receiver, no API) the parent's side of this state goes unread.
#[derive(Debug)]
#[cfg_attr(not(feature = "web"), allow(dead_code))]
pub struct AgentState {
    /// Every host whose database this agent keeps.
    pub hosts: Hosts,
    /// The local collectors' `update every`.
    pub update_every: u32,
    /// `/netdata.conf`: the effective configuration.
    pub effective_config: String,
    /// stream.conf (empty when there is none).
    pub stream_config: Config,
    /// netdata.conf's defaults for received hosts (history, memory mode, health, replication).
    pub receiver_defaults: tributary_config::ReceiverDefaults,
    /// The children streaming into this agent now.
    #[cfg(feature = "web")]
    pub receivers: crate::stream::receiver::Receivers,
    /// `[directories] cache`, for received hosts in `save`/`map` mode.
    pub cache_dir: Option<PathBuf>,
    /// `[web] allow connections from`: client IPs that may connect at all.
    pub allow_connections: tributary_config::SimplePattern,
    /// `[web] allow streaming from`: client IPs that may stream into this agent.
    pub allow_streaming: tributary_config::SimplePattern,
    /// `[web] accept a streaming request every seconds`.
    #[cfg(feature = "web")]
    pub stream_rate: crate::stream::receiver::AcceptRate,
    /// Per received host: replication passed through this agent when it has no database.
    pub relays: crate::stream::relay::Relays,
    /// `[web] gzip compression level` when gzip is enabled.
    pub gzip_level: Option<u32>,
    /// `[web] ssl certificate` / `ssl key`: the listener's TLS, and whether it is forced.
    #[cfg(feature = "web")]
    pub tls: Option<crate::tls::ListenerTls>,
    /// Machine GUIDs of received hosts this agent forwards to its own parent (proxy).
    pub proxied: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Health: alarms of every host with health enabled.
    #[cfg(feature = "health")]
    pub health: crate::health::AgentHealth,
    /// `[directories] web`: a directory served instead of tributary's own dashboard.
    pub web_dir: Option<PathBuf>,
}

/// Microseconds since the epoch.
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Loads netdata.conf (when given) and applies the `-W set` overrides.
pub fn load_config(args: &Args) -> anyhow::Result<Config> {
    let mut cfg = match &args.config_file {
        Some(path) => Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => Config::new(),
    };
    for (section, key, value) in &args.overrides {
        cfg.set(section, key, value);
    }
    Ok(cfg)
}

/// The listener's TLS from `[web] ssl certificate` and `ssl key` (netdata's defaults point
/// at `CONFIG/ssl/cert.pem` and `key.pem`; without both files TLS is off).
#[cfg(feature = "web")]
fn listener_tls(settings: &Settings) -> anyhow::Result<Option<crate::tls::ListenerTls>> {
    let (Some(cert), Some(key)) = (&settings.ssl_certificate, &settings.ssl_key) else {
        return Ok(None);
    };
    if settings.tls_mode == crate::tls::TlsMode::Off {
        return Ok(None);
    }
    let config = crate::tls::server_config(cert, key)?;
    log::info!(
        "WEB: TLS enabled with certificate {} ({})",
        cert.display(),
        if settings.tls_mode == crate::tls::TlsMode::Force {
            "TLS only"
        } else {
            "TLS and plain text on the same port"
        }
    );
    Ok(Some(crate::tls::ListenerTls {
        acceptor: tokio_rustls::TlsAcceptor::from(config),
        mode: settings.tls_mode,
    }))
}

/// Creates `dir`, or when that is impossible (not root), a per-user directory instead.
fn usable_dir(dir: &Path, what: &str) -> PathBuf {
    if fs::create_dir_all(dir).is_ok() && is_writable(dir) {
        return dir.to_path_buf();
    }
    let base = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".local/share/tributary"))
        .unwrap_or_else(|| std::env::temp_dir().join("tributary"));
    let fallback = base.join(what);
    if let Err(e) = fs::create_dir_all(&fallback) {
        log::error!("cannot create {what} directory {}: {e}", fallback.display());
    }
    log::info!(
        "{what} directory {} is not writable; using {} instead",
        dir.display(),
        fallback.display()
    );
    fallback
}

fn is_writable(dir: &Path) -> bool {
    let probe = dir.join(".tributary-write-test");
    let ok = fs::write(&probe, b"").is_ok();
    let _removed = fs::remove_file(&probe);
    ok
}

/// Reads the machine GUID from `LIB/registry/netdata.public.unique.id`, creating it once.
pub fn machine_guid(lib_dir: &Path) -> anyhow::Result<String> {
    let path = lib_dir.join("registry").join("netdata.public.unique.id");
    if let Ok(text) = fs::read_to_string(&path) {
        let t = text.trim();
        if let Ok(u) = uuid::Uuid::parse_str(t) {
            return Ok(u.hyphenated().to_string());
        }
        log::error!(
            "machine GUID file {} holds no valid GUID; creating a new one",
            path.display()
        );
    }
    let guid = uuid::Uuid::new_v4().hyphenated().to_string();
    fs::create_dir_all(path.parent().expect("has a parent"))
        .with_context(|| format!("cannot create {}", path.display()))?;
    fs::write(&path, &guid).with_context(|| format!("cannot write {}", path.display()))?;
    log::info!("created machine GUID {guid} in {}", path.display());
    Ok(guid)
}

fn system_timezone() -> String {
    if let Ok(tz) = std::env::var("TZ") {
        let tz = tz.trim_start_matches(':');
        if !tz.is_empty() && !tz.starts_with('/') {
            return tz.to_string();
        }
    }
    if let Ok(target) = fs::read_link("/etc/localtime") {
        let s = target.to_string_lossy().into_owned();
        if let Some((_, zone)) = s.split_once("zoneinfo/") {
            return zone.to_string();
        }
    }
    fs::read_to_string("/etc/timezone").map_or_else(|_| "UTC".into(), |s| s.trim().to_string())
}

/// Reads `stream.conf` and `exporting.conf` from the config directory with the same reader as
/// netdata.conf, so that a broken file stops start-up with its file and line. Returns
/// stream.conf (empty when there is none).
fn read_side_configs(config_dir: &Path) -> anyhow::Result<Config> {
    let stream = config_dir.join("stream.conf");
    let stream_config = match Config::load(&stream) {
        Ok(cfg) => {
            let sender = tributary_config::StreamConf::new(&cfg)
                .sender()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if sender.enabled && !sender.can_send() {
                log::error!(
                    "STREAM: {} enables streaming but has no destination or api key: cannot enable sending",
                    stream.display()
                );
            }
            cfg
        }
        Err(e) if e.is_not_found() => Config::new(),
        Err(e) => return Err(anyhow::anyhow!("{e}")),
    };
    // exporting.conf: a broken file stops start-up here; its instances start in exporting.rs.
    let exporting = config_dir.join("exporting.conf");
    match Config::load(&exporting) {
        Ok(_) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(anyhow::anyhow!("{e}")),
    }
    Ok(stream_config)
}

/// Runs the agent until TERM or INT.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut cfg = load_config(&args)?;
    let settings = Settings::resolve(&mut cfg, &args).map_err(|e| anyhow::anyhow!("{e}"))?;
    logging::init(
        &logging::Destination::parse(&settings.error_log),
        log::LevelFilter::Info,
    )
    .with_context(|| format!("cannot open the error log {}", settings.error_log))?;
    for w in cfg.warnings() {
        log::info!("config: {}:{}: {:?}", w.path.display(), w.line, w.kind);
    }
    log::info!(
        "tributary {} starting, pid {}, config directory {}, log directory {}",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        settings.config_dir.display(),
        settings.log_dir.display()
    );

    let stream_config = read_side_configs(&settings.config_dir)?;

    let lib_dir = usable_dir(&settings.lib_dir, "lib");
    let cache_dir = usable_dir(&settings.cache_dir, "cache");
    let guid = machine_guid(&lib_dir)?;
    if let Some(pid_file) = &args.pid_file {
        fs::write(pid_file, format!("{}\n", std::process::id()))
            .with_context(|| format!("cannot write pid file {}", pid_file.display()))?;
    }

    let localhost = Arc::new(Host::new(HostConfig {
        hostname: settings.hostname.clone(),
        machine_guid: guid.clone(),
        memory_mode: settings.memory_mode,
        history: settings.history,
        cache_dir: matches!(settings.memory_mode, MemoryMode::Save | MemoryMode::Map)
            .then(|| cache_dir.join(&guid)),
        os: "linux".into(),
        timezone: system_timezone(),
    }));
    log::info!(
        "host '{}' ({guid}): memory mode {}, {} entries per dimension, update every {} s",
        settings.hostname,
        settings.memory_mode,
        localhost.entries(),
        settings.update_every
    );

    #[cfg(not(feature = "web"))]
    if settings.web_mode != WebMode::None {
        anyhow::bail!(
            "this tributary is built without its web server (cargo feature `web`): set [web] mode = none"
        );
    }
    #[cfg(feature = "health")]
    let health = crate::health::AgentHealth::new(&cfg, &settings, &lib_dir);
    #[cfg(feature = "health")]
    let health_enabled = health.enabled;
    #[cfg(not(feature = "health"))]
    let health_enabled = false;
    let state = Arc::new(AgentState {
        hosts: Hosts::new(Arc::clone(&localhost)),
        update_every: settings.update_every,
        effective_config: tributary_config::netdata_conf::render_effective(&cfg),
        stream_config,
        receiver_defaults: tributary_config::ReceiverDefaults {
            history: u64::try_from(settings.history).unwrap_or(3600),
            memory_mode: settings.memory_mode.as_str().to_string(),
            health_enabled: if health_enabled {
                tributary_config::values::Boolean::Yes
            } else {
                tributary_config::values::Boolean::No
            },
            ..tributary_config::ReceiverDefaults::default()
        },
        #[cfg(feature = "web")]
        receivers: crate::stream::receiver::Receivers::default(),
        cache_dir: Some(cache_dir),
        proxied: std::sync::Mutex::new(std::collections::HashSet::new()),
        #[cfg(feature = "web")]
        tls: listener_tls(&settings)?,
        gzip_level: settings.gzip_level,
        allow_connections: tributary_config::SimplePattern::new(&settings.allow_connections_from),
        allow_streaming: tributary_config::SimplePattern::new(&settings.allow_streaming_from),
        #[cfg(feature = "web")]
        stream_rate: crate::stream::receiver::AcceptRate::new(settings.stream_accept_every_secs),
        relays: crate::stream::relay::Relays::default(),
        #[cfg(feature = "health")]
        health,
        web_dir: settings.web_dir.clone(),
    });

    // A headless child keeps a spool of its last collections, so that its parent can
    // replicate an outage shorter than `[stream] spool seconds`.
    if let Ok(sender) = tributary_config::StreamConf::new(&state.stream_config).sender()
        && sender.can_send()
        && settings.memory_mode == MemoryMode::None
    {
        let entries = (sender.spool_seconds / u64::from(settings.update_every.max(1))) as usize;
        localhost.enable_spool(entries, sender.spool_bytes as usize);
        log::info!(
            "host '{}': memory mode none: keeping {} s of collections ({} bytes at most) to replay to the parent after an outage",
            settings.hostname,
            sender.spool_seconds,
            sender.spool_bytes
        );
    }

    release_startup_pages_later();

    let stop = tributary_collectors::heartbeat::Stop::new();
    let collectors =
        crate::collect::start(&cfg, &settings, Arc::clone(&localhost), Arc::clone(&stop))?;
    // Health runs on the hosts with a database: without one here and without a web server
    // (no children can stream in) there is nothing for it to do, and no thread is started.
    #[cfg(feature = "health")]
    let health_thread = if settings.memory_mode == MemoryMode::None
        && settings.web_mode == WebMode::None
    {
        log::info!(
            "HEALTH: no health thread: no database here ([db] mode = none) and no children ([web] mode = none)"
        );
        None
    } else {
        Some(
            crate::health::start(Arc::clone(&state), Arc::clone(&stop))
                .context("cannot start the health thread")?,
        )
    };

    let runtime = match settings.web_mode {
        WebMode::MultiThreaded => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("WEB")
            .enable_all()
            .build(),
        WebMode::None | WebMode::SingleThreaded => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    }
    .context("cannot start the runtime")?;

    #[cfg(feature = "exporting")]
    let exporters = crate::exporting::start(&cfg, &settings.config_dir, &lib_dir, &state);
    #[cfg(not(feature = "exporting"))]
    log::info!("EXPORTING: not part of this build (cargo feature `exporting`)");

    let result = runtime.block_on(async {
        #[cfg(feature = "web")]
        if settings.web_mode != WebMode::None {
            let addr = if settings.bind_to == "*" {
                format!("0.0.0.0:{}", settings.port)
            } else if settings.bind_to.contains(':') && !settings.bind_to.starts_with('[') {
                format!("[{}]:{}", settings.bind_to, settings.port)
            } else {
                format!("{}:{}", settings.bind_to, settings.port)
            };
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            log::info!("WEB: listening on {}", listener.local_addr()?);
            tokio::spawn(crate::listener::run(listener, Arc::clone(&state)));
        }
        if settings.web_mode == WebMode::None {
            log::info!("WEB: web server disabled ([web] mode = none)");
        }
        let sender = tributary_config::StreamConf::new(&state.stream_config)
            .sender()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if sender.can_send() {
            crate::stream::sender::start(
                Arc::clone(state.hosts.localhost()),
                sender,
                1,
                crate::system_info::stream_parameters(),
                None,
            );
        }
        wait_for_signals(&state).await
    });

    stop.stop();
    #[cfg(feature = "exporting")]
    exporters.stop();
    for c in collectors {
        let _joined = c.join();
    }
    #[cfg(feature = "health")]
    if let Some(t) = health_thread {
        let _joined = t.join();
    }
    let saved = state.hosts.save_all();
    if settings.memory_mode == MemoryMode::Save {
        log::info!("saved {saved} charts");
    }
    if let Some(pid_file) = &args.pid_file {
        let _removed = fs::remove_file(pid_file);
    }
    log::info!("tributary exiting");
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// How long after start the memory only start-up needed is given back
/// ([`crate::resident`]): by then the collectors have run and the sender has connected.
const RELEASE_STARTUP_AFTER: Duration = Duration::from_secs(15);

/// Gives back start-up's memory once, from a short-lived thread (the work reads
/// `/proc/self/smaps`, which must not block the runtime).
fn release_startup_pages_later() {
    let spawned = std::thread::Builder::new()
        .name("RELEASE".into())
        .spawn(|| {
            std::thread::sleep(RELEASE_STARTUP_AFTER);
            let r = crate::resident::release_startup_pages();
            log::info!(
                "start-up memory given back: RSS {} kB -> {} kB ({} kB of code mappings released)",
                r.rss_before_kb,
                r.rss_after_kb,
                r.mapped_bytes / 1024
            );
        });
    if let Err(e) = spawned {
        log::error!("cannot start the thread that gives back start-up memory: {e}");
    }
}

async fn wait_for_signals(state: &AgentState) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut usr1 = signal(SignalKind::user_defined1())?;
    let mut usr2 = signal(SignalKind::user_defined2())?;
    loop {
        tokio::select! {
            _ = term.recv() => { log::info!("SIGTERM received, exiting"); return Ok(()); }
            _ = int.recv() => { log::info!("SIGINT received, exiting"); return Ok(()); }
            _ = hup.recv() => { logging::reopen(); log::info!("SIGHUP received, log files reopened"); }
            _ = usr1.recv() => {
                let n = state.hosts.save_all();
                log::info!("SIGUSR1 received, saved {n} charts");
            }
            _ = usr2.recv() => {
                log::info!("SIGUSR2 received, reloading health configuration");
                #[cfg(feature = "health")]
                state.health.reload();
            }
        }
    }
}
