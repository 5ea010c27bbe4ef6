//! `/proc/diskstats`: mirrors netdata's collectors/proc.plugin/proc_diskstats.c — system.io
//! and, per block device, disk.DEV, disk_ext.DEV, disk_ops, disk_ext_ops, disk_qops,
//! disk_backlog, disk_busy, disk_util, disk_mops, disk_ext_mops, disk_iotime,
//! disk_ext_iotime, disk_await, disk_ext_await, disk_avgsz, disk_ext_avgsz, disk_svctm.
//!
//! netdata's rules: `loop*` and `ram*` are excluded; partitions get no performance charts;
//! physical, virtual and unknown devices get them "on demand" (once non-zero); the family is
//! the mount point when the device is mounted; only physical disks count in system.io;
//! device-mapper and by-label names are used as chart names. bcache charts are not
//! implemented.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tributary_rrd::{ChartDef, ChartType, DimDef, Host};

use crate::procfile::{ProcFile, parse_u64};
use crate::{ChartDims, CollectError, OnDemand, abs, chart_def, inc, open_read, prio};

const MODULE: &str = "/proc/diskstats";
const EXCLUDED_DISKS: &str = "loop* ram*";
const SECTOR: i64 = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DiskType {
    Unknown,
    Physical,
    Partition,
    Virtual,
}

#[derive(Debug, Default)]
struct Charts {
    io: Option<ChartDims>,
    ext_io: Option<ChartDims>,
    ops: Option<ChartDims>,
    ext_ops: Option<ChartDims>,
    qops: Option<ChartDims>,
    backlog: Option<ChartDims>,
    busy: Option<ChartDims>,
    util: Option<ChartDims>,
    mops: Option<ChartDims>,
    ext_mops: Option<ChartDims>,
    iotime: Option<ChartDims>,
    ext_iotime: Option<ChartDims>,
    await_: Option<ChartDims>,
    ext_await: Option<ChartDims>,
    avgsz: Option<ChartDims>,
    ext_avgsz: Option<ChartDims>,
    svctm: Option<ChartDims>,
}

impl Charts {
    fn all(&self) -> [&Option<ChartDims>; 17] {
        [
            &self.io,
            &self.ext_io,
            &self.ops,
            &self.ext_ops,
            &self.qops,
            &self.backlog,
            &self.busy,
            &self.util,
            &self.mops,
            &self.ext_mops,
            &self.iotime,
            &self.ext_iotime,
            &self.await_,
            &self.ext_await,
            &self.avgsz,
            &self.ext_avgsz,
            &self.svctm,
        ]
    }
}

#[derive(Debug)]
struct Disk {
    major: u64,
    minor: u64,
    device: String,
    chart_id: String,
    name: String,
    family: String,
    disk_type: DiskType,
    updated: bool,
    do_io: OnDemand,
    do_ops: OnDemand,
    do_mops: OnDemand,
    do_iotime: OnDemand,
    do_qops: OnDemand,
    do_util: OnDemand,
    do_ext: OnDemand,
    do_backlog: OnDemand,
    /// Previous values: reads, writes, readsectors, writesectors, readms, writems, busy,
    /// discards, discardsectors, discardms, flushes, flushms.
    last: [i64; 12],
    charts: Charts,
}

/// The `/proc/diskstats` module.
#[derive(Debug)]
pub struct ProcDiskstats {
    prefix: PathBuf,
    path: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    first: bool,
    disks: Vec<Disk>,
    system_io: Option<ChartDims>,
    do_system_io: OnDemand,
}

impl ProcDiskstats {
    /// A collector of `PREFIX/proc/diskstats`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcDiskstats {
        ProcDiskstats {
            prefix: prefix.to_path_buf(),
            path: crate::host_path(prefix, MODULE),
            ff: None,
            ue: update_every,
            first: true,
            disks: Vec::new(),
            system_io: None,
            do_system_io: OnDemand::Auto,
        }
    }

    fn p(&self, s: &str) -> PathBuf {
        crate::host_path(&self.prefix, s)
    }

    fn new_disk(&self, major: u64, minor: u64, device: &str) -> Disk {
        let name = self.disk_name(major, minor, device);
        let mut chart_id = device.to_string();
        if device.starts_with("dm-")
            && let Ok(uuid) = std::fs::read_to_string(
                self.p(&format!("/sys/devices/virtual/block/{device}/dm/uuid")),
            )
            && let Some(rest) = uuid.trim().strip_prefix("LVM-")
        {
            chart_id = format!("{device}-{rest}");
        }
        let mut disk_type = DiskType::Unknown;
        if self.p(&format!("/sys/block/{device}")).exists() {
            disk_type = DiskType::Physical;
        }
        if self
            .p(&format!("/sys/dev/block/{major}:{minor}/partition"))
            .exists()
        {
            disk_type = DiskType::Partition;
        } else if self
            .p(&format!("/sys/devices/virtual/block/{device}"))
            .exists()
            || std::fs::read_dir(self.p(&format!("/sys/dev/block/{major}:{minor}/slaves/")))
                .is_ok_and(|mut d| d.next().is_some())
        {
            disk_type = DiskType::Virtual;
        }
        let family = self
            .mount_point(major, minor)
            .unwrap_or_else(|| name.clone());
        let enabled = !(crate::simple_pattern_matches(EXCLUDED_DISKS, device)
            || crate::simple_pattern_matches(EXCLUDED_DISKS, &name));
        let perf = enabled && disk_type != DiskType::Partition;
        let d = if perf { OnDemand::Auto } else { OnDemand::No };
        Disk {
            major,
            minor,
            device: device.to_string(),
            chart_id,
            name,
            family,
            disk_type,
            updated: true,
            do_io: d,
            do_ops: d,
            do_mops: d,
            do_iotime: d,
            do_qops: d,
            do_util: d,
            do_ext: d,
            do_backlog: d,
            last: [0; 12],
            charts: Charts::default(),
        }
    }

    /// Device-mapper, by-label or Veritas name of a device, else the device.
    fn disk_name(&self, major: u64, minor: u64, device: &str) -> String {
        for dir in ["/dev/mapper", "/dev/disk/by-label"] {
            let Ok(rd) = std::fs::read_dir(self.p(dir)) else {
                continue;
            };
            for e in rd.filter_map(Result::ok) {
                let Ok(md) = std::fs::metadata(e.path()) else {
                    continue;
                };
                let target = std::fs::canonicalize(e.path()).ok();
                let base_ok = target
                    .as_ref()
                    .and_then(|t| t.file_name())
                    .is_some_and(|n| n == device);
                if md.file_type_is_block() && md.rdev() == makedev(major, minor) && base_ok {
                    return crate::fix_chart_id(&e.file_name().to_string_lossy());
                }
            }
        }
        device.to_string()
    }

    fn mount_point(&self, major: u64, minor: u64) -> Option<String> {
        let mi = std::fs::read_to_string(self.p("/proc/self/mountinfo")).ok()?;
        let want = format!("{major}:{minor}");
        mi.lines().find_map(|l| {
            let mut w = l.split(' ');
            let dev = w.nth(2)?;
            let mp = w.nth(1)?;
            (dev == want).then(|| crate::diskspace::decode_octal(mp))
        })
    }
}

trait BlockType {
    fn file_type_is_block(&self) -> bool;
}

impl BlockType for std::fs::Metadata {
    fn file_type_is_block(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.file_type().is_block_device()
    }
}

fn makedev(major: u64, minor: u64) -> u64 {
    ((major & 0xffff_f000) << 32)
        | ((major & 0xfff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0xff)
}

#[allow(clippy::too_many_arguments)]
fn mk(
    kind: &str,
    d: &Disk,
    ctx: &str,
    title: &str,
    units: &str,
    pr: i64,
    ue: u32,
    ty: ChartType,
    detail: bool,
) -> ChartDef {
    let mut c = chart_def(
        &format!("{kind}.{}", d.chart_id),
        &d.family,
        Some(ctx),
        title,
        units,
        MODULE,
        pr,
        ue,
        ty,
    );
    c.name = format!("{kind}.{}", d.name);
    c.detail = detail;
    c
}

fn draw(
    slot: &mut Option<ChartDims>,
    host: &Host,
    now: i64,
    vals: &[i64],
    make: impl FnOnce() -> (ChartDef, Vec<DimDef>),
) -> Result<(), CollectError> {
    crate::ensure(slot, host, now, make)?.update(now, vals);
    Ok(())
}

impl crate::Collector for ProcDiskstats {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let path = std::mem::take(&mut self.path);
        let mut ff = self.ff.take();
        let res = (|| -> Result<(), CollectError> {
            let f = open_read(&mut ff, &path, " \t")?;
            self.collect_file(f, host, now)
        })();
        self.ff = ff;
        self.path = path;
        res
    }
}

impl ProcDiskstats {
    fn collect_file(&mut self, ff: &ProcFile, host: &Host, now: i64) -> Result<(), CollectError> {
        let ue = self.ue;
        let first = self.first;
        self.first = false;
        let (mut sys_read_kb, mut sys_write_kb) = (0i64, 0i64);
        for d in &mut self.disks {
            d.updated = false;
        }
        for l in 0..ff.lines() {
            let words = ff.line_words(l);
            if words < 14 {
                continue;
            }
            let major = ff.u64_at(l, 0);
            let minor = ff.u64_at(l, 1);
            let dev = ff.word_bytes(l, 2);
            let v = |w: usize| parse_u64(ff.word_bytes(l, w)) as i64;
            let (reads, mreads, rsect, rms, writes, mwrites, wsect, wms) =
                (v(3), v(4), v(5), v(6), v(7), v(8), v(9), v(10));
            let (queued, busy, backlog) = (v(11), v(12), v(13));
            let (discards, mdiscards, dsect, dms) = (v(14), v(15), v(16), v(17));
            let do_fl = words > 17;
            let (flushes, flms) = (v(18), v(19));
            let idx =
                match self.disks.iter().position(|d| {
                    d.major == major && d.minor == minor && d.device.as_bytes() == dev
                }) {
                    Some(i) => i,
                    None => {
                        let nd = self.new_disk(major, minor, &String::from_utf8_lossy(dev));
                        self.disks.push(nd);
                        self.disks.len() - 1
                    }
                };
            let d = &mut self.disks[idx];
            d.updated = true;
            if d.disk_type == DiskType::Physical {
                sys_read_kb += rsect * SECTOR / 1024;
                sys_write_kb += wsect * SECTOR / 1024;
            }
            let last = d.last;
            let mut ch = std::mem::take(&mut d.charts);
            if dd_check(&mut d.do_io, rsect != 0 || wsect != 0 || dsect != 0) {
                draw(&mut ch.io, host, now, &[rsect, wsect], || {
                    (
                        mk(
                            "disk",
                            d,
                            "disk.io",
                            "Disk I/O Bandwidth",
                            "KiB/s",
                            prio::DISK_IO,
                            ue,
                            ChartType::Area,
                            false,
                        ),
                        vec![inc("reads", SECTOR, 1024), inc("writes", -SECTOR, 1024)],
                    )
                })?;
            }
            let io_yes = d.do_io == OnDemand::Yes;
            let ext = d.do_ext != OnDemand::No;
            if io_yes && ext {
                draw(&mut ch.ext_io, host, now, &[dsect], || {
                    (
                        mk(
                            "disk_ext",
                            d,
                            "disk_ext.io",
                            "Amount of Discarded Data",
                            "KiB/s",
                            prio::DISK_IO + 1,
                            ue,
                            ChartType::Area,
                            false,
                        ),
                        vec![inc("discards", SECTOR, 1024)],
                    )
                })?;
            }
            if dd_check(
                &mut d.do_ops,
                reads != 0 || writes != 0 || discards != 0 || flushes != 0,
            ) {
                draw(&mut ch.ops, host, now, &[reads, writes], || {
                    (
                        mk(
                            "disk_ops",
                            d,
                            "disk.ops",
                            "Disk Completed I/O Operations",
                            "operations/s",
                            prio::DISK_OPS,
                            ue,
                            ChartType::Line,
                            true,
                        ),
                        vec![inc("reads", 1, 1), inc("writes", -1, 1)],
                    )
                })?;
            }
            let ops_yes = d.do_ops == OnDemand::Yes;
            if ops_yes && ext {
                draw(&mut ch.ext_ops, host, now, &[discards, flushes], || {
                    let mut dims = vec![inc("discards", 1, 1)];
                    if do_fl {
                        dims.push(inc("flushes", 1, 1));
                    }
                    (
                        mk(
                            "disk_ext_ops",
                            d,
                            "disk_ext.ops",
                            "Disk Completed Extended I/O Operations",
                            "operations/s",
                            prio::DISK_OPS + 1,
                            ue,
                            ChartType::Line,
                            true,
                        ),
                        dims,
                    )
                })?;
            }
            if dd_check(&mut d.do_qops, queued != 0) {
                draw(&mut ch.qops, host, now, &[queued], || {
                    (
                        mk(
                            "disk_qops",
                            d,
                            "disk.qops",
                            "Disk Current I/O Operations",
                            "operations",
                            prio::DISK_QOPS,
                            ue,
                            ChartType::Line,
                            true,
                        ),
                        vec![abs("operations", 1, 1)],
                    )
                })?;
            }
            if dd_check(&mut d.do_backlog, backlog != 0) {
                draw(&mut ch.backlog, host, now, &[backlog], || {
                    (
                        mk(
                            "disk_backlog",
                            d,
                            "disk.backlog",
                            "Disk Backlog",
                            "milliseconds",
                            prio::DISK_BACKLOG,
                            ue,
                            ChartType::Area,
                            true,
                        ),
                        vec![inc("backlog", 1, 1)],
                    )
                })?;
            }
            if dd_check(&mut d.do_util, busy != 0) {
                draw(&mut ch.busy, host, now, &[busy], || {
                    (
                        mk(
                            "disk_busy",
                            d,
                            "disk.busy",
                            "Disk Busy Time",
                            "milliseconds",
                            prio::DISK_BUSY,
                            ue,
                            ChartType::Area,
                            true,
                        ),
                        vec![inc("busy", 1, 1)],
                    )
                })?;
                let util = ((busy - last[6]) / (10 * i64::from(ue))).min(100);
                draw(&mut ch.util, host, now, &[util], || {
                    (
                        mk(
                            "disk_util",
                            d,
                            "disk.util",
                            "Disk Utilization Time",
                            "% of time working",
                            prio::DISK_UTIL,
                            ue,
                            ChartType::Area,
                            true,
                        ),
                        vec![abs("utilization", 1, 1)],
                    )
                })?;
            }
            if dd_check(
                &mut d.do_mops,
                mreads != 0 || mwrites != 0 || mdiscards != 0,
            ) {
                draw(&mut ch.mops, host, now, &[mreads, mwrites], || {
                    (
                        mk(
                            "disk_mops",
                            d,
                            "disk.mops",
                            "Disk Merged Operations",
                            "merged operations/s",
                            prio::DISK_MOPS,
                            ue,
                            ChartType::Line,
                            true,
                        ),
                        vec![inc("reads", 1, 1), inc("writes", -1, 1)],
                    )
                })?;
            }
            if d.do_mops == OnDemand::Yes && ext {
                draw(&mut ch.ext_mops, host, now, &[mdiscards], || {
                    (
                        mk(
                            "disk_ext_mops",
                            d,
                            "disk_ext.mops",
                            "Disk Merged Discard Operations",
                            "merged operations/s",
                            prio::DISK_MOPS + 1,
                            ue,
                            ChartType::Line,
                            true,
                        ),
                        vec![inc("discards", 1, 1)],
                    )
                })?;
            }
            if dd_check(
                &mut d.do_iotime,
                rms != 0 || wms != 0 || dms != 0 || flms != 0,
            ) {
                draw(&mut ch.iotime, host, now, &[rms, wms], || {
                    (
                        mk(
                            "disk_iotime",
                            d,
                            "disk.iotime",
                            "Disk Total I/O Time",
                            "milliseconds/s",
                            prio::DISK_IOTIME,
                            ue,
                            ChartType::Line,
                            true,
                        ),
                        vec![inc("reads", 1, 1), inc("writes", -1, 1)],
                    )
                })?;
            }
            let iotime_yes = d.do_iotime == OnDemand::Yes;
            if iotime_yes && ext {
                draw(&mut ch.ext_iotime, host, now, &[dms, flms], || {
                    let mut dims = vec![inc("discards", 1, 1)];
                    if do_fl {
                        dims.push(inc("flushes", 1, 1));
                    }
                    (
                        mk(
                            "disk_ext_iotime",
                            d,
                            "disk_ext.iotime",
                            "Disk Total I/O Time for Extended Operations",
                            "milliseconds/s",
                            prio::DISK_IOTIME + 1,
                            ue,
                            ChartType::Line,
                            true,
                        ),
                        dims,
                    )
                })?;
            }
            // differential charts, only after the first collection
            if !first {
                let per = |a: i64, b: i64| if b != 0 { a / b } else { 0 };
                let (dr, dw) = (reads - last[0], writes - last[1]);
                let iot = iotime_yes || (d.do_iotime == OnDemand::Auto && (rms != 0 || wms != 0));
                let opsok = ops_yes || (d.do_ops == OnDemand::Auto && (reads != 0 || writes != 0));
                if iot && opsok {
                    draw(
                        &mut ch.await_,
                        host,
                        now,
                        &[per(rms - last[4], dr), per(wms - last[5], dw)],
                        || {
                            (
                                mk(
                                    "disk_await",
                                    d,
                                    "disk.await",
                                    "Average Completed I/O Operation Time",
                                    "milliseconds/operation",
                                    prio::DISK_AWAIT,
                                    ue,
                                    ChartType::Line,
                                    true,
                                ),
                                vec![abs("reads", 1, 1), abs("writes", -1, 1)],
                            )
                        },
                    )?;
                }
                if iotime_yes && ops_yes && ext {
                    let vals = [
                        per(dms - last[9], discards - last[7]),
                        per(flms - last[11], flushes - last[10]),
                    ];
                    draw(&mut ch.ext_await, host, now, &vals, || {
                        let mut dims = vec![abs("discards", 1, 1)];
                        if do_fl {
                            dims.push(abs("flushes", 1, 1));
                        }
                        (
                            mk(
                                "disk_ext_await",
                                d,
                                "disk_ext.await",
                                "Average Completed Extended I/O Operation Time",
                                "milliseconds/operation",
                                prio::DISK_AWAIT + 1,
                                ue,
                                ChartType::Line,
                                true,
                            ),
                            dims,
                        )
                    })?;
                }
                let ioa = io_yes || (d.do_io == OnDemand::Auto && (rsect != 0 || wsect != 0));
                if ioa && opsok {
                    draw(
                        &mut ch.avgsz,
                        host,
                        now,
                        &[per(rsect - last[2], dr), per(wsect - last[3], dw)],
                        || {
                            (
                                mk(
                                    "disk_avgsz",
                                    d,
                                    "disk.avgsz",
                                    "Average Completed I/O Operation Bandwidth",
                                    "KiB/operation",
                                    prio::DISK_AVGSZ,
                                    ue,
                                    ChartType::Area,
                                    true,
                                ),
                                vec![abs("reads", SECTOR, 1024), abs("writes", -SECTOR, 1024)],
                            )
                        },
                    )?;
                }
                if io_yes && ops_yes && ext {
                    draw(
                        &mut ch.ext_avgsz,
                        host,
                        now,
                        &[per(dsect - last[8], discards - last[7])],
                        || {
                            (
                                mk(
                                    "disk_ext_avgsz",
                                    d,
                                    "disk_ext.avgsz",
                                    "Average Amount of Discarded Data",
                                    "KiB/operation",
                                    prio::DISK_AVGSZ,
                                    ue,
                                    ChartType::Area,
                                    true,
                                ),
                                vec![abs("discards", SECTOR, 1024)],
                            )
                        },
                    )?;
                }
                let utl = d.do_util == OnDemand::Yes || (d.do_util == OnDemand::Auto && busy != 0);
                if utl && opsok {
                    draw(
                        &mut ch.svctm,
                        host,
                        now,
                        &[per(busy - last[6], dr + dw)],
                        || {
                            (
                                mk(
                                    "disk_svctm",
                                    d,
                                    "disk.svctm",
                                    "Average Service Time",
                                    "milliseconds/operation",
                                    prio::DISK_SVCTM,
                                    ue,
                                    ChartType::Line,
                                    true,
                                ),
                                vec![abs("svctm", 1, 1)],
                            )
                        },
                    )?;
                }
            }
            d.charts = ch;
            d.last = [
                reads, writes, rsect, wsect, rms, wms, busy, discards, dsect, dms, flushes, flms,
            ];
        }
        if self
            .do_system_io
            .check(sys_read_kb != 0 || sys_write_kb != 0)
        {
            draw(
                &mut self.system_io,
                host,
                now,
                &[sys_read_kb, sys_write_kb],
                || {
                    (
                        chart_def(
                            "system.io",
                            "disk",
                            None,
                            "Disk I/O",
                            "KiB/s",
                            MODULE,
                            prio::SYSTEM_IO,
                            ue,
                            ChartType::Area,
                        ),
                        vec![inc("in", 1, 1), inc("out", -1, 1)],
                    )
                },
            )?;
        }
        self.disks.retain(|d| {
            if !d.updated {
                for c in d.charts.all().into_iter().flatten() {
                    c.obsolete();
                }
            }
            d.updated
        });
        Ok(())
    }
}

fn dd_check(o: &mut OnDemand, nonzero: bool) -> bool {
    o.check(nonzero)
}
