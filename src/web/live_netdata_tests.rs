//! Live comparison of `/api/v1/data` with a real netdata 1.37.1 (issue 3 §4b, in-process side):
//! a fake child streams a deterministic sequence (two charts, `update every` 1 and 2, absolute
//! dimensions with fractional multipliers, negative, zero and hidden ones, skipped collections)
//! into a real netdata
//! parent; the same lines, with their send times, are replayed into an in-process rrd `Host`;
//! then a matrix of group methods × options × formats × windows is asked of netdata
//! (`/host/CHILD/api/v1/data?...`) and rendered by our data endpoint, and the bodies are
//! compared byte for byte (apart from `latest_values`, see `normalize`). Incremental dimensions
//! are left out on purpose: their stored values depend on the sub-millisecond phase between our
//! send time and netdata's receive time (first slot, slots after a gap), which is the rrd
//! crate's concern and not the query engine's.

#[path = "../../tests/support/peers.rs"]
mod peers;

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use tributary_protocol::parse_line;
use tributary_rrd::{Host, HostConfig, MemoryMode};

use peers::{Netdata, fake_child_stream, http_get_retry, now_f, sleep_until};

const KEY: &str = "3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a";
const CHILD: &str = "tw-child";
const CHILD_GUID: &str = "8c7b6a59-4837-4261-9a0b-1c2d3e4f5a6b";
const N: i64 = 44;

fn definitions() -> Vec<String> {
    vec![
        "CHART \"tw.mix\" \"mixname\" \"mixed\" \"units\" \"tw\" \"tw.mix\" \"line\" 1000 1 \"\" \"twgen\" \"tw\"".into(),
        "DIMENSION \"a\" \"alpha\" \"absolute\" 1 1 \"\"".into(),
        "DIMENSION \"neg\" \"neg\" \"absolute\" 1 1 \"\"".into(),
        "DIMENSION \"z\" \"zero\" \"absolute\" 1 1 \"\"".into(),
        "DIMENSION \"inc\" \"inc\" \"absolute\" 3 7 \"\"".into(),
        "DIMENSION \"hid\" \"hid\" \"absolute\" 1 1 \"hidden\"".into(),
        "CHART \"tw.ue2\" \"\" \"every two\" \"units\" \"tw\" \"tw.ue2\" \"area\" 1001 2 \"\" \"twgen\" \"tw\"".into(),
        "DIMENSION \"x\" \"x\" \"absolute\" 1 1 \"\"".into(),
        "DIMENSION \"y\" \"y\" \"absolute\" -1 3 \"\"".into(),
        // two instances of one context (the second starts later): context queries
        "CHART \"tw.in1\" \"\" \"instance one\" \"units\" \"tw\" \"tw.multi\" \"line\" 1002 1 \"\" \"twgen\" \"tw\"".into(),
        "DIMENSION \"r\" \"reads\" \"absolute\" 1 1 \"\"".into(),
        "DIMENSION \"w\" \"writes\" \"absolute\" -1 2 \"\"".into(),
        "CHART \"tw.in2\" \"\" \"instance two\" \"units\" \"tw\" \"tw.multi\" \"line\" 1003 1 \"\" \"twgen\" \"tw\"".into(),
        "DIMENSION \"r\" \"reads\" \"absolute\" 1 1 \"\"".into(),
        "DIMENSION \"w\" \"writes\" \"absolute\" -1 2 \"\"".into(),
    ]
}

/// The collection lines of second `k`.
fn collection(k: i64) -> Vec<String> {
    let mut l = Vec::new();
    if !matches!(k, 17 | 18 | 30) {
        l.push(format!(
            "BEGIN \"tw.mix\" {}",
            if k == 0 { 0 } else { 1_000_000 }
        ));
        l.push(format!("SET \"a\" = {}", 100 + 37 * k - (k * k) % 23));
        l.push(format!("SET \"neg\" = {}", -50 + 7 * k - (k % 3) * 11));
        l.push("SET \"z\" = 0".into());
        l.push(format!(
            "SET \"inc\" = {}",
            1000 * k + 3 * k * k - (k % 5) * 400
        ));
        l.push(format!("SET \"hid\" = {}", 5 * k));
        l.push("END".into());
    }
    for (id, from) in [("tw.in1", 0), ("tw.in2", 12)] {
        if k >= from {
            l.push(format!(
                "BEGIN \"{id}\" {}",
                if k == from { 0 } else { 1_000_000 }
            ));
            l.push(format!("SET \"r\" = {}", 13 * k + from * 5 + (k % 4) * 3));
            l.push(format!("SET \"w\" = {}", 7 * k * k % 101 + from));
            l.push("END".into());
        }
    }
    if k % 2 == 0 {
        let kk = k / 2;
        l.push(format!(
            "BEGIN \"tw.ue2\" {}",
            if kk == 0 { 0 } else { 2_000_000 }
        ));
        l.push(format!("SET \"x\" = {}", 10 * kk + 3 + (kk % 4) * 5));
        l.push(format!("SET \"y\" = {}", 500 * kk + kk * kk));
        l.push("END".into());
    }
    l
}

/// Streams the sequence; returns (send time µs, line) of every line, and the open stream.
fn stream(nd: &Netdata) -> (Vec<(i64, String)>, TcpStream) {
    let mut s = fake_child_stream(nd, KEY, CHILD, CHILD_GUID);
    let mut sent = Vec::new();
    let mut send = |s: &mut TcpStream, lines: Vec<String>| {
        let t = (now_f() * 1e6).round() as i64;
        let mut block = String::new();
        for l in lines {
            block.push_str(&l);
            block.push('\n');
            sent.push((t, l));
        }
        s.write_all(block.as_bytes()).unwrap();
    };
    let start = now_f().ceil() as i64 + 1;
    sleep_until(start as f64 - 0.7);
    send(&mut s, definitions());
    for k in 0..N {
        sleep_until(start as f64 + k as f64 + 0.3);
        send(&mut s, collection(k));
    }
    std::thread::sleep(Duration::from_millis(1500));
    (sent, s)
}

/// Replays the lines into a host, as the stream receiver does (the same `Ingest`).
fn replay(sent: &[(i64, String)]) -> Arc<Host> {
    let host = Arc::new(Host::new(HostConfig {
        hostname: CHILD.into(),
        machine_guid: CHILD_GUID.into(),
        memory_mode: MemoryMode::Ram,
        history: 3600,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    }));
    let mut ingest = crate::ingest::Ingest::new(Arc::clone(&host), 1, "");
    for (now_us, line) in sent {
        let cmd = parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        ingest
            .apply(cmd, *now_us)
            .unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    host
}

/// `latest_values` is the last *calculated* value in netdata (a double), while tributary's rrd
/// exposes only the stored (storage-number) value: both lines are blanked before comparing.
fn normalize(body: &str) -> String {
    body.lines()
        .map(|l| {
            if l.trim_start().starts_with("\"latest_values\"")
                || l.trim_start().starts_with("latest_values")
            {
                "   \"latest_values\": <...>,"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn queries(last_mix: i64, last_ue2: i64) -> Vec<String> {
    let mut q = vec![
        // the dashboards' query, first: relative windows hold data only while the matrix is young
        "chart=tw.mix&format=json&points=20&group=average&gtime=0&options=ms%7Cflip%7Cjsonwrap%7Cnonzero&after=-40".to_string(),
    ];
    let groups = [
        "average",
        "min",
        "max",
        "sum",
        "incremental_sum",
        "median",
        "trimmed-median",
        "percentile95",
        "percentile",
        "trimmed-mean5",
        "trimmed-mean",
        "stddev",
        "cv",
        "ses",
        "des",
        "countif",
        "bogus",
    ];
    for chart in ["tw.mix", "tw.ue2"] {
        for g in groups {
            q.push(format!(
                "chart={chart}&after=-40&points=7&group={g}&options=jsonwrap%7Cseconds"
            ));
        }
        q.push(format!(
            "chart={chart}&after=-30&points=4&group=countif&group_options=%3E100&options=jsonwrap"
        ));
        q.push(format!(
            "chart={chart}&after=-30&points=4&group=percentile&group_options=50&options=jsonwrap"
        ));
        q.push(format!(
            "chart={chart}&after=-40&points=4&gtime=6&options=jsonwrap"
        ));
        q.push(format!(
            "chart={chart}&after=-40&points=4&group=sum&gtime=4&options=jsonwrap"
        ));
        q.push(format!("chart={chart}&options=jsonwrap"));
        q.push(format!(
            "chart={chart}&after=0&before=0&points=5&options=jsonwrap"
        ));
        q.push(format!(
            "chart={chart}&after=-60&before=-30&points=3&options=jsonwrap"
        ));
        q.push(format!(
            "chart={chart}&after=60&before=30&points=3&options=jsonwrap"
        ));
        q.push(format!(
            "chart={chart}&after=-10&points=100&options=jsonwrap"
        ));
    }
    for (chart, last) in [("tw.mix", last_mix), ("tw.ue2", last_ue2)] {
        q.push(format!(
            "chart={chart}&after={}&before={}&points=3&options=jsonwrap",
            last - 31,
            last - 9
        ));
        q.push(format!(
            "chart={chart}&after={}&before={}&points=3&options=jsonwrap%7Cunaligned",
            last - 31,
            last - 9
        ));
        q.push(format!(
            "chart={chart}&after={}&before={}&options=jsonwrap",
            last - 20,
            last - 5
        ));
        q.push(format!(
            "chart={chart}&after={}&before={}&points=3&options=jsonwrap",
            last - 5,
            last + 40
        ));
    }
    let opts = [
        "flip",
        "nonzero",
        "null2zero",
        "abs",
        "percentage",
        "abs%7Cpercentage",
        "min2max",
        "ms",
        "ms%7Cflip",
        "seconds",
        "objectrows",
        "objectrows%7Cms%7Cflip",
        "google_json",
        "all-dimensions",
        "nonzero%7Cflip%7Cms",
    ];
    for o in opts {
        q.push(format!(
            "chart=tw.mix&after=-25&points=5&options=jsonwrap%7C{o}"
        ));
        q.push(format!("chart=tw.mix&after=-25&points=5&options={o}"));
    }
    let dims = [
        "dimensions=a%7Cneg",
        "dimensions=alpha",
        "dimensions=alpha&options=match-ids",
        "dimensions=alpha&options=match-names",
        "dimensions=a&options=match-names",
        "dimensions=!a,*",
        "dimension=a&dimension=z",
        "dims=h*",
        "dimensions=hid&options=percentage",
        "dimensions=nosuch",
    ];
    for d in dims {
        q.push(format!("chart=tw.mix&after=-10&{d}"));
        // the chart's name is TYPE.NAME
        q.push(format!("chart=tw.mixname&after=-10&options=jsonwrap&{d}"));
    }
    let formats = [
        "json",
        "jsonp",
        "datatable",
        "datasource",
        "csv",
        "tsv",
        "tsv-excel",
        "ssv",
        "ssvcomma",
        "html",
        "markdown",
        "array",
        "csvjsonarray",
        "bogus",
    ];
    for f in formats {
        for chart in ["tw.mix", "tw.ue2"] {
            q.push(format!("chart={chart}&after=-12&points=4&format={f}"));
            q.push(format!(
                "chart={chart}&after=-12&format={f}&options=jsonwrap"
            ));
            q.push(format!(
                "chart={chart}&after=-12&format={f}&options=percentage%7Cabs%7Cnonzero"
            ));
            q.push(format!(
                "chart={chart}&after=-12&format={f}&options=seconds%7Cflip%7Cnull2zero"
            ));
        }
    }
    q.push("chart=tw.mix&after=-5&format=jsonp&callback=cb".into());
    q.push("chart=tw.mix&after=-5&tqx=reqId:7;out:json;responseHandler:h".into());
    q.push("chart=tw.mix&after=-5&tqx=out:csv".into());
    q.push("chart=tw.mix&after=-5&format=array&options=absolute%7Cpercentage%7Cjsonwrap%7Cnonzero&points=3".into());
    q.push("chart=no.such".into());
    q.push("chart=tw.mix&context=tw.mix&after=-5&options=jsonwrap".into());
    q.push("context=tw.ue2&after=-5&options=jsonwrap".into());
    // absolute windows: by the time the matrix gets here, relative ones hold no data
    let l = last_mix;
    for multi in [
        format!("after={}&before={l}&options=jsonwrap", l - 5),
        format!("after={}&before={l}&points=7&options=jsonwrap", l - 40),
        format!(
            "after={}&before={l}&points=7&group=max&options=jsonwrap%7Cflip",
            l - 40
        ),
        format!("after={}&before={l}&format=csv", l - 12),
        format!(
            "after={}&before={l}&dimensions=reads&options=jsonwrap",
            l - 12
        ),
        format!("after={}&before={l}&options=jsonwrap", l - 60),
        format!(
            "after={}&before={l}&options=jsonwrap%7Cpercentage%7Cnonzero",
            l - 30
        ),
        format!("chart=tw.in2&after={}&before={l}&options=jsonwrap", l - 5),
    ] {
        q.push(format!("context=tw.multi&{multi}"));
    }
    q.into_iter()
        .map(|x| anchored(&x, last_mix, last_ue2))
        .collect()
}

/// The matrix takes a minute or more on a busy machine, so its relative windows of up to
/// 40 s (`after=-5` … `-40`) would hold no data by the time they are asked (both sides
/// answered 404, which proved nothing): they become the same window ending at the chart's
/// last stored point.
fn anchored(q: &str, last_mix: i64, last_ue2: i64) -> String {
    let last = if q.contains("tw.ue2") {
        last_ue2
    } else {
        last_mix
    };
    if q.contains("gtime=0") {
        // the dashboards' query stays relative: it runs first
        return q.to_string();
    }
    for n in [5, 10, 12, 25, 30, 40] {
        let pat = format!("after=-{n}");
        if let Some(at) = q.find(&pat) {
            let rest = &q[at + pat.len()..];
            if rest.is_empty() || rest.starts_with('&') {
                return format!("{}after={}&before={last}{rest}", &q[..at], last - n);
            }
        }
    }
    q.to_string()
}

#[test]
fn data_matches_a_real_netdata_for_a_matrix_of_queries() {
    let stream_conf = format!(
        "[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    default history = 3600\n    health enabled by default = no\n    allow from = *\n"
    );
    let nd = Netdata::start("tw-parent", "ram", &[], &stream_conf);
    let (sent, _open_stream) = stream(&nd);
    let host = replay(&sent);
    let last = |id: &str| host.find_chart(id).unwrap().lock().last_entry_t();
    let (last_mix, last_ue2) = (last("tw.mix"), last("tw.ue2"));
    for id in ["tw.mix", "tw.ue2"] {
        let (_, chart) =
            http_get_retry(nd.port, &format!("/host/{CHILD}/api/v1/chart?chart={id}")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&chart).unwrap();
        let st = host.find_chart(id).unwrap();
        let st = st.lock();
        assert_eq!(v["last_entry"].as_i64().unwrap(), st.last_entry_t(), "{id}");
        assert_eq!(
            v["first_entry"].as_i64().unwrap(),
            st.first_entry_t(),
            "{id}"
        );
    }
    let mut mismatches = Vec::new();
    let mut refused = Vec::new();
    let all = queries(last_mix, last_ue2);
    for q in &all {
        let (status, theirs) =
            http_get_retry(nd.port, &format!("/host/{CHILD}/api/v1/data?{q}")).unwrap();
        if q.starts_with("context=tw.multi&after=") && q.ends_with("&options=jsonwrap") {
            // a real multi-instance answer, not two equal errors
            assert!(
                status == 200 && theirs.contains("\"tw.in1\"") && theirs.contains("\"tw.in2\""),
                "netdata's context answer: {status} {theirs}"
            );
        }
        // asking for what does not exist (a missing chart, a dimension by the other kind of
        // key) is the only refusal expected
        let expected_404 = [
            "no.such",
            "nosuch",
            "alpha&options=match-ids",
            "=a&options=match-names",
        ];
        if status != 200 && !expected_404.iter().any(|e| q.contains(e)) {
            refused.push(format!("{status} {q}"));
        }
        let params = crate::web::router::query_pairs(q);
        let now = now_f() as i64 - 1;
        let ours = crate::web::api_v1::data::data(&host, &params, now);
        if ours.status != status || normalize(&ours.body) != normalize(&theirs) {
            mismatches.push(format!(
                "=== {q}\n--- netdata {status}:\n{theirs}\n--- tributary {}:\n{}\n",
                ours.status, ours.body
            ));
        }
    }
    // a query both sides refuse proves nothing: only the two asking for missing things may
    assert!(
        refused.is_empty(),
        "netdata refused {} queries (windows without data?):\n{}",
        refused.len(),
        refused.join("\n")
    );
    if let Some(f) = std::env::var_os("TRIBUTARY_DATA_DIFF") {
        std::fs::write(f, mismatches.join("\n")).unwrap();
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} queries differ:\n{}",
        mismatches.len(),
        all.len(),
        mismatches.join("\n")
    );
}
