//! The compatibility proof: runs the real netdata 1.37 (Debian `netdata-core`) with only the
//! proc, diskspace and idlejitter plugins, reads its /api/v1/charts, runs tributary's
//! collectors on the same machine and compares chart ids, dimension ids, units and contexts.

#[path = "../../../tests/support/peers.rs"]
mod peers;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use tributary_collectors::idlejitter::IdleJitter;
use tributary_collectors::{all_collectors, collect_all_once, now_us};
use tributary_rrd::{Host, HostConfig, MemoryMode};

/// chart id -> (units, context, visible dimension ids)
type Charts = BTreeMap<String, (String, String, BTreeSet<String>)>;

fn netdata_charts(body: &str) -> Charts {
    let v: serde_json::Value = serde_json::from_str(body).expect("netdata /api/v1/charts is JSON");
    let mut out = Charts::new();
    if let Some(charts) = v["charts"].as_object() {
        for (id, c) in charts {
            let dims = c["dimensions"]
                .as_object()
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default();
            out.insert(
                id.clone(),
                (
                    c["units"].as_str().unwrap_or("").to_string(),
                    c["context"].as_str().unwrap_or("").to_string(),
                    dims,
                ),
            );
        }
    }
    out
}

fn our_charts(host: &Host) -> Charts {
    let mut out = Charts::new();
    for c in host.charts() {
        let st = c.lock();
        if st.def.obsolete {
            continue;
        }
        let dims = st
            .dims()
            .iter()
            .filter(|d| !d.def.hidden)
            .map(|d| d.def.id.clone())
            .collect();
        out.insert(
            c.id().to_string(),
            (st.def.units.clone(), st.def.context.clone(), dims),
        );
    }
    out
}

#[test]
fn charts_match_real_netdata() {
    let started = Instant::now();
    let netdata = peers::Netdata::start(
        "tributary-compat",
        "ram",
        &["proc", "diskspace", "idlejitter"],
        "",
    );
    let port = netdata.port;

    // our side, in parallel with netdata's start-up
    let host = Arc::new(Host::new(HostConfig {
        hostname: "tributary-compat".into(),
        machine_guid: "00000000-0000-0000-0000-000000000000".into(),
        memory_mode: MemoryMode::Ram,
        history: 60,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let jitter = IdleJitter::new(1, 0)
        .spawn(Arc::clone(&host), Arc::clone(&stop))
        .expect("spawn idlejitter");
    let mut collectors = all_collectors(Path::new(""), 1);
    for i in 0..3 {
        if i > 0 {
            std::thread::sleep(Duration::from_secs(1));
        }
        collect_all_once(&mut collectors, &host, now_us());
    }

    // netdata: wait until the proc charts are there and stable
    let mut theirs = Charts::new();
    let mut last_len = 0;
    while started.elapsed() < Duration::from_secs(20) {
        if let Ok((200, body)) = peers::http_get(port, "/api/v1/charts") {
            theirs = netdata_charts(&body);
            let ready = theirs.contains_key("system.cpu")
                && theirs.contains_key("system.idlejitter")
                && theirs.keys().any(|k| k.starts_with("disk_space."));
            if ready && theirs.len() == last_len && started.elapsed() > Duration::from_secs(6) {
                break;
            }
            last_len = theirs.len();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _joined = jitter.join();
    assert!(
        !theirs.is_empty(),
        "netdata did not serve /api/v1/charts on port {port}"
    );

    let ours = our_charts(&host);
    let mut missing = Vec::new();
    let mut mismatched = Vec::new();
    let (mut dims_total, mut dims_found) = (0usize, 0usize);
    for (id, (units, ctx, dims)) in &theirs {
        dims_total += dims.len();
        match ours.get(id) {
            None => missing.push(id.clone()),
            Some((u, c, d)) => {
                dims_found += dims.intersection(d).count();
                if u != units || c != ctx {
                    mismatched.push(format!(
                        "{id}: units '{u}' vs '{units}', context '{c}' vs '{ctx}'"
                    ));
                }
                let miss: Vec<_> = dims.difference(d).collect();
                let extra: Vec<_> = d.difference(dims).collect();
                if !miss.is_empty() || !extra.is_empty() {
                    mismatched.push(format!(
                        "{id}: dimensions missing {miss:?}, extra {extra:?}"
                    ));
                }
            }
        }
    }
    let extra: Vec<_> = ours.keys().filter(|k| !theirs.contains_key(*k)).collect();
    let found = theirs.len() - missing.len();
    let chart_pct = 100.0 * found as f64 / theirs.len() as f64;
    let dim_pct = if dims_total == 0 {
        100.0
    } else {
        100.0 * dims_found as f64 / dims_total as f64
    };
    println!(
        "netdata charts: {}, ours: {}, matched: {found} ({chart_pct:.1}%)",
        theirs.len(),
        ours.len()
    );
    println!("netdata dimensions: {dims_total}, matched: {dims_found} ({dim_pct:.1}%)");
    println!("missing charts: {missing:?}");
    println!("extra charts: {extra:?}");
    for m in &mismatched {
        println!("mismatch: {m}");
    }
    println!("elapsed: {:?}", started.elapsed());
    assert!(
        chart_pct >= 90.0,
        "only {chart_pct:.1}% of netdata's charts; missing {missing:?}"
    );
    assert!(
        dim_pct >= 90.0,
        "only {dim_pct:.1}% of netdata's dimensions"
    );
}
