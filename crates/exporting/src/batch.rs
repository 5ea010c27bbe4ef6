//! One export cycle of one host into an [`Encoder`]: the charts that pass `send charts
//! matching` (id or name) in creation order, their dimensions in creation order, one value each
//! per `data source`.

use tributary_config::SimplePattern;
use tributary_rrd::Host;
use tributary_rrd::model::Algorithm;

use crate::config::{DataSource, InstanceConfig};
use crate::encode::{ChartMeta, DimMeta, Encoder, HostMeta, Value};
use crate::window::stored_value;

/// Host labels netdata marks as configured although their names start with `_`.
const CONFIGURED_UNDERSCORE: [&str; 2] = ["_is_ephemeral", "_has_unstable_connection"];

/// True for labels netdata creates itself (source AUTO): `_os_name`, `_kernel_version`, ...
pub fn is_automatic_label(name: &str) -> bool {
    name.starts_with('_') && !CONFIGURED_UNDERSCORE.contains(&name)
}

/// The labels of `all` that pass the instance's `send configured labels` /
/// `send automatic labels`.
pub fn passing_labels(cfg: &InstanceConfig, all: &[(String, String)]) -> Vec<(String, String)> {
    all.iter()
        .filter(|(n, _)| {
            if is_automatic_label(n) {
                cfg.send_automatic_labels
            } else {
                cfg.send_configured_labels
            }
        })
        .cloned()
        .collect()
}

/// What one host contributes to a batch.
#[derive(Debug, Clone, Copy)]
pub struct HostInput<'a> {
    /// The host.
    pub host: &'a Host,
    /// Its exported metadata (name, labels, tags).
    pub meta: HostMeta<'a>,
}

/// Counts of one host's part of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCounts {
    /// Values written.
    pub metrics: usize,
    /// Dimensions skipped because they had no value in the window (netdata's NaN).
    pub skipped: usize,
}

/// Writes host `input`'s values for the cycle `(after, before]` into `enc`.
pub fn encode_host(
    enc: &mut Encoder,
    cfg: &InstanceConfig,
    charts: &SimplePattern,
    input: &HostInput<'_>,
    after: i64,
    before: i64,
    now_ms: i64,
) -> HostCounts {
    let mut counts = HostCounts::default();
    let h = &input.meta;
    enc.host(h, now_ms);
    let as_collected = cfg.data_source == DataSource::AsCollected;
    for chart in input.host.charts() {
        let st = chart.lock();
        let def = &st.def;
        if def.obsolete || !(charts.matches(&def.id) || charts.matches(&def.name)) {
            continue;
        }
        let dims = st.dims();
        let homogeneous = dims.windows(2).all(|w| {
            let (x, y) = (&w[0].def, &w[1].def);
            x.algorithm == y.algorithm && x.multiplier == y.multiplier && x.divisor == y.divisor
        });
        let c = ChartMeta {
            id: &def.id,
            name: &def.name,
            family: &def.family,
            context: &def.context,
            units: &def.units,
            homogeneous,
            prometheus_module: def.module == "prometheus",
        };
        for (i, d) in dims.iter().enumerate() {
            if d.def.obsolete {
                continue;
            }
            let dm = DimMeta {
                id: &d.def.id,
                name: &d.def.name,
                incremental: matches!(
                    d.def.algorithm,
                    Algorithm::Incremental | Algorithm::PercentageOfIncrementalRow
                ),
            };
            let (v, ts) = if as_collected {
                if d.last_collected_us <= 0 {
                    counts.skipped += 1;
                    continue;
                }
                let ts = d.last_collected_us / 1_000_000;
                if cfg.connector == crate::Connector::RemoteWrite && ts < after {
                    counts.skipped += 1;
                    continue;
                }
                (Value::Collected(d.last_collected), ts)
            } else {
                match stored_value(&st, i, after, before, cfg.data_source) {
                    Some((v, ts)) => (Value::Stored(v), ts),
                    None => {
                        counts.skipped += 1;
                        continue;
                    }
                }
            };
            enc.metric(h, &c, &dm, v, ts);
            counts.metrics += 1;
        }
    }
    counts
}
