//! netdata's internal charts of an instance, on localhost, created at its first send and
//! updated every cycle with that cycle's counts (netdata resets them after each update):
//! `netdata.exporting_NAME_metrics` (buffered, lost, sent), `..._bytes` (KiB: buffered, lost,
//! sent, received) and `..._ops` (write, discard, reconnect, failure, read). They are normal
//! charts: exported too, and what netdata's stock exporting alarms watch.

use std::sync::Arc;

use tributary_rrd::{Algorithm, Chart, ChartDef, ChartType, DimDef, Host};

/// One cycle's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CycleCounts {
    /// Values formatted.
    pub buffered_metrics: u64,
    /// Values dropped (buffer full, batch rejected).
    pub lost_metrics: u64,
    /// Values accepted by the backend.
    pub sent_metrics: u64,
    /// Bytes formatted.
    pub buffered_bytes: u64,
    /// Bytes dropped.
    pub lost_bytes: u64,
    /// Bytes sent.
    pub sent_bytes: u64,
    /// Bytes received (HTTP answers, anything a line receiver sent back).
    pub received_bytes: u64,
    /// Successful sends.
    pub writes: u64,
    /// Batches dropped.
    pub discards: u64,
    /// New connections after a lost one.
    pub reconnects: u64,
    /// Failed sends or connects.
    pub failures: u64,
    /// Answers read.
    pub reads: u64,
}

/// One internal chart: id suffix, title, units, context, priority, dimensions, divisor.
struct Spec {
    kind: &'static str,
    title: &'static str,
    units: &'static str,
    context: &'static str,
    priority: i64,
    dims: &'static [&'static str],
    divisor: i64,
}

const SPECS: [Spec; 3] = [
    Spec {
        kind: "metrics",
        title: "Buffered metrics",
        units: "metrics",
        context: "exporting_buffer",
        priority: 130610,
        dims: &["buffered", "lost", "sent"],
        divisor: 1,
    },
    Spec {
        kind: "bytes",
        title: "Exporting data size",
        units: "KiB",
        context: "exporting_data_size",
        priority: 130620,
        dims: &["buffered", "lost", "sent", "received"],
        divisor: 1024,
    },
    Spec {
        kind: "ops",
        title: "Exporting operations",
        units: "operations",
        context: "exporting_operations",
        priority: 130630,
        dims: &["write", "discard", "reconnect", "failure", "read"],
        divisor: 1,
    },
];

/// The three charts of one instance.
#[derive(Debug)]
pub struct Telemetry {
    charts: Option<[Arc<Chart>; 3]>,
    name: String,
    update_every: u32,
}

/// netdata's chart-id sanitizer, for the instance name inside an id.
fn id_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Telemetry {
    /// Nothing created yet.
    pub fn new(instance: &str, update_every: i64) -> Telemetry {
        Telemetry {
            charts: None,
            name: id_part(instance),
            update_every: u32::try_from(update_every.max(1)).unwrap_or(u32::MAX),
        }
    }

    fn create(&self, host: &Host, now_s: i64) -> [Arc<Chart>; 3] {
        let n = &self.name;
        SPECS.each_ref().map(|sp| {
            let Spec {
                kind,
                title,
                units,
                context,
                priority,
                dims,
                divisor,
            } = *sp;
            let id = format!("netdata.exporting_{n}_{kind}");
            let chart = host.chart(
                ChartDef {
                    id: id.clone(),
                    name: id,
                    title: title.into(),
                    units: units.into(),
                    family: format!("exporting_{n}"),
                    context: context.into(),
                    chart_type: ChartType::Line,
                    priority,
                    update_every: self.update_every,
                    plugin: "exporting".into(),
                    ..Default::default()
                },
                now_s,
            );
            {
                let mut st = chart.lock();
                for d in dims {
                    if let Err(e) =
                        st.dimension(DimDef::new(d).algo(Algorithm::Absolute, 1, divisor))
                    {
                        log::error!("EXPORTING: instance {n}: cannot add dimension {d}: {e}");
                    }
                }
            }
            chart
        })
    }

    /// Records one cycle's counts at `now_us` (the charts appear once something was sent).
    pub fn update(&mut self, host: &Host, c: &CycleCounts, now_us: i64) {
        if self.charts.is_none() {
            if c.writes == 0 {
                return;
            }
            self.charts = Some(self.create(host, now_us / 1_000_000));
        }
        let Some(charts) = &self.charts else { return };
        let rows: [&[u64]; 3] = [
            &[c.buffered_metrics, c.lost_metrics, c.sent_metrics],
            &[
                c.buffered_bytes,
                c.lost_bytes,
                c.sent_bytes,
                c.received_bytes,
            ],
            &[c.writes, c.discards, c.reconnects, c.failures, c.reads],
        ];
        for (chart, row) in charts.iter().zip(rows) {
            let mut st = chart.lock();
            st.begin(now_us, 0);
            for (i, v) in row.iter().enumerate() {
                st.set(i, i64::try_from(*v).unwrap_or(i64::MAX), now_us);
            }
            st.done(now_us);
        }
    }
}
