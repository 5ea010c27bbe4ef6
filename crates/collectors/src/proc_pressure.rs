//! `/proc/pressure`: mirrors netdata's collectors/proc.plugin/proc_pressure.c — the
//! system.{cpu,memory,io}_{some,full}_pressure and `_stall_time` charts, collected every 2
//! seconds at most (the kernel's PSI period).

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, Host};

use crate::procfile::{ProcFile, parse_fixed};
use crate::{ChartDims, CollectError, abs, chart_def, ensure, inc, prio};

const MODULE: &str = "/proc/pressure";
const MIN_PRESSURE_UPDATE_EVERY: u32 = 2;

struct Resource {
    name: &'static str,
    family: &'static str,
    priority: i64,
    titles: [&'static str; 4],
}

const RESOURCES: [Resource; 3] = [
    Resource {
        name: "cpu",
        family: "cpu",
        priority: prio::SYSTEM_CPU,
        titles: [
            "CPU some pressure",
            "CPU some pressure stall time",
            "CPU full pressure",
            "CPU full pressure stall time",
        ],
    },
    Resource {
        name: "memory",
        family: "ram",
        priority: prio::SYSTEM_RAM,
        titles: [
            "Memory some pressure",
            "Memory some pressure stall time",
            "Memory full pressure",
            "Memory full pressure stall time",
        ],
    },
    Resource {
        name: "io",
        family: "disk",
        priority: prio::SYSTEM_IO,
        titles: [
            "I/O some pressure",
            "I/O some pressure stall time",
            "I/O full pressure",
            "I/O full pressure stall time",
        ],
    },
];

#[derive(Default, Debug)]
struct State {
    ff: Option<ProcFile>,
    failed: bool,
    /// some share, some total, full share, full total.
    charts: [Option<ChartDims>; 4],
}

/// The `/proc/pressure` module.
#[derive(Debug)]
pub struct ProcPressure {
    base: PathBuf,
    ue: u32,
    next_us: i64,
    res: [State; 3],
}

impl ProcPressure {
    /// A collector of `PREFIX/proc/pressure/{cpu,memory,io}`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcPressure {
        ProcPressure {
            base: crate::host_path(prefix, "/proc/pressure"),
            ue: update_every.max(MIN_PRESSURE_UPDATE_EVERY),
            next_us: 0,
            res: Default::default(),
        }
    }
}

impl crate::Collector for ProcPressure {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        if now < self.next_us {
            return Ok(());
        }
        self.next_us = now + i64::from(self.ue) * 1_000_000 - 500_000;
        let ue = self.ue;
        let mut failures = 0;
        for (r, st) in RESOURCES.iter().zip(self.res.iter_mut()) {
            if st.failed {
                failures += 1;
                continue;
            }
            if st.ff.is_none() {
                let path = self.base.join(r.name);
                match ProcFile::open(&path, " =") {
                    Ok(f) => st.ff = Some(f),
                    Err(e) => {
                        log::error!(
                            "{MODULE}: cannot read pressure information from '{}': {e}",
                            path.display()
                        );
                        st.failed = true;
                        failures += 1;
                        continue;
                    }
                }
            }
            let Some(ff) = st.ff.as_mut() else { continue };
            if ff.read().is_err() || ff.lines() < 1 {
                failures += 1;
                continue;
            }
            for (line, some) in [(0usize, true), (1usize, false)] {
                if ff.line_words(line) < 9 {
                    continue;
                }
                let k = if some { 0 } else { 2 };
                let p = if some {
                    ["some 10", "some 60", "some 300"]
                } else {
                    ["full 10", "full 60", "full 300"]
                };
                let vals = [
                    parse_fixed(ff.word_bytes(line, 2), 2),
                    parse_fixed(ff.word_bytes(line, 4), 2),
                    parse_fixed(ff.word_bytes(line, 6), 2),
                ];
                let total = (ff.u64_at(line, 8) / 1000) as i64;
                let (a, b) = st.charts.split_at_mut(k + 1);
                ensure(&mut a[k], host, now, || {
                    let id = format!(
                        "system.{}_{}_pressure",
                        r.name,
                        if some { "some" } else { "full" }
                    );
                    let d = chart_def(
                        &id,
                        r.family,
                        None,
                        r.titles[k],
                        "percentage",
                        MODULE,
                        r.priority + if some { 40 } else { 50 },
                        ue,
                        ChartType::Line,
                    );
                    (d, p.iter().map(|n| abs(n, 1, 100)).collect())
                })?
                .update(now, &vals);
                ensure(&mut b[0], host, now, || {
                    let id = format!(
                        "system.{}_{}_pressure_stall_time",
                        r.name,
                        if some { "some" } else { "full" }
                    );
                    let d = chart_def(
                        &id,
                        r.family,
                        None,
                        r.titles[k + 1],
                        "ms",
                        MODULE,
                        r.priority + if some { 45 } else { 55 },
                        ue,
                        ChartType::Line,
                    );
                    (d, vec![inc("time", 1, 1)])
                })?
                .update(now, &[total]);
            }
        }
        if failures == RESOURCES.len() {
            return Err(CollectError::Open {
                path: self.base.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no pressure files"),
            });
        }
        Ok(())
    }
}
