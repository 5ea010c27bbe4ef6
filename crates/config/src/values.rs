//! Typed config values: booleans with `auto`, integers, floats and durations.
//!
//! Mirrors the value readers of netdata 1.37's `libnetdata/config/appconfig.c`
//! (`appconfig_get_boolean`, `appconfig_get_boolean_ondemand`, `appconfig_get_number`,
//! `appconfig_get_float`, `config_parse_duration`), but stricter: netdata silently turns
//! anything it does not understand into `no` or `0`, while these return an error, so that a
//! typo in a config file is reported with its file, line, section and key.

use std::fmt;

/// A netdata config boolean: `yes`, `no`, or `auto` (netdata's `CONFIG_BOOLEAN_AUTO`).
///
/// Accepted spellings, case-insensitive as netdata's `strcasecmp`: `yes`/`true`/`on`/`1`,
/// `no`/`false`/`off`/`0`, and `auto`/`on demand`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Boolean {
    /// `no`, `false`, `off` or `0`.
    No,
    /// `yes`, `true`, `on` or `1`.
    Yes,
    /// `auto` or `on demand`: enabled when there is something to do.
    Auto,
}

impl Boolean {
    /// Parses a boolean; `None` when the text is not one of the accepted spellings.
    pub fn parse(text: &str) -> Option<Boolean> {
        const YES: [&str; 4] = ["yes", "true", "on", "1"];
        const NO: [&str; 4] = ["no", "false", "off", "0"];
        const AUTO: [&str; 2] = ["auto", "on demand"];
        let text = trim_c_space(text);
        let is = |set: &[&str]| set.iter().any(|word| word.eq_ignore_ascii_case(text));
        if is(&YES) {
            Some(Boolean::Yes)
        } else if is(&NO) {
            Some(Boolean::No)
        } else if is(&AUTO) {
            Some(Boolean::Auto)
        } else {
            None
        }
    }

    /// Collapses `auto` to `true`, as netdata's plain `appconfig_get_boolean` does.
    pub fn as_bool(self) -> bool {
        !matches!(self, Boolean::No)
    }

    /// The word netdata writes for this value: `yes`, `no` or `auto`.
    pub fn as_str(self) -> &'static str {
        match self {
            Boolean::No => "no",
            Boolean::Yes => "yes",
            Boolean::Auto => "auto",
        }
    }
}

impl From<bool> for Boolean {
    fn from(value: bool) -> Self {
        if value { Boolean::Yes } else { Boolean::No }
    }
}

impl fmt::Display for Boolean {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was wrong with a value; part of [`crate::ValueError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueProblem {
    /// Not one of yes/no/true/false/on/off/1/0/auto/on demand.
    NotBoolean,
    /// Not an integer in the accepted range.
    NotInteger,
    /// Not a decimal number.
    NotNumber,
    /// Not a duration (`never`, or a number with an optional `s m h d w M Y` unit).
    NotDuration,
    /// A destination list entry that cannot be parsed.
    BadDestination(Box<crate::destination::DestinationError>),
}

impl fmt::Display for ValueProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueProblem::NotBoolean => f.write_str("expected yes, no or auto"),
            ValueProblem::NotInteger => f.write_str("expected an integer"),
            ValueProblem::NotNumber => f.write_str("expected a number"),
            ValueProblem::NotDuration => {
                f.write_str("expected a duration like 30, 5m, 2h, 1d or never")
            }
            ValueProblem::BadDestination(e) => e.fmt(f),
        }
    }
}

/// Trims the characters C's `isspace` knows, as netdata's `trim()` does.
pub(crate) fn trim_c_space(text: &str) -> &str {
    text.trim_matches(is_c_space)
}

/// C's `isspace` in the "C" locale.
pub(crate) fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Parses an unsigned integer: decimal, or hexadecimal with `0x`.
///
/// netdata uses `strtoll(s, NULL, 0)`, which also reads a leading `0` as octal and ignores
/// trailing garbage; both are deliberately not copied (`010` is ten here).
pub fn parse_u64(text: &str) -> Result<u64, ValueProblem> {
    let text = trim_c_space(text);
    let text = text.strip_prefix('+').unwrap_or(text);
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) if !hex.starts_with(['+', '-']) => u64::from_str_radix(hex, 16),
        Some(_) => return Err(ValueProblem::NotInteger),
        None if text.starts_with(['+', '-']) => return Err(ValueProblem::NotInteger),
        None => text.parse(),
    };
    parsed.map_err(|_| ValueProblem::NotInteger)
}

/// Parses a signed integer: decimal, or hexadecimal with `0x` after an optional sign.
pub fn parse_i64(text: &str) -> Result<i64, ValueProblem> {
    let text = trim_c_space(text);
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = parse_u64(digits)?;
    if digits.starts_with(['+', '-']) {
        return Err(ValueProblem::NotInteger);
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
    .ok_or(ValueProblem::NotInteger)
}

/// Parses a decimal floating point number (`1`, `-0.5`, `1e3`).
pub fn parse_f64(text: &str) -> Result<f64, ValueProblem> {
    trim_c_space(text)
        .parse()
        .map_err(|_| ValueProblem::NotNumber)
}

/// Parses a duration into whole seconds, as netdata's `config_parse_duration`.
///
/// `never` is 0. Otherwise a number (it may have a sign and a fraction) optionally followed by
/// one unit letter: `s` seconds, `m` minutes, `h` hours, `d` days, `w` weeks, `M` months of 30
/// days, `Y` years of 365 days. The result is truncated toward zero, as netdata's `(int)` cast.
/// netdata treats any other trailing character as seconds (`5x` is 5); here it is an error.
pub fn parse_duration_secs(text: &str) -> Result<i64, ValueProblem> {
    let text = trim_c_space(text);
    if text == "never" {
        return Ok(0);
    }
    if !text.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-') {
        return Err(ValueProblem::NotDuration);
    }
    let (number, unit) = match text.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => (&text[..at], c),
        _ => (text, 's'),
    };
    let multiplier: f64 = match unit {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3_600.0,
        'd' => 86_400.0,
        'w' => 604_800.0,
        'M' => 2_592_000.0,
        'Y' => 31_536_000.0,
        _ => return Err(ValueProblem::NotDuration),
    };
    let number: f64 = trim_c_space(number)
        .parse()
        .map_err(|_| ValueProblem::NotDuration)?;
    let seconds = (number * multiplier).trunc();
    if !seconds.is_finite() || seconds.abs() > i64::MAX as f64 {
        return Err(ValueProblem::NotDuration);
    }
    // Truncation is the point: netdata casts the product to an integer.
    #[allow(clippy::cast_possible_truncation)]
    Ok(seconds as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_accept_netdata_spellings_in_any_case() {
        let cases = [
            ("yes", Some(Boolean::Yes)),
            ("YES", Some(Boolean::Yes)),
            ("true", Some(Boolean::Yes)),
            ("On", Some(Boolean::Yes)),
            ("1", Some(Boolean::Yes)),
            ("no", Some(Boolean::No)),
            ("False", Some(Boolean::No)),
            ("off", Some(Boolean::No)),
            ("0", Some(Boolean::No)),
            ("auto", Some(Boolean::Auto)),
            ("on demand", Some(Boolean::Auto)),
            ("  yes\t", Some(Boolean::Yes)),
            ("", None),
            ("enabled", None),
            ("yess", None),
            ("2", None),
        ];
        for (text, expected) in cases {
            assert_eq!(Boolean::parse(text), expected, "{text:?}");
        }
    }

    #[test]
    fn auto_counts_as_enabled_like_appconfig_get_boolean() {
        assert!(Boolean::Auto.as_bool());
        assert!(Boolean::Yes.as_bool());
        assert!(!Boolean::No.as_bool());
    }

    #[test]
    fn integers() {
        let unsigned = [
            ("0", Some(0)),
            ("3600", Some(3600)),
            (" 42 ", Some(42)),
            ("+7", Some(7)),
            ("0x10", Some(16)),
            ("010", Some(10)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("-1", None),
            ("", None),
            ("12abc", None),
            ("1.5", None),
            ("0x", None),
            ("0x-1", None),
            ("++1", None),
        ];
        for (text, expected) in unsigned {
            assert_eq!(parse_u64(text).ok(), expected, "{text:?}");
        }
        let signed = [
            ("-1", Some(-1)),
            ("-0x10", Some(-16)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("--1", None),
            ("-+1", None),
            ("x", None),
        ];
        for (text, expected) in signed {
            assert_eq!(parse_i64(text).ok(), expected, "{text:?}");
        }
    }

    #[test]
    fn floats() {
        assert_eq!(parse_f64(" 0.5 "), Ok(0.5));
        assert_eq!(parse_f64("-1e3"), Ok(-1000.0));
        assert_eq!(parse_f64("abc"), Err(ValueProblem::NotNumber));
    }

    #[test]
    fn durations_follow_config_parse_duration() {
        let cases = [
            ("never", Some(0)),
            ("0", Some(0)),
            ("30", Some(30)),
            ("30s", Some(30)),
            ("5m", Some(300)),
            ("2h", Some(7200)),
            ("1d", Some(86_400)),
            ("1w", Some(604_800)),
            ("1M", Some(2_592_000)),
            ("1Y", Some(31_536_000)),
            ("1.5m", Some(90)),
            ("-10", Some(-10)),
            ("+10", Some(10)),
            ("1.9", Some(1)),
            (" 3h ", Some(10_800)),
            ("", None),
            ("m", None),
            ("five", None),
            ("5x", None),
            ("5 minutes", None),
            ("Never", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration_secs(text).ok(), expected, "{text:?}");
        }
    }
}
