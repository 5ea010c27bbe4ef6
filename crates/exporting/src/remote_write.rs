//! Prometheus remote write 0.1.0: one protobuf `WriteRequest` per batch (snappy block
//! compression is applied by the encoder), with netdata's metric and label naming
//! (`exporting/prometheus/remote_write/` and `exporting/prometheus/prometheus.c`):
//!
//! * per host a `netdata_info` series (`instance`, `application`, `version`, host labels);
//! * average/sum: `PREFIX_CONTEXT_UNITS_average` / `PREFIX_CONTEXT_sum` with labels `chart`,
//!   `family`, `dimension`, `instance` in that order (netdata does not sort them);
//! * as collected: `PREFIX_CONTEXT[_total]` with a `dimension` label when every dimension of the
//!   chart is collected alike, else `PREFIX_CONTEXT_DIM[_total]` without one.

use crate::config::DataSource;
use crate::encode::{ChartMeta, DimMeta, HostMeta, Value};
use crate::names::{push_prometheus_label_value, push_prometheus_name};
use crate::protobuf::{bytes_field, double_field, int64_field};

/// Buffers reused for every series (a series must be complete before its length is known).
#[derive(Debug, Default)]
pub struct Scratch {
    series: Vec<u8>,
    label: Vec<u8>,
    value: Vec<u8>,
}

impl Scratch {
    fn start(&mut self) {
        self.series.clear();
    }

    /// A label whose value `fill` writes.
    fn label(&mut self, name: &[u8], fill: impl FnOnce(&mut Vec<u8>)) {
        self.value.clear();
        fill(&mut self.value);
        self.label.clear();
        bytes_field(&mut self.label, 1, name);
        bytes_field(&mut self.label, 2, &self.value);
        bytes_field(&mut self.series, 1, &self.label);
    }

    fn label_str(&mut self, name: &str, value: &str) {
        self.label(name.as_bytes(), |b| push_prometheus_label_value(b, value));
    }

    fn finish(&mut self, out: &mut Vec<u8>, v: f64, ts_ms: i64) {
        self.label.clear();
        double_field(&mut self.label, 1, v);
        int64_field(&mut self.label, 2, ts_ms);
        bytes_field(&mut self.series, 2, &self.label);
        bytes_field(out, 1, &self.series);
    }
}

/// The `netdata_info` series of a host, sample 1 at `now_ms`.
pub fn info_series(out: &mut Vec<u8>, s: &mut Scratch, h: &HostMeta<'_>, now_ms: i64) {
    s.start();
    s.label(b"__name__", |b| b.extend_from_slice(b"netdata_info"));
    s.label_str("instance", h.hostname);
    s.label_str("application", h.program_name);
    s.label_str("version", h.program_version);
    let mut name = std::mem::take(&mut s.value);
    for (k, v) in h.labels {
        name.clear();
        push_prometheus_name(&mut name, k);
        let key = std::mem::take(&mut name);
        s.label(&key, |b| push_prometheus_label_value(b, v));
        name = key;
    }
    s.value = name;
    s.finish(out, 1.0, now_ms);
}

/// Appends `_UNITS` for an average: `%` → `_percent`, a trailing `/s` → `_persec`.
fn push_units(b: &mut Vec<u8>, units: &str) {
    if units == "%" {
        b.extend_from_slice(b"_percent");
        return;
    }
    b.push(b'_');
    match units.strip_suffix("/s") {
        Some(base) => {
            push_prometheus_name(b, base);
            b.extend_from_slice(b"_persec");
        }
        None => push_prometheus_name(b, units),
    }
}

/// One dimension's series. `chart`/`dim` are the names or ids the instance sends.
#[allow(clippy::too_many_arguments)]
pub fn series(
    out: &mut Vec<u8>,
    s: &mut Scratch,
    h: &HostMeta<'_>,
    c: &ChartMeta<'_>,
    d: &DimMeta<'_>,
    chart: &str,
    dim: &str,
    source: DataSource,
    v: Value,
    ts: i64,
) {
    let (value, with_dimension) = match v {
        Value::Stored(x) if !x.is_finite() => return,
        Value::Stored(x) => (x, true),
        Value::Collected(n) => (n as f64, c.homogeneous),
    };
    s.start();
    s.label(b"__name__", |b| {
        b.extend_from_slice(h.prefix.as_bytes());
        b.push(b'_');
        push_prometheus_name(b, c.context);
        match source {
            DataSource::AsCollected => {
                if !c.homogeneous {
                    b.push(b'_');
                    push_prometheus_name(b, dim);
                }
                if d.incremental && !c.prometheus_module {
                    b.extend_from_slice(b"_total");
                }
            }
            DataSource::Average => {
                push_units(b, c.units);
                b.extend_from_slice(b"_average");
            }
            DataSource::Sum => b.extend_from_slice(b"_sum"),
        }
    });
    s.label_str("chart", chart);
    s.label_str("family", c.family);
    if with_dimension {
        s.label_str("dimension", dim);
    }
    s.label_str("instance", h.hostname);
    s.finish(out, value, ts.saturating_mul(1000));
}
