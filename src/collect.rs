//! Runs the internal collectors: netdata's proc.plugin modules and diskspace.plugin on one
//! thread, ticking on wall-clock multiples of `update every` (netdata's heartbeat), each module
//! switchable with `[plugins] proc|diskspace = yes|no` and `[plugin:proc] MODULE = yes|no`.
//! A module that fails is disabled with one log line; the others go on. External `*.plugin`
//! programs are started from here too (`crate::plugins`).

use std::sync::Arc;
use std::thread::{self, JoinHandle};

use anyhow::Context;
use tributary_collectors::heartbeat::Stop;
use tributary_collectors::{Collector, all_collectors, collect_all_once};
use tributary_config::Config;
use tributary_rrd::Host;

use crate::daemon::now_us;
use crate::settings::{Settings, bool_setting};

/// The `[plugins]` key that switches a collector module.
fn plugin_of(module: &str) -> &'static str {
    if module == "diskspace" {
        "diskspace"
    } else {
        "proc"
    }
}

/// Selects the enabled modules.
fn enabled(
    cfg: &Config,
    modules: Vec<Box<dyn Collector>>,
) -> anyhow::Result<Vec<Box<dyn Collector>>> {
    let mut out = Vec::new();
    for m in modules {
        let plugin = plugin_of(m.name());
        if !bool_setting(cfg, "plugins", plugin, true)? {
            continue;
        }
        let section = if plugin == "proc" {
            "plugin:proc".to_string()
        } else {
            format!("plugin:{plugin}")
        };
        if plugin == "proc" && !bool_setting(cfg, &section, m.name(), true)? {
            log::info!(
                "PLUGIN[proc]: module '{}' disabled by configuration",
                m.name()
            );
            continue;
        }
        out.push(m);
    }
    Ok(out)
}

/// Starts the collector threads; they stop when `stop` is set.
pub fn start(
    cfg: &Config,
    settings: &Settings,
    host: Arc<Host>,
    stop: Arc<Stop>,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let every = settings.update_every;
    let mut modules = enabled(cfg, all_collectors(&settings.host_prefix, every))?;
    let mut threads = Vec::new();
    if !modules.is_empty() {
        log::info!(
            "PLUGIN[proc]: {} collector modules enabled, update every {every} s",
            modules.len()
        );
        let host = Arc::clone(&host);
        let stop = Arc::clone(&stop);
        threads.push(
            thread::Builder::new()
                .name("PLUGIN[proc]".into())
                .spawn(move || {
                    while stop.wait_for_next_tick(every) {
                        collect_all_once(&mut modules, &host, now_us());
                        if modules.is_empty() {
                            log::error!(
                                "PLUGIN[proc]: every collector module failed; the thread stops"
                            );
                            break;
                        }
                    }
                })
                .context("cannot start the collectors thread")?,
        );
    }
    if bool_setting(cfg, "plugins", "idlejitter", true)? {
        let loop_ms = match tributary_config::netdata_conf::lookup(
            cfg,
            "plugin:idlejitter",
            "loop time in ms",
        ) {
            None => 20,
            Some(e) => e.as_u64()?.clamp(1, 1000),
        };
        let jitter = tributary_collectors::idlejitter::IdleJitter::new(every, loop_ms);
        threads.push(
            jitter
                .spawn(Arc::clone(&host), stop.flag())
                .context("cannot start the idlejitter thread")?,
        );
    }
    if let Some(runner) = crate::plugins::start(cfg, settings, host, stop)? {
        threads.push(runner);
    }
    Ok(threads)
}
