//! Sequential reads of one dimension's ring: [`SampleCursor`] answers the same as
//! [`ChartState::sample_at`] but steps the ring position by one for consecutive slot times, so a
//! query reading 600 points pays the divisions of locating a slot once instead of per point.

use crate::chart::ChartState;
use crate::paged_ring::PageCache;
use crate::storage_number::{StorageNumber, unpack};

/// A reader of one dimension's samples, fastest when asked for times `update_every` apart.
#[derive(Debug)]
pub struct SampleCursor<'a> {
    chart: &'a ChartState,
    dim: usize,
    /// Oldest slot time with a sample of this dimension (`i64::MAX` when none).
    lo: i64,
    /// Newest slot time.
    hi: i64,
    ue: i64,
    entries: usize,
    /// The last time answered inside `[lo, hi]` and its ring position.
    prev: Option<(i64, usize)>,
    /// The sealed page decoded last.
    cache: PageCache,
}

impl<'a> SampleCursor<'a> {
    /// A cursor over dimension `dim` of `chart` (none stored: every read is `None`).
    pub(crate) fn new(chart: &'a ChartState, dim: usize) -> SampleCursor<'a> {
        let clock = chart.clock();
        let ue = clock.update_every.max(1);
        let mut lo = i64::MAX;
        let hi = clock.last_updated;
        if let Some(d) = chart.dims().get(dim)
            && clock.counter != 0
            && clock.stores
            && clock.slots_total > d.born_total
        {
            // entry_for(): t >= first_entry_t + ue; entry_of(): the slot `back` steps before
            // the newest is not older than the dimension, i.e. back <= max_back.
            let max_back = (clock.slots_total - 1 - d.born_total).min(i64::MAX as u64 / 2) as i64;
            let born_lo = hi.saturating_sub((max_back + 1).saturating_mul(ue)) + 1;
            lo = (clock.first_entry_t() + ue).max(born_lo);
        }
        SampleCursor {
            chart,
            dim,
            lo,
            hi,
            ue,
            entries: clock.entries.max(1),
            prev: None,
            cache: PageCache::default(),
        }
    }

    /// The chart's `update_every` (at least 1).
    pub fn update_every(&self) -> i64 {
        self.ue
    }

    /// The raw sample at slot time `t`, if stored (exactly [`ChartState::sample_at`]).
    #[inline]
    pub fn sample_at(&mut self, t: i64) -> Option<StorageNumber> {
        if t < self.lo || t > self.hi {
            return None;
        }
        let entry = match self.prev {
            Some((pt, pe)) if t == pt + self.ue => {
                if pe + 1 == self.entries {
                    0
                } else {
                    pe + 1
                }
            }
            _ => {
                let d = &self.chart.dims()[self.dim];
                self.chart.clock().entry_of(d, t)?
            }
        };
        self.prev = Some((t, entry));
        Some(
            self.chart
                .read_entry_cached(self.dim, entry, &mut self.cache),
        )
    }

    /// The value at slot time `t` (exactly [`ChartState::value_at`]: `None` outside the stored
    /// window, NaN for an empty slot).
    #[inline]
    pub fn value_at(&mut self, t: i64) -> Option<f64> {
        self.sample_at(t).map(unpack)
    }
}

#[cfg(test)]
mod tests {
    use crate::{ChartDef, DimDef, Host, HostConfig, MemoryMode};

    /// Every time around the stored window, in order and with jumps, reads the same through
    /// a cursor as through `sample_at`: rings wrapped, a dimension born late, update every 2.
    #[test]
    fn a_cursor_reads_what_sample_at_reads() {
        for (history, ue) in [(60, 1), (60, 2), (3600, 1)] {
            let host = Host::new(HostConfig {
                hostname: "cursor".into(),
                machine_guid: "11111111-2222-3333-4444-555555555555".into(),
                memory_mode: MemoryMode::Ram,
                history,
                cache_dir: None,
                os: "linux".into(),
                timezone: "UTC".into(),
            });
            let start = 1_700_000_000i64;
            let chart = host.chart(
                ChartDef {
                    id: "c.c".into(),
                    name: "c.c".into(),
                    update_every: ue as u32,
                    ..Default::default()
                },
                start,
            );
            let mut st = chart.lock();
            st.dimension(DimDef::new("a")).unwrap();
            for k in 0..1500i64 {
                if k == 1400 {
                    st.dimension(DimDef::new("late")).unwrap();
                }
                let now = (start + k * ue) * 1_000_000;
                st.begin(now, 0);
                for d in 0..st.dims().len() {
                    st.set(d, k * 10 + d as i64, now);
                }
                st.done(now);
            }
            let (first, last) = (st.first_entry_t(), st.last_entry_t());
            for dim in 0..st.dims().len() {
                for step in [ue, 1, 3 * ue] {
                    let mut cur = st.cursor(dim);
                    let mut t = first - 5 * ue;
                    while t <= last + 5 * ue {
                        assert_eq!(
                            cur.sample_at(t),
                            st.sample_at(dim, t),
                            "history {history} ue {ue} dim {dim} step {step} t {t}"
                        );
                        t += step;
                    }
                }
            }
        }
    }
}
