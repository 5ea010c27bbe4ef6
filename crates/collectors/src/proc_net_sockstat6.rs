//! `/proc/net/sockstat6`: mirrors netdata's collectors/proc.plugin/proc_net_sockstat6.c —
//! ipv6.sockstat6_* (each chart appears once its value is non-zero).

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, Host};

use crate::procfile::ProcFile;
use crate::{ChartDims, CollectError, OnDemand, abs, chart_def, ensure, open_read, prio};

const MODULE: &str = "/proc/net/sockstat6";

/// (line key, chart id, family, title, units, priority)
#[rustfmt::skip]
const SPECS: [(&str, &str, &str, &str, &str, i64); 5] = [
    ("TCP6", "ipv6.sockstat6_tcp_sockets", "tcp6", "IPv6 TCP Sockets", "sockets", prio::IPV6_TCP),
    ("UDP6", "ipv6.sockstat6_udp_sockets", "udp6", "IPv6 UDP Sockets", "sockets", prio::IPV6_UDP),
    ("UDPLITE6", "ipv6.sockstat6_udplite_sockets", "udplite6", "IPv6 UDPLITE Sockets", "sockets", prio::IPV6_UDPLITE),
    ("RAW6", "ipv6.sockstat6_raw_sockets", "raw6", "IPv6 RAW Sockets", "sockets", prio::IPV6_RAW),
    ("FRAG6", "ipv6.sockstat6_frag_sockets", "fragments6", "IPv6 FRAG Sockets", "fragments", prio::IPV6_FRAGMENTS),
];

/// The `/proc/net/sockstat6` module.
#[derive(Debug)]
pub struct ProcNetSockstat6 {
    path: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    on: [OnDemand; 5],
    charts: [Option<ChartDims>; 5],
}

impl ProcNetSockstat6 {
    /// A collector of `PREFIX/proc/net/sockstat6`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcNetSockstat6 {
        ProcNetSockstat6 {
            path: crate::host_path(prefix, MODULE),
            ff: None,
            ue: update_every,
            on: [OnDemand::Auto; 5],
            charts: Default::default(),
        }
    }
}

impl crate::Collector for ProcNetSockstat6 {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let ff = open_read(&mut self.ff, &self.path, " \t:")?;
        let mut vals = [0u64; 5];
        for l in 0..ff.lines() {
            if let Some(i) = SPECS
                .iter()
                .position(|s| s.0.as_bytes() == ff.word_bytes(l, 0))
                && ff.word_bytes(l, 1) == b"inuse"
            {
                vals[i] = ff.u64_at(l, 2);
            }
        }
        let ue = self.ue;
        for (i, s) in SPECS.iter().enumerate() {
            if !self.on[i].check(vals[i] != 0) {
                continue;
            }
            ensure(&mut self.charts[i], host, now, || {
                (
                    chart_def(s.1, s.2, None, s.3, s.4, MODULE, s.5, ue, ChartType::Line),
                    vec![abs("inuse", 1, 1)],
                )
            })?
            .update(now, &[vals[i] as i64]);
        }
        Ok(())
    }
}
