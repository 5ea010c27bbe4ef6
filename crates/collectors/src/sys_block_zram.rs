//! `/sys/block/zram`: mirrors netdata's collectors/proc.plugin/sys_block_zram.c —
//! mem.zram_usage.DEV, mem.zram_savings.DEV, mem.zram_ratio.DEV, mem.zram_efficiency.DEV from
//! each zram device's `mm_stat` (netdata finds the devices by the zram major number in
//! /proc/devices; here every /sys/block/zram* device with an `mm_stat` is taken).

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartDef, ChartType, Host};

use crate::procfile::ProcFile;
use crate::{ChartDims, CollectError, abs, prio};

const MODULE: &str = "/sys/block/zram";

#[derive(Debug)]
struct Dev {
    ff: ProcFile,
    charts: [ChartDims; 4],
}

/// The zram module.
#[derive(Debug)]
pub struct SysBlockZram {
    devices_path: PathBuf,
    block: PathBuf,
    ue: u32,
    initialized: bool,
    devs: Vec<Dev>,
}

impl SysBlockZram {
    /// A collector of `PREFIX/sys/block/zram*/mm_stat`.
    pub fn new(prefix: &Path, update_every: u32) -> SysBlockZram {
        SysBlockZram {
            devices_path: crate::host_path(prefix, "/proc/devices"),
            block: crate::host_path(prefix, "/sys/block"),
            ue: update_every,
            initialized: false,
            devs: Vec::new(),
        }
    }

    fn init(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let devices =
            std::fs::read_to_string(&self.devices_path).map_err(|source| CollectError::Open {
                path: self.devices_path.clone(),
                source,
            })?;
        if !devices
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some("zram"))
        {
            return Err(CollectError::Malformed {
                path: self.devices_path.clone(),
                reason: "no zram devices",
            });
        }
        let mut names: Vec<String> = std::fs::read_dir(&self.block)
            .map_err(|source| CollectError::Open {
                path: self.block.clone(),
                source,
            })?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("zram"))
            .collect();
        names.sort();
        let ue = self.ue;
        for name in names {
            let Ok(ff) = ProcFile::open(self.block.join(&name).join("mm_stat"), " \t:") else {
                continue;
            };
            let def = |kind: &str, title: &str, units: &str, pr: i64, ty: ChartType| -> ChartDef {
                let id = format!("zram_{kind}.{name}");
                let mut d = crate::chart_def(
                    &format!("mem.{id}"),
                    &name,
                    Some(&format!("mem.zram_{kind}")),
                    title,
                    units,
                    MODULE,
                    pr,
                    ue,
                    ty,
                );
                d.name = format!("mem.{id}");
                d
            };
            let charts = [
                ChartDims::new(
                    host,
                    def(
                        "usage",
                        "ZRAM Memory Usage",
                        "MiB",
                        prio::MEM_ZRAM,
                        ChartType::Area,
                    ),
                    now,
                    [
                        abs("compressed", 1, 1024 * 1024),
                        abs("metadata", 1, 1024 * 1024),
                    ],
                )?,
                ChartDims::new(
                    host,
                    def(
                        "savings",
                        "ZRAM Memory Savings",
                        "MiB",
                        prio::MEM_ZRAM_SAVINGS,
                        ChartType::Area,
                    ),
                    now,
                    [
                        abs("savings", 1, 1024 * 1024),
                        abs("original", 1, 1024 * 1024),
                    ],
                )?,
                ChartDims::new(
                    host,
                    def(
                        "ratio",
                        "ZRAM Compression Ratio (original to compressed)",
                        "ratio",
                        prio::MEM_ZRAM_RATIO,
                        ChartType::Line,
                    ),
                    now,
                    [abs("ratio", 1, 100)],
                )?,
                ChartDims::new(
                    host,
                    def(
                        "efficiency",
                        "ZRAM Efficiency",
                        "percentage",
                        prio::MEM_ZRAM_EFFICIENCY,
                        ChartType::Line,
                    ),
                    now,
                    [abs("percent", 1, 10000)],
                )?,
            ];
            self.devs.push(Dev { ff, charts });
        }
        Ok(())
    }
}

impl crate::Collector for SysBlockZram {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        if !self.initialized {
            self.initialized = true;
            self.init(host, now)?;
        }
        if self.devs.is_empty() {
            return Err(CollectError::Malformed {
                path: self.block.clone(),
                reason: "no zram device with mm_stat",
            });
        }
        self.devs.retain_mut(|d| {
            if d.ff.read().is_err() || d.ff.line_words(0) < 7 {
                log::info!(
                    "{MODULE}: disabling monitoring of '{}'",
                    d.ff.path().display()
                );
                for c in &d.charts {
                    c.obsolete();
                }
                return false;
            }
            let orig = d.ff.u64_at(0, 0) as i64;
            let compr = d.ff.u64_at(0, 1) as i64;
            let used = d.ff.u64_at(0, 2) as i64;
            d.charts[0].update(now, &[compr, used - compr]);
            d.charts[1].update(now, &[compr - orig, orig]);
            d.charts[2].update(now, &[if compr == 0 { 1 } else { orig * 100 / compr }]);
            d.charts[3].update(
                now,
                &[if used == 0 {
                    100
                } else {
                    compr * 1_000_000 / used
                }],
            );
            true
        });
        Ok(())
    }
}
