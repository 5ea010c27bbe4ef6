//! A chart: its definition, its dimensions, its collection clock and its sample store, behind
//! one lock. Collectors, plugins and stream receivers write through [`Chart::lock`]:
//! `begin → set… → done`, exactly netdata's `rrdset_next → rrddim_set… → rrdset_done`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::chart_file::ChartFileError;
use crate::chart_store::ChartStore;
use crate::collection::{self, ChartClock, DimState, DoneReport, ReplayRefusal};
use crate::custom_vars::CustomVars;
use crate::model::{ChartDef, DimDef};
use crate::storage_number::{StorageNumber, unpack};

/// A label attached to a chart (CLABEL) with its source bits as netdata sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartLabel {
    /// Label name.
    pub name: String,
    /// Label value.
    pub value: String,
    /// netdata's label source (1 auto, 2 config, 4 k8s, ...).
    pub source: u32,
}

/// Told about every finished collection of every chart of a host (the stream sender uses it
/// to forward collected values). Called with the chart locked: keep it short, never block.
pub trait CollectionObserver: Send + Sync + std::fmt::Debug {
    /// `chart` just finished a collection: its dimensions with `in_last_collection` carry the
    /// collected values in `last_collected`; `duration_us` is the collection's interval.
    fn collected(&self, chart: &ChartState, duration_us: i64);
}

/// The observer slot a host shares with its charts.
pub type ObserverSlot = Arc<RwLock<Option<Arc<dyn CollectionObserver>>>>;

/// A chart of a host.
#[derive(Debug)]
pub struct Chart {
    id: String,
    inner: Mutex<ChartState>,
}

/// Everything about a chart that changes; reached through [`Chart::lock`].
#[derive(Debug)]
pub struct ChartState {
    /// The chart's definition (updated by re-definitions).
    pub def: ChartDef,
    /// Chart labels.
    pub labels: Vec<ChartLabel>,
    dims: Vec<DimState>,
    index: HashMap<String, usize>,
    clock: ChartClock,
    store: ChartStore,
    /// Bumped whenever the definition or the set of dimensions changes (streaming resends).
    pub version: u64,
    /// Wall-clock time of the last completed collection, µs.
    pub last_done_us: i64,
    observer: ObserverSlot,
    /// Ring position of the replicated point in progress.
    replay_entry: Option<usize>,
    /// Custom chart variables (`VARIABLE CHART`).
    pub vars: CustomVars,
    /// The receiver's wall clock (µs) at the chart's last `BEGIN` or first `CHART` from a
    /// stream or plugin (0: never): what a declared collection interval is checked against.
    pub last_begin_received_us: i64,
    /// The first entry the chart's sender (a child) advertised in `CHART_DEFINITION_END`
    /// (0: none): how far back a proxy without a database can have the chart replicated.
    pub sender_first_entry_t: i64,
}

impl Chart {
    /// A chart with its store; `restored` carries the state found in a save/map file.
    pub fn new(
        def: ChartDef,
        entries: usize,
        store: ChartStore,
        restored: Option<crate::chart_store::Restored>,
        observer: ObserverSlot,
    ) -> Chart {
        let stores = !matches!(store, ChartStore::None);
        let mut clock = ChartClock::new(
            i64::from(def.update_every.max(1)),
            entries,
            def.store_first,
            stores,
        );
        if let Some(r) = restored {
            clock.current_entry = r.header.current_entry as usize;
            clock.counter = r.header.counter;
            clock.slots_total = r.header.counter;
            clock.last_updated = r.header.last_updated;
            clock.usec_since_last_update = r.header.usec_since_last_update;
        }
        Chart {
            id: def.id.clone(),
            inner: Mutex::new(ChartState {
                def,
                labels: Vec::new(),
                dims: Vec::new(),
                index: HashMap::new(),
                clock,
                store,
                version: 1,
                last_done_us: 0,
                observer,
                replay_entry: None,
                vars: CustomVars::default(),
                last_begin_received_us: 0,
                sender_first_entry_t: 0,
            }),
        }
    }

    /// `type.id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Locks the chart for collection or for reading.
    pub fn lock(&self) -> MutexGuard<'_, ChartState> {
        // A panic while holding a chart lock is a bug in tributary; the state is still
        // consistent enough to keep serving, so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ChartState {
    /// Updates the definition from a repeated CHART line; the next collection resyncs its clock
    /// as netdata does.
    pub fn redefine(&mut self, def: ChartDef) {
        if def != self.def {
            self.def.name = def.name;
            self.def.title = def.title;
            self.def.units = def.units;
            self.def.family = def.family;
            self.def.context = def.context;
            self.def.chart_type = def.chart_type;
            self.def.priority = def.priority;
            self.def.plugin = def.plugin;
            self.def.module = def.module;
            self.def.hidden = def.hidden;
            self.def.obsolete = def.obsolete;
            self.def.detail = def.detail;
            self.version += 1;
        }
        self.clock.sync_clock = true;
    }

    /// Adds a dimension, or updates the one with the same id; returns its index.
    pub fn dimension(&mut self, def: DimDef) -> Result<usize, ChartFileError> {
        if let Some(&i) = self.index.get(def.id.as_str()) {
            if self.dims[i].def != def {
                self.dims[i].def = def;
                self.version += 1;
            }
            return Ok(i);
        }
        let slot = self.store.add_dim(&def.id)?;
        let mut d = DimState::new(def, slot.slot, self.def.store_first);
        match slot.restored {
            Some((lcv, max)) => collection::restore_dim(&mut d, lcv, max),
            None => d.born_total = self.clock.slots_total,
        }
        self.index.insert(d.def.id.clone(), self.dims.len());
        self.dims.push(d);
        self.version += 1;
        Ok(self.dims.len() - 1)
    }

    /// Index of dimension `id`.
    pub fn dim_index(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The dimensions, in creation order.
    pub fn dims(&self) -> &[DimState] {
        &self.dims
    }

    /// Starts a collection (BEGIN); `duration_us` = 0 measures it with the clock.
    pub fn begin(&mut self, now_us: i64, duration_us: u64) {
        self.clock.begin(now_us, duration_us);
    }

    /// Records a collected value (SET).
    #[inline]
    pub fn set(&mut self, dim: usize, value: i64, now_us: i64) {
        if let Some(d) = self.dims.get_mut(dim) {
            collection::set_collected(d, value, now_us);
        }
    }

    /// Finishes the collection (END): computes and stores the values.
    pub fn done(&mut self, now_us: i64) -> DoneReport {
        let r = self.clock.done(now_us, &mut self.dims, &mut self.store);
        if let Some(usec) = r.took_too_long {
            log::info!(
                "chart '{}': took too long to be updated ({usec} usec, more than its {} entries). Resetting it.",
                self.def.id,
                self.clock.entries
            );
        }
        if r.too_old {
            log::info!(
                "chart '{}': too old data (last updated long ago). Resetting it.",
                self.def.id
            );
        }
        self.store.after_done(&self.clock, &self.dims);
        self.last_done_us = now_us;
        let observer = self
            .observer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(o) = observer {
            o.collected(self, self.clock.usec_since_last_update);
        }
        r
    }

    /// Starts a replicated point at slot time `end_t` (`RBEGIN '' start end`): the slot is
    /// appended after the newest one (see [`ChartClock::replay_slot`]); the values follow
    /// with [`ChartState::replay_set`].
    pub fn replay_point(&mut self, end_t: i64) -> Result<(), ReplayRefusal> {
        self.replay_entry = None;
        let entry = self.clock.replay_slot(end_t, &self.dims, &mut self.store)?;
        self.replay_entry = Some(entry);
        Ok(())
    }

    /// A replicated stored value of dimension `dim` for the point in progress (`RSET`).
    /// Ignored without a point in progress.
    pub fn replay_set(&mut self, dim: usize, value: f64, reset: bool) {
        if let (Some(entry), Some(d)) = (self.replay_entry, self.dims.get(dim)) {
            self.clock
                .replay_write(d, entry, value, reset, &mut self.store);
        }
    }

    /// The sender's dimension state after replication (`RDSTATE`).
    pub fn replay_dim_state(
        &mut self,
        dim: usize,
        last_collected_us: i64,
        last_collected: i64,
        last_calculated: f64,
    ) {
        if let Some(d) = self.dims.get_mut(dim) {
            collection::replay_dim_state(d, last_collected_us, last_collected, last_calculated);
        }
    }

    /// The sender's chart state after replication (`RSSTATE`).
    pub fn replay_chart_state(&mut self, last_collected_us: i64) {
        self.clock.replay_state(last_collected_us);
    }

    /// Ends a replication reply (`REND`): the store's header is brought up to date (`map`).
    pub fn replay_done(&mut self) {
        self.replay_entry = None;
        self.store.after_done(&self.clock, &self.dims);
    }

    /// Writes the chart to disk (`save`) or flushes its map (`map`).
    pub fn save(&mut self) -> Result<(), ChartFileError> {
        self.store.save(&self.clock, &self.dims)
    }

    /// The collection clock (ring position, last update, ...).
    pub fn clock(&self) -> &ChartClock {
        &self.clock
    }

    /// Seconds between collections.
    pub fn update_every(&self) -> i64 {
        self.clock.update_every
    }

    /// Time of the newest stored slot (0: none).
    pub fn last_entry_t(&self) -> i64 {
        self.clock.last_entry_t()
    }

    /// Time before the oldest stored slot, as netdata reports `first_entry` (0: none).
    pub fn first_entry_t(&self) -> i64 {
        self.clock.first_entry_t()
    }

    /// The raw sample of dimension `dim` at slot time `t`, if stored.
    pub fn sample_at(&self, dim: usize, t: i64) -> Option<StorageNumber> {
        let d = self.dims.get(dim)?;
        let entry = self.clock.entry_of(d, t)?;
        Some(self.store.read(d.slot, entry))
    }

    /// A sequential reader of dimension `dim` (the same answers as [`ChartState::sample_at`],
    /// without the divisions for consecutive slot times).
    pub fn cursor(&self, dim: usize) -> crate::cursor::SampleCursor<'_> {
        crate::cursor::SampleCursor::new(self, dim)
    }

    /// The raw sample at ring position `entry` of dimension `dim` (`dim` must exist), sealed
    /// pages decoded through a sequential reader's `cache`.
    #[inline]
    pub(crate) fn read_entry_cached(
        &self,
        dim: usize,
        entry: usize,
        cache: &mut crate::paged_ring::PageCache,
    ) -> StorageNumber {
        self.store.read_cached(self.dims[dim].slot, entry, cache)
    }

    /// Heap bytes of this chart's stored samples (`ram`/`save`).
    pub fn sample_bytes(&self) -> usize {
        self.store.sample_bytes()
    }

    /// Bytes of this chart's sealed (compressed) pages and the samples in them.
    pub fn sealed_samples(&self) -> (usize, usize) {
        self.store.sealed()
    }

    /// The value of dimension `dim` at slot time `t`: `None` outside the stored window, NaN for
    /// an empty slot.
    pub fn value_at(&self, dim: usize, t: i64) -> Option<f64> {
        self.sample_at(dim, t).map(unpack)
    }
}
