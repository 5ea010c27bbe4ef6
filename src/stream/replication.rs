//! Replication (netdata 1.37's gap filling, spec: streaming-protocol.md §5.4, §7): the
//! parent's request planner and the child's reply writer. Both are pure functions over a
//! chart's state; the receiver (`ingest.rs`) and the sender (`sender.rs`) drive them.
//!
//! The parent asks, per chart: after a child's `CHART_DEFINITION_END first last now`, for the
//! range from its own newest point (or `seconds to replicate` back, when it has none) to the
//! child's newest, in steps of `seconds per replication step`. The child answers from its
//! database with `RBEGIN`/`RSET` per stored point, then — when streaming starts — its
//! collection state (`RDSTATE`/`RSSTATE`) and `REND ... true`.

use std::io::Write as _;

use tributary_rrd::ChartState;
use tributary_rrd::storage_number::{SN_FLAG_RESET, exists, unpack};

/// A receiver's replication settings (stream.conf / netdata.conf `[db]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicationConfig {
    /// `enable replication`.
    pub enabled: bool,
    /// `seconds to replicate`: how far back an empty parent asks.
    pub seconds_to_replicate: i64,
    /// `seconds per replication step`: the longest range of one request.
    pub step: i64,
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        ReplicationConfig {
            enabled: true,
            seconds_to_replicate: 86400,
            step: 600,
        }
    }
}

/// One `REPLAY_CHART` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Start of the range (the child sends points after it).
    pub after: i64,
    /// End of the range.
    pub before: i64,
    /// The child sends the rest it has and starts streaming the chart.
    pub start_streaming: bool,
}

impl Request {
    /// "Nothing to replicate, start streaming".
    pub const EMPTY: Request = Request {
        after: 0,
        before: 0,
        start_streaming: true,
    };

    /// The protocol line for chart `id`.
    pub fn line(&self, id: &str) -> String {
        format!(
            "REPLAY_CHART \"{id}\" \"{}\" {} {}\n",
            if self.start_streaming {
                "true"
            } else {
                "false"
            },
            self.after,
            self.before
        )
    }
}

/// What the parent knows when it plans a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanInput {
    /// The parent's newest stored point of the chart (0: none).
    pub local_last: i64,
    /// The child's first entry (0: none).
    pub child_first: i64,
    /// The child's last entry (0: none).
    pub child_last: i64,
    /// The parent's wall clock, seconds.
    pub now: i64,
    /// The chart has dimensions.
    pub has_dimensions: bool,
    /// The previous request's `(after, before)` as the child answered it; None at first.
    pub previous: Option<(i64, i64)>,
}

/// netdata's `replicate_chart_request`: the next range to ask for.
pub fn plan(cfg: &ReplicationConfig, input: &PlanInput) -> Request {
    let local_last = input.local_last.min(input.now);
    let gap_from = match input.previous {
        Some((_, before)) if before != 0 => before,
        _ if local_last > 0 => local_last,
        _ => input.now - cfg.seconds_to_replicate,
    };
    if !cfg.enabled
        || input.child_last <= 0
        || !input.has_dimensions
        || input.child_first <= 0
        || input.child_first > input.child_last
        || local_last > input.child_last
    {
        return Request::EMPTY;
    }
    let mut after = gap_from.max(input.child_first);
    let mut before = if input.now - after > cfg.step {
        after + cfg.step
    } else {
        input.now
    };
    before = before.min(input.child_last);
    after = after.min(before);
    Request {
        after,
        before,
        start_streaming: input.now - after <= cfg.step || before == input.child_last,
    }
}

/// The child's reply to `REPLAY_CHART` for a chart (netdata's `replicate_chart_response`):
/// the stored points after `after` up to `before` (up to the newest one when streaming
/// starts), then the collection state and `REND`. Written into `out`; returns whether the
/// chart starts streaming (always true when asked: the reply is written under the chart's
/// lock, so no collection can slip between the last replayed point and live data).
pub fn write_reply(
    out: &mut Vec<u8>,
    chart: &ChartState,
    start_streaming: bool,
    after: i64,
    before: i64,
    now: i64,
) -> bool {
    let id = &chart.def.id;
    let ue = chart.update_every().max(1);
    let first = chart.first_entry_t();
    let last = chart.last_entry_t();
    let _infallible = writeln!(out, "RBEGIN \"{id}\"");
    let (mut after_sent, mut before_sent) = (after, before);
    if after != 0 && before != 0 {
        let q_after = after.max(first);
        let mut q_before = if start_streaming {
            last
        } else {
            before.min(last)
        };
        if q_before < q_after {
            q_before = q_after;
        }
        if start_streaming && last > before_sent {
            before_sent = last;
        }
        write_points(out, chart, q_after, q_before, ue, now);
    } else {
        after_sent = 0;
        before_sent = 0;
    }
    let streaming = start_streaming || after == 0 || before == 0 || before >= last;
    if streaming {
        write_state(out, chart);
    }
    let _infallible = writeln!(
        out,
        "REND {ue} {first} {last} {} {after_sent} {before_sent} {now}",
        if streaming { "true" } else { "false" }
    );
    streaming
}

/// The stored points with slot time in `(after, before]`; slots where every dimension is
/// empty are skipped (the parent fills them as gaps).
fn write_points(out: &mut Vec<u8>, chart: &ChartState, after: i64, before: i64, ue: i64, now: i64) {
    let last = chart.last_entry_t();
    if last == 0 || before <= after {
        return;
    }
    // Slot times are `last - k·ue`; the first one after `after`:
    let back = (last - after - 1).max(0) / ue;
    let mut t = last - back * ue;
    // One sequential reader per dimension: each sealed page is decoded once.
    let mut cursors: Vec<_> = (0..chart.dims().len()).map(|d| chart.cursor(d)).collect();
    let mut samples = vec![None; cursors.len()];
    while t <= before {
        for (s, c) in samples.iter_mut().zip(&mut cursors) {
            *s = c.sample_at(t).filter(|&s| exists(s));
        }
        if samples.iter().any(Option::is_some) {
            let _infallible = writeln!(out, "RBEGIN '' {} {t} {now}", t - ue);
            for (d, sample) in chart.dims().iter().zip(&samples) {
                match *sample {
                    Some(s) => {
                        let _infallible = writeln!(
                            out,
                            "RSET \"{}\" {:.7} \"{}\"",
                            d.def.id,
                            unpack(s),
                            if s & SN_FLAG_RESET != 0 { "R" } else { "" }
                        );
                    }
                    None => {
                        let _infallible = writeln!(out, "RSET \"{}\" NAN \"E\"", d.def.id);
                    }
                }
            }
        }
        t += ue;
    }
}

/// `RDSTATE` per dimension and `RSSTATE`: what the parent needs to compute the next live
/// point exactly as this side does.
fn write_state(out: &mut Vec<u8>, chart: &ChartState) {
    let last = chart.last_entry_t();
    for (i, d) in chart.dims().iter().enumerate() {
        let stored = chart
            .value_at(i, last)
            .filter(|v| !v.is_nan())
            .unwrap_or(0.0);
        let _infallible = writeln!(
            out,
            "RDSTATE \"{}\" {} {} {:.7} {:.7}",
            d.def.id,
            d.last_collected_us.max(0),
            d.last_collected,
            finite(d.last_calculated()),
            finite(stored)
        );
    }
    let clock = chart.clock();
    let _infallible = writeln!(
        out,
        "RSSTATE {} {}",
        clock.last_collected_us.max(0),
        chart.last_entry_t().max(0) * 1_000_000
    );
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: ReplicationConfig = ReplicationConfig {
        enabled: true,
        seconds_to_replicate: 86400,
        step: 600,
    };

    fn input() -> PlanInput {
        PlanInput {
            local_last: 0,
            child_first: 1_795_569_459,
            child_last: 1_795_569_488,
            now: 1_795_569_489,
            has_dimensions: true,
            previous: None,
        }
    }

    #[test]
    fn an_empty_parent_asks_for_everything_the_child_has_as_netdata() {
        // The real parent's request in fixtures/stream/real-parent/ok-plain-received.txt.
        let r = plan(&CFG, &input());
        assert_eq!(
            r.line("fakechild.sine"),
            "REPLAY_CHART \"fakechild.sine\" \"true\" 1795569459 1795569488\n"
        );
    }

    #[test]
    fn long_gaps_are_asked_in_steps() {
        let i = PlanInput {
            local_last: 1_000_000,
            child_first: 990_000,
            child_last: 1_002_000,
            now: 1_002_001,
            ..input()
        };
        let r = plan(&CFG, &i);
        assert_eq!(
            (r.after, r.before, r.start_streaming),
            (1_000_000, 1_000_600, false)
        );
        let r2 = plan(
            &CFG,
            &PlanInput {
                previous: Some((r.after, r.before)),
                ..i
            },
        );
        assert_eq!((r2.after, r2.before), (1_000_600, 1_001_200));
        let r4 = plan(
            &CFG,
            &PlanInput {
                previous: Some((1_001_200, 1_001_800)),
                ..i
            },
        );
        assert_eq!(
            (r4.after, r4.before, r4.start_streaming),
            (1_001_800, 1_002_000, true)
        );
    }

    #[test]
    fn nothing_to_ask_gives_the_empty_request() {
        for i in [
            PlanInput {
                child_last: 0,
                child_first: 0,
                ..input()
            },
            PlanInput {
                has_dimensions: false,
                ..input()
            },
            PlanInput {
                local_last: 1_795_569_489,
                ..input()
            },
        ] {
            assert_eq!(plan(&CFG, &i), Request::EMPTY, "{i:?}");
        }
        let off = ReplicationConfig {
            enabled: false,
            ..CFG
        };
        assert_eq!(plan(&off, &input()), Request::EMPTY);
        assert_eq!(
            Request::EMPTY.line("a.b"),
            "REPLAY_CHART \"a.b\" \"true\" 0 0\n"
        );
    }
}
