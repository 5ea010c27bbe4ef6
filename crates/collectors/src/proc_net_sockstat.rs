//! `/proc/net/sockstat`: mirrors netdata's collectors/proc.plugin/proc_net_sockstat.c —
//! ipv4.sockstat_* (each chart appears once its values are non-zero).

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, Host};

use crate::procfile::ProcFile;
use crate::{ChartDims, CollectError, OnDemand, abs, chart_def, ensure, open_read, prio};

const MODULE: &str = "/proc/net/sockstat";

/// Counters: (line key, field).
const FIELDS: [(&str, &str); 11] = [
    ("sockets", "used"),
    ("TCP", "alloc"),
    ("TCP", "orphan"),
    ("TCP", "inuse"),
    ("TCP", "tw"),
    ("TCP", "mem"),
    ("UDP", "inuse"),
    ("UDP", "mem"),
    ("UDPLITE", "inuse"),
    ("RAW", "inuse"),
    ("FRAG", "inuse"),
];
const FRAG_MEMORY: usize = 11;

struct Spec {
    id: &'static str,
    family: &'static str,
    title: &'static str,
    units: &'static str,
    priority: i64,
    chart_type: ChartType,
    /// (dimension, counter index, multiplier is the page size?, divisor)
    dims: &'static [(&'static str, usize, bool, i64)],
}

#[rustfmt::skip]
const SPECS: [Spec; 9] = [
    Spec { id: "ipv4.sockstat_sockets", family: "sockets", title: "IPv4 Sockets Used", units: "sockets", priority: prio::IPV4_SOCKETS, chart_type: ChartType::Line, dims: &[("used", 0, false, 1)] },
    Spec { id: "ipv4.sockstat_tcp_sockets", family: "tcp", title: "IPv4 TCP Sockets", units: "sockets", priority: prio::IPV4_TCP_SOCKETS, chart_type: ChartType::Line,
        dims: &[("alloc", 1, false, 1), ("orphan", 2, false, 1), ("inuse", 3, false, 1), ("timewait", 4, false, 1)] },
    Spec { id: "ipv4.sockstat_tcp_mem", family: "tcp", title: "IPv4 TCP Sockets Memory", units: "KiB", priority: prio::IPV4_TCP_MEM, chart_type: ChartType::Area, dims: &[("mem", 5, true, 1024)] },
    Spec { id: "ipv4.sockstat_udp_sockets", family: "udp", title: "IPv4 UDP Sockets", units: "sockets", priority: prio::IPV4_UDP, chart_type: ChartType::Line, dims: &[("inuse", 6, false, 1)] },
    Spec { id: "ipv4.sockstat_udp_mem", family: "udp", title: "IPv4 UDP Sockets Memory", units: "KiB", priority: prio::IPV4_UDP_MEM, chart_type: ChartType::Area, dims: &[("mem", 7, true, 1024)] },
    Spec { id: "ipv4.sockstat_udplite_sockets", family: "udplite", title: "IPv4 UDPLITE Sockets", units: "sockets", priority: prio::IPV4_UDPLITE, chart_type: ChartType::Line, dims: &[("inuse", 8, false, 1)] },
    Spec { id: "ipv4.sockstat_raw_sockets", family: "raw", title: "IPv4 RAW Sockets", units: "sockets", priority: prio::IPV4_RAW, chart_type: ChartType::Line, dims: &[("inuse", 9, false, 1)] },
    Spec { id: "ipv4.sockstat_frag_sockets", family: "fragments", title: "IPv4 FRAG Sockets", units: "fragments", priority: prio::IPV4_FRAGMENTS, chart_type: ChartType::Line, dims: &[("inuse", 10, false, 1)] },
    Spec { id: "ipv4.sockstat_frag_mem", family: "fragments", title: "IPv4 FRAG Sockets Memory", units: "KiB", priority: prio::IPV4_FRAGMENTS_MEM, chart_type: ChartType::Area, dims: &[("mem", FRAG_MEMORY, false, 1024)] },
];

/// The `/proc/net/sockstat` module.
#[derive(Debug)]
pub struct ProcNetSockstat {
    path: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    page_size: i64,
    vals: [u64; 12],
    on: [OnDemand; 9],
    charts: [Option<ChartDims>; 9],
}

impl ProcNetSockstat {
    /// A collector of `PREFIX/proc/net/sockstat`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcNetSockstat {
        ProcNetSockstat {
            path: crate::host_path(prefix, MODULE),
            ff: None,
            ue: update_every,
            page_size: rustix::param::page_size() as i64,
            vals: [0; 12],
            on: [OnDemand::Auto; 9],
            charts: Default::default(),
        }
    }
}

impl crate::Collector for ProcNetSockstat {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let ff = open_read(&mut self.ff, &self.path, " \t:")?;
        self.vals = [0; 12];
        for l in 0..ff.lines() {
            let key = ff.word_bytes(l, 0);
            let words = ff.line_words(l);
            let mut w = 1;
            while w + 1 < words {
                let name = ff.word_bytes(l, w);
                if key == b"FRAG" && name == b"memory" {
                    self.vals[FRAG_MEMORY] = ff.u64_at(l, w + 1);
                } else if let Some(i) = FIELDS
                    .iter()
                    .position(|(k, f)| k.as_bytes() == key && f.as_bytes() == name)
                {
                    self.vals[i] = ff.u64_at(l, w + 1);
                }
                w += 2;
            }
        }
        let ue = self.ue;
        let ps = self.page_size;
        let mut buf = [0i64; 4];
        for ((spec, on), slot) in SPECS
            .iter()
            .zip(self.on.iter_mut())
            .zip(self.charts.iter_mut())
        {
            let nonzero = spec.dims.iter().any(|d| self.vals[d.1] != 0);
            if !on.check(nonzero) {
                continue;
            }
            for (o, d) in buf.iter_mut().zip(spec.dims) {
                *o = self.vals[d.1] as i64;
            }
            ensure(slot, host, now, || {
                let def = chart_def(
                    spec.id,
                    spec.family,
                    None,
                    spec.title,
                    spec.units,
                    MODULE,
                    spec.priority,
                    ue,
                    spec.chart_type,
                );
                (
                    def,
                    spec.dims
                        .iter()
                        .map(|d| abs(d.0, if d.2 { ps } else { 1 }, d.3))
                        .collect(),
                )
            })?
            .update(now, &buf[..spec.dims.len()]);
        }
        Ok(())
    }
}
