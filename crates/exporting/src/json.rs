//! netdata's JSON exporter: one object per dimension, lines over TCP or an array over HTTP
//! (`exporting/json/json.c`). Two variants, byte for byte: `as collected` objects have no
//! spaces; `average`/`sum` objects have `": "` after `chart_context`, `units` and `timestamp`.

use crate::encode::{ChartMeta, DimMeta, HostMeta, Value};
use crate::names::{push_f64, push_i64, push_json_label_value};

/// Renders `{"prefix":"P","hostname":"H",[host_tags][labels]` for host `h`.
pub fn host_parts(h: &HostMeta<'_>, head: &mut Vec<u8>) {
    head.extend_from_slice(b"{\"prefix\":\"");
    head.extend_from_slice(h.prefix.as_bytes());
    head.extend_from_slice(b"\",\"hostname\":\"");
    head.extend_from_slice(h.hostname.as_bytes());
    head.extend_from_slice(b"\",");
    if !h.tags.is_empty() {
        head.extend_from_slice(b"\"host_tags\":");
        if h.tags.starts_with(['{', '[', '"']) {
            head.extend_from_slice(h.tags.as_bytes());
        } else {
            head.push(b'"');
            head.extend_from_slice(h.tags.as_bytes());
            head.push(b'"');
        }
        head.push(b',');
    }
    if h.labels_enabled {
        head.extend_from_slice(b"\"labels\":{");
        for (i, (name, value)) in h.labels.iter().enumerate() {
            if i > 0 {
                head.push(b',');
            }
            head.push(b'"');
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b"\":\"");
            push_json_label_value(head, value);
            head.push(b'"');
        }
        head.extend_from_slice(b"},");
    }
}

/// Writes one object (no trailing newline or separator).
pub fn object(
    out: &mut Vec<u8>,
    head: &[u8],
    c: &ChartMeta<'_>,
    d: &DimMeta<'_>,
    v: Value,
    ts: i64,
) {
    let spaced = matches!(v, Value::Stored(_));
    let sep: &[u8] = if spaced { b"\": " } else { b"\":" };
    out.extend_from_slice(head);
    for (key, text) in [
        ("chart_id", c.id),
        ("chart_name", c.name),
        ("chart_family", c.family),
    ] {
        field(out, key, b"\":", text);
    }
    field(out, "chart_context", sep, c.context);
    field(out, "chart_type", b"\":", c.type_part());
    field(out, "units", sep, c.units);
    field(out, "id", b"\":", d.id);
    field(out, "name", b"\":", d.name);
    out.extend_from_slice(b"\"value\":");
    match v {
        Value::Stored(x) => push_f64(out, x),
        Value::Collected(n) => push_i64(out, n),
    }
    out.extend_from_slice(b",\"timestamp");
    out.extend_from_slice(sep);
    push_i64(out, ts);
    out.push(b'}');
}

fn field(out: &mut Vec<u8>, key: &str, sep: &[u8], text: &str) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(sep);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\",");
}
