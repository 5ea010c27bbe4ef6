//! A running alarm (netdata's `RRDCALC`): an entity bound to one chart (and, for `foreach`
//! templates, one dimension), its value, status and notification timers; and the pure rules
//! of the state machine (status decision, delay escalation).

use std::sync::Arc;

use tributary_rrd::Chart;

use crate::config_file::{AlarmDef, Repeat};
use crate::lookup_query::DimFilter;
use crate::status::Status;

/// A running alarm.
#[derive(Debug)]
pub struct Alarm {
    /// The entity it came from.
    pub def: Arc<AlarmDef>,
    /// Its name (for `foreach` templates `TEMPLATE_<dimension>`).
    pub name: String,
    /// The chart it is bound to.
    pub chart: Arc<Chart>,
    /// Chart id.
    pub chart_id: String,
    /// Chart name.
    pub chart_name: String,
    /// Chart context.
    pub context: String,
    /// Chart family.
    pub family: String,
    /// The lookup's dimension filter (`of`, or the `foreach` dimension).
    pub filter: Option<DimFilter>,
    /// The `of`/foreach text shown as `lookup_dimensions`.
    pub dimensions: Option<String>,
    /// Alarm id.
    pub id: u32,
    /// Next event id.
    pub next_event_id: u32,
    /// Current status.
    pub status: Status,
    /// Status before the last change.
    pub old_status: Status,
    /// Current value.
    pub value: f64,
    /// Previous value.
    pub old_value: f64,
    /// When the status last changed.
    pub last_status_change: i64,
    /// When it was last evaluated.
    pub last_updated: i64,
    /// When it is evaluated next.
    pub next_update: i64,
    /// Seconds between evaluations.
    pub update_every: i64,
    /// Current (escalated) up delay.
    pub delay_up_current: i64,
    /// Current (escalated) down delay.
    pub delay_down_current: i64,
    /// Notifications held until this time.
    pub delay_up_to_timestamp: i64,
    /// The delay of the last transition.
    pub delay_last: i64,
    /// Last repeat notification.
    pub last_repeat: i64,
    /// Repeat notifications sent.
    pub times_repeat: u32,
    /// The one CLEAR of a repeating alarm was sent.
    pub run_once: bool,
    /// Window of the last lookup.
    pub db_after: i64,
    /// Window of the last lookup.
    pub db_before: i64,
    /// Units (the entity's or the chart's).
    pub units: String,
    /// Info with `$family` and `$label:` substituted.
    pub info: String,
    /// Repeat settings (the entity's or the defaults).
    pub repeat: Repeat,
    /// Variables of the last `warn` evaluation.
    pub warn_trace: String,
    /// Variables of the last `crit` evaluation.
    pub crit_trace: String,
    /// A precedence difference with netdata was already reported for this alarm.
    pub precedence_reported: bool,
}

impl Alarm {
    /// Whether repeat notifications are configured.
    pub fn is_repeating(&self) -> bool {
        self.repeat.warning > 0 || self.repeat.critical > 0
    }

    /// `CHART.NAME`, as netdata names alarms in logs and API keys.
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.chart_id, self.name)
    }
}

/// netdata's decision (health.c): `warn` sets WARNING, `crit` CRITICAL, a false expression
/// CLEAR, failures leave it UNDEFINED. `None` = no expression or evaluation failed;
/// `Some(truthy)` otherwise.
pub fn decide(warn: Option<bool>, crit: Option<bool>) -> Status {
    let mut status = Status::Undefined;
    match warn {
        Some(false) => status = Status::Clear,
        Some(true) => status = Status::Warning,
        None => {}
    }
    match crit {
        Some(false) if status == Status::Undefined => status = Status::Clear,
        Some(true) => status = Status::Critical,
        _ => {}
    }
    status
}

/// The notification delay of a transition `old → new` at `now` (§6.5), updating the
/// alarm's escalation state.
pub fn transition_delay(a: &mut Alarm, old: Status, new: Status, now: i64) -> i64 {
    let d = &a.def.delay;
    if now > a.delay_up_to_timestamp {
        a.delay_up_current = d.up;
        a.delay_down_current = d.down;
    } else {
        a.delay_up_current = ((a.delay_up_current as f64 * d.multiplier) as i64).min(d.max);
        a.delay_down_current = ((a.delay_down_current as f64 * d.multiplier) as i64).min(d.max);
    }
    let delay = if new > old {
        a.delay_up_current
    } else {
        a.delay_down_current
    };
    a.delay_last = delay;
    a.delay_up_to_timestamp = now + delay;
    delay
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions() {
        assert_eq!(decide(None, None), Status::Undefined);
        assert_eq!(decide(Some(false), None), Status::Clear);
        assert_eq!(decide(Some(true), Some(false)), Status::Warning);
        assert_eq!(decide(None, Some(false)), Status::Clear);
        assert_eq!(decide(Some(false), Some(true)), Status::Critical);
        assert_eq!(decide(Some(true), None), Status::Warning);
    }
}
