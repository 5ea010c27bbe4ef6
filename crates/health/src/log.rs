//! The health log: one entry per alarm status change (and the link entry), newest first,
//! with netdata's ids and flags, persisted as one line per entry under the lib directory so
//! that ids continue and "not sending again" survives restarts.

use std::collections::VecDeque;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::status::Status;

/// One health log entry (netdata's `ALARM_ENTRY`).
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// Per-host unique id.
    pub unique_id: u32,
    /// The alarm's id.
    pub alarm_id: u32,
    /// The alarm's event counter.
    pub alarm_event_id: u32,
    /// When it happened.
    pub when: i64,
    /// Seconds in the previous status.
    pub duration: i64,
    /// Seconds in WARNING/CRITICAL before this entry.
    pub non_clear_duration: i64,
    /// Alarm name.
    pub name: String,
    /// Chart id.
    pub chart: String,
    /// Chart context.
    pub context: String,
    /// Chart family.
    pub family: String,
    /// `class`.
    pub class: String,
    /// `component`.
    pub component: String,
    /// `type`.
    pub type_: String,
    /// Command run for notifications.
    pub exec: String,
    /// Recipients.
    pub recipient: String,
    /// `LINE@FILE`.
    pub source: String,
    /// Units.
    pub units: String,
    /// Info text.
    pub info: String,
    /// New status.
    pub new_status: Status,
    /// Old status.
    pub old_status: Status,
    /// New value.
    pub new_value: f64,
    /// Old value.
    pub old_value: f64,
    /// Notification delay (s).
    pub delay: i64,
    /// Notification not before this time.
    pub delay_up_to_timestamp: i64,
    /// Newer entry of the same alarm (0: none).
    pub updated_by_id: u32,
    /// Older entry of the same alarm this one follows (0: none).
    pub updates_id: u32,
    /// When the command ran (0: never).
    pub exec_run_timestamp: i64,
    /// The command's exit code.
    pub exec_code: i32,
    /// Last repeat time of the alarm.
    pub last_repeat: i64,
    /// Flags (`FLAG_*`).
    pub flags: u32,
}

/// Processed by the notification pass.
pub const FLAG_PROCESSED: u32 = 0x01;
/// A newer entry of the same alarm exists.
pub const FLAG_UPDATED: u32 = 0x02;
/// The command ran.
pub const FLAG_EXEC_RUN: u32 = 0x04;
/// The command failed.
pub const FLAG_EXEC_FAILED: u32 = 0x08;
/// Silenced.
pub const FLAG_SILENCED: u32 = 0x10;
/// `options: no-clear-notification`.
pub const FLAG_NO_CLEAR_NOTIFICATION: u32 = 0x80;
/// The alarm repeats (notified by the repeat pass only).
pub const FLAG_IS_REPEATING: u32 = 0x100;

impl LogEntry {
    /// Whether `flag` is set.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
}

/// A host's health log.
#[derive(Debug)]
pub struct HealthLog {
    /// Newest first.
    pub entries: VecDeque<LogEntry>,
    /// Maximum entries kept in memory.
    pub max: usize,
    /// Next unique id.
    pub next_unique_id: u32,
    path: Option<PathBuf>,
    dirty: bool,
}

impl HealthLog {
    /// An empty log whose ids start at `now`; `path` (when given) is where it is persisted.
    pub fn new(now: i64, max: usize, path: Option<PathBuf>) -> HealthLog {
        let mut log = HealthLog {
            entries: VecDeque::new(),
            max: max.max(10),
            next_unique_id: u32::try_from(now).unwrap_or(1),
            path,
            dirty: false,
        };
        log.load();
        log
    }

    /// Adds an entry (newest), marking the previous entry of the same alarm as updated and
    /// inheriting its non-clear duration.
    pub fn add(&mut self, mut e: LogEntry) -> u32 {
        e.unique_id = self.next_unique_id;
        self.next_unique_id = self.next_unique_id.wrapping_add(1);
        if matches!(e.old_status, Status::Warning | Status::Critical) {
            e.non_clear_duration += e.duration;
        }
        if let Some(prev) = self
            .entries
            .iter_mut()
            .find(|p| p.alarm_id == e.alarm_id && !p.has(FLAG_UPDATED))
        {
            prev.flags |= FLAG_UPDATED;
            prev.updated_by_id = e.unique_id;
            e.updates_id = prev.unique_id;
            if matches!(prev.old_status, Status::Warning | Status::Critical)
                && matches!(prev.new_status, Status::Warning | Status::Critical)
            {
                e.non_clear_duration += prev.non_clear_duration;
            }
        }
        let id = e.unique_id;
        self.entries.push_front(e);
        if self.entries.len() > self.max {
            self.entries.truncate(self.max * 2 / 3);
        }
        self.dirty = true;
        id
    }

    /// The newest entry of an alarm (by chart and name), for alarm id reuse.
    pub fn newest_of(&self, chart: &str, name: &str) -> Option<&LogEntry> {
        self.entries
            .iter()
            .find(|e| e.chart == chart && e.name == name)
    }

    /// Marks the log changed (after flags were set in place).
    pub fn touch(&mut self) {
        self.dirty = true;
    }

    /// Writes the log to its file when it changed (temp file + rename).
    pub fn save(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let Some(path) = &self.path else { return };
        let mut text = String::new();
        for e in self.entries.iter().rev() {
            text.push_str(&encode(e));
            text.push('\n');
        }
        let tmp = path.with_extension("tmp");
        let result = (|| -> std::io::Result<()> {
            if let Some(d) = path.parent() {
                fs::create_dir_all(d)?;
            }
            let mut f = fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, path)
        })();
        if let Err(e) = result {
            log::error!("HEALTH: cannot save the health log {}: {e}", path.display());
        }
    }

    fn load(&mut self) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let Ok(text) = fs::read_to_string(&path) else {
            return;
        };
        for (i, line) in text.lines().enumerate() {
            match decode(line) {
                Some(e) => {
                    self.next_unique_id = self.next_unique_id.max(e.unique_id.wrapping_add(1));
                    self.entries.push_front(e);
                }
                None => log::error!(
                    "HEALTH: {}:{}: unreadable health log entry, ignored",
                    path.display(),
                    i + 1
                ),
            }
        }
        if self.entries.len() > self.max {
            self.entries.truncate(self.max);
        }
    }

    /// The persisted file.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
}

fn unesc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn encode(e: &LogEntry) -> String {
    [
        e.unique_id.to_string(),
        e.alarm_id.to_string(),
        e.alarm_event_id.to_string(),
        e.when.to_string(),
        e.duration.to_string(),
        e.non_clear_duration.to_string(),
        esc(&e.name),
        esc(&e.chart),
        esc(&e.context),
        esc(&e.family),
        esc(&e.class),
        esc(&e.component),
        esc(&e.type_),
        esc(&e.exec),
        esc(&e.recipient),
        esc(&e.source),
        esc(&e.units),
        esc(&e.info),
        e.new_status.number().to_string(),
        e.old_status.number().to_string(),
        e.new_value.to_string(),
        e.old_value.to_string(),
        e.delay.to_string(),
        e.delay_up_to_timestamp.to_string(),
        e.updated_by_id.to_string(),
        e.updates_id.to_string(),
        e.exec_run_timestamp.to_string(),
        e.exec_code.to_string(),
        e.last_repeat.to_string(),
        e.flags.to_string(),
    ]
    .join("\t")
}

fn status_of(n: &str) -> Option<Status> {
    let n: i32 = n.parse().ok()?;
    [
        Status::Removed,
        Status::Undefined,
        Status::Uninitialized,
        Status::Clear,
        Status::Raised,
        Status::Warning,
        Status::Critical,
    ]
    .into_iter()
    .find(|s| s.number() == n)
}

fn decode(line: &str) -> Option<LogEntry> {
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() != 30 {
        return None;
    }
    Some(LogEntry {
        unique_id: f[0].parse().ok()?,
        alarm_id: f[1].parse().ok()?,
        alarm_event_id: f[2].parse().ok()?,
        when: f[3].parse().ok()?,
        duration: f[4].parse().ok()?,
        non_clear_duration: f[5].parse().ok()?,
        name: unesc(f[6]),
        chart: unesc(f[7]),
        context: unesc(f[8]),
        family: unesc(f[9]),
        class: unesc(f[10]),
        component: unesc(f[11]),
        type_: unesc(f[12]),
        exec: unesc(f[13]),
        recipient: unesc(f[14]),
        source: unesc(f[15]),
        units: unesc(f[16]),
        info: unesc(f[17]),
        new_status: status_of(f[18])?,
        old_status: status_of(f[19])?,
        new_value: f[20].parse().ok()?,
        old_value: f[21].parse().ok()?,
        delay: f[22].parse().ok()?,
        delay_up_to_timestamp: f[23].parse().ok()?,
        updated_by_id: f[24].parse().ok()?,
        updates_id: f[25].parse().ok()?,
        exec_run_timestamp: f[26].parse().ok()?,
        exec_code: f[27].parse().ok()?,
        last_repeat: f[28].parse().ok()?,
        flags: f[29].parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry for tests.
    pub fn entry(alarm_id: u32, old: Status, new: Status) -> LogEntry {
        LogEntry {
            unique_id: 0,
            alarm_id,
            alarm_event_id: 1,
            when: 100,
            duration: 5,
            non_clear_duration: 0,
            name: "n\tx".into(),
            chart: "c.d".into(),
            context: "c".into(),
            family: "f".into(),
            class: "Unknown".into(),
            component: "Unknown".into(),
            type_: "Unknown".into(),
            exec: "/bin/true".into(),
            recipient: "root".into(),
            source: "1@/x.conf".into(),
            units: "%".into(),
            info: "i\\n".into(),
            new_status: new,
            old_status: old,
            new_value: f64::NAN,
            old_value: 1.5,
            delay: 0,
            delay_up_to_timestamp: 100,
            updated_by_id: 0,
            updates_id: 0,
            exec_run_timestamp: 0,
            exec_code: 0,
            last_repeat: 0,
            flags: 0,
        }
    }

    #[test]
    fn persists_and_continues_ids() {
        let dir = std::env::temp_dir().join(format!("trib-hlog-{}", std::process::id()));
        let path = dir.join("h.log");
        let mut log = HealthLog::new(1000, 100, Some(path.clone()));
        log.add(entry(7, Status::Uninitialized, Status::Warning));
        let id = log.add(entry(7, Status::Warning, Status::Critical));
        assert!(log.entries[1].has(FLAG_UPDATED));
        assert_eq!(log.entries[0].updates_id, 1000);
        assert_eq!(log.entries[0].non_clear_duration, 5);
        log.save();
        let again = HealthLog::new(1, 100, Some(path));
        assert_eq!(again.entries.len(), 2);
        assert_eq!(again.next_unique_id, id + 1);
        assert_eq!(again.entries[0].name, "n\tx");
        assert_eq!(again.entries[0].info, "i\\n");
        assert!(again.entries[0].new_value.is_nan());
        let _removed = fs::remove_dir_all(dir);
    }
}
