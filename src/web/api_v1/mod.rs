//! netdata's `/api/v1` endpoints (web/api/web_api_v1.c in netdata 1.37): `info`, `charts`,
//! `chart` and `data`, with netdata's response shapes and number formatting.

use std::time::{SystemTime, UNIX_EPOCH};

use tributary_rrd::{ChartState, Host};

pub mod alarms;
pub mod allmetrics;
pub mod badge;
pub mod data;
pub mod info;
pub mod registry;
pub mod streaming;

use tributary_rrd::number_format::{write_i64, write_u64};

use super::json::{escaped, key, string, w};
use super::router::Reply;
use crate::daemon::AgentState;

/// Wall clock, seconds.
pub fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The value of the first parameter `name`.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub use crate::host_info::netdata_version;

/// Appends `,\n{indent}\t"{k}": ` (the separator and key of a chart field).
fn field(o: &mut String, indent: &str, k: &str) {
    o.push_str(",\n");
    o.push_str(indent);
    o.push_str("\t\"");
    o.push_str(k);
    o.push_str("\": ");
}

/// `,\n{indent}\t"{k}": {v}` for an integer field.
fn int_field(o: &mut String, indent: &str, k: &str, v: i64) {
    field(o, indent, k);
    write_i64(o, v);
}

/// `\n{indent}{tail}`: a line of the chart object that closes something.
fn close(o: &mut String, indent: &str, tail: &str) {
    o.push('\n');
    o.push_str(indent);
    o.push_str(tail);
}

/// One chart object of `charts`/`chart` (fixture `chart-system.cpu.json`), each line prefixed
/// with `indent`. Written piece by piece into `o`: no formatting machinery, no temporary
/// strings (this is most of `/api/v1/charts`).
fn chart_json(o: &mut String, c: &ChartState, indent: &str, alarms: &[alarms::ChartAlarm]) {
    let d = &c.def;
    o.push_str(indent);
    o.push_str("{\n");
    o.push_str(indent);
    o.push_str("\t\"id\": ");
    string(o, &d.id);
    for (k, v) in [
        ("name", d.name.as_str()),
        ("type", d.type_part()),
        ("family", &d.family),
        ("context", &d.context),
    ] {
        field(o, indent, k);
        string(o, v);
    }
    // "title (name)", escaped as one string
    field(o, indent, "title");
    o.push('"');
    escaped(o, &d.title);
    o.push_str(" (");
    escaped(o, &d.name);
    o.push_str(")\"");
    int_field(o, indent, "priority", d.priority);
    for (k, v) in [
        ("plugin", &d.plugin),
        ("module", &d.module),
        ("units", &d.units),
    ] {
        field(o, indent, k);
        string(o, v);
    }
    field(o, indent, "data_url");
    o.push_str("\"/api/v1/data?chart=");
    escaped(o, &d.id);
    o.push('"');
    field(o, indent, "chart_type");
    o.push('"');
    o.push_str(d.chart_type.as_str());
    o.push('"');
    let (first, last) = (c.first_entry_t(), c.last_entry_t());
    let duration = if last > 0 {
        last - first + c.update_every()
    } else {
        0
    };
    int_field(o, indent, "duration", duration);
    int_field(o, indent, "first_entry", first);
    int_field(o, indent, "last_entry", last);
    int_field(o, indent, "update_every", c.update_every());
    field(o, indent, "dimensions");
    o.push('{');
    for (i, dim) in c
        .dims()
        .iter()
        .filter(|dim| !dim.def.obsolete && !dim.def.hidden)
        .enumerate()
    {
        o.push_str(if i == 0 { "\n" } else { ",\n" });
        o.push_str(indent);
        o.push_str("\t\t");
        string(o, &dim.def.id);
        o.push_str(": { \"name\": ");
        string(o, &dim.def.name);
        o.push_str(" }");
    }
    close(o, indent, "\t}");
    field(o, indent, "chart_variables");
    o.push('{');
    close(o, indent, "\t}");
    field(o, indent, "green");
    o.push_str("null");
    field(o, indent, "red");
    o.push_str("null");
    field(o, indent, "alarms");
    o.push_str("{\n");
    for (i, a) in alarms.iter().enumerate() {
        if i > 0 {
            o.push_str(",\n");
        }
        o.push_str(indent);
        o.push_str("\t\t");
        string(o, &a.name);
        o.push_str(": {");
        close(o, indent, "\t\t\t\"id\": ");
        write_u64(o, u64::from(a.id));
        o.push(',');
        close(o, indent, "\t\t\t\"status\": ");
        string(o, a.status);
        o.push(',');
        close(o, indent, "\t\t\t\"units\": ");
        string(o, &a.units);
        o.push(',');
        close(o, indent, "\t\t\t\"update_every\": ");
        write_i64(o, a.update_every);
        close(o, indent, "\t\t}");
    }
    close(o, indent, "\t}");
    field(o, indent, "chart_labels");
    o.push('{');
    for (i, l) in c.labels.iter().enumerate() {
        o.push_str(if i == 0 { "\n" } else { ",\n" });
        o.push_str(indent);
        o.push_str("\t\t");
        string(o, &l.name);
        o.push(':');
        string(o, &l.value);
    }
    close(o, indent, "\t}");
    field(o, indent, "functions");
    o.push('{');
    close(o, indent, "\t}");
    close(o, indent, "}");
}

/// `/api/v1/charts` (fixtures `charts.json`, `charts-child.json`): every chart of `host`, and
/// every host of the agent in `hosts` (localhost first), whichever host is asked.
pub fn charts(state: &AgentState, host: &Host) -> Reply {
    let mut o = String::from("{\n");
    key(&mut o, true, "hostname");
    string(&mut o, host.hostname());
    key(&mut o, false, "version");
    string(&mut o, &netdata_version());
    key(&mut o, false, "release_channel");
    string(&mut o, "stable");
    key(&mut o, false, "os");
    string(&mut o, &host.config().os);
    key(&mut o, false, "timezone");
    string(&mut o, &host.config().timezone);
    key(&mut o, false, "update_every");
    w!(o, "{}", state.update_every);
    key(&mut o, false, "history");
    w!(o, "{}", host.entries());
    key(&mut o, false, "memory_mode");
    string(&mut o, host.memory_mode().as_str());
    key(&mut o, false, "custom_info");
    string(&mut o, "");
    key(&mut o, false, "charts");
    o.push('{');
    let charts = host.charts();
    let chart_alarms = alarms::chart_alarms(state, host);
    let mut dims = 0;
    let mut listed = 0;
    let mut alarm_count = 0;
    for c in &charts {
        let st = c.lock();
        if st.def.obsolete {
            continue;
        }
        dims += st.dims().len();
        o.push_str(if listed == 0 { "\n\t\t" } else { ",\n\t\t" });
        string(&mut o, &st.def.id);
        o.push_str(": ");
        let list = chart_alarms.get(&st.def.id).map_or(&[][..], Vec::as_slice);
        alarm_count += list.len();
        chart_json(&mut o, &st, "\t\t", list);
        listed += 1;
    }
    o.push_str("\n\t}");
    key(&mut o, false, "charts_count");
    w!(o, "{listed}");
    key(&mut o, false, "dimensions_count");
    w!(o, "{dims}");
    key(&mut o, false, "alarms_count");
    w!(o, "{alarm_count}");
    key(&mut o, false, "rrd_memory_bytes");
    w!(o, "{}", dims * host.entries() * 4);
    let hosts = state.hosts.all();
    key(&mut o, false, "hosts_count");
    w!(o, "{}", hosts.len());
    key(&mut o, false, "hosts");
    o.push('[');
    for (i, h) in hosts.iter().enumerate() {
        o.push_str(if i == 0 {
            "\n\t\t{\n\t\t\t\"hostname\": "
        } else {
            ",\n\t\t{\n\t\t\t\"hostname\": "
        });
        string(&mut o, h.hostname());
        o.push_str("\n\t\t}");
    }
    o.push_str("\n\t]\n}");
    let mut r = Reply::json(o);
    r.cacheable = true;
    r
}

/// `/api/v1/chart?chart=ID` (id, else name).
pub fn chart(state: &AgentState, host: &Host, params: &[(String, String)]) -> Reply {
    let Some(id) = param(params, "chart").filter(|s| !s.is_empty()) else {
        return Reply::error(400, "No chart id is given at the request.");
    };
    let Some(c) = host.find_chart_by_id_or_name(id) else {
        return Reply::error(404, format!("Chart is not found: {id}"));
    };
    let chart_alarms = alarms::chart_alarms(state, host);
    let mut o = String::new();
    let st = c.lock();
    let list = chart_alarms.get(&st.def.id).map_or(&[][..], Vec::as_slice);
    chart_json(&mut o, &st, "", list);
    drop(st);
    let mut r = Reply::json(o);
    r.cacheable = true;
    r
}

/// Dispatches `/api/v1/CMD` (netdata's command table); unknown commands get netdata's 404.
pub fn dispatch(
    state: &AgentState,
    host: &Host,
    cmd: &str,
    params: &[(String, String)],
    raw_query: &str,
) -> Reply {
    let now = now_s();
    match cmd {
        "info" => info::info(state, host),
        "charts" => charts(state, host),
        "chart" => chart(state, host, params),
        "data" => data::data(host, params, now - 1),
        "alarms" => alarms::alarms(state, host, now, raw_query),
        "alarms_values" => alarms::alarms_values(state, host, raw_query),
        "alarm_log" => alarms::alarm_log(state, host, params),
        "alarm_variables" => alarms::alarm_variables(state, host, params),
        "alarm_count" => alarms::alarm_count(state, host, params),
        "allmetrics" => allmetrics::allmetrics(state, host, params, None),
        "badge.svg" => badge::badge(state, host, params, now),
        "registry" => registry::registry(host, params),
        "streaming" => streaming::streaming(state, now),
        "aclk" => Reply::json("{\"aclk-available\":false}".into()),
        "function" | "functions" => {
            Reply::error(403, "You are not allowed to access this resource.")
        }
        "manage" => Reply::error(403, "Auth Error"),
        other => Reply::error(404, format!("Unsupported v1 API command: {other}")),
    }
}
