//! A host: one machine whose metrics this agent keeps — localhost, or a child received over a
//! stream. Each host has its own memory mode and history (a parent needs that), its own
//! storage and, for `save`/`map`, its own directory `CACHE/MACHINE_GUID/`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::chart::{Chart, ChartLabel, CollectionObserver, ObserverSlot};
use crate::chart_file;
use crate::chart_store::ChartStore;
use crate::custom_vars::CustomVars;
use crate::memory_mode::MemoryMode;
use crate::model::ChartDef;

/// What a host is created with.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// The host's name (`[global] hostname` or the child's `hostname=`).
    pub hostname: String,
    /// Its machine GUID, kept across every hop of a stream.
    pub machine_guid: String,
    /// Where its samples live.
    pub memory_mode: MemoryMode,
    /// Samples per dimension requested (`history`); rounded as netdata does.
    pub history: i64,
    /// Directory of `save`/`map` files for this host (`CACHE/GUID`).
    pub cache_dir: Option<PathBuf>,
    /// Operating system name (`linux`).
    pub os: String,
    /// Time zone name.
    pub timezone: String,
}

/// A host and its charts.
#[derive(Debug)]
pub struct Host {
    config: HostConfig,
    charts: RwLock<ChartIndex>,
    observer: ObserverSlot,
    /// Host labels (LABEL lines / `_os_name` and friends).
    pub labels: RwLock<Vec<(String, String)>>,
    /// `memory mode = none` hosts that stream: seconds of samples kept per dimension so that
    /// a parent can replicate a short outage (0: no spool).
    spool_entries: AtomicUsize,
    /// Upper bound of the spool's sample bytes (checked when a chart is created).
    spool_bytes: AtomicUsize,
    spool_full_logged: AtomicBool,
    /// How complete this host's data is: what replication filled and what it could not.
    pub replication: Mutex<ReplicationStats>,
    /// Custom host variables (`VARIABLE HOST`), shared with the host's stream sender.
    pub vars: Arc<Mutex<CustomVars>>,
}

/// What replication did for a host received from a child (shown by the API so a user can see
/// that nothing was lost).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicationStats {
    /// Charts whose replication finished in the current (or last) connection.
    pub charts_finished: u64,
    /// Charts whose replication is in progress.
    pub charts_in_progress: u64,
    /// Points stored from replication replies, since the agent started.
    pub points_replayed: u64,
    /// Seconds of data stored from replication (points × update every), since start.
    pub seconds_replayed: u64,
    /// Points refused (future, not asked for, overlapping, misaligned), since start.
    pub points_refused: u64,
    /// The gap found at the last connection: from the newest stored point (or the start of
    /// `seconds to replicate`) to the child's newest point, largest over the charts.
    pub last_gap_from: i64,
    /// End of that gap.
    pub last_gap_to: i64,
    /// Seconds of that gap the child could not provide (it did not have them any more).
    pub last_gap_missing_seconds: u64,
    /// When the last connection's replication finished for every chart (0: not yet).
    pub finished_at: i64,
}

#[derive(Debug, Default)]
struct ChartIndex {
    list: Vec<Arc<Chart>>,
    by_id: HashMap<String, usize>,
}

impl Host {
    /// A host with no charts.
    pub fn new(config: HostConfig) -> Host {
        Host {
            config,
            charts: RwLock::new(ChartIndex::default()),
            observer: Arc::new(RwLock::new(None)),
            labels: RwLock::new(Vec::new()),
            spool_entries: AtomicUsize::new(0),
            spool_bytes: AtomicUsize::new(0),
            spool_full_logged: AtomicBool::new(false),
            replication: Mutex::new(ReplicationStats::default()),
            vars: Arc::new(Mutex::new(CustomVars::default())),
        }
    }

    /// Gives a `memory mode = none` host a spool: charts created from now on keep the last
    /// `entries` samples per dimension in memory (no page rounding), for replication only
    /// — a headless child streaming to a parent loses nothing in an outage shorter than
    /// that. `max_bytes` bounds the spool's samples: charts created once it is used up keep
    /// the minimum of 5. No effect on hosts that have a database.
    pub fn enable_spool(&self, entries: usize, max_bytes: usize) {
        if self.config.memory_mode == MemoryMode::None {
            self.spool_entries.store(entries, Ordering::Relaxed);
            self.spool_bytes.store(max_bytes, Ordering::Relaxed);
        }
    }

    /// Samples per dimension of the spool (0: none).
    pub fn spool_entries(&self) -> usize {
        self.spool_entries.load(Ordering::Relaxed)
    }

    /// Bytes of samples the spool holds now, counted uncompressed (4 bytes per ring position of
    /// every dimension): an upper bound of the compressed pages it really uses.
    fn spool_used_bytes(list: &[Arc<Chart>]) -> usize {
        list.iter()
            .map(|c| {
                let st = c.lock();
                st.dims().len() * st.clock().entries * 4
            })
            .sum()
    }

    /// Its name.
    pub fn hostname(&self) -> &str {
        &self.config.hostname
    }

    /// Its machine GUID.
    pub fn machine_guid(&self) -> &str {
        &self.config.machine_guid
    }

    /// Its memory mode.
    pub fn memory_mode(&self) -> MemoryMode {
        self.config.memory_mode
    }

    /// The configuration it was created with.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Ring length of its charts.
    pub fn entries(&self) -> usize {
        self.config
            .memory_mode
            .entries_for_history(self.config.history)
    }

    /// Finds the chart `def.id` and applies the definition, or creates it (restoring a
    /// `save`/`map` file when there is one).
    pub fn chart(&self, def: ChartDef, now_s: i64) -> Arc<Chart> {
        if let Some(c) = self.find_chart(&def.id) {
            c.lock().redefine(def);
            return c;
        }
        // Decided before taking the index lock: it locks charts.
        let spool_used = (self.config.memory_mode == MemoryMode::None && self.spool_entries() > 0)
            .then(|| Self::spool_used_bytes(&self.charts()));
        let mut idx = self.charts.write().unwrap_or_else(|p| p.into_inner());
        if let Some(&i) = idx.by_id.get(&def.id) {
            let c = Arc::clone(&idx.list[i]);
            drop(idx);
            c.lock().redefine(def);
            return c;
        }
        let mut entries = self.entries();
        let mut mode = self.config.memory_mode;
        if let Some(used) = spool_used {
            mode = MemoryMode::Ram;
            entries = self.spool_entries().max(5);
            let max = self.spool_bytes.load(Ordering::Relaxed);
            if used >= max {
                entries = 5;
                if !self.spool_full_logged.swap(true, Ordering::Relaxed) {
                    log::error!(
                        "host '{}': the replication spool holds {used} bytes ('spool bytes' = {max}); chart '{}' and later ones keep only 5 samples",
                        self.config.hostname,
                        def.id
                    );
                }
            }
        }
        let path = self
            .config
            .cache_dir
            .as_ref()
            .map(|d| d.join(chart_file::file_name_for(&def.id)))
            .filter(|_| mode == self.config.memory_mode);
        let (store, restored) = ChartStore::open(
            mode,
            path.as_deref(),
            entries,
            def.update_every.max(1),
            now_s,
            &mut |e, aside| {
                log::error!(
                    "host '{}': chart '{}': {e}; moved aside to {} and starting empty",
                    self.config.hostname,
                    def.id,
                    aside.display()
                );
            },
        );
        let labels = vec![
            ChartLabel {
                name: "_collect_plugin".into(),
                value: def.plugin.clone(),
                source: 1,
            },
            ChartLabel {
                name: "_collect_module".into(),
                value: if def.module.is_empty() {
                    "[none]".into()
                } else {
                    def.module.clone()
                },
                source: 1,
            },
        ];
        let chart = Arc::new(Chart::new(
            def,
            entries,
            store,
            restored,
            Arc::clone(&self.observer),
        ));
        chart.lock().labels = labels;
        let at = idx.list.len();
        idx.by_id.insert(chart.id().to_string(), at);
        idx.list.push(Arc::clone(&chart));
        chart
    }

    /// Installs (or with None removes) the observer of every collection of this host's charts.
    pub fn set_observer(&self, observer: Option<Arc<dyn CollectionObserver>>) {
        *self.observer.write().unwrap_or_else(|p| p.into_inner()) = observer;
    }

    /// The chart with this id.
    pub fn find_chart(&self, id: &str) -> Option<Arc<Chart>> {
        let idx = self.charts.read().unwrap_or_else(|p| p.into_inner());
        idx.by_id.get(id).map(|&i| Arc::clone(&idx.list[i]))
    }

    /// The chart with this id, or else with this name (as netdata's API looks charts up).
    pub fn find_chart_by_id_or_name(&self, key: &str) -> Option<Arc<Chart>> {
        self.find_chart(key)
            .or_else(|| self.charts().into_iter().find(|c| c.lock().def.name == key))
    }

    /// How many charts it has.
    pub fn chart_count(&self) -> usize {
        self.charts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .list
            .len()
    }

    /// Every chart, in creation order.
    pub fn charts(&self) -> Vec<Arc<Chart>> {
        self.charts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .list
            .clone()
    }

    /// Heap bytes holding this host's stored samples (`ram`/`save`: open and sealed pages).
    pub fn sample_bytes(&self) -> usize {
        self.charts().iter().map(|c| c.lock().sample_bytes()).sum()
    }

    /// Writes every chart of a `save` host (flushes a `map` host); errors are logged.
    pub fn save(&self) -> usize {
        let mut saved = 0;
        for c in self.charts() {
            match c.lock().save() {
                Ok(()) => saved += 1,
                Err(e) => log::error!(
                    "host '{}': cannot save chart '{}': {e}",
                    self.hostname(),
                    c.id()
                ),
            }
        }
        saved
    }
}

/// Every host this agent keeps, localhost first.
#[derive(Debug)]
pub struct Hosts {
    localhost: Arc<Host>,
    others: RwLock<Vec<Arc<Host>>>,
}

impl Hosts {
    /// The set of hosts of an agent.
    pub fn new(localhost: Arc<Host>) -> Hosts {
        Hosts {
            localhost,
            others: RwLock::new(Vec::new()),
        }
    }

    /// This agent's own host.
    pub fn localhost(&self) -> &Arc<Host> {
        &self.localhost
    }

    /// Every host, localhost first.
    pub fn all(&self) -> Vec<Arc<Host>> {
        let mut v = vec![Arc::clone(&self.localhost)];
        v.extend(
            self.others
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .cloned(),
        );
        v
    }

    /// The host with this hostname or machine GUID.
    pub fn find(&self, key: &str) -> Option<Arc<Host>> {
        self.all()
            .into_iter()
            .find(|h| h.hostname() == key || h.machine_guid() == key)
    }

    /// Adds a host (a child received over a stream), or returns the one with its GUID.
    pub fn add(&self, config: HostConfig) -> Arc<Host> {
        let mut others = self.others.write().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = others
            .iter()
            .find(|h| h.machine_guid() == config.machine_guid)
        {
            return Arc::clone(h);
        }
        let h = Arc::new(Host::new(config));
        others.push(Arc::clone(&h));
        h
    }

    /// Saves every host's database.
    pub fn save_all(&self) -> usize {
        self.all().iter().map(|h| h.save()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DimDef;

    fn config(name: &str, mode: MemoryMode, history: i64) -> HostConfig {
        HostConfig {
            hostname: name.into(),
            machine_guid: format!("00000000-0000-0000-0000-00000000000{}", name.len()),
            memory_mode: mode,
            history,
            cache_dir: None,
            os: "linux".into(),
            timezone: "UTC".into(),
        }
    }

    #[test]
    fn hosts_keep_their_own_mode_and_history() {
        let hosts = Hosts::new(Arc::new(Host::new(config("local", MemoryMode::Ram, 3600))));
        let child = hosts.add(config("child1", MemoryMode::None, 3600));
        let other = hosts.add(config("child22", MemoryMode::Ram, 86400));
        assert_eq!(hosts.localhost().entries(), 4096);
        assert_eq!(other.entries(), 86400 + 1024 - 86400 % 1024);
        let def = ChartDef {
            id: "a.b".into(),
            update_every: 1,
            ..ChartDef::default()
        };
        for h in [hosts.localhost(), &child, &other] {
            let c = h.chart(def.clone(), 0);
            let mut st = c.lock();
            let d = st.dimension(DimDef::new("x")).unwrap();
            for k in 0..5i64 {
                st.begin(1_000_000_000_000 + k * 1_000_000, 1_000_000);
                st.set(d, 7, 1_000_000_000_000 + k * 1_000_000);
                st.done(1_000_000_000_000 + k * 1_000_000);
            }
        }
        let stored = |h: &Host| {
            let c = h.find_chart("a.b").unwrap();
            let st = c.lock();
            st.value_at(0, st.last_entry_t())
        };
        assert_eq!(stored(hosts.localhost()), Some(7.0));
        assert_eq!(stored(&child), None, "memory mode none stores nothing");
        assert_eq!(stored(&other), Some(7.0));
        assert!(Arc::ptr_eq(&hosts.find("child1").unwrap(), &child));
        assert_eq!(hosts.all().len(), 3);
        let c = hosts.localhost().find_chart("a.b").unwrap();
        let labels = &c.lock().labels;
        assert!(
            labels
                .iter()
                .any(|l| l.name == "_collect_module" && l.value == "[none]")
        );
    }
}
