//! `/sys/kernel/mm/ksm`: mirrors netdata's collectors/proc.plugin/sys_kernel_mm_ksm.c —
//! mem.ksm, mem.ksm_savings, mem.ksm_ratios (only while KSM has pages).

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, Host};

use crate::procfile::ProcFile;
use crate::{ChartDims, CollectError, abs, chart_def, ensure, prio};

const MODULE: &str = "/sys/kernel/mm/ksm";
const FILES: [&str; 5] = [
    "pages_shared",
    "pages_sharing",
    "pages_unshared",
    "pages_volatile",
    "pages_to_scan",
];

/// The KSM module.
#[derive(Debug)]
pub struct SysKernelMmKsm {
    dir: PathBuf,
    files: Vec<ProcFile>,
    ue: u32,
    page_size: i64,
    ksm: Option<ChartDims>,
    savings: Option<ChartDims>,
    ratios: Option<ChartDims>,
}

impl SysKernelMmKsm {
    /// A collector of `PREFIX/sys/kernel/mm/ksm/pages_*`.
    pub fn new(prefix: &Path, update_every: u32) -> SysKernelMmKsm {
        SysKernelMmKsm {
            dir: crate::host_path(prefix, MODULE),
            files: Vec::new(),
            ue: update_every,
            page_size: rustix::param::page_size() as i64,
            ksm: None,
            savings: None,
            ratios: None,
        }
    }
}

impl crate::Collector for SysKernelMmKsm {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        if self.files.is_empty() {
            for f in FILES {
                let p = self.dir.join(f);
                let pf = ProcFile::open(&p, " \t")
                    .map_err(|source| CollectError::Open { path: p, source })?;
                self.files.push(pf);
            }
        }
        let mut v = [0i64; 5];
        for (o, f) in v.iter_mut().zip(self.files.iter_mut()) {
            f.read().map_err(|source| CollectError::Read {
                path: f.path().to_path_buf(),
                source,
            })?;
            *o = f.u64_at(0, 0) as i64;
        }
        let [shared, sharing, unshared, volatile, to_scan] = v;
        let offered = sharing + shared + unshared + volatile;
        if offered == 0 {
            return Ok(());
        }
        let ue = self.ue;
        let ps = self.page_size;
        let mb = 1024 * 1024;
        ensure(&mut self.ksm, host, now, || {
            (
                chart_def(
                    "mem.ksm",
                    "ksm",
                    None,
                    "Kernel Same Page Merging",
                    "MiB",
                    MODULE,
                    prio::MEM_KSM,
                    ue,
                    ChartType::Stacked,
                ),
                vec![
                    abs("shared", 1, mb),
                    abs("unshared", -1, mb),
                    abs("sharing", 1, mb),
                    abs("volatile", -1, mb),
                    abs("to_scan", -1, mb).named("to scan"),
                ],
            )
        })?
        .update(
            now,
            &[
                shared * ps,
                unshared * ps,
                sharing * ps,
                volatile * ps,
                to_scan * ps,
            ],
        );
        ensure(&mut self.savings, host, now, || {
            (
                chart_def(
                    "mem.ksm_savings",
                    "ksm",
                    None,
                    "Kernel Same Page Merging Savings",
                    "MiB",
                    MODULE,
                    prio::MEM_KSM_SAVINGS,
                    ue,
                    ChartType::Area,
                ),
                vec![abs("savings", -1, mb), abs("offered", 1, mb)],
            )
        })?
        .update(now, &[sharing * ps, offered * ps]);
        ensure(&mut self.ratios, host, now, || {
            (
                chart_def(
                    "mem.ksm_ratios",
                    "ksm",
                    None,
                    "Kernel Same Page Merging Effectiveness",
                    "percentage",
                    MODULE,
                    prio::MEM_KSM_RATIOS,
                    ue,
                    ChartType::Line,
                ),
                vec![abs("savings", 1, 10000)],
            )
        })?
        .update(now, &[sharing * 1_000_000 / offered]);
        Ok(())
    }
}
