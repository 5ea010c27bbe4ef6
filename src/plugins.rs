//! External plugins (netdata 1.37's plugins.d): every executable `*.plugin` file in the
//! `[directories] plugins` list is started with `PATH UPDATE_EVERY [command options]` and
//! netdata's plugin environment; its stdout is read line by line with the protocol parser the
//! stream receiver uses (`tributary_protocol::parse_line`) and applied to localhost through
//! [`crate::ingest::Ingest`]; its stderr lines go to our log.
//!
//! Threads: one discovery thread (`PLUGINSD`) scans the directories at start and every
//! `[plugins] check for new plugins every` seconds; each running plugin has its own thread
//! (`PLUGINSD[NAME]`, as netdata's per-plugin threads, so every log line names the plugin) with a
//! small current-thread tokio runtime that waits on the plugin's stdout, stderr, the restart
//! delay and the stop signal at once. Plugin work never runs on the web runtime, and a plugin
//! that floods or blocks its chart locks only delays its own thread. When the agent stops, the
//! discovery thread wakes every plugin thread; each one sends SIGTERM to its plugin's process
//! group, SIGKILL after a grace period, and reaps the plugin before its thread ends; the
//! discovery thread joins them all, and the daemon joins the discovery thread. No child is left
//! unreaped and no process of a plugin's group is left running.
//!
//! Supervision follows netdata 1.37.1's `plugins_d.c`:
//! - a run that ends with exit code 0 (or killed by SIGTERM) is restarted after `update every`
//!   seconds when the plugin ever collected data (one `END`), else after 10 × `update every`,
//!   and disabled after more than 10 such runs in a row;
//! - a non-zero exit disables a plugin that never collected data; one that did is restarted
//!   after 10 × `update every`, and disabled after more than 10 unproductive runs in a row;
//! - killed by any other signal: disabled;
//! - `DISABLE`: disabled;
//! - a disabled plugin is not started again until the agent restarts (the rescan only starts
//!   files it has not seen).
//!
//! Where tributary differs on purpose: a line that does not parse or cannot be applied (unknown
//! keyword, SET before CHART, a line over [`MAX_LINE`] bytes, ...) is logged with the plugin, the
//! line and the reason, the plugin's process group is killed, and the run counts as a failed one
//! (as a non-zero exit, even if it collected): netdata 1.37.1 disables the plugin for some of
//! these errors and restarts it for others. Plugins get their own process group (netdata does
//! not), so that helpers they start (charts.d's `sleep`s, ...) are killed with them.
//! `FUNCTION` registrations are accepted and ignored; nothing is ever written to a plugin's stdin
//! (it is a pipe, kept open while the plugin runs, as under netdata).

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::Context;
use rustix::process::{Pid, Signal};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;
use tributary_collectors::heartbeat::Stop;
use tributary_config::Config;
use tributary_config::netdata_conf::lookup;
use tributary_rrd::Host;

use crate::daemon::now_us;
use crate::ingest::{Ingest, IngestError};
use crate::settings::{SettingError, Settings, bool_setting, split_quoted_list};

/// The longest stdout line accepted from a plugin (netdata truncates at ~16 KiB); longer lines
/// are a protocol error.
pub const MAX_LINE: usize = 64 * 1024;

/// netdata's `SERIAL_FAILURES_THRESHOLD`: more unproductive runs in a row than this disable a
/// plugin.
const SERIAL_FAILURES_THRESHOLD: u32 = 10;

/// Time a plugin has between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(3);

/// stderr lines logged per plugin per [`STDERR_WINDOW`]; the rest are counted and reported.
const STDERR_LINES_PER_WINDOW: u32 = 200;
const STDERR_WINDOW: Duration = Duration::from_secs(60);

/// The plugins netdata 1.37.1 does not start unless `[plugins] NAME = yes`.
const OFF_BY_DEFAULT: &[&str] = &["slabinfo"];

/// The version plugins are told they run under: tributary speaks netdata 1.37.1's protocol.
const NETDATA_VERSION: &str = "v1.37.1";

/// One plugin as configured.
#[derive(Debug, Clone)]
struct PluginSpec {
    /// `NAME` of `NAME.plugin`.
    name: String,
    /// Full path.
    path: PathBuf,
    /// `[plugin:NAME] update every`.
    update_every: u32,
    /// `[plugin:NAME] command options`, split into words.
    options: Vec<String>,
}

/// What the discovery thread needs.
struct Runner {
    cfg: Config,
    dirs: Vec<PathBuf>,
    enable_new: bool,
    scan_every: u32,
    default_update_every: u32,
    env: Arc<Vec<(String, String)>>,
    host: Arc<Host>,
    /// File names already handled (running, finished or disabled), as netdata's `pluginsd_root`.
    seen: HashSet<String>,
    /// Directories whose last opening failed (logged once).
    broken_dirs: HashSet<PathBuf>,
    threads: Vec<JoinHandle<()>>,
    stop_tx: watch::Sender<bool>,
}

/// Starts the external plugins runner, unless no plugins directory is configured. The returned
/// thread ends after every plugin was stopped and reaped, once `stop` is given.
pub fn start(
    cfg: &Config,
    settings: &Settings,
    host: Arc<Host>,
    stop: Arc<Stop>,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    let enable_new = bool_setting(cfg, "plugins", "enable running new plugins", true)?;
    let scan_every = match lookup(cfg, "plugins", "check for new plugins every") {
        None => 60,
        Some(e) => e.as_u64()?.clamp(1, 86400) as u32,
    };
    if settings.plugins_dirs.is_empty() {
        log::info!("PLUGINSD: no plugins directory configured; external plugins are not run");
        return Ok(None);
    }
    let (stop_tx, _) = watch::channel(false);
    let mut runner = Runner {
        cfg: cfg.clone(),
        dirs: settings.plugins_dirs.clone(),
        enable_new,
        scan_every,
        default_update_every: settings.update_every,
        env: Arc::new(environment(cfg, settings, &host)),
        host,
        seen: HashSet::new(),
        broken_dirs: HashSet::new(),
        threads: Vec::new(),
        stop_tx,
    };
    let dirs = runner
        .dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    log::info!("PLUGINSD: looking for external plugins every {scan_every} s in {dirs}");
    let handle = thread::Builder::new()
        .name("PLUGINSD".into())
        .spawn(move || {
            runner.scan();
            while stop.wait_for_next_tick(runner.scan_every) {
                runner.scan();
            }
            runner.shutdown();
        })
        .context("cannot start the plugins thread")?;
    Ok(Some(handle))
}

impl Runner {
    /// One pass over the directories: starts every enabled plugin not seen before.
    fn scan(&mut self) {
        for dir in self.dirs.clone() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => {
                    self.broken_dirs.remove(&dir);
                    e
                }
                Err(e) => {
                    if self.broken_dirs.insert(dir.clone()) {
                        log::info!("cannot open plugins directory '{}': {e}", dir.display());
                    }
                    continue;
                }
            };
            let mut files: Vec<(String, PathBuf)> = entries
                .flatten()
                .filter_map(|e| {
                    let file = e.file_name().into_string().ok()?;
                    let name = file.strip_suffix(".plugin")?;
                    (!name.is_empty()).then(|| (file.clone(), e.path()))
                })
                .collect();
            files.sort();
            for (file, path) in files {
                if self.seen.contains(&file) {
                    continue;
                }
                if let Some(spec) = self.consider(&file, &path) {
                    self.seen.insert(file);
                    self.launch(spec);
                }
            }
        }
    }

    /// Decides whether `file` runs; None when it is disabled or not executable (then it is
    /// looked at again on the next scan, as netdata re-reads the switch of disabled files).
    fn consider(&mut self, file: &str, path: &Path) -> Option<PluginSpec> {
        let name = file.strip_suffix(".plugin")?.to_string();
        let default = self.enable_new && !OFF_BY_DEFAULT.contains(&name.as_str());
        let logged_bad = |e: SettingError| {
            log::error!("{e}: plugin '{name}' is not started");
        };
        match bool_setting(&self.cfg, "plugins", &name, default) {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                logged_bad(e);
                self.seen.insert(file.to_string());
                return None;
            }
        }
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
            return None;
        }
        let section = format!("plugin:{name}");
        let update_every = match lookup(&self.cfg, &section, "update every") {
            None => self.default_update_every,
            Some(e) => match e.as_u64() {
                Ok(v) => v.clamp(1, 86400) as u32,
                Err(e) => {
                    logged_bad(e.into());
                    self.seen.insert(file.to_string());
                    return None;
                }
            },
        };
        let options = lookup(&self.cfg, &section, "command options")
            .map(|e| split_quoted_list(e.value()))
            .unwrap_or_default();
        Some(PluginSpec {
            name,
            path: path.to_path_buf(),
            update_every,
            options,
        })
    }

    fn launch(&mut self, spec: PluginSpec) {
        let host = Arc::clone(&self.host);
        let env = Arc::clone(&self.env);
        let stop_rx = self.stop_tx.subscribe();
        let name = spec.name.clone();
        match thread::Builder::new()
            .name(format!("PLUGINSD[{name}]"))
            .spawn(move || supervise_thread(spec, host, env, stop_rx))
        {
            Ok(t) => self.threads.push(t),
            Err(e) => log::error!("PLUGINSD: cannot start a thread for plugin '{name}': {e}"),
        }
    }

    /// Stops every plugin and waits until each one is reaped.
    fn shutdown(self) {
        log::info!(
            "PLUGINSD: stopping {} external plugin threads",
            self.threads.len()
        );
        self.stop_tx.send_replace(true);
        for t in self.threads {
            let _joined = t.join();
        }
        log::info!("PLUGINSD: every external plugin stopped");
    }
}

/// The environment netdata 1.37.1 gives its plugins (spec §2), on top of the agent's own.
fn environment(cfg: &Config, settings: &Settings, host: &Host) -> Vec<(String, String)> {
    let get = |section: &str, key: &str, default: &str| {
        lookup(cfg, section, key).map_or_else(|| default.to_string(), |e| e.value().to_string())
    };
    let path_of = |p: &Path| p.display().to_string();
    let primary = settings
        .plugins_dirs
        .iter()
        .find(|d| d.is_dir())
        .or(settings.plugins_dirs.first())
        .cloned()
        .unwrap_or_default();
    let others = settings
        .plugins_dirs
        .iter()
        .filter(|d| **d != primary)
        .map(|d| path_of(d))
        .collect::<Vec<_>>()
        .join(" ");
    let inherited_path = std::env::var("PATH").unwrap_or_else(|_| "/bin:/usr/bin".into());
    let lib = path_of(&settings.lib_dir);
    let home_default = std::env::var("HOME").unwrap_or_else(|_| path_of(&settings.cache_dir));
    let uname = rustix::system::uname();
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    let mut env = vec![
        ("NETDATA_UPDATE_EVERY", settings.update_every.to_string()),
        ("NETDATA_VERSION", NETDATA_VERSION.to_string()),
        ("NETDATA_HOSTNAME", settings.hostname.clone()),
        ("NETDATA_CONFIG_DIR", path_of(&settings.config_dir)),
        ("NETDATA_USER_CONFIG_DIR", path_of(&settings.config_dir)),
        (
            "NETDATA_STOCK_CONFIG_DIR",
            get("directories", "stock config", "/usr/lib/netdata/conf.d"),
        ),
        ("NETDATA_PLUGINS_DIR", path_of(&primary)),
        ("NETDATA_USER_PLUGINS_DIRS", others),
        (
            "NETDATA_WEB_DIR",
            get("directories", "web", "/usr/share/netdata/web"),
        ),
        ("NETDATA_CACHE_DIR", path_of(&settings.cache_dir)),
        ("NETDATA_LIB_DIR", lib.clone()),
        (
            "NETDATA_LOCK_DIR",
            get("directories", "lock", &format!("{lib}/lock")),
        ),
        ("NETDATA_LOG_DIR", path_of(&settings.log_dir)),
        ("HOME", get("directories", "home", &home_default)),
        ("NETDATA_HOST_PREFIX", path_of(&settings.host_prefix)),
        ("NETDATA_LISTEN_PORT", settings.port.to_string()),
        ("NETDATA_DEBUG_FLAGS", "0x0000000000000000".into()),
        (
            "NETDATA_ERRORS_THROTTLE_PERIOD",
            get("logs", "errors flood protection period", "1200"),
        ),
        (
            "NETDATA_ERRORS_PER_PERIOD",
            get("logs", "errors to trigger flood protection", "200"),
        ),
        ("NETDATA_INTERNALS_MONITORING", "NO".into()),
        (
            "NETDATA_REGISTRY_UNIQUE_ID",
            host.machine_guid().to_string(),
        ),
        (
            "NETDATA_REGISTRY_HOSTNAME",
            get("registry", "registry hostname", &settings.hostname),
        ),
        (
            "NETDATA_REGISTRY_URL",
            get(
                "registry",
                "registry to announce",
                "https://registry.my-netdata.io",
            ),
        ),
        (
            "NETDATA_REGISTRY_CLOUD_BASE_URL",
            get("cloud", "cloud base url", "https://api.netdata.cloud"),
        ),
        (
            "NETDATA_SYSTEM_KERNEL_NAME",
            uname.sysname().to_string_lossy().into_owned(),
        ),
        (
            "NETDATA_SYSTEM_KERNEL_VERSION",
            uname.release().to_string_lossy().into_owned(),
        ),
        (
            "NETDATA_SYSTEM_ARCHITECTURE",
            uname.machine().to_string_lossy().into_owned(),
        ),
        ("NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT", cpus.to_string()),
        (
            "PATH",
            get(
                "env vars",
                "PATH",
                &format!("{inherited_path}:/sbin:/usr/sbin:/usr/local/bin:/usr/local/sbin"),
            ),
        ),
        (
            "PYTHONPATH",
            get(
                "env vars",
                "PYTHONPATH",
                &std::env::var("PYTHONPATH").unwrap_or_default(),
            ),
        ),
        ("PYTHONUNBUFFERED", "1".into()),
        ("LC_ALL", "C".into()),
    ];
    if std::env::var_os("TZ").is_none() {
        env.push(("TZ", get("env vars", "TZ", ":/etc/localtime")));
    }
    env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The body of a plugin's thread.
fn supervise_thread(
    spec: PluginSpec,
    host: Arc<Host>,
    env: Arc<Vec<(String, String)>>,
    stop_rx: watch::Receiver<bool>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            log::error!("cannot start a runtime for '{}': {e}", spec.path.display());
            return;
        }
    };
    runtime.block_on(supervise(&spec, &host, &env, stop_rx));
}

/// Resolves when the agent stops (or the discovery thread is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ignored = rx.wait_for(|s| *s).await;
}

/// How a run of a plugin ended, besides its exit status.
#[derive(Debug)]
enum Ending {
    /// Its stdout was closed (it exited).
    Eof,
    /// Reading its stdout failed.
    ReadError(std::io::Error),
    /// It sent a line we refused (already logged).
    Protocol,
    /// It sent DISABLE.
    Disable,
    /// The agent is stopping.
    Stopping,
}

/// What one run gave.
struct Run {
    pid: u32,
    ending: Ending,
    /// ENDs in this run.
    collections: u64,
    status: Option<ExitStatus>,
}

/// The restart loop of one plugin (netdata's `pluginsd_worker_thread`).
async fn supervise(
    spec: &PluginSpec,
    host: &Arc<Host>,
    env: &[(String, String)],
    mut stop_rx: watch::Receiver<bool>,
) {
    let path = spec.path.display().to_string();
    let ue = u64::from(spec.update_every);
    let mut successful: u64 = 0;
    let mut serial_failures: u32 = 0;
    loop {
        if *stop_rx.borrow() {
            return;
        }
        let run = match run_once(spec, host, env, &mut stop_rx).await {
            Ok(r) => r,
            Err(e) => {
                log::error!("cannot run '{path}': {e}. Disabling it.");
                return;
            }
        };
        let pid = run.pid;
        if matches!(run.ending, Ending::Stopping) {
            log::info!("'{path}' (pid {pid}) stopped: the agent is exiting");
            return;
        }
        log::error!(
            "'{path}' (pid {pid}) disconnected after {} successful data collections (ENDs).",
            run.collections
        );
        if let Ending::ReadError(e) = &run.ending {
            log::error!("'{path}' (pid {pid}): reading its output failed: {e}");
        }
        let protocol_error = matches!(run.ending, Ending::Protocol);
        successful += run.collections;
        if run.collections > 0 && !protocol_error {
            serial_failures = 0;
        } else {
            serial_failures += 1;
        }
        if matches!(run.ending, Ending::Disable) {
            log::info!("'{path}' (pid {pid}) called DISABLE. Disabling it.");
            return;
        }
        // netdata_pclose(): exit code, 0 when killed by SIGTERM, -1 for other signals.
        let code = match run.status {
            Some(s) => match (s.code(), s.signal()) {
                (Some(c), _) => c,
                (None, Some(15)) => 0,
                _ => -1,
            },
            None => -1,
        };
        let delay = if protocol_error {
            if successful == 0 {
                log::error!(
                    "'{path}' (pid {pid}) sent output that is not the plugins.d protocol and has not collected any data. Disabling it."
                );
                return;
            }
            if serial_failures > SERIAL_FAILURES_THRESHOLD {
                log::error!(
                    "'{path}' (pid {pid}) sent output that is not the plugins.d protocol, but has given useful output in the past ({successful} times). We tried to restart it {serial_failures} times, but it failed to generate data. Disabling it."
                );
                return;
            }
            log::error!(
                "'{path}' (pid {pid}) sent output that is not the plugins.d protocol, but has given useful output in the past ({successful} times). Waiting a bit before starting it again."
            );
            ue * 10
        } else if code == 0 {
            if successful > 0 {
                ue
            } else if serial_failures <= SERIAL_FAILURES_THRESHOLD {
                log::info!(
                    "'{path}' (pid {pid}) does not generate useful output but it reports success (exits with 0). Waiting a bit before starting it again."
                );
                ue * 10
            } else {
                log::error!(
                    "'{path}' (pid {pid}) does not generate useful output, although it reports success (exits with 0). We have tried to collect something {serial_failures} times - unsuccessfully. Disabling it."
                );
                return;
            }
        } else if code == -1 {
            let sig = run
                .status
                .and_then(|s| s.signal())
                .map_or_else(|| "unknown".to_string(), |s| s.to_string());
            log::info!("'{path}' (pid {pid}) was killed by signal {sig}. Disabling it.");
            return;
        } else if successful == 0 {
            log::error!(
                "'{path}' (pid {pid}) exited with error code {code} and haven't collected any data. Disabling it."
            );
            return;
        } else if serial_failures <= SERIAL_FAILURES_THRESHOLD {
            log::error!(
                "'{path}' (pid {pid}) exited with error code {code}, but has given useful output in the past ({successful} times). Waiting a bit before starting it again."
            );
            ue * 10
        } else {
            log::error!(
                "'{path}' (pid {pid}) exited with error code {code}, but has given useful output in the past ({successful} times). We tried to restart it {serial_failures} times, but it failed to generate data. Disabling it."
            );
            return;
        };
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(delay)) => {}
            () = stopped(&mut stop_rx) => return,
        }
    }
}

fn spawn(spec: &PluginSpec, env: &[(String, String)]) -> std::io::Result<tokio::process::Child> {
    let mut cmd = tokio::process::Command::new(&spec.path);
    cmd.arg(spec.update_every.to_string())
        .args(&spec.options)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A file just written may still be open for writing in a process that forked meanwhile.
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::TXTBSY.raw_os_error()) => {
                tries += 1;
                if tries == 20 {
                    return Err(e);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Starts the plugin once and reads it until it ends, is refused, or the agent stops; then
/// kills its process group and reaps it.
async fn run_once(
    spec: &PluginSpec,
    host: &Arc<Host>,
    env: &[(String, String)],
    stop_rx: &mut watch::Receiver<bool>,
) -> std::io::Result<Run> {
    let path = spec.path.display().to_string();
    let mut child = spawn(spec, env)?;
    let pid = child.id().unwrap_or(0);
    log::info!("connected to '{path}' running on pid {pid}");
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr_task = child
        .stderr
        .take()
        .map(|e| tokio::spawn(log_stderr(e, spec.name.clone())));
    let mut ingest = Ingest::new(
        Arc::clone(host),
        spec.update_every,
        &format!("{}.plugin", spec.name),
    );
    let ending = match stdout {
        Some(out) => read_protocol(out, &mut ingest, spec, stop_rx).await,
        None => Ending::Eof,
    };
    drop(stdin);
    let status = kill_and_reap(&mut child, pid).await;
    if let Some(t) = stderr_task {
        // The group is gone; its stderr pipe is closed unless a process left the group.
        if tokio::time::timeout(Duration::from_secs(1), t)
            .await
            .is_err()
        {
            log::info!(
                "'{path}' (pid {pid}): stderr still open after the plugin ended; no longer read"
            );
        }
    }
    Ok(Run {
        pid,
        ending,
        collections: ingest.collections,
        status,
    })
}

/// Reads protocol lines until something ends the run.
async fn read_protocol(
    out: impl AsyncRead + Unpin,
    ingest: &mut Ingest,
    spec: &PluginSpec,
    stop_rx: &mut watch::Receiver<bool>,
) -> Ending {
    let path = spec.path.display();
    let mut reader = BufReader::with_capacity(64 * 1024, out);
    let mut line = Vec::with_capacity(1024);
    loop {
        let read = tokio::select! {
            biased;
            () = stopped(stop_rx) => return Ending::Stopping,
            r = read_line_bounded(&mut reader, &mut line, MAX_LINE) => r,
        };
        match read {
            Ok(LineRead::Eof) => return Ending::Eof,
            Ok(LineRead::Line) => {}
            Ok(LineRead::TooLong) => {
                log::error!(
                    "'{path}' sent a line longer than {MAX_LINE} bytes (starting '{}'): stopping it",
                    String::from_utf8_lossy(&line[..line.len().min(120)])
                );
                return Ending::Protocol;
            }
            Err(e) => return Ending::ReadError(e),
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        let cmd = match tributary_protocol::parse_line(text) {
            Ok(c) => c,
            Err(e) => {
                log::error!("'{path}' sent '{}': {e}: stopping it", shorten(text));
                return Ending::Protocol;
            }
        };
        match ingest.apply(cmd, now_us()) {
            Ok(_) => {}
            Err(IngestError::Disabled) => return Ending::Disable,
            Err(e) => {
                log::error!("'{path}' sent '{}': {e}: stopping it", shorten(text));
                return Ending::Protocol;
            }
        }
    }
}

fn shorten(s: &str) -> &str {
    match s.char_indices().nth(200) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

enum LineRead {
    Line,
    Eof,
    TooLong,
}

/// Reads one `\n`-terminated line (or the last unterminated one) into `line`, refusing lines
/// over `max` bytes without buffering them.
async fn read_line_bounded<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<LineRead> {
    line.clear();
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(if line.is_empty() {
                LineRead::Eof
            } else {
                LineRead::Line
            });
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + take > max {
            let keep = max.saturating_sub(line.len()).min(take);
            line.extend_from_slice(&buf[..keep]);
            reader.consume(take);
            return Ok(LineRead::TooLong);
        }
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        if done {
            return Ok(LineRead::Line);
        }
    }
}

/// Logs a plugin's stderr, one log line per line, at most [`STDERR_LINES_PER_WINDOW`] per
/// [`STDERR_WINDOW`].
async fn log_stderr(err: impl AsyncRead + Unpin, name: String) {
    let mut reader = BufReader::new(err);
    let mut line = Vec::with_capacity(256);
    let mut window = Instant::now();
    let mut logged = 0u32;
    let mut dropped = 0u64;
    loop {
        match read_line_bounded(&mut reader, &mut line, 4096).await {
            Ok(LineRead::Eof) | Err(_) => break,
            Ok(LineRead::Line | LineRead::TooLong) => {}
        }
        if window.elapsed() >= STDERR_WINDOW {
            if dropped > 0 {
                log::error!("{dropped} more stderr lines of plugin '{name}' were not logged");
            }
            window = Instant::now();
            logged = 0;
            dropped = 0;
        }
        if logged >= STDERR_LINES_PER_WINDOW {
            dropped += 1;
            continue;
        }
        logged += 1;
        let text = String::from_utf8_lossy(&line);
        log::info!("{}", text.trim_end_matches(['\n', '\r']));
    }
    if dropped > 0 {
        log::error!("{dropped} more stderr lines of plugin '{name}' were not logged");
    }
}

fn group_of(pid: u32) -> Option<Pid> {
    i32::try_from(pid).ok().and_then(Pid::from_raw)
}

fn signal_group(pid: u32, sig: Signal) -> bool {
    group_of(pid).is_some_and(|g| rustix::process::kill_process_group(g, sig).is_ok())
}

/// True when a process of group `pgid` is alive (not a zombie). Reads the real /proc.
fn group_has_live_process(pgid: u32) -> bool {
    if group_of(pgid).is_none_or(|g| rustix::process::test_kill_process_group(g).is_err()) {
        return false;
    }
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return true;
    };
    dir.flatten().any(|e| {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            return false;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut f = rest.split_whitespace();
        let state = f.next();
        let group = f.nth(1).and_then(|g| g.parse::<u32>().ok());
        group == Some(pgid) && state != Some("Z")
    })
}

/// SIGTERM to the plugin's process group, SIGKILL after [`KILL_GRACE`]; waits for the plugin
/// itself (no zombie) and then for the rest of its group.
async fn kill_and_reap(child: &mut tokio::process::Child, pid: u32) -> Option<ExitStatus> {
    signal_group(pid, Signal::TERM);
    let status = match tokio::time::timeout(KILL_GRACE, child.wait()).await {
        Ok(s) => s.ok(),
        Err(_) => {
            log::error!(
                "pid {pid} did not exit {KILL_GRACE:?} after SIGTERM: killing its process group"
            );
            signal_group(pid, Signal::KILL);
            child.wait().await.ok()
        }
    };
    // Processes the plugin started stay in its group after it exits (zombies reparented to
    // init do not count: they are init's to reap).
    let deadline = Instant::now() + Duration::from_secs(1);
    while group_has_live_process(pid) {
        if Instant::now() >= deadline {
            log::info!(
                "processes of the group of pid {pid} still run after it ended: killing them"
            );
            signal_group(pid, Signal::KILL);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_lists_split_as_netdata() {
        assert_eq!(
            split_quoted_list("\"/usr/lib/netdata/plugins.d\" '/my dir',/x  /y"),
            vec!["/usr/lib/netdata/plugins.d", "/my dir", "/x", "/y"]
        );
        assert!(split_quoted_list("  ").is_empty());
    }

    #[test]
    fn lines_are_bounded() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let input: &[u8] = b"BEGIN a.b\nSET x = 1\nlast";
            let mut r = BufReader::with_capacity(4, input);
            let mut line = Vec::new();
            let mut got = Vec::new();
            while let LineRead::Line = read_line_bounded(&mut r, &mut line, 64).await.unwrap() {
                got.push(String::from_utf8(line.clone()).unwrap());
            }
            assert_eq!(got, ["BEGIN a.b\n", "SET x = 1\n", "last"]);

            let long = [b'x'; 100];
            let input = [&long[..], b"\nEND\n"].concat();
            let mut r = BufReader::with_capacity(8, &input[..]);
            assert!(matches!(
                read_line_bounded(&mut r, &mut line, 32).await.unwrap(),
                LineRead::TooLong
            ));
            assert_eq!(line.len(), 32);
        });
    }
}
