//! Alarm statuses with netdata's numbers and words.

/// An alarm status (netdata's `RRDCALC_STATUS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Status {
    /// The chart is gone or obsolete, or the alarm was unlinked (−2).
    Removed,
    /// No warn/crit, or both failed (−1).
    Undefined,
    /// Before the first decision (0).
    #[default]
    Uninitialized,
    /// Not raised (1).
    Clear,
    /// Internal: an expression is true (2).
    Raised,
    /// `warn` is true (3).
    Warning,
    /// `crit` is true (4).
    Critical,
}

impl Status {
    /// netdata's number for the status (`$status`, `$WARNING`, ...).
    pub fn number(self) -> i32 {
        match self {
            Status::Removed => -2,
            Status::Undefined => -1,
            Status::Uninitialized => 0,
            Status::Clear => 1,
            Status::Raised => 2,
            Status::Warning => 3,
            Status::Critical => 4,
        }
    }

    /// The upper-case word used by the API and notifications.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Removed => "REMOVED",
            Status::Undefined => "UNDEFINED",
            Status::Uninitialized => "UNINITIALIZED",
            Status::Clear => "CLEAR",
            Status::Raised => "RAISED",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
        }
    }

    /// Parses a status word (case-insensitive).
    pub fn parse(s: &str) -> Option<Status> {
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
        .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    /// The constant variables (`$REMOVED` ... `$CRITICAL`) by name.
    pub fn constant(name: &str) -> Option<f64> {
        let s = match name {
            "REMOVED" => Status::Removed,
            "UNDEFINED" => Status::Undefined,
            "UNINITIALIZED" => Status::Uninitialized,
            "CLEAR" => Status::Clear,
            "WARNING" => Status::Warning,
            "CRITICAL" => Status::Critical,
            _ => return None,
        };
        Some(f64::from(s.number()))
    }
}
