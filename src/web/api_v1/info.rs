//! `/api/v1/info` (netdata 1.37.1's shape, fixture `info.json`): the agent, its mirrored hosts
//! and the host's system information (`crate::host_info`).

use tributary_rrd::Host;

use crate::daemon::AgentState;
use crate::host_info::{child_system_info, local_host_labels, local_system_info};
use crate::web::json::{string, w};
use crate::web::router::Reply;

/// Whether this agent streams to a parent, and with compression.
fn stream_sending(state: &AgentState) -> Option<bool> {
    tributary_config::StreamConf::new(&state.stream_config)
        .sender()
        .ok()
        .filter(|s| s.can_send())
        .map(|s| s.enable_compression)
}

fn str_field(o: &mut String, k: &str, v: &str) {
    w!(o, ",\n\t\"{k}\": ");
    string(o, v);
}

/// `/api/v1/info` of `host`: `mirrored_hosts*` always list every host of the agent.
pub fn info(state: &AgentState, host: &Host) -> Reply {
    let is_local = std::ptr::eq(host, state.hosts.localhost().as_ref());
    let hosts = state.hosts.all();
    let mut o = String::from("{\n\t\"version\": ");
    string(&mut o, &crate::web::api_v1::netdata_version());
    o.push_str(",\n\t\"uid\": ");
    string(&mut o, host.machine_guid());
    o.push_str(",\n\t\"mirrored_hosts\": [\n");
    for (i, h) in hosts.iter().enumerate() {
        o.push_str(if i == 0 { "\t\t" } else { ",\n\t\t" });
        string(&mut o, h.hostname());
    }
    o.push_str("\n\t],\n\t\"mirrored_hosts_status\": [\n");
    for (i, h) in hosts.iter().enumerate() {
        let local = i == 0;
        let status = if local {
            None
        } else {
            state.receivers.status(h.machine_guid())
        };
        let reachable = local || status.is_some();
        let hops = if local {
            0
        } else {
            status.map_or(1, |(_, hops, _)| hops.max(1))
        };
        o.push_str(if i == 0 { "\t\t" } else { ",\n\t\t" });
        o.push_str("{ \"guid\": ");
        string(&mut o, h.machine_guid());
        o.push_str(", \"hostname\": ");
        string(&mut o, h.hostname());
        w!(
            o,
            ", \"reachable\": {reachable}, \"hops\": {hops}, \"claim_id\": null, \"node_id\": null }}"
        );
    }
    let (normal, warning, critical) = super::alarms::alarm_counts(state, host);
    w!(
        o,
        "\n\t],\n\t\"alarms\": {{\n\t\t\"normal\": {normal},\n\t\t\"warning\": {warning},\n\t\t\"critical\": {critical}\n\t}}"
    );
    let sys = if is_local {
        local_system_info().clone()
    } else {
        child_system_info(host)
    };
    for (k, _, v) in &sys.fields {
        str_field(&mut o, k, v);
    }
    o.push_str(",\n\t\"host_labels\": {");
    let labels = if is_local {
        local_host_labels(state)
    } else {
        host.labels
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    };
    for (i, (k, v)) in labels.iter().enumerate() {
        o.push_str(if i == 0 { "\n\t\t" } else { ",\n\t\t" });
        string(&mut o, k);
        o.push(':');
        string(&mut o, v);
    }
    o.push_str("\n\t},\n\t\"functions\": {\n\n\t},\n\t\"collectors\": [");
    let mut collectors: Vec<(String, String)> = Vec::new();
    let charts = host.charts();
    let mut dims = 0usize;
    for c in &charts {
        let st = c.lock();
        dims += st.dims().len();
        let pair = (st.def.plugin.clone(), st.def.module.clone());
        if !pair.0.is_empty() && !collectors.contains(&pair) {
            collectors.push(pair);
        }
    }
    for (i, (p, m)) in collectors.iter().enumerate() {
        o.push_str(if i == 0 {
            "\n\t\t{\n\t\t\t\"plugin\": "
        } else {
            ",\n\t\t{\n\t\t\t\"plugin\": "
        });
        string(&mut o, p);
        o.push_str(",\n\t\t\t\"module\": ");
        string(&mut o, m);
        o.push_str("\n\t\t}");
    }
    o.push_str("\n\t],\n\t\"cloud-enabled\": false,\n\t\"cloud-available\": false,\n\t\"agent-claimed\": false,\n\t\"aclk-available\": false");
    str_field(&mut o, "memory-mode", host.memory_mode().as_str());
    o.push_str(",\n\t\"multidb-disk-quota\": 256,\n\t\"page-cache-size\": 32");
    match stream_sending(state) {
        Some(compression) => w!(
            o,
            ",\n\t\"stream-enabled\": true,\n\t\"stream-compression\": {compression}"
        ),
        None => o.push_str(",\n\t\"stream-enabled\": false,\n\t\"stream-compression\": null"),
    }
    w!(
        o,
        ",\n\t\"hosts-available\": {},\n\t\"https-enabled\": false",
        hosts.len()
    );
    str_field(&mut o, "buildinfo", "Stream Compression|LZ4");
    str_field(&mut o, "release-channel", "stable");
    o.push_str(",\n\t\"web-enabled\": true");
    str_field(&mut o, "notification-methods", "");
    o.push_str(",\n\t\"exporting-enabled\": false");
    str_field(&mut o, "exporting-connectors", "");
    let (prom, shell, json) = super::allmetrics::usage();
    w!(
        o,
        ",\n\t\"allmetrics-prometheus-used\": {prom},\n\t\"allmetrics-shell-used\": {shell},\n\t\"allmetrics-json-used\": {json},\n\t\"dashboard-used\": 0"
    );
    w!(
        o,
        ",\n\t\"charts-count\": {},\n\t\"metrics-count\": {dims}\n}}",
        charts.len()
    );
    Reply::json(o)
}
