//! Beyond netdata: a per-child "stopped streaming" alarm on the parent. localhost gets a chart
//! `netdata.streaming_children` with one dimension per child that ever streamed here (its
//! hostname), valued at the seconds since the child's data last arrived; the built-in
//! template `stopped_streaming` (one alarm per child, `stopped_streaming_<child>`) turns
//! CRITICAL when a child has been silent for `[health] child stopped streaming after seconds`
//! (default 30), and CLEAR again when it streams.

use tributary_rrd::{ChartDef, DimDef};

use crate::daemon::AgentState;
use tributary_rrd::custom_vars::sanitize_name as sanitize;

/// The `source` of the built-in entities.
pub const BUILTIN_SOURCE: &str = "tributary/builtin/stopped_streaming.conf";

/// Chart id (and context) of the silence chart.
pub const CHART: &str = "netdata.streaming_children";

/// The built-in template, bound to localhost only.
pub fn builtin_config(localhost: &str, silent_after: i64) -> String {
    format!(
        "template: stopped_streaming\n\
         \x20     on: {CHART}\n\
         \x20  hosts: {}\n\
         \x20  class: Availability\n\
         \x20   type: Streaming\n\
         component: Child\n\
         \x20 lookup: max -1s unaligned of * foreach *\n\
         \x20  units: seconds\n\
         \x20  every: 1s\n\
         \x20   crit: $this > {silent_after}\n\
         \x20   info: seconds since this child's data last arrived\n\
         \x20     to: sysadmin\n",
        localhost.replace([' ', '\\'], "?")
    )
}

/// Collects the silence chart once (called by the health loop before each iteration).
pub fn update(state: &AgentState, now: i64) {
    let children = crate::health::streamed_children(state);
    if children.is_empty() {
        return;
    }
    let localhost = state.hosts.localhost();
    let chart = localhost.chart(
        ChartDef {
            id: CHART.into(),
            name: CHART.into(),
            title: "Seconds since each child's data last arrived".into(),
            units: "seconds".into(),
            family: "streaming".into(),
            context: CHART.into(),
            priority: 130_000,
            update_every: 1,
            plugin: "tributary".into(),
            module: "health".into(),
            ..Default::default()
        },
        now,
    );
    let mut silences = Vec::new();
    for (guid, hostname, _connected) in &children {
        let Some(h) = state.hosts.find(guid) else {
            continue;
        };
        let last_us = h
            .charts()
            .iter()
            .map(|c| c.lock().last_done_us)
            .max()
            .unwrap_or(0);
        let silent = if last_us == 0 {
            0
        } else {
            (now - last_us / 1_000_000).max(0)
        };
        silences.push((sanitize(hostname), guid.clone(), silent));
    }
    let mut st = chart.lock();
    let mut idx = Vec::new();
    for (name, guid, _) in &silences {
        match st.dim_index(guid) {
            Some(i) => idx.push(Some(i)),
            None => idx.push(st.dimension(DimDef::new(guid).named(name)).ok()),
        }
    }
    let now_us = now * 1_000_000;
    let last = st.clock().last_collected_us;
    let duration = if last == 0 { 0 } else { (now_us - last).max(0) };
    st.begin(now_us, u64::try_from(duration).unwrap_or(0));
    for ((_, _, silent), i) in silences.iter().zip(idx) {
        if let Some(i) = i {
            st.set(i, *silent, now_us);
        }
    }
    st.done(now_us);
}
