//! Small helpers to write JSON by hand (the API's hot outputs are written straight into one
//! buffer, as netdata does, instead of building a value tree).

use std::fmt::Write;

/// `write!` into a `String`, which cannot fail.
macro_rules! w {
    ($dst:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        $dst.write_fmt(format_args!($($arg)*)).expect("writing to a String cannot fail")
    }};
}
pub(crate) use w;

/// Appends `s` as a JSON string literal.
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                write!(out, "\\u{:04x}", c as u32).expect("writing to a String cannot fail");
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `"key": ` (with a leading comma unless `first`).
pub fn key(out: &mut String, first: bool, k: &str) {
    if !first {
        out.push_str(",\n");
    }
    out.push('\t');
    string(out, k);
    out.push_str(": ");
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        let mut s = String::new();
        super::string(&mut s, "a\"b\\c\n\u{1}");
        assert_eq!(s, r#""a\"b\\c\n\u0001""#);
    }
}
