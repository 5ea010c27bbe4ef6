//! System V IPC: mirrors netdata's collectors/proc.plugin/ipc.c — system.ipc_semaphores,
//! system.ipc_semaphore_arrays (netdata asks `semctl(SEM_INFO)`; the same totals are summed
//! here from /proc/sysvipc/sem), system.shared_memory_segments and
//! system.shared_memory_bytes (from /proc/sysvipc/shm). The per-queue message queue charts
//! are not implemented.

use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, Host};

use crate::procfile::ProcFile;
use crate::{ChartDims, CollectError, abs, chart_def, ensure, open_read, prio};

const MODULE: &str = "ipc";

/// The `ipc` module.
#[derive(Debug)]
pub struct Ipc {
    sem_path: PathBuf,
    shm_path: PathBuf,
    sem: Option<ProcFile>,
    shm: Option<ProcFile>,
    shm_failed: bool,
    ue: u32,
    semaphores: Option<ChartDims>,
    arrays: Option<ChartDims>,
    segments: Option<ChartDims>,
    bytes: Option<ChartDims>,
}

impl Ipc {
    /// A collector of `PREFIX/proc/sysvipc/{sem,shm}`.
    pub fn new(prefix: &Path, update_every: u32) -> Ipc {
        Ipc {
            sem_path: crate::host_path(prefix, "/proc/sysvipc/sem"),
            shm_path: crate::host_path(prefix, "/proc/sysvipc/shm"),
            sem: None,
            shm: None,
            shm_failed: false,
            ue: update_every,
            semaphores: None,
            arrays: None,
            segments: None,
            bytes: None,
        }
    }
}

/// Column index of `name` in the header line, if any.
fn column(ff: &ProcFile, name: &[u8]) -> Option<usize> {
    (0..ff.line_words(0)).find(|&w| ff.word_bytes(0, w) == name)
}

impl crate::Collector for Ipc {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let ue = self.ue;
        let ff = open_read(&mut self.sem, &self.sem_path, " \t")?;
        let nsems = column(ff, b"nsems").ok_or_else(|| CollectError::Malformed {
            path: self.sem_path.clone(),
            reason: "no nsems column",
        })?;
        let (mut arrays, mut sems) = (0i64, 0i64);
        for l in 1..ff.lines() {
            if ff.line_words(l) > nsems {
                arrays += 1;
                sems += ff.u64_at(l, nsems) as i64;
            }
        }
        ensure(&mut self.semaphores, host, now, || {
            (
                chart_def(
                    "system.ipc_semaphores",
                    "ipc semaphores",
                    None,
                    "IPC Semaphores",
                    "semaphores",
                    MODULE,
                    prio::SYSTEM_IPC_SEMAPHORES,
                    ue,
                    ChartType::Area,
                ),
                vec![abs("semaphores", 1, 1)],
            )
        })?
        .update(now, &[sems]);
        ensure(&mut self.arrays, host, now, || {
            (
                chart_def(
                    "system.ipc_semaphore_arrays",
                    "ipc semaphores",
                    None,
                    "IPC Semaphore Arrays",
                    "arrays",
                    MODULE,
                    prio::SYSTEM_IPC_SEM_ARRAYS,
                    ue,
                    ChartType::Area,
                ),
                vec![abs("arrays", 1, 1)],
            )
        })?
        .update(now, &[arrays]);

        if self.shm_failed {
            return Ok(());
        }
        let ff = match open_read(&mut self.shm, &self.shm_path, " \t") {
            Ok(f) => f,
            Err(e) => {
                log::error!("{MODULE}: {e}; shared memory charts disabled");
                self.shm_failed = true;
                return Ok(());
            }
        };
        let Some(size) = column(ff, b"size") else {
            return Ok(());
        };
        let (mut segs, mut bytes) = (0i64, 0i64);
        for l in 1..ff.lines() {
            if ff.line_words(l) > size {
                segs += 1;
                bytes += ff.u64_at(l, size) as i64;
            }
        }
        ensure(&mut self.segments, host, now, || {
            (
                chart_def(
                    "system.shared_memory_segments",
                    "ipc shared memory",
                    None,
                    "IPC Shared Memory Number of Segments",
                    "segments",
                    MODULE,
                    prio::SYSTEM_IPC_SHARED_MEM_SEGS,
                    ue,
                    ChartType::Stacked,
                ),
                vec![abs("segments", 1, 1)],
            )
        })?
        .update(now, &[segs]);
        ensure(&mut self.bytes, host, now, || {
            (
                chart_def(
                    "system.shared_memory_bytes",
                    "ipc shared memory",
                    None,
                    "IPC Shared Memory Used Bytes",
                    "bytes",
                    MODULE,
                    prio::SYSTEM_IPC_SHARED_MEM_SIZE,
                    ue,
                    ChartType::Stacked,
                ),
                vec![abs("bytes", 1, 1)],
            )
        })?
        .update(now, &[bytes]);
        Ok(())
    }
}
