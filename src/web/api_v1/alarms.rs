//! The alarm endpoints with netdata 1.37.1's shapes, answered from the health engine:
//! `alarms` (`all`/`active`), `alarms_values`, `alarm_log` (`after`, `chart`),
//! `alarm_variables` (`chart`), `alarm_count` (`status`, `context`/`ctx`). A host without
//! health answers the empty forms of netdata's objects.

use tributary_health::api_json;
use tributary_health::host_health::HostHealth;
use tributary_health::status::Status;
use tributary_rrd::Host;

use super::param;
use crate::daemon::AgentState;
use crate::web::json::{string, w};
use crate::web::router::Reply;

fn with_health<T>(state: &AgentState, host: &Host, f: impl FnOnce(&HostHealth) -> T) -> Option<T> {
    let h = state.health.engine.host(host.machine_guid())?;
    let hh = h.lock().unwrap_or_else(|p| p.into_inner());
    Some(f(&hh))
}

fn default_exec(state: &AgentState) -> &str {
    &state.health.engine.settings.default_exec
}

/// Whether the bare word `all` is in the query string.
fn has_all(raw_query: &str) -> bool {
    raw_query
        .split('&')
        .any(|p| p == "all" || p.starts_with("all="))
}

/// `/api/v1/alarms` (bare `all` or `active`).
pub fn alarms(state: &AgentState, host: &Host, now: i64, raw_query: &str) -> Reply {
    let all = has_all(raw_query);
    if let Some(body) = with_health(state, host, |hh| {
        api_json::alarms(hh, default_exec(state), now, all)
    }) {
        return Reply::json(body);
    }
    let mut o = String::from("{\n\t\"hostname\": ");
    string(&mut o, host.hostname());
    w!(
        o,
        ",\n\t\"latest_alarm_log_unique_id\": 0,\n\t\"status\": true,\n\t\"now\": {now},\n\t\"alarms\": {{\n\n\t}}\n}}\n"
    );
    Reply::json(o)
}

/// `/api/v1/alarms_values`.
pub fn alarms_values(state: &AgentState, host: &Host, raw_query: &str) -> Reply {
    let all = has_all(raw_query);
    if let Some(body) = with_health(state, host, |hh| api_json::alarms_values(hh, all)) {
        return Reply::json(body);
    }
    let mut o = String::from("{\n\t\"hostname\": ");
    string(&mut o, host.hostname());
    o.push_str(",\n\t\"alarms\": {\n\n\t}\n}\n");
    Reply::json(o)
}

/// `/api/v1/alarm_log?after=ID[&chart=C]`.
pub fn alarm_log(state: &AgentState, host: &Host, params: &[(String, String)]) -> Reply {
    let after = param(params, "after")
        .and_then(|a| a.parse::<u32>().ok())
        .unwrap_or(0);
    let chart = param(params, "chart").filter(|c| !c.is_empty());
    let edit = format!(
        "sudo {}/edit-config",
        state.health.engine.settings.user_config_dir.display()
    );
    let tz = &host.config().timezone;
    with_health(state, host, |hh| {
        api_json::alarm_log(hh, default_exec(state), &edit, tz, after, chart)
    })
    .map_or_else(|| Reply::json("[\n]".into()), Reply::json)
}

fn var(o: &mut String, first: &mut bool, name: &str, v: f64) {
    if !*first {
        o.push_str(",\n");
    }
    *first = false;
    o.push_str("\t\t");
    string(o, name);
    if v.is_finite() {
        w!(o, ": {v:.5}");
    } else {
        o.push_str(": null");
    }
}

/// The chart variables of one chart, each name prefixed with `prefix`.
fn chart_vars(
    o: &mut String,
    first: &mut bool,
    st: &tributary_rrd::ChartState,
    prefix: &str,
    alarms: &[(String, f64)],
    with_chart_vars: bool,
) {
    if with_chart_vars {
        let lc = (st.clock().last_collected_us / 1_000_000) as f64;
        var(o, first, &format!("{prefix}last_collected_t"), lc);
        var(o, first, &format!("{prefix}green"), f64::NAN);
        var(o, first, &format!("{prefix}red"), f64::NAN);
        var(
            o,
            first,
            &format!("{prefix}update_every"),
            st.update_every() as f64,
        );
        for (n, v) in st.vars.iter() {
            var(o, first, &format!("{prefix}{n}"), v);
        }
    }
    for (n, v) in alarms {
        var(o, first, &format!("{prefix}{n}"), *v);
    }
    let last = st.last_entry_t();
    for (i, d) in st.dims().iter().enumerate().rev() {
        let value = st.value_at(i, last).unwrap_or(f64::NAN);
        let lc = (d.last_collected_us / 1_000_000) as f64;
        let mut names = vec![d.def.id.as_str()];
        if d.def.name != d.def.id {
            names.push(d.def.name.as_str());
        }
        for n in names {
            var(o, first, &format!("{prefix}{n}"), value);
            var(
                o,
                first,
                &format!("{prefix}{n}_raw"),
                d.last_collected as f64,
            );
            var(o, first, &format!("{prefix}{n}_last_collected_t"), lc);
        }
    }
}

/// `/api/v1/alarm_variables?chart=X`: the chart, family and host scopes.
pub fn alarm_variables(state: &AgentState, host: &Host, params: &[(String, String)]) -> Reply {
    let Some(id) = param(params, "chart").filter(|s| !s.is_empty()) else {
        return Reply::error(400, "No chart id is given at the request.");
    };
    let Some(c) = host.find_chart_by_id_or_name(id) else {
        return Reply::error(404, format!("Chart is not found: {id}"));
    };
    let (chart_id, chart_name, context, family) = {
        let st = c.lock();
        (
            st.def.id.clone(),
            st.def.name.clone(),
            st.def.context.clone(),
            st.def.family.clone(),
        )
    };
    let alarm_lists = with_health(state, host, |hh| {
        let per_chart: Vec<(String, Vec<(String, f64)>)> = host
            .charts()
            .iter()
            .map(|ch| {
                let cid = ch.id().to_string();
                let list = hh
                    .alarms
                    .iter()
                    .filter(|a| a.chart_id == cid)
                    .map(|a| (a.name.clone(), a.value))
                    .collect();
                (cid, list)
            })
            .collect();
        per_chart
    })
    .unwrap_or_default();
    let alarms_of = |cid: &str| {
        alarm_lists
            .iter()
            .find(|(c, _)| c == cid)
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    };
    let mut o = String::from("{\n\t\"chart\": ");
    string(&mut o, &chart_id);
    o.push_str(",\n\t\"chart_name\": ");
    string(&mut o, &chart_name);
    o.push_str(",\n\t\"chart_context\": ");
    string(&mut o, &context);
    o.push_str(",\n\t\"chart_variables\": {\n");
    let mut first = true;
    {
        let st = c.lock();
        chart_vars(&mut o, &mut first, &st, "", &alarms_of(&chart_id), true);
    }
    o.push_str("\n\t},\n\t\"family\": ");
    string(&mut o, &family);
    o.push_str(",\n\t\"family_variables\": {\n");
    let mut first = true;
    let charts = host.charts();
    for ch in &charts {
        let st = ch.lock();
        if st.def.family != family {
            continue;
        }
        let ctx = format!("{}.", st.def.context);
        chart_vars(&mut o, &mut first, &st, "", &alarms_of(ch.id()), false);
        chart_vars(&mut o, &mut first, &st, &ctx, &[], false);
    }
    o.push_str("\n\t},\n\t\"host\": ");
    string(&mut o, host.hostname());
    o.push_str(",\n\t\"host_variables\": {\n");
    let mut first = true;
    {
        let custom = host.vars.lock().unwrap_or_else(|p| p.into_inner());
        for (n, v) in custom.iter() {
            var(&mut o, &mut first, n, v);
        }
    }
    for ch in &charts {
        let st = ch.lock();
        let prefix = format!("{}.", st.def.id);
        chart_vars(&mut o, &mut first, &st, &prefix, &alarms_of(ch.id()), true);
    }
    o.push_str("\n\t}\n}\n");
    Reply::json(o)
}

/// `/api/v1/alarm_count?status=S&context=C`: `[N]`.
pub fn alarm_count(state: &AgentState, host: &Host, params: &[(String, String)]) -> Reply {
    let statuses: Vec<Status> = params
        .iter()
        .filter(|(k, _)| k == "status")
        .filter_map(|(_, v)| Status::parse(v))
        .collect();
    let contexts: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "context" || k == "ctx")
        .flat_map(|(_, v)| v.split('|').map(str::to_string).collect::<Vec<_>>())
        .collect();
    let n = with_health(state, host, |hh| {
        api_json::alarm_count(hh, &statuses, &contexts)
    })
    .unwrap_or(0);
    Reply::json(format!("[{n}]\n"))
}

/// The value, units and status of alarm `name` on chart `chart_id` (badges).
pub fn alarm_value(
    state: &AgentState,
    host: &Host,
    chart_id: &str,
    name: &str,
) -> Option<(f64, String, Status)> {
    with_health(state, host, |hh| {
        hh.alarms
            .iter()
            .find(|a| a.chart_id == chart_id && a.name == name)
            .map(|a| (a.value, a.units.clone(), a.status))
    })
    .flatten()
}

/// An alarm as `/api/v1/chart(s)` lists it under its chart.
#[derive(Debug, Clone)]
pub struct ChartAlarm {
    /// Alarm name.
    pub name: String,
    /// Alarm id.
    pub id: u32,
    /// Status word.
    pub status: &'static str,
    /// Units.
    pub units: String,
    /// Seconds between evaluations.
    pub update_every: i64,
}

/// The alarms of every chart of `host`, by chart id (collected with the host's health lock
/// only, before any chart is locked: the health thread locks charts under its own lock).
pub fn chart_alarms(
    state: &AgentState,
    host: &Host,
) -> std::collections::HashMap<String, Vec<ChartAlarm>> {
    let mut m: std::collections::HashMap<String, Vec<ChartAlarm>> =
        std::collections::HashMap::new();
    let _found = with_health(state, host, |hh| {
        for a in &hh.alarms {
            m.entry(a.chart_id.clone()).or_default().push(ChartAlarm {
                name: a.name.clone(),
                id: a.id,
                status: a.status.as_str(),
                units: a.units.clone(),
                update_every: a.update_every,
            });
        }
    });
    m
}

/// `(normal, warning, critical)` alarm counts of a host (`/api/v1/info`'s `alarms`).
pub fn alarm_counts(state: &AgentState, host: &Host) -> (usize, usize, usize) {
    with_health(state, host, |hh| {
        let mut c = (0, 0, 0);
        for a in hh.alarms.iter().filter(|a| api_json::listed(a)) {
            match a.status {
                Status::Warning => c.1 += 1,
                Status::Critical => c.2 += 1,
                _ => c.0 += 1,
            }
        }
        c
    })
    .unwrap_or((0, 0, 0))
}
