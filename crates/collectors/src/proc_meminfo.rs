//! `/proc/meminfo`: mirrors netdata's collectors/proc.plugin/proc_meminfo.c — system.ram,
//! mem.available, system.swap, mem.hwcorrupt, mem.committed, mem.writeback, mem.kernel,
//! mem.slab, mem.hugepages, mem.transparent_hugepages.

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, Host};

use crate::procfile::ProcFile;
use crate::{ChartDims, CollectError, OnDemand, abs, chart_def, ensure, open_read, prio};

const MODULE: &str = "/proc/meminfo";

const KEYS: [&str; 30] = [
    "MemTotal",
    "MemFree",
    "MemAvailable",
    "Buffers",
    "Cached",
    "SwapTotal",
    "SwapFree",
    "Dirty",
    "Writeback",
    "AnonHugePages",
    "ShmemHugePages",
    "Shmem",
    "Slab",
    "SReclaimable",
    "SUnreclaim",
    "KernelStack",
    "PageTables",
    "NFS_Unstable",
    "Bounce",
    "WritebackTmp",
    "Committed_AS",
    "VmallocUsed",
    "Percpu",
    "HardwareCorrupted",
    "HugePages_Total",
    "HugePages_Free",
    "HugePages_Rsvd",
    "HugePages_Surp",
    "Hugepagesize",
    "SwapCached",
];

#[derive(Clone, Copy)]
#[repr(usize)]
enum K {
    MemTotal,
    MemFree,
    MemAvailable,
    Buffers,
    Cached,
    SwapTotal,
    SwapFree,
    Dirty,
    Writeback,
    AnonHugePages,
    ShmemHugePages,
    Shmem,
    Slab,
    SReclaimable,
    SUnreclaim,
    KernelStack,
    PageTables,
    NfsUnstable,
    Bounce,
    WritebackTmp,
    CommittedAs,
    VmallocUsed,
    Percpu,
    HardwareCorrupted,
    HugePagesTotal,
    HugePagesFree,
    HugePagesRsvd,
    HugePagesSurp,
    Hugepagesize,
}

/// The `/proc/meminfo` module.
#[derive(Debug)]
pub struct ProcMeminfo {
    path: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    vals: [u64; KEYS.len()],
    found: [bool; KEYS.len()],
    do_swap: OnDemand,
    do_hwcorrupt: OnDemand,
    do_hugepages: OnDemand,
    do_thp: OnDemand,
    ram: Option<ChartDims>,
    available: Option<ChartDims>,
    swap: Option<ChartDims>,
    hwcorrupt: Option<ChartDims>,
    committed: Option<ChartDims>,
    writeback: Option<ChartDims>,
    kernel: Option<ChartDims>,
    slab: Option<ChartDims>,
    hugepages: Option<ChartDims>,
    thp: Option<ChartDims>,
}

impl ProcMeminfo {
    /// A collector of `PREFIX/proc/meminfo`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcMeminfo {
        ProcMeminfo {
            path: crate::host_path(prefix, "/proc/meminfo"),
            ff: None,
            ue: update_every,
            vals: [0; KEYS.len()],
            found: [false; KEYS.len()],
            do_swap: OnDemand::Auto,
            do_hwcorrupt: OnDemand::Auto,
            do_hugepages: OnDemand::Auto,
            do_thp: OnDemand::Auto,
            ram: None,
            available: None,
            swap: None,
            hwcorrupt: None,
            committed: None,
            writeback: None,
            kernel: None,
            slab: None,
            hugepages: None,
            thp: None,
        }
    }
}

impl crate::Collector for ProcMeminfo {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let ff = open_read(&mut self.ff, &self.path, " \t:")?;
        self.vals = [0; KEYS.len()];
        self.found = [false; KEYS.len()];
        for l in 0..ff.lines() {
            if ff.line_words(l) < 2 {
                continue;
            }
            let key = ff.word_bytes(l, 0);
            if let Some(i) = KEYS.iter().position(|k| k.as_bytes() == key) {
                self.vals[i] = ff.u64_at(l, 1);
                self.found[i] = true;
            }
        }
        if !self.found[K::MemTotal as usize] {
            return Err(CollectError::Malformed {
                path: self.path.clone(),
                reason: "no MemTotal",
            });
        }
        let v = |k: K| self.vals[k as usize];
        let ue = self.ue;
        let cached = (v(K::Cached) + v(K::SReclaimable)).wrapping_sub(v(K::Shmem));
        let used = v(K::MemTotal)
            .wrapping_sub(v(K::MemFree))
            .wrapping_sub(cached)
            .wrapping_sub(v(K::Buffers));
        let d = |id: &str, fam: &str, title: &str, pr: i64, ty: ChartType, detail: bool| {
            let mut c = chart_def(id, fam, None, title, "MiB", MODULE, pr, ue, ty);
            c.detail = detail;
            c
        };
        ensure(&mut self.ram, host, now, || {
            (
                d(
                    "system.ram",
                    "ram",
                    "System RAM",
                    prio::SYSTEM_RAM,
                    ChartType::Stacked,
                    false,
                ),
                ["free", "used", "cached", "buffers"]
                    .iter()
                    .map(|n| abs(n, 1, 1024))
                    .collect(),
            )
        })?
        .update(
            now,
            &[
                v(K::MemFree) as i64,
                used as i64,
                cached as i64,
                v(K::Buffers) as i64,
            ],
        );
        if self.found[K::MemAvailable as usize] {
            ensure(&mut self.available, host, now, || {
                (
                    d(
                        "mem.available",
                        "system",
                        "Available RAM for applications",
                        prio::MEM_SYSTEM_AVAILABLE,
                        ChartType::Area,
                        false,
                    ),
                    vec![abs("MemAvailable", 1, 1024).named("avail")],
                )
            })?
            .update(now, &[v(K::MemAvailable) as i64]);
        }
        let swap_used = v(K::SwapTotal).wrapping_sub(v(K::SwapFree));
        if self
            .do_swap
            .check(v(K::SwapTotal) != 0 || swap_used != 0 || v(K::SwapFree) != 0)
        {
            ensure(&mut self.swap, host, now, || {
                (
                    d(
                        "system.swap",
                        "swap",
                        "System Swap",
                        prio::SYSTEM_SWAP,
                        ChartType::Stacked,
                        true,
                    ),
                    vec![abs("free", 1, 1024), abs("used", 1, 1024)],
                )
            })?
            .update(now, &[v(K::SwapFree) as i64, swap_used as i64]);
        }
        if self.found[K::HardwareCorrupted as usize]
            && self.do_hwcorrupt.check(v(K::HardwareCorrupted) > 0)
        {
            ensure(&mut self.hwcorrupt, host, now, || {
                (
                    d(
                        "mem.hwcorrupt",
                        "ecc",
                        "Corrupted Memory, detected by ECC",
                        prio::MEM_HW,
                        ChartType::Line,
                        true,
                    ),
                    vec![abs("HardwareCorrupted", 1, 1024)],
                )
            })?
            .update(now, &[v(K::HardwareCorrupted) as i64]);
        }
        ensure(&mut self.committed, host, now, || {
            (
                d(
                    "mem.committed",
                    "system",
                    "Committed (Allocated) Memory",
                    prio::MEM_SYSTEM_COMMITTED,
                    ChartType::Area,
                    true,
                ),
                vec![abs("Committed_AS", 1, 1024)],
            )
        })?
        .update(now, &[v(K::CommittedAs) as i64]);
        ensure(&mut self.writeback, host, now, || {
            (
                d(
                    "mem.writeback",
                    "kernel",
                    "Writeback Memory",
                    prio::MEM_KERNEL,
                    ChartType::Line,
                    true,
                ),
                [
                    "Dirty",
                    "Writeback",
                    "FuseWriteback",
                    "NfsWriteback",
                    "Bounce",
                ]
                .iter()
                .map(|n| abs(n, 1, 1024))
                .collect(),
            )
        })?
        .update(
            now,
            &[
                v(K::Dirty),
                v(K::Writeback),
                v(K::WritebackTmp),
                v(K::NfsUnstable),
                v(K::Bounce),
            ]
            .map(|x| x as i64),
        );
        let percpu = self.found[K::Percpu as usize];
        ensure(&mut self.kernel, host, now, || {
            let mut dims: Vec<_> = ["Slab", "KernelStack", "PageTables", "VmallocUsed"]
                .iter()
                .map(|n| abs(n, 1, 1024))
                .collect();
            if percpu {
                dims.push(abs("Percpu", 1, 1024));
            }
            (
                d(
                    "mem.kernel",
                    "kernel",
                    "Memory Used by Kernel",
                    prio::MEM_KERNEL + 1,
                    ChartType::Stacked,
                    true,
                ),
                dims,
            )
        })?
        .update(
            now,
            &[
                v(K::Slab),
                v(K::KernelStack),
                v(K::PageTables),
                v(K::VmallocUsed),
                v(K::Percpu),
            ]
            .map(|x| x as i64),
        );
        ensure(&mut self.slab, host, now, || {
            (
                d(
                    "mem.slab",
                    "slab",
                    "Reclaimable Kernel Memory",
                    prio::MEM_SLAB,
                    ChartType::Stacked,
                    true,
                ),
                vec![abs("reclaimable", 1, 1024), abs("unreclaimable", 1, 1024)],
            )
        })?
        .update(now, &[v(K::SReclaimable) as i64, v(K::SUnreclaim) as i64]);
        let hps = v(K::Hugepagesize) as i64;
        if self
            .do_hugepages
            .check(hps != 0 && v(K::HugePagesTotal) != 0)
        {
            ensure(&mut self.hugepages, host, now, || {
                (
                    d(
                        "mem.hugepages",
                        "hugepages",
                        "Dedicated HugePages Memory",
                        prio::MEM_HUGEPAGES + 1,
                        ChartType::Stacked,
                        true,
                    ),
                    ["free", "used", "surplus", "reserved"]
                        .iter()
                        .map(|n| abs(n, hps, 1024))
                        .collect(),
                )
            })?
            .update(
                now,
                &[
                    v(K::HugePagesFree) as i64,
                    v(K::HugePagesTotal)
                        .wrapping_sub(v(K::HugePagesFree))
                        .wrapping_sub(v(K::HugePagesRsvd)) as i64,
                    v(K::HugePagesSurp) as i64,
                    v(K::HugePagesRsvd) as i64,
                ],
            );
        }
        if self
            .do_thp
            .check(v(K::AnonHugePages) != 0 || v(K::ShmemHugePages) != 0)
        {
            ensure(&mut self.thp, host, now, || {
                (
                    d(
                        "mem.transparent_hugepages",
                        "hugepages",
                        "Transparent HugePages Memory",
                        prio::MEM_HUGEPAGES,
                        ChartType::Stacked,
                        true,
                    ),
                    vec![abs("anonymous", 1, 1024), abs("shmem", 1, 1024)],
                )
            })?
            .update(
                now,
                &[v(K::AnonHugePages) as i64, v(K::ShmemHugePages) as i64],
            );
        }
        Ok(())
    }
}
