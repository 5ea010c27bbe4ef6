//! Variable lookup for an alarm's expressions, in netdata's order: the special names
//! (`this`, `status`, `now`, ...), then the chart scope (chart variables, its dimensions, its
//! alarms, its custom `VARIABLE CHART`s), the family scope (charts with the same family), the
//! host scope (custom `VARIABLE HOST`s, `CHART.VARIABLE` by chart id or name).

use std::collections::HashMap;
use std::sync::Arc;

use tributary_rrd::{Chart, ChartState, Host};

use crate::alarm::Alarm;
use crate::expression::Variables;
use crate::status::Status;

/// A host's charts indexed for variable lookups, and its alarms by chart.
#[derive(Debug, Default)]
pub struct ChartIndex {
    /// Charts in host order.
    pub charts: Vec<Arc<Chart>>,
    /// Chart id and chart name → index.
    pub by_key: HashMap<String, usize>,
    /// Family → chart indexes.
    pub by_family: HashMap<String, Vec<usize>>,
    /// Chart index → alarm indexes.
    pub alarms_of: HashMap<usize, Vec<usize>>,
    /// Chart id → chart index.
    pub by_id: HashMap<String, usize>,
    /// Chart thresholds set from alarms (first alarm with a value wins).
    pub green_red: HashMap<usize, (f64, f64)>,
}

impl ChartIndex {
    /// Builds the index over `charts` and `alarms`.
    pub fn build(charts: Vec<Arc<Chart>>, alarms: &[Alarm]) -> ChartIndex {
        let mut idx = ChartIndex::default();
        for (i, c) in charts.iter().enumerate() {
            let st = c.lock();
            idx.by_key.insert(st.def.id.clone(), i);
            idx.by_key.entry(st.def.name.clone()).or_insert(i);
            idx.by_id.insert(st.def.id.clone(), i);
            idx.by_family
                .entry(st.def.family.clone())
                .or_default()
                .push(i);
        }
        for (ai, a) in alarms.iter().enumerate() {
            if let Some(&ci) = idx.by_id.get(&a.chart_id) {
                idx.alarms_of.entry(ci).or_default().push(ai);
                let e = idx.green_red.entry(ci).or_insert((f64::NAN, f64::NAN));
                if e.0.is_nan() {
                    e.0 = a.def.green;
                }
                if e.1.is_nan() {
                    e.1 = a.def.red;
                }
            }
        }
        idx.charts = charts;
        idx
    }
}

/// The variables seen by one alarm's expressions at one evaluation.
#[derive(Debug)]
pub struct Scope<'a> {
    /// The alarm's host (its custom variables).
    pub host: &'a Host,
    /// The index of the alarm's host.
    pub index: &'a ChartIndex,
    /// Every alarm of the host.
    pub alarms: &'a [Alarm],
    /// The alarm being evaluated.
    pub alarm: usize,
    /// Its value now (`$this`).
    pub this: f64,
    /// Wall clock.
    pub now: i64,
}

fn dim_variable(st: &ChartState, name: &str) -> Option<f64> {
    let (base, suffix) = if let Some(b) = name.strip_suffix("_raw") {
        (b, 1)
    } else if let Some(b) = name.strip_suffix("_last_collected_t") {
        (b, 2)
    } else {
        (name, 0)
    };
    let dims = st.dims();
    let find = |key: &str| {
        dims.iter()
            .position(|d| d.def.id == key)
            .or_else(|| dims.iter().position(|d| d.def.name == key))
    };
    // A dimension literally named `x_raw` wins over the suffix reading.
    if suffix != 0
        && let Some(i) = find(name)
    {
        return Some(last_value(st, i));
    }
    let i = find(base)?;
    let d = &dims[i];
    Some(match suffix {
        0 => last_value(st, i),
        1 => d.last_collected as f64,
        _ => (d.last_collected_us / 1_000_000) as f64,
    })
}

fn last_value(st: &ChartState, i: usize) -> f64 {
    st.value_at(i, st.last_entry_t()).unwrap_or(f64::NAN)
}

impl Scope<'_> {
    fn chart_variable(&self, ci: usize, name: &str) -> Option<f64> {
        let c = self.index.charts.get(ci)?;
        let (green, red) = self
            .index
            .green_red
            .get(&ci)
            .copied()
            .unwrap_or((f64::NAN, f64::NAN));
        {
            let st = c.lock();
            match name {
                "last_collected_t" => {
                    return Some((st.clock().last_collected_us / 1_000_000) as f64);
                }
                "update_every" => return Some(st.update_every() as f64),
                "green" => return Some(green),
                "red" => return Some(red),
                _ => {}
            }
            if let Some(v) = dim_variable(&st, name) {
                return Some(v);
            }
            if let Some(v) = st.vars.get(name) {
                return Some(v);
            }
        }
        self.alarm_on_chart(ci, name)
    }

    fn alarm_on_chart(&self, ci: usize, name: &str) -> Option<f64> {
        let list = self.index.alarms_of.get(&ci)?;
        list.iter()
            .map(|&ai| &self.alarms[ai])
            .find(|a| a.name == name)
            .map(|a| {
                if std::ptr::eq(a, &self.alarms[self.alarm]) {
                    self.this
                } else {
                    a.value
                }
            })
    }

    fn family_variable(&self, own: usize, family: &str, name: &str) -> Option<f64> {
        let charts = self.index.by_family.get(family)?;
        for &ci in charts {
            if ci == own {
                continue;
            }
            let c = &self.index.charts[ci];
            {
                let st = c.lock();
                if let Some(v) = dim_variable(&st, name) {
                    return Some(v);
                }
                if let Some(rest) = name
                    .strip_prefix(st.def.context.as_str())
                    .and_then(|r| r.strip_prefix('.'))
                    && let Some(v) = dim_variable(&st, rest)
                {
                    return Some(v);
                }
            }
            if let Some(v) = self.alarm_on_chart(ci, name) {
                return Some(v);
            }
        }
        None
    }

    fn host_variable(&self, name: &str) -> Option<f64> {
        let custom = self
            .host
            .vars
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name);
        if custom.is_some() {
            return custom;
        }
        for (p, _) in name.match_indices('.') {
            let (chart, rest) = (&name[..p], &name[p + 1..]);
            if let Some(&ci) = self.index.by_key.get(chart)
                && let Some(v) = self.chart_variable(ci, rest)
            {
                return Some(v);
            }
        }
        None
    }
}

impl Variables for Scope<'_> {
    fn get(&self, name: &str) -> Option<f64> {
        let a = &self.alarms[self.alarm];
        let window = |t: i64| if t == 0 { f64::NAN } else { t as f64 };
        match name {
            "this" => return Some(self.this),
            "after" => return Some(window(a.db_after)),
            "before" => return Some(window(a.db_before)),
            "now" => return Some(self.now as f64),
            "status" => return Some(f64::from(a.status.number())),
            _ => {}
        }
        if let Some(v) = Status::constant(name) {
            return Some(v);
        }
        let ci = self.index.by_id.get(&a.chart_id).copied();
        if let Some(ci) = ci {
            if let Some(v) = self.chart_variable(ci, name) {
                return Some(v);
            }
            if let Some(v) = self.family_variable(ci, &a.family, name) {
                return Some(v);
            }
        }
        self.host_variable(name)
    }
}
