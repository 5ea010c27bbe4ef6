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

use super::json::{key, string, w};
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

/// The version string the API reports (`"v" + ours`).
pub fn netdata_version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// One chart object of `charts`/`chart` (fixture `chart-system.cpu.json`), each line prefixed
/// with `indent`.
fn chart_json(o: &mut String, c: &ChartState, indent: &str, alarms: &[alarms::ChartAlarm]) {
    let d = &c.def;
    w!(o, "{indent}{{\n{indent}\t\"id\": ");
    string(o, &d.id);
    let title = format!("{} ({})", d.title, d.name);
    let fields: [(&str, &str); 5] = [
        ("name", &d.name),
        ("type", d.type_part()),
        ("family", &d.family),
        ("context", &d.context),
        ("title", &title),
    ];
    for (k, v) in fields {
        w!(o, ",\n{indent}\t\"{k}\": ");
        string(o, v);
    }
    w!(o, ",\n{indent}\t\"priority\": {}", d.priority);
    for (k, v) in [
        ("plugin", &d.plugin),
        ("module", &d.module),
        ("units", &d.units),
    ] {
        w!(o, ",\n{indent}\t\"{k}\": ");
        string(o, v);
    }
    w!(o, ",\n{indent}\t\"data_url\": ");
    string(o, &format!("/api/v1/data?chart={}", d.id));
    w!(
        o,
        ",\n{indent}\t\"chart_type\": \"{}\"",
        d.chart_type.as_str()
    );
    let (first, last) = (c.first_entry_t(), c.last_entry_t());
    let duration = if last > 0 {
        last - first + c.update_every()
    } else {
        0
    };
    w!(o, ",\n{indent}\t\"duration\": {duration}");
    w!(o, ",\n{indent}\t\"first_entry\": {first}");
    w!(o, ",\n{indent}\t\"last_entry\": {last}");
    w!(o, ",\n{indent}\t\"update_every\": {}", c.update_every());
    w!(o, ",\n{indent}\t\"dimensions\": {{");
    for (i, dim) in c
        .dims()
        .iter()
        .filter(|dim| !dim.def.obsolete && !dim.def.hidden)
        .enumerate()
    {
        o.push_str(if i == 0 { "\n" } else { ",\n" });
        w!(o, "{indent}\t\t");
        string(o, &dim.def.id);
        o.push_str(": { \"name\": ");
        string(o, &dim.def.name);
        o.push_str(" }");
    }
    w!(o, "\n{indent}\t}}");
    w!(o, ",\n{indent}\t\"chart_variables\": {{\n{indent}\t}}");
    w!(o, ",\n{indent}\t\"green\": null,\n{indent}\t\"red\": null");
    w!(o, ",\n{indent}\t\"alarms\": {{\n");
    for (i, a) in alarms.iter().enumerate() {
        if i > 0 {
            o.push_str(",\n");
        }
        w!(o, "{indent}\t\t");
        string(o, &a.name);
        w!(
            o,
            ": {{\n{indent}\t\t\t\"id\": {},\n{indent}\t\t\t\"status\": ",
            a.id
        );
        string(o, a.status);
        w!(o, ",\n{indent}\t\t\t\"units\": ");
        string(o, &a.units);
        w!(
            o,
            ",\n{indent}\t\t\t\"update_every\": {}\n{indent}\t\t}}",
            a.update_every
        );
    }
    w!(o, "\n{indent}\t}}");
    w!(o, ",\n{indent}\t\"chart_labels\": {{");
    for (i, l) in c.labels.iter().enumerate() {
        o.push_str(if i == 0 { "\n" } else { ",\n" });
        w!(o, "{indent}\t\t");
        string(o, &l.name);
        o.push(':');
        string(o, &l.value);
    }
    w!(o, "\n{indent}\t}}");
    w!(
        o,
        ",\n{indent}\t\"functions\": {{\n{indent}\t}}\n{indent}}}"
    );
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
