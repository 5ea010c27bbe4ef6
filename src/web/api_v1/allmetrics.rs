//! `/api/v1/allmetrics` (web-api.md §10, fixtures `allmetrics-*`): every chart's latest values
//! as shell variables, JSON, or Prometheus text (one host, or every host with
//! `prometheus_all_hosts`).
//!
//! Prometheus scrapes are stateful as in netdata: the agent remembers, per `server` (the
//! scraper's name; default `default`) and host, when it was last scraped, and `data=average`
//! (the default) / `data=sum` report the average / sum of the stored points since then (the
//! first scrape: the last 10 seconds, netdata's exporting `update every`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tributary_config::SimplePattern;
use tributary_rrd::{Algorithm, ChartState, Host, MemoryMode};

use crate::daemon::AgentState;
use crate::web::json::{string, w};
use crate::web::router::Reply;

/// netdata's exporting `update every` default: the window of a scraper's first scrape.
const FIRST_SCRAPE_WINDOW: i64 = 10;
/// Names are cut to this many bytes, as netdata's buffers do.
const ELEMENT_MAX: usize = 100;

static USED_PROMETHEUS: AtomicU64 = AtomicU64::new(0);
static USED_SHELL: AtomicU64 = AtomicU64::new(0);
static USED_JSON: AtomicU64 = AtomicU64::new(0);

/// How often each format was asked for: `(prometheus, shell, json)` (for `/api/v1/info`).
pub fn usage() -> (u64, u64, u64) {
    (
        USED_PROMETHEUS.load(Ordering::Relaxed),
        USED_SHELL.load(Ordering::Relaxed),
        USED_JSON.load(Ordering::Relaxed),
    )
}

/// When each `(server, host GUID)` was last scraped (seconds).
fn last_access() -> &'static Mutex<HashMap<(String, String), i64>> {
    static MAP: std::sync::OnceLock<Mutex<HashMap<(String, String), i64>>> =
        std::sync::OnceLock::new();
    MAP.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Records a scrape by `server` of `host` at `now`; returns the previous one (0: first).
fn server_last_access(server: &str, host: &Host, now: i64) -> i64 {
    let mut m = last_access().lock().unwrap_or_else(|p| p.into_inner());
    // Bounded: a scraper that invents a new name every time cannot grow this without limit.
    if m.len() > 10_000 {
        m.clear();
    }
    m.insert((server.to_string(), host.machine_guid().to_string()), now)
        .unwrap_or(0)
}

/// What `data=` (or `source=`) asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    AsCollected,
    Average,
    Sum,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::AsCollected => "as-collected",
            Source::Average => "average",
            Source::Sum => "sum",
        }
    }
}

/// The Prometheus options of one request.
#[derive(Debug, Clone)]
struct PromOptions {
    help: bool,
    types: bool,
    names: bool,
    timestamps: bool,
    oldunits: bool,
    hideunits: bool,
    server: String,
    prefix: String,
    source: Source,
}

fn yes(v: &str) -> bool {
    matches!(v, "yes" | "1" | "true")
}

/// `/api/v1/allmetrics`.
pub fn allmetrics(
    state: &AgentState,
    host: &Host,
    params: &[(String, String)],
    client: Option<&str>,
) -> Reply {
    let mut format = "shell";
    let mut filter: Option<SimplePattern> = None;
    let mut o = PromOptions {
        help: false,
        types: false,
        names: true,
        timestamps: true,
        oldunits: false,
        hideunits: false,
        server: client.unwrap_or("").to_string(),
        prefix: "netdata".into(),
        source: Source::Average,
    };
    for (k, v) in params {
        if v.is_empty() {
            continue;
        }
        match k.as_str() {
            "format" => format = v.as_str(),
            "filter" => filter = Some(SimplePattern::new(v)),
            "help" => o.help = yes(v),
            "types" => o.types = yes(v),
            "names" => o.names = yes(v),
            "timestamps" => o.timestamps = yes(v),
            // Host and chart variables come from health, which this build does not have
            // yet: with `variables=yes` there are none to print.
            "variables" => {}
            "oldunits" => o.oldunits = yes(v),
            "hideunits" => o.hideunits = yes(v),
            "server" => o.server = v.clone(),
            "prefix" => o.prefix = v.clone(),
            "data" | "source" => {
                o.source = match v.as_str() {
                    "as-collected" | "as collected" | "raw" => Source::AsCollected,
                    "average" => Source::Average,
                    "sum" | "volume" => Source::Sum,
                    _ => o.source,
                }
            }
            _ => {}
        }
    }
    if o.server.is_empty() {
        o.server = "default".into();
    }
    let filter = filter.as_ref();
    match format {
        "shell" => {
            USED_SHELL.fetch_add(1, Ordering::Relaxed);
            Reply::text(shell(host, filter))
        }
        "json" => {
            USED_JSON.fetch_add(1, Ordering::Relaxed);
            Reply::json(json(host, filter))
        }
        "prometheus" => {
            USED_PROMETHEUS.fetch_add(1, Ordering::Relaxed);
            prometheus_reply(prometheus(host, filter, &o, false))
        }
        "prometheus_all_hosts" => {
            USED_PROMETHEUS.fetch_add(1, Ordering::Relaxed);
            let mut out = String::new();
            for h in state.hosts.all() {
                out.push_str(&prometheus(&h, filter, &o, true));
            }
            prometheus_reply(out)
        }
        _ => Reply::error(
            400,
            "Which format? 'shell', 'prometheus', 'prometheus_all_hosts' and 'json' are currently supported.",
        ),
    }
}

fn prometheus_reply(body: String) -> Reply {
    let mut r = Reply::text(body);
    r.content_type = "text/plain; version=0.0.4";
    r
}

/// Whether the chart's values can be shown: not obsolete, and stored somewhere.
fn available(host: &Host, st: &ChartState) -> bool {
    !st.def.obsolete && host.memory_mode() != MemoryMode::None
}

/// The last stored value of a dimension (NaN when empty or none).
fn last_stored(st: &ChartState, dim: usize) -> f64 {
    let last = st.last_entry_t();
    if last == 0 {
        return f64::NAN;
    }
    st.value_at(dim, last).unwrap_or(f64::NAN)
}

/// Uppercase, every non-alphanumeric byte `_` (netdata's shell names).
fn shell_name(s: &str) -> String {
    s.bytes()
        .take(ELEMENT_MAX)
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                b.to_ascii_uppercase() as char
            } else {
                '_'
            }
        })
        .collect()
}

/// Every non-alphanumeric byte `_` (netdata's Prometheus names).
fn prom_name(s: &str) -> String {
    s.bytes()
        .take(ELEMENT_MAX)
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                b as char
            } else {
                '_'
            }
        })
        .collect()
}

/// A label value with `"`, `\` and newlines escaped.
fn prom_label(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

/// The units part of an average/sum metric name: `%` → `_percent`, a trailing `/s` →
/// `_persec`, everything else non-alphanumeric → `_` (with `oldunits`: only the last rule).
fn prom_units(units: &str, oldunits: bool) -> String {
    if !oldunits {
        if units == "%" {
            return "_percent".into();
        }
        if let Some(stem) = units.strip_suffix("/s") {
            return format!("_{}_persec", prom_name(stem));
        }
    }
    format!("_{}", prom_name(units))
}

fn shell(host: &Host, filter: Option<&SimplePattern>) -> String {
    let mut o = String::new();
    for c in host.charts() {
        let st = c.lock();
        if filter.is_some_and(|f| !f.matches(&st.def.name)) {
            continue;
        }
        w!(o, "\n# chart: {} (name: {})\n", st.def.id, st.def.name);
        if !available(host, &st) {
            continue;
        }
        let chart = shell_name(&st.def.name);
        let units = &st.def.units;
        let mut total = 0.0;
        for (i, d) in st.dims().iter().enumerate() {
            if d.last_collected_us == 0 || d.def.obsolete {
                continue;
            }
            let dim = shell_name(&d.def.name);
            let mut n = last_stored(&st, i);
            if !n.is_finite() {
                w!(o, "NETDATA_{chart}_{dim}=\"\"      # {units}\n");
                continue;
            }
            if d.def.multiplier < 0 || d.def.divisor < 0 {
                n = -n;
            }
            n = n.round();
            if !d.def.hidden {
                total += n;
            }
            w!(o, "NETDATA_{chart}_{dim}=\"{n:.0}\"      # {units}\n");
        }
        let total = f64::round(total);
        w!(
            o,
            "NETDATA_{chart}_VISIBLETOTAL=\"{total:.0}\"      # {units}\n"
        );
    }
    // No health engine yet: no alarm is running.
    o.push_str("\n# NETDATA ALARMS RUNNING\n");
    o
}

fn json(host: &Host, filter: Option<&SimplePattern>) -> String {
    let mut o = String::from("{");
    let mut first = true;
    for c in host.charts() {
        let st = c.lock();
        if filter.is_some_and(|f| !f.matches(&st.def.id) && !f.matches(&st.def.name)) {
            continue;
        }
        if !available(host, &st) {
            continue;
        }
        o.push_str(if first { "\n\t" } else { ",\n\t" });
        first = false;
        string(&mut o, &st.def.id);
        o.push_str(": {\n\t\t\"name\":");
        string(&mut o, &st.def.name);
        o.push_str(",\n\t\t\"family\":");
        string(&mut o, &st.def.family);
        o.push_str(",\n\t\t\"context\":");
        string(&mut o, &st.def.context);
        o.push_str(",\n\t\t\"units\":");
        string(&mut o, &st.def.units);
        w!(
            o,
            ",\n\t\t\"last_updated\": {},\n\t\t\"dimensions\": {{",
            st.last_done_us / 1_000_000
        );
        let mut first_dim = true;
        for (i, d) in st.dims().iter().enumerate() {
            if d.last_collected_us == 0 || d.def.obsolete {
                continue;
            }
            o.push_str(if first_dim { "\n\t\t\t" } else { ",\n\t\t\t" });
            first_dim = false;
            string(&mut o, &d.def.id);
            o.push_str(": {\n\t\t\t\t\"name\": ");
            string(&mut o, &d.def.name);
            o.push_str(",\n\t\t\t\t\"value\": ");
            let v = last_stored(&st, i);
            if v.is_finite() {
                w!(o, "{v:.7}");
            } else {
                o.push_str("null");
            }
            o.push_str("\n\t\t\t}");
        }
        o.push_str("\n\t\t}\n\t}");
    }
    o.push_str("\n}");
    o
}

/// The average (or sum) of a dimension's stored points in `[after, before]` after netdata's
/// exporting adjustments, and the time of the last point used.
fn window_value(
    st: &ChartState,
    dim: usize,
    after: i64,
    before: i64,
    sum: bool,
) -> Option<(f64, i64)> {
    let ue = st.update_every().max(1);
    let first_t = st.first_entry_t();
    let last_t = st.last_entry_t();
    if last_t == 0 {
        return None;
    }
    // Step back two collections (complete data for every metric), align, and leave the newest
    // point for the next scrape.
    let mut a = after - ue * 2;
    let mut b = before - ue * 2;
    a -= a.rem_euclid(ue);
    b -= b.rem_euclid(ue);
    b -= ue;
    if a > b {
        a = b;
    }
    a = a.max(first_t);
    b = b.min(last_t);
    if b < first_t || a > last_t {
        return None;
    }
    let (mut total, mut n) = (0.0, 0u32);
    let mut t = a;
    let mut cursor = st.cursor(dim);
    while t <= b {
        if let Some(v) = cursor.value_at(t).filter(|v| v.is_finite()) {
            total += v;
            n += 1;
        }
        t += ue;
    }
    if n == 0 {
        return None;
    }
    Some((if sum { total } else { total / f64::from(n) }, b))
}

fn prometheus(
    host: &Host,
    filter: Option<&SimplePattern>,
    o: &PromOptions,
    all_hosts: bool,
) -> String {
    let now_us = crate::daemon::now_us();
    let now = now_us / 1_000_000;
    let mut after = server_last_access(&o.server, host, now);
    let first_seen = after == 0;
    if first_seen || after > now {
        after = now - FIRST_SCRAPE_WINDOW;
    }
    let mut out = String::new();
    let hostname = prom_label(host.hostname());
    if o.help {
        w!(
            out,
            "# COMMENT netdata \"{hostname}\" to {}prometheus \"{}\", source \"{}\", last seen {} seconds ago, time range {after} to {now}\n\n",
            if first_seen { "first seen " } else { "" },
            prom_label(&o.server),
            o.source.as_str(),
            if first_seen { 0 } else { now - after },
        );
    }
    w!(
        out,
        "{}_info{{instance=\"{hostname}\",application=\"netdata\",version=\"{}\",_is_ephemeral=\"false\",_has_unstable_connection=\"false\"}} 1",
        o.prefix,
        super::netdata_version()
    );
    if o.timestamps {
        w!(out, " {}", now_us / 1000);
    }
    out.push('\n');
    let instance = if all_hosts {
        format!(",instance=\"{hostname}\"")
    } else {
        String::new()
    };
    for c in host.charts() {
        let st = c.lock();
        if filter.is_some_and(|f| !f.matches(&st.def.name)) || !available(host, &st) {
            continue;
        }
        prometheus_chart(&mut out, &st, o, after, now, &instance);
    }
    out
}

fn prometheus_chart(
    out: &mut String,
    st: &ChartState,
    o: &PromOptions,
    after: i64,
    now: i64,
    instance: &str,
) {
    let def = &st.def;
    let chart = prom_label(if o.names { &def.name } else { &def.id });
    let family = prom_label(&def.family);
    let context = prom_name(&def.context);
    let dims: Vec<usize> = (0..st.dims().len())
        .filter(|&i| {
            let d = &st.dims()[i];
            d.last_collected_us != 0 && !d.def.obsolete
        })
        .collect();
    let dim_label = |i: usize| {
        let d = &st.dims()[i].def;
        prom_label(if o.names { &d.name } else { &d.id })
    };
    if o.source == Source::AsCollected {
        let first = dims.first().map(|&i| &st.dims()[i].def);
        let homogeneous = dims.iter().all(|&i| {
            let d = &st.dims()[i].def;
            first.is_some_and(|f| {
                f.algorithm == d.algorithm && f.multiplier == d.multiplier && f.divisor == d.divisor
            })
        });
        if o.help {
            w!(
                out,
                "\n# COMMENT {} chart \"{chart}\", context \"{}\", family \"{family}\", units \"{}\"\n",
                if homogeneous {
                    "homogeneous"
                } else {
                    "heterogeneous"
                },
                prom_label(&def.context),
                prom_label(&def.units)
            );
        }
        for &i in &dims {
            let d = &st.dims()[i];
            if d.last_collected_us / 1_000_000 < after {
                continue;
            }
            let counter = matches!(
                d.def.algorithm,
                Algorithm::Incremental | Algorithm::PercentageOfIncrementalRow
            );
            let kind = if counter { "counter" } else { "gauge" };
            let name = if homogeneous {
                format!(
                    "{}_{context}{}",
                    o.prefix,
                    if counter { "_total" } else { "" }
                )
            } else {
                format!(
                    "{}_{context}_{}{}",
                    o.prefix,
                    prom_name(if o.names { &d.def.name } else { &d.def.id }),
                    if counter { "_total" } else { "" }
                )
            };
            if o.help {
                w!(
                    out,
                    "# COMMENT {name}: chart \"{chart}\", context \"{}\", family \"{family}\", dimension \"{}\", value * {} / {} {}\n",
                    prom_label(&def.context),
                    dim_label(i),
                    d.def.multiplier,
                    d.def.divisor,
                    prom_label(&def.units)
                );
            }
            if o.types {
                w!(out, "# TYPE {name} {kind}\n");
            }
            if homogeneous {
                w!(
                    out,
                    "{name}{{chart=\"{chart}\",family=\"{family}\",dimension=\"{}\"{instance}}} {}",
                    dim_label(i),
                    d.last_collected
                );
            } else {
                w!(
                    out,
                    "{name}{{chart=\"{chart}\",family=\"{family}\"{instance}}} {}",
                    d.last_collected
                );
            }
            if o.timestamps {
                w!(out, " {}", d.last_collected_us / 1000);
            }
            out.push('\n');
        }
        return;
    }
    let units = if o.hideunits || o.source == Source::Sum {
        String::new()
    } else {
        prom_units(&def.units, o.oldunits)
    };
    let suffix = if o.source == Source::Sum {
        "_sum"
    } else {
        "_average"
    };
    let name = format!("{}_{context}{units}{suffix}", o.prefix);
    if o.help {
        w!(
            out,
            "\n# COMMENT homogeneous chart \"{chart}\", context \"{}\", family \"{family}\", units \"{}\"\n",
            prom_label(&def.context),
            prom_label(&def.units)
        );
    }
    for &i in &dims {
        let Some((value, last_t)) = window_value(st, i, after, now, o.source == Source::Sum) else {
            continue;
        };
        if o.help {
            w!(
                out,
                "# COMMENT {name}: dimension \"{}\", value is {}, gauge, dt {after} to {last_t} inclusive\n",
                dim_label(i),
                prom_label(&def.units)
            );
        }
        if o.types {
            w!(out, "# TYPE {name} gauge\n");
        }
        w!(
            out,
            "{name}{{chart=\"{chart}\",family=\"{family}\",dimension=\"{}\"{instance}}} {value:.7}",
            dim_label(i)
        );
        if o.timestamps {
            w!(out, " {}", last_t * 1000);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized_as_netdata_does() {
        assert_eq!(
            shell_name("netdata.queries/api v1"),
            "NETDATA_QUERIES_API_V1"
        );
        assert_eq!(prom_name("disk_space./dev"), "disk_space__dev");
        assert_eq!(prom_units("%", false), "_percent");
        assert_eq!(
            prom_units("microseconds lost/s", false),
            "_microseconds_lost_persec"
        );
        assert_eq!(
            prom_units("milliseconds/request", false),
            "_milliseconds_request"
        );
        assert_eq!(prom_units("% of time working", false), "___of_time_working");
        assert_eq!(prom_units("KiB/s", true), "_KiB_s");
        assert_eq!(prom_units("%", true), "__");
        assert_eq!(prom_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn scrapes_are_remembered_per_server_and_host() {
        let host = Host::new(tributary_rrd::HostConfig {
            hostname: "h".into(),
            machine_guid: "00000000-0000-0000-0000-0000000000aa".into(),
            memory_mode: MemoryMode::Ram,
            history: 60,
            cache_dir: None,
            os: "linux".into(),
            timezone: "UTC".into(),
        });
        assert_eq!(server_last_access("s1", &host, 100), 0);
        assert_eq!(server_last_access("s1", &host, 105), 100);
        assert_eq!(server_last_access("s2", &host, 106), 0);
        assert_eq!(server_last_access("s1", &host, 110), 105);
    }
}
