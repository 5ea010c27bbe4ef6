//! Starts the exporting engine: one `EXPORTING[NAME]` thread per enabled instance of
//! exporting.conf and of netdata.conf's legacy `[backend]`, each exporting every host this
//! agent keeps a database for (`crates/exporting`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use tributary_config::Config;
use tributary_exporting::InstanceConfig;
use tributary_exporting::delivery::{HostSource, HostsFn, Worker, WorkerEnv, now_s};
use tributary_rrd::MemoryMode;

use crate::daemon::AgentState;

/// The running exporters.
#[derive(Debug, Default)]
pub struct Exporters {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Exporters {
    /// Stops every worker and waits for it (each notices within a quarter of a second, or after
    /// the send in progress times out).
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _joined = t.join();
        }
    }
}

/// netdata.conf `[host labels]`, with the value changes netdata makes when storing them (seen
/// in the captures: `lab one;x~y` is stored as `lab one:x_y`).
fn configured_host_labels(netdata_conf: &Config) -> Vec<(String, String)> {
    let Some(section) = netdata_conf.section("host labels") else {
        return Vec::new();
    };
    section
        .entries()
        .iter()
        .map(|e| {
            e.mark_used();
            let v: String = e
                .value()
                .chars()
                .map(|c| match c {
                    ';' => ':',
                    '~' => '_',
                    c => c,
                })
                .collect();
            (e.key().to_string(), v)
        })
        .collect()
}

/// Every instance configured: `[backend]` of netdata.conf, then exporting.conf's.
fn instances(netdata_conf: &Config, config_dir: &Path, hostname: &str) -> Vec<InstanceConfig> {
    let mut out = Vec::new();
    match tributary_exporting::config::from_backend_section(netdata_conf, hostname) {
        Ok(Some(b)) => out.push(b),
        Ok(None) => {}
        Err(p) => log::error!("EXPORTING: netdata.conf: {}", p.0),
    }
    let path = config_dir.join("exporting.conf");
    match Config::load(&path) {
        Ok(cfg) => {
            let (list, problems) = tributary_exporting::config::from_exporting_conf(&cfg, hostname);
            for p in problems {
                log::error!("EXPORTING: {}: {}", path.display(), p.0);
            }
            for i in list {
                if out.iter().any(|o: &InstanceConfig| o.name == i.name) {
                    log::error!(
                        "EXPORTING: {}: Instance ({}) already exists (netdata.conf [backend])",
                        path.display(),
                        i.name
                    );
                    continue;
                }
                out.push(i);
            }
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => log::error!("EXPORTING: {e}"),
    }
    out
}

/// Starts the enabled instances. A node whose own database is `memory mode = none` exports
/// nothing (said once).
pub fn start(
    netdata_conf: &Config,
    config_dir: &Path,
    lib_dir: &Path,
    state: &Arc<AgentState>,
) -> Exporters {
    let localhost = Arc::clone(state.hosts.localhost());
    let all = instances(netdata_conf, config_dir, localhost.hostname());
    let enabled: Vec<InstanceConfig> = all.into_iter().filter(|i| i.enabled).collect();
    let mut exporters = Exporters::default();
    if enabled.is_empty() {
        log::info!("EXPORTING: no exporting connectors configured");
        return exporters;
    }
    if localhost.memory_mode() == MemoryMode::None {
        log::error!(
            "EXPORTING: memory mode is none: this node keeps no database, so its {} exporting instance(s) are not started",
            enabled.len()
        );
        return exporters;
    }
    let state_dir = lib_dir.join("exporting");
    let state_dir = match std::fs::create_dir_all(&state_dir) {
        Ok(()) => Some(state_dir),
        Err(e) => {
            log::error!(
                "EXPORTING: cannot create {}: {e}; progress is not kept across restarts",
                state_dir.display()
            );
            None
        }
    };
    let configured = configured_host_labels(netdata_conf);
    let shared = Arc::clone(state);
    let hosts: HostsFn = Arc::new(move || {
        let local = Arc::clone(shared.hosts.localhost());
        shared
            .hosts
            .all()
            .into_iter()
            .map(|h| {
                let is_localhost = Arc::ptr_eq(&h, &local);
                let labels = if is_localhost {
                    let mut l = configured.clone();
                    for kv in crate::host_info::local_host_labels(&shared) {
                        if !l.iter().any(|(k, _)| *k == kv.0) {
                            l.push(kv);
                        }
                    }
                    l
                } else {
                    h.labels.read().unwrap_or_else(|p| p.into_inner()).clone()
                };
                HostSource {
                    host: h,
                    is_localhost,
                    labels,
                    tags: String::new(),
                    program_name: "netdata".into(),
                    program_version: crate::host_info::netdata_version(),
                }
            })
            .collect()
    });
    let start = now_s();
    for cfg in enabled {
        if cfg.tls {
            log::error!(
                "EXPORTING: instance {}: TLS (:https) is not supported by this build: instance not started",
                cfg.name
            );
            continue;
        }
        let env = WorkerEnv {
            hosts: Arc::clone(&hosts),
            db_update_every: i64::from(state.update_every.max(1)),
            state_dir: state_dir.clone(),
            stop: Arc::clone(&exporters.stop),
            localhost: Some(Arc::clone(&localhost)),
        };
        if cfg.data_source != tributary_exporting::DataSource::AsCollected
            && cfg.update_every % env.db_update_every != 0
        {
            log::info!(
                "EXPORTING: instance {}: update every {} is not a multiple of the database's {}",
                cfg.name,
                cfg.update_every,
                env.db_update_every
            );
        }
        let name = cfg.name.clone();
        let worker = Worker::new(cfg, env, start);
        match std::thread::Builder::new()
            .name(format!("EXPORTING[{name}]"))
            .spawn(move || worker.run())
        {
            Ok(t) => exporters.threads.push(t),
            Err(e) => log::error!("EXPORTING: instance {name}: cannot start its thread: {e}"),
        }
    }
    exporters
}
