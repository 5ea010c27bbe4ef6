//! netdata's way of printing a stored value in the API (`print_netdata_double`): at most seven
//! decimals, fraction rounded half-to-even, trailing zeros dropped, never an exponent.

use std::fmt::Write;

/// Appends `value` to `out` as netdata prints it; NaN prints `null`.
pub fn write_netdata_f64(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("null");
        return;
    }
    let mut v = value;
    if v < 0.0 {
        out.push('-');
        v = -v;
    }
    if v.is_infinite() {
        out.push_str("null");
        return;
    }
    let integral = v.trunc();
    let mut frac = (v.fract() * 10_000_000.0).round_ties_even() as u64;
    let mut int = integral as u64;
    if frac >= 10_000_000 {
        int += 1;
        frac -= 10_000_000;
    }
    write!(out, "{int}").expect("writing to a String cannot fail");
    if frac != 0 {
        let mut digits = [b'0'; 7];
        let mut f = frac;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (f % 10) as u8;
            f /= 10;
        }
        let mut end = 7;
        while end > 0 && digits[end - 1] == b'0' {
            end -= 1;
        }
        out.push('.');
        out.push_str(std::str::from_utf8(&digits[..end]).expect("ascii digits"));
    }
}

/// `value` printed as netdata prints it.
pub fn netdata_f64(value: f64) -> String {
    let mut s = String::new();
    write_netdata_f64(&mut s, value);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_netdata() {
        assert_eq!(netdata_f64(0.8999999999999999), "0.9");
        assert_eq!(netdata_f64(1e-8), "0");
        assert_eq!(netdata_f64(-21894.375), "-21894.375");
        assert_eq!(netdata_f64(127407410000.0), "127407410000");
        assert_eq!(netdata_f64(3666.6667), "3666.6667");
        assert_eq!(netdata_f64(0.000013), "0.000013");
        assert_eq!(netdata_f64(f64::NAN), "null");
        assert_eq!(netdata_f64(0.99999999), "1");
    }
}
