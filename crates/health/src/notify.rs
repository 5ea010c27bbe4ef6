//! Notifications: netdata 1.37's `exec` command line (29 positional arguments, the order
//! alarm-notify.sh reads them in) and running it.

use std::process::{Command, Stdio};

use crate::host_health::{HealthSettings, HostHealth};
use crate::log::LogEntry;
use crate::status::Status;
use crate::value_format::format_value_and_unit;

/// A notification ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The log entry it is for (0 for repeats, which are not kept).
    pub unique_id: u32,
    /// The script.
    pub exec: String,
    /// Arguments 1..=29.
    pub args: Vec<String>,
    /// Working directory.
    pub cwd: std::path::PathBuf,
    /// Extra environment.
    pub env: Vec<(String, String)>,
}

fn value_arg(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{v:.0}")
    }
}

/// Builds the command line of entry `e` of host `h`.
pub fn build(h: &HostHealth, e: &LogEntry, settings: &HealthSettings) -> Notification {
    let exec = if e.exec.is_empty() {
        settings.default_exec.clone()
    } else {
        e.exec.clone()
    };
    let alarm = h
        .alarms
        .iter()
        .find(|a| a.id == e.alarm_id && a.chart_id == e.chart);
    let latest = alarm.is_some_and(|a| a.next_event_id == e.alarm_event_id.wrapping_add(1));
    let (expr_source, expr_values) = match alarm {
        Some(a) if a.status == Status::Critical && latest => (
            a.def.crit.as_ref().map(|c| c.source().to_string()),
            Some(a.crit_trace.clone()),
        ),
        Some(a) if (a.status == Status::Warning && latest) || a.status == Status::Clear => (
            a.def.warn.as_ref().map(|c| c.source().to_string()),
            Some(a.warn_trace.clone()),
        ),
        _ => (None, None),
    };
    let mut raised: Vec<(&str, i64, Status)> = Vec::new();
    let (mut warnings, mut criticals) = (0, 0);
    for a in h.alarms.iter().take(500) {
        if latest && alarm.is_some_and(|x| std::ptr::eq(x, a)) {
            continue;
        }
        match a.status {
            Status::Warning => warnings += 1,
            Status::Critical => criticals += 1,
            _ => continue,
        }
        raised.push((&a.name, a.last_status_change, a.status));
    }
    raised.sort_by_key(|r| std::cmp::Reverse(r.1));
    let list = |only: Option<Status>| {
        raised
            .iter()
            .filter(|r| only.is_none_or(|s| r.2 == s))
            .take(15)
            .map(|r| format!("{}={}", r.0, r.1))
            .collect::<Vec<_>>()
            .join(",")
    };
    let (file, line) =
        e.source
            .split_once('@')
            .map_or(("UNKNOWN".to_string(), "0".to_string()), |(l, f)| {
                let name = std::path::Path::new(f)
                    .file_name()
                    .map_or_else(|| f.to_string(), |n| n.to_string_lossy().into_owned());
                (name, l.to_string())
            });
    let edit = format!(
        "sudo {}/edit-config health.d/{file}={line}={}",
        settings.user_config_dir.display(),
        h.host.hostname()
    );
    let args = vec![
        e.recipient.clone(),
        h.host.hostname().to_string(),
        e.unique_id.to_string(),
        e.alarm_id.to_string(),
        e.alarm_event_id.to_string(),
        e.when.to_string(),
        e.name.clone(),
        if e.chart.is_empty() {
            "NOCHART".into()
        } else {
            e.chart.clone()
        },
        if e.family.is_empty() {
            "NOFAMILY".into()
        } else {
            e.family.clone()
        },
        e.new_status.as_str().to_string(),
        e.old_status.as_str().to_string(),
        value_arg(e.new_value),
        value_arg(e.old_value),
        e.source.clone(),
        e.duration.to_string(),
        e.non_clear_duration.to_string(),
        e.units.clone(),
        e.info.clone(),
        format_value_and_unit(e.new_value, &e.units),
        format_value_and_unit(e.old_value, &e.units),
        expr_source.unwrap_or_else(|| "NOSOURCE".into()),
        expr_values.unwrap_or_else(|| "NOERRMSG".into()),
        warnings.to_string(),
        criticals.to_string(),
        list(None),
        list(Some(Status::Critical)),
        e.class.clone(),
        edit,
        if h.is_child {
            h.host.machine_guid().to_string()
        } else {
            String::new()
        },
    ];
    Notification {
        unique_id: e.unique_id,
        exec,
        args,
        cwd: settings.user_config_dir.clone(),
        env: settings.env.clone(),
    }
}

/// Quotes for a shell single-quoted word, as netdata's `exec '<a>' '<b>'` line.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Notification {
    /// The shell command netdata would run.
    pub fn command_line(&self) -> String {
        let mut cmd = format!("exec {}", quote(&self.exec));
        for a in &self.args {
            cmd.push(' ');
            cmd.push_str(&quote(a));
        }
        cmd
    }

    /// Starts the command through `/bin/sh`.
    pub fn spawn(&self) -> std::io::Result<std::process::Child> {
        let mut c = Command::new("/bin/sh");
        c.arg("-c")
            .arg(self.command_line())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if self.cwd.is_dir() {
            c.current_dir(&self.cwd);
        }
        c.spawn()
    }
}
