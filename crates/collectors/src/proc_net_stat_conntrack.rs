//! `/proc/net/stat/nf_conntrack`: mirrors netdata's
//! collectors/proc.plugin/proc_net_stat_conntrack.c — netfilter.conntrack_{sockets,new,changes,
//! expect,search,errors}. Without the stat file only the connections count is charted, from
//! /proc/sys/net/netfilter/nf_conntrack_count.

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, DimDef, Host};

use crate::procfile::{ProcFile, parse_hex};
use crate::{ChartDims, CollectError, abs, chart_def, ensure, inc, prio};

const MODULE: &str = "/proc/net/stat/nf_conntrack";

/// (chart id, title, units, priority, detail, dims as (name, column, multiplier))
type Spec = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    bool,
    &'static [(&'static str, usize, i64)],
);

// columns: 0 entries 1 searched 2 found 3 new 4 invalid 5 ignore 6 delete 7 delete_list 8 insert
// 9 insert_failed 10 drop 11 early_drop 12 icmp_error 13 expect_new 14 expect_create
// 15 expect_delete 16 search_restart
#[rustfmt::skip]
const SPECS: [Spec; 5] = [
    ("netfilter.conntrack_new", "Connection Tracker New Connections", "connections/s", prio::NETFILTER_NEW, false,
        &[("new", 3, 1), ("ignore", 5, -1), ("invalid", 4, -1)]),
    ("netfilter.conntrack_changes", "Connection Tracker Changes", "changes/s", prio::NETFILTER_CHANGES, true,
        &[("inserted", 8, 1), ("deleted", 6, -1), ("delete_list", 7, -1)]),
    ("netfilter.conntrack_expect", "Connection Tracker Expectations", "expectations/s", prio::NETFILTER_EXPECT, true,
        &[("created", 14, 1), ("deleted", 15, -1), ("new", 13, 1)]),
    ("netfilter.conntrack_search", "Connection Tracker Searches", "searches/s", prio::NETFILTER_SEARCH, true,
        &[("searched", 1, 1), ("restarted", 16, -1), ("found", 2, 1)]),
    ("netfilter.conntrack_errors", "Connection Tracker Errors", "events/s", prio::NETFILTER_ERRORS, true,
        &[("icmp_error", 12, 1), ("insert_failed", 9, -1), ("drop", 10, -1), ("early_drop", 11, -1)]),
];

/// The conntrack module.
#[derive(Debug)]
pub struct ProcNetStatConntrack {
    path: PathBuf,
    count_path: PathBuf,
    ff: Option<ProcFile>,
    count: Option<ProcFile>,
    ue: u32,
    sockets: Option<ChartDims>,
    charts: [Option<ChartDims>; 5],
}

impl ProcNetStatConntrack {
    /// A collector of `PREFIX/proc/net/stat/nf_conntrack`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcNetStatConntrack {
        ProcNetStatConntrack {
            path: crate::host_path(prefix, MODULE),
            count_path: crate::host_path(prefix, "/proc/sys/net/netfilter/nf_conntrack_count"),
            ff: None,
            count: None,
            ue: update_every,
            sockets: None,
            charts: Default::default(),
        }
    }
}

impl crate::Collector for ProcNetStatConntrack {
    fn name(&self) -> &'static str {
        "/proc/net/stat/conntrack"
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        if self.ff.is_none() && self.count.is_none() {
            match ProcFile::open(&self.path, " \t:") {
                Ok(f) => self.ff = Some(f),
                Err(_) => {
                    self.count =
                        Some(ProcFile::open(&self.count_path, " \t").map_err(|source| {
                            CollectError::Open {
                                path: self.path.clone(),
                                source,
                            }
                        })?);
                }
            }
        }
        let mut sum = [0u64; 17];
        let mut entries = None;
        let full = if let Some(ff) = self.ff.as_mut() {
            ff.read().map_err(|source| CollectError::Read {
                path: self.path.clone(),
                source,
            })?;
            for l in 1..ff.lines() {
                if ff.line_words(l) < 17 {
                    continue;
                }
                for (c, s) in sum.iter_mut().enumerate() {
                    let v = parse_hex(ff.word_bytes(l, c));
                    if c == 0 {
                        entries.get_or_insert(v);
                    } else {
                        *s += v;
                    }
                }
            }
            true
        } else if let Some(cf) = self.count.as_mut() {
            cf.read().map_err(|source| CollectError::Read {
                path: self.count_path.clone(),
                source,
            })?;
            entries = Some(cf.u64_at(0, 0));
            false
        } else {
            false
        };
        let ue = self.ue;
        ensure(&mut self.sockets, host, now, || {
            let d = chart_def(
                "netfilter.conntrack_sockets",
                "conntrack",
                None,
                "Connection Tracker Connections",
                "active connections",
                MODULE,
                prio::NETFILTER_SOCKETS,
                ue,
                ChartType::Line,
            );
            (d, vec![abs("connections", 1, 1)])
        })?
        .update(now, &[entries.unwrap_or(0) as i64]);
        if !full {
            return Ok(());
        }
        let mut buf = [0i64; 4];
        for (spec, slot) in SPECS.iter().zip(self.charts.iter_mut()) {
            for (o, d) in buf.iter_mut().zip(spec.5) {
                *o = sum[d.1] as i64;
            }
            ensure(slot, host, now, || {
                let mut d = chart_def(
                    spec.0,
                    "conntrack",
                    None,
                    spec.1,
                    spec.2,
                    MODULE,
                    spec.3,
                    ue,
                    ChartType::Line,
                );
                d.detail = spec.4;
                (
                    d,
                    spec.5
                        .iter()
                        .map(|x| -> DimDef { inc(x.0, x.2, 1) })
                        .collect(),
                )
            })?
            .update(now, &buf[..spec.5.len()]);
        }
        Ok(())
    }
}
