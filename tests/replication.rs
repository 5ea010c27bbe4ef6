//! Replication after outages (netdata 1.37's REPLAY_CHART protocol), against real peers:
//! a parent that was down gets the child's points of the outage, at their original times and
//! equal to the child's; a headless child replays its spool; and the interop cases with a real
//! netdata 1.37.1 on either side. Each test states the number of missing points it allows.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::agent::Agent;
use crate::support::fault_proxy::FaultProxy;
use crate::support::{Netdata, free_port, http_get_retry, now_f, wait_until};

const KEY: &str = "7d1c5b2a-9e8f-4a3b-8c6d-5e4f3a2b1c0d";
const CHART: &str = "system.idlejitter";

fn parent_conf(memory_mode: &str) -> String {
    format!(
        "[{KEY}]\n    enabled = yes\n    default memory mode = {memory_mode}\n    default history = 3600\n    allow from = *\n"
    )
}

fn child_conf(port: u16) -> String {
    format!(
        "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{port}\n    api key = {KEY}\n    timeout seconds = 60\n    reconnect delay seconds = 1\n"
    )
}

/// `time → values` of a chart over `[after, before]`, one row per second; null values are None.
type Rows = BTreeMap<i64, Vec<Option<f64>>>;

fn rows(port: u16, prefix: &str, after: i64, before: i64) -> Option<Rows> {
    let (status, body) = http_get_retry(
        port,
        &format!("{prefix}/api/v1/data?chart={CHART}&after={after}&before={before}&format=json"),
    )
    .ok()?;
    if status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    let mut out = Rows::new();
    for row in v["data"].as_array()? {
        let cells = row.as_array()?;
        let t = cells.first()?.as_i64()?;
        out.insert(
            t,
            cells[1..].iter().map(serde_json::Value::as_f64).collect(),
        );
    }
    Some(out)
}

/// Seconds of `[from, to]` whose row is missing or all-null on `port`.
fn missing(r: &Rows, from: i64, to: i64) -> Vec<i64> {
    (from..=to)
        .filter(|t| r.get(t).is_none_or(|v| v.iter().all(Option::is_none)))
        .collect()
}

fn wait_for_rows(port: u16, prefix: &str, what: &str, n: usize) {
    wait_until(Duration::from_secs(60), what, || {
        let now = now_f() as i64;
        let r = rows(port, prefix, now - 30, now)?;
        (r.values().filter(|v| v.iter().any(Option::is_some)).count() >= n).then_some(())
    });
}

fn tributary_child(up: u16, db: &str, web: &str) -> Agent {
    Agent::builder()
        .set("global", "hostname", "repl-child")
        .set("db", "mode", db)
        .set("web", "mode", web)
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .stream_conf(&child_conf(up))
        .start()
}

fn tributary_parent(port: u16, dir: &std::path::Path, mode: &str) -> Agent {
    Agent::builder()
        .set("global", "hostname", "repl-parent")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .set("plugins", "idlejitter", "no")
        .stream_conf(&parent_conf(mode))
        .port(port)
        .dir(dir)
        .start()
}

/// After an outage: waits until the parent has the window, then returns its rows.
fn parent_rows_after_outage(port: u16, prefix: &str, from: i64, to: i64) -> Rows {
    wait_until(Duration::from_secs(60), "the outage replicated", || {
        let r = rows(port, prefix, from - 2, to + 2)?;
        missing(&r, from, to).is_empty().then_some(r)
    })
}

#[test]
fn a_tributary_parent_restarted_gets_every_point_of_its_downtime_from_a_tributary_child() {
    let dir = crate::support::TempDir::new("repl-parent");
    let port = free_port();
    let mut parent = tributary_parent(port, dir.path(), "save");
    let child = tributary_child(port, "ram", "single-threaded");
    wait_for_rows(
        port,
        "/host/repl-child",
        "the child's data on the parent",
        5,
    );
    parent.stop();
    let down_from = now_f() as i64;
    std::thread::sleep(Duration::from_secs(20));
    let down_to = now_f() as i64;
    let parent = tributary_parent(port, dir.path(), "save");
    let on_parent = parent_rows_after_outage(port, "/host/repl-child", down_from - 3, down_to + 3);
    let on_child = rows(child.port, "", down_from - 3, down_to + 3).unwrap();
    for t in (down_from - 3)..=(down_to + 3) {
        assert_eq!(
            on_parent.get(&t),
            on_child.get(&t),
            "t={t}: parent and child differ\nparent log:\n{}",
            parent.log()
        );
    }
    let log = parent.log();
    assert!(
        log.contains("established") || log.contains("receiving metrics"),
        "{log}"
    );
}

#[test]
fn a_headless_child_replays_its_spool_after_a_30_second_partition_with_no_gap() {
    let dir = crate::support::TempDir::new("repl-headless-parent");
    let port = free_port();
    let _parent = tributary_parent(port, dir.path(), "ram");
    let proxy = FaultProxy::start(port);
    let child = tributary_child(proxy.port, "none", "none");
    wait_for_rows(port, "/host/repl-child", "the headless child's data", 5);
    proxy.cut();
    let cut_from = now_f() as i64;
    std::thread::sleep(Duration::from_secs(30));
    let cut_to = now_f() as i64;
    proxy.heal();
    let r = parent_rows_after_outage(port, "/host/repl-child", cut_from - 2, cut_to + 3);
    assert_eq!(missing(&r, cut_from - 2, cut_to + 3), Vec::<i64>::new());
    assert!(
        child.log().contains("keeping 120 s of collections"),
        "{}",
        child.log()
    );
    let (_, streaming) = http_get_retry(port, "/api/v1/streaming").unwrap();
    let v: serde_json::Value = serde_json::from_str(&streaming).unwrap();
    let child_status = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hostname"] == "repl-child")
        .cloned()
        .unwrap();
    assert!(
        child_status["replication"]["points_replayed"]
            .as_u64()
            .unwrap()
            >= 25,
        "{child_status}"
    );
    assert_eq!(child_status["replication"]["last_gap_missing_seconds"], 0);
}

#[test]
fn a_real_netdata_child_replays_a_60_second_outage_into_a_tributary_parent() {
    let dir = crate::support::TempDir::new("repl-nd-child-parent");
    let port = free_port();
    let mut parent = tributary_parent(port, dir.path(), "save");
    let nd = Netdata::start("nd-repl-child", "ram", &["idlejitter"], &child_conf(port));
    wait_for_rows(
        port,
        "/host/nd-repl-child",
        "netdata's data on the parent",
        5,
    );
    parent.stop();
    let down_from = now_f() as i64;
    std::thread::sleep(Duration::from_secs(60));
    let down_to = now_f() as i64;
    let parent = tributary_parent(port, dir.path(), "save");
    let on_parent = parent_rows_after_outage(port, "/host/nd-repl-child", down_from, down_to);
    let on_child = rows(nd.port, "", down_from, down_to).unwrap();
    for t in down_from..=down_to {
        assert_eq!(
            on_parent.get(&t),
            on_child.get(&t),
            "t={t}: parent and netdata child differ\nparent log:\n{}",
            parent.log()
        );
    }
}

#[test]
fn a_tributary_child_replays_a_60_second_outage_into_a_real_netdata_parent() {
    // dbengine, netdata's default: its ram/save/map modes store every replicated point one
    // slot late (RBEGIN advances the ring before RSET writes), a netdata bug we do not chase.
    let mut nd = Netdata::start("nd-repl-parent", "dbengine", &[], &parent_conf("dbengine"));
    let child = tributary_child(nd.port, "ram", "single-threaded");
    wait_for_rows(
        nd.port,
        "/host/repl-child",
        "the child's data on netdata",
        5,
    );
    nd.stop();
    let down_from = now_f() as i64;
    std::thread::sleep(Duration::from_secs(60));
    let down_to = now_f() as i64;
    nd.restart();
    // netdata 1.37.1 leaves one slot empty where replicated history meets live data (it does
    // so with netdata children too): everything else of the window must be the child's.
    let from = down_from - 5;
    let on_parent = wait_until(Duration::from_secs(60), "netdata replicated", || {
        let r = rows(nd.port, "/host/repl-child", from, down_to)?;
        (missing(&r, from, down_to).len() <= 1).then_some(r)
    });
    let on_child = rows(child.port, "", from, down_to).unwrap();
    let gaps = missing(&on_parent, from, down_to);
    assert!(gaps.len() <= 1, "netdata's parent misses {gaps:?}");
    for t in from..=down_to {
        if gaps.contains(&t) {
            continue;
        }
        assert_eq!(
            on_parent.get(&t),
            on_child.get(&t),
            "t={t}: netdata parent and tributary child differ (window {from}..{down_to})\nparent: {on_parent:?}\nchild: {on_child:?}"
        );
    }
}

#[test]
fn a_map_parent_killed_with_sigkill_gets_its_downtime_back_through_a_proxy_with_a_database() {
    // child (ram) → proxy (ram, forwards) → top (map), top killed -9 and restarted: the
    // proxy answers the top's replication from its own database.
    let dir = crate::support::TempDir::new("repl-top");
    let port = free_port();
    let top = tributary_parent(port, dir.path(), "map");
    let proxy = Agent::builder()
        .set("global", "hostname", "repl-proxy")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .set("plugins", "idlejitter", "no")
        .stream_conf(&format!("{}{}", child_conf(port), parent_conf("ram")))
        .start();
    let _child = tributary_child(proxy.port, "none", "none");
    wait_for_rows(port, "/host/repl-child", "the child's data at the top", 5);
    top.kill9();
    let down_from = now_f() as i64;
    std::thread::sleep(Duration::from_secs(20));
    let down_to = now_f() as i64;
    let top = tributary_parent(port, dir.path(), "map");
    let on_top = parent_rows_after_outage(port, "/host/repl-child", down_from - 2, down_to + 3);
    let on_proxy = rows(proxy.port, "/host/repl-child", down_from - 2, down_to + 3).unwrap();
    for t in (down_from - 2)..=(down_to + 3) {
        assert_eq!(
            on_top.get(&t),
            on_proxy.get(&t),
            "t={t}: top and proxy differ\ntop log:\n{}",
            top.log()
        );
    }
}

#[test]
fn an_outage_longer_than_the_spool_loses_only_the_oldest_part_and_says_so() {
    let dir = crate::support::TempDir::new("repl-spool-parent");
    let port = free_port();
    let _parent = tributary_parent(port, dir.path(), "ram");
    let proxy = FaultProxy::start(port);
    let child = Agent::builder()
        .set("global", "hostname", "repl-child")
        .set("db", "mode", "none")
        .set("web", "mode", "none")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .stream_conf(&format!(
            "{}    spool seconds = 10\n",
            child_conf(proxy.port)
        ))
        .start();
    wait_for_rows(port, "/host/repl-child", "the headless child's data", 5);
    proxy.cut();
    let cut_from = now_f() as i64;
    std::thread::sleep(Duration::from_secs(25));
    let cut_to = now_f() as i64;
    proxy.heal();
    // The newest 10 s of the outage come back; the older part is lost, in one piece.
    let r = wait_until(Duration::from_secs(60), "the spool replayed", || {
        let r = rows(port, "/host/repl-child", cut_from - 5, cut_to + 3)?;
        missing(&r, cut_to - 5, cut_to + 3).is_empty().then_some(r)
    });
    let lost = missing(&r, cut_from - 5, cut_to + 3);
    let expected = cut_to - cut_from - 10;
    assert!(
        (lost.len() as i64 - expected).abs() <= 3,
        "lost {lost:?}, expected about {expected}"
    );
    assert!(
        lost.windows(2).all(|w| w[1] == w[0] + 1),
        "the loss is one piece: {lost:?}"
    );
    let log = child.log();
    assert!(log.contains("longer than the spool"), "{log}");
}

/// A child with a database of `mode` is stopped for 10 s and started again on the same
/// files: the parent ends up with exactly the child's points — its downtime missing on both,
/// nothing else missing, nothing different (no point twice, none shifted).
fn child_restart(mode: &str) {
    let dir = crate::support::TempDir::new(&format!("repl-parent-cr-{mode}"));
    let port = free_port();
    let _parent = tributary_parent(port, dir.path(), "ram");
    let child_dir = crate::support::TempDir::new(&format!("repl-child-cr-{mode}"));
    let child_port = free_port();
    let start_child = || {
        Agent::builder()
            .set("global", "hostname", "repl-child")
            .set("db", "mode", mode)
            .set("web", "mode", "single-threaded")
            .set("plugins", "proc", "no")
            .set("plugins", "diskspace", "no")
            .stream_conf(&child_conf(port))
            .dir(child_dir.path())
            .port(child_port)
            .start()
    };
    let mut child = start_child();
    wait_for_rows(
        port,
        "/host/repl-child",
        "the child's data on the parent",
        5,
    );
    let from = now_f() as i64 - 3;
    child.stop();
    std::thread::sleep(Duration::from_secs(10));
    let child = start_child();
    wait_for_rows(child.port, "", "the restarted child's own data", 5);
    let to = now_f() as i64;
    let on_child = rows(child.port, "", from, to).unwrap();
    let child_gaps = missing(&on_child, from, to);
    assert!(
        (8..=13).contains(&child_gaps.len()),
        "the child's own downtime: {child_gaps:?}"
    );
    let on_parent = wait_until(Duration::from_secs(60), "the parent caught up", || {
        let r = rows(port, "/host/repl-child", from, to)?;
        (missing(&r, from, to) == child_gaps).then_some(r)
    });
    for t in from..=to {
        assert_eq!(
            on_parent.get(&t),
            on_child.get(&t),
            "t={t}: parent and restarted {mode} child differ"
        );
    }
}

#[test]
fn a_restarted_save_child_leaves_exactly_its_downtime_missing_on_the_parent() {
    child_restart("save");
}

#[test]
fn a_restarted_map_child_leaves_exactly_its_downtime_missing_on_the_parent() {
    child_restart("map");
}

#[test]
fn a_five_minute_partition_is_replicated_with_no_gap() {
    let dir = crate::support::TempDir::new("repl-5min-parent");
    let port = free_port();
    let _parent = tributary_parent(port, dir.path(), "ram");
    let proxy = FaultProxy::start(port);
    let child = tributary_child(proxy.port, "ram", "single-threaded");
    wait_for_rows(port, "/host/repl-child", "the child's data", 5);
    proxy.cut();
    let cut_from = now_f() as i64;
    std::thread::sleep(Duration::from_secs(300));
    let cut_to = now_f() as i64;
    proxy.heal();
    let (from, to) = (cut_from - 3, cut_to + 3);
    let on_parent = parent_rows_after_outage(port, "/host/repl-child", from, to);
    assert_eq!(missing(&on_parent, from, to), Vec::<i64>::new());
    let on_child = rows(child.port, "", from, to).unwrap();
    for t in from..=to {
        assert_eq!(
            on_parent.get(&t),
            on_child.get(&t),
            "t={t}: parent and child differ after a 5 minute partition"
        );
    }
}

#[test]
fn a_proxy_without_a_database_passes_replication_older_than_its_spool_on_to_the_child() {
    // child (ram) → proxy (none, 15 s spool) → top (save), top stopped for 45 s: the spool
    // holds only the last 15 s, the rest of the outage comes from the child, through the
    // proxy; the top misses nothing.
    let dir = crate::support::TempDir::new("repl-relay-top");
    let port = free_port();
    let mut top = tributary_parent(port, dir.path(), "save");
    let proxy = Agent::builder()
        .set("global", "hostname", "repl-proxy")
        .set("db", "mode", "none")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .set("plugins", "idlejitter", "no")
        .stream_conf(&format!(
            "{}    spool seconds = 15\n{}",
            child_conf(port),
            parent_conf("none")
        ))
        .start();
    let child = tributary_child(proxy.port, "ram", "single-threaded");
    wait_for_rows(port, "/host/repl-child", "the child's data at the top", 5);
    top.stop();
    let down_from = now_f() as i64;
    std::thread::sleep(Duration::from_secs(45));
    let down_to = now_f() as i64;
    let top = tributary_parent(port, dir.path(), "save");
    let (from, to) = (down_from - 3, down_to + 3);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let on_top = loop {
        let r = rows(port, "/host/repl-child", from, to).unwrap_or_default();
        let gaps = missing(&r, from, to);
        if gaps.is_empty() {
            break r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the top misses {gaps:?} of {from}..{to}\ntop log:\n{}\nproxy log:\n{}",
            top.log(),
            proxy.log()
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    let on_child = rows(child.port, "", from, to).unwrap();
    for t in from..=to {
        assert_eq!(
            on_top.get(&t),
            on_child.get(&t),
            "t={t}: top and child differ"
        );
    }
}

#[test]
fn a_real_netdata_parent_gets_an_outage_longer_than_a_proxys_spool_through_the_relay() {
    // tributary child (ram) → tributary proxy (none, 15 s spool) → real netdata (dbengine),
    // netdata stopped for 45 s: the older 30 s come from the child through the proxy.
    let mut nd = Netdata::start("nd-relay-top", "dbengine", &[], &parent_conf("dbengine"));
    let proxy = Agent::builder()
        .set("global", "hostname", "repl-proxy")
        .set("db", "mode", "none")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .set("plugins", "idlejitter", "no")
        .stream_conf(&format!(
            "{}    spool seconds = 15\n{}",
            child_conf(nd.port),
            parent_conf("none")
        ))
        .start();
    let child = tributary_child(proxy.port, "ram", "single-threaded");
    wait_for_rows(
        nd.port,
        "/host/repl-child",
        "the child's data on netdata",
        5,
    );
    nd.stop();
    let down_from = now_f() as i64;
    std::thread::sleep(Duration::from_secs(45));
    let down_to = now_f() as i64;
    nd.restart();
    // netdata 1.37.1 may leave a slot empty where replicated history meets live data, and
    // the relayed part and the spool's part meet once more: at most 2 (seen here: none).
    let (from, to) = (down_from - 3, down_to);
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let on_parent = loop {
        let r = rows(nd.port, "/host/repl-child", from, to).unwrap_or_default();
        let gaps = missing(&r, from, to);
        if gaps.len() <= 2 {
            break r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "netdata misses {gaps:?} of {from}..{to}\nproxy log:\n{}",
            proxy.log()
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    let gaps = missing(&on_parent, from, to);
    eprintln!("netdata behind the relay misses {gaps:?} of {from}..{to}");
    let on_child = rows(child.port, "", from, to).unwrap();
    for t in from..=to {
        if gaps.contains(&t) {
            continue;
        }
        assert_eq!(
            on_parent.get(&t),
            on_child.get(&t),
            "t={t}: netdata and the child differ (gaps {gaps:?})"
        );
    }
}
