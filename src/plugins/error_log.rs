//! Rate-limited logging of a plugin's protocol errors: a plugin that floods us with bad lines
//! must not flood the log. Every bad line is counted; at most [`LOGGED_PER_WINDOW`] of them per
//! plugin per [`WINDOW`] get a log line of their own, the rest are summarised in one line
//! ("N more errors suppressed") when the window ends or the run of the plugin ends.
//!
//! One `ErrorLog` lives as long as the plugin's supervisor, across restarts, so a plugin that is
//! restarted again and again stays inside the same budget.

use std::time::{Duration, Instant};

/// Error lines logged per plugin per [`WINDOW`].
pub const LOGGED_PER_WINDOW: u32 = 10;

/// The rate limit's window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// The error budget of one plugin.
#[derive(Debug)]
pub struct ErrorLog {
    /// How log lines name the plugin (its path, as netdata's messages do).
    who: String,
    window_start: Instant,
    logged: u32,
    suppressed: u64,
}

impl ErrorLog {
    /// A fresh budget for the plugin named `who` in log lines.
    pub fn new(who: &str) -> ErrorLog {
        ErrorLog {
            who: who.to_string(),
            window_start: Instant::now(),
            logged: 0,
            suppressed: 0,
        }
    }

    /// Counts one error; logs it (the text built by `message` only then) if the budget allows.
    pub fn error(&mut self, message: impl FnOnce() -> String) {
        if self.window_start.elapsed() >= WINDOW {
            self.flush();
            self.window_start = Instant::now();
            self.logged = 0;
        }
        if self.logged < LOGGED_PER_WINDOW {
            self.logged += 1;
            let text = message();
            log::error!("'{}' {text}", self.who);
        } else {
            self.suppressed += 1;
        }
    }

    /// Logs the summary of the errors not logged so far, if any.
    pub fn flush(&mut self) {
        if self.suppressed > 0 {
            log::error!(
                "'{}': {} more errors suppressed (at most {LOGGED_PER_WINDOW} logged per {} s)",
                self.who,
                self.suppressed,
                WINDOW.as_secs()
            );
            self.suppressed = 0;
        }
    }

    /// Errors counted but not logged yet.
    #[cfg(test)]
    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_a_budget_then_counts() {
        let mut e = ErrorLog::new("x.plugin");
        let mut built = 0;
        for _ in 0..25 {
            e.error(|| {
                built += 1;
                "bad".into()
            });
        }
        assert_eq!(built, LOGGED_PER_WINDOW);
        assert_eq!(e.suppressed(), 15);
        e.flush();
        assert_eq!(e.suppressed(), 0);
        // The window's budget is spent: still suppressed after the summary.
        e.error(|| unreachable!("budget spent"));
        assert_eq!(e.suppressed(), 1);
    }
}
