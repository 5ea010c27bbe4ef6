//! Running a [`Lookup`] over a chart's stored samples, as netdata's health does with a
//! one-point data query: the window ends at the chart's newest slot (or `now + at`), is
//! aligned to a multiple of its length unless `unaligned`, each selected dimension's points are
//! grouped with the method, and the row value is the sum over the selected dimensions.

use tributary_config::{PatternMode, SimplePattern};
use tributary_rrd::ChartState;

use crate::grouping;
use crate::lookup::Lookup;

/// What one run of a lookup produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LookupResult {
    /// The value (NaN: no data).
    pub value: f64,
    /// First slot of the window (0: none).
    pub after: i64,
    /// Last slot of the window (0: none).
    pub before: i64,
}

impl LookupResult {
    const NONE: LookupResult = LookupResult {
        value: f64::NAN,
        after: 0,
        before: 0,
    };
}

/// A compiled `of` filter.
#[derive(Debug, Clone)]
pub struct DimFilter {
    pattern: SimplePattern,
    ids: bool,
    names: bool,
}

impl DimFilter {
    /// The data API's `dimensions=` filter: simple patterns split at `,` and `|`.
    pub fn new(text: &str, match_ids: bool, match_names: bool) -> DimFilter {
        let (ids, names) = if match_ids || match_names {
            (match_ids, match_names)
        } else {
            (true, true)
        };
        DimFilter {
            pattern: SimplePattern::with_options(text, ",|", PatternMode::Exact),
            ids,
            names,
        }
    }

    /// Whether a dimension is selected.
    pub fn matches(&self, id: &str, name: &str) -> bool {
        (self.ids && self.pattern.matches(id)) || (self.names && self.pattern.matches(name))
    }
}

/// Runs `lookup` on `chart` at wall-clock `now`; `filter` is the compiled `of` (None: all).
pub fn run(
    lookup: &Lookup,
    filter: Option<&DimFilter>,
    chart: &ChartState,
    now: i64,
    scratch: &mut Vec<f64>,
) -> LookupResult {
    let g = chart.update_every().max(1);
    let last = chart.last_entry_t();
    if last == 0 {
        return LookupResult::NONE;
    }
    let (mut before, db_end) = if lookup.before == 0 {
        (last, true)
    } else {
        (now - lookup.before.abs(), false)
    };
    before -= before.rem_euclid(g);
    let duration = lookup.after.abs().max(g);
    let group = (duration / g).max(1);
    let step = group * g;
    if !lookup.options.unaligned && before % step != 0 {
        if db_end {
            before -= before.rem_euclid(step);
        } else {
            before += step - before.rem_euclid(step);
        }
    }
    let after = before - step + g;
    let o = &lookup.options;
    let dims = chart.dims();
    let mut total = 0.0;
    let mut any = false;
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    let mut all_total = 0.0;
    for (i, d) in dims.iter().enumerate() {
        let selected = filter.is_none_or(|f| f.matches(&d.def.id, &d.def.name));
        if !selected && !o.percentage {
            continue;
        }
        scratch.clear();
        let mut t = after;
        let mut cursor = chart.cursor(i);
        while t <= before {
            match cursor.value_at(t) {
                Some(v) if !v.is_nan() => scratch.push(if o.absolute { v.abs() } else { v }),
                _ if o.null2zero => scratch.push(0.0),
                _ => {}
            }
            t += g;
        }
        let v = grouping::group(lookup.method, scratch);
        if v.is_nan() {
            continue;
        }
        if o.percentage {
            all_total += v;
        }
        if selected {
            any = true;
            total += v;
            min = min.min(v);
            max = max.max(v);
        }
    }
    if !any {
        return LookupResult {
            after,
            before,
            ..LookupResult::NONE
        };
    }
    let value = if o.min2max {
        max - min
    } else if o.percentage {
        if all_total == 0.0 {
            0.0
        } else {
            total * 100.0 / all_total
        }
    } else {
        total
    };
    LookupResult {
        value,
        after,
        before,
    }
}
