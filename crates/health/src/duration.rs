//! netdata's durations (`every`, lookup times, `delay`, `repeat`): an optional sign, a number
//! (decimals allowed) and a unit `s` `m` `h` `d` `w` `M` `Y` (anything else: seconds),
//! truncated to whole seconds; `never` is 0.

/// Parses a duration, or `None` when it does not start with a digit, `+` or `-`.
pub fn parse(text: &str) -> Option<i64> {
    let t = text.trim();
    if t == "never" {
        return Some(0);
    }
    let first = t.chars().next()?;
    if !(first.is_ascii_digit() || first == '+' || first == '-') {
        return None;
    }
    let (number, rest) = leading_number(t);
    let unit = match rest.chars().next() {
        Some('m') => 60.0,
        Some('h') => 3600.0,
        Some('d') => 86400.0,
        Some('w') => 604_800.0,
        Some('M') => 2_592_000.0,
        Some('Y') => 31_536_000.0,
        _ => 1.0,
    };
    Some((number * unit) as i64)
}

/// netdata's `str2ndd`: the longest number prefix (sign, digits, `.`, digits, exponent) and
/// the rest; 0 when there is none.
pub fn leading_number(t: &str) -> (f64, &str) {
    let b = t.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            i = j;
        }
    }
    let v = t[..i].parse::<f64>().unwrap_or(0.0);
    (v, &t[i..])
}

#[cfg(test)]
mod tests {
    #[test]
    fn units() {
        assert_eq!(super::parse("-10m"), Some(-600));
        assert_eq!(super::parse("1.5h"), Some(5400));
        assert_eq!(super::parse("30s"), Some(30));
        assert_eq!(super::parse("never"), Some(0));
        assert_eq!(super::parse("abc"), None);
        assert_eq!(super::parse("2M"), Some(5_184_000));
    }
}
