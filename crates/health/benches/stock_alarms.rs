//! Evaluating every stock alarm of Debian's netdata 1.37.1 on a parent with many hosts.
//!
//! `cargo bench -p tributary-health --bench stock_alarms` (hosts: `TRIBUTARY_BENCH_HOSTS`,
//! default 100).
//!
//! Each host gets one chart per distinct `on:` of the stock health.d (198 charts: the chart id,
//! name and context are the `on` text, so every alarm and template binds), with the dimensions
//! the entities name in `of` and in their expressions plus one more, `value`; 1200 seconds of
//! varied values are stored first (history 1200: the common `-10m` lookups see full windows).
//!
//! * `full_pass`: every alarm of every host is due (the clock jumps an hour per iteration):
//!   lookups, `calc`, `warn`, `crit`, transitions, log — the worst second a parent can have.
//! * `steady_second`: the clock advances one second per iteration, so each alarm runs at its own
//!   `every` (10 s … 5 min in the stock files); the time per iteration is the share of one core
//!   the health engine needs for that many hosts.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tributary_health::expression::Node;
use tributary_health::host_health::{HealthSettings, HostHealth};
use tributary_health::loader::HealthConfig;
use tributary_rrd::{ChartDef, DimDef, Host, HostConfig, MemoryMode};

const STOCK: &str = "/usr/lib/netdata/conf.d/health.d";
const HISTORY: i64 = 1200;
const START: i64 = 1_800_000_000;

fn variables(n: &Node, out: &mut BTreeSet<String>) {
    match n {
        Node::Variable(v) => {
            out.insert(v.clone());
        }
        Node::Number(_) => {}
        Node::Unary(_, a) | Node::Paren(a) => variables(a, out),
        Node::Binary(_, a, b) => {
            variables(a, out);
            variables(b, out);
        }
        Node::Conditional(c, t, f) => {
            variables(c, out);
            variables(t, out);
            variables(f, out);
        }
    }
}

/// `on` → dimension names the stock entities use on it.
fn stock_charts(cfg: &HealthConfig) -> BTreeMap<String, BTreeSet<String>> {
    let special = [
        "this",
        "status",
        "now",
        "after",
        "before",
        "update_every",
        "last_collected_t",
        "green",
        "red",
        "REMOVED",
        "UNDEFINED",
        "UNINITIALIZED",
        "CLEAR",
        "WARNING",
        "CRITICAL",
    ];
    let mut charts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in &cfg.defs {
        let dims = charts.entry(d.on.clone()).or_default();
        dims.insert("value".into());
        if let Some(of) = d.lookup.as_ref().and_then(|l| l.dimensions.as_ref()) {
            for w in of.split([',', '|']) {
                let w = w.trim().trim_start_matches('!');
                if !w.is_empty() && !w.contains('*') {
                    dims.insert(w.to_string());
                }
            }
        }
        let mut vars = BTreeSet::new();
        for e in [&d.calc, &d.warn, &d.crit].into_iter().flatten() {
            variables(e.tree(), &mut vars);
        }
        for v in vars {
            if !special.contains(&v.as_str()) && !v.contains('.') && !v.ends_with("_raw") {
                dims.insert(v);
            }
        }
    }
    // names of other alarms are variables too, not dimensions
    let names: BTreeSet<&str> = cfg.defs.iter().map(|d| d.name.as_str()).collect();
    for dims in charts.values_mut() {
        dims.retain(|d| !names.contains(d.as_str()));
    }
    charts
}

fn build(hosts: usize) -> (Vec<HostHealth>, HealthSettings) {
    assert!(
        Path::new(STOCK).is_dir(),
        "{STOCK} is missing: install netdata 1.37.1 (apt-get install netdata-core)"
    );
    let empty = std::env::temp_dir().join(format!("trib-bench-health-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("temp dir");
    let cfg = HealthConfig::load(&empty, Some(Path::new(STOCK)));
    let _removed = std::fs::remove_dir_all(&empty);
    let charts = stock_charts(&cfg);
    let settings = HealthSettings::default();
    let mut out = Vec::new();
    for h in 0..hosts {
        let host = Arc::new(Host::new(HostConfig {
            hostname: format!("child{h}"),
            machine_guid: format!("00000000-0000-0000-0000-{h:012}"),
            memory_mode: MemoryMode::Ram,
            history: HISTORY,
            cache_dir: None,
            os: "linux".into(),
            timezone: "UTC".into(),
        }));
        let mut handles = Vec::new();
        for (c, (on, dims)) in charts.iter().enumerate() {
            let chart = host.chart(
                ChartDef {
                    id: on.clone(),
                    name: on.clone(),
                    context: on.clone(),
                    family: format!("fam{}", c % 20),
                    units: "units".into(),
                    update_every: 1,
                    ..Default::default()
                },
                START,
            );
            {
                let mut st = chart.lock();
                for d in dims {
                    st.dimension(DimDef::new(d)).expect("ram dimension");
                }
            }
            handles.push((chart, dims.len()));
        }
        for t in 0..HISTORY {
            let now_us = (START + t) * 1_000_000;
            for (c, (chart, n)) in handles.iter().enumerate() {
                let mut st = chart.lock();
                st.begin(now_us, if t == 0 { 0 } else { 1_000_000 });
                for d in 0..*n {
                    let v = (t * 7 + (c * 13 + d * 31) as i64) % 100;
                    st.set(d, v, now_us);
                }
                st.done(now_us);
            }
        }
        let mut hh = HostHealth::new(host, &cfg, &settings, true, START);
        hh.link(&settings, START + HISTORY);
        out.push(hh);
    }
    (out, settings)
}

fn bench(c: &mut Criterion) {
    let hosts: usize = std::env::var("TRIBUTARY_BENCH_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let (mut all, settings) = build(hosts);
    let alarms: usize = all.iter().map(|h| h.alarms.len()).sum();
    eprintln!(
        "{hosts} hosts, {alarms} alarms ({} per host), {} charts per host",
        alarms / hosts.max(1),
        all[0].host.charts().len()
    );
    let mut g = c.benchmark_group("stock_alarms");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(alarms as u64));
    let mut now = START + HISTORY;
    g.bench_function(format!("full_pass/{hosts}_hosts"), |b| {
        b.iter(|| {
            now += 3600;
            for h in all.iter_mut() {
                black_box(h.run_once(&settings, now));
            }
        });
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function(format!("steady_second/{hosts}_hosts"), |b| {
        b.iter(|| {
            now += 1;
            for h in all.iter_mut() {
                black_box(h.run_once(&settings, now));
            }
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
