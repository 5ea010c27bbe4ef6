//! Disk space and inodes: mirrors netdata's collectors/diskspace.plugin/plugin_diskspace.c
//! (with collectors/proc.plugin/proc_self_mountinfo.c) — disk_space.MOUNT and
//! disk_inodes.MOUNT for every mount of /proc/self/mountinfo, with netdata's exclusions:
//! dummy filesystems (proc, sysfs, devpts, ...), the paths `/proc/* /sys/* /var/run/user/*
//! /run/user/* /snap/* /var/lib/docker/*`, network/FUSE filesystems such as sshfs, read-only
//! mounts (unless already collected), systemd-protected read-only mounts, and non-directories.

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartDef, ChartType, Host};

use crate::procfile::ProcFile;
use crate::{ChartDims, CollectError, OnDemand, abs, open_read, prio};

const MODULE: &str = "diskspace";
const EXCLUDED_PATHS: &str = "/proc/* /sys/* /var/run/user/* /run/user/* /snap/* /var/lib/docker/*";
const EXCLUDED_FILESYSTEMS: &str =
    "*gvfs *gluster* *s3fs *ipfs *davfs2 *httpfs *sshfs *gdfs *moosefs fusectl autofs";
const DUMMY_FILESYSTEMS: [&str; 13] = [
    "autofs",
    "proc",
    "subfs",
    "debugfs",
    "devpts",
    "fusectl",
    "mqueue",
    "rpc_pipefs",
    "sysfs",
    "devfs",
    "kernfs",
    "ignore",
    "none",
];
const SYSTEMD_PROTECTED: [&str; 11] = [
    "/home",
    "/root",
    "/usr",
    "/boot",
    "/efi",
    "/etc",
    "/run/user",
    "/lib",
    "/lib64",
    "/bin",
    "/sbin",
];
const GIB: i64 = 1024 * 1024 * 1024;

/// Decodes the `\040`-style octal escapes of /proc/self/mountinfo.
pub(crate) fn decode_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_read_only(opts: &[u8]) -> bool {
    opts.split(|&c| c == b',').any(|o| o == b"ro")
}

#[derive(Debug)]
struct Mount {
    raw: Vec<u8>,
    mount_point: String,
    path: PathBuf,
    do_space: OnDemand,
    do_inodes: OnDemand,
    read_only: bool,
    updated: bool,
    collected: u64,
    shown_error: bool,
    space: Option<ChartDims>,
    inodes: Option<ChartDims>,
}

/// The diskspace plugin as a collector.
#[derive(Debug)]
pub struct Diskspace {
    prefix: PathBuf,
    path: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    mounts: Vec<Mount>,
    last_scan_us: i64,
}

/// netdata's `[plugin:proc:diskspace] check for new mount points every` (seconds).
const RESCAN_EVERY_US: i64 = 15 * 1_000_000;

impl Diskspace {
    /// A collector of the mounts in `PREFIX/proc/self/mountinfo`.
    pub fn new(prefix: &Path, update_every: u32) -> Diskspace {
        Diskspace {
            prefix: prefix.to_path_buf(),
            path: crate::host_path(prefix, "/proc/self/mountinfo"),
            ff: None,
            ue: update_every,
            mounts: Vec::new(),
            last_scan_us: 0,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn def(
    kind: &str,
    id: &str,
    family: &str,
    ctx: &str,
    title: &str,
    units: &str,
    pr: i64,
    ue: u32,
) -> ChartDef {
    let mut d = crate::chart_def(
        &format!("{kind}.{id}"),
        family,
        Some(ctx),
        title,
        units,
        "",
        pr,
        ue,
        ChartType::Stacked,
    );
    d.plugin = "diskspace.plugin".to_string();
    d
}

impl crate::Collector for Diskspace {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        if self.last_scan_us == 0 || now - self.last_scan_us >= RESCAN_EVERY_US {
            let path = std::mem::take(&mut self.path);
            let mut ff = self.ff.take();
            let r = match open_read(&mut ff, &path, " \t") {
                Ok(f) => {
                    self.scan(f);
                    Ok(())
                }
                Err(e) => Err(e),
            };
            self.ff = ff;
            self.path = path;
            r?;
            self.last_scan_us = now;
        }
        let ue = self.ue;
        for m in &mut self.mounts {
            collect_mount(m, host, now, ue)?;
        }
        Ok(())
    }
}

impl Diskspace {
    /// Reads the mount table: new mounts are added, vanished ones obsoleted and dropped.
    fn scan(&mut self, ff: &ProcFile) {
        for m in &mut self.mounts {
            m.updated = false;
        }
        for l in 0..ff.lines() {
            let words = ff.line_words(l);
            if words < 7 {
                continue;
            }
            let root = ff.word_bytes(l, 3);
            let mp_raw = ff.word_bytes(l, 4);
            let opts = ff.word_bytes(l, 5);
            let mut w = 6;
            while w < words && ff.word_bytes(l, w) != b"-" {
                w += 1;
            }
            if w + 3 > words {
                continue;
            }
            let fstype = ff.word(l, w + 1);
            let super_opts = ff.word_bytes(l, w + 3);
            let read_only = is_read_only(opts) || is_read_only(super_opts);
            if DUMMY_FILESYSTEMS.contains(&fstype) {
                continue;
            }
            let protected = SYSTEMD_PROTECTED.iter().any(|p| p.as_bytes() == mp_raw);
            if read_only && protected && root == mp_raw {
                continue;
            }
            let idx = match self.mounts.iter().position(|m| m.raw == mp_raw) {
                Some(i) => i,
                None => {
                    let mount_point = decode_octal(&String::from_utf8_lossy(mp_raw));
                    let path = crate::host_path(&self.prefix, &mount_point);
                    let mut on = if crate::simple_pattern_matches(EXCLUDED_PATHS, &mount_point)
                        || crate::simple_pattern_matches(EXCLUDED_FILESYSTEMS, fstype)
                    {
                        OnDemand::No
                    } else {
                        OnDemand::Auto
                    };
                    if on != OnDemand::No && !std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                        on = OnDemand::No;
                    }
                    self.mounts.push(Mount {
                        raw: mp_raw.to_vec(),
                        mount_point,
                        path,
                        do_space: on,
                        do_inodes: on,
                        read_only,
                        updated: false,
                        collected: 0,
                        shown_error: false,
                        space: None,
                        inodes: None,
                    });
                    self.mounts.len() - 1
                }
            };
            let m = &mut self.mounts[idx];
            if m.updated {
                continue; // the same mount point twice: the first one wins
            }
            m.updated = true;
            m.read_only = read_only;
        }
        self.mounts.retain(|m| {
            if !m.updated {
                for c in [&m.space, &m.inodes].into_iter().flatten() {
                    c.obsolete();
                }
            }
            m.updated
        });
    }
}

/// statvfs() of one mount into its disk_space and disk_inodes charts.
fn collect_mount(m: &mut Mount, host: &Host, now: i64, ue: u32) -> Result<(), CollectError> {
    if m.do_space == OnDemand::No && m.do_inodes == OnDemand::No {
        return Ok(());
    }
    if m.read_only
        && m.collected == 0
        && m.do_space != OnDemand::Yes
        && m.do_inodes != OnDemand::Yes
    {
        return Ok(());
    }
    let st = match rustix::fs::statvfs(&m.path) {
        Ok(st) => st,
        Err(e) => {
            if !m.shown_error {
                log::error!(
                    "{MODULE}: failed to statvfs() mount point '{}': {e}",
                    m.mount_point
                );
                m.shown_error = true;
            }
            return Ok(());
        }
    };
    m.shown_error = false;
    let bsize = if st.f_frsize != 0 {
        st.f_frsize
    } else {
        st.f_bsize
    } as i64;
    let (bavail, btotal, bfree) = (st.f_bavail as i64, st.f_blocks as i64, st.f_bfree as i64);
    let breserved = bfree - bavail;
    let bused = if btotal >= bfree {
        btotal - bfree
    } else {
        bfree - btotal
    };
    let (favail, ftotal, ffree) = (st.f_favail, st.f_files as i64, st.f_ffree as i64);
    if m.do_inodes == OnDemand::Auto && favail == u64::MAX {
        m.do_inodes = OnDemand::No;
    }
    let favail = favail as i64;
    let freserved = ffree - favail;
    let fused = ftotal - ffree;
    let mut rendered = false;
    if m.do_space
        .check(bavail != 0 || breserved != 0 || bused != 0)
    {
        let family = &m.mount_point;
        crate::ensure(&mut m.space, host, now, || {
            (
                def(
                    "disk_space",
                    &crate::fix_chart_id(family),
                    family,
                    "disk.space",
                    "Disk Space Usage",
                    "GiB",
                    prio::DISKSPACE_SPACE,
                    ue,
                ),
                vec![
                    abs("avail", bsize, GIB),
                    abs("used", bsize, GIB),
                    abs("reserved_for_root", bsize, GIB).named("reserved for root"),
                ],
            )
        })?
        .update(now, &[bavail, bused, breserved]);
        rendered = true;
    }
    if m.do_inodes
        .check(favail != 0 || freserved != 0 || fused != 0)
    {
        let family = &m.mount_point;
        crate::ensure(&mut m.inodes, host, now, || {
            (
                def(
                    "disk_inodes",
                    &crate::fix_chart_id(family),
                    family,
                    "disk.inodes",
                    "Disk Files (inodes) Usage",
                    "inodes",
                    prio::DISKSPACE_INODES,
                    ue,
                ),
                vec![
                    abs("avail", 1, 1),
                    abs("used", 1, 1),
                    abs("reserved_for_root", 1, 1).named("reserved for root"),
                ],
            )
        })?
        .update(now, &[favail, fused, freserved]);
        rendered = true;
    }
    if rendered {
        m.collected += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn octal() {
        assert_eq!(super::decode_octal("/mnt/a\\040b"), "/mnt/a b");
        assert_eq!(super::decode_octal("/x\\0"), "/x\\0");
    }
}
