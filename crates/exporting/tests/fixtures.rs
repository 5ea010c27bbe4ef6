//! The formats against netdata 1.37.1's captured traffic (`shared/fixtures/exporting/`).
//!
//! Each capture is parsed back into metrics only as far as needed to feed the encoder (names,
//! values, timestamps), then encoded and compared byte for byte: with the same format (the
//! layout, labels, separators and number formats) and, more telling, across formats — the
//! graphite instance's values re-encoded as opentsdb must give exactly what netdata's opentsdb
//! instance sent in the same cycles, the JSON instance's as opentsdb:http likewise.

use std::path::PathBuf;

use tributary_exporting::config::{Connector, DataSource};
use tributary_exporting::delivery::{base64, request_head};
use tributary_exporting::encode::{ChartMeta, DimMeta, Encoder, HostMeta, Value};

fn fixture(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/exporting")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn text(rel: &str) -> String {
    String::from_utf8(fixture(rel)).unwrap()
}

fn labels() -> Vec<(String, String)> {
    [
        ("room", "lab one:x_y"),
        ("env", "capture"),
        ("_is_ephemeral", "false"),
        ("_has_unstable_connection", "false"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

fn host<'a>(
    prefix: &'a str,
    hostname: &'a str,
    labels: &'a [(String, String)],
    enabled: bool,
) -> HostMeta<'a> {
    HostMeta {
        prefix,
        hostname,
        labels,
        labels_enabled: enabled,
        tags: "",
        program_name: "netdata",
        program_version: "v1.37.1",
    }
}

fn chart<'a>(id: &'a str, family: &'a str, units: &'a str) -> ChartMeta<'a> {
    ChartMeta {
        id,
        name: id,
        family,
        context: id,
        units,
        homogeneous: true,
        prometheus_module: false,
    }
}

/// One graphite line: chart (first two dotted parts after prefix.host.), dimension, value, ts.
struct Line {
    chart: String,
    dim: String,
    value: String,
    ts: i64,
}

fn graphite_lines(raw: &str, head: &str) -> Vec<Line> {
    raw.lines()
        .map(|l| {
            let rest = l.strip_prefix(head).unwrap_or_else(|| panic!("{l}"));
            let (name, tail) = rest.split_once([';', ' ']).unwrap();
            let mut f = tail.rsplit(' ');
            let ts = f.next().unwrap().parse().unwrap();
            let value = f.next().unwrap().to_string();
            let mut parts = name.splitn(3, '.');
            let chart = format!("{}.{}", parts.next().unwrap(), parts.next().unwrap());
            Line {
                chart,
                dim: parts.next().unwrap().to_string(),
                value,
                ts,
            }
        })
        .collect()
}

fn value_of(s: &str) -> Value {
    if s.contains('.') {
        Value::Stored(s.parse().unwrap())
    } else {
        Value::Collected(s.parse().unwrap())
    }
}

fn encode(
    connector: Connector,
    source: DataSource,
    names: bool,
    h: &HostMeta<'_>,
    lines: &[Line],
) -> Vec<u8> {
    let mut e = Encoder::new(connector, source, names);
    e.begin();
    e.host(h, 0);
    for l in lines {
        let c = chart(&l.chart, "", "");
        let d = DimMeta {
            id: &l.dim,
            name: &l.dim,
            incremental: false,
        };
        e.metric(h, &c, &d, value_of(&l.value), l.ts);
    }
    e.finish().to_vec()
}

#[test]
fn graphite_average_with_labels_is_byte_exact() {
    let raw = text("captured/graphite_avg.raw");
    let lines = graphite_lines(&raw, "netdata.exporthost.");
    assert_eq!(lines.len(), 208);
    let l = labels();
    let h = host("netdata", "exporthost", &l, true);
    let out = encode(Connector::Graphite, DataSource::Average, true, &h, &lines);
    assert_eq!(String::from_utf8(out).unwrap(), raw);
}

#[test]
fn graphite_as_collected_with_ids_prefix_hostname_and_automatic_labels_is_byte_exact() {
    let raw = text("captured/graphite_raw.raw");
    let first = raw.lines().next().unwrap();
    // The automatic labels of the capture machine, in netdata's order, from the first line.
    let label_text = first
        .split_once(';')
        .unwrap()
        .1
        .rsplitn(3, ' ')
        .last()
        .unwrap();
    let all: Vec<(String, String)> = label_text
        .split(';')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    assert!(all.iter().any(|(k, _)| k == "_kernel_version"));
    let lines = graphite_lines(&raw, "pfx.my-host.example.");
    assert!(lines.iter().any(|l| l.dim == "InOctets"), "ids, not names");
    let h = host("pfx", "my-host.example", &all, true);
    let out = encode(
        Connector::Graphite,
        DataSource::AsCollected,
        false,
        &h,
        &lines,
    );
    assert_eq!(String::from_utf8(out).unwrap(), raw);
}

#[test]
fn graphite_sum_without_labels_is_byte_exact() {
    let raw = text("captured/graphite_sum.raw");
    let lines = graphite_lines(&raw, "netdata.exporthost.");
    let h = host("netdata", "exporthost", &[], false);
    let out = encode(Connector::Graphite, DataSource::Sum, true, &h, &lines);
    assert_eq!(String::from_utf8(out).unwrap(), raw);
}

/// The graphite instance's values of the charts the opentsdb instance exports, in the cycles
/// both saw.
fn graphite_values_for(charts: &[&str], tsdb_raw: &str) -> Vec<Line> {
    let tsdb_ts: std::collections::HashSet<i64> = tsdb_raw
        .lines()
        .map(|l| l.split(' ').nth(2).unwrap().parse().unwrap())
        .collect();
    graphite_lines(&text("captured/graphite_avg.raw"), "netdata.exporthost.")
        .into_iter()
        .filter(|l| charts.contains(&l.chart.as_str()) && tsdb_ts.contains(&l.ts))
        .collect()
}

#[test]
fn opentsdb_telnet_from_the_graphite_instances_values_equals_netdatas_opentsdb_instance() {
    let raw = text("captured/opentsdb_telnet.raw");
    let lines = graphite_values_for(&["system.load", "system.cpu", "system.ip"], &raw);
    let l = labels();
    let h = host("netdata", "exporthost", &l, true);
    let out = String::from_utf8(encode(
        Connector::OpenTsdb,
        DataSource::Average,
        true,
        &h,
        &lines,
    ))
    .unwrap();
    // Both instances ran the same cycles; compare the cycles present in both captures.
    let ours: std::collections::HashSet<&str> = out.lines().collect();
    let theirs: Vec<&str> = raw
        .lines()
        .filter(|l| {
            let ts: i64 = l.split(' ').nth(2).unwrap().parse().unwrap();
            lines.iter().any(|g| g.ts == ts)
        })
        .collect();
    assert!(theirs.len() > 100, "{} common lines", theirs.len());
    for t in &theirs {
        assert!(
            ours.contains(t),
            "netdata sent\n{t}\nwe would not; ours:\n{out}"
        );
    }
    assert_eq!(ours.len(), theirs.len());
}

#[test]
fn opentsdb_telnet_without_labels_has_no_trailing_space() {
    let raw = text("captured/opentsdb_telnet_nolabels.raw");
    let lines = graphite_values_for(&["system.load"], &raw);
    let h = host("netdata", "exporthost", &[], false);
    let out = String::from_utf8(encode(
        Connector::OpenTsdb,
        DataSource::Average,
        true,
        &h,
        &lines,
    ))
    .unwrap();
    assert!(!out.is_empty());
    for l in out.lines() {
        assert!(raw.lines().any(|r| r == l), "{l:?} not in the capture");
    }
    // Labels on but none passing: one trailing space, as netdata.
    let h = host("netdata", "exporthost", &[], true);
    let out = encode(
        Connector::OpenTsdb,
        DataSource::Average,
        true,
        &h,
        &lines[..1],
    );
    assert!(out.ends_with(b"host=exporthost \n"));
}

/// Minimal reading of netdata's JSON objects (flat string/number fields, `labels` object).
fn json_objects(body: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
    body.lines()
        .map(|l| l.trim_end_matches(','))
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn encode_json_objects(
    connector: Connector,
    objs: &[serde_json::Map<String, serde_json::Value>],
    h: &HostMeta<'_>,
) -> Vec<u8> {
    let s = |o: &serde_json::Map<String, serde_json::Value>, k: &str| {
        o[k].as_str().unwrap().to_string()
    };
    let collected = objs.iter().all(|o| o["value"].is_i64());
    let source = if collected {
        DataSource::AsCollected
    } else {
        DataSource::Average
    };
    let mut e = Encoder::new(connector, source, true);
    e.begin();
    e.host(h, 0);
    for o in objs {
        let (id, name, family, context, units) = (
            s(o, "chart_id"),
            s(o, "chart_name"),
            s(o, "chart_family"),
            s(o, "chart_context"),
            s(o, "units"),
        );
        let c = ChartMeta {
            id: &id,
            name: &name,
            family: &family,
            context: &context,
            units: &units,
            homogeneous: true,
            prometheus_module: false,
        };
        let (did, dname) = (s(o, "id"), s(o, "name"));
        let d = DimMeta {
            id: &did,
            name: &dname,
            incremental: false,
        };
        let v = if collected {
            Value::Collected(o["value"].as_i64().unwrap())
        } else {
            Value::Stored(o["value"].as_f64().unwrap())
        };
        e.metric(h, &c, &d, v, o["timestamp"].as_i64().unwrap());
    }
    e.finish().to_vec()
}

#[test]
fn json_lines_average_are_byte_exact() {
    let raw = text("captured/json_tcp.raw");
    let objs = json_objects(&raw);
    assert_eq!(objs.len(), 83);
    let l = labels();
    let h = host("netdata", "exporthost", &l, true);
    let out = encode_json_objects(Connector::Json, &objs, &h);
    assert_eq!(String::from_utf8(out).unwrap(), raw);
}

#[test]
fn json_http_as_collected_requests_are_byte_exact_and_opentsdb_http_matches_netdatas() {
    let l = labels();
    let h = host("netdata", "exporthost", &l, true);
    let mut compared = 0;
    for n in 1..=9 {
        let body = text(&format!("captured/http-requests/json_http.req{n:03}.body"));
        let objs = json_objects(&body);
        let out = encode_json_objects(Connector::JsonHttp, &objs, &h);
        assert_eq!(String::from_utf8_lossy(&out), body, "request {n}");
        let mut head = Vec::new();
        request_head(
            &mut head,
            Connector::JsonHttp,
            "",
            "127.0.0.1:28004",
            None,
            out.len(),
        );
        assert_eq!(
            String::from_utf8(head).unwrap(),
            text(&format!("captured/http-requests/json_http.req{n:03}.head"))
        );
        // The same cycle of the opentsdb:http instance (as collected, same charts).
        let tsdb = text(&format!(
            "captured/http-requests/opentsdb_http.req{n:03}.body"
        ));
        let ours =
            String::from_utf8(encode_json_objects(Connector::OpenTsdbHttp, &objs, &h)).unwrap();
        if ours == tsdb {
            compared += 1;
            let auth = base64(b"user:pa:ss");
            let mut head = Vec::new();
            request_head(
                &mut head,
                Connector::OpenTsdbHttp,
                "",
                "127.0.0.1:28003",
                Some(&auth),
                ours.len(),
            );
            assert_eq!(
                String::from_utf8(head).unwrap(),
                text(&format!(
                    "captured/http-requests/opentsdb_http.req{n:03}.head"
                ))
            );
        }
    }
    // Collection times may straddle a cycle between the two instances; most must agree.
    assert!(
        compared >= 5,
        "only {compared} of 9 opentsdb:http bodies matched"
    );
}

#[test]
fn graphite_http_requests_are_byte_exact_including_empty_ones() {
    let l = labels();
    let h = host("netdata", "exporthost", &l, true);
    for n in 1..=9 {
        let body = text(&format!(
            "captured/http-requests/graphite_http.req{n:03}.body"
        ));
        let lines = if body.is_empty() {
            Vec::new()
        } else {
            graphite_lines(&body, "netdata.exporthost.")
        };
        let out = encode(
            Connector::GraphiteHttp,
            DataSource::Average,
            true,
            &h,
            &lines,
        );
        assert_eq!(String::from_utf8_lossy(&out), body, "request {n}");
        let mut head = Vec::new();
        request_head(
            &mut head,
            Connector::GraphiteHttp,
            "",
            "127.0.0.1:28005",
            None,
            out.len(),
        );
        assert_eq!(
            String::from_utf8(head).unwrap(),
            text(&format!(
                "captured/http-requests/graphite_http.req{n:03}.head"
            ))
        );
    }
}

#[test]
fn remote_write_protobuf_equals_the_reference_encoding_and_snappy_round_trips() {
    let input: serde_json::Value =
        serde_json::from_slice(&fixture("remote_write/example-input.json")).unwrap();
    let series = input.as_array().unwrap();
    let info = &series[0];
    let info_labels: Vec<(String, String)> = info[0].as_array().unwrap()[4..]
        .iter()
        .map(|kv| {
            (
                kv[0].as_str().unwrap().to_string(),
                kv[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let h = host("netdata", "exporthost", &info_labels, true);
    let mut e = Encoder::new(Connector::RemoteWrite, DataSource::Average, true);
    e.begin();
    e.host(&h, info[2].as_i64().unwrap());
    for s in &series[1..] {
        let labels = s[0].as_array().unwrap();
        let get = |k: &str| {
            labels
                .iter()
                .find(|kv| kv[0] == k)
                .map(|kv| kv[1].as_str().unwrap().to_string())
                .unwrap()
        };
        let chart_id = get("chart");
        let (family, units) = if chart_id == "system.ip" {
            ("network", "kilobits/s")
        } else {
            ("load", "load")
        };
        let c = chart(&chart_id, family, units);
        let dim = get("dimension");
        let d = DimMeta {
            id: &dim,
            name: &dim,
            incremental: false,
        };
        let ts_ms = s[2].as_i64().unwrap();
        e.metric(
            &h,
            &c,
            &d,
            Value::Stored(s[1].as_f64().unwrap()),
            ts_ms / 1000,
        );
    }
    let compressed = e.finish().to_vec();
    let reference = fixture("remote_write/example-body.snappy.uncompressed");
    assert_eq!(e.raw_body(), reference.as_slice());
    let mut dec = snap::raw::Decoder::new();
    assert_eq!(dec.decompress_vec(&compressed).unwrap(), reference);
    assert_eq!(
        dec.decompress_vec(&fixture("remote_write/example-body.snappy"))
            .unwrap(),
        reference
    );
    let mut head = Vec::new();
    request_head(
        &mut head,
        Connector::RemoteWrite,
        "/api/v1/write",
        "127.0.0.1:28006",
        None,
        compressed.len(),
    );
    assert!(String::from_utf8(head).unwrap().starts_with(
        "POST /api/v1/write HTTP/1.1\r\nHost: 127.0.0.1:28006\r\nAccept: */*\r\nContent-Encoding: snappy\r\n"
    ));
}
