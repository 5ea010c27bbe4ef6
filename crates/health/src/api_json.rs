//! The `/api/v1/alarms`, `alarms_values`, `alarm_log`, `alarm_variables` and `alarm_count`
//! answers with netdata 1.37.1's shapes (tabs, key spacing and number formats included).

use std::fmt::Write as _;

use crate::alarm::Alarm;
use crate::expression::format_number;
use crate::host_health::HostHealth;
use crate::log::{self as hlog, LogEntry};
use crate::status::Status;
use crate::value_format::format_value_and_unit;

/// A JSON string literal.
pub fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _w = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// netdata's HTML escaping of expressions in the API.
pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#x27;"),
            '/' => o.push_str("&#x2F;"),
            c => o.push(c),
        }
    }
    o
}

/// A number or `null` (NaN, infinities).
fn num(v: f64) -> String {
    if v.is_finite() {
        format_number(v)
    } else {
        "null".into()
    }
}

/// Whether an alarm is shown by the API: its chart is collected and not obsolete.
pub fn listed(a: &Alarm) -> bool {
    let st = a.chart.lock();
    !st.def.obsolete && st.clock().last_collected_us > 0
}

fn alarm_object(o: &mut String, a: &Alarm, default_exec: &str) {
    let d = &a.def;
    let s = |o: &mut String, k: &str, v: &str| {
        let _w = write!(o, "\t\t\t\"{k}\": ");
        json_string(o, v);
        o.push_str(",\n");
    };
    let _w = writeln!(o, "\t\t\t\"id\": {},", a.id);
    s(o, "config_hash_id", "00000000-0000-0000-0000-000000000000");
    s(o, "name", &a.name);
    s(o, "chart", &a.chart_id);
    s(o, "family", &a.family);
    s(o, "class", d.class.as_deref().unwrap_or("Unknown"));
    s(o, "component", d.component.as_deref().unwrap_or("Unknown"));
    s(o, "type", d.type_.as_deref().unwrap_or("Unknown"));
    o.push_str("\t\t\t\"active\": true,\n\t\t\t\"disabled\": false,\n\t\t\t\"silenced\": false,\n");
    s(o, "exec", d.exec.as_deref().unwrap_or(default_exec));
    s(o, "recipient", d.to.as_deref().unwrap_or("root"));
    s(o, "source", &d.source());
    s(o, "units", &a.units);
    s(o, "info", &a.info);
    s(o, "status", a.status.as_str());
    let _w = write!(
        o,
        "\t\t\t\"last_status_change\": {},\n\t\t\t\"last_updated\": {},\n\t\t\t\"next_update\": {},\n\t\t\t\"update_every\": {},\n\t\t\t\"delay_up_duration\": {},\n\t\t\t\"delay_down_duration\": {},\n\t\t\t\"delay_max_duration\": {},\n\t\t\t\"delay_multiplier\": {:.6},\n\t\t\t\"delay\": {},\n\t\t\t\"delay_up_to_timestamp\": {},\n\t\t\t\"warn_repeat_every\": \"{}\",\n\t\t\t\"crit_repeat_every\": \"{}\",\n",
        a.last_status_change,
        a.last_updated,
        a.next_update,
        a.update_every,
        d.delay.up,
        d.delay.down,
        d.delay.max,
        d.delay.multiplier,
        a.delay_last,
        a.delay_up_to_timestamp,
        a.repeat.warning,
        a.repeat.critical,
    );
    s(o, "value_string", &format_value_and_unit(a.value, &a.units));
    let _w = write!(
        o,
        "\t\t\t\"last_repeat\": \"{}\",\n\t\t\t\"times_repeat\": {},\n",
        a.last_repeat, a.times_repeat
    );
    if let Some(l) = &d.lookup {
        if let Some(dims) = &a.dimensions {
            o.push_str("\t\t\t\"lookup_dimensions\":");
            json_string(o, dims);
            o.push_str(",\n");
        }
        let _w = write!(
            o,
            "\t\t\t\"db_after\": {},\n\t\t\t\"db_before\": {},\n\t\t\t\"lookup_method\": \"{}\",\n\t\t\t\"lookup_after\": {},\n\t\t\t\"lookup_before\": {},\n\t\t\t\"lookup_options\": \"{}\",\n",
            a.db_after,
            a.db_before,
            l.method.name(),
            l.after,
            l.before,
            l.options.words()
        );
    }
    for (k, e) in [("calc", &d.calc), ("warn", &d.warn), ("crit", &d.crit)] {
        if let Some(e) = e {
            let _w = write!(o, "\t\t\t\"{k}\":");
            json_string(o, &html_escape(e.source()));
            let _w = write!(o, ",\n\t\t\t\"{k}_parsed\":");
            json_string(o, &html_escape(e.parsed_as()));
            o.push_str(",\n");
        }
    }
    let _w = write!(
        o,
        "\t\t\t\"green\":{},\n\t\t\t\"red\":{},\n\t\t\t\"value\":{}\n",
        num(d.green),
        num(d.red),
        num(a.value)
    );
}

/// `/api/v1/alarms` (`all`: every alarm; otherwise WARNING and CRITICAL only).
pub fn alarms(h: &HostHealth, default_exec: &str, now: i64, all: bool) -> String {
    let mut o = String::from("{\n\t\"hostname\": ");
    json_string(&mut o, h.host.hostname());
    let latest = h.log.entries.front().map_or(0, |e| e.unique_id);
    let _w = write!(
        o,
        ",\n\t\"latest_alarm_log_unique_id\": {latest},\n\t\"status\": true,\n\t\"now\": {now},\n\t\"alarms\": {{\n"
    );
    let mut first = true;
    for a in &h.alarms {
        if !all && !matches!(a.status, Status::Warning | Status::Critical) {
            continue;
        }
        if !listed(a) {
            continue;
        }
        if !first {
            o.push_str(",\n");
        }
        first = false;
        o.push_str("\t\t");
        json_string(&mut o, &a.full_name());
        o.push_str(": {\n");
        alarm_object(&mut o, a, default_exec);
        o.push_str("\t\t}");
    }
    o.push_str("\n\t}\n}\n");
    o
}

/// `/api/v1/alarms_values`.
pub fn alarms_values(h: &HostHealth, all: bool) -> String {
    let mut o = String::from("{\n\t\"hostname\": ");
    json_string(&mut o, h.host.hostname());
    o.push_str(",\n\t\"alarms\": {\n");
    let mut first = true;
    for a in &h.alarms {
        if (!all && !matches!(a.status, Status::Warning | Status::Critical)) || !listed(a) {
            continue;
        }
        if !first {
            o.push_str(",\n");
        }
        first = false;
        o.push_str("\t\t");
        json_string(&mut o, &a.full_name());
        let _w = write!(
            o,
            ": {{\n\t\t\t\"id\": {},\n\t\t\t\"value\":{},\n\t\t\t\"last_updated\":{},\n\t\t\t\"status\": \"{}\"\n\t\t}}",
            a.id,
            num(a.value),
            a.last_updated,
            a.status.as_str()
        );
    }
    o.push_str("\n\t}\n}\n");
    o
}

fn log_entry(
    o: &mut String,
    h: &HostHealth,
    e: &LogEntry,
    default_exec: &str,
    edit_prefix: &str,
    tz: &str,
) {
    let s = |o: &mut String, k: &str, v: &str| {
        let _w = write!(o, "\t\t\"{k}\": ");
        json_string(o, v);
        o.push_str(",\n");
    };
    o.push_str("\t{\n");
    s(o, "hostname", h.host.hostname());
    let _w = writeln!(o, "\t\t\"utc_offset\": 0,");
    s(o, "timezone", tz);
    let _w = write!(
        o,
        "\t\t\"unique_id\": {},\n\t\t\"alarm_id\": {},\n\t\t\"alarm_event_id\": {},\n",
        e.unique_id, e.alarm_id, e.alarm_event_id
    );
    s(o, "config_hash_id", "00000000-0000-0000-0000-000000000000");
    s(o, "name", &e.name);
    s(o, "chart", &e.chart);
    s(o, "context", &e.context);
    s(o, "family", &e.family);
    s(o, "class", &e.class);
    s(o, "component", &e.component);
    s(o, "type", &e.type_);
    let b = |f: u32| if e.has(f) { "true" } else { "false" };
    let _w = write!(
        o,
        "\t\t\"processed\": {},\n\t\t\"updated\": {},\n\t\t\"exec_run\": {},\n\t\t\"exec_failed\": {},\n",
        b(hlog::FLAG_PROCESSED),
        b(hlog::FLAG_UPDATED),
        e.exec_run_timestamp,
        b(hlog::FLAG_EXEC_FAILED)
    );
    s(
        o,
        "exec",
        if e.exec.is_empty() {
            default_exec
        } else {
            &e.exec
        },
    );
    s(o, "recipient", &e.recipient);
    let _w = writeln!(o, "\t\t\"exec_code\": {},", e.exec_code);
    s(o, "source", &e.source);
    let (line, file) = e.source.split_once('@').unwrap_or(("0", "UNKNOWN"));
    let file = std::path::Path::new(file)
        .file_name()
        .map_or_else(|| file.to_string(), |f| f.to_string_lossy().into_owned());
    s(
        o,
        "command",
        &format!("{edit_prefix} health.d/{file}={line}={}", h.host.hostname()),
    );
    s(o, "units", &e.units);
    let _w = write!(
        o,
        "\t\t\"when\": {},\n\t\t\"duration\": {},\n\t\t\"non_clear_duration\": {},\n",
        e.when, e.duration, e.non_clear_duration
    );
    s(o, "status", e.new_status.as_str());
    s(o, "old_status", e.old_status.as_str());
    let _w = write!(
        o,
        "\t\t\"delay\": {},\n\t\t\"delay_up_to_timestamp\": {},\n\t\t\"updated_by_id\": {},\n\t\t\"updates_id\": {},\n",
        e.delay, e.delay_up_to_timestamp, e.updated_by_id, e.updates_id
    );
    s(
        o,
        "value_string",
        &format_value_and_unit(e.new_value, &e.units),
    );
    s(
        o,
        "old_value_string",
        &format_value_and_unit(e.old_value, &e.units),
    );
    let _w = writeln!(o, "\t\t\"last_repeat\": \"{}\",", e.last_repeat);
    let _w = writeln!(o, "\t\t\"silenced\": \"{}\",", b(hlog::FLAG_SILENCED));
    o.push_str("\t\t\"info\":");
    if e.info.is_empty() {
        o.push_str("null");
    } else {
        json_string(o, &e.info);
    }
    o.push_str(",\n");
    if e.has(hlog::FLAG_NO_CLEAR_NOTIFICATION) {
        o.push_str("\t\t\"no_clear_notification\": true,\n");
    }
    let _w = write!(
        o,
        "\t\t\"value\":{},\n\t\t\"old_value\":{}\n\t}}",
        num(e.new_value),
        num(e.old_value)
    );
}

/// `/api/v1/alarm_log?after=ID[&chart=C]`: entries newer than `after`, newest first.
pub fn alarm_log(
    h: &HostHealth,
    default_exec: &str,
    edit_prefix: &str,
    timezone: &str,
    after: u32,
    chart: Option<&str>,
) -> String {
    let mut o = String::from("[");
    let mut first = true;
    for e in &h.log.entries {
        if e.unique_id <= after {
            continue;
        }
        if chart.is_some_and(|c| c != e.chart) {
            continue;
        }
        o.push_str(if first { "\n" } else { ",\n" });
        first = false;
        log_entry(&mut o, h, e, default_exec, edit_prefix, timezone);
    }
    o.push_str("\n]");
    o
}

/// `/api/v1/alarm_count`: alarms in `statuses` (default WARNING and CRITICAL), optionally
/// only on charts of the given contexts.
pub fn alarm_count(h: &HostHealth, statuses: &[Status], contexts: &[String]) -> usize {
    h.alarms
        .iter()
        .filter(|a| listed(a))
        .filter(|a| {
            if statuses.is_empty() {
                matches!(a.status, Status::Warning | Status::Critical)
            } else {
                statuses.contains(&a.status)
            }
        })
        .filter(|a| contexts.is_empty() || contexts.contains(&a.context))
        .count()
}

/// The alarm-provided members of `alarm_variables`' scopes: `(chart scope, family scope,
/// host scope)` lists of `(name, value)` for the alarms of chart `chart_id`'s host.
pub type VariableLists = (Vec<(String, f64)>, Vec<(String, f64)>, Vec<(String, f64)>);

/// The alarm variables visible from a chart: its own alarms (chart scope), alarms of charts
/// of the same family (family scope), every alarm as `CHART.NAME` (host scope).
pub fn alarm_variables(h: &HostHealth, chart_id: &str, family: &str) -> VariableLists {
    let mut chart = Vec::new();
    let mut fam = Vec::new();
    let mut host = Vec::new();
    for a in &h.alarms {
        if a.chart_id == chart_id {
            chart.push((a.name.clone(), a.value));
        }
        if a.family == family {
            fam.push((a.name.clone(), a.value));
        }
        host.push((format!("{}.{}", a.chart_id, a.name), a.value));
        if a.chart_name != a.chart_id {
            host.push((format!("{}.{}", a.chart_name, a.name), a.value));
        }
    }
    (chart, fam, host)
}
