//! `/proc/sys/kernel/random/entropy_avail`: mirrors netdata's
//! collectors/proc.plugin/proc_sys_kernel_random_entropy_avail.c — system.entropy.

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, Host};

use crate::procfile::ProcFile;
use crate::{ChartDims, CollectError, abs, chart_def, ensure, open_read, prio};

const MODULE: &str = "/proc/sys/kernel/random/entropy_avail";

/// The entropy module.
#[derive(Debug)]
pub struct ProcEntropy {
    path: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    st: Option<ChartDims>,
}

impl ProcEntropy {
    /// A collector of `PREFIX/proc/sys/kernel/random/entropy_avail`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcEntropy {
        ProcEntropy {
            path: crate::host_path(prefix, MODULE),
            ff: None,
            ue: update_every,
            st: None,
        }
    }
}

impl crate::Collector for ProcEntropy {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let ff = open_read(&mut self.ff, &self.path, "")?;
        if ff.line_words(0) < 1 {
            return Err(CollectError::Malformed {
                path: self.path.clone(),
                reason: "empty",
            });
        }
        let v = ff.u64_at(0, 0) as i64;
        let ue = self.ue;
        ensure(&mut self.st, host, now, || {
            let d = chart_def(
                "system.entropy",
                "entropy",
                None,
                "Available Entropy",
                "entropy",
                MODULE,
                prio::SYSTEM_ENTROPY,
                ue,
                ChartType::Line,
            );
            (d, vec![abs("entropy", 1, 1)])
        })?
        .update(now, &[v]);
        Ok(())
    }
}
