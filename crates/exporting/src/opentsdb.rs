//! OpenTSDB: telnet `put PREFIX.CHART.DIM TIMESTAMP VALUE host=HOST[ TAGS][ LABELS]\n` and the
//! HTTP JSON objects of `/api/put` (netdata's `exporting/opentsdb/opentsdb.c`).

use crate::encode::{HostMeta, Value};
use crate::names::{push_f64, push_i64, push_metric_name, push_opentsdb_label_value};

fn push_value(out: &mut Vec<u8>, v: Value) {
    match v {
        Value::Stored(x) => push_f64(out, x),
        Value::Collected(n) => push_i64(out, n),
    }
}

/// Telnet: `PREFIX.` and `host=HOST[ TAGS][ LABELS]` (with labels enabled but none passing, a
/// single trailing space, as netdata).
pub fn telnet_host_parts(h: &HostMeta<'_>, head: &mut Vec<u8>, tail: &mut Vec<u8>) {
    head.extend_from_slice(h.prefix.as_bytes());
    head.push(b'.');
    tail.extend_from_slice(b"host=");
    tail.extend_from_slice(h.hostname.as_bytes());
    if !h.tags.is_empty() {
        tail.push(b' ');
        tail.extend_from_slice(h.tags.as_bytes());
    }
    if h.labels_enabled {
        tail.push(b' ');
        for (i, (name, value)) in h.labels.iter().enumerate() {
            if i > 0 {
                tail.push(b' ');
            }
            tail.extend_from_slice(name.as_bytes());
            tail.push(b'=');
            push_opentsdb_label_value(tail, value);
        }
    }
}

/// Writes one telnet `put` line.
pub fn telnet_line(
    out: &mut Vec<u8>,
    head: &[u8],
    tail: &[u8],
    chart: &str,
    dim: &str,
    v: Value,
    ts: i64,
) {
    out.extend_from_slice(b"put ");
    out.extend_from_slice(head);
    push_metric_name(out, chart);
    out.push(b'.');
    push_metric_name(out, dim);
    out.push(b' ');
    push_i64(out, ts);
    out.push(b' ');
    push_value(out, v);
    out.push(b' ');
    out.extend_from_slice(tail);
    out.push(b'\n');
}

/// HTTP: `PREFIX.` and the tags object's content after `{`:
/// `"host":"HOST[ TAGS]"[,"LABEL":"VALUE"...]`.
pub fn http_host_parts(h: &HostMeta<'_>, head: &mut Vec<u8>, tail: &mut Vec<u8>) {
    head.extend_from_slice(h.prefix.as_bytes());
    head.push(b'.');
    tail.extend_from_slice(b"\"host\":\"");
    tail.extend_from_slice(h.hostname.as_bytes());
    if !h.tags.is_empty() {
        tail.push(b' ');
        tail.extend_from_slice(h.tags.as_bytes());
    }
    tail.push(b'"');
    for (name, value) in h.labels {
        tail.extend_from_slice(b",\"");
        tail.extend_from_slice(name.as_bytes());
        tail.extend_from_slice(b"\":\"");
        push_opentsdb_label_value(tail, value);
        tail.push(b'"');
    }
}

/// Writes one HTTP object (without the separator between objects).
pub fn http_object(
    out: &mut Vec<u8>,
    head: &[u8],
    tail: &[u8],
    chart: &str,
    dim: &str,
    v: Value,
    ts: i64,
) {
    out.extend_from_slice(b"{\"metric\":\"");
    out.extend_from_slice(head);
    push_metric_name(out, chart);
    out.push(b'.');
    push_metric_name(out, dim);
    out.extend_from_slice(b"\",\"timestamp\":");
    push_i64(out, ts);
    out.extend_from_slice(b",\"value\":");
    push_value(out, v);
    out.extend_from_slice(b",\"tags\":{");
    out.extend_from_slice(tail);
    out.extend_from_slice(b"}}");
}
