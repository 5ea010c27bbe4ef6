//! The agent's side of health: `[health]` settings, loading health.d, the `HEALTH` thread
//! running every host whose health is enabled (localhost per `[health] enabled`, children per
//! stream.conf's `health enabled by default` / `health enabled`), SIGUSR2 reloads, and the
//! per-child "stopped streaming" alarm on the parent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tributary_collectors::heartbeat::Stop;
use tributary_config::values::Boolean;
use tributary_config::{Config, netdata_conf::lookup};
use tributary_health::config_file::Repeat;
use tributary_health::health::Health;
use tributary_health::host_health::{HealthSettings, now_s};
use tributary_health::loader::HealthConfig;
use tributary_rrd::Host;

use crate::daemon::AgentState;
use crate::settings::Settings;

/// netdata's default notification script.
pub const DEFAULT_SCRIPT: &str = "/usr/lib/netdata/plugins.d/alarm-notify.sh";

/// Where health.d files come from.
#[derive(Debug, Clone)]
pub struct HealthDirs {
    /// `[directories] health config`.
    pub user: PathBuf,
    /// `[directories] stock health config` (None: not read).
    pub stock: Option<PathBuf>,
    /// tributary's own entities (the per-child "stopped streaming" alarm).
    pub builtin: String,
}

impl HealthDirs {
    /// Loads the configuration and logs its problems.
    pub fn load(&self) -> HealthConfig {
        let mut cfg = HealthConfig::load(&self.user, self.stock.as_deref());
        let builtin = tributary_health::config_file::parse(
            &self.builtin,
            Path::new(crate::health_streaming::BUILTIN_SOURCE),
        );
        cfg.defs.extend(builtin.entities.into_iter().map(Arc::new));
        cfg.errors.extend(builtin.errors);
        cfg.log_problems();
        log::info!(
            "HEALTH: loaded {} alarms and templates from {} files ({} errors)",
            cfg.defs.len(),
            cfg.files.len(),
            cfg.errors.len()
        );
        cfg
    }
}

/// Per-child health state known to the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "web"), allow(dead_code))] // children stream in only with `web`
enum ChildHealth {
    /// Health runs while connected; `auto`: stops (alarms frozen) on disconnect.
    Running { auto: bool },
    /// `auto` child that disconnected: alarms frozen.
    Frozen,
}

/// The agent's health: the engine plus what it needs from the agent.
#[derive(Debug)]
pub struct AgentHealth {
    /// The engine.
    pub engine: Health,
    /// `[health] enabled` (localhost; default for children).
    pub enabled: bool,
    dirs: HealthDirs,
    children: Mutex<HashMap<String, ChildHealth>>,
    /// Children that were streaming: GUID → (hostname, connected now).
    streamed: Mutex<HashMap<String, (String, bool)>>,
}

fn str_or<'a>(cfg: &'a Config, section: &str, key: &str, default: &'a str) -> &'a str {
    lookup(cfg, section, key).map_or(default, |e| e.value())
}

fn duration_or(cfg: &Config, section: &str, key: &str, default: i64) -> i64 {
    lookup(cfg, section, key)
        .map(|e| {
            tributary_health::duration::parse(e.value()).unwrap_or_else(|| {
                log::error!(
                    "{}: [{section}] {key} = '{}' is not a duration; using {default}",
                    e.origin(),
                    e.value()
                );
                default
            })
        })
        .unwrap_or(default)
}

impl AgentHealth {
    /// Reads `[health]` and `[directories]`, loads health.d.
    pub fn new(cfg: &Config, settings: &Settings, lib_dir: &Path) -> AgentHealth {
        let enabled =
            crate::settings::bool_setting(cfg, "health", "enabled", true).unwrap_or_else(|e| {
                log::error!("{e}; health stays enabled");
                true
            });
        let user = PathBuf::from(str_or(
            cfg,
            "directories",
            "health config",
            &settings.config_dir.join("health.d").display().to_string(),
        ));
        let stock_enabled =
            crate::settings::bool_setting(cfg, "health", "enable stock health configuration", true)
                .unwrap_or(true);
        let stock = lookup(cfg, "directories", "stock health config")
            .map(|e| PathBuf::from(e.value()))
            .filter(|_| stock_enabled);
        let silent_after = duration_or(cfg, "health", "child stopped streaming after seconds", 30);
        let dirs = HealthDirs {
            user,
            stock,
            builtin: crate::health_streaming::builtin_config(&settings.hostname, silent_after),
        };
        let script =
            str_or(cfg, "health", "script to execute on alarm", DEFAULT_SCRIPT).to_string();
        let max_log = lookup(cfg, "health", "in memory max health log entries")
            .and_then(|e| e.as_u64().ok())
            .map_or(1000, |v| if v < 10 { 1000 } else { v as usize });
        let stock_config_dir = dirs.stock.as_deref().and_then(Path::parent).map_or_else(
            || PathBuf::from("/usr/lib/netdata/conf.d"),
            Path::to_path_buf,
        );
        let plugins_dir = Path::new(&script).parent().map_or_else(
            || PathBuf::from("/usr/lib/netdata/plugins.d"),
            Path::to_path_buf,
        );
        let env = vec![
            (
                "NETDATA_USER_CONFIG_DIR",
                settings.config_dir.display().to_string(),
            ),
            (
                "NETDATA_STOCK_CONFIG_DIR",
                stock_config_dir.display().to_string(),
            ),
            ("NETDATA_PLUGINS_DIR", plugins_dir.display().to_string()),
            ("NETDATA_LOG_DIR", settings.log_dir.display().to_string()),
            (
                "NETDATA_CACHE_DIR",
                settings.cache_dir.display().to_string(),
            ),
            ("NETDATA_LIB_DIR", lib_dir.display().to_string()),
            ("NETDATA_HOSTNAME", settings.hostname.clone()),
            ("NETDATA_REGISTRY_HOSTNAME", settings.hostname.clone()),
            (
                "NETDATA_REGISTRY_URL",
                format!("http://{}:{}", settings.hostname, settings.port),
            ),
            ("NETDATA_LISTEN_PORT", settings.port.to_string()),
            ("NETDATA_UPDATE_EVERY", settings.update_every.to_string()),
            ("NETDATA_VERSION", format!("v{}", env!("CARGO_PKG_VERSION"))),
            (
                "NETDATA_HOST_PREFIX",
                settings.host_prefix.display().to_string(),
            ),
            ("LC_ALL", "C".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let health_settings = HealthSettings {
            default_exec: script,
            default_repeat: Repeat {
                warning: duration_or(cfg, "health", "default repeat warning", 0),
                critical: duration_or(cfg, "health", "default repeat critical", 0),
            },
            run_at_least_every: duration_or(cfg, "health", "run at least every seconds", 10).max(1),
            max_log_entries: max_log,
            user_config_dir: settings.config_dir.clone(),
            log_dir: Some(lib_dir.join("health")),
            env,
        };
        let config = if enabled {
            dirs.load()
        } else {
            HealthConfig::default()
        };
        AgentHealth {
            engine: Health::new(health_settings, config),
            enabled,
            dirs,
            children: Mutex::new(HashMap::new()),
            streamed: Mutex::new(HashMap::new()),
        }
    }

    /// SIGUSR2: re-reads health.d and relinks every host.
    pub fn reload(&self) {
        log::info!("HEALTH: reloading health configuration");
        self.engine.reload(self.dirs.load());
    }

    /// A child connected with these stream.conf settings.
    #[cfg_attr(not(feature = "web"), allow(dead_code))] // the receiver's (feature `web`)
    pub fn child_connected(&self, host: &Arc<Host>, enabled: Boolean, postpone_secs: u64) {
        self.streamed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                host.machine_guid().to_string(),
                (host.hostname().to_string(), true),
            );
        if enabled == Boolean::No {
            return;
        }
        if host.memory_mode() == tributary_rrd::MemoryMode::None {
            log::info!(
                "HEALTH [{}]: no health for a host without a database (memory mode none)",
                host.hostname()
            );
            return;
        }
        let mut children = self.children.lock().unwrap_or_else(|p| p.into_inner());
        let was = children.insert(
            host.machine_guid().to_string(),
            ChildHealth::Running {
                auto: enabled == Boolean::Auto,
            },
        );
        drop(children);
        let postpone = i64::try_from(postpone_secs).unwrap_or(60);
        match self.engine.host(host.machine_guid()) {
            None => self.engine.enable(host, true, now_s(), postpone, None),
            Some(h) if was.is_some() => {
                let mut hh = h.lock().unwrap_or_else(|p| p.into_inner());
                hh.postponed_until = now_s() + postpone;
                log::info!(
                    "HEALTH [{}]: Postponing health checks for {postpone} seconds, because it was just connected.",
                    host.hostname()
                );
            }
            Some(_) => {}
        }
    }

    /// A child disconnected: `auto` children's alarms freeze in their last status.
    #[cfg_attr(not(feature = "web"), allow(dead_code))] // the receiver's (feature `web`)
    pub fn child_disconnected(&self, host: &Host) {
        if let Some(e) = self
            .streamed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(host.machine_guid())
        {
            e.1 = false;
        }
        let mut children = self.children.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = children.get_mut(host.machine_guid())
            && *c == (ChildHealth::Running { auto: true })
        {
            *c = ChildHealth::Frozen;
            log::info!("HEALTH [{}]: Health thread ended.", host.hostname());
        }
    }

    fn frozen(&self, host: &Host) -> bool {
        self.children
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(host.machine_guid())
            .is_some_and(|c| *c == ChildHealth::Frozen)
    }
}

/// Starts the `HEALTH` thread.
pub fn start(state: Arc<AgentState>, stop: Arc<Stop>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("HEALTH".into())
        .spawn(move || run(&state, &stop))
}

fn run(state: &AgentState, stop: &Stop) {
    let health = &state.health;
    let localhost_db = state.hosts.localhost().memory_mode() != tributary_rrd::MemoryMode::None;
    if health.enabled && !localhost_db {
        log::info!("HEALTH: no health for localhost: it keeps no database ([db] mode = none)");
    } else if health.enabled {
        let labels = crate::host_info::local_host_labels(state);
        health
            .engine
            .enable(state.hosts.localhost(), false, now_s(), 0, Some(labels));
    } else {
        log::info!("HEALTH: health is disabled for localhost ([health] enabled = no)");
    }
    while !stop.is_stopped() {
        let now = now_s();
        crate::health_streaming::update(state, now);
        let wake = health.engine.run_once(now, &|h| health.frozen(h));
        // sleep to the next due evaluation (at most `run at least every`), waking each 100 ms
        // to notice the stop signal
        let until = std::time::Instant::now()
            + Duration::from_millis(u64::try_from((wake - now).max(1) * 1000).unwrap_or(1000));
        while std::time::Instant::now() < until && !stop.is_stopped() {
            let left = until.saturating_duration_since(std::time::Instant::now());
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
        // wake at the start of the second, as netdata's loop does
        let sub = tributary_collectors::now_us().rem_euclid(1_000_000);
        if sub > 0 && !stop.is_stopped() {
            std::thread::sleep(Duration::from_micros(
                u64::try_from(1_000_000 - sub).unwrap_or(0).min(999_999),
            ));
        }
    }
}

/// The children that streamed into this agent: `(guid, hostname, connected)`.
pub fn streamed_children(state: &AgentState) -> Vec<(String, String, bool)> {
    let m = state
        .health
        .streamed
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let mut v: Vec<_> = m
        .iter()
        .map(|(g, (h, c))| (g.clone(), h.clone(), *c))
        .collect();
    v.sort();
    v
}
