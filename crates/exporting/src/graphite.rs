//! Graphite plaintext: `PREFIX.HOST.CHART.DIM[;TAGS][;LABEL=VALUE...] VALUE TIMESTAMP\n`
//! (netdata's `exporting/graphite/graphite.c`). graphite:http sends the same lines as the body
//! of a POST.

use crate::encode::{HostMeta, Value};
use crate::names::{push_f64, push_graphite_label_value, push_i64, push_metric_name};

/// Renders the parts of every line of host `h`: `PREFIX.HOST.` and `[;TAGS][LABELS]`.
pub fn host_parts(h: &HostMeta<'_>, head: &mut Vec<u8>, tail: &mut Vec<u8>) {
    head.extend_from_slice(h.prefix.as_bytes());
    head.push(b'.');
    head.extend_from_slice(h.hostname.as_bytes());
    head.push(b'.');
    if !h.tags.is_empty() {
        tail.push(b';');
        tail.extend_from_slice(h.tags.as_bytes());
    }
    for (name, value) in h.labels {
        tail.push(b';');
        tail.extend_from_slice(name.as_bytes());
        tail.push(b'=');
        push_graphite_label_value(tail, value);
    }
}

/// Writes one line.
pub fn line(
    out: &mut Vec<u8>,
    head: &[u8],
    tail: &[u8],
    chart: &str,
    dim: &str,
    v: Value,
    ts: i64,
) {
    out.extend_from_slice(head);
    push_metric_name(out, chart);
    out.push(b'.');
    push_metric_name(out, dim);
    out.extend_from_slice(tail);
    out.push(b' ');
    match v {
        Value::Stored(x) => push_f64(out, x),
        Value::Collected(n) => push_i64(out, n),
    }
    out.push(b' ');
    push_i64(out, ts);
    out.push(b'\n');
}
