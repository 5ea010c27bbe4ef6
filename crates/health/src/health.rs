//! The health engine of an agent: the configuration shared by every host and each host's
//! [`HostHealth`], run by one thread over every host whose health is enabled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tributary_rrd::Host;

use crate::host_health::{HealthSettings, HostHealth};
use crate::loader::HealthConfig;
use crate::notify::Notification;

/// Every host's health, by machine GUID.
#[derive(Debug)]
pub struct Health {
    /// Agent-wide settings.
    pub settings: HealthSettings,
    config: RwLock<Arc<HealthConfig>>,
    hosts: Mutex<HashMap<String, Arc<Mutex<HostHealth>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Health {
    /// An engine with a loaded configuration.
    pub fn new(settings: HealthSettings, config: HealthConfig) -> Health {
        Health {
            settings,
            config: RwLock::new(Arc::new(config)),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// The current configuration.
    pub fn config(&self) -> Arc<HealthConfig> {
        Arc::clone(&self.config.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Replaces the configuration of every host (SIGUSR2).
    pub fn reload(&self, config: HealthConfig) {
        let config = Arc::new(config);
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::clone(&config);
        for h in lock(&self.hosts).values() {
            lock(h).set_config(&config);
        }
    }

    /// The health of a host (by GUID), if it has any.
    pub fn host(&self, guid: &str) -> Option<Arc<Mutex<HostHealth>>> {
        lock(&self.hosts).get(guid).cloned()
    }

    /// Starts health for a host (no-op when running); `postpone` seconds from `now`;
    /// `labels`: the host labels to match `host labels:` against (None: the received ones).
    pub fn enable(
        &self,
        host: &Arc<Host>,
        is_child: bool,
        now: i64,
        postpone: i64,
        labels: Option<Vec<(String, String)>>,
    ) {
        let mut hosts = lock(&self.hosts);
        if hosts.contains_key(host.machine_guid()) {
            return;
        }
        let config = self.config();
        let mut hh = HostHealth::new(Arc::clone(host), &config, &self.settings, is_child, now);
        hh.labels = labels;
        if postpone > 0 {
            log::info!(
                "HEALTH [{}]: Postponing health checks for {postpone} seconds, because it was just connected.",
                host.hostname()
            );
            hh.postponed_until = now + postpone;
        }
        hosts.insert(host.machine_guid().to_string(), Arc::new(Mutex::new(hh)));
    }

    /// Every host with health.
    pub fn hosts(&self) -> Vec<Arc<Mutex<HostHealth>>> {
        lock(&self.hosts).values().cloned().collect()
    }

    /// Runs one iteration on every host except those `frozen` says to skip (disconnected
    /// `auto` children: their alarms stay as they were); runs the notifications; returns the
    /// earliest time anything is due.
    pub fn run_once(&self, now: i64, frozen: &dyn Fn(&Host) -> bool) -> i64 {
        let mut wake = now + self.settings.run_at_least_every.max(1);
        for h in self.hosts() {
            let (notifications, next) = {
                let mut hh = lock(&h);
                if frozen(&hh.host) {
                    continue;
                }
                hh.run_once(&self.settings, now)
            };
            wake = wake.min(next);
            if !notifications.is_empty() {
                let codes = run_notifications(&notifications);
                let mut hh = lock(&h);
                for (n, code) in notifications.iter().zip(codes) {
                    hh.record_exec(n.unique_id, code);
                }
                hh.log.save();
            }
        }
        wake
    }
}

/// Runs notifications and waits for them all (netdata waits too); returns their exit codes.
pub fn run_notifications(list: &[Notification]) -> Vec<i32> {
    let children: Vec<_> = list
        .iter()
        .map(|n| {
            log::info!(
                "HEALTH: Sending notification for alarm '{}.{}' status {}.",
                n.args[7],
                n.args[6],
                n.args[9]
            );
            n.spawn()
        })
        .collect();
    children
        .into_iter()
        .zip(list)
        .map(|(c, n)| match c.and_then(|mut c| c.wait()) {
            Ok(status) => status.code().unwrap_or(-1),
            Err(e) => {
                log::error!("HEALTH: cannot run '{}': {e}", n.exec);
                -1
            }
        })
        .collect()
}
