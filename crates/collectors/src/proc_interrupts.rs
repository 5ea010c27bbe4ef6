//! `/proc/interrupts`: mirrors netdata's collectors/proc.plugin/proc_interrupts.c —
//! system.interrupts (one dimension per interrupt with a non-zero total, named
//! `DEVICE_IRQ` for numbered ones) and cpu.cpuN_interrupts (dimensions appear once non-zero on
//! that CPU). The table logic is shared with [`crate::proc_softirqs`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tributary_rrd::{Chart, ChartDef, ChartType, Host};

use crate::procfile::ProcFile;
use crate::{CollectError, chart_def, inc, open_read, prio};

const MODULE: &str = "/proc/interrupts";

/// What differs between /proc/interrupts and /proc/softirqs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IrqKind {
    pub(crate) module: &'static str,
    /// Interrupt lines starting with a digit get `LASTWORD_ID` names.
    pub(crate) device_names: bool,
    /// Per-core charts are only created once the core has a non-zero sum.
    pub(crate) core_needs_sum: bool,
    pub(crate) system_def: fn(u32) -> ChartDef,
    pub(crate) core_def: fn(usize, u32) -> ChartDef,
}

#[derive(Debug, Default)]
struct Irq {
    id: String,
    name: String,
    sys_dim: Option<usize>,
    core_dims: Vec<Option<usize>>,
}

/// The shared state of an interrupts-like table.
#[derive(Debug)]
pub(crate) struct IrqTable {
    kind: IrqKind,
    path: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    cpus: usize,
    irqs: Vec<Irq>,
    values: Vec<u64>,
    system: Option<Arc<Chart>>,
    cores: Vec<Option<Arc<Chart>>>,
}

impl IrqTable {
    pub(crate) fn new(kind: IrqKind, path: PathBuf, ue: u32) -> IrqTable {
        IrqTable {
            kind,
            path,
            ff: None,
            ue,
            cpus: 0,
            irqs: Vec::new(),
            values: Vec::new(),
            system: None,
            cores: Vec::new(),
        }
    }

    pub(crate) fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let ff = open_read(&mut self.ff, &self.path, " \t:")?;
        let lines = ff.lines();
        if lines == 0 {
            return Err(CollectError::Malformed {
                path: self.path.clone(),
                reason: "zero lines",
            });
        }
        if self.cpus == 0 {
            self.cpus = (0..ff.line_words(0))
                .filter(|&w| ff.word_bytes(0, w).starts_with(b"CPU"))
                .count();
            if self.cpus == 0 {
                return Err(CollectError::Malformed {
                    path: self.path.clone(),
                    reason: "cannot find the number of CPUs",
                });
            }
        }
        let cpus = self.cpus;
        if self.irqs.len() < lines {
            self.irqs.resize_with(lines, Irq::default);
        }
        self.values.resize(lines * cpus, 0);
        let ue = self.ue;
        let sys = self
            .system
            .get_or_insert_with(|| host.chart((self.kind.system_def)(ue), now / 1_000_000));
        let mut sc = sys.lock();
        sc.begin(now, 0);
        for l in 1..lines {
            let words = ff.line_words(l);
            let irq = &mut self.irqs[l];
            let mut id = ff.word_bytes(l, 0);
            if words == 0 || id.is_empty() {
                irq.id.clear();
                continue;
            }
            if let Some(stripped) = id.strip_suffix(b":") {
                id = stripped;
            }
            let mut total = 0u64;
            for c in 0..cpus {
                let v = if c + 1 < words {
                    ff.u64_at(l, c + 1)
                } else {
                    0
                };
                self.values[l * cpus + c] = v;
                total += v;
            }
            // the line changed meaning (interrupts come and go): forget its dimensions
            let mut name_changed = irq.id.as_bytes() != id;
            if !name_changed
                && self.kind.device_names
                && id.first().is_some_and(u8::is_ascii_digit)
                && words > cpus + 2
            {
                let last = ff.word_bytes(l, words - 1);
                name_changed = !irq.name.as_bytes().starts_with(last);
            }
            if name_changed {
                irq.id = String::from_utf8_lossy(id).into_owned();
                irq.name = if self.kind.device_names
                    && id.first().is_some_and(u8::is_ascii_digit)
                    && words > cpus + 2
                {
                    format!("{}_{}", ff.word(l, words - 1), irq.id)
                } else {
                    irq.id.clone()
                };
                irq.sys_dim = None;
                irq.core_dims.clear();
            }
            if total != 0 {
                if irq.sys_dim.is_none() {
                    irq.sys_dim = Some(sc.dimension(inc(&irq.id, 1, 1).named(&irq.name))?);
                }
                if let Some(d) = irq.sys_dim {
                    sc.set(d, total as i64, now);
                }
            }
        }
        sc.done(now);
        drop(sc);

        if self.cores.len() < cpus {
            self.cores.resize_with(cpus, || None);
        }
        for c in 0..cpus {
            if self.cores[c].is_none() {
                if self.kind.core_needs_sum {
                    let sum: u64 = (1..lines)
                        .filter(|&l| !self.irqs[l].id.is_empty())
                        .map(|l| self.values[l * cpus + c])
                        .sum();
                    if sum == 0 {
                        continue;
                    }
                }
                self.cores[c] = Some(host.chart((self.kind.core_def)(c, ue), now / 1_000_000));
            }
            let Some(chart) = &self.cores[c] else {
                continue;
            };
            let mut cc = chart.lock();
            cc.begin(now, 0);
            for l in 1..lines {
                let irq = &mut self.irqs[l];
                if irq.id.is_empty() {
                    continue;
                }
                let v = self.values[l * cpus + c];
                if irq.core_dims.len() < cpus {
                    irq.core_dims.resize(cpus, None);
                }
                if irq.core_dims[c].is_none() && v != 0 {
                    irq.core_dims[c] = Some(cc.dimension(inc(&irq.id, 1, 1).named(&irq.name))?);
                }
                if let Some(d) = irq.core_dims[c] {
                    cc.set(d, v as i64, now);
                }
            }
            cc.done(now);
        }
        Ok(())
    }
}

fn system_def(ue: u32) -> ChartDef {
    chart_def(
        "system.interrupts",
        "interrupts",
        None,
        "System interrupts",
        "interrupts/s",
        MODULE,
        prio::SYSTEM_INTERRUPTS,
        ue,
        ChartType::Stacked,
    )
}

fn core_def(c: usize, ue: u32) -> ChartDef {
    chart_def(
        &format!("cpu.cpu{c}_interrupts"),
        "interrupts",
        Some("cpu.interrupts"),
        "CPU Interrupts",
        "interrupts/s",
        MODULE,
        prio::INTERRUPTS_PER_CORE + c as i64,
        ue,
        ChartType::Stacked,
    )
}

/// The `/proc/interrupts` module.
#[derive(Debug)]
pub struct ProcInterrupts {
    table: IrqTable,
}

impl ProcInterrupts {
    /// A collector of `PREFIX/proc/interrupts`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcInterrupts {
        let kind = IrqKind {
            module: MODULE,
            device_names: true,
            core_needs_sum: false,
            system_def,
            core_def,
        };
        ProcInterrupts {
            table: IrqTable::new(
                kind,
                crate::host_path(prefix, "/proc/interrupts"),
                update_every,
            ),
        }
    }
}

impl crate::Collector for ProcInterrupts {
    fn name(&self) -> &'static str {
        self.table.kind.module
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        self.table.collect(host, now)
    }
}
