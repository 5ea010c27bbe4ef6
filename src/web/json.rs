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

/// Appends `s` as a JSON string literal: runs without anything to escape are copied whole.
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    escaped(out, s);
    out.push('"');
}

/// Appends the inside of a JSON string literal of `s` (escaped, without the quotes).
pub fn escaped(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            c if c < 0x20 => "",
            _ => continue,
        };
        // every byte matched above is ASCII, so `i` is a char boundary
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            write!(out, "\\u{:04x}", b).expect("writing to a String cannot fail");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
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
        s.clear();
        super::string(&mut s, "plain ünïcode\tend\r");
        assert_eq!(s, r#""plain ünïcode\tend\r""#);
    }
}
