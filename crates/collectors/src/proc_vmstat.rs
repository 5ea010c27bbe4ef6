//! `/proc/vmstat`: mirrors netdata's collectors/proc.plugin/proc_vmstat.c — system.swapio,
//! system.pgpgio, mem.pgfaults, mem.oom_kill and mem.numa (only with 2+ NUMA nodes).

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, Host};

use crate::procfile::ProcFile;
use crate::{ChartDims, CollectError, OnDemand, chart_def, ensure, inc, open_read, prio};

const MODULE: &str = "/proc/vmstat";

const KEYS: [&str; 16] = [
    "pswpin",
    "pswpout",
    "pgpgin",
    "pgpgout",
    "pgfault",
    "pgmajfault",
    "oom_kill",
    "numa_local",
    "numa_foreign",
    "numa_interleave",
    "numa_other",
    "numa_pte_updates",
    "numa_huge_pte_updates",
    "numa_hint_faults",
    "numa_hint_faults_local",
    "numa_pages_migrated",
];
const NUMA_DIMS: [&str; 9] = [
    "local",
    "foreign",
    "interleave",
    "other",
    "pte_updates",
    "huge_pte_updates",
    "hint_faults",
    "hint_faults_local",
    "pages_migrated",
];

/// The `/proc/vmstat` module.
#[derive(Debug)]
pub struct ProcVmstat {
    path: PathBuf,
    node_dir: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    page_size: i64,
    initialized: bool,
    do_swapio: OnDemand,
    do_oom_kill: OnDemand,
    do_numa: OnDemand,
    vals: [u64; KEYS.len()],
    swapio: Option<ChartDims>,
    pgpgio: Option<ChartDims>,
    pgfaults: Option<ChartDims>,
    oom_kill: Option<ChartDims>,
    numa: Option<ChartDims>,
}

impl ProcVmstat {
    /// A collector of `PREFIX/proc/vmstat`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcVmstat {
        ProcVmstat {
            path: crate::host_path(prefix, "/proc/vmstat"),
            node_dir: crate::host_path(prefix, "/sys/devices/system/node"),
            ff: None,
            ue: update_every,
            page_size: rustix::param::page_size() as i64,
            initialized: false,
            do_swapio: OnDemand::Auto,
            do_oom_kill: OnDemand::Yes,
            do_numa: OnDemand::Auto,
            vals: [0; KEYS.len()],
            swapio: None,
            pgpgio: None,
            pgfaults: None,
            oom_kill: None,
            numa: None,
        }
    }
}

impl crate::Collector for ProcVmstat {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let ff = open_read(&mut self.ff, &self.path, " \t:")?;
        let mut found = [false; KEYS.len()];
        for l in 0..ff.lines() {
            if ff.line_words(l) < 2 {
                continue;
            }
            let key = ff.word_bytes(l, 0);
            if let Some(i) = KEYS.iter().position(|k| k.as_bytes() == key) {
                self.vals[i] = ff.u64_at(l, 1);
                found[i] = true;
            }
        }
        if !self.initialized {
            self.initialized = true;
            if !found[6] {
                self.do_oom_kill = OnDemand::No;
            }
            let nodes = std::fs::read_dir(&self.node_dir).map_or(0, |d| {
                d.filter_map(Result::ok)
                    .filter(|e| {
                        let n = e.file_name();
                        let n = n.to_string_lossy();
                        n.starts_with("node")
                            && n[4..].bytes().all(|b| b.is_ascii_digit())
                            && n.len() > 4
                    })
                    .count()
            });
            if nodes < 2 {
                self.do_numa = OnDemand::No;
            }
        }
        let v = self.vals;
        let ue = self.ue;
        if self.do_swapio.check(v[0] != 0 || v[1] != 0) {
            let ps = self.page_size;
            ensure(&mut self.swapio, host, now, || {
                (
                    chart_def(
                        "system.swapio",
                        "swap",
                        None,
                        "Swap I/O",
                        "KiB/s",
                        MODULE,
                        prio::SYSTEM_SWAPIO,
                        ue,
                        ChartType::Area,
                    ),
                    vec![inc("in", ps, 1024), inc("out", -ps, 1024)],
                )
            })?
            .update(now, &[v[0] as i64, v[1] as i64]);
        }
        ensure(&mut self.pgpgio, host, now, || {
            (
                chart_def(
                    "system.pgpgio",
                    "disk",
                    None,
                    "Memory Paged from/to disk",
                    "KiB/s",
                    MODULE,
                    prio::SYSTEM_PGPGIO,
                    ue,
                    ChartType::Area,
                ),
                vec![inc("in", 1, 1), inc("out", -1, 1)],
            )
        })?
        .update(now, &[v[2] as i64, v[3] as i64]);
        ensure(&mut self.pgfaults, host, now, || {
            let mut d = chart_def(
                "mem.pgfaults",
                "system",
                None,
                "Memory Page Faults",
                "faults/s",
                MODULE,
                prio::MEM_SYSTEM_PGFAULTS,
                ue,
                ChartType::Line,
            );
            d.detail = true;
            (d, vec![inc("minor", 1, 1), inc("major", -1, 1)])
        })?
        .update(now, &[v[4] as i64, v[5] as i64]);
        if self.do_oom_kill.check(v[6] != 0) {
            ensure(&mut self.oom_kill, host, now, || {
                let mut d = chart_def(
                    "mem.oom_kill",
                    "system",
                    None,
                    "Out of Memory Kills",
                    "kills/s",
                    MODULE,
                    prio::MEM_SYSTEM_OOM_KILL,
                    ue,
                    ChartType::Line,
                );
                d.detail = true;
                (d, vec![inc("kills", 1, 1)])
            })?
            .update(now, &[v[6] as i64]);
        }
        if self.do_numa.check(v[7..].iter().any(|&x| x != 0)) {
            let mut vals = [0i64; 9];
            for (o, x) in vals.iter_mut().zip(&v[7..]) {
                *o = *x as i64;
            }
            ensure(&mut self.numa, host, now, || {
                let mut d = chart_def(
                    "mem.numa",
                    "numa",
                    None,
                    "NUMA events",
                    "events/s",
                    MODULE,
                    prio::MEM_NUMA,
                    ue,
                    ChartType::Line,
                );
                d.detail = true;
                (d, NUMA_DIMS.iter().map(|n| inc(n, 1, 1)).collect())
            })?
            .update(now, &vals);
        }
        Ok(())
    }
}
