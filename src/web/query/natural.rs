//! The common case of a data query without the general loop: one-second charts asked for
//! their natural points (`group` 1, no `gtime`), grouped by `average`, `sum`, `min` or `max`
//! — every dashboard chart and the bench's 600-point query. Each row is then exactly the
//! stored slot of its second (or empty), so the rows are filled by one sequential pass over
//! each dimension's ring. The result is bit-for-bit what [`super::fill_grouped`] computes
//! (including `db_points_per_tier`, the empty rows around the stored window and netdata's
//! min/max over empty values as 0); the test below compares both on random charts.

use tributary_rrd::ChartState;
use tributary_rrd::storage_number::{SN_EMPTY_SLOT, SN_FLAG_RESET, unpack};

use super::{DIM_NONZERO, DIM_SELECTED, Group, Rrdr, VALUE_EMPTY, VALUE_RESET, Window};

/// True when [`fill`] computes what the general loop would.
pub(super) fn applies(w: &Window, update_every: i64, group: Group) -> bool {
    update_every == 1
        && w.granularity == 1
        && w.group == 1
        && w.resampling_group == 1
        && matches!(group, Group::Average | Group::Sum | Group::Min | Group::Max)
}

/// Fills the rows of `r` (already sized for `w.points`) from `st`; returns min and max.
pub(super) fn fill(
    r: &mut Rrdr<'_>,
    st: &ChartState,
    w: &Window,
    first: i64,
    last: i64,
    group: Group,
) -> (f64, f64) {
    // average and sum start from 0.0 + the value (so -0.0 comes out as 0.0, as there)
    let additive = matches!(group, Group::Average | Group::Sum);
    let nd = r.dims.len();
    let points = w.points.max(0) as usize;
    // The reader's points are the seconds of [plan_after, plan_before]; the slots it reads
    // start at netdata's rrddim_time2slot() of the start (one after `first` at the oldest).
    let plan_after = first.max(w.after);
    let plan_before = last.min(w.before);
    let slot_time = |t: i64| {
        if t >= last {
            last
        } else if t <= first {
            first + 1
        } else {
            t
        }
    };
    let (lo, hi) = if plan_after <= plan_before {
        (
            slot_time(plan_after),
            slot_time(plan_before).min(plan_before),
        )
    } else {
        (1, 0)
    };
    let reads = if plan_after <= plan_before {
        (plan_before - plan_after + 1) as usize
    } else {
        0
    };
    let (mut min, mut max) = (0.0f64, 0.0f64);
    r.raw = vec![SN_EMPTY_SLOT; points * nd];
    for c in 0..nd {
        r.od[c] |= DIM_SELECTED;
        r.db_points_read += reads;
        let mut cursor = st.cursor(r.dims[c].index);
        let mut nonzero = false;
        for k in 0..points {
            let t = w.after + k as i64;
            let sample = if t >= lo && t <= hi {
                cursor.sample_at(t)
            } else {
                None
            };
            let (value, flags) = match sample.map(|n| (n, unpack(n))) {
                Some((n, x)) if x.is_finite() => {
                    nonzero |= x != 0.0;
                    let flags = if n & SN_FLAG_RESET != 0 {
                        VALUE_RESET
                    } else {
                        0
                    };
                    (if additive { 0.0 + x } else { x }, flags)
                }
                _ => (0.0, VALUE_EMPTY),
            };
            r.t[k] = t;
            let idx = k * nd + c;
            r.v[idx] = value;
            r.o[idx] = flags;
            r.raw[idx] = sample.unwrap_or(SN_EMPTY_SLOT);
            if k > 0 || c > 0 {
                min = min.min(value);
                max = max.max(value);
            } else {
                min = value;
                max = value;
            }
        }
        if nonzero {
            r.od[c] |= DIM_NONZERO;
        }
    }
    r.rows = r.rows.max(points);
    if points > 0 {
        r.after = w.after;
        r.before = w.after + points as i64 - 1;
    }
    (min, max)
}

#[cfg(test)]
mod tests {
    use tributary_rrd::{Algorithm, ChartDef, DimDef, Host, HostConfig, MemoryMode};

    use super::super::{Group, Request, Rrdr, calculate_window, opt, run_with};

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> i64 {
            (self.next() % n.max(1)) as i64
        }
    }

    fn same(a: &Rrdr<'_>, b: &Rrdr<'_>) -> Result<(), String> {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let checks = [
            ("t", a.t == b.t),
            ("v", bits(&a.v) == bits(&b.v)),
            ("o", a.o == b.o),
            ("od", a.od == b.od),
            ("rows", a.rows == b.rows),
            ("before", a.before == b.before),
            ("after", a.after == b.after),
            ("db_points_read", a.db_points_read == b.db_points_read),
            ("min", a.min.to_bits() == b.min.to_bits()),
            ("max", a.max.to_bits() == b.max.to_bits()),
            ("options", a.options == b.options),
        ];
        match checks.iter().find(|(_, ok)| !ok) {
            None => Ok(()),
            Some((what, _)) => Err(format!("{what} differs:\nnatural {a:?}\ngeneral {b:?}")),
        }
    }

    /// Random one-second charts (gaps, counter resets, zeros, negative values, a dimension
    /// born late, wrapped rings) and random windows: wherever the fast path applies, it
    /// computes exactly what the general loop computes.
    #[test]
    fn the_natural_path_computes_what_the_general_loop_computes() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut compared = 0;
        for case in 0..60 {
            let history = [60, 300, 3600][case % 3];
            let host = Host::new(HostConfig {
                hostname: "natural".into(),
                machine_guid: "11111111-2222-3333-4444-555555555555".into(),
                memory_mode: MemoryMode::Ram,
                history,
                cache_dir: None,
                os: "linux".into(),
                timezone: "UTC".into(),
            });
            let start = 1_700_000_000 + rng.below(1000);
            let chart = host.chart(
                ChartDef {
                    id: "n.c".into(),
                    name: "n.c".into(),
                    update_every: 1,
                    ..Default::default()
                },
                start,
            );
            let mut st = chart.lock();
            st.dimension(DimDef::new("abs").algo(Algorithm::Absolute, -3, 7))
                .unwrap();
            st.dimension(DimDef::new("inc").algo(Algorithm::Incremental, 1, 1))
                .unwrap();
            let n = 50 + rng.below(900);
            let born = rng.below(n as u64);
            let mut t = start;
            let mut counter = 0i64;
            for k in 0..n {
                if k == born {
                    st.dimension(DimDef::new("late")).unwrap();
                }
                t += if rng.below(10) == 0 {
                    1 + rng.below(5)
                } else {
                    1
                };
                let now = t * 1_000_000 + rng.below(3) * 100_000;
                st.begin(now, 0);
                st.set(
                    0,
                    rng.below(5) - 2 + if rng.below(4) == 0 { 0 } else { 1000 },
                    now,
                );
                counter = if rng.below(40) == 0 {
                    0
                } else {
                    counter + rng.below(100)
                };
                st.set(1, counter, now);
                if st.dims().len() > 2 {
                    st.set(2, rng.below(3), now);
                }
                st.done(now);
            }
            let (first, last) = (st.first_entry_t(), st.last_entry_t());
            for _ in 0..60 {
                let now = last + rng.below(30) - 5;
                let after = match rng.below(4) {
                    0 => -rng.below(900),
                    1 => 0,
                    2 => first + rng.below((last - first + 60) as u64) - 30,
                    _ => -rng.below(60),
                };
                let before = match rng.below(3) {
                    0 => 0,
                    1 => -rng.below(40),
                    _ => last - rng.below(100) + 20,
                };
                let points = match rng.below(3) {
                    0 => 0,
                    1 => rng.below(900),
                    _ => (before - after).abs(),
                };
                let mut options = 0;
                for (flag, odds) in [
                    (opt::NOT_ALIGNED, 4),
                    (opt::PERCENTAGE, 6),
                    (opt::NONZERO, 4),
                    (opt::VIRTUAL_POINTS, 8),
                ] {
                    if rng.below(odds) == 0 {
                        options |= flag;
                    }
                }
                let group =
                    [Group::Average, Group::Sum, Group::Min, Group::Max][rng.below(4) as usize];
                let req = Request {
                    after,
                    before,
                    points,
                    group,
                    group_options: None,
                    gtime: 0,
                    options,
                    dimensions: None,
                    now,
                };
                let Some(w) = calculate_window(&req, first, last, 1) else {
                    continue;
                };
                if !super::applies(&w, 1, group) {
                    continue;
                }
                let (a, b) = (run_with(&st, &req, true), run_with(&st, &req, false));
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        if let Err(e) = same(&a, &b) {
                            panic!(
                                "case {case}, {req:?}, window {w:?}, first {first} last {last}: {e}"
                            );
                        }
                        compared += 1;
                    }
                    (a, b) => assert_eq!(a.is_ok(), b.is_ok(), "{req:?}"),
                }
            }
        }
        eprintln!("{compared} queries compared");
        assert!(
            compared > 500,
            "only {compared} queries took the natural path"
        );
    }
}
