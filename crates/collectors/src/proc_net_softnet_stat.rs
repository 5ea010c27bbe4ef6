//! `/proc/net/softnet_stat`: mirrors netdata's collectors/proc.plugin/proc_net_softnet_stat.c —
//! system.softnet_stat and cpu.cpuN_softnet_stat (hexadecimal columns per CPU).

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, Host};

use crate::procfile::{ProcFile, parse_hex};
use crate::{ChartDims, CollectError, chart_def, ensure, inc, open_read, prio};

const MODULE: &str = "/proc/net/softnet_stat";
/// (column, dimension)
const COLUMNS: [(usize, &str); 5] = [
    (0, "processed"),
    (1, "dropped"),
    (2, "squeezed"),
    (9, "received_rps"),
    (10, "flow_limit_count"),
];

/// The `/proc/net/softnet_stat` module.
#[derive(Debug)]
pub struct ProcNetSoftnetStat {
    path: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    data: Vec<[u64; 5]>,
    system: Option<ChartDims>,
    cores: Vec<Option<ChartDims>>,
}

impl ProcNetSoftnetStat {
    /// A collector of `PREFIX/proc/net/softnet_stat`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcNetSoftnetStat {
        ProcNetSoftnetStat {
            path: crate::host_path(prefix, MODULE),
            ff: None,
            ue: update_every,
            data: Vec::new(),
            system: None,
            cores: Vec::new(),
        }
    }
}

impl crate::Collector for ProcNetSoftnetStat {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let ff = open_read(&mut self.ff, &self.path, " \t")?;
        let mut lines = ff.lines().min(200);
        if lines == 0 || ff.line_words(0) == 0 {
            return Err(CollectError::Malformed {
                path: self.path.clone(),
                reason: "no lines or columns",
            });
        }
        self.data.resize(lines, [0; 5]);
        let mut total = [0u64; 5];
        for l in 0..lines {
            for (i, &(col, _)) in COLUMNS.iter().enumerate() {
                let v = parse_hex(ff.word_bytes(l, col)) & 0xffff_ffff;
                self.data[l][i] = v;
                total[i] += v;
            }
        }
        // netdata drops the last CPU when it processed nothing
        if self.data[lines - 1][0] == 0 {
            lines -= 1;
        }
        let ue = self.ue;
        ensure(&mut self.system, host, now, || {
            let d = chart_def(
                "system.softnet_stat",
                "softnet_stat",
                Some("system.softnet_stat"),
                "System softnet_stat",
                "events/s",
                MODULE,
                prio::SYSTEM_SOFTNET_STAT,
                ue,
                ChartType::Line,
            );
            (d, COLUMNS.iter().map(|c| inc(c.1, 1, 1)).collect())
        })?
        .update(now, &total.map(|x| x as i64));
        if self.cores.len() < lines {
            self.cores.resize_with(lines, || None);
        }
        for l in 0..lines {
            let vals = self.data[l].map(|x| x as i64);
            ensure(&mut self.cores[l], host, now, || {
                let d = chart_def(
                    &format!("cpu.cpu{l}_softnet_stat"),
                    "softnet_stat",
                    Some("cpu.softnet_stat"),
                    "CPU softnet_stat",
                    "events/s",
                    MODULE,
                    prio::SOFTNET_PER_CORE + l as i64,
                    ue,
                    ChartType::Line,
                );
                (d, COLUMNS.iter().map(|c| inc(c.1, 1, 1)).collect())
            })?
            .update(now, &vals);
        }
        Ok(())
    }
}
