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
//! Modules: `supervisor.rs` (the restart and disable rules, netdata's), `process.rs` (spawning,
//! process groups, killing and reaping, stderr), `reader.rs` (stdout lines through the parser
//! into [`crate::ingest::Ingest`], bad input and hang detection), `error_log.rs` (rate-limited
//! error lines), `environment.rs` (netdata's plugin environment).
//!
//! Configuration, per plugin in `[plugin:NAME]`: netdata's `update every` and `command
//! options`, and two keys of tributary's own:
//! - `protocol errors before restart` (default [`DEFAULT_MAX_ERRORS`]): bad lines in one run
//!   before the plugin is killed and restarted (netdata kills a plugin at its first bad line);
//! - `hang timeout` (seconds; 0: never): a plugin that wrote and then writes nothing for this
//!   long is killed and restarted (netdata has no such check; one that never wrote is left
//!   alone). Default: max(60, 10 × `update every`, 10 × the
//!   longest update every of the charts the plugin defined).
//!
//! Plugins get their own process group (netdata does not), so that helpers they start
//! (charts.d's `sleep`s, ...) are killed with them. `FUNCTION` registrations are accepted and
//! ignored; nothing is ever written to a plugin's stdin (it is a pipe, kept open while the
//! plugin runs, as under netdata: apps.plugin exits when its stdin closes).

mod environment;
mod error_log;
#[cfg(test)]
mod no_alloc_tests;
mod process;
mod reader;
mod supervisor;

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use tributary_collectors::heartbeat::Stop;
use tributary_config::Config;
use tributary_config::netdata_conf::lookup;
use tributary_rrd::Host;

use crate::settings::{SettingError, Settings, bool_setting, split_quoted_list};

/// Default of `[plugin:NAME] protocol errors before restart`.
pub const DEFAULT_MAX_ERRORS: u32 = 100;

/// The plugins netdata 1.37.1 does not start unless `[plugins] NAME = yes`.
const OFF_BY_DEFAULT: &[&str] = &["slabinfo"];

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
    /// `[plugin:NAME] protocol errors before restart`.
    max_errors: u32,
    /// `[plugin:NAME] hang timeout`; None: never.
    hang_timeout: Option<Duration>,
    /// The hang timeout is the default (it grows with the update every of the plugin's charts).
    hang_auto: bool,
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
    let lock = environment::lock_dir(cfg, settings);
    if let Err(e) = std::fs::create_dir_all(&lock) {
        log::error!(
            "PLUGINSD: cannot create the lock directory '{}': {e}",
            lock.display()
        );
    }
    let (stop_tx, _) = watch::channel(false);
    let mut runner = Runner {
        cfg: cfg.clone(),
        dirs: settings.plugins_dirs.clone(),
        enable_new,
        scan_every,
        default_update_every: settings.update_every,
        env: Arc::new(environment::environment(cfg, settings, &host)),
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
        let number = |key: &str, default: u64| match lookup(&self.cfg, &section, key) {
            None => Ok(default),
            Some(e) => e.as_u64().map(|v| v.min(86400 * 365)),
        };
        let hang_default = u64::from(update_every).saturating_mul(10).max(60);
        let (max_errors, hang) = match (
            number(
                "protocol errors before restart",
                u64::from(DEFAULT_MAX_ERRORS),
            ),
            number("hang timeout", hang_default),
        ) {
            (Ok(m), Ok(h)) => (m.clamp(1, u64::from(u32::MAX)) as u32, h),
            (Err(e), _) | (_, Err(e)) => {
                logged_bad(e.into());
                self.seen.insert(file.to_string());
                return None;
            }
        };
        Some(PluginSpec {
            name,
            path: path.to_path_buf(),
            update_every,
            options,
            max_errors,
            hang_timeout: (hang > 0).then(|| Duration::from_secs(hang)),
            hang_auto: lookup(&self.cfg, &section, "hang timeout").is_none(),
        })
    }

    fn launch(&mut self, spec: PluginSpec) {
        let host = Arc::clone(&self.host);
        let env = Arc::clone(&self.env);
        let stop_rx = self.stop_tx.subscribe();
        let name = spec.name.clone();
        match thread::Builder::new()
            .name(format!("PLUGINSD[{name}]"))
            .spawn(move || supervisor::supervise_thread(spec, host, env, stop_rx))
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

/// Resolves when the agent stops (or the discovery thread is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ignored = rx.wait_for(|s| *s).await;
}
