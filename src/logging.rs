//! netdata-style log lines (`2026-11-25 01:02:03: tributary INFO  : THREAD : message`) written
//! to the `[logs] error` destination: a file, `stderr`, `stdout`, `syslog` (stderr, which the
//! service manager forwards) or `none`. Files are reopened on SIGHUP (log rotation).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Standard error.
    Stderr,
    /// Standard output.
    Stdout,
    /// Nowhere.
    None,
    /// Appended to a file.
    File(PathBuf),
}

impl Destination {
    /// Parses a `[logs]` value.
    pub fn parse(s: &str) -> Destination {
        match s.trim() {
            "stderr" | "syslog" => Destination::Stderr,
            "stdout" => Destination::Stdout,
            "none" => Destination::None,
            path => Destination::File(PathBuf::from(path)),
        }
    }
}

enum Sink {
    Stderr,
    Stdout,
    None,
    File(PathBuf, File),
}

struct Logger {
    sink: Mutex<Sink>,
    level: log::LevelFilter,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

fn open(dest: &Destination) -> io::Result<Sink> {
    Ok(match dest {
        Destination::Stderr => Sink::Stderr,
        Destination::Stdout => Sink::Stdout,
        Destination::None => Sink::None,
        Destination::File(p) => Sink::File(
            p.clone(),
            OpenOptions::new().create(true).append(true).open(p)?,
        ),
    })
}

/// Installs the logger. Only the first call has an effect.
pub fn init(dest: &Destination, level: log::LevelFilter) -> io::Result<()> {
    let sink = open(dest)?;
    if LOGGER
        .set(Logger {
            sink: Mutex::new(sink),
            level,
        })
        .is_ok()
    {
        let logger = LOGGER.get().expect("just set");
        log::set_logger(logger).map_err(io::Error::other)?;
        log::set_max_level(level);
    }
    Ok(())
}

/// Reopens a log file (SIGHUP), so that rotated logs are released.
pub fn reopen() {
    if let Some(l) = LOGGER.get() {
        let mut sink = l.sink.lock().unwrap_or_else(|p| p.into_inner());
        if let Sink::File(path, _) = &*sink {
            let path = path.clone();
            if let Ok(f) = OpenOptions::new().create(true).append(true).open(&path) {
                *sink = Sink::File(path, f);
            }
        }
    }
}

/// Formats a unix time as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn format_time(secs: i64) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil-from-days (Howard Hinnant's algorithm), valid for the whole i64 day range we use.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let level = match record.level() {
            log::Level::Error => "ERROR",
            log::Level::Warn => "WARN ",
            log::Level::Info => "INFO ",
            log::Level::Debug => "DEBUG",
            log::Level::Trace => "TRACE",
        };
        let thread = std::thread::current();
        let name = match thread.name() {
            None | Some("main") => "MAIN",
            Some(n) => n,
        };
        let line = format!(
            "{}: tributary {level} : {name} : {}\n",
            format_time(now),
            record.args()
        );
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        // Logging must never take the agent down: a failed write is dropped.
        let _ignored = match &mut *sink {
            Sink::Stderr => io::stderr().write_all(line.as_bytes()),
            Sink::Stdout => io::stdout()
                .write_all(line.as_bytes())
                .and_then(|()| io::stdout().flush()),
            Sink::None => Ok(()),
            Sink::File(_, f) => f.write_all(line.as_bytes()),
        };
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert_eq!(format_time(1_795_574_027), "2026-11-25 02:33:47");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00");
    }
}
