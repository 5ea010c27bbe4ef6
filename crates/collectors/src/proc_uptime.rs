//! `/proc/uptime`: mirrors netdata's collectors/proc.plugin/proc_uptime.c — system.uptime.

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, Host};

use crate::procfile::{ProcFile, parse_fixed};
use crate::{ChartDims, CollectError, abs, chart_def, ensure, open_read, prio};

const MODULE: &str = "/proc/uptime";

/// The `/proc/uptime` module.
#[derive(Debug)]
pub struct ProcUptime {
    path: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    st: Option<ChartDims>,
}

impl ProcUptime {
    /// A collector of `PREFIX/proc/uptime`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcUptime {
        ProcUptime {
            path: crate::host_path(prefix, "/proc/uptime"),
            ff: None,
            ue: update_every,
            st: None,
        }
    }
}

impl crate::Collector for ProcUptime {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let ff = open_read(&mut self.ff, &self.path, " \t")?;
        if ff.line_words(0) < 1 {
            return Err(CollectError::Malformed {
                path: self.path.clone(),
                reason: "empty",
            });
        }
        let ms = parse_fixed(ff.word_bytes(0, 0), 3);
        let ue = self.ue;
        ensure(&mut self.st, host, now, || {
            let d = chart_def(
                "system.uptime",
                "uptime",
                None,
                "System Uptime",
                "seconds",
                MODULE,
                prio::SYSTEM_UPTIME,
                ue,
                ChartType::Line,
            );
            (d, vec![abs("uptime", 1, 1000)])
        })?
        .update(now, &[ms]);
        Ok(())
    }
}
