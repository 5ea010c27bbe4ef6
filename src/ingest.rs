//! Turns protocol commands (plugins.d / streaming lines) into database calls on one host: the
//! one mapping from `tributary_protocol::Command` to `tributary_rrd`, used by the stream
//! receiver and, later, by external plugins (netdata also runs both through one parser).
//!
//! Mirrors the command handlers of netdata 1.37's collectors/plugins.d/pluginsd_parser.c:
//! CHART name/option rules, DIMENSION options, CLABEL staging until CLABEL_COMMIT, LABEL staging
//! until OVERWRITE, BEGIN with trusted microseconds, SET of raw collected integers, END stamped with
//! the receiver's own clock.

use std::collections::HashMap;
use std::sync::Arc;

use tributary_protocol::Command;
use tributary_rrd::{Algorithm, Chart, ChartDef, ChartLabel, ChartType, DimDef, Host};

use crate::stream::replication::{self, PlanInput, ReplicationConfig, Request};

/// A command that cannot be applied; the stream or plugin that sent it is dropped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    /// A command that needs a current chart came before any CHART or BEGIN.
    #[error("{0} without a chart")]
    NoChart(&'static str),
    /// BEGIN for a chart that was never defined.
    #[error("BEGIN of unknown chart '{0}'")]
    UnknownChart(String),
    /// SET for a dimension the chart does not have.
    #[error("SET of unknown dimension '{dim}' of chart '{chart}'")]
    UnknownDimension {
        /// The chart.
        chart: String,
        /// The dimension.
        dim: String,
    },
    /// CHART with an id that is not `type.id`.
    #[error("CHART id '{0}' is not 'type.id'")]
    BadChartId(String),
    /// The database refused the chart or dimension (a file problem in save/map mode).
    #[error("database: {0}")]
    Database(String),
    /// DISABLE: the sender asked to stop.
    #[error("DISABLE received")]
    Disabled,
    /// BEGIN declares far more time since the chart's previous collection than passed here:
    /// trusting it would reset the chart and lose its stored data.
    #[error(
        "BEGIN of chart '{chart}' declares {declared_us} microseconds since its previous collection, but only {elapsed_us} passed here"
    )]
    AbsurdInterval {
        /// The chart.
        chart: String,
        /// Microseconds the sender declared.
        declared_us: u64,
        /// Microseconds since the chart's previous BEGIN on this agent's clock.
        elapsed_us: i64,
    },
    /// A new chart beyond the sender's `max charts`.
    #[error("more than {0} charts (max charts): refusing chart '{1}'")]
    TooManyCharts(u64, String),
    /// A new dimension beyond the sender's `max dimensions`.
    #[error("more than {0} dimensions (max dimensions): refusing dimension '{1}'")]
    TooManyDimensions(u64, String),
}

/// A declared collection interval may exceed the time measured here by this much (or by ten
/// of the chart's `update every`, when that is more): network bursts deliver several
/// collections at once, each declaring its own interval.
const INTERVAL_TOLERANCE_US: i64 = 60_000_000;

/// How many charts and dimensions one sender may create on its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Charts of the host.
    pub max_charts: u64,
    /// Dimensions over all the host's charts.
    pub max_dimensions: u64,
}

/// What the caller has to do after a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Nothing.
    None,
    /// Send this line back to the sender (streaming: the parent's answer to
    /// CHART_DEFINITION_END).
    Send(String),
}

/// The per-connection state of one sender of lines.
#[derive(Debug)]
pub struct Ingest {
    host: Arc<Host>,
    current: Option<Arc<Chart>>,
    /// Default update every for charts that do not say (the plugin's, or the child's).
    default_update_every: u32,
    /// Plugin name for charts that do not say.
    default_plugin: String,
    staged_chart_labels: Vec<ChartLabel>,
    staged_host_labels: Vec<(String, String)>,
    /// Collections stored so far.
    pub collections: u64,
    /// The longest update every of the charts defined so far (seconds; 0: none yet).
    pub max_update_every: u32,
    /// Replication settings; None: a plugin, or a child that did not negotiate REPLICATION
    /// (its definitions are answered with the empty request).
    replication: Option<ReplicationConfig>,
    /// Per chart: the request in progress.
    replays: HashMap<String, ChartReplay>,
    /// The chart of the `RBEGIN "id"` reply being read.
    replay_chart: Option<Arc<Chart>>,
    /// A replicated point is open and accepted (its RSETs are stored).
    replay_point_open: bool,
    /// How log lines name the sender (`STREAM host [receive from [ip]:port]`).
    log_prefix: String,
    /// The dimension the next SET most likely names (the one after the previous SET's).
    next_dim: usize,
    /// VARIABLE lines ignored so far (only the first few are logged).
    bad_variables: u32,
    /// Per chart seen in a BEGIN: the chart and its dimension ids, so that SETs are checked
    /// without locking the chart.
    begun: HashMap<Box<str>, BegunChart>,
    /// The current collection's dimension ids (from `begun`; None: SETs lock the chart).
    current_ids: Option<Arc<DimIds>>,
    /// SETs of the current collection `(dimension, value, time)`, applied at END under one
    /// lock (or before any other command).
    pending_sets: Vec<(usize, i64, i64)>,
    /// Bounds on new charts and dimensions (None: none, as for local plugins).
    limits: Option<Limits>,
    /// Dimensions of the host when limits are checked.
    dimensions: u64,
}

/// Ignored VARIABLE lines logged per connection; later ones are counted, not logged.
const LOGGED_BAD_VARIABLES: u32 = 10;

/// A chart's dimension ids in one piece of memory (SETs compare against them in order: one
/// cache line holds several).
#[derive(Debug, Default)]
struct DimIds {
    text: String,
    ends: Vec<usize>,
}

impl DimIds {
    fn of(st: &tributary_rrd::ChartState) -> DimIds {
        let mut ids = DimIds::default();
        for d in st.dims() {
            ids.text.push_str(&d.def.id);
            ids.ends.push(ids.text.len());
        }
        ids
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    #[inline]
    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..end)
    }

    fn position(&self, id: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.get(i) == Some(id))
    }
}

/// A chart as a collection begins: its dimension ids as of definition `version`.
#[derive(Debug)]
struct BegunChart {
    chart: Arc<Chart>,
    version: u64,
    ids: Arc<DimIds>,
}

/// A chart's replication during one connection.
#[derive(Debug, Clone, Default)]
struct ChartReplay {
    /// The request sent last.
    wanted: Option<Request>,
    /// Finished: live collections follow.
    finished: bool,
    points: u64,
    refused: u64,
    first_refusal: Option<String>,
}

/// netdata: `""`, `NULL`, `(NULL)` and the id itself mean "no name"; a `type.` prefix is dropped.
fn chart_name(id: &str, type_part: &str, name: &str) -> String {
    if name.is_empty() || name == "NULL" || name == "(NULL)" || name == id {
        return id.to_string();
    }
    let bare = name
        .strip_prefix(type_part)
        .and_then(|n| n.strip_prefix('.'))
        .unwrap_or(name);
    format!("{type_part}.{bare}")
}

impl Ingest {
    /// A fresh state for lines that go into `host`.
    pub fn new(host: Arc<Host>, default_update_every: u32, default_plugin: &str) -> Ingest {
        Ingest {
            host,
            current: None,
            default_update_every: default_update_every.max(1),
            default_plugin: default_plugin.to_string(),
            staged_chart_labels: Vec::new(),
            staged_host_labels: Vec::new(),
            collections: 0,
            max_update_every: 0,
            replication: None,
            replays: HashMap::new(),
            replay_chart: None,
            replay_point_open: false,
            log_prefix: String::new(),
            next_dim: 0,
            bad_variables: 0,
            begun: HashMap::new(),
            current_ids: None,
            pending_sets: Vec::new(),
            limits: None,
            dimensions: 0,
        }
    }

    /// Bounds the charts and dimensions this sender may create (a stream's `max charts`
    /// and `max dimensions`): going beyond them is an error that drops the sender.
    #[cfg_attr(not(feature = "web"), allow(dead_code))] // the receiver's (feature `web`)
    pub fn with_limits(mut self, limits: Limits) -> Ingest {
        self.dimensions = self
            .host
            .charts()
            .iter()
            .map(|c| c.lock().dims().len() as u64)
            .sum();
        self.limits = Some(limits);
        self
    }

    /// Turns on replication for a stream (REPLICATION negotiated): definitions are answered
    /// with netdata's requests, replies are stored. `log_prefix` names the connection.
    #[cfg_attr(not(feature = "web"), allow(dead_code))] // the receiver's (feature `web`)
    pub fn with_replication(mut self, config: ReplicationConfig, log_prefix: &str) -> Ingest {
        self.replication = Some(config);
        self.log_prefix = log_prefix.to_string();
        let mut stats = self
            .host
            .replication
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        stats.charts_finished = 0;
        stats.charts_in_progress = 0;
        stats.last_gap_from = 0;
        stats.last_gap_to = 0;
        stats.last_gap_missing_seconds = 0;
        stats.finished_at = 0;
        drop(stats);
        self
    }

    fn stats(&self) -> std::sync::MutexGuard<'_, tributary_rrd::ReplicationStats> {
        self.host
            .replication
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// `CHART_DEFINITION_END`: the first request for the current chart.
    fn definition_end(&mut self, first: i64, last: i64, now_us: i64) -> Result<Reply, IngestError> {
        let chart = Arc::clone(self.current("CHART_DEFINITION_END")?);
        let id = chart.id().to_string();
        let Some(cfg) = self.replication else {
            return Ok(Reply::Send(Request::EMPTY.line(&id)));
        };
        let entry = self.replays.entry(id.clone()).or_default();
        if entry.wanted.is_some() && !entry.finished {
            return Ok(Reply::None); // netdata: no duplicate request while one is in progress
        }
        *entry = ChartReplay::default();
        let now = now_us / 1_000_000;
        let (local_last, has_dimensions, ue) = {
            let mut st = chart.lock();
            st.sender_first_entry_t = first;
            (st.last_entry_t(), !st.dims().is_empty(), st.update_every())
        };
        // A host without a database keeps only its spool: asking for more is wasted work.
        let spool = self.host.spool_entries() as i64;
        let cfg = if self.host.memory_mode() == tributary_rrd::MemoryMode::None && spool > 0 {
            ReplicationConfig {
                seconds_to_replicate: cfg.seconds_to_replicate.min(spool * ue.max(1)),
                ..cfg
            }
        } else {
            cfg
        };
        let input = PlanInput {
            local_last,
            child_first: first,
            child_last: last,
            now,
            has_dimensions,
            previous: None,
        };
        let req = replication::plan(&cfg, &input);
        entry.wanted = Some(req);
        let mut stats = self.stats();
        stats.charts_in_progress += 1;
        if req != Request::EMPTY && local_last > 0 {
            // A real gap: the parent had data and the child has newer.
            let missing = (first - local_last).max(0) as u64;
            if last - local_last > stats.last_gap_to - stats.last_gap_from {
                stats.last_gap_from = local_last;
                stats.last_gap_to = last;
            }
            stats.last_gap_missing_seconds = stats.last_gap_missing_seconds.max(missing);
        }
        Ok(Reply::Send(req.line(&id)))
    }

    /// `RBEGIN '' start end wall`: opens a replicated point if it is one that was asked for.
    fn replay_point(&mut self, start: i64, end: i64, now_us: i64) {
        self.replay_point_open = false;
        let Some(chart) = self.replay_chart.clone() else {
            return;
        };
        let id = chart.id().to_string();
        let now = now_us / 1_000_000;
        let Some(entry) = self.replays.get_mut(&id) else {
            return;
        };
        let refusal = match entry.wanted {
            _ if entry.finished => Some("the chart's replication had finished".to_string()),
            None => Some("no replication was asked for this chart".to_string()),
            Some(w) => {
                let ue = chart.lock().update_every();
                if start >= end {
                    Some(format!("start {start} is not before end {end}"))
                } else if end > now + ue + 1 {
                    Some(format!("end {end} is in the future (now {now})"))
                } else if end <= w.after || (!w.start_streaming && end > w.before) {
                    Some(format!(
                        "point {end} is outside the requested {} - {}",
                        w.after, w.before
                    ))
                } else {
                    chart.lock().replay_point(end).err().map(|e| e.to_string())
                }
            }
        };
        match refusal {
            None => {
                entry.points += 1;
                self.replay_point_open = true;
            }
            Some(reason) => {
                entry.refused += 1;
                entry.first_refusal.get_or_insert(reason);
            }
        }
    }

    /// `REND`: finishes the reply; asks for the next step or starts the chart's streaming.
    #[allow(clippy::too_many_arguments)]
    fn replay_end(
        &mut self,
        update_every: i64,
        first: i64,
        last: i64,
        start_streaming: bool,
        after: i64,
        before: i64,
        now_us: i64,
    ) -> Result<Reply, IngestError> {
        self.replay_point_open = false;
        let Some(chart) = self.replay_chart.take() else {
            return Ok(Reply::None);
        };
        let id = chart.id().to_string();
        let (ue, local_last, has_dimensions) = {
            let mut st = chart.lock();
            st.replay_done();
            (st.update_every(), st.last_entry_t(), !st.dims().is_empty())
        };
        let Some(cfg) = self.replication else {
            return Ok(Reply::None);
        };
        let Some(entry) = self.replays.get_mut(&id) else {
            log::error!(
                "{}: REND for chart '{id}' whose replication was never asked for; ignored",
                self.log_prefix
            );
            return Ok(Reply::None);
        };
        if entry.finished || entry.wanted.is_none() {
            return Ok(Reply::None);
        }
        let (points, refused) = (entry.points, entry.refused);
        if refused > 0 {
            log::error!(
                "{}: chart '{id}': {refused} replicated points refused ({}); stored data unchanged",
                self.log_prefix,
                entry.first_refusal.take().unwrap_or_default()
            );
        }
        if update_every > 0 && update_every != ue {
            log::info!(
                "{}: chart '{id}': the child's update every is {update_every}, ours {ue}",
                self.log_prefix
            );
        }
        entry.points = 0;
        entry.refused = 0;
        let mut stats = self
            .host
            .replication
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        stats.points_replayed += points;
        stats.seconds_replayed += points * ue.max(1) as u64;
        stats.points_refused += refused;
        if start_streaming {
            entry.finished = true;
            stats.charts_in_progress = stats.charts_in_progress.saturating_sub(1);
            stats.charts_finished += 1;
            if stats.charts_in_progress == 0 {
                stats.finished_at = now_us / 1_000_000;
            }
            return Ok(Reply::None);
        }
        drop(stats);
        let req = replication::plan(
            &cfg,
            &PlanInput {
                local_last,
                child_first: first,
                child_last: last,
                now: now_us / 1_000_000,
                has_dimensions,
                previous: Some((after, before)),
            },
        );
        entry.wanted = Some(req);
        Ok(Reply::Send(req.line(&id)))
    }

    /// The host the lines go to.
    #[cfg(test)]
    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }

    /// The chart of the reply in progress, if its replication was asked for and is running.
    fn replaying_chart(&self) -> Option<Arc<Chart>> {
        let chart = self.replay_chart.as_ref()?;
        let entry = self.replays.get(chart.id())?;
        (entry.wanted.is_some() && !entry.finished).then(|| Arc::clone(chart))
    }

    fn current(&self, what: &'static str) -> Result<&Arc<Chart>, IngestError> {
        self.current.as_ref().ok_or(IngestError::NoChart(what))
    }

    /// `VARIABLE [GLOBAL|HOST|LOCAL|CHART] name = value`: sets a custom host or chart
    /// variable (no scope: the current chart's if there is one, else the host's). A bad one
    /// is logged and ignored, as netdata does: it is no reason to drop the sender.
    fn variable(&mut self, scope: &str, name: &str, value: &str) {
        let Ok(v) = value.trim().parse::<f64>() else {
            self.bad_variable(format_args!(
                "VARIABLE '{name}' = '{value}' is not a number"
            ));
            return;
        };
        let on_chart = match scope {
            "CHART" | "LOCAL" => true,
            "GLOBAL" | "HOST" => false,
            _ => self.current.is_some(),
        };
        let result = if on_chart {
            let Some(chart) = &self.current else {
                self.bad_variable(format_args!("VARIABLE CHART '{name}' without a chart"));
                return;
            };
            chart.lock().vars.set(name, v)
        } else {
            self.host
                .vars
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .set(name, v)
        };
        if let Err(e) = result {
            self.bad_variable(format_args!("VARIABLE '{name}': {e}"));
        }
    }

    fn bad_variable(&mut self, what: std::fmt::Arguments<'_>) {
        self.bad_variables += 1;
        let who = if self.log_prefix.is_empty() {
            format!("host '{}'", self.host.hostname())
        } else {
            self.log_prefix.clone()
        };
        if self.bad_variables <= LOGGED_BAD_VARIABLES {
            log::warn!("{who}: {what}: ignored");
        }
        if self.bad_variables == LOGGED_BAD_VARIABLES {
            log::warn!("{who}: further ignored VARIABLE lines of this sender are not logged");
        }
    }

    /// Applies one command received at `now_us` (the receiver's wall clock). A refused CHART
    /// or BEGIN leaves no current chart, so that a sender whose errors are tolerated (a plugin)
    /// cannot write the next DIMENSION or SET lines into the chart before.
    #[inline]
    pub fn apply(&mut self, cmd: Command<'_>, now_us: i64) -> Result<Reply, IngestError> {
        if !self.pending_sets.is_empty() && !matches!(cmd, Command::Set { .. } | Command::End) {
            self.apply_pending_sets();
        }
        let opens_chart = matches!(cmd, Command::Chart(_) | Command::Begin { .. });
        let applied = self.apply_command(cmd, now_us);
        if applied.is_err() && opens_chart {
            self.current = None;
            self.current_ids = None;
        }
        applied
    }

    /// Writes the collected SETs into the current chart (they wait for END, or for any
    /// other command, so that a collection locks its chart once, not once per value).
    fn apply_pending_sets(&mut self) {
        if let Some(chart) = &self.current {
            let mut st = chart.lock();
            for &(dim, v, t) in &self.pending_sets {
                st.set(dim, v, t);
            }
        }
        self.pending_sets.clear();
    }

    /// BEGIN's chart and the dimension ids its SETs are checked against.
    fn begin_chart(&mut self, id: &str) -> Result<Arc<Chart>, IngestError> {
        if let Some(b) = self.begun.get(id) {
            return Ok(Arc::clone(&b.chart));
        }
        let chart = self
            .host
            .find_chart(id)
            .ok_or_else(|| IngestError::UnknownChart(id.to_string()))?;
        self.begun.insert(
            id.into(),
            BegunChart {
                chart: Arc::clone(&chart),
                version: u64::MAX,
                ids: Arc::new(DimIds::default()),
            },
        );
        Ok(chart)
    }

    #[inline]
    fn apply_command(&mut self, cmd: Command<'_>, now_us: i64) -> Result<Reply, IngestError> {
        match cmd {
            Command::Empty => {}
            Command::Chart(line) => {
                let tributary_protocol::ChartLine {
                    id,
                    name,
                    title,
                    units,
                    family,
                    context,
                    chart_type,
                    priority,
                    update_every,
                    options,
                    plugin,
                    module,
                } = *line;
                let Some((type_part, rest)) = id.split_once('.') else {
                    return Err(IngestError::BadChartId(id.to_string()));
                };
                if type_part.is_empty() || rest.is_empty() {
                    return Err(IngestError::BadChartId(id.to_string()));
                }
                if let Some(l) = self.limits
                    && self.host.chart_count() as u64 >= l.max_charts
                    && self.host.find_chart(id).is_none()
                {
                    return Err(IngestError::TooManyCharts(l.max_charts, id.to_string()));
                }
                let def = ChartDef {
                    id: id.to_string(),
                    name: chart_name(id, type_part, name),
                    title: title.to_string(),
                    units: if units.is_empty() {
                        "unknown".into()
                    } else {
                        units.to_string()
                    },
                    family: if family.is_empty() {
                        type_part.to_string()
                    } else {
                        family.to_string()
                    },
                    context: if context.is_empty() {
                        id.to_string()
                    } else {
                        context.to_string()
                    },
                    chart_type: ChartType::parse(chart_type),
                    priority: priority.unwrap_or(1000),
                    update_every: update_every.unwrap_or(self.default_update_every),
                    plugin: if plugin.is_empty() {
                        self.default_plugin.clone()
                    } else {
                        plugin.to_string()
                    },
                    module: module.to_string(),
                    store_first: options.contains("store_first"),
                    hidden: options.contains("hidden"),
                    obsolete: options.contains("obsolete"),
                    detail: options.contains("detail"),
                };
                self.max_update_every = self.max_update_every.max(def.update_every);
                let chart = self.host.chart(def, now_us / 1_000_000);
                {
                    let mut st = chart.lock();
                    if st.last_begin_received_us == 0 {
                        st.last_begin_received_us = now_us;
                    }
                }
                self.current = Some(chart);
                self.current_ids = None;
                self.staged_chart_labels.clear();
            }
            Command::Dimension {
                id,
                name,
                algorithm,
                multiplier,
                divisor,
                options,
            } => {
                let mut d = DimDef::new(id)
                    .named(if name.is_empty() { id } else { name })
                    .algo(Algorithm::parse(algorithm), multiplier, divisor);
                d.hidden = options.contains("hidden");
                d.obsolete = options.contains("obsolete");
                d.noreset = options.contains("noreset") || options.contains("nooverflow");
                let chart = Arc::clone(self.current("DIMENSION")?);
                let mut st = chart.lock();
                let new = st.dim_index(id).is_none();
                if new && let Some(l) = self.limits {
                    if self.dimensions >= l.max_dimensions {
                        return Err(IngestError::TooManyDimensions(
                            l.max_dimensions,
                            id.to_string(),
                        ));
                    }
                    self.dimensions += 1;
                }
                st.dimension(d)
                    .map_err(|e| IngestError::Database(e.to_string()))?;
            }
            Command::Begin { id, microseconds } => {
                let chart = self.begin_chart(id)?;
                {
                    let mut st = chart.lock();
                    let seen = st.last_begin_received_us;
                    if microseconds > 0 && seen > 0 {
                        let elapsed = now_us - seen;
                        let tolerance = INTERVAL_TOLERANCE_US
                            .max(10_000_000_i64.saturating_mul(st.update_every().max(1)));
                        if i64::try_from(microseconds).unwrap_or(i64::MAX)
                            > elapsed.max(0).saturating_add(tolerance)
                        {
                            return Err(IngestError::AbsurdInterval {
                                chart: id.to_string(),
                                declared_us: microseconds,
                                elapsed_us: elapsed,
                            });
                        }
                    }
                    st.last_begin_received_us = now_us;
                    st.begin(now_us, microseconds);
                    if let Some(b) = self.begun.get_mut(id) {
                        if b.version != st.version {
                            b.ids = Arc::new(DimIds::of(&st));
                            b.version = st.version;
                        }
                        self.current_ids = Some(Arc::clone(&b.ids));
                    }
                }
                self.current = Some(chart);
                self.next_dim = 0;
            }
            Command::Set { id, value } => {
                if let Some(ids) = &self.current_ids {
                    // Senders SET a chart's dimensions in the same order every collection:
                    // the one after the previous SET is checked first.
                    let dim = match ids.get(self.next_dim) {
                        Some(d) if d == id => Some(self.next_dim),
                        // A short scan for small charts; large ones use the chart's index.
                        _ if ids.len() <= 32 => ids.position(id),
                        _ => None,
                    };
                    if let Some(dim) = dim {
                        self.next_dim = dim + 1;
                        if let Some(v) = value {
                            self.pending_sets.push((dim, v, now_us));
                        }
                        return Ok(Reply::None);
                    }
                }
                self.apply_pending_sets();
                let chart = self.current.as_ref().ok_or(IngestError::NoChart("SET"))?;
                let mut st = chart.lock();
                // Senders SET a chart's dimensions in the same order every collection: try
                // the one after the previous SET before looking the id up.
                let dim = match st.dims().get(self.next_dim) {
                    Some(d) if d.def.id == id => self.next_dim,
                    _ => st
                        .dim_index(id)
                        .ok_or_else(|| IngestError::UnknownDimension {
                            chart: chart.id().to_string(),
                            dim: id.to_string(),
                        })?,
                };
                self.next_dim = dim + 1;
                if let Some(v) = value {
                    st.set(dim, v, now_us);
                }
            }
            Command::End => {
                let chart = Arc::clone(self.current("END")?);
                let mut st = chart.lock();
                for &(dim, v, t) in &self.pending_sets {
                    st.set(dim, v, t);
                }
                self.pending_sets.clear();
                st.done(now_us);
                if st.sender_first_entry_t == 0 && self.replication.is_some() {
                    // The child had nothing when it defined the chart: its data begins
                    // with this collection.
                    st.sender_first_entry_t = st.last_entry_t();
                }
                drop(st);
                self.collections += 1;
            }
            Command::Flush => {
                self.current = None;
                self.current_ids = None;
            }
            Command::Disable => return Err(IngestError::Disabled),
            Command::ClabelAdd {
                name,
                value,
                source,
            } => {
                self.staged_chart_labels.push(ChartLabel {
                    name: name.to_string(),
                    value: value.to_string(),
                    source,
                });
            }
            Command::ClabelCommit => {
                let labels = std::mem::take(&mut self.staged_chart_labels);
                self.current("CLABEL_COMMIT")?.lock().labels = labels;
            }
            Command::Label { name, value, .. } => {
                self.staged_host_labels
                    .push((name.to_string(), value.to_string()));
            }
            Command::Overwrite => {
                let labels = std::mem::take(&mut self.staged_host_labels);
                *self.host.labels.write().unwrap_or_else(|p| p.into_inner()) = labels;
            }
            Command::ChartDefinitionEnd { first, last, .. } => {
                return self.definition_end(first, last, now_us);
            }
            Command::ReplayBegin { id, start, end, .. } => {
                if id.is_empty() {
                    self.replay_point(start, end, now_us);
                } else {
                    let chart = self
                        .host
                        .find_chart(id)
                        .ok_or_else(|| IngestError::UnknownChart(id.to_string()))?;
                    self.replay_chart = Some(chart);
                    self.replay_point_open = false;
                }
            }
            Command::ReplaySet { id, value, flags } => {
                if self.replay_point_open
                    && let Some(chart) = &self.replay_chart
                {
                    let mut st = chart.lock();
                    if let Some(dim) = st.dim_index(id) {
                        if !flags.contains('E') {
                            st.replay_set(dim, value, flags.contains('R'));
                        }
                    } else {
                        return Err(IngestError::UnknownDimension {
                            chart: chart.id().to_string(),
                            dim: id.to_string(),
                        });
                    }
                }
            }
            Command::ReplayDimState {
                id,
                last_collected_us,
                last_collected,
                last_calculated,
                ..
            } => {
                if let Some(chart) = self.replaying_chart() {
                    let mut st = chart.lock();
                    if let Some(dim) = st.dim_index(id) {
                        st.replay_dim_state(
                            dim,
                            last_collected_us,
                            last_collected,
                            last_calculated,
                        );
                    }
                }
            }
            Command::ReplayChartState {
                last_collected_us, ..
            } => {
                if let Some(chart) = self.replaying_chart() {
                    chart.lock().replay_chart_state(last_collected_us);
                }
            }
            Command::ReplayEnd {
                update_every,
                first,
                last,
                start_streaming,
                after,
                before,
                ..
            } => {
                return self.replay_end(
                    update_every,
                    first,
                    last,
                    start_streaming,
                    after,
                    before,
                    now_us,
                );
            }
            // A parent's request reaching a receiver is not for us; the sender handles them.
            Command::ReplayChart { .. } => {}
            Command::Variable { scope, name, value } => self.variable(scope, name, value),
            // FUNCTION and CLAIMED_ID are accepted and not used yet.
            Command::Other(_) => {}
        }
        Ok(Reply::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_protocol::parse_line;
    use tributary_rrd::{HostConfig, MemoryMode};

    fn host() -> Arc<Host> {
        Arc::new(Host::new(HostConfig {
            hostname: "child".into(),
            machine_guid: "11111111-2222-3333-4444-555555555555".into(),
            memory_mode: MemoryMode::Ram,
            history: 3600,
            cache_dir: None,
            os: "linux".into(),
            timezone: "UTC".into(),
        }))
    }

    fn feed(ing: &mut Ingest, text: &str, now_us: i64) -> Vec<Reply> {
        text.lines()
            .map(|l| ing.apply(parse_line(l).unwrap(), now_us).unwrap())
            .filter(|r| *r != Reply::None)
            .collect()
    }

    #[test]
    fn a_real_netdata_child_definition_creates_the_chart() {
        let mut ing = Ingest::new(host(), 1, "");
        let replies = feed(
            &mut ing,
            r#"CHART "system.idlejitter" "" "CPU Idle Jitter" "microseconds lost/s" "idlejitter" "system.idlejitter" "area" 800 1 "   " "idlejitter.plugin" ""
CLABEL "_collect_plugin" "idlejitter.plugin" 536870913
CLABEL "_collect_module" "[none]" 536870913
CLABEL_COMMIT
DIMENSION "min" "min" "absolute" 1 1 "  "
DIMENSION "max" "max" "absolute" 1 1 " hidden "
CHART_DEFINITION_END 0 0 1795569306
CHART "test.named_one" "named_chart" "Named chart" "x" "test" "test.named_one" "area" 90001 1 "   " "test.plugin" """#,
            1_795_569_306_000_000,
        );
        assert_eq!(
            replies,
            vec![Reply::Send(
                "REPLAY_CHART \"system.idlejitter\" \"true\" 0 0\n".into()
            )]
        );
        let c = ing.host().find_chart("system.idlejitter").unwrap();
        let st = c.lock();
        assert_eq!(st.def.units, "microseconds lost/s");
        assert_eq!(st.def.chart_type, ChartType::Area);
        assert_eq!(st.def.priority, 800);
        assert_eq!(st.labels.len(), 2);
        assert!(st.dims()[1].def.hidden);
        assert_eq!(
            ing.host()
                .find_chart("test.named_one")
                .unwrap()
                .lock()
                .def
                .name,
            "test.named_chart"
        );
    }

    #[test]
    fn a_refused_chart_or_begin_leaves_no_current_chart() {
        let mut ing = Ingest::new(host(), 1, "");
        feed(
            &mut ing,
            "CHART a.b '' t u\nDIMENSION x x absolute 1 1\nBEGIN a.b\n",
            0,
        );
        for bad in ["CHART nodot '' t u", "BEGIN no.such"] {
            assert!(ing.apply(parse_line(bad).unwrap(), 0).is_err(), "{bad}");
            assert_eq!(
                ing.apply(parse_line("SET x = 5").unwrap(), 0),
                Err(IngestError::NoChart("SET")),
                "after '{bad}'"
            );
            assert_eq!(
                ing.apply(parse_line("DIMENSION y").unwrap(), 0),
                Err(IngestError::NoChart("DIMENSION")),
                "after '{bad}'"
            );
            feed(&mut ing, "BEGIN a.b\n", 0);
        }
        let c = ing.host().find_chart("a.b").unwrap();
        assert_eq!(c.lock().dims().len(), 1, "no dimension went to a.b");
    }

    #[test]
    fn variables_set_host_and_chart_values_and_bad_ones_are_ignored() {
        let mut ing = Ingest::new(host(), 1, "");
        feed(
            &mut ing,
            "VARIABLE HOST early = 1\nVARIABLE unscoped_host = 7\nVARIABLE CHART orphan = 1\n\
             CHART a.b '' t u\nDIMENSION x x absolute 1 1\nVARIABLE CHART my-var = 42.5000000\n\
             VARIABLE LOCAL local = 3\nVARIABLE on_chart = 4\nVARIABLE GLOBAL g = 5\n\
             VARIABLE CHART bad = abc\nVARIABLE HOST h = 1e3\n",
            0,
        );
        let host = ing.host();
        let hv = host.vars.lock().unwrap().clone();
        assert_eq!(hv.get("early"), Some(1.0));
        assert_eq!(hv.get("unscoped_host"), Some(7.0));
        assert_eq!(hv.get("g"), Some(5.0));
        assert_eq!(hv.get("h"), Some(1000.0));
        assert_eq!(hv.get("orphan"), None);
        let c = host.find_chart("a.b").unwrap();
        let st = c.lock();
        assert_eq!(st.vars.get("my_var"), Some(42.5));
        assert_eq!(st.vars.get("local"), Some(3.0));
        assert_eq!(st.vars.get("on_chart"), Some(4.0));
        assert_eq!(st.vars.get("bad"), None);
        assert_eq!(ing.bad_variables, 2);
    }

    #[test]
    fn bursts_pass_but_intervals_beyond_what_passed_here_are_refused() {
        let mut ing = Ingest::new(host(), 1, "");
        let t0 = 1_800_000_000_000_000i64;
        feed(
            &mut ing,
            "CHART a.b '' t u\nDIMENSION x x absolute 1 1\n",
            t0,
        );
        for k in 0..5 {
            let us = if k == 0 { 0 } else { 1_000_000 };
            feed(
                &mut ing,
                &format!("BEGIN a.b {us}\nSET x = 1\nEND\n"),
                t0 + k * 1_000_000,
            );
        }
        // Ten collections arriving at once after a stall, each declaring its own second.
        for _ in 0..10 {
            feed(
                &mut ing,
                "BEGIN a.b 1000000\nSET x = 1\nEND\n",
                t0 + 5_000_000,
            );
        }
        let before = ing.host().find_chart("a.b").unwrap().lock().last_entry_t();
        let err = ing
            .apply(
                parse_line("BEGIN a.b 31536000000000").unwrap(),
                t0 + 6_000_000,
            )
            .unwrap_err();
        assert!(matches!(err, IngestError::AbsurdInterval { .. }), "{err}");
        let c = ing.host().find_chart("a.b").unwrap();
        assert_eq!(c.lock().last_entry_t(), before, "nothing reset");
        // An absurd update every is bounded by the parser: a day at most.
        feed(&mut ing, "CHART a.slow '' t u '' '' line 1 100000\n", t0);
        let slow = ing.host().find_chart("a.slow").unwrap();
        assert_eq!(slow.lock().update_every(), 86_400);
    }

    #[test]
    fn limits_bound_new_charts_and_dimensions_not_existing_ones() {
        let mut ing = Ingest::new(host(), 1, "").with_limits(Limits {
            max_charts: 2,
            max_dimensions: 3,
        });
        feed(
            &mut ing,
            "CHART a.one '' t u\nDIMENSION x x\nDIMENSION y y\nCHART a.two '' t u\nDIMENSION z z\n\
             CHART a.one '' t u\nDIMENSION x x\n",
            0,
        );
        let err = ing
            .apply(parse_line("DIMENSION w w").unwrap(), 0)
            .unwrap_err();
        assert_eq!(err, IngestError::TooManyDimensions(3, "w".into()));
        let err = ing
            .apply(parse_line("CHART a.three '' t u").unwrap(), 0)
            .unwrap_err();
        assert_eq!(err, IngestError::TooManyCharts(2, "a.three".into()));
        assert_eq!(ing.host().chart_count(), 2);
    }

    #[test]
    fn collections_are_stored_with_the_receivers_clock() {
        let mut ing = Ingest::new(host(), 1, "");
        feed(
            &mut ing,
            "CHART a.b '' t u\nDIMENSION x x absolute 1 1\n",
            0,
        );
        let t0 = 1_800_000_000_000_000i64;
        for k in 0..5 {
            let now = t0 + k * 1_000_000;
            feed(
                &mut ing,
                &format!(
                    "BEGIN a.b {}\nSET x = {}\nEND\n",
                    if k == 0 { 0 } else { 1_000_000 },
                    10 * k
                ),
                now,
            );
        }
        let c = ing.host().find_chart("a.b").unwrap();
        let st = c.lock();
        assert_eq!(st.value_at(0, st.last_entry_t()), Some(40.0));
        assert_eq!(ing.collections, 5);
    }

    #[test]
    fn replication_replies_are_stored_and_bad_points_refused() {
        let now = 1_800_000_100i64;
        let mut ing = Ingest::new(host(), 1, "")
            .with_replication(ReplicationConfig::default(), "STREAM child [test]");
        let replies = feed(
            &mut ing,
            &format!(
                "CHART a.b '' t u\nDIMENSION x x absolute 1 1\nCHART_DEFINITION_END {} {} {now}\n",
                now - 60,
                now - 1
            ),
            now * 1_000_000,
        );
        assert_eq!(
            replies,
            vec![Reply::Send(format!(
                "REPLAY_CHART \"a.b\" \"true\" {} {}\n",
                now - 60,
                now - 1
            ))]
        );
        let mut reply = String::from("RBEGIN \"a.b\"\n");
        for t in (now - 59)..=(now - 1) {
            reply.push_str(&format!(
                "RBEGIN '' {} {t} {now}\nRSET x {} \"\"\n",
                t - 1,
                t % 100
            ));
        }
        // A point in the future, one again (overlap), one before the range: all refused.
        reply.push_str(&format!(
            "RBEGIN '' {} {} {now}\nRSET x 999 \"\"\n",
            now + 99,
            now + 100
        ));
        reply.push_str(&format!(
            "RBEGIN '' {} {} {now}\nRSET x 999 \"\"\n",
            now - 3,
            now - 2
        ));
        reply.push_str(&format!(
            "RBEGIN '' {} {} {now}\nRSET x 999 \"\"\n",
            now - 70,
            now - 69
        ));
        reply.push_str(&format!(
            "RDSTATE x {} 7 7.0 7.0\nRSSTATE {} {}\nREND 1 {} {} true {} {} {now}\n",
            (now - 1) * 1_000_000,
            (now - 1) * 1_000_000 + 300_000,
            (now - 1) * 1_000_000,
            now - 60,
            now - 1,
            now - 60,
            now - 1
        ));
        assert!(feed(&mut ing, &reply, now * 1_000_000).is_empty());
        let c = ing.host().find_chart("a.b").unwrap();
        let st = c.lock();
        assert_eq!(st.last_entry_t(), now - 1);
        for t in (now - 59)..=(now - 1) {
            let v = st.value_at(0, t).unwrap();
            assert!((v - (t % 100) as f64).abs() < 1e-6, "t={t}: {v}");
        }
        drop(st);
        let stats = ing.host().replication.lock().unwrap().clone();
        assert_eq!(stats.points_replayed, 59);
        assert_eq!(stats.points_refused, 3);
        assert_eq!(stats.charts_finished, 1);
        // A reply nobody asked for is ignored.
        let stray = feed(
            &mut ing,
            &format!(
                "RBEGIN \"a.b\"\nRBEGIN '' {} {} {now}\nRSET x 1 \"\"\nREND 1 0 0 true 0 0 {now}\n",
                now,
                now + 1
            ),
            now * 1_000_000,
        );
        assert!(stray.is_empty());
        assert_eq!(c.lock().last_entry_t(), now - 1);
    }

    #[test]
    fn bad_commands_are_errors_not_panics() {
        let mut ing = Ingest::new(host(), 1, "");
        let apply = |ing: &mut Ingest, l: &str| ing.apply(parse_line(l).unwrap(), 0);
        assert_eq!(
            apply(&mut ing, "SET x = 1"),
            Err(IngestError::NoChart("SET"))
        );
        assert_eq!(
            apply(&mut ing, "BEGIN no.such"),
            Err(IngestError::UnknownChart("no.such".into()))
        );
        assert_eq!(
            apply(&mut ing, "CHART nodot"),
            Err(IngestError::BadChartId("nodot".into()))
        );
        apply(&mut ing, "CHART a.b").unwrap();
        assert!(matches!(
            apply(&mut ing, "SET y = 1"),
            Err(IngestError::UnknownDimension { .. })
        ));
        assert_eq!(apply(&mut ing, "DISABLE"), Err(IngestError::Disabled));
    }
}
