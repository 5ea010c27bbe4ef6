//! `/api/v1/streaming` (tributary's own; netdata has no such endpoint): every host this agent
//! keeps, whether its child is streaming now, from where, with how many hops, and what
//! replication did for it — the seconds replayed, the last gap and how much of it the child
//! could not fill, its chart count, newest data and the bytes its stream carried so far
//! (compressed or not) — so a user can see at a glance that nothing was lost.

use serde_json::json;

use super::super::router::Reply;
use crate::daemon::AgentState;

/// The streaming status of every host.
pub fn streaming(state: &AgentState, now_s: i64) -> Reply {
    let hosts: Vec<serde_json::Value> = state
        .hosts
        .all()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let local = i == 0;
            let receiver = (!local)
                .then(|| state.receivers.status(h.machine_guid()))
                .flatten();
            let r = h
                .replication
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            let traffic = (!local)
                .then(|| state.receivers.traffic(h.machine_guid()))
                .flatten();
            let charts = h.charts();
            let last_data = charts
                .iter()
                .map(|c| c.lock().last_entry_t())
                .max()
                .unwrap_or(0);
            json!({
                "hostname": h.hostname(),
                "guid": h.machine_guid(),
                "localhost": local,
                "memory_mode": h.memory_mode().as_str(),
                "streaming": local || receiver.is_some(),
                "peer": receiver.map(|(peer, _, _)| peer.to_string()),
                "hops": if local { 0 } else { receiver.map_or(1, |(_, hops, _)| hops.max(1)) },
                "connected_since": receiver.map(|(_, _, since_us)| since_us / 1_000_000),
                "bytes_received": traffic.map(|t| t.bytes),
                "last_received_age": traffic.map(|t| (now_s - t.last_us / 1_000_000).max(0)),
                "compression": traffic.map(|t| t.compressed),
                "charts": charts.len(),
                "last_data": (last_data > 0).then_some(last_data),
                "last_data_age": (last_data > 0).then(|| (now_s - last_data).max(0)),
                "replication": {
                    "charts_finished": r.charts_finished,
                    "charts_in_progress": r.charts_in_progress,
                    "points_replayed": r.points_replayed,
                    "seconds_replayed": r.seconds_replayed,
                    "points_refused": r.points_refused,
                    "last_gap_from": r.last_gap_from,
                    "last_gap_to": r.last_gap_to,
                    "last_gap_seconds": (r.last_gap_to - r.last_gap_from).max(0),
                    "last_gap_missing_seconds": r.last_gap_missing_seconds,
                    "finished_at": r.finished_at,
                },
            })
        })
        .collect();
    Reply::json(json!({ "now": now_s, "hosts": hosts }).to_string())
}
