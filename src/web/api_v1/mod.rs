//! netdata's `/api/v1` endpoints (web/api/web_api_v1.c in netdata 1.37): `info`, `charts`,
//! `chart` and `data`, with netdata's response shapes and number formatting.

use std::time::{SystemTime, UNIX_EPOCH};

use tributary_rrd::number_format::write_netdata_f64;
use tributary_rrd::{ChartState, Host};

use super::json::{key, string, w};
use super::router::Reply;
use crate::daemon::AgentState;

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `/api/v1/info`.
pub fn info(state: &AgentState, host: &Host) -> Reply {
    let mut o = String::from("{\n");
    key(&mut o, true, "version");
    string(&mut o, &format!("v{}", env!("CARGO_PKG_VERSION")));
    key(&mut o, false, "uid");
    string(&mut o, host.machine_guid());
    key(&mut o, false, "mirrored_hosts");
    o.push('[');
    let hosts = state.hosts.all();
    for (i, h) in hosts.iter().enumerate() {
        if i > 0 {
            o.push_str(", ");
        }
        string(&mut o, h.hostname());
    }
    o.push(']');
    key(&mut o, false, "mirrored_hosts_status");
    o.push('[');
    for (i, h) in hosts.iter().enumerate() {
        if i > 0 {
            o.push_str(", ");
        }
        w!(o, "{{ \"guid\": ");
        string(&mut o, h.machine_guid());
        w!(
            o,
            ", \"reachable\": true, \"hops\": 0, \"claim_id\": null }}"
        );
    }
    o.push(']');
    key(&mut o, false, "os_name");
    string(&mut o, &host.config().os);
    key(&mut o, false, "timezone");
    string(&mut o, &host.config().timezone);
    key(&mut o, false, "memory_mode");
    string(&mut o, host.memory_mode().as_str());
    key(&mut o, false, "history");
    w!(o, "{}", host.entries());
    let charts = host.charts();
    key(&mut o, false, "charts-count");
    w!(o, "{}", charts.len());
    key(&mut o, false, "metrics-count");
    let dims: usize = charts.iter().map(|c| c.lock().dims().len()).sum();
    w!(o, "{dims}");
    key(&mut o, false, "alarms");
    o.push_str("{ \"normal\": 0, \"warning\": 0, \"critical\": 0 }");
    o.push_str("\n}");
    Reply::json(o)
}

fn chart_json(o: &mut String, c: &ChartState, indent: &str) {
    let d = &c.def;
    w!(o, "{indent}{{\n{indent}\t\"id\": ");
    string(o, &d.id);
    let fields: [(&str, &str); 8] = [
        ("name", &d.name),
        ("type", d.type_part()),
        ("family", &d.family),
        ("context", &d.context),
        ("title", &format!("{} ({})", d.title, d.name)),
        ("plugin", &d.plugin),
        ("module", &d.module),
        ("units", &d.units),
    ];
    for (k, v) in fields {
        w!(o, ",\n{indent}\t\"{k}\": ");
        string(o, v);
    }
    w!(o, ",\n{indent}\t\"priority\": {}", d.priority);
    w!(o, ",\n{indent}\t\"data_url\": ");
    string(o, &format!("/api/v1/data?chart={}", d.id));
    w!(
        o,
        ",\n{indent}\t\"chart_type\": \"{}\"",
        d.chart_type.as_str()
    );
    let (first, last) = (c.first_entry_t(), c.last_entry_t());
    w!(o, ",\n{indent}\t\"duration\": {}", last - first);
    w!(o, ",\n{indent}\t\"first_entry\": {first}");
    w!(o, ",\n{indent}\t\"last_entry\": {last}");
    w!(o, ",\n{indent}\t\"update_every\": {}", c.update_every());
    w!(o, ",\n{indent}\t\"dimensions\": {{");
    for (i, dim) in c.dims().iter().filter(|dim| !dim.def.obsolete).enumerate() {
        o.push_str(if i == 0 { "\n" } else { ",\n" });
        w!(o, "{indent}\t\t");
        string(o, &dim.def.id);
        o.push_str(": { \"name\": ");
        string(o, &dim.def.name);
        o.push_str(" }");
    }
    w!(o, "\n{indent}\t}}");
    w!(o, ",\n{indent}\t\"chart_variables\": {{}}");
    w!(o, ",\n{indent}\t\"green\": null,\n{indent}\t\"red\": null");
    w!(o, ",\n{indent}\t\"alarms\": {{}}");
    w!(o, ",\n{indent}\t\"chart_labels\": {{");
    for (i, l) in c.labels.iter().enumerate() {
        o.push_str(if i == 0 { "\n" } else { ",\n" });
        w!(o, "{indent}\t\t");
        string(o, &l.name);
        o.push_str(": ");
        string(o, &l.value);
    }
    w!(o, "\n{indent}\t}}");
    w!(o, ",\n{indent}\t\"functions\": {{}}\n{indent}}}");
}

/// `/api/v1/charts`.
pub fn charts(state: &AgentState, host: &Host) -> Reply {
    let mut o = String::from("{\n");
    key(&mut o, true, "hostname");
    string(&mut o, host.hostname());
    key(&mut o, false, "version");
    string(&mut o, &format!("v{}", env!("CARGO_PKG_VERSION")));
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
    let mut dims = 0;
    let mut listed = 0;
    for c in &charts {
        let st = c.lock();
        if st.def.obsolete {
            continue;
        }
        dims += st.dims().len();
        o.push_str(if listed == 0 { "\n\t\t" } else { ",\n\t\t" });
        string(&mut o, &st.def.id);
        o.push_str(": ");
        chart_json(&mut o, &st, "\t\t");
        listed += 1;
    }
    o.push_str("\n\t}");
    key(&mut o, false, "charts_count");
    w!(o, "{listed}");
    key(&mut o, false, "dimensions_count");
    w!(o, "{dims}");
    key(&mut o, false, "alarms_count");
    o.push('0');
    key(&mut o, false, "rrd_memory_bytes");
    w!(o, "{}", dims * host.entries() * 4);
    let hosts = state.hosts.all();
    key(&mut o, false, "hosts_count");
    w!(o, "{}", hosts.len());
    key(&mut o, false, "hosts");
    o.push('[');
    for (i, h) in hosts.iter().enumerate() {
        o.push_str(if i == 0 {
            "\n\t\t{ \"hostname\": "
        } else {
            ",\n\t\t{ \"hostname\": "
        });
        string(&mut o, h.hostname());
        o.push_str(" }");
    }
    o.push_str("\n\t]\n}");
    Reply::json(o)
}

/// `/api/v1/chart?chart=ID`.
pub fn chart(host: &Host, params: &[(String, String)]) -> Reply {
    let Some(id) = param(params, "chart").filter(|s| !s.is_empty()) else {
        return Reply::error(400, "No chart id is given at the request.");
    };
    let Some(c) = host.find_chart_by_id_or_name(id) else {
        return Reply::error(404, format!("Chart is not found: {id}"));
    };
    let mut o = String::new();
    chart_json(&mut o, &c.lock(), "");
    Reply::json(o)
}

/// `/api/v1/data`: the stored slots of a chart, grouped into `points` rows (average, sum, min,
/// max), newest first (`flip`: oldest first), as `json` or `csv`.
pub fn data(host: &Host, params: &[(String, String)]) -> Reply {
    let Some(id) = param(params, "chart").filter(|s| !s.is_empty()) else {
        return Reply::error(400, "No chart id is given at the request.");
    };
    let Some(chart) = host.find_chart_by_id_or_name(id) else {
        return Reply::error(404, format!("Chart is not found: {id}"));
    };
    let st = chart.lock();
    let ue = st.update_every();
    let (first, last) = (st.first_entry_t() + ue, st.last_entry_t());
    let num = |name: &str, default: i64| {
        param(params, name)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(default)
    };
    let options = param(params, "options").unwrap_or("");
    let has = |o: &str| options.split([',', '|', ' ']).any(|x| x == o);
    let group = param(params, "group").unwrap_or("average");
    // netdata: values up to 3 years are relative (to the last slot, then to `before`).
    const RELATIVE_LIMIT: i64 = 3 * 365 * 86400;
    let mut before = num("before", 0);
    let mut after = num("after", -600);
    if before <= 0 || before.abs() <= RELATIVE_LIMIT {
        before += if last > 0 { last } else { now_s() };
    }
    if after <= 0 || after.abs() <= RELATIVE_LIMIT {
        after += before;
    }
    let before = before.min(last);
    let after = after.max(first);
    let slots = if last == 0 || before < after {
        0
    } else {
        (before - after) / ue + 1
    };
    let points = num("points", slots).clamp(1, slots.max(1));
    let per_point = ((slots + points - 1) / points).max(1);

    let dim_filter = param(params, "dimensions").unwrap_or("");
    let dims: Vec<usize> = (0..st.dims().len())
        .filter(|&i| {
            let d = &st.dims()[i].def;
            if dim_filter.is_empty() {
                return !d.hidden && !d.obsolete;
            }
            dim_filter
                .split([',', '|'])
                .any(|f| f == d.id || f == d.name)
        })
        .collect();

    // Rows newest first, as netdata answers without `flip`.
    let mut rows: Vec<(i64, Vec<f64>)> = Vec::new();
    let mut t_end = before;
    while slots > 0 && t_end >= after {
        let t_start = (t_end - (per_point - 1) * ue).max(after);
        let mut vals = Vec::with_capacity(dims.len());
        for &d in &dims {
            let (mut sum, mut n, mut min, mut max) = (0.0, 0, f64::INFINITY, f64::NEG_INFINITY);
            let mut t = t_start;
            while t <= t_end {
                if let Some(v) = st.value_at(d, t).filter(|v| !v.is_nan()) {
                    let v = if has("abs") || has("absolute") {
                        v.abs()
                    } else {
                        v
                    };
                    sum += v;
                    n += 1;
                    min = min.min(v);
                    max = max.max(v);
                }
                t += ue;
            }
            vals.push(if n == 0 {
                f64::NAN
            } else {
                match group {
                    "sum" => sum,
                    "min" => min,
                    "max" => max,
                    _ => sum / n as f64,
                }
            });
        }
        rows.push((t_end, vals));
        t_end = t_start - ue;
    }
    if has("flip") {
        rows.reverse();
    }
    let null2zero = has("null2zero");
    let put = |o: &mut String, v: f64| {
        if v.is_nan() && null2zero {
            o.push('0')
        } else {
            write_netdata_f64(o, v)
        }
    };
    let format = param(params, "format").unwrap_or("json");
    let mut o = String::new();
    if format == "csv" {
        o.push_str("time");
        for &d in &dims {
            o.push(',');
            o.push_str(&st.dims()[d].def.name);
        }
        o.push_str("\r\n");
        for (t, vals) in &rows {
            w!(o, "{t}");
            for v in vals {
                o.push(',');
                put(&mut o, *v);
            }
            o.push_str("\r\n");
        }
        return Reply {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: o,
        };
    }
    let wrap = has("jsonwrap");
    if wrap {
        o.push_str("{\n   \"api\": 1,\n   \"id\": ");
        string(&mut o, &st.def.id);
        o.push_str(",\n   \"name\": ");
        string(&mut o, &st.def.name);
        w!(
            o,
            ",\n   \"view_update_every\": {},\n   \"update_every\": {ue},\n   \"first_entry\": {},\n   \"last_entry\": {last},\n   \"before\": {},\n   \"after\": {},\n   \"group\": ",
            per_point * ue,
            st.first_entry_t(),
            rows.iter().map(|r| r.0).max().unwrap_or(before),
            rows.iter().map(|r| r.0).min().unwrap_or(after),
        );
        string(&mut o, group);
        w!(
            o,
            ",\n   \"dimensions\": {},\n   \"points\": {},\n   \"format\": \"json\",\n   \"result\": ",
            dims.len(),
            rows.len()
        );
    }
    o.push_str("{\n \"labels\": [\"time\"");
    for &d in &dims {
        o.push(',');
        string(&mut o, &st.dims()[d].def.name);
    }
    o.push_str("],\n    \"data\":\n [\n");
    for (i, (t, vals)) in rows.iter().enumerate() {
        w!(o, " [ {t}");
        for v in vals {
            o.push(',');
            put(&mut o, *v);
        }
        o.push_str(if i + 1 == rows.len() { "]\n" } else { "],\n" });
    }
    o.push_str(" ]\n}");
    if wrap {
        o.push_str("\n}");
    }
    Reply::json(o)
}

/// A minimal page at `/` listing the hosts and charts (the dashboard is its own capability).
pub fn index_page(state: &AgentState, host: &Host) -> String {
    let mut o = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>tributary</title></head><body>",
    );
    w!(
        o,
        "<h1>tributary on {}</h1><h2>hosts</h2><ul>",
        html(host.hostname())
    );
    for h in state.hosts.all() {
        w!(
            o,
            "<li><a href=\"/host/{0}/\">{0}</a></li>",
            html(h.hostname())
        );
    }
    o.push_str("</ul><h2>charts</h2><ul>");
    for c in host.charts() {
        let st = c.lock();
        w!(
            o,
            "<li><a href=\"api/v1/data?chart={0}&amp;after=-60&amp;format=csv\">{0}</a> — {1} ({2})</li>",
            html(&st.def.id),
            html(&st.def.title),
            html(&st.def.units)
        );
    }
    o.push_str("</ul></body></html>");
    o
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
