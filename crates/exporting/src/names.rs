//! netdata's name and label sanitizers, one per format, writing straight into the output
//! buffer (no allocation per value), and its number formats.

use std::io::Write as _;

/// `exporting_name_copy` (graphite, opentsdb): every byte that is not ASCII alphanumeric and
/// not `.` becomes `_`; at most 200 bytes.
pub fn push_metric_name(out: &mut Vec<u8>, s: &str) {
    out.extend(s.bytes().take(200).map(|b| {
        if b.is_ascii_alphanumeric() || b == b'.' {
            b
        } else {
            b'_'
        }
    }));
}

/// Prometheus names (remote write): every byte that is not ASCII alphanumeric becomes `_`.
pub fn push_prometheus_name(out: &mut Vec<u8>, s: &str) {
    out.extend(
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() { b } else { b'_' }),
    );
}

/// Prometheus label values (remote write): `"`, `\` and newline get a `\` in front.
pub fn push_prometheus_label_value(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        if matches!(b, b'"' | b'\\' | b'\n') {
            out.push(b'\\');
        }
        out.push(b);
    }
}

/// Graphite label values: C `isspace` characters, `;` and `~` become `_`.
pub fn push_graphite_label_value(out: &mut Vec<u8>, s: &str) {
    out.extend(s.bytes().map(|b| {
        if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b';' | b'~') {
            b'_'
        } else {
            b
        }
    }));
}

/// OpenTSDB label values: ASCII letters, digits, `-`, `.`, `/` and bytes from 0x80 are kept,
/// everything else becomes `_`.
pub fn push_opentsdb_label_value(out: &mut Vec<u8>, s: &str) {
    out.extend(s.bytes().map(|b| {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'/') || b >= 0x80 {
            b
        } else {
            b'_'
        }
    }));
}

/// JSON label values: `\` and `"` get a `\` in front; bytes whose signed value is below 0x1F
/// (controls 0x00-0x1E and every byte from 0x80) become `_`.
pub fn push_json_label_value(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        if !(0x1F..0x80).contains(&b) {
            out.push(b'_');
        } else {
            if b == b'\\' || b == b'"' {
                out.push(b'\\');
            }
            out.push(b);
        }
    }
}

/// A stored value as netdata prints it: C's `%0.7f`.
pub fn push_f64(out: &mut Vec<u8>, v: f64) {
    let _infallible = write!(out, "{v:.7}");
}

/// An integer as C's `%lld` / `%llu`.
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    let _infallible = write!(out, "{v}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: fn(&mut Vec<u8>, &str), s: &str) -> String {
        let mut v = Vec::new();
        f(&mut v, s);
        String::from_utf8_lossy(&v).into_owned()
    }

    #[test]
    fn sanitizers_keep_what_netdata_keeps() {
        assert_eq!(run(push_metric_name, "disk.sda-1 x"), "disk.sda_1_x");
        assert_eq!(run(push_metric_name, &"a".repeat(300)).len(), 200);
        assert_eq!(run(push_prometheus_name, "system.ip"), "system_ip");
        assert_eq!(
            run(push_graphite_label_value, "lab one:x_y;~"),
            "lab_one:x_y__"
        );
        assert_eq!(
            run(push_opentsdb_label_value, "lab one:x_y/é"),
            "lab_one_x_y/é"
        );
        assert_eq!(run(push_json_label_value, "a\"b\\c\td"), "a\\\"b\\\\c_d");
        assert_eq!(run(push_prometheus_label_value, "a\"\n"), "a\\\"\\\n");
    }

    #[test]
    fn numbers_print_as_c_does() {
        let mut v = Vec::new();
        push_f64(&mut v, -14.0367997);
        v.push(b' ');
        push_f64(&mut v, 0.0);
        v.push(b' ');
        push_f64(&mut v, 99.24622166666);
        v.push(b' ');
        push_i64(&mut v, -86722466239);
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "-14.0367997 0.0000000 99.2462217 -86722466239"
        );
    }
}
