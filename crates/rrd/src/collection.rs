//! The collection math of netdata 1.37.1: from collected integers to stored samples.
//!
//! This is `rrdset_timed_next()`, `rrdset_done()` and `rrdset_done_interpolate()` of
//! database/rrdset.c, written from spec/collection-math.md (which was confirmed value by value
//! against the real binary). The golden test in `tests/collection_math.rs` replays netdata's own
//! captured sequences through this code and compares every stored slot.
//!
//! Times are integer microseconds since the epoch (`now_us`), slot times whole seconds.

use crate::model::{Algorithm, DimDef};
use crate::storage_number::{SN_DEFAULT_FLAGS, SN_EMPTY_SLOT, SN_FLAG_RESET, StorageNumber, pack};

const USEC: i64 = 1_000_000;
/// `MAX_INCREMENTAL_PERCENT_RATE`: a counter drop is a wrap if the implied delta is below this
/// percentage of the counter's range, else a reset.
const MAX_INCREMENTAL_PERCENT_RATE: u64 = 10;
/// `gap when lost iterations above` (1) + 2: a collection crossing this many slot boundaries
/// leaves the first ones empty.
const GAP_ITERATIONS: i64 = 3;

/// Where a chart's samples go. Implemented by the memory-mode stores.
///
/// Stores are never wiped: a chart reset restarts `counter`, which alone bounds the readable
/// window, and a dimension added to a running chart remembers when it was born (its older ring
/// positions read as empty). So fresh rings are never written in full, and the kernel commits
/// their pages only as samples arrive.
pub trait SlotWriter {
    /// Writes sample `value` of the dimension stored in `slot` at ring position `entry`.
    fn write(&mut self, slot: usize, entry: usize, value: StorageNumber);
}

/// A dimension's collection state (`RRDDIM` fields used by `rrdset_done`).
#[derive(Debug, Clone)]
pub struct DimState {
    /// The dimension's definition.
    pub def: DimDef,
    /// Index of this dimension's ring in the chart's store.
    pub slot: usize,
    /// Collected in this iteration.
    pub collected: i64,
    /// Collected in the previous iteration.
    pub last_collected: i64,
    calculated: f64,
    last_calculated: f64,
    collections: u64,
    updated: bool,
    collected_max: u64,
    /// Wall-clock time of the last SET, µs (0: never).
    pub last_collected_us: i64,
    /// The chart's `slots_total` when this dimension was added: older slots are not its own.
    pub born_total: u64,
    /// SET in the collection that the last `done` finished (its value: `last_collected`).
    pub in_last_collection: bool,
}

impl DimState {
    /// A fresh dimension; with `store_first` charts its first collection already counts.
    pub fn new(def: DimDef, slot: usize, store_first: bool) -> DimState {
        DimState {
            def,
            slot,
            collected: 0,
            last_collected: 0,
            calculated: 0.0,
            last_calculated: 0.0,
            collections: u64::from(store_first),
            updated: false,
            collected_max: 0,
            last_collected_us: 0,
            born_total: 0,
            in_last_collection: false,
        }
    }

    /// True when the dimension was SET in the collection in progress.
    pub fn updated(&self) -> bool {
        self.updated
    }

    /// The last calculated value (for incremental dimensions: the part of the last delta not
    /// yet stored), as the sender reports it at the end of a replication.
    pub fn last_calculated(&self) -> f64 {
        self.last_calculated
    }
}

/// A chart's collection state (`RRDSET` fields used by `rrdset_done`).
#[derive(Debug, Clone)]
pub struct ChartClock {
    /// Seconds between collections.
    pub update_every: i64,
    /// Ring length.
    pub entries: usize,
    /// `last_collected_time` in µs (0: none yet).
    pub last_collected_us: i64,
    /// `last_updated`: time of the newest slot, seconds (0: none yet).
    pub last_updated: i64,
    /// `usec_since_last_update`.
    pub usec_since_last_update: i64,
    /// Slots written since the last reset, empty ones included.
    pub counter: u64,
    /// Slots written since the chart was created or loaded (never reset).
    pub slots_total: u64,
    /// Collections done since the last reset.
    pub counter_done: u64,
    /// Ring position of the next slot to write.
    pub current_entry: usize,
    /// Set at creation and at every re-definition: the next duration comes from the real clock.
    pub sync_clock: bool,
    /// CHART option `store_first`.
    pub store_first: bool,
    /// Whether slots are written at all (`memory mode = none` keeps none).
    pub stores: bool,
}

/// What a `done()` call did, for the caller's logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DoneReport {
    /// The chart was reset because the declared duration exceeded the ring.
    pub took_too_long: Option<i64>,
    /// The chart was reset because its last slot is older than the ring.
    pub too_old: bool,
    /// Slots written by this collection.
    pub slots_written: u32,
}

impl ChartClock {
    /// The clock of a new chart.
    pub fn new(update_every: i64, entries: usize, store_first: bool, stores: bool) -> ChartClock {
        ChartClock {
            update_every: update_every.max(1),
            entries: entries.max(1),
            last_collected_us: 0,
            last_updated: 0,
            usec_since_last_update: 0,
            counter: 0,
            slots_total: 0,
            counter_done: 0,
            current_entry: 0,
            sync_clock: true,
            store_first,
            stores,
        }
    }

    fn ue_us(&self) -> i64 {
        self.update_every * USEC
    }

    /// Aligns a collection time to the chart's phase: the second floored to a multiple of
    /// `update_every`, plus half a second (`store_first`: plus nothing).
    fn align_collected(&self, t_us: i64) -> i64 {
        let mut sec = t_us.div_euclid(USEC);
        sec -= sec.rem_euclid(self.update_every);
        sec * USEC + if self.store_first { 0 } else { USEC / 2 }
    }

    fn init_last_updated(&mut self) {
        let mut sec = self.last_collected_us.div_euclid(USEC);
        if self.store_first {
            sec -= self.update_every;
        }
        self.last_updated = sec - sec.rem_euclid(self.update_every);
    }

    /// `rrdset_timed_next(now, duration)`.
    fn timed_next(&mut self, now_us: i64, mut d: i64) {
        if self.sync_clock {
            self.sync_clock = false;
            d = 0;
        }
        if self.last_collected_us == 0 {
            d = self.ue_us();
        } else if d == 0 {
            d = (now_us - self.last_collected_us).abs();
        } else {
            let since = now_us - self.last_collected_us;
            if since < 0 {
                self.last_collected_us = self.align_collected(now_us - self.ue_us());
                let sec = now_us.div_euclid(USEC) - self.update_every;
                self.last_updated = sec - sec.rem_euclid(self.update_every);
                d = self.ue_us();
            } else if since > 5 * self.ue_us() {
                d = since;
            }
        }
        self.usec_since_last_update = d;
    }

    /// BEGIN: starts a collection at `now_us`. `duration_us` is the duration the collector
    /// declares since its previous collection (0: measure it with the real clock). Declared
    /// durations are trusted, as netdata's stream receiver and plugins.d do.
    pub fn begin(&mut self, now_us: i64, duration_us: u64) {
        if self.counter_done == 0 {
            return;
        }
        let d = i64::try_from(duration_us).unwrap_or(i64::MAX);
        if d != 0 {
            if self.last_collected_us == 0 || self.sync_clock {
                self.timed_next(now_us, d);
            } else {
                self.usec_since_last_update = d;
            }
        } else {
            self.timed_next(now_us, 0);
        }
    }

    /// `rrdset_reset`. netdata also wipes the ring; here `counter = 0` empties the readable
    /// window, which is all a wipe can be observed through.
    fn reset(&mut self, dims: &mut [DimState]) {
        self.last_collected_us = 0;
        self.last_updated = 0;
        self.current_entry = 0;
        self.counter = 0;
        self.counter_done = 0;
        for d in dims.iter_mut() {
            d.collections = 0;
            d.last_collected_us = 0;
        }
    }

    /// A chart loaded from disk: fills the slots from its last stored one up to `now_collect`
    /// with empty samples (netdata's `rrdset_done_fill_the_gap`).
    fn fill_the_gap(&mut self, dims: &[DimState], store: &mut dyn SlotWriter) {
        let ue = self.ue_us();
        let now_collect = self.last_collected_us;
        let mut next_store = (self.last_updated + self.update_every) * USEC;
        let mut count = 0usize;
        let mut last = 0;
        while count < self.entries && next_store <= now_collect {
            last = next_store;
            next_store += ue;
            count += 1;
        }
        if count == 0 {
            return;
        }
        for d in dims {
            for i in 0..count {
                store.write(
                    d.slot,
                    (self.current_entry + i) % self.entries,
                    SN_EMPTY_SLOT,
                );
            }
        }
        self.counter += count as u64;
        self.slots_total += count as u64;
        self.current_entry = (self.current_entry + count) % self.entries;
        self.last_updated = last / USEC;
    }

    /// END: finishes the collection at `now_us`: computes every dimension's value and writes
    /// the slots it crossed (`rrdset_done`).
    pub fn done(
        &mut self,
        now_us: i64,
        dims: &mut [DimState],
        store: &mut dyn SlotWriter,
    ) -> DoneReport {
        let mut report = DoneReport::default();
        let ue = self.ue_us();
        let mut store_values = true;
        let mut first = false;

        if self.stores && self.usec_since_last_update > self.entries as i64 * ue {
            report.took_too_long = Some(self.usec_since_last_update);
            self.reset(dims);
            self.usec_since_last_update = ue;
            store_values = false;
            first = true;
        }

        let mut last_collect;
        if self.last_collected_us == 0 {
            self.last_collected_us = self.align_collected(now_us);
            last_collect = self.last_collected_us - ue;
            store_values = false;
            first = true;
        } else {
            last_collect = self.last_collected_us;
            self.last_collected_us += self.usec_since_last_update;
        }

        if self.last_updated == 0 {
            self.init_last_updated();
            store_values = false;
            first = true;
        }

        if self.stores
            && self.last_collected_us - self.last_updated * USEC > self.entries as i64 * ue
        {
            report.too_old = true;
            let lct = self.last_collected_us;
            self.reset(dims);
            self.last_collected_us = lct;
            self.init_last_updated();
            self.usec_since_last_update = ue;
            store_values = false;
            first = true;
        }

        let now_collect = self.last_collected_us;
        let mut last_stored = self.last_updated * USEC;
        let mut next_store = (self.last_updated + self.update_every) * USEC;

        if self.counter_done == 0 {
            if self.stores && self.counter > 0 {
                self.fill_the_gap(dims, store);
                last_stored = self.last_updated * USEC;
                next_store = (self.last_updated + self.update_every) * USEC;
            }
            if self.store_first {
                store_values = true;
                last_collect = next_store - ue;
            } else {
                store_values = false;
            }
        }
        self.counter_done += 1;

        // Row totals over every updated dimension, for the percentage algorithms.
        let mut has_reset = false;
        let mut total: i64 = 0;
        let mut last_total: i64 = 0;
        for d in dims.iter_mut().filter(|d| d.updated) {
            if d.def.algorithm == Algorithm::PercentageOfIncrementalRow
                && d.last_collected > d.collected
            {
                if !d.def.noreset {
                    has_reset = true;
                }
                d.last_collected = d.collected;
            }
            total = total.wrapping_add(d.collected);
            last_total = last_total.wrapping_add(d.last_collected);
        }

        for d in dims.iter_mut() {
            if !d.updated {
                d.calculated = 0.0;
                continue;
            }
            let mul = d.def.multiplier as f64;
            let div = d.def.divisor as f64;
            match d.def.algorithm {
                Algorithm::Absolute => {
                    d.calculated = d.collected as f64 * mul / div;
                }
                Algorithm::PercentageOfAbsoluteRow => {
                    d.calculated = if total == 0 {
                        0.0
                    } else {
                        100.0 * d.collected as f64 / total as f64
                    };
                }
                Algorithm::Incremental => {
                    if d.collections <= 1 {
                        d.calculated = 0.0;
                        continue;
                    }
                    let last = d.last_collected as u64;
                    let new = d.collected as u64;
                    if last > new {
                        if !d.def.noreset {
                            has_reset = true;
                        }
                        let cap: u64 = if d.collected_max > 0xFFFF_FFFF {
                            u64::MAX
                        } else {
                            0xFFFF_FFFF
                        };
                        let delta = cap.wrapping_sub(last).wrapping_add(new);
                        if delta < (cap / 100) * MAX_INCREMENTAL_PERCENT_RATE {
                            d.calculated += delta as f64 * mul / div;
                        }
                    } else {
                        let diff = d.collected.wrapping_sub(d.last_collected);
                        d.calculated += diff as f64 * mul / div;
                    }
                }
                Algorithm::PercentageOfIncrementalRow => {
                    if d.collections <= 1 {
                        d.calculated = 0.0;
                        continue;
                    }
                    d.calculated = if total == last_total {
                        0.0
                    } else {
                        100.0 * d.collected.wrapping_sub(d.last_collected) as f64
                            / total.wrapping_sub(last_total) as f64
                    };
                }
            }
        }

        // Interpolation onto the slots this collection crossed.
        let mut iterations = (now_collect - last_stored) / ue;
        if now_collect % ue == 0 {
            iterations += 1;
        }
        let mut flags = SN_DEFAULT_FLAGS | if has_reset { SN_FLAG_RESET } else { 0 };
        let ue_f = self.update_every as f64;
        while next_store <= now_collect {
            for d in dims.iter_mut() {
                let v = if d.def.algorithm == Algorithm::Incremental {
                    let mut v = d.calculated * (next_store - last_collect) as f64
                        / (now_collect - last_collect) as f64;
                    d.calculated -= v;
                    v += d.last_calculated;
                    d.last_calculated = 0.0;
                    v /= ue_f;
                    if next_store - last_stored < ue {
                        v = v * ue as f64 / (next_store - last_stored) as f64;
                    }
                    v
                } else if iterations == 1 {
                    d.calculated
                } else {
                    (d.calculated - d.last_calculated) * (next_store - last_collect) as f64
                        / (now_collect - last_collect) as f64
                        + d.last_calculated
                };
                if self.stores {
                    let sample = if store_values
                        && d.updated
                        && d.collections > 1
                        && iterations < GAP_ITERATIONS
                    {
                        pack(v, flags)
                    } else {
                        SN_EMPTY_SLOT
                    };
                    store.write(d.slot, self.current_entry, sample);
                }
            }
            flags = SN_DEFAULT_FLAGS;
            self.counter += 1;
            self.slots_total += 1;
            self.current_entry = (self.current_entry + 1) % self.entries;
            self.last_updated = next_store / USEC;
            last_stored = next_store;
            last_collect = next_store;
            next_store += ue;
            iterations -= 1;
            report.slots_written += 1;
        }

        for d in dims.iter_mut() {
            d.in_last_collection = d.updated;
        }
        for d in dims.iter_mut().filter(|d| d.updated) {
            d.last_collected = d.collected;
            if d.def.algorithm == Algorithm::Incremental {
                if !first {
                    d.last_calculated += d.calculated;
                }
            } else {
                d.last_calculated = d.calculated;
            }
            d.calculated = 0.0;
            d.collected = 0;
            d.updated = false;
        }
        report
    }

    /// Time of the newest slot (0: nothing stored).
    pub fn last_entry_t(&self) -> i64 {
        if self.counter == 0 || !self.stores {
            0
        } else {
            self.last_updated
        }
    }

    /// One `update_every` before the oldest slot actually written, as netdata reports it.
    pub fn first_entry_t(&self) -> i64 {
        if self.counter == 0 || !self.stores {
            return 0;
        }
        let n = self.counter.min(self.entries as u64) as i64;
        self.last_updated - n * self.update_every
    }

    /// The ring position holding dimension `d`'s slot of time `t`, if it is inside the stored
    /// window and not older than the dimension.
    pub fn entry_of(&self, d: &DimState, t: i64) -> Option<usize> {
        let entry = self.entry_for(t)?;
        let back = ((self.last_updated - t) / self.update_every) as u64;
        (self.slots_total.checked_sub(1 + back)? >= d.born_total).then_some(entry)
    }

    /// The ring position holding the slot of time `t`, if it is inside the stored window.
    pub fn entry_for(&self, t: i64) -> Option<usize> {
        if self.counter == 0 || !self.stores {
            return None;
        }
        let first_t = self.first_entry_t() + self.update_every;
        if t < first_t || t > self.last_updated {
            return None;
        }
        let back = ((self.last_updated - t) / self.update_every) as usize;
        let last_slot = (self.current_entry + self.entries - 1) % self.entries;
        Some((last_slot + self.entries - back % self.entries) % self.entries)
    }
}

/// Why a replicated point was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReplayRefusal {
    /// The chart keeps no samples (`memory mode = none`).
    #[error("the chart stores nothing")]
    NotStored,
    /// The point is not newer than the chart's newest slot (a duplicate or out of order).
    #[error("point at {end_t} is not after the newest stored slot {last}")]
    NotAfterLast {
        /// The point's time.
        end_t: i64,
        /// The newest stored slot.
        last: i64,
    },
    /// The point's time is not on the chart's `update every` grid.
    #[error("point at {end_t} is not aligned to the chart's update every {update_every}")]
    Misaligned {
        /// The point's time.
        end_t: i64,
        /// The chart's update every.
        update_every: i64,
    },
}

impl ChartClock {
    /// A replicated point (netdata's `RBEGIN '' start end`): appends the slot of time `end_t`
    /// after the newest one, with empty samples for every dimension (the values follow with
    /// [`ChartClock::replay_write`]) and empty slots for any skipped time. Points are only ever
    /// appended, so replication never overwrites stored data. Returns the ring position.
    pub fn replay_slot(
        &mut self,
        end_t: i64,
        dims: &[DimState],
        store: &mut dyn SlotWriter,
    ) -> Result<usize, ReplayRefusal> {
        if !self.stores {
            return Err(ReplayRefusal::NotStored);
        }
        let ue = self.update_every;
        if self.counter > 0 {
            if end_t <= self.last_updated {
                return Err(ReplayRefusal::NotAfterLast {
                    end_t,
                    last: self.last_updated,
                });
            }
            if (end_t - self.last_updated) % ue != 0 {
                return Err(ReplayRefusal::Misaligned {
                    end_t,
                    update_every: ue,
                });
            }
            let skipped = ((end_t - self.last_updated) / ue - 1) as u64;
            if skipped >= self.entries as u64 {
                // The whole ring would be empty: start it over at this point.
                self.counter = 0;
            } else {
                for _ in 0..skipped {
                    self.append_empty(dims, store);
                }
            }
        } else if end_t.rem_euclid(ue) != 0 {
            return Err(ReplayRefusal::Misaligned {
                end_t,
                update_every: ue,
            });
        }
        let entry = self.current_entry;
        self.append_empty(dims, store);
        self.last_updated = end_t;
        Ok(entry)
    }

    fn append_empty(&mut self, dims: &[DimState], store: &mut dyn SlotWriter) {
        for d in dims {
            store.write(d.slot, self.current_entry, SN_EMPTY_SLOT);
        }
        self.counter += 1;
        self.slots_total += 1;
        self.current_entry = (self.current_entry + 1) % self.entries;
        self.last_updated += self.update_every;
    }

    /// Writes a replicated value (`RSET`) of dimension `d` into the slot `entry` that
    /// [`ChartClock::replay_slot`] returned. NaN leaves the slot empty.
    pub fn replay_write(
        &self,
        d: &DimState,
        entry: usize,
        value: f64,
        reset: bool,
        store: &mut dyn SlotWriter,
    ) {
        if !self.stores || !value.is_finite() {
            return;
        }
        let flags = SN_DEFAULT_FLAGS | if reset { SN_FLAG_RESET } else { 0 };
        store.write(d.slot, entry, pack(value, flags));
    }

    /// The sender's collection state at the end of a replication (`RSSTATE`): live
    /// collections continue from the child's last collection time, with its declared
    /// durations trusted, so the first live point after the replayed ones is not empty.
    /// The newest slot time is never moved: a child that has newer slots than it replayed
    /// leaves a gap that the next collection fills with empty slots.
    pub fn replay_state(&mut self, last_collected_us: i64) {
        if last_collected_us > self.last_collected_us {
            self.last_collected_us = last_collected_us;
        }
        if self.last_collected_us != 0 && self.counter_done == 0 {
            self.counter_done = 1;
        }
        self.sync_clock = false;
    }
}

/// A dimension's collection state at the end of a replication (`RDSTATE`): the next
/// collected value is computed against these, as on the sender.
pub fn replay_dim_state(
    d: &mut DimState,
    last_collected_us: i64,
    last_collected: i64,
    last_calculated: f64,
) {
    if last_collected_us > d.last_collected_us {
        d.last_collected_us = last_collected_us;
    }
    d.last_collected = last_collected;
    d.last_calculated = if last_calculated.is_finite() {
        last_calculated
    } else {
        0.0
    };
    d.collections = d.collections.max(1);
    d.collected_max = d.collected_max.max(last_collected.unsigned_abs());
}

/// SET: records a collected value for a dimension.
#[inline]
pub fn set_collected(d: &mut DimState, value: i64, now_us: i64) {
    d.collected = value;
    d.updated = true;
    d.collections += 1;
    d.collected_max = d.collected_max.max(value.unsigned_abs());
    d.last_collected_us = now_us;
}

/// Restores the part of a dimension's state that `save`/`map` files keep.
pub fn restore_dim(d: &mut DimState, last_collected: i64, collected_max: u64) {
    d.last_collected = last_collected;
    d.collected_max = collected_max;
}

/// The `collected_max` of a dimension, for persistence.
pub fn collected_max(d: &DimState) -> u64 {
    d.collected_max
}
