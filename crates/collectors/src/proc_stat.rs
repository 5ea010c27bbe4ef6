//! `/proc/stat`: mirrors netdata's collectors/proc.plugin/proc_stat.c — system.cpu, cpu.cpuN,
//! system.intr, system.ctxt, system.forks, system.processes. (Core throttling, cpufreq and
//! cpuidle charts need /sys/devices/system/cpu files that virtual machines do not have; they
//! are not implemented.)

use std::path::{Path, PathBuf};

use tributary_rrd::{Algorithm, ChartType, DimDef, Host};

use crate::procfile::{ProcFile, parse_u64};
use crate::{ChartDims, CollectError, abs, chart_def, ensure, inc, open_read, prio};

const MODULE: &str = "/proc/stat";
const CPU_DIMS: [&str; 10] = [
    "guest_nice",
    "guest",
    "steal",
    "softirq",
    "irq",
    "user",
    "system",
    "nice",
    "iowait",
    "idle",
];

/// The `/proc/stat` module.
#[derive(Debug)]
pub struct ProcStat {
    path: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    /// Index 0: the total; index N+1: cpuN.
    cpus: Vec<Option<ChartDims>>,
    intr: Option<ChartDims>,
    ctxt: Option<ChartDims>,
    forks: Option<ChartDims>,
    processes: Option<ChartDims>,
}

impl ProcStat {
    /// A collector of `PREFIX/proc/stat`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcStat {
        ProcStat {
            path: crate::host_path(prefix, "/proc/stat"),
            ff: None,
            ue: update_every,
            cpus: Vec::new(),
            intr: None,
            ctxt: None,
            forks: None,
            processes: None,
        }
    }
}

fn cpu_chart(
    host: &Host,
    id: &str,
    core: usize,
    ue: u32,
    now: i64,
) -> Result<ChartDims, CollectError> {
    let def = if core == 0 {
        chart_def(
            "system.cpu",
            id,
            Some("system.cpu"),
            "Total CPU utilization",
            "percentage",
            MODULE,
            prio::SYSTEM_CPU,
            ue,
            ChartType::Stacked,
        )
    } else {
        chart_def(
            &format!("cpu.{id}"),
            "utilization",
            Some("cpu.cpu"),
            "Core utilization",
            "percentage",
            MODULE,
            prio::CPU_PER_CORE + core as i64,
            ue,
            ChartType::Stacked,
        )
    };
    ChartDims::new(
        host,
        def,
        now,
        CPU_DIMS.iter().map(|d| {
            let mut dd = DimDef::new(d).algo(Algorithm::PercentageOfIncrementalRow, 1, 1);
            dd.hidden = *d == "idle";
            dd
        }),
    )
}

impl crate::Collector for ProcStat {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let ff = open_read(&mut self.ff, &self.path, " \t:")?;
        let ue = self.ue;
        let (mut processes, mut running, mut blocked) = (0u64, 0u64, 0u64);
        let mut saw_cpu = false;
        for l in 0..ff.lines() {
            let key = ff.word_bytes(l, 0);
            if key.starts_with(b"cpu") {
                if ff.line_words(l) < 9 {
                    continue;
                }
                saw_cpu = true;
                let core = if key.len() == 3 {
                    0
                } else {
                    parse_u64(&key[3..]) as usize + 1
                };
                let v = |w| ff.u64_at(l, w);
                let guest = v(9);
                let guest_nice = v(10);
                let user = v(1).saturating_sub(guest);
                let nice = v(2).saturating_sub(guest_nice);
                let vals = [
                    guest_nice,
                    guest,
                    v(8),
                    v(7),
                    v(6),
                    user,
                    v(3),
                    nice,
                    v(5),
                    v(4),
                ];
                if core >= self.cpus.len() {
                    self.cpus.resize_with(core + 1, || None);
                }
                if self.cpus[core].is_none() {
                    self.cpus[core] = Some(cpu_chart(host, ff.word(l, 0), core, ue, now)?);
                }
                if let Some(c) = &self.cpus[core] {
                    c.update(now, &vals.map(|x| x as i64));
                }
            } else if key == b"intr" {
                let v = ff.u64_at(l, 1) as i64;
                ensure(&mut self.intr, host, now, || {
                    let mut d = chart_def(
                        "system.intr",
                        "interrupts",
                        None,
                        "CPU Interrupts",
                        "interrupts/s",
                        MODULE,
                        prio::SYSTEM_INTR,
                        ue,
                        ChartType::Line,
                    );
                    d.detail = true;
                    (d, vec![inc("interrupts", 1, 1)])
                })?
                .update(now, &[v]);
            } else if key == b"ctxt" {
                let v = ff.u64_at(l, 1) as i64;
                ensure(&mut self.ctxt, host, now, || {
                    let d = chart_def(
                        "system.ctxt",
                        "processes",
                        None,
                        "CPU Context Switches",
                        "context switches/s",
                        MODULE,
                        prio::SYSTEM_CTXT,
                        ue,
                        ChartType::Line,
                    );
                    (d, vec![inc("switches", 1, 1)])
                })?
                .update(now, &[v]);
            } else if key == b"processes" && processes == 0 {
                processes = ff.u64_at(l, 1);
            } else if key == b"procs_running" && running == 0 {
                running = ff.u64_at(l, 1);
            } else if key == b"procs_blocked" && blocked == 0 {
                blocked = ff.u64_at(l, 1);
            }
        }
        if !saw_cpu {
            return Err(CollectError::Malformed {
                path: self.path.clone(),
                reason: "no cpu lines",
            });
        }
        ensure(&mut self.forks, host, now, || {
            let mut d = chart_def(
                "system.forks",
                "processes",
                None,
                "Started Processes",
                "processes/s",
                MODULE,
                prio::SYSTEM_FORKS,
                ue,
                ChartType::Line,
            );
            d.detail = true;
            (d, vec![inc("started", 1, 1)])
        })?
        .update(now, &[processes as i64]);
        ensure(&mut self.processes, host, now, || {
            let d = chart_def(
                "system.processes",
                "processes",
                None,
                "System Processes",
                "processes",
                MODULE,
                prio::SYSTEM_PROCESSES,
                ue,
                ChartType::Line,
            );
            (d, vec![abs("running", 1, 1), abs("blocked", -1, 1)])
        })?
        .update(now, &[running as i64, blocked as i64]);
        Ok(())
    }
}
