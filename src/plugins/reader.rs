//! Reading one run of a plugin: its stdout, line by line, through the protocol parser and
//! [`Ingest`] into localhost, with the defences netdata 1.37.1 does not have:
//!
//! - a line that does not parse or cannot be applied (garbage, an unknown keyword, a DIMENSION
//!   before its CHART, a SET of an unknown dimension, ...) is skipped and logged through the
//!   plugin's rate-limited [`ErrorLog`]; after [`ReadLimits::max_errors`] of them in one run the
//!   plugin is killed (and restarted by the supervisor);
//! - a line longer than [`MAX_LINE`] is skipped without being buffered (one error); output
//!   without a newline for more than [`MAX_SKIP`] bytes ends the run;
//! - a plugin that wrote and then writes nothing for [`ReadLimits::hang`] is killed as hung.
//!
//! The per-line path ([`apply_line`]) allocates nothing for a well-formed line once its chart
//! and dimensions exist (`src/plugins/no_alloc_tests.rs`).

use std::pin::pin;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tributary_protocol::{LineSplitter, Split};

use super::error_log::ErrorLog;
use super::stopped;
use crate::daemon::now_us;
use crate::ingest::{Ingest, IngestError};

/// The longest stdout line accepted from a plugin (netdata truncates at ~16 KiB); longer lines
/// are skipped as an error.
pub const MAX_LINE: usize = 64 * 1024;

/// Output without a newline for this many bytes ends the run (the plugin is killed).
pub const MAX_SKIP: usize = 64 * 1024 * 1024;

/// What one run of a plugin may do before it is killed.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// Bad lines in one run before the plugin is killed (`[plugin:NAME] protocol errors
    /// before restart`).
    pub max_errors: u32,
    /// Silence after which the plugin counts as hung (`[plugin:NAME] hang timeout`); None:
    /// never.
    pub hang: Option<Duration>,
    /// `hang` is the default, not configured: it grows to 10 × the longest update every of
    /// the plugin's charts (a python.d job collecting every 5 minutes is not hung).
    pub hang_auto: bool,
}

impl ReadLimits {
    /// The hang timeout once the plugin defined charts of at most `max_update_every` s.
    pub fn hang_timeout(&self, max_update_every: u32) -> Option<Duration> {
        let hang = self.hang?;
        Some(if self.hang_auto {
            hang.max(Duration::from_secs(10 * u64::from(max_update_every)))
        } else {
            hang
        })
    }
}

/// How a run ended, besides its exit status.
#[derive(Debug)]
pub enum Ending {
    /// Its stdout was closed (it exited).
    Eof,
    /// Reading its stdout failed.
    ReadError(std::io::Error),
    /// It sent [`ReadLimits::max_errors`] bad lines (already logged).
    TooManyErrors(u32),
    /// It wrote more than [`MAX_SKIP`] bytes without a newline.
    Runaway,
    /// It wrote nothing for this long.
    Hung(Duration),
    /// It sent DISABLE.
    Disable,
    /// The agent is stopping.
    Stopping,
}

/// Why a line was not applied.
#[derive(Debug)]
pub enum LineError {
    /// DISABLE: the plugin asks to be stopped for good.
    Disable,
    /// The line is refused; the reason.
    Bad(String),
}

/// Parses one line (with or without its newline) and applies it: the whole per-line path.
pub fn apply_line(ingest: &mut Ingest, line: &[u8], now_us: i64) -> Result<(), LineError> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\n', '\r']);
    let cmd = tributary_protocol::parse_line(text)
        .map_err(|e| LineError::Bad(format!("sent '{}': {e}", shorten(text))))?;
    match ingest.apply(cmd, now_us) {
        Ok(_) => Ok(()),
        Err(IngestError::Disabled) => Err(LineError::Disable),
        Err(e) => Err(LineError::Bad(format!("sent '{}': {e}", shorten(text)))),
    }
}

fn shorten(s: &str) -> &str {
    match s.char_indices().nth(200) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// What [`LineReader::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum LineRead {
    /// A line is in [`LineReader::line`] (the last one may lack its newline).
    Line,
    /// End of input.
    Eof,
    /// A line of this many bytes (over the limit) was skipped; its head is in
    /// [`LineReader::line`].
    TooLong(usize),
    /// More than [`MAX_SKIP`] bytes arrived without a newline.
    Runaway,
}

/// Bounded lines from an async byte stream ([`LineSplitter`] over a `BufReader`).
/// Cancel-safe: every piece of state lives in the reader, so a `select!` may drop
/// [`LineReader::next`] at any await and call it again.
pub struct LineReader<R> {
    reader: BufReader<R>,
    split: LineSplitter,
    /// Reads that returned data (for the hang check).
    reads: u64,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    /// Lines of at most `max` bytes from `input`.
    pub fn new(input: R, max: usize) -> LineReader<R> {
        LineReader {
            reader: BufReader::with_capacity(64 * 1024, input),
            split: LineSplitter::new(max),
            reads: 0,
        }
    }

    /// The line found by the last [`LineReader::next`].
    pub fn line(&self) -> &[u8] {
        self.split.line()
    }

    /// Reads that returned data so far.
    pub fn reads(&self) -> u64 {
        self.reads
    }

    /// Reads up to the end of the next line. The line found before is dropped first.
    pub async fn next(&mut self) -> std::io::Result<LineRead> {
        loop {
            let buf = self.reader.fill_buf().await?;
            if buf.is_empty() {
                return Ok(match self.split.finish() {
                    None => LineRead::Eof,
                    Some(Split::TooLong(n)) => LineRead::TooLong(n),
                    Some(_) => LineRead::Line,
                });
            }
            self.reads += 1;
            let (taken, found) = self.split.feed(buf);
            self.reader.consume(taken);
            match found {
                Split::Line => return Ok(LineRead::Line),
                Split::TooLong(n) => return Ok(LineRead::TooLong(n)),
                Split::NeedMore if self.split.skipping() > MAX_SKIP => {
                    return Ok(LineRead::Runaway);
                }
                Split::NeedMore => {}
            }
        }
    }
}

/// Reads one run's lines until something ends it. `path` names the plugin in log lines;
/// `collections` of `ingest` count its ENDs.
pub async fn read_protocol(
    out: impl AsyncRead + Unpin,
    ingest: &mut Ingest,
    path: &str,
    limits: ReadLimits,
    errors: &mut ErrorLog,
    stop_rx: &mut watch::Receiver<bool>,
) -> Ending {
    let mut reader = LineReader::new(out, MAX_LINE);
    let mut stop = pin!(stopped(stop_rx));
    // The hang check looks at the reader's progress a few times per hang timeout, so the
    // per-line path never touches a timer.
    let hang = limits.hang.unwrap_or(Duration::from_secs(86400 * 365));
    let check = (hang / 4).max(Duration::from_millis(100));
    let mut ticks = tokio::time::interval_at(Instant::now() + check, check);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut seen_reads = 0;
    let mut quiet_since = Instant::now();
    let mut bad = 0u32;
    loop {
        let read = tokio::select! {
            biased;
            () = &mut stop => return Ending::Stopping,
            r = reader.next() => r,
            _ = ticks.tick(), if limits.hang.is_some() => {
                // Armed by the first output: a plugin that never wrote (waiting for a job to
                // appear) is left alone, as netdata does.
                if reader.reads() != seen_reads || seen_reads == 0 {
                    seen_reads = reader.reads();
                    quiet_since = Instant::now();
                } else if limits
                    .hang_timeout(ingest.max_update_every)
                    .is_some_and(|h| quiet_since.elapsed() >= h)
                {
                    return Ending::Hung(quiet_since.elapsed());
                }
                continue;
            }
        };
        let problem = match read {
            Ok(LineRead::Eof) => return Ending::Eof,
            Err(e) => return Ending::ReadError(e),
            Ok(LineRead::Runaway) => {
                log::error!(
                    "'{path}' wrote more than {MAX_SKIP} bytes without a newline: killing it"
                );
                return Ending::Runaway;
            }
            Ok(LineRead::TooLong(len)) => {
                let head = &reader.line()[..reader.line().len().min(120)];
                let head = String::from_utf8_lossy(head).into_owned();
                Some(format!(
                    "sent a line of {len} bytes, longer than {MAX_LINE} (starting '{head}'): skipped"
                ))
            }
            Ok(LineRead::Line) => match apply_line(ingest, reader.line(), now_us()) {
                Ok(()) => None,
                Err(LineError::Disable) => return Ending::Disable,
                Err(LineError::Bad(why)) => Some(why),
            },
        };
        if let Some(why) = problem {
            bad += 1;
            errors.error(|| why);
            if bad >= limits.max_errors {
                log::error!(
                    "'{path}' sent {bad} lines that are not the plugins.d protocol: killing it"
                );
                return Ending::TooManyErrors(bad);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_hang_timeout_grows_with_the_plugins_charts() {
        let s = Duration::from_secs;
        let auto = ReadLimits {
            max_errors: 1,
            hang: Some(s(60)),
            hang_auto: true,
        };
        assert_eq!(auto.hang_timeout(0), Some(s(60)));
        assert_eq!(auto.hang_timeout(5), Some(s(60)));
        assert_eq!(auto.hang_timeout(300), Some(s(3000)));
        let fixed = ReadLimits {
            hang_auto: false,
            ..auto
        };
        assert_eq!(fixed.hang_timeout(300), Some(s(60)));
        let never = ReadLimits { hang: None, ..auto };
        assert_eq!(never.hang_timeout(300), None);
    }

    #[test]
    fn the_reader_splits_small_reads_and_ends() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let input = [&b"BEGIN a.b\n"[..], &[b'x'; 100], b"\nEND"].concat();
        let got = rt.block_on(async {
            let mut r = LineReader::new(&input[..], 32);
            r.reader = BufReader::with_capacity(8, &input[..]);
            let mut got = Vec::new();
            loop {
                let what = r.next().await.unwrap();
                if what == LineRead::Eof {
                    return got;
                }
                got.push((what, String::from_utf8_lossy(r.line()).into_owned()));
            }
        });
        assert_eq!(
            got,
            [
                (LineRead::Line, "BEGIN a.b\n".to_string()),
                (LineRead::TooLong(101), "x".repeat(32)),
                (LineRead::Line, "END".into()),
            ]
        );
    }
}
