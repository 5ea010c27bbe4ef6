//! `/proc/loadavg`: mirrors netdata's collectors/proc.plugin/proc_loadavg.c — system.load
//! (collected every 5 seconds at most, as the kernel updates it) and system.active_processes.

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, Host};

use crate::procfile::{ProcFile, parse_fixed};
use crate::{ChartDims, CollectError, abs, chart_def, ensure, open_read, prio};

const MODULE: &str = "/proc/loadavg";
const MIN_LOADAVG_UPDATE_EVERY: u32 = 5;

/// The `/proc/loadavg` module.
#[derive(Debug)]
pub struct ProcLoadavg {
    path: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    next_load_us: i64,
    load: Option<ChartDims>,
    active: Option<ChartDims>,
}

impl ProcLoadavg {
    /// A collector of `PREFIX/proc/loadavg`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcLoadavg {
        ProcLoadavg {
            path: crate::host_path(prefix, "/proc/loadavg"),
            ff: None,
            ue: update_every,
            next_load_us: 0,
            load: None,
            active: None,
        }
    }
}

impl crate::Collector for ProcLoadavg {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let ff = open_read(&mut self.ff, &self.path, " \t,:|/")?;
        if ff.line_words(0) < 6 {
            return Err(CollectError::Malformed {
                path: self.path.clone(),
                reason: "expected 6 words",
            });
        }
        let ue = self.ue;
        let load_ue = ue.max(MIN_LOADAVG_UPDATE_EVERY);
        if now >= self.next_load_us {
            self.next_load_us = now + i64::from(load_ue) * 1_000_000 - 500_000;
            let vals = [
                parse_fixed(ff.word_bytes(0, 0), 3),
                parse_fixed(ff.word_bytes(0, 1), 3),
                parse_fixed(ff.word_bytes(0, 2), 3),
            ];
            ensure(&mut self.load, host, now, || {
                let d = chart_def(
                    "system.load",
                    "load",
                    None,
                    "System Load Average",
                    "load",
                    MODULE,
                    prio::SYSTEM_LOAD,
                    load_ue,
                    ChartType::Line,
                );
                (
                    d,
                    vec![
                        abs("load1", 1, 1000),
                        abs("load5", 1, 1000),
                        abs("load15", 1, 1000),
                    ],
                )
            })?
            .update(now, &vals);
        }
        let active = ff.u64_at(0, 4) as i64;
        ensure(&mut self.active, host, now, || {
            let d = chart_def(
                "system.active_processes",
                "processes",
                None,
                "System Active Processes",
                "processes",
                MODULE,
                prio::SYSTEM_ACTIVE_PROCESSES,
                ue,
                ChartType::Line,
            );
            (d, vec![abs("active", 1, 1)])
        })?
        .update(now, &[active]);
        Ok(())
    }
}
