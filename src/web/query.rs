//! netdata 1.37.1's query engine for `/api/v1/data` (and badges): the time window, points and
//! grouping of `query_target_calculate_window()` and `rrd2rrdr()` (web-api.md §5.3), over the
//! ram-mode storage reader (`rrddim_query_*`), written from the spec and a reading of the C.
//!
//! The result is an [`Rrdr`]: one row per point, one column per queried dimension, with per
//! value flags (empty, reset) and per dimension flags (hidden, nonzero, selected), which the
//! formatters in `render/` print.

use tributary_config::{PatternMode, SimplePattern};
use tributary_rrd::ChartState;
use tributary_rrd::cursor::SampleCursor;
use tributary_rrd::storage_number::{SN_FLAG_RESET, StorageNumber, unpack};

mod natural;

/// `|after|` or `|before|` up to this many seconds (3 years) are relative.
pub const RELATIVE_TIME_MAX: i64 = 3 * 365 * 86400;

/// The `options` flags of the data API, in netdata's order (the order they are echoed in).
pub mod opt {
    /// `nonzero`
    pub const NONZERO: u32 = 1 << 0;
    /// `flip`, `reversed`, `reverse`
    pub const REVERSED: u32 = 1 << 1;
    /// `jsonwrap`
    pub const JSON_WRAP: u32 = 1 << 2;
    /// `min2max`
    pub const MIN2MAX: u32 = 1 << 3;
    /// `ms`, `milliseconds`
    pub const MILLISECONDS: u32 = 1 << 4;
    /// `abs`, `absolute`, `absolute_sum`, `absolute-sum`
    pub const ABSOLUTE: u32 = 1 << 5;
    /// `display_absolute`, `display-absolute`
    pub const DISPLAY_ABS: u32 = 1 << 6;
    /// `seconds`
    pub const SECONDS: u32 = 1 << 7;
    /// `null2zero`
    pub const NULL2ZERO: u32 = 1 << 8;
    /// `objectrows`
    pub const OBJECTROWS: u32 = 1 << 9;
    /// `google_json`, `google-json`
    pub const GOOGLE_JSON: u32 = 1 << 10;
    /// `percentage`
    pub const PERCENTAGE: u32 = 1 << 11;
    /// `unaligned`
    pub const NOT_ALIGNED: u32 = 1 << 12;
    /// `match_ids`, `match-ids`
    pub const MATCH_IDS: u32 = 1 << 13;
    /// `match_names`, `match-names`
    pub const MATCH_NAMES: u32 = 1 << 14;
    /// `anomaly-bit`
    pub const ANOMALY_BIT: u32 = 1 << 15;
    /// `selected-tier`
    pub const SELECTED_TIER: u32 = 1 << 16;
    /// `raw`
    pub const RAW: u32 = 1 << 17;
    /// `jw-anomaly-rates`
    pub const JW_ANOMALY_RATES: u32 = 1 << 18;
    /// `natural-points`
    pub const NATURAL_POINTS: u32 = 1 << 19;
    /// `virtual-points`
    pub const VIRTUAL_POINTS: u32 = 1 << 20;
    /// `all-dimensions`
    pub const ALL_DIMENSIONS: u32 = 1 << 21;
    /// Internal: csv labels quoted (csvjsonarray).
    pub const LABEL_QUOTES: u32 = 1 << 30;

    /// Every option name with its flag; the first name of a flag is the one echoed.
    pub const NAMES: &[(&str, u32)] = &[
        ("nonzero", NONZERO),
        ("flip", REVERSED),
        ("reversed", REVERSED),
        ("reverse", REVERSED),
        ("jsonwrap", JSON_WRAP),
        ("min2max", MIN2MAX),
        ("ms", MILLISECONDS),
        ("milliseconds", MILLISECONDS),
        ("abs", ABSOLUTE),
        ("absolute", ABSOLUTE),
        ("absolute_sum", ABSOLUTE),
        ("absolute-sum", ABSOLUTE),
        ("display_absolute", DISPLAY_ABS),
        ("display-absolute", DISPLAY_ABS),
        ("seconds", SECONDS),
        ("null2zero", NULL2ZERO),
        ("objectrows", OBJECTROWS),
        ("google_json", GOOGLE_JSON),
        ("google-json", GOOGLE_JSON),
        ("percentage", PERCENTAGE),
        ("unaligned", NOT_ALIGNED),
        ("match_ids", MATCH_IDS),
        ("match-ids", MATCH_IDS),
        ("match_names", MATCH_NAMES),
        ("match-names", MATCH_NAMES),
        ("anomaly-bit", ANOMALY_BIT),
        ("selected-tier", SELECTED_TIER),
        ("raw", RAW),
        ("jw-anomaly-rates", JW_ANOMALY_RATES),
        ("natural-points", NATURAL_POINTS),
        ("virtual-points", VIRTUAL_POINTS),
        ("all-dimensions", ALL_DIMENSIONS),
    ];

    /// Parses an `options` value (words separated by `,`, `|` or spaces; unknown words ignored).
    pub fn parse(s: &str) -> u32 {
        s.split([',', '|', ' ', '\t'])
            .filter_map(|w| NAMES.iter().find(|(n, _)| *n == w).map(|(_, f)| *f))
            .fold(0, |a, f| a | f)
    }

    /// The flags as netdata echoes them: first alias of each, in table order, comma separated.
    pub fn write(out: &mut impl std::fmt::Write, options: u32) {
        let mut used = 0;
        for (name, flag) in NAMES {
            if options & flag != 0 && used & flag == 0 {
                let sep = if used != 0 { "," } else { "" };
                used |= flag;
                // String and the response buffer never fail
                let _infallible = out.write_str(sep).and_then(|()| out.write_str(name));
            }
        }
    }
}

/// Per value flag: the group had no points (printed `null`).
pub const VALUE_EMPTY: u8 = 1;
/// Per value flag: a counter reset or overflow was stored in the group.
pub const VALUE_RESET: u8 = 2;

/// Per dimension flag: not shown (hidden or not selected).
pub const DIM_HIDDEN: u8 = 1;
/// Per dimension flag: has a non-zero value in the window (or was asked for by name).
pub const DIM_NONZERO: u8 = 2;
/// Per dimension flag: selected.
pub const DIM_SELECTED: u8 = 4;

/// The grouping methods of netdata 1.37.1 (`group=`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Group {
    /// `average` (alias `mean`).
    Average,
    /// `min` (the value of smallest magnitude, as netdata compares absolute values).
    Min,
    /// `max` (the value of largest magnitude).
    Max,
    /// `sum`.
    Sum,
    /// `incremental_sum` / `incremental-sum`: last - first.
    IncrementalSum,
    /// `median` and `trimmed-medianN` (percent trimmed from both ends of the range).
    Median(f64),
    /// `percentileN`.
    Percentile(f64),
    /// `trimmed-meanN`.
    TrimmedMean(f64),
    /// `stddev`.
    Stddev,
    /// `cv` / `rsd`.
    Cv,
    /// `ses` / `ema` / `ewma`.
    Ses,
    /// `des`.
    Des,
    /// `countif`.
    Countif,
}

/// `(name, method, default parameter)`; the first name of a method is the one echoed.
const GROUPS: &[(&str, Group)] = &[
    ("average", Group::Average),
    ("mean", Group::Average),
    ("trimmed-mean1", Group::TrimmedMean(1.0)),
    ("trimmed-mean2", Group::TrimmedMean(2.0)),
    ("trimmed-mean3", Group::TrimmedMean(3.0)),
    ("trimmed-mean5", Group::TrimmedMean(5.0)),
    ("trimmed-mean10", Group::TrimmedMean(10.0)),
    ("trimmed-mean15", Group::TrimmedMean(15.0)),
    ("trimmed-mean20", Group::TrimmedMean(20.0)),
    ("trimmed-mean25", Group::TrimmedMean(25.0)),
    ("trimmed-mean", Group::TrimmedMean(5.0)),
    ("incremental_sum", Group::IncrementalSum),
    ("incremental-sum", Group::IncrementalSum),
    ("median", Group::Median(0.0)),
    ("trimmed-median1", Group::Median(1.0)),
    ("trimmed-median2", Group::Median(2.0)),
    ("trimmed-median3", Group::Median(3.0)),
    ("trimmed-median5", Group::Median(5.0)),
    ("trimmed-median10", Group::Median(10.0)),
    ("trimmed-median15", Group::Median(15.0)),
    ("trimmed-median20", Group::Median(20.0)),
    ("trimmed-median25", Group::Median(25.0)),
    ("trimmed-median", Group::Median(5.0)),
    ("percentile25", Group::Percentile(25.0)),
    ("percentile50", Group::Percentile(50.0)),
    ("percentile75", Group::Percentile(75.0)),
    ("percentile80", Group::Percentile(80.0)),
    ("percentile90", Group::Percentile(90.0)),
    ("percentile95", Group::Percentile(95.0)),
    ("percentile97", Group::Percentile(97.0)),
    ("percentile98", Group::Percentile(98.0)),
    ("percentile99", Group::Percentile(99.0)),
    ("percentile", Group::Percentile(95.0)),
    ("min", Group::Min),
    ("max", Group::Max),
    ("sum", Group::Sum),
    ("stddev", Group::Stddev),
    ("cv", Group::Cv),
    ("rsd", Group::Cv),
    ("ses", Group::Ses),
    ("ema", Group::Ses),
    ("ewma", Group::Ses),
    ("des", Group::Des),
    ("countif", Group::Countif),
];

impl Group {
    /// The method called `name`; unknown names are `average`, as in netdata.
    pub fn parse(name: &str) -> Group {
        GROUPS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Group::Average, |(_, g)| *g)
    }

    /// The name netdata echoes for this method.
    pub fn name(self) -> &'static str {
        GROUPS
            .iter()
            .find(|(_, g)| *g == self)
            .map_or("average", |(n, _)| n)
    }
}

/// What a query asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// `after` (relative when |v| <= 3 years; 0 = oldest point).
    pub after: i64,
    /// `before` (relative when |v| <= 3 years; 0 = newest point).
    pub before: i64,
    /// `points` (0 = every natural point).
    pub points: i64,
    /// `group`.
    pub group: Group,
    /// `group_options`.
    pub group_options: Option<String>,
    /// `gtime` (resampling seconds).
    pub gtime: i64,
    /// `options` flags.
    pub options: u32,
    /// Dimension filter (netdata's `|`-joined list), if any.
    pub dimensions: Option<String>,
    /// Wall clock, seconds (netdata uses now - 1).
    pub now: i64,
}

/// One queried dimension (its id and name borrowed from the locked chart).
#[derive(Debug, Clone)]
pub struct QueryDim<'a> {
    /// Index in the chart.
    pub index: usize,
    /// Dimension id.
    pub id: &'a str,
    /// Dimension name.
    pub name: &'a str,
    /// Id of the chart it belongs to (context queries list them in `chart_ids`).
    pub chart: &'a str,
    /// Value of the newest stored slot (NaN when none).
    pub last_stored: f64,
}

/// A query result (netdata's `RRDR`), borrowing names from the chart it was read from.
#[derive(Debug, Clone, Default)]
pub struct Rrdr<'a> {
    /// The queried dimensions (hidden ones only with `percentage`).
    pub dims: Vec<QueryDim<'a>>,
    /// Per dimension flags (`DIM_*`).
    pub od: Vec<u8>,
    /// Row timestamps, oldest first.
    pub t: Vec<i64>,
    /// Values, row-major (`rows × dims`); empty values hold 0.
    pub v: Vec<f64>,
    /// The stored sample behind each value, where every value is exactly its sample (the
    /// natural points of one-second charts; empty otherwise): printed from its decimal
    /// digits instead of through the double.
    pub raw: Vec<StorageNumber>,
    /// Value flags (`VALUE_*`), as `v`.
    pub o: Vec<u8>,
    /// Number of rows.
    pub rows: usize,
    /// Minimum over the values (updated by the formatters, as netdata does).
    pub min: f64,
    /// Maximum over the values.
    pub max: f64,
    /// Timestamp of the newest row.
    pub before: i64,
    /// Start of the oldest group.
    pub after: i64,
    /// Seconds between rows.
    pub view_update_every: i64,
    /// Effective options (with natural-points or virtual-points).
    pub options: u32,
    /// The window was relative (not cacheable).
    pub relative: bool,
    /// Database points read.
    pub db_points_read: usize,
    /// Chart `update_every`.
    pub update_every: i64,
    /// Oldest time of the database (netdata's `first_entry`).
    pub first_entry: i64,
    /// Newest stored time.
    pub last_entry: i64,
}

impl Rrdr<'_> {
    /// True when dimension `c` is printed with `options`.
    pub fn visible(&self, c: usize, options: u32) -> bool {
        self.od[c] & DIM_HIDDEN == 0
            && (options & opt::NONZERO == 0 || self.od[c] & DIM_NONZERO != 0)
    }
}

/// Why a query has no result.
#[derive(Debug, PartialEq, Eq)]
pub enum QueryError {
    /// No dimension matched, or the chart holds no data: `404 No metrics where matched to query.`
    NoMetrics,
}

/// The window after `query_target_calculate_window()`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Start (first group's first point).
    pub after: i64,
    /// End (last row's time).
    pub before: i64,
    /// Rows.
    pub points: i64,
    /// Points per row.
    pub group: i64,
    /// Seconds per point.
    pub granularity: i64,
    /// `gtime` group multiple.
    pub resampling_group: i64,
    /// Divisor for average with `gtime`.
    pub resampling_divisor: f64,
    /// The window was relative.
    pub relative: bool,
    /// Effective options.
    pub options: u32,
}

/// netdata's `rrdr_relative_window_to_absolute()`.
fn relative_to_absolute(after: &mut i64, before: &mut i64, now: i64) {
    let mut b = *before;
    let mut a = *after;
    if b.abs() <= RELATIVE_TIME_MAX {
        b = now - b.abs();
    }
    if a.abs() <= RELATIVE_TIME_MAX {
        let mut rel = -a.abs();
        if rel == 0 {
            rel = -600;
        }
        a = b + rel + 1;
    }
    if a > b {
        std::mem::swap(&mut a, &mut b);
    }
    if b > now {
        let delta = b - now;
        b -= delta;
        a -= delta;
    }
    let (min_t, max_t) = (now - 10 * 365 * 86400, now + 365 * 86400);
    *after = a.clamp(min_t, max_t);
    *before = b.clamp(min_t, max_t);
}

/// netdata's `query_target_calculate_window()`: None when there is no data to anchor a 0.
pub fn calculate_window(
    req: &Request,
    first_entry: i64,
    last_entry: i64,
    update_every: i64,
) -> Option<Window> {
    let mut options = req.options;
    let mut points = req.points.max(0);
    let mut after = req.after;
    let mut before = req.before;
    let aligned = options & opt::NOT_ALIGNED == 0;
    let automatic_natural = points == 0;
    let mut relative = false;
    let mut natural = options & opt::NATURAL_POINTS != 0 || automatic_natural;
    let mut before_is_db_end = false;

    if before.abs() <= RELATIVE_TIME_MAX || after.abs() <= RELATIVE_TIME_MAX {
        relative = true;
        natural = true;
        options |= opt::NATURAL_POINTS;
    }
    if options & opt::VIRTUAL_POINTS != 0 {
        natural = false;
    }
    if natural {
        options = (options | opt::NATURAL_POINTS) & !opt::VIRTUAL_POINTS;
    } else {
        options = (options | opt::VIRTUAL_POINTS) & !opt::NATURAL_POINTS;
    }

    if after == 0 || before == 0 {
        relative = true;
        if first_entry == 0 || last_entry == 0 {
            return None;
        }
        if after == 0 {
            after = first_entry;
        }
        if before == 0 {
            before = last_entry;
            before_is_db_end = true;
        }
        if points == 0 {
            points = (last_entry - first_entry) / update_every.max(1);
        }
    }
    if points == 0 {
        points = 600;
    }
    relative_to_absolute(&mut after, &mut before, req.now);

    let g = if natural { update_every.max(1) } else { 1 };
    before -= before.rem_euclid(g);
    after -= after.rem_euclid(g);
    if automatic_natural {
        points = ((before - after + 1) / g).max(1);
    }
    let mut duration = before - after;
    let gtime = req.gtime;
    if gtime > duration {
        after = before - gtime;
        duration = before - after;
    }
    if gtime > g && duration % gtime != 0 {
        let delta = duration % gtime;
        if delta > gtime / 10 {
            after -= gtime - delta;
            duration = before - after;
        }
    }
    let available = ((duration + 1) / g).max(1);
    points = points.min(available);
    if points > 86400 {
        points = 86400;
    }
    let mut group = (available / points).max(1);
    if available % points > points / 2 {
        group += 1;
    }
    if points * group * g < duration {
        points = available / group;
        if points * group < available {
            points += 1;
        }
        points = points.max(1);
    }
    let mut resampling_divisor = 1.0;
    let mut resampling_group = 1;
    if gtime > g {
        resampling_group = gtime / g;
        if gtime % g != 0 {
            resampling_group += 1;
        }
        if group < resampling_group {
            group = resampling_group;
        }
        if group % resampling_group != 0 {
            group += resampling_group - group % resampling_group;
        }
        resampling_divisor = (group * g) as f64 / gtime as f64;
    }
    let step = group * g;
    if aligned && before % step != 0 {
        if before_is_db_end {
            before -= before % step;
        } else {
            before += step - before % step;
        }
    }
    after = before - points * group * g + g;
    Some(Window {
        after,
        before,
        points,
        group,
        granularity: g,
        resampling_group,
        resampling_divisor,
        relative,
        options,
    })
}

/// The per-group accumulator of one grouping method.
struct Grouper {
    method: Group,
    resampling_group: i64,
    resampling_divisor: f64,
    /// ses/des smoothing factor.
    alpha: f64,
    countif_cmp: fn(f64, f64) -> bool,
    countif_target: f64,
    param: f64,
    sum: f64,
    count: usize,
    extreme: f64,
    first: f64,
    last: f64,
    series: Vec<f64>,
    m: f64,
    s: f64,
    level: f64,
    trend: f64,
    matched: usize,
}

fn parse_countif(options: Option<&str>) -> (fn(f64, f64) -> bool, f64) {
    fn eq(a: f64, b: f64) -> bool {
        a == b
    }
    fn ne(a: f64, b: f64) -> bool {
        a != b
    }
    fn lt(a: f64, b: f64) -> bool {
        a < b
    }
    fn le(a: f64, b: f64) -> bool {
        a <= b
    }
    fn gt(a: f64, b: f64) -> bool {
        a > b
    }
    fn ge(a: f64, b: f64) -> bool {
        a >= b
    }
    let Some(s) = options.map(str::trim_start).filter(|s| !s.is_empty()) else {
        return (eq, 0.0);
    };
    let b = s.as_bytes();
    let next = |i: usize| b.get(i).copied().unwrap_or(0);
    let (cmp, used): (fn(f64, f64) -> bool, usize) = match b[0] {
        b'!' if matches!(next(1), b'=' | b':') => (ne, 2),
        b'!' => (ne, 1),
        b'>' if matches!(next(1), b'=' | b':') => (ge, 2),
        b'>' => (gt, 1),
        b'<' if next(1) == b'>' => (ne, 2),
        b'<' if matches!(next(1), b'=' | b':') => (le, 2),
        b'<' => (lt, 1),
        b'=' | b':' => (eq, 1),
        // netdata skips one character even when it is not an operator.
        _ => (eq, 1),
    };
    let rest = s.get(used..).unwrap_or("").trim_start();
    (cmp, leading_f64(rest))
}

/// `strtod`-like: the longest leading number of `s` (0 when none).
fn leading_f64(s: &str) -> f64 {
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let ok = c.is_ascii_digit()
            || c == '.'
            || ((c == '-' || c == '+') && (i == 0 || s[..i].ends_with(['e', 'E'])))
            || ((c == 'e' || c == 'E') && i > 0);
        if !ok {
            break;
        }
        if s[..=i].parse::<f64>().is_ok() {
            end = i + 1;
        }
    }
    s[..end].parse().unwrap_or(0.0)
}

impl Grouper {
    fn new(method: Group, options: Option<&str>, w: &Window) -> Grouper {
        let points = if w.group == 1 { w.points } else { w.group };
        let window = (points as f64).min(15.0);
        let (countif_cmp, countif_target) = parse_countif(options);
        let opt_num = options.filter(|s| !s.is_empty()).map(|s| {
            let v = leading_f64(s.trim_start());
            if v.is_finite() { v } else { 0.0 }
        });
        let param = match method {
            Group::Median(p) | Group::TrimmedMean(p) => opt_num.unwrap_or(p).clamp(0.0, 50.0),
            Group::Percentile(p) => opt_num.unwrap_or(p).clamp(0.0, 100.0),
            _ => 0.0,
        };
        let param = match method {
            Group::TrimmedMean(_) => 1.0 - (param / 100.0) * 2.0,
            _ => param / 100.0,
        };
        Grouper {
            method,
            resampling_group: w.resampling_group,
            resampling_divisor: w.resampling_divisor,
            alpha: 2.0 / (window + 1.0),
            countif_cmp,
            countif_target,
            param,
            sum: 0.0,
            count: 0,
            extreme: 0.0,
            first: 0.0,
            last: 0.0,
            series: Vec::new(),
            m: 0.0,
            s: 0.0,
            level: 0.0,
            trend: 0.0,
            matched: 0,
        }
    }

    /// New dimension: ses/des keep their level across groups, but not across dimensions.
    fn reset(&mut self) {
        self.sum = 0.0;
        self.count = 0;
        self.series.clear();
        self.level = 0.0;
        self.trend = 0.0;
        self.matched = 0;
    }

    fn add(&mut self, v: f64) {
        match self.method {
            Group::Average | Group::Sum => {
                self.sum += v;
                self.count += 1;
            }
            Group::Min => {
                if self.count == 0 || v.abs() < self.extreme.abs() {
                    self.extreme = v;
                    self.count += 1;
                }
            }
            Group::Max => {
                if self.count == 0 || v.abs() > self.extreme.abs() {
                    self.extreme = v;
                    self.count += 1;
                }
            }
            Group::IncrementalSum => {
                if self.count == 0 {
                    self.first = v;
                } else {
                    self.last = v;
                }
                self.count += 1;
            }
            Group::Median(_) | Group::Percentile(_) | Group::TrimmedMean(_) => {
                self.series.push(v);
            }
            Group::Stddev | Group::Cv => {
                self.count += 1;
                if self.count == 1 {
                    self.m = v;
                    self.s = 0.0;
                } else {
                    let new_m = self.m + (v - self.m) / self.count as f64;
                    self.s += (v - self.m) * (v - new_m);
                    self.m = new_m;
                }
            }
            Group::Ses => {
                if self.count == 0 {
                    self.level = v;
                }
                self.level = self.alpha * v + (1.0 - self.alpha) * self.level;
                self.count += 1;
            }
            Group::Des => {
                if self.count > 0 {
                    if self.count == 1 {
                        self.trend = v - self.trend;
                        self.level = v;
                    }
                    let last_level = self.level;
                    self.level = self.alpha * v + (1.0 - self.alpha) * (self.level + self.trend);
                    self.trend =
                        self.alpha * (self.level - last_level) + (1.0 - self.alpha) * self.trend;
                } else {
                    self.level = v;
                    self.trend = v;
                }
                self.count += 1;
            }
            Group::Countif => {
                self.matched += usize::from((self.countif_cmp)(v, self.countif_target));
                self.count += 1;
            }
        }
    }

    /// The group's value, or None for an empty group (netdata stores 0 with the empty flag).
    fn flush(&mut self) -> Option<f64> {
        let out = match self.method {
            Group::Average => (self.count > 0).then(|| {
                if self.resampling_group != 1 {
                    self.sum / self.resampling_divisor
                } else {
                    self.sum / self.count as f64
                }
            }),
            Group::Sum => (self.count > 0).then_some(self.sum),
            Group::Min | Group::Max => (self.count > 0).then_some(self.extreme),
            Group::IncrementalSum => match self.count {
                0 => None,
                1 => Some(0.0),
                _ => Some(self.last - self.first),
            },
            Group::Median(_) => self.flush_median(),
            Group::Percentile(_) => self.flush_percentile(false),
            Group::TrimmedMean(_) => self.flush_percentile(true),
            Group::Stddev | Group::Cv => {
                let v = match self.count {
                    0 => None,
                    1 => Some(0.0),
                    n => {
                        let sd = (self.s / (n - 1) as f64).sqrt();
                        let v = if self.method == Group::Cv {
                            100.0 * sd / self.m.abs()
                        } else {
                            sd
                        };
                        v.is_finite().then_some(v)
                    }
                };
                self.count = 0;
                return v;
            }
            Group::Ses | Group::Des => {
                // the level carries over to the next group
                return (self.count > 0 && self.level.is_finite()).then_some(self.level);
            }
            Group::Countif => {
                (self.count > 0).then(|| self.matched as f64 * 100.0 / self.count as f64)
            }
        };
        self.sum = 0.0;
        self.count = 0;
        self.extreme = 0.0;
        self.first = 0.0;
        self.last = 0.0;
        self.matched = 0;
        self.series.clear();
        out
    }

    fn sorted(&mut self) {
        self.series.sort_by(|a, b| a.total_cmp(b));
    }

    fn flush_median(&mut self) -> Option<f64> {
        let n = self.series.len();
        let v = match n {
            0 => return None,
            1 => self.series[0],
            _ => {
                self.sorted();
                let s = &self.series;
                let (mut start, mut end) = (0, n - 1);
                if self.param > 0.0 {
                    let (min, max) = (s[0], s[n - 1]);
                    let delta = (max - min) * self.param;
                    let (lo, hi) = (min + delta, max - delta);
                    start = 0;
                    while start < n && s[start] < lo {
                        start += 1;
                    }
                    end = n - 1;
                    while end > start && s[end] > hi {
                        end -= 1;
                    }
                }
                if start == end {
                    s[start.min(n - 1)]
                } else {
                    median_sorted(&s[start..=end])
                }
            }
        };
        v.is_finite().then_some(v)
    }

    /// percentile (from the low end, or the high end when negative) and trimmed mean (middle).
    fn flush_percentile(&mut self, trimmed: bool) -> Option<f64> {
        let n = self.series.len();
        let v = match n {
            0 => return None,
            1 => self.series[0],
            _ => {
                self.sorted();
                let s = &self.series;
                let (min, max) = (s[0], s[n - 1]);
                if min == max {
                    min
                } else {
                    let mut use_n = (n as f64 * self.param) as usize;
                    if use_n == 0 {
                        use_n = 1;
                    }
                    let pct_use = use_n as f64 / n as f64;
                    let delta = self.param - pct_use;
                    let (mut interp, mut last_w) = (0.0, 0.0);
                    if delta > 0.0 {
                        let one = (use_n + 1) as f64 / n as f64 - pct_use;
                        interp = delta / one;
                        last_w = 1.0 - interp;
                    }
                    let skip = if trimmed { (n - use_n) / 2 } else { 0 } as i64;
                    let (start, step): (i64, i64) = if min >= 0.0 && max >= 0.0 {
                        (skip, 1)
                    } else {
                        (n as i64 - 1 - skip, -1)
                    };
                    let stop = start + step * use_n as i64;
                    let last = stop - step;
                    let mut sum = 0.0;
                    let mut i = start;
                    while i != stop {
                        sum += s[i as usize];
                        i += step;
                    }
                    let mut counted = use_n;
                    if interp > 0.0 && stop >= 0 && (stop as usize) < n {
                        sum += s[stop as usize] * interp + s[last as usize] * last_w;
                        counted += 1;
                    }
                    sum / counted as f64
                }
            }
        };
        v.is_finite().then_some(v)
    }
}

/// netdata's `median_on_sorted_series()` (its even case averages elements n/2 and n/2+1).
fn median_sorted(s: &[f64]) -> f64 {
    match s.len() {
        0 => f64::NAN,
        1 => s[0],
        2 => (s[0] + s[1]) / 2.0,
        n if n % 2 == 0 => (s[n / 2] + s[(n / 2 + 1).min(n - 1)]) / 2.0,
        n => s[n / 2],
    }
}

/// A point of the database or of the query (`QUERY_POINT`).
#[derive(Debug, Clone, Copy)]
struct Point {
    start: i64,
    end: i64,
    value: f64,
    reset: bool,
}

const EMPTY_POINT: Point = Point {
    start: 0,
    end: 0,
    value: f64::NAN,
    reset: false,
};

/// The ram-mode reader of one dimension (`rrddim_query_init/next_metric/is_finished`): points
/// `[t - ue, t]` stepping from the start time, each holding the next slot once the slot clock
/// has reached it.
struct SlotReader<'a> {
    ue: i64,
    next_t: i64,
    slot_t: i64,
    last_t: i64,
    end_t: i64,
    /// Consecutive slots without a division each.
    cursor: SampleCursor<'a>,
}

impl<'a> SlotReader<'a> {
    fn new(cursor: SampleCursor<'a>, first: i64, last: i64, start: i64, end: i64) -> Self {
        let ue = cursor.update_every();
        // netdata's rrddim_time2slot() then rrddim_slot2time()
        let slot_time = |t: i64| -> i64 {
            if t >= last {
                last
            } else if t <= first {
                first + ue
            } else {
                last - (last - t) / ue * ue
            }
        };
        SlotReader {
            ue,
            next_t: start,
            slot_t: slot_time(start),
            last_t: slot_time(end),
            end_t: end,
            cursor,
        }
    }

    fn finished(&self) -> bool {
        self.next_t > self.end_t
    }

    fn next(&mut self) -> Point {
        let t = self.next_t;
        self.next_t += self.ue;
        let mut p = Point {
            start: t - self.ue,
            end: t,
            value: f64::NAN,
            reset: false,
        };
        if t < self.slot_t || t > self.last_t {
            return p;
        }
        if let Some(n) = self.cursor.sample_at(self.slot_t) {
            p.value = unpack(n);
            p.reset = n & SN_FLAG_RESET != 0 && p.value.is_finite();
        }
        self.slot_t += self.ue;
        p
    }
}

/// `query_interpolate_point()`: moves a wide point's end to `now` on the line from the previous
/// adjacent point.
fn interpolate(p: &mut Point, prev: &Point, now: i64) {
    if p.end - p.start > 1 && prev.end == p.start && p.value.is_finite() && prev.value.is_finite() {
        p.value = prev.value
            + (p.value - prev.value) * (1.0 - (p.end - now) as f64 / (p.end - p.start) as f64);
        p.end = now;
    }
}

/// Chooses the dimensions of `st` for a request (`query_target_add_metric()`), with their flags.
fn select_dims<'a>(st: &'a ChartState, req: &Request) -> (Vec<QueryDim<'a>>, Vec<u8>) {
    let pattern = req
        .dimensions
        .as_deref()
        .filter(|d| !d.is_empty() && *d != "*")
        .map(|d| SimplePattern::with_options(d, ",|", PatternMode::Exact));
    let mut match_ids = req.options & opt::MATCH_IDS != 0;
    let mut match_names = req.options & opt::MATCH_NAMES != 0;
    if !match_ids && !match_names {
        match_ids = true;
        match_names = true;
    }
    let last = st.last_entry_t();
    let first = st.first_entry_t();
    let ue = st.update_every();
    // query_target_add_metric(): only metrics with data near the requested window
    let (mut wa, mut wb) = (req.after, req.before);
    relative_to_absolute(&mut wa, &mut wb, req.now);
    if last == 0 || first - 2 * ue > wb || last + 2 * ue < wa {
        return (Vec::new(), Vec::new());
    }
    let mut dims = Vec::new();
    let mut flags = Vec::new();
    for (i, d) in st.dims().iter().enumerate() {
        if d.def.obsolete {
            continue;
        }
        let mut f = 0u8;
        if d.def.hidden {
            f |= DIM_HIDDEN;
        }
        match &pattern {
            Some(p) => {
                if (match_ids && p.matches(&d.def.id)) || (match_names && p.matches(&d.def.name)) {
                    f = (f | DIM_SELECTED | DIM_NONZERO) & !DIM_HIDDEN;
                } else {
                    f = (f | DIM_HIDDEN) & !DIM_SELECTED;
                }
            }
            None => {
                if f & DIM_HIDDEN == 0 {
                    f |= DIM_SELECTED;
                }
            }
        }
        if f & DIM_HIDDEN == 0 || req.options & opt::PERCENTAGE != 0 {
            let last_stored = if last > 0 {
                st.value_at(i, last).unwrap_or(f64::NAN)
            } else {
                f64::NAN
            };
            dims.push(QueryDim {
                index: i,
                id: &d.def.id,
                name: &d.def.name,
                chart: &st.def.id,
                last_stored,
            });
            flags.push(f);
        }
    }
    (dims, flags)
}

/// Runs a query on one chart (netdata's `rrd2rrdr()` with the ram storage engine).
pub fn run<'a>(st: &'a ChartState, req: &Request) -> Result<Rrdr<'a>, QueryError> {
    run_with(st, req, true)
}

/// [`run`], with the natural-points fast path allowed or not (the tests compare both).
fn run_with<'a>(
    st: &'a ChartState,
    req: &Request,
    allow_natural: bool,
) -> Result<Rrdr<'a>, QueryError> {
    let ue = st.update_every().max(1);
    let (first, last) = (st.first_entry_t(), st.last_entry_t());
    let w = calculate_window(req, first, last, ue).ok_or(QueryError::NoMetrics)?;
    let mut r = fill_chart(st, req, &w, allow_natural)?;
    nonzero_fallback(&mut r, req);
    Ok(r)
}

/// A context query (netdata's query target over every instance of a context): the window
/// is planned over all the charts' retention together, each chart's dimensions are queried in
/// it, and the result holds them side by side, in the order of `charts` (each dimension
/// knows its chart, for the wrapper's `chart_ids`).
pub fn run_many<'a>(charts: &[&'a ChartState], req: &Request) -> Result<Rrdr<'a>, QueryError> {
    if let [one] = charts {
        return run(one, req);
    }
    let stored = || charts.iter().filter(|c| c.last_entry_t() > 0);
    let first = stored().map(|c| c.first_entry_t()).min().unwrap_or(0);
    let last = stored().map(|c| c.last_entry_t()).max().unwrap_or(0);
    let ue = charts
        .iter()
        .map(|c| c.update_every().max(1))
        .min()
        .unwrap_or(1);
    let w = calculate_window(req, first, last, ue).ok_or(QueryError::NoMetrics)?;
    let parts: Vec<Rrdr<'a>> = charts
        .iter()
        .filter_map(|st| fill_chart(st, req, &w, true).ok())
        .collect();
    let mut r = merge(parts).ok_or(QueryError::NoMetrics)?;
    r.first_entry = first;
    r.last_entry = last;
    r.update_every = ue;
    nonzero_fallback(&mut r, req);
    Ok(r)
}

/// The results of several charts over the same window, their columns side by side.
fn merge(parts: Vec<Rrdr<'_>>) -> Option<Rrdr<'_>> {
    let mut it = parts.into_iter();
    let mut r = it.next()?;
    for p in it {
        let (na, nb) = (r.dims.len(), p.dims.len());
        let rows = r.t.len().max(p.t.len());
        let nd = na + nb;
        let cell = |v: &[f64], row: usize, c: usize, n: usize| v.get(row * n + c).copied();
        let mut v = Vec::with_capacity(rows * nd);
        let mut o = Vec::with_capacity(rows * nd);
        let raw_both = !r.raw.is_empty() && !p.raw.is_empty();
        let mut raw = Vec::with_capacity(if raw_both { rows * nd } else { 0 });
        for row in 0..rows {
            for c in 0..na {
                v.push(cell(&r.v, row, c, na).unwrap_or(0.0));
                o.push(r.o.get(row * na + c).copied().unwrap_or(VALUE_EMPTY));
                if raw_both {
                    raw.push(r.raw[row * na + c]);
                }
            }
            for c in 0..nb {
                v.push(cell(&p.v, row, c, nb).unwrap_or(0.0));
                o.push(p.o.get(row * nb + c).copied().unwrap_or(VALUE_EMPTY));
                if raw_both {
                    raw.push(p.raw[row * nb + c]);
                }
            }
        }
        if p.t.len() > r.t.len() {
            r.t = p.t;
        }
        r.v = v;
        r.o = o;
        r.raw = raw;
        r.dims.extend(p.dims);
        r.od.extend(p.od);
        r.rows = r.rows.max(p.rows);
        r.min = r.min.min(p.min);
        r.max = r.max.max(p.max);
        r.db_points_read += p.db_points_read;
    }
    Some(r)
}

/// `nonzero` with every dimension zero shows them all, as netdata does.
fn nonzero_fallback(r: &mut Rrdr<'_>, req: &Request) {
    let any_nonzero = r.od.iter().any(|f| f & DIM_NONZERO != 0);
    if req.options & opt::NONZERO != 0 && !any_nonzero {
        for f in &mut r.od {
            if *f & DIM_HIDDEN == 0 {
                *f |= DIM_NONZERO;
            }
        }
    }
}

/// Queries the dimensions of one chart in window `w`.
fn fill_chart<'a>(
    st: &'a ChartState,
    req: &Request,
    w: &Window,
    allow_natural: bool,
) -> Result<Rrdr<'a>, QueryError> {
    let (dims, od) = select_dims(st, req);
    if dims.is_empty() {
        return Err(QueryError::NoMetrics);
    }
    let ue = st.update_every().max(1);
    let (first, last) = (st.first_entry_t(), st.last_entry_t());
    let nd = dims.len();
    let points = w.points.max(0) as usize;
    let mut r = Rrdr {
        dims,
        od,
        t: vec![0; points],
        v: vec![0.0; points * nd],
        o: vec![0; points * nd],
        rows: 0,
        min: 0.0,
        max: 0.0,
        before: w.before,
        after: w.after,
        view_update_every: w.group * w.granularity,
        options: w.options,
        relative: w.relative,
        raw: Vec::new(),
        db_points_read: 0,
        update_every: ue,
        first_entry: first,
        last_entry: last,
    };
    if points == 0 {
        return Ok(r);
    }
    let (min, max) = if allow_natural && natural::applies(w, ue, req.group) {
        natural::fill(&mut r, st, w, first, last, req.group)
    } else {
        fill_grouped(&mut r, st, req, w, first, last)
    };
    r.min = min;
    r.max = max;
    Ok(r)
}

/// The general reader and grouping loop of `rrd2rrdr()` (every method, group size, gap and
/// interpolation case): fills the rows of `r` and returns the min and max of the values.
fn fill_grouped(
    r: &mut Rrdr<'_>,
    st: &ChartState,
    req: &Request,
    w: &Window,
    first: i64,
    last: i64,
) -> (f64, f64) {
    let nd = r.dims.len();
    let points = w.points.max(0) as usize;
    let ue = st.update_every().max(1);
    let mut grouper = Grouper::new(req.group, req.group_options.as_deref(), w);
    let (mut min, mut max) = (0.0f64, 0.0f64);
    let view = r.view_update_every;
    let g = w.granularity;
    for c in 0..nd {
        grouper.reset();
        r.od[c] |= DIM_SELECTED;
        let dim = r.dims[c].index;
        // query plan: one tier, clipped to the database
        let plan_after = first.max(w.after);
        let plan_before = last.min(w.before);
        let mut reader = SlotReader::new(st.cursor(dim), first, last, plan_after, plan_before);
        let (mut last2, mut last1, mut new) = (EMPTY_POINT, EMPTY_POINT, EMPTY_POINT);
        let mut now_start = w.after - g;
        let mut now_end = w.after + view - g;
        let mut added = 0usize;
        let mut line = 0usize;
        let (mut group_nonzero, mut group_flags) = (0usize, 0u8);
        let (mut min_date, mut max_date) = (0i64, 0i64);
        let add_to_group = |p: &Point, grouper: &mut Grouper, nz: &mut usize, fl: &mut u8| {
            if p.value.is_finite() {
                if p.value != 0.0 {
                    *nz += 1;
                }
                if p.reset {
                    *fl |= VALUE_RESET;
                }
                grouper.add(p.value);
            }
        };
        while added < points {
            let mut same_end = 0;
            while same_end < 100 {
                if same_end == 0 {
                    last2 = last1;
                    last1 = new;
                }
                if reader.finished() {
                    if same_end != 0 {
                        last2 = last1;
                        last1 = new;
                    }
                    new = EMPTY_POINT;
                    new.start = last1.end;
                    new.end = now_end;
                    break;
                }
                new = reader.next();
                r.db_points_read += 1;
                if new.start == new.end {
                    new.start = new.end - ue;
                }
                if new.end <= last1.end {
                    same_end += 1;
                    continue;
                }
                same_end = 0;
                if new.end < now_end {
                    if new.end >= now_start {
                        add_to_group(&new, &mut grouper, &mut group_nonzero, &mut group_flags);
                    }
                } else {
                    break;
                }
            }
            if same_end != 0 && new.end <= last1.end {
                new.end = now_end;
            }
            let mut iterations = 0;
            while now_end <= new.end && added < points {
                let current = if now_end > new.start {
                    let mut p = new;
                    interpolate(&mut p, &last1, now_end);
                    p
                } else if now_end <= last1.end {
                    let mut p = last1;
                    interpolate(&mut p, &last2, now_end);
                    p
                } else {
                    EMPTY_POINT
                };
                add_to_group(&current, &mut grouper, &mut group_nonzero, &mut group_flags);
                r.t[line] = now_end;
                if min_date == 0 {
                    min_date = now_end;
                }
                max_date = now_end;
                if group_nonzero > 0 {
                    r.od[c] |= DIM_NONZERO;
                }
                let idx = line * nd + c;
                let (value, mut flags) = match grouper.flush() {
                    Some(v) => (v, group_flags),
                    None => (0.0, group_flags | VALUE_EMPTY),
                };
                if !value.is_finite() {
                    flags |= VALUE_EMPTY;
                }
                r.o[idx] = flags;
                r.v[idx] = value;
                if added > 0 || c > 0 {
                    min = min.min(value);
                    max = max.max(value);
                } else {
                    min = value;
                    max = value;
                }
                added += 1;
                line += 1;
                group_nonzero = 0;
                group_flags = 0;
                iterations += 1;
                now_end += view;
            }
            if iterations > 0 {
                now_end -= view;
            }
            now_start = now_end;
            now_end += view;
        }
        r.rows = r.rows.max(line);
        r.before = max_date;
        r.after = min_date - view + g;
    }
    (min, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(after: i64, before: i64, points: i64) -> Request {
        Request {
            after,
            before,
            points,
            group: Group::Average,
            group_options: None,
            gtime: 0,
            options: 0,
            dimensions: None,
            now: 1_795_569_306,
        }
    }

    #[test]
    fn windows_of_the_fixtures() {
        let (first, last) = (1_795_569_142, 1_795_569_304);
        // after=-60&points=10: view_update_every 6, before aligned down to the db end
        let w = calculate_window(&req(-60, 0, 10), first, last, 1).unwrap();
        assert_eq!((w.group, w.points, w.before), (6, 10, 1_795_569_300));
        assert_eq!(w.after + w.group - 1, 1_795_569_246);
        // after=-60&points=7 -> group 9
        let w = calculate_window(&req(-60, 0, 7), first, last, 1).unwrap();
        assert_eq!((w.group, w.points), (9, 7));
        // absolute, points=3 -> virtual points, before rounded up
        let mut r = req(1_795_569_244, 1_795_569_274, 3);
        let w = calculate_window(&r, first, last, 1).unwrap();
        assert_eq!((w.group, w.points, w.before), (10, 3, 1_795_569_280));
        assert_ne!(w.options & opt::VIRTUAL_POINTS, 0);
        r.options = opt::NOT_ALIGNED;
        let w = calculate_window(&r, first, last, 1).unwrap();
        assert_eq!(w.before, 1_795_569_274);
        // after=-10&points=100 -> 10 rows of 1 s
        let w = calculate_window(&req(-10, 0, 100), first, last, 1).unwrap();
        assert_eq!((w.group, w.points), (1, 10));
        // gtime=60 over 300 s in 5 points
        let mut r = req(-300, 0, 5);
        r.gtime = 60;
        let w = calculate_window(&r, first, last, 1).unwrap();
        assert_eq!(w.group * w.granularity, 60);
    }

    #[test]
    fn options_echo_in_netdata_order() {
        let mut s = String::new();
        opt::write(
            &mut s,
            opt::parse("ms|flip|jsonwrap|nonzero") | opt::NATURAL_POINTS,
        );
        assert_eq!(s, "nonzero,flip,jsonwrap,ms,natural-points");
        s.clear();
        opt::write(&mut s, opt::parse("absolute|percentage|jsonwrap|nonzero"));
        assert_eq!(s, "nonzero,jsonwrap,abs,percentage");
    }

    #[test]
    fn group_names() {
        assert_eq!(Group::parse("bogus").name(), "average");
        assert_eq!(Group::parse("incremental-sum").name(), "incremental_sum");
        assert_eq!(Group::parse("trimmed-mean").name(), "trimmed-mean5");
        assert_eq!(Group::parse("ema").name(), "ses");
        assert_eq!(Group::parse("rsd").name(), "cv");
    }

    #[test]
    fn countif_options() {
        let (f, t) = parse_countif(Some(">=5"));
        assert!(f(5.0, t) && !f(4.0, t));
        let (f, t) = parse_countif(Some("<>2"));
        assert!(f(1.0, t) && !f(2.0, t));
        let (f, t) = parse_countif(None);
        assert!(f(0.0, t));
    }
}
