//! `/proc/softirqs`: mirrors netdata's collectors/proc.plugin/proc_softirqs.c —
//! system.softirqs and cpu.cpuN_softirqs (a core's chart appears once it has softirqs).

use std::path::Path;

use tributary_rrd::{ChartDef, ChartType, Host};

use crate::proc_interrupts::{IrqKind, IrqTable};
use crate::{CollectError, chart_def, prio};

const MODULE: &str = "/proc/softirqs";

fn system_def(ue: u32) -> ChartDef {
    chart_def(
        "system.softirqs",
        "softirqs",
        None,
        "System softirqs",
        "softirqs/s",
        MODULE,
        prio::SYSTEM_SOFTIRQS,
        ue,
        ChartType::Stacked,
    )
}

fn core_def(c: usize, ue: u32) -> ChartDef {
    chart_def(
        &format!("cpu.cpu{c}_softirqs"),
        "softirqs",
        Some("cpu.softirqs"),
        "CPU softirqs",
        "softirqs/s",
        MODULE,
        prio::SOFTIRQS_PER_CORE + c as i64,
        ue,
        ChartType::Stacked,
    )
}

/// The `/proc/softirqs` module.
#[derive(Debug)]
pub struct ProcSoftirqs {
    table: IrqTable,
}

impl ProcSoftirqs {
    /// A collector of `PREFIX/proc/softirqs`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcSoftirqs {
        let kind = IrqKind {
            module: MODULE,
            device_names: false,
            core_needs_sum: true,
            system_def,
            core_def,
        };
        ProcSoftirqs {
            table: IrqTable::new(
                kind,
                crate::host_path(prefix, "/proc/softirqs"),
                update_every,
            ),
        }
    }
}

impl crate::Collector for ProcSoftirqs {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        self.table.collect(host, now)
    }
}
