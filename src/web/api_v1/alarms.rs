//! The alarm endpoints with netdata 1.37.1's shapes. There is no health engine yet, so every
//! host has no alarms: `alarms`, `alarms_values`, `alarm_log`, `alarm_variables`, `alarm_count`
//! answer the empty forms of netdata's objects.

use tributary_rrd::Host;

use super::param;
use crate::web::json::{string, w};
use crate::web::router::Reply;

/// `/api/v1/alarms` (bare `all` or `active`).
pub fn alarms(host: &Host, now: i64) -> Reply {
    let mut o = String::from("{\n\t\"hostname\": ");
    string(&mut o, host.hostname());
    w!(
        o,
        ",\n\t\"latest_alarm_log_unique_id\": 0,\n\t\"status\": true,\n\t\"now\": {now},\n\t\"alarms\": {{\n\n\t}}\n}}\n"
    );
    Reply::json(o)
}

/// `/api/v1/alarms_values`.
pub fn alarms_values(host: &Host) -> Reply {
    let mut o = String::from("{\n\t\"hostname\": ");
    string(&mut o, host.hostname());
    o.push_str(",\n\t\"alarms\": {\n\n\t}\n}\n");
    Reply::json(o)
}

/// `/api/v1/alarm_log` (`after` is accepted; the log is empty).
pub fn alarm_log() -> Reply {
    Reply::json("[\n]".into())
}

/// `/api/v1/alarm_variables?chart=X`.
pub fn alarm_variables(host: &Host, params: &[(String, String)]) -> Reply {
    let Some(id) = param(params, "chart").filter(|s| !s.is_empty()) else {
        return Reply::error(400, "No chart id is given at the request.");
    };
    let Some(c) = host.find_chart_by_id_or_name(id) else {
        return Reply::error(404, format!("Chart is not found: {id}"));
    };
    let st = c.lock();
    let mut o = String::from("{\n\t\"chart\": ");
    string(&mut o, &st.def.id);
    o.push_str(",\n\t\"chart_name\": ");
    string(&mut o, &st.def.name);
    o.push_str(",\n\t\"chart_context\": ");
    string(&mut o, &st.def.context);
    o.push_str(",\n\t\"chart_variables\": {\n\t},\n\t\"family\": ");
    string(&mut o, &st.def.family);
    o.push_str(",\n\t\"family_variables\": {\n\t},\n\t\"host\": ");
    string(&mut o, host.hostname());
    o.push_str(",\n\t\"host_variables\": {\n\t}\n}\n");
    Reply::json(o)
}

/// `/api/v1/alarm_count`: `[N]` (0 without health).
pub fn alarm_count() -> Reply {
    Reply::json("[0]\n".into())
}
