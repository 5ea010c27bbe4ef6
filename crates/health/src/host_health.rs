//! One host's health: binding the configuration to its charts and one iteration of netdata's
//! health loop (lookups and `calc`, then `warn`/`crit` and transitions, then repeats, then
//! the notifications due).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use tributary_rrd::{Chart, ChartState, Host};

use crate::alarm::{self, Alarm};
use crate::config_file::{AlarmDef, Kind, Repeat};
use crate::expression::{Expression, truthy};
use crate::loader::HealthConfig;
use crate::log::{self as hlog, HealthLog, LogEntry};
use crate::lookup_query::{self, DimFilter};
use crate::notify::{self, Notification};
use crate::scope::{ChartIndex, Scope};
use crate::status::Status;
use crate::value_format::format_value_and_unit;

/// Agent-wide health settings (`[health]` of netdata.conf and directories).
#[derive(Debug, Clone)]
pub struct HealthSettings {
    /// `[health] script to execute on alarm`.
    pub default_exec: String,
    /// `[health] default repeat warning` / `critical`.
    pub default_repeat: Repeat,
    /// `[health] run at least every seconds`.
    pub run_at_least_every: i64,
    /// `[health] in memory max health log entries`.
    pub max_log_entries: usize,
    /// The user config directory (edit command, notification cwd).
    pub user_config_dir: PathBuf,
    /// Where health logs are persisted (`LIB/health`); None: not persisted.
    pub log_dir: Option<PathBuf>,
    /// Environment for notification commands.
    pub env: Vec<(String, String)>,
}

impl Default for HealthSettings {
    fn default() -> HealthSettings {
        HealthSettings {
            default_exec: "/usr/lib/netdata/plugins.d/alarm-notify.sh".into(),
            default_repeat: Repeat::default(),
            run_at_least_every: 10,
            max_log_entries: 1000,
            user_config_dir: PathBuf::from("/etc/netdata"),
            log_dir: None,
            env: Vec::new(),
        }
    }
}

/// The health state of one host.
#[derive(Debug)]
pub struct HostHealth {
    /// The host.
    pub host: Arc<Host>,
    /// Its running alarms.
    pub alarms: Vec<Alarm>,
    /// Its health log.
    pub log: HealthLog,
    /// Nothing runs before this time (postponed after a connection).
    pub postponed_until: i64,
    /// Whether this is a child (notifications carry its machine GUID).
    pub is_child: bool,
    /// Host labels known to the agent (localhost's system labels); None: the received ones.
    pub labels: Option<Vec<(String, String)>>,
    defs: Vec<Arc<AlarmDef>>,
    keys: HashSet<(String, String)>,
    template_keys: HashMap<(String, String), String>,
    seen: HashMap<String, u64>,
    index: ChartIndex,
    next_alarm_id: u32,
}

/// Whether a `host labels` pattern list matches the host's labels (`fixed` when given, else
/// the labels the host received).
fn host_labels_match(patterns: &str, host: &Host, fixed: Option<&[(String, String)]>) -> bool {
    let received = host.labels.read().unwrap_or_else(|p| p.into_inner());
    let labels = fixed.unwrap_or(&received);
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let p = tributary_config::SimplePattern::new(patterns);
    pairs.iter().any(|kv| p.matches(kv))
}

fn pattern_ok(p: &Option<crate::config_file::Pattern>, values: &[&str]) -> bool {
    p.as_ref()
        .is_none_or(|p| values.iter().any(|v| p.matches(v)))
}

fn substitute_info(info: &str, st: &ChartState) -> String {
    let text = info.replace("$family", &st.def.family);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(p) = rest.find("$label:") {
        out.push_str(&rest[..p]);
        let after = &rest[p + 7..];
        let end = after.find(' ').unwrap_or(after.len());
        let key = &after[..end];
        match st.labels.iter().find(|l| l.name == key) {
            Some(l) => out.push_str(&l.value),
            None => out.push_str(key),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

impl HostHealth {
    /// Health for `host` with the entities of `config` that apply to it (`os`, `hosts`).
    pub fn new(
        host: Arc<Host>,
        config: &HealthConfig,
        settings: &HealthSettings,
        is_child: bool,
        now: i64,
    ) -> HostHealth {
        let path = settings.log_dir.as_ref().map(|d| {
            d.join(format!(
                "health-log-{}.tsv",
                host.machine_guid().replace('-', "_")
            ))
        });
        let log = HealthLog::new(now, settings.max_log_entries, path);
        let next_alarm_id = log
            .entries
            .iter()
            .map(|e| e.alarm_id.wrapping_add(1))
            .max()
            .unwrap_or(0)
            .max(u32::try_from(now).unwrap_or(1));
        let mut h = HostHealth {
            host,
            alarms: Vec::new(),
            log,
            postponed_until: 0,
            is_child,
            labels: None,
            defs: Vec::new(),
            keys: HashSet::new(),
            template_keys: HashMap::new(),
            seen: HashMap::new(),
            index: ChartIndex::default(),
            next_alarm_id,
        };
        h.set_config(config);
        h
    }

    /// Replaces the configuration (reload): every alarm is dropped (REMOVED entries are
    /// logged for those that had a status) and the new entities are linked again.
    pub fn set_config(&mut self, config: &HealthConfig) {
        let os = self.host.config().os.clone();
        let hostname = self.host.hostname().to_string();
        self.defs = config
            .defs
            .iter()
            .filter(|d| pattern_ok(&d.os, &[&os]) && pattern_ok(&d.hosts, &[&hostname]))
            .cloned()
            .collect();
        let now = now_s();
        let old = std::mem::take(&mut self.alarms);
        for a in &old {
            if a.status != Status::Removed {
                let e = self.entry(a, now, a.status, Status::Removed, a.value, f64::NAN);
                self.log.add(e);
            }
        }
        for e in self.log.entries.iter_mut() {
            if e.new_status != Status::Removed {
                e.flags |= hlog::FLAG_UPDATED;
            }
        }
        self.keys.clear();
        self.template_keys.clear();
        self.seen.clear();
        self.index = ChartIndex::default();
    }

    /// The index of the host's charts and alarms (rebuilt when charts or alarms change).
    pub fn index(&self) -> &ChartIndex {
        &self.index
    }

    /// Binds entities to charts that are new or changed since the last call.
    pub fn link(&mut self, settings: &HealthSettings, now: i64) {
        let charts = self.host.charts();
        let mut changed = charts.len() != self.index.charts.len();
        let mut to_link = Vec::new();
        for c in &charts {
            let version = c.lock().version;
            if self.seen.get(c.id()) != Some(&version) {
                self.seen.insert(c.id().to_string(), version);
                to_link.push(Arc::clone(c));
            }
        }
        for c in to_link {
            if self.link_chart(&c, settings, now) {
                changed = true;
            }
        }
        if changed {
            self.index = ChartIndex::build(charts, &self.alarms);
        }
    }

    fn link_chart(&mut self, chart: &Arc<Chart>, settings: &HealthSettings, now: i64) -> bool {
        let defs = self.defs.clone();
        let mut added = false;
        for kind in [Kind::Alarm, Kind::Template] {
            for def in defs.iter().filter(|d| d.kind == kind) {
                let st = chart.lock();
                let ok = match kind {
                    Kind::Alarm => def.on == st.def.id || def.on == st.def.name,
                    Kind::Template => {
                        def.on == st.def.context
                            && pattern_ok(&def.charts, &[&st.def.name, &st.def.id])
                            && pattern_ok(&def.families, &[&st.def.family])
                    }
                } && pattern_ok(&def.plugin, &[&st.def.plugin])
                    && pattern_ok(&def.module, &[&st.def.module])
                    && def
                        .host_labels
                        .as_ref()
                        .is_none_or(|l| host_labels_match(l, &self.host, self.labels.as_deref()));
                if !ok {
                    continue;
                }
                if kind == Kind::Template {
                    let fam = def
                        .families
                        .as_ref()
                        .map_or_else(|| "*".to_string(), |f| f.text.clone());
                    let tkey = (def.name.clone(), fam);
                    match self.template_keys.get(&tkey) {
                        Some(src) if *src != def.source() => continue,
                        Some(_) => {}
                        None => {
                            self.template_keys.insert(tkey, def.source());
                        }
                    }
                }
                let foreach = def.lookup.as_ref().and_then(|l| l.foreach.clone());
                let mut instances: Vec<(String, Option<DimFilter>, Option<String>)> = Vec::new();
                let of = def.lookup.as_ref().and_then(|l| l.dimensions.clone());
                let (ids, names) = def.lookup.as_ref().map_or((false, false), |l| {
                    (l.options.match_ids, l.options.match_names)
                });
                match (&foreach, kind) {
                    (Some(fe), Kind::Template) => {
                        let p = tributary_config::SimplePattern::new(fe);
                        for d in st.dims() {
                            if p.matches(&d.def.id) || p.matches(&d.def.name) {
                                instances.push((
                                    format!("{}_{}", def.name, d.def.name),
                                    Some(DimFilter::new(&d.def.name, false, false)),
                                    Some(d.def.name.clone()),
                                ));
                            }
                        }
                    }
                    _ => instances.push((
                        def.name.clone(),
                        of.as_deref().map(|o| DimFilter::new(o, ids, names)),
                        of.clone(),
                    )),
                }
                for (name, filter, dims) in instances {
                    let key = (st.def.id.clone(), name.clone());
                    if self.keys.contains(&key) {
                        continue;
                    }
                    self.keys.insert(key);
                    let a = self.new_alarm(def, &name, chart, &st, filter, dims, settings, now);
                    let e = self.entry(
                        &a,
                        now,
                        Status::Uninitialized,
                        Status::Uninitialized,
                        f64::NAN,
                        f64::NAN,
                    );
                    self.log.add(LogEntry {
                        alarm_event_id: a.next_event_id.wrapping_sub(1),
                        ..e
                    });
                    self.alarms.push(a);
                    added = true;
                }
            }
        }
        added
    }

    #[allow(clippy::too_many_arguments)]
    fn new_alarm(
        &mut self,
        def: &Arc<AlarmDef>,
        name: &str,
        chart: &Arc<Chart>,
        st: &ChartState,
        filter: Option<DimFilter>,
        dimensions: Option<String>,
        settings: &HealthSettings,
        now: i64,
    ) -> Alarm {
        let (id, next_event_id) = match self.log.newest_of(&st.def.id, name) {
            Some(e) => (e.alarm_id, e.alarm_event_id.wrapping_add(2)),
            None => {
                let id = self.next_alarm_id;
                self.next_alarm_id = self.next_alarm_id.wrapping_add(1);
                (id, 2)
            }
        };
        let mut update_every = def.every;
        let chart_ue = st.update_every();
        if update_every < chart_ue {
            if update_every > 0 {
                log::error!(
                    "HEALTH [{}]: Health alarm '{}.{}' has update every {update_every}, less than chart update every {chart_ue}. Setting alarm update frequency to {chart_ue}.",
                    self.host.hostname(),
                    st.def.id,
                    name
                );
            }
            update_every = chart_ue;
        }
        Alarm {
            def: Arc::clone(def),
            name: name.to_string(),
            chart: Arc::clone(chart),
            chart_id: st.def.id.clone(),
            chart_name: st.def.name.clone(),
            context: st.def.context.clone(),
            family: st.def.family.clone(),
            filter,
            dimensions,
            id,
            next_event_id,
            status: Status::Uninitialized,
            old_status: Status::Uninitialized,
            value: f64::NAN,
            old_value: f64::NAN,
            last_status_change: now,
            last_updated: 0,
            next_update: 0,
            update_every,
            delay_up_current: def.delay.up,
            delay_down_current: def.delay.down,
            delay_up_to_timestamp: 0,
            delay_last: 0,
            last_repeat: 0,
            times_repeat: 0,
            run_once: false,
            db_after: 0,
            db_before: 0,
            units: def.units.clone().unwrap_or_else(|| st.def.units.clone()),
            info: def
                .info
                .as_deref()
                .map(|i| substitute_info(i, st))
                .unwrap_or_default(),
            repeat: def.repeat.unwrap_or(settings.default_repeat),
            warn_trace: String::new(),
            crit_trace: String::new(),
            precedence_reported: false,
        }
    }

    /// A log entry for a transition of `a`.
    fn entry(
        &self,
        a: &Alarm,
        now: i64,
        old: Status,
        new: Status,
        old_value: f64,
        new_value: f64,
    ) -> LogEntry {
        let d = &a.def;
        let mut flags = 0;
        if d.no_clear_notification {
            flags |= hlog::FLAG_NO_CLEAR_NOTIFICATION;
        }
        if a.is_repeating() {
            flags |= hlog::FLAG_IS_REPEATING;
        }
        LogEntry {
            unique_id: 0,
            alarm_id: a.id,
            alarm_event_id: a.next_event_id,
            when: now,
            duration: now - a.last_status_change,
            non_clear_duration: 0,
            name: a.name.clone(),
            chart: a.chart_id.clone(),
            context: a.context.clone(),
            family: a.family.clone(),
            class: d.class.clone().unwrap_or_else(|| "Unknown".into()),
            component: d.component.clone().unwrap_or_else(|| "Unknown".into()),
            type_: d.type_.clone().unwrap_or_else(|| "Unknown".into()),
            exec: d.exec.clone().unwrap_or_default(),
            recipient: d.to.clone().unwrap_or_else(|| "root".into()),
            source: d.source(),
            units: a.units.clone(),
            info: a.info.clone(),
            new_status: new,
            old_status: old,
            new_value,
            old_value,
            delay: 0,
            delay_up_to_timestamp: now,
            updated_by_id: 0,
            updates_id: 0,
            exec_run_timestamp: 0,
            exec_code: 0,
            last_repeat: a.last_repeat,
            flags,
        }
    }

    fn runnable(a: &Alarm, now: i64) -> bool {
        if now < a.next_update || a.update_every <= 0 {
            return false;
        }
        let st = a.chart.lock();
        !st.def.obsolete && st.clock().counter_done >= 2 && st.clock().last_collected_us > 0
    }

    fn evaluate(
        &mut self,
        i: usize,
        e: &Arc<Expression>,
        this: f64,
        now: i64,
    ) -> (Option<f64>, String) {
        let scope = Scope {
            host: &self.host,
            index: &self.index,
            alarms: &self.alarms,
            alarm: i,
            this,
            now,
        };
        let (r, trace) = e.evaluate_traced(&scope);
        if !self.alarms[i].precedence_reported
            && let Some(nd) = e.evaluate_as_netdata(&scope)
            && nd.ok() != r.ok()
        {
            let a = &self.alarms[i];
            log::warn!(
                "HEALTH [{}]: alarm '{}' ({}): expression '{}' gives {:?} with conventional precedence, netdata 1.37 would give {:?}",
                self.host.hostname(),
                a.full_name(),
                a.def.source(),
                e.source(),
                r.ok(),
                nd.ok()
            );
            self.alarms[i].precedence_reported = true;
        }
        (r.ok(), trace)
    }

    /// One iteration at `now`; returns the notifications to run (outside any lock) and the
    /// earliest next evaluation time.
    pub fn run_once(&mut self, settings: &HealthSettings, now: i64) -> (Vec<Notification>, i64) {
        let mut wake = now + settings.run_at_least_every.max(1);
        if now < self.postponed_until {
            return (Vec::new(), wake.min(self.postponed_until));
        }
        self.link(settings, now);
        let mut scratch = Vec::new();
        let mut runnable = vec![false; self.alarms.len()];
        self.remove_obsolete(now);
        // pass 1: lookups and calc
        for (i, slot) in runnable.iter_mut().enumerate() {
            if !Self::runnable(&self.alarms[i], now) {
                continue;
            }
            *slot = true;
            let a = &mut self.alarms[i];
            a.old_value = a.value;
            let mut value = a.value;
            if let Some(l) = &a.def.lookup {
                let st = a.chart.lock();
                let r = lookup_query::run(l, a.filter.as_ref(), &st, now, &mut scratch);
                drop(st);
                value = r.value;
                a.db_after = r.after;
                a.db_before = r.before;
            }
            if let Some(calc) = a.def.calc.clone() {
                let (v, _) = self.evaluate(i, &calc, value, now);
                value = v.unwrap_or(f64::NAN);
            }
            self.alarms[i].value = value;
        }
        // pass 2: warn / crit and transitions
        for (i, _) in runnable.iter().enumerate().filter(|(_, r)| **r) {
            let this = self.alarms[i].value;
            let warn = self.alarms[i].def.warn.clone().map(|w| {
                let (v, t) = self.evaluate(i, &w, this, now);
                self.alarms[i].warn_trace = t;
                v.map(truthy)
            });
            let crit = self.alarms[i].def.crit.clone().map(|c| {
                let (v, t) = self.evaluate(i, &c, this, now);
                self.alarms[i].crit_trace = t;
                v.map(truthy)
            });
            let status = alarm::decide(warn.flatten(), crit.flatten());
            let a = &self.alarms[i];
            if status != a.status {
                let old = a.status;
                let mut e = self.entry(a, now, old, status, a.old_value, a.value);
                let a = &mut self.alarms[i];
                let delay = alarm::transition_delay(a, old, status, now);
                e.delay = delay;
                e.delay_up_to_timestamp = now + delay;
                a.next_event_id = a.next_event_id.wrapping_add(1);
                a.last_status_change = now;
                a.old_status = old;
                a.status = status;
                log::info!(
                    "HEALTH [{}]: Alert event for [{}], value [{}], status [{}].",
                    self.host.hostname(),
                    a.full_name(),
                    format_value_and_unit(a.value, &a.units),
                    status.as_str()
                );
                self.log.add(e);
            }
            let a = &mut self.alarms[i];
            a.last_updated = now;
            a.next_update = now + a.update_every;
        }
        // pass 3: repeats
        let mut repeats = Vec::new();
        for i in 0..self.alarms.len() {
            let a = &self.alarms[i];
            if !a.is_repeating() || a.delay_up_to_timestamp > now {
                continue;
            }
            let every = match a.status {
                Status::Warning => a.repeat.warning,
                Status::Critical => a.repeat.critical,
                Status::Clear
                    if !a.run_once
                        && matches!(a.old_status, Status::Warning | Status::Critical) =>
                {
                    1
                }
                _ => 0,
            };
            if matches!(a.status, Status::Warning | Status::Critical) {
                self.alarms[i].run_once = false;
            }
            let a = &self.alarms[i];
            if every > 0 && a.last_repeat + every <= now {
                let mut e = self.entry(a, now, a.old_status, a.status, a.old_value, a.value);
                e.unique_id = self.log.next_unique_id;
                self.log.next_unique_id = self.log.next_unique_id.wrapping_add(1);
                e.flags &= !hlog::FLAG_IS_REPEATING;
                let a = &mut self.alarms[i];
                a.last_repeat = now;
                a.times_repeat += 1;
                a.next_event_id = a.next_event_id.wrapping_add(1);
                if a.status == Status::Clear {
                    a.run_once = true;
                }
                e.last_repeat = now;
                repeats.push(e);
            }
        }
        let mut out = Vec::new();
        for e in repeats {
            out.push(self.notification(&e, settings));
        }
        out.extend(self.process_log(settings, now));
        self.log.save();
        for a in &self.alarms {
            if a.next_update > now {
                wake = wake.min(a.next_update);
            }
        }
        (out, wake)
    }

    /// Alarms of charts obsolete for more than 60 s since their last collection become
    /// REMOVED (value NaN), with a log entry; repeating alarms are left alone, as netdata does.
    fn remove_obsolete(&mut self, now: i64) {
        for i in 0..self.alarms.len() {
            let a = &self.alarms[i];
            if a.status == Status::Removed || a.is_repeating() {
                continue;
            }
            let gone = {
                let st = a.chart.lock();
                st.def.obsolete && now > st.clock().last_collected_us / 1_000_000 + 60
            };
            if !gone {
                continue;
            }
            let e = self.entry(a, now, a.status, Status::Removed, a.value, f64::NAN);
            self.log.add(e);
            let a = &mut self.alarms[i];
            a.next_event_id = a.next_event_id.wrapping_add(1);
            a.old_status = a.status;
            a.status = Status::Removed;
            a.old_value = a.value;
            a.value = f64::NAN;
            a.last_status_change = now;
            log::info!(
                "HEALTH [{}]: Alert event for [{}], value [-], status [REMOVED].",
                self.host.hostname(),
                a.full_name()
            );
        }
    }

    /// Marks due entries processed and returns the notifications to run (§7.1).
    fn process_log(&mut self, settings: &HealthSettings, now: i64) -> Vec<Notification> {
        let mut out = Vec::new();
        let n = self.log.entries.len();
        for k in (0..n).rev() {
            let e = &self.log.entries[k];
            if e.has(hlog::FLAG_PROCESSED)
                || e.has(hlog::FLAG_UPDATED)
                || e.has(hlog::FLAG_IS_REPEATING)
                || now < e.delay_up_to_timestamp
            {
                continue;
            }
            self.log.entries[k].flags |= hlog::FLAG_PROCESSED;
            self.log.touch();
            let e = &self.log.entries[k];
            if e.new_status < Status::Clear {
                continue;
            }
            let no_clear = e.has(hlog::FLAG_NO_CLEAR_NOTIFICATION);
            if e.new_status <= Status::Clear && no_clear {
                continue;
            }
            if !no_clear {
                let previous = self
                    .log
                    .entries
                    .iter()
                    .skip(k + 1)
                    .find(|p| p.alarm_id == e.alarm_id && p.has(hlog::FLAG_EXEC_RUN));
                match previous {
                    Some(p) if p.new_status == e.new_status => {
                        log::info!(
                            "HEALTH [{}]: Health not sending again notification for alarm '{}.{}' status {}",
                            self.host.hostname(),
                            e.chart,
                            e.name,
                            e.new_status.as_str()
                        );
                        continue;
                    }
                    None if e.new_status == Status::Clear => continue,
                    _ => {}
                }
            }
            if e.has(hlog::FLAG_SILENCED) {
                continue;
            }
            let notification = self.notification(e, settings);
            let e = &mut self.log.entries[k];
            e.flags |= hlog::FLAG_EXEC_RUN;
            e.exec_run_timestamp = now;
            out.push(notification);
        }
        out
    }

    fn notification(&self, e: &LogEntry, settings: &HealthSettings) -> Notification {
        notify::build(self, e, settings)
    }

    /// Records the exit code of a notification.
    pub fn record_exec(&mut self, unique_id: u32, code: i32) {
        if let Some(e) = self
            .log
            .entries
            .iter_mut()
            .find(|e| e.unique_id == unique_id)
        {
            e.exec_code = code;
            if code != 0 {
                e.flags |= hlog::FLAG_EXEC_FAILED;
            }
            self.log.touch();
        }
    }
}

/// Wall clock, epoch seconds.
pub fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use tributary_rrd::{ChartDef, ChartLabel, HostConfig, MemoryMode};

    use super::*;

    #[test]
    fn info_substitutes_family_and_labels_once() {
        let host = Host::new(HostConfig {
            hostname: "h".into(),
            machine_guid: "g".into(),
            memory_mode: MemoryMode::Ram,
            history: 10,
            cache_dir: None,
            os: "linux".into(),
            timezone: "UTC".into(),
        });
        let chart = host.chart(
            ChartDef {
                id: "a.b".into(),
                name: "a.b".into(),
                family: "fam".into(),
                ..Default::default()
            },
            0,
        );
        let mut st = chart.lock();
        st.labels.push(ChartLabel {
            name: "mount".into(),
            value: "$label:mount".into(),
            source: 1,
        });
        assert_eq!(
            substitute_info("on $family at $label:mount now $label:none", &st),
            "on fam at $label:mount now none"
        );
    }
}
