//! netdata's `format_value_and_unit`: the `value_string` of the API and of notifications.

/// Formats `value` with `units` as netdata 1.37 does (`15 widgets`, `12.5%`, `-`).
pub fn format_value_and_unit(value: f64, units: &str) -> String {
    let u = units;
    if u == "seconds" || u == "seconds ago" {
        if value == 0.0 {
            return "now".into();
        }
        if value.is_nan() {
            return "undefined".into();
        }
        let ago = if u == "seconds ago" { " ago" } else { "" };
        let mut secs = value.abs() as u64;
        let days = secs / 86400;
        secs %= 86400;
        let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
        return if days > 0 {
            format!(
                "{days} day{} {h:02}:{m:02}:{s:02}{ago}",
                if days == 1 { "" } else { "s" }
            )
        } else {
            format!("{h:02}:{m:02}:{s:02}{ago}")
        };
    }
    if matches!(u, "minutes" | "minutes ago") {
        if value.is_nan() {
            return "undefined".into();
        }
        let ago = if u == "minutes ago" { " ago" } else { "" };
        let mut mins = value.abs() as u64;
        let days = mins / 1440;
        mins %= 1440;
        return if days > 0 {
            format!("{days}d {:02}h {:02}m{ago}", mins / 60, mins % 60)
        } else {
            format!("{}h {}m{ago}", mins / 60, mins % 60)
        };
    }
    if matches!(u, "hours" | "hours ago") {
        if value.is_nan() {
            return "undefined".into();
        }
        let ago = if u == "hours ago" { " ago" } else { "" };
        let hours = value.abs() as u64;
        return if hours >= 24 {
            format!("{}d {}h{ago}", hours / 24, hours % 24)
        } else {
            format!("{hours}h{ago}")
        };
    }
    if matches!(u, "on/off" | "on-off" | "onoff") {
        return if value != 0.0 { "on" } else { "off" }.into();
    }
    if u.starts_with("up/down") || u == "up-down" || u == "updown" {
        return if value != 0.0 { "up" } else { "down" }.into();
    }
    if u.starts_with("ok/error") || u == "ok-error" || u == "okerror" {
        return if value != 0.0 { "ok" } else { "error" }.into();
    }
    if u.starts_with("ok/failed") || u == "ok-failed" || u == "okfailed" {
        return if value != 0.0 { "ok" } else { "failed" }.into();
    }
    let units = if matches!(u, "empty" | "null") {
        ""
    } else if matches!(u, "percentage" | "percent" | "pcent") {
        "%"
    } else {
        u
    };
    if !value.is_finite() {
        return "-".into();
    }
    let a = value.abs();
    let decimals = if a >= 1000.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 0.1 {
        2
    } else if a >= 0.01 {
        4
    } else if a >= 0.001 {
        5
    } else if a >= 0.0001 {
        6
    } else {
        7
    };
    let mut s = format!("{value:.decimals$}");
    if decimals > 0 {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if units.is_empty() {
        return s;
    }
    if units.chars().next().is_some_and(char::is_alphanumeric) {
        format!("{s} {units}")
    } else {
        format!("{s}{units}")
    }
}

#[cfg(test)]
mod tests {
    use super::format_value_and_unit as f;

    #[test]
    fn netdata_examples() {
        assert_eq!(f(15.0, "widgets"), "15 widgets");
        assert_eq!(f(12.5, "%"), "12.5%");
        assert_eq!(f(21.7, "units"), "21.7 units");
        assert_eq!(f(f64::NAN, "%"), "-");
        assert_eq!(f(0.0, "%"), "0%");
        assert_eq!(f(0.0, "tcp resets/s"), "0 tcp resets/s");
    }
}
