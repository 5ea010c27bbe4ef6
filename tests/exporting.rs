//! Exporting to real time-series databases on loopback: carbon (whisper files read back),
//! VictoriaMetrics (graphite, opentsdb telnet and HTTP, remote write) and Prometheus (remote
//! write receiver). A parent agent runs a plugin that collects a known sequence and receives
//! the same plugin's chart from a streamed child; every value a receiver stored must equal the
//! average (or sum) of what the parent's `/api/v1/data` reports for the points of its window.
//! Then the faults: outages with backfill, a receiver that never reads, remote write errors,
//! destinations that resolve to nothing.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::agent::Agent;
use crate::support::fault_proxy::FaultProxy;
use crate::support::receivers::{Carbon, Prometheus, Victoria};
use crate::support::{TempDir, free_port, http_get, wait_until};

const KEY: &str = "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

/// A plugin collecting `exptest.seq`: `up` = seconds mod 1000 (×1), `down` = seconds mod 97
/// (×-1/4), units `widgets/s` (remote write names it `_widgets_persec`).
const PLUGIN: &str = r#"#!/bin/sh
echo "CHART exptest.seq '' 'Exporting test sequence' 'widgets/s' exptest exptest.seq line 1000 1"
echo "DIMENSION up '' absolute 1 1"
echo "DIMENSION down '' absolute -1 4"
while true; do
  n=$(date +%s)
  echo "BEGIN exptest.seq"
  echo "SET up = $((n % 1000))"
  echo "SET down = $((n % 97))"
  echo "END"
  sleep 1
done
"#;

fn write_plugin(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let d = dir.join("plugins.d");
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("exptest.plugin");
    std::fs::write(&p, PLUGIN).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A parent (hostname `exp-parent`, exporting with `exporting_conf`) and a streamed child
/// (`exp-child`), both collecting `exptest.seq`.
struct Pair {
    parent: Agent,
    _child: Agent,
    _dirs: (TempDir, TempDir),
}

fn start_parent(dir: &TempDir, exporting_conf: &str, extra: &[(&str, &str, &str)]) -> Agent {
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/exporting.conf"), exporting_conf).unwrap();
    write_plugin(dir.path());
    let mut b = Agent::builder()
        .dir(dir.path())
        .set("global", "hostname", "exp-parent")
        .stream_conf(&format!(
            "[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    default history = 3600\n    allow from = *\n"
        ));
    for (s, k, v) in extra {
        b = b.set(s, k, v);
    }
    b.start()
}

fn start_pair(exporting_conf: &str) -> Pair {
    let (pd, cd) = (TempDir::new("exp-parent"), TempDir::new("exp-child"));
    let parent = start_parent(&pd, exporting_conf, &[]);
    write_plugin(cd.path());
    let child = Agent::builder()
        .dir(cd.path())
        .set("global", "hostname", "exp-child")
        .stream_conf(&format!(
            "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    api key = {KEY}\n    reconnect delay seconds = 1\n",
            parent.port
        ))
        .start();
    Pair {
        parent,
        _child: child,
        _dirs: (pd, cd),
    }
}

/// `/api/v1/data` of `exptest.seq` on `host` (None: localhost): time → (up, down).
fn our_points(agent: &Agent, host: Option<&str>) -> BTreeMap<i64, (Option<f64>, Option<f64>)> {
    let prefix = host.map(|h| format!("/host/{h}")).unwrap_or_default();
    let Ok((200, body)) = http_get(
        agent.port,
        &format!("{prefix}/api/v1/data?chart=exptest.seq&after=-900&format=json"),
    ) else {
        return BTreeMap::new();
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let labels: Vec<String> = v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let col = |n: &str| labels.iter().position(|l| l == n).unwrap();
    let (up, down) = (col("up"), col("down"));
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_i64().unwrap(), (r[up].as_f64(), r[down].as_f64())))
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Agg {
    Average,
    Sum,
}

/// Compares the points a receiver stored for one series with the agent's: the point at `t`
/// is the aggregate of the agent's points in `(t - every, t]`. The first stored point (its
/// window starts at the engine's start) is not compared. Returns how many points agreed; panics
/// on the first that does not.
fn compare(
    what: &str,
    stored: &[(i64, f64)],
    ours: &BTreeMap<i64, f64>,
    every: i64,
    agg: Agg,
) -> usize {
    let mut agreed = 0;
    for &(t, v) in stored.iter().skip(1) {
        let window: Vec<f64> = ours.range(t - every + 1..=t).map(|(_, v)| *v).collect();
        if window.len() as i64 != every {
            continue; // not (or no longer) all in the agent's answer
        }
        let sum: f64 = window.iter().sum();
        let expected = match agg {
            Agg::Average => sum / window.len() as f64,
            Agg::Sum => sum,
        };
        assert!(
            (expected - v).abs() <= 1e-4 + 1e-7 * expected.abs(),
            "{what}: the receiver stored {v} at {t}, /api/v1/data's points {window:?} give {expected}\nstored: {stored:?}"
        );
        agreed += 1;
    }
    agreed
}

fn dim(points: &BTreeMap<i64, (Option<f64>, Option<f64>)>, up: bool) -> BTreeMap<i64, f64> {
    points
        .iter()
        .filter_map(|(t, (u, d))| if up { *u } else { *d }.map(|v| (*t, v)))
        .collect()
}

/// Waits until `fetch(host, dim)` gives at least `n` points that agree with the agent, for
/// both hosts and both dimensions.
fn wait_agreement(
    pair_parent: &Agent,
    what: &str,
    every: i64,
    agg: Agg,
    n: usize,
    fetch: &dyn Fn(&str, &str) -> Vec<(i64, f64)>,
) {
    wait_until(Duration::from_secs(90), what, || {
        let mut all = true;
        for (host, api_host) in [("exp-parent", None), ("exp-child", Some("exp-child"))] {
            let ours = our_points(pair_parent, api_host);
            for (dname, up) in [("up", true), ("down", false)] {
                let stored = fetch(host, dname);
                let agreed = compare(
                    &format!("{what} {host} {dname}"),
                    &stored,
                    &dim(&ours, up),
                    every,
                    agg,
                );
                all &= agreed >= n;
            }
        }
        all.then_some(())
    });
}

#[test]
fn graphite_to_carbon_stores_what_the_api_reports_for_localhost_and_a_child() {
    let carbon = Carbon::start();
    let pair = start_pair(&format!(
        "[graphite:carbon]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    update every = 2\n    send configured labels = no\n    send charts matching = exptest.*\n",
        carbon.port
    ));
    let now = crate::support::now_f() as i64;
    wait_agreement(&pair.parent, "carbon", 2, Agg::Average, 4, &|host, d| {
        carbon.fetch(
            &format!("netdata.{host}.exptest.seq.{d}"),
            now - 120,
            now + 600,
        )
    });
    let log = pair.parent.log();
    assert!(
        log.contains("EXPORTING: instance carbon: connected to 127.0.0.1:"),
        "{log}"
    );
}

#[test]
fn victoria_metrics_stores_graphite_opentsdb_and_remote_write_as_the_api_reports() {
    let vm = Victoria::start();
    let pair = start_pair(&format!(
        "[exporting:global]\n    send charts matching = exptest.*\n\
         [graphite:vm_graphite]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    update every = 2\n\
         [opentsdb:vm_tsdb]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    update every = 3\n    data source = sum\n\
         [opentsdb:http:vm_tsdb_http]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    update every = 2\n    prefix = ohttp\n\
         [prometheus_remote_write:vm_rw]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    remote write URL path = /api/v1/write\n    update every = 1\n",
        vm.graphite, vm.opentsdb, vm.opentsdb_http, vm.http
    ));
    let one = |selector: String| -> Vec<(i64, f64)> {
        let mut series = vm.export(&selector);
        assert!(series.len() <= 1, "{selector}: {series:?}");
        series.pop().map(|(_, p)| p).unwrap_or_default()
    };
    wait_agreement(
        &pair.parent,
        "vm graphite",
        2,
        Agg::Average,
        3,
        &|host, d| one(format!("{{__name__=\"netdata.{host}.exptest.seq.{d}\"}}")),
    );
    wait_agreement(
        &pair.parent,
        "vm opentsdb (sum)",
        3,
        Agg::Sum,
        3,
        &|host, d| {
            one(format!(
                "{{__name__=\"netdata.exptest.seq.{d}\",host=\"{host}\"}}"
            ))
        },
    );
    wait_agreement(
        &pair.parent,
        "vm opentsdb:http",
        2,
        Agg::Average,
        3,
        &|host, d| {
            one(format!(
                "{{__name__=\"ohttp.exptest.seq.{d}\",host=\"{host}\"}}"
            ))
        },
    );
    wait_agreement(
        &pair.parent,
        "vm remote write",
        1,
        Agg::Average,
        4,
        &|host, d| {
            one(format!(
                "{{__name__=\"netdata_exptest_seq_widgets_persec_average\",instance=\"{host}\",dimension=\"{d}\"}}"
            ))
        },
    );
    // netdata's labels arrive as labels.
    let info = vm.export("{__name__=\"netdata_info\",instance=\"exp-parent\"}");
    assert_eq!(info.len(), 1, "{info:?}");
    assert_eq!(info[0].0["application"], "netdata");
    assert_eq!(info[0].0["_is_ephemeral"], "false");
    let rw = vm.export("{__name__=\"netdata_exptest_seq_widgets_persec_average\",instance=\"exp-parent\",dimension=\"up\"}");
    assert_eq!(rw[0].0["chart"], "exptest.seq");
    assert_eq!(rw[0].0["family"], "exptest");
}

#[test]
fn prometheus_remote_write_receiver_stores_what_the_api_reports() {
    let prom = Prometheus::start();
    let pair = start_pair(&format!(
        "[prometheus_remote_write:prom]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    remote write URL path = /api/v1/write\n    update every = 2\n    send charts matching = exptest.*\n",
        prom.port
    ));
    wait_agreement(
        &pair.parent,
        "prometheus",
        2,
        Agg::Average,
        4,
        &|host, d| {
            let mut s = prom.samples(&format!(
            "netdata_exptest_seq_widgets_persec_average{{instance=\"{host}\",dimension=\"{d}\"}}"
        ));
            assert!(s.len() <= 1);
            s.pop().map(|(_, p)| p).unwrap_or_default()
        },
    );
}
