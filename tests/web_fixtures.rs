//! The fixture walk (issue 3, compatibility proof (a)): for every request that netdata 1.37.1
//! answered in `tests/fixtures/api/INDEX.tsv`, our agent answers the same path with the same
//! status and content type and, for JSON, the same structure — keys and value types (values
//! differ by machine; `null` stands for any number, as netdata prints NaN as `null`).
//!
//! Setup as the capture's: a parent named `parent` (collecting the recorded /proc tree of the
//! collectors' fixtures with `-s`) and a tributary child named `child` streaming into it; the
//! fixture's chart names (`system.cpu`, `system.ram`, `system.net`, context `disk.io`) and
//! alarm names exist on our side, so no path needs rewriting.
//!
//! Objects whose keys are data (chart ids, dimension ids, labels, alarms) are compared as
//! maps: the shapes of their values, not their key sets (a value is compared with netdata's
//! value of the same key when both have one, else with netdata's first). An empty side of a
//! map or an array matches anything. The parent runs the stock health configuration, as the
//! capture's netdata did, so that its alarms are compared with netdata's.
//!
//! Endpoints deliberately not implemented, asserted as netdata's 404
//! `Unsupported v1 API command: NAME` (text/plain): `contexts`, `context`, `weights`,
//! `metric_correlations`, `dbengine_stats` (dbengine only), `archivedcharts` (dbengine only).
//!
//! Rows compared differently, with their reasons:
//! * `registry-hello.json`, `registry-access-nocookie.json`, `registry-access-cookie.json`:
//!   netdata's parent ran with the registry enabled; tributary's registry is always disabled,
//!   so these are compared with `registry-hello-registry-disabled.json` /
//!   `registry-access-registry-disabled.json` (the capture's child, registry disabled).
//! * `static-version.txt` (`/version.txt`): a static file of netdata's web directory; the test
//!   agent has no web files, so netdata's 404 for a missing file is asserted.
//! * `options-preflight.txt` is requested with `OPTIONS`, `data-with-origin.json` with an
//!   `Origin` header, as captured.
//! * Absolute times in a request (`after=1795569244`...) are moved by (our now - the capture's
//!   `NOW.txt`), so that they point at the same place in our data; the test first waits for 65 s
//!   of data, as the capture's windows reach 60 s back.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::support::agent::Agent;
use crate::support::http_raw::{RawResponse, http_request};
use crate::support::{http_get, wait_until};

const KEY: &str = "7d0c1f9e-2b3a-4c5d-8e6f-0a1b2c3d4e5f";

/// Endpoints we do not implement: netdata's 404 for an unknown command is expected.
const NOT_IMPLEMENTED: &[&str] = &[
    "contexts",
    "context",
    "weights",
    "metric_correlations",
    "dbengine_stats",
    "archivedcharts",
];

/// Keys whose object values are maps keyed by data.
const MAP_KEYS: &[&str] = &[
    "charts",
    "dimensions",
    "chart_labels",
    "alarms",
    "host_labels",
    "chart_variables",
    "family_variables",
    "host_variables",
    "functions",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/api")
}

fn proc_fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/collectors/tests/fixtures/vm1")
        .display()
        .to_string()
}

/// The type of a JSON value (numbers and null are one kind: NaN prints as null).
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null | Value::Number(_) => "number|null",
        Value::Bool(_) => "bool",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compares the structure of `ours` with `theirs`; differences are pushed to `errs`.
fn compare(path: &str, ours: &Value, theirs: &Value, as_map: bool, errs: &mut Vec<String>) {
    if kind(ours) != kind(theirs) {
        errs.push(format!(
            "{path}: {} here, {} in netdata's",
            kind(ours),
            kind(theirs)
        ));
        return;
    }
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) if as_map => {
            // a value of ours against theirs of the same key (alarms differ in their optional
            // keys: calc, warn, crit, lookup), else the first against the first
            let pair = a
                .iter()
                .find_map(|(k, av)| b.get(k).map(|bv| (av, bv)))
                .or_else(|| a.values().next().zip(b.values().next()));
            if let Some((av, bv)) = pair {
                compare(&format!("{path}.*"), av, bv, false, errs);
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let ka: BTreeSet<&String> = a.keys().collect();
            let kb: BTreeSet<&String> = b.keys().collect();
            for k in kb.difference(&ka) {
                errs.push(format!("{path}: missing key {k:?}"));
            }
            for k in ka.difference(&kb) {
                errs.push(format!("{path}: extra key {k:?}"));
            }
            for k in ka.intersection(&kb) {
                compare(
                    &format!("{path}.{k}"),
                    &a[*k],
                    &b[*k],
                    MAP_KEYS.contains(&k.as_str()),
                    errs,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            // element kinds (as a set) must agree when both have elements
            if a.is_empty() || b.is_empty() {
                return;
            }
            let ka: BTreeSet<&str> = a.iter().map(kind).collect();
            let kb: BTreeSet<&str> = b.iter().map(kind).collect();
            if ka != kb {
                errs.push(format!(
                    "{path}[]: elements {ka:?} here, {kb:?} in netdata's"
                ));
                return;
            }
            compare(&format!("{path}[0]"), &a[0], &b[0], as_map, errs);
        }
        _ => {}
    }
}

/// The status and headers of a fixture's `.hdr`.
fn fixture_head(name: &str) -> (u16, Option<String>) {
    let text = std::fs::read_to_string(fixtures().join(format!("{name}.hdr"))).unwrap();
    let status = text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let ct = text
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        })
        .map(|(_, v)| v.trim().to_string());
    (status, ct)
}

/// JSON of a body, tolerating netdata's empty-body JSON (archivedcharts).
fn parse_json(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

#[test]
fn every_fixture_request_has_netdatas_status_type_and_structure() {
    let parent = Agent::builder()
        .set("global", "hostname", "parent")
        .set(
            "directories",
            "stock health config",
            "/usr/lib/netdata/conf.d/health.d",
        )
        .set("health", "script to execute on alarm", "/bin/true")
        .arg("-s")
        .arg(&proc_fixture())
        .stream_conf(&format!(
            "[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    allow from = *\n"
        ))
        .start();
    let child = Agent::builder()
        .set("global", "hostname", "child")
        .arg("-s")
        .arg(&proc_fixture())
        .stream_conf(&format!(
            "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    api key = {KEY}\n    reconnect delay seconds = 1\n",
            parent.port
        ))
        .start();
    // The child's charts on the parent, and a few seconds of data on both.
    wait_until(
        Duration::from_secs(30),
        "the child's data on the parent",
        || {
            let (s, body) = http_get(
                parent.port,
                "/host/child/api/v1/data?chart=system.cpu&after=-3&format=csv",
            )
            .ok()?;
            (s == 200 && body.lines().count() >= 3).then_some(())
        },
    );
    wait_until(Duration::from_secs(30), "data on the parent", || {
        let (s, body) = http_get(
            parent.port,
            "/api/v1/data?chart=system.net&after=-5&format=csv",
        )
        .ok()?;
        (s == 200 && body.lines().count() >= 4).then_some(())
    });

    // 65 s of data: the capture's windows reach 60 s back.
    let capture_now: i64 = std::fs::read_to_string(fixtures().join("NOW.txt"))
        .unwrap()
        .trim()
        .trim_start_matches("NOW=")
        .parse()
        .unwrap();
    let our_now = wait_until(Duration::from_secs(120), "65 s of data", || {
        let (s, body) = http_get(parent.port, "/api/v1/chart?chart=system.cpu").ok()?;
        let v: Value = serde_json::from_str(&body).ok().filter(|_| s == 200)?;
        let (first, last) = (v["first_entry"].as_i64()?, v["last_entry"].as_i64()?);
        (last - first >= 65).then_some(last)
    });
    let shift = |path: &str| -> String {
        path.split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, v))
                    if (k.ends_with("after") || k.ends_with("before")) && v.len() == 10 =>
                {
                    match v.parse::<i64>() {
                        Ok(t) => format!("{k}={}", t - capture_now + our_now),
                        Err(_) => kv.to_string(),
                    }
                }
                _ => kv.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&")
    };
    let index = std::fs::read_to_string(fixtures().join("INDEX.tsv")).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in index.lines().filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, request) = (cols[0], cols[2]);
        let mut compare_with = name.to_string();
        let mut port = parent.port;
        let mut method = "GET";
        let mut headers: Vec<(&str, &str)> = Vec::new();
        let mut path = shift(request);
        match name {
            "registry-hello.json" => compare_with = "registry-hello-registry-disabled.json".into(),
            "registry-access-nocookie.json" | "registry-access-cookie.json" => {
                compare_with = "registry-access-registry-disabled.json".into();
                path = "/api/v1/registry?action=access&machine=x&name=y&url=z".into();
            }
            "registry-hello-registry-disabled.json" | "registry-access-registry-disabled.json" => {
                port = child.port;
                path = request.split_once(") ").unwrap().1.to_string();
            }
            "options-preflight.txt" => method = "OPTIONS",
            "data-with-origin.json" => headers.push(("Origin", "http://example.com")),
            _ => {}
        }
        let r: RawResponse = http_request(port, method, &path, &headers)
            .unwrap_or_else(|e| panic!("{name}: {path}: {e}"));
        checked += 1;
        let cmd = path
            .strip_prefix("/api/v1/")
            .map(|p| p.split(['?', '/']).next().unwrap_or(""));
        if let Some(cmd) = cmd.filter(|c| NOT_IMPLEMENTED.contains(c)) {
            let expected = format!("Unsupported v1 API command: {cmd}");
            if r.status != 404
                || r.text() != expected
                || r.header("content-type") != Some("text/plain; charset=utf-8")
            {
                failures.push(format!(
                    "{name}: {path}: expected 404 {expected:?}, got {} {:?} {:?}",
                    r.status,
                    r.header("content-type"),
                    r.text()
                ));
            }
            continue;
        }
        if name == "static-version.txt" {
            if r.status != 404 {
                failures.push(format!("{name}: {path}: expected 404, got {}", r.status));
            }
            continue;
        }
        let (status, ct) = fixture_head(&compare_with);
        if r.status != status {
            failures.push(format!(
                "{name}: {path}: status {} here, {status} in netdata's ({:?})",
                r.status,
                r.text().chars().take(120).collect::<String>()
            ));
            continue;
        }
        if r.header("content-type").map(str::to_string) != ct {
            failures.push(format!(
                "{name}: {path}: content type {:?} here, {ct:?} in netdata's",
                r.header("content-type")
            ));
        }
        let theirs = std::fs::read(fixtures().join(&compare_with)).unwrap();
        let is_json = ct
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json"));
        if is_json && let Some(tv) = parse_json(&theirs) {
            match parse_json(&r.body) {
                Some(ov) => {
                    let mut errs = Vec::new();
                    compare(
                        "$",
                        &ov,
                        &tv,
                        compare_with.starts_with("allmetrics-json"),
                        &mut errs,
                    );
                    for e in errs {
                        failures.push(format!("{name}: {path}: {e}"));
                    }
                }
                None => failures.push(format!(
                    "{name}: {path}: not JSON: {:?}",
                    r.text().chars().take(200).collect::<String>()
                )),
            }
        }
    }
    assert!(checked > 100, "only {checked} rows");
    assert!(
        failures.is_empty(),
        "{} of {checked} fixture requests differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
