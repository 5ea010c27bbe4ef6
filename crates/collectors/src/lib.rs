//! tributary-collectors: Linux /proc and /sys collectors with netdata 1.37's charts.
//!
//! Mirrors netdata's collectors/proc.plugin/plugin_proc.c (the list of modules and their
//! `[plugin:proc]` names), plus collectors/diskspace.plugin and collectors/idlejitter.plugin.
//! Every module produces exactly the charts of netdata 1.37.1 (ids, names, titles, units,
//! families, contexts, types, priorities, dimensions and their algorithms), so netdata's stock
//! health.d alarms apply unchanged.
//!
//! Use [`all_collectors`] to get every collector, then call [`collect_all_once`] every
//! `update every` seconds. [`idlejitter::IdleJitter`] runs on its own thread.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tributary_rrd::chart_file::ChartFileError;
use tributary_rrd::{Algorithm, Chart, ChartDef, ChartType, DimDef, Host};

pub mod diskspace;
pub mod heartbeat;
pub mod idlejitter;
pub mod ipc;
pub mod prio;
pub mod proc_diskstats;
pub mod proc_entropy;
pub mod proc_interrupts;
pub mod proc_loadavg;
pub mod proc_meminfo;
pub mod proc_net_dev;
pub mod proc_net_netstat;
pub mod proc_net_sockstat;
pub mod proc_net_sockstat6;
pub mod proc_net_softnet_stat;
pub mod proc_net_stat_conntrack;
pub mod proc_pressure;
pub mod proc_softirqs;
pub mod proc_stat;
pub mod proc_uptime;
pub mod proc_vmstat;
pub mod procfile;
pub mod sys_block_zram;
pub mod sys_kernel_mm_ksm;

/// Why a collector cannot go on; the collector is disabled after this.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The file cannot be opened (missing: the kernel has no such feature).
    #[error("cannot open '{path}': {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file cannot be read.
    #[error("cannot read '{path}': {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file's contents are not what this collector expects.
    #[error("'{path}' is malformed: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// The database refused a chart or dimension.
    #[error("database: {0}")]
    Rrd(#[from] ChartFileError),
}

/// A data collection module, named as netdata's `[plugin:proc]` configuration key.
pub trait Collector: Send {
    /// netdata's name of this module (`/proc/stat`, `diskspace`, ...).
    fn name(&self) -> &'static str;

    /// Collects once into `host`; `now_us` is the wall clock in µs. An error disables the
    /// collector (see [`collect_all_once`]).
    fn collect(&mut self, host: &Host, now_us: i64) -> Result<(), CollectError>;
}

/// Every collector netdata 1.37 runs by default on Linux (proc.plugin modules in netdata's
/// order, then diskspace.plugin). `prefix` is netdata's host prefix (the agent's `-s PATH`),
/// prepended to every /proc and /sys path; `update_every` is in seconds.
pub fn all_collectors(prefix: &Path, update_every: u32) -> Vec<Box<dyn Collector>> {
    let ue = update_every.max(1);
    let p = prefix.to_path_buf();
    vec![
        Box::new(proc_stat::ProcStat::new(&p, ue)),
        Box::new(proc_uptime::ProcUptime::new(&p, ue)),
        Box::new(proc_loadavg::ProcLoadavg::new(&p, ue)),
        Box::new(proc_entropy::ProcEntropy::new(&p, ue)),
        Box::new(proc_pressure::ProcPressure::new(&p, ue)),
        Box::new(proc_interrupts::ProcInterrupts::new(&p, ue)),
        Box::new(proc_softirqs::ProcSoftirqs::new(&p, ue)),
        Box::new(proc_vmstat::ProcVmstat::new(&p, ue)),
        Box::new(proc_meminfo::ProcMeminfo::new(&p, ue)),
        Box::new(sys_kernel_mm_ksm::SysKernelMmKsm::new(&p, ue)),
        Box::new(sys_block_zram::SysBlockZram::new(&p, ue)),
        Box::new(proc_net_sockstat::ProcNetSockstat::new(&p, ue)),
        Box::new(proc_net_sockstat6::ProcNetSockstat6::new(&p, ue)),
        Box::new(proc_net_netstat::ProcNetNetstat::new(&p, ue)),
        Box::new(proc_net_softnet_stat::ProcNetSoftnetStat::new(&p, ue)),
        Box::new(proc_net_stat_conntrack::ProcNetStatConntrack::new(&p, ue)),
        Box::new(proc_diskstats::ProcDiskstats::new(&p, ue)),
        Box::new(ipc::Ipc::new(&p, ue)),
        Box::new(proc_net_dev::ProcNetDev::new(&p, ue)),
        Box::new(diskspace::Diskspace::new(&p, ue)),
    ]
}

/// Runs every collector once. A collector that fails is logged (one `error` line naming the
/// file) and removed from `collectors`; the others go on. Returns how many collected.
pub fn collect_all_once(
    collectors: &mut Vec<Box<dyn Collector>>,
    host: &Host,
    now_us: i64,
) -> usize {
    let mut ok = 0;
    collectors.retain_mut(|c| match c.collect(host, now_us) {
        Ok(()) => {
            ok += 1;
            true
        }
        Err(e) => {
            log::error!("collector '{}' disabled: {e}", c.name());
            false
        }
    });
    ok
}

/// The wall clock in µs since the epoch.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// `prefix` + an absolute path such as `/proc/stat`.
pub(crate) fn host_path(prefix: &Path, abs: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_os_string();
    s.push(abs);
    PathBuf::from(s)
}

/// netdata's CONFIG_BOOLEAN_AUTO logic ("on demand"): a chart appears once its values are
/// non-zero and then stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDemand {
    No,
    Auto,
    Yes,
}

impl OnDemand {
    /// Whether to collect now; `nonzero` turns `Auto` into `Yes` for good.
    #[inline]
    pub(crate) fn check(&mut self, nonzero: bool) -> bool {
        match *self {
            OnDemand::Yes => true,
            OnDemand::No => false,
            OnDemand::Auto => {
                if nonzero {
                    *self = OnDemand::Yes;
                }
                nonzero
            }
        }
    }
}

/// Builds a chart definition the way `rrdset_create_localhost()` is called; `context` None
/// means the chart id, as in netdata.
#[allow(clippy::too_many_arguments)]
pub(crate) fn chart_def(
    id: &str,
    family: &str,
    context: Option<&str>,
    title: &str,
    units: &str,
    module: &str,
    priority: i64,
    update_every: u32,
    chart_type: ChartType,
) -> ChartDef {
    ChartDef {
        id: id.to_string(),
        name: id.to_string(),
        title: title.to_string(),
        units: units.to_string(),
        family: family.to_string(),
        context: context.unwrap_or(id).to_string(),
        chart_type,
        priority,
        update_every,
        plugin: "proc.plugin".to_string(),
        module: module.to_string(),
        ..Default::default()
    }
}

/// A dimension: `inc("in", 1, 1)` is netdata's `rrddim_add(st, "in", NULL, 1, 1, INCREMENTAL)`.
pub(crate) fn inc(id: &str, mul: i64, div: i64) -> DimDef {
    DimDef::new(id).algo(Algorithm::Incremental, mul, div)
}

/// An absolute dimension.
pub(crate) fn abs(id: &str, mul: i64, div: i64) -> DimDef {
    DimDef::new(id).algo(Algorithm::Absolute, mul, div)
}

/// A chart and the indices of its dimensions, in the order they were given.
#[derive(Debug)]
pub(crate) struct ChartDims {
    pub(crate) chart: Arc<Chart>,
    pub(crate) dims: Vec<usize>,
}

impl ChartDims {
    /// Creates (or finds) the chart and adds the dimensions.
    pub(crate) fn new(
        host: &Host,
        def: ChartDef,
        now_us: i64,
        dims: impl IntoIterator<Item = DimDef>,
    ) -> Result<ChartDims, CollectError> {
        let chart = host.chart(def, now_us / 1_000_000);
        let mut idx = Vec::new();
        {
            let mut c = chart.lock();
            for d in dims {
                idx.push(c.dimension(d)?);
            }
        }
        Ok(ChartDims { chart, dims: idx })
    }

    /// One collection: `values[i]` goes to the i-th dimension.
    pub(crate) fn update(&self, now_us: i64, values: &[i64]) {
        let mut c = self.chart.lock();
        c.begin(now_us, 0);
        for (&d, &v) in self.dims.iter().zip(values) {
            c.set(d, v, now_us);
        }
        c.done(now_us);
    }

    /// Marks the chart obsolete (the device it describes is gone).
    pub(crate) fn obsolete(&self) {
        mark_obsolete(&self.chart);
    }
}

/// Creates the chart in `slot` on first use (`mk` gives its definition and dimensions) and
/// returns it.
pub(crate) fn ensure<'a>(
    slot: &'a mut Option<ChartDims>,
    host: &Host,
    now_us: i64,
    mk: impl FnOnce() -> (ChartDef, Vec<DimDef>),
) -> Result<&'a ChartDims, CollectError> {
    if slot.is_none() {
        let (def, dims) = mk();
        *slot = Some(ChartDims::new(host, def, now_us, dims)?);
    }
    match slot {
        Some(c) => Ok(c),
        None => unreachable!("chart slot was just filled"),
    }
}

/// Opens the file in `slot` on first use, then re-reads it.
pub(crate) fn open_read<'a>(
    slot: &'a mut Option<procfile::ProcFile>,
    path: &Path,
    separators: &str,
) -> Result<&'a mut procfile::ProcFile, CollectError> {
    if slot.is_none() {
        let f =
            procfile::ProcFile::open(path, separators).map_err(|source| CollectError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        *slot = Some(f);
    }
    match slot {
        Some(f) => {
            f.read().map_err(|source| CollectError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            Ok(f)
        }
        None => unreachable!("file slot was just filled"),
    }
}

/// Marks a chart obsolete, as `rrdset_is_obsolete()`.
pub(crate) fn mark_obsolete(chart: &Chart) {
    let mut c = chart.lock();
    if !c.def.obsolete {
        let mut def = c.def.clone();
        def.obsolete = true;
        c.redefine(def);
    }
}

/// netdata's `netdata_fix_chart_id()`: lower case letters, digits, `-` and `.` stay (`,`
/// becomes `.`), everything else becomes `_`.
pub(crate) fn fix_chart_id(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'a'..=b'z' | b'-' | b'.' => b as char,
            b'A'..=b'Z' => (b + 32) as char,
            b',' => '.',
            _ => '_',
        })
        .collect()
}

/// netdata's simple patterns (space separated, `*` wildcards, `!` negation); true when the
/// first matching pattern is positive.
pub(crate) fn simple_pattern_matches(patterns: &str, s: &str) -> bool {
    tributary_config::SimplePattern::new(patterns).matches(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(simple_pattern_matches("lo fireqos* *-ifb", "lo"));
        assert!(simple_pattern_matches("lo fireqos* *-ifb", "eth0-ifb"));
        assert!(!simple_pattern_matches("lo fireqos* *-ifb", "eth0"));
        assert!(simple_pattern_matches("/proc/* /sys/*", "/sys/fs/cgroup"));
        assert!(!simple_pattern_matches("!/sys/x /sys/*", "/sys/x"));
    }

    #[test]
    fn chart_ids() {
        assert_eq!(fix_chart_id("/dev/shm"), "_dev_shm");
        assert_eq!(fix_chart_id("/"), "_");
        assert_eq!(fix_chart_id("Data,1"), "data.1");
    }

    #[test]
    fn on_demand() {
        let mut d = OnDemand::Auto;
        assert!(!d.check(false));
        assert!(d.check(true));
        assert!(d.check(false));
        let mut n = OnDemand::No;
        assert!(!n.check(true));
    }
}
