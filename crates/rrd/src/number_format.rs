//! netdata's way of printing a stored value in the API (`print_netdata_double`): at most seven
//! decimals, fraction rounded half-to-even, trailing zeros dropped, never an exponent.
//! Written straight into the caller's `String` (the API's response buffer): no allocation,
//! no formatting machinery.

use crate::storage_number::{
    SN_FLAG_MUL100, SN_FLAG_MULTIPLY, SN_FLAG_NEGATIVE, StorageNumber, unpack,
};

/// Two decimal digits of every number below 100, as `str` so that they are appended with
/// `push_str` of a slice (no UTF-8 validation, no per-byte loop).
const PAIRS: &str = "\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends the two digits of `n < 100`.
#[inline]
fn push_pair(out: &mut String, n: u32) {
    let p = n as usize * 2;
    out.push_str(&PAIRS[p..p + 2]);
}

/// Appends `n` in decimal: the leading one or two digits, then pairs.
fn push_u64(out: &mut String, n: u64) {
    if n >= 100 {
        push_u64(out, n / 100);
        push_pair(out, (n % 100) as u32);
    } else if n >= 10 {
        push_pair(out, n as u32);
    } else {
        out.push(char::from(b'0' + n as u8));
    }
}

/// Appends `n` in decimal, as `format!("{n}")` would, without the formatting machinery.
#[inline]
pub fn write_u64(out: &mut String, n: u64) {
    push_u64(out, n);
}

/// Appends `n` in decimal (with a `-` when negative).
#[inline]
pub fn write_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Below this, `as i64` truncates exactly and the fraction has room for seven decimals.
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0; // 2^53

/// Trailing decimal zeros of `0 < f < 10^7`, counted without a data-dependent branch (the
/// number of decimals differs from value to value; a loop would mispredict on most).
#[inline]
fn trailing_zeros(f: u32) -> usize {
    usize::from(f.is_multiple_of(10))
        + usize::from(f.is_multiple_of(100))
        + usize::from(f.is_multiple_of(1_000))
        + usize::from(f.is_multiple_of(10_000))
        + usize::from(f.is_multiple_of(100_000))
        + usize::from(f.is_multiple_of(1_000_000))
}

/// Trailing zeros of a pair of digits (`00` counts two).
const PAIR_TZ: [u8; 100] = {
    let mut t = [0u8; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = if i == 0 {
            2
        } else if i % 10 == 0 {
            1
        } else {
            0
        };
        i += 1;
    }
    t
};

/// Trailing zeros of the seven decimals `d p1 p2 p3` (not all zero), from the three pairs by
/// table, without a branch.
#[inline]
fn pair_trailing_zeros(p1: u32, p2: u32, p3: u32) -> usize {
    let t = |p: u32| usize::from(PAIR_TZ[p as usize]);
    let (z2, z3) = (usize::from(p2 == 0), usize::from(p3 == 0));
    t(p3) + z3 * (t(p2) + z2 * t(p1))
}

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
    let (mut int, mut frac) = if v < EXACT_INTEGERS {
        // trunc(), fract() and round-half-to-even of the scaled fraction by signed casts
        // (one instruction each on x86-64, where unsigned ones and trunc/rint are calls or
        // sequences), and without a branch on the rounding (the fractions are random).
        let int = v as i64;
        let scaled = (v - int as f64) * 10_000_000.0;
        let frac = scaled as i64;
        let rest = scaled - frac as f64;
        let up = (rest > 0.5) | ((rest == 0.5) & (frac & 1 == 1));
        (int as u64, frac as u64 + u64::from(up))
    } else {
        let frac = (v.fract() * 10_000_000.0).round_ties_even() as u64;
        (v.trunc() as u64, frac)
    };
    if frac >= 10_000_000 {
        int += 1;
        frac -= 10_000_000;
    }
    push_u64(out, int);
    if frac != 0 {
        // seven decimals (one digit, three pairs), then the trailing zeros cut off
        let f = frac as u32;
        out.push('.');
        out.push(char::from(b'0' + (f / 1_000_000) as u8));
        let r = f % 1_000_000;
        push_pair(out, r / 10_000);
        let r = r % 10_000;
        push_pair(out, r / 100);
        push_pair(out, r % 100);
        out.truncate(out.len() - trailing_zeros(f));
    }
}

/// Writes the integer digits of `n` (`digits` of them) at the start of `buf`.
#[inline]
fn put_u64(buf: &mut [u8], mut n: u64, digits: usize) {
    let mut i = digits;
    while n >= 100 {
        let p = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS.as_bytes()[p..p + 2]);
    }
    if n >= 10 {
        let p = n as usize * 2;
        buf[i - 2..i].copy_from_slice(&PAIRS.as_bytes()[p..p + 2]);
    } else {
        buf[i - 1] = b'0' + n as u8;
    }
}

/// Formats `value` (finite) as [`write_netdata_f64`] does at the start of `buf` (32 bytes:
/// a sign, 20 digits, the point and 7 decimals fit); returns the length.
#[inline]
fn format_netdata_f64(value: f64, buf: &mut [u8]) -> usize {
    let neg = value < 0.0;
    let v = value.abs();
    let (mut int, mut frac) = if v < EXACT_INTEGERS {
        let int = v as i64;
        let scaled = (v - int as f64) * 10_000_000.0;
        let frac = scaled as i64;
        let rest = scaled - frac as f64;
        let up = (rest > 0.5) | ((rest == 0.5) & (frac & 1 == 1));
        (int as u64, frac as u64 + u64::from(up))
    } else {
        let frac = (v.fract() * 10_000_000.0).round_ties_even() as u64;
        (v.trunc() as u64, frac)
    };
    if frac >= 10_000_000 {
        int += 1;
        frac -= 10_000_000;
    }
    let sign = usize::from(neg);
    buf[0] = b'-';
    let digits = int.checked_ilog10().unwrap_or(0) as usize + 1;
    put_u64(&mut buf[sign..], int, digits);
    let point = sign + digits;
    let f = frac as u32;
    let pair = |buf: &mut [u8], at: usize, n: u32| {
        let p = n as usize * 2;
        buf[at..at + 2].copy_from_slice(&PAIRS.as_bytes()[p..p + 2]);
    };
    buf[point] = b'.';
    // each digit group straight from `f` (independent divisions by constants, not a chain)
    let (p1, p2, p3) = (f / 10_000 % 100, f / 100 % 100, f % 100);
    buf[point + 1] = b'0' + (f / 1_000_000) as u8;
    pair(buf, point + 2, p1);
    pair(buf, point + 4, p2);
    pair(buf, point + 6, p3);
    if f == 0 {
        point
    } else {
        point + 8 - pair_trailing_zeros(p1, p2, p3)
    }
}

/// [`write_netdata_f64`] into a byte buffer (the API's response buffer): 32 bytes are added
/// with one fixed-size store, the number written into them, the unused tail cut off. (A
/// stack buffer copied afterwards would stall on store forwarding.)
pub fn write_netdata_f64_bytes(out: &mut Vec<u8>, value: f64) {
    if !value.is_finite() {
        // NaN and ±inf (netdata prints `-null` for -inf; the sign is of no use to anyone)
        if value == f64::NEG_INFINITY {
            out.push(b'-');
        }
        out.extend_from_slice(b"null");
        return;
    }
    let at = out.len();
    out.extend_from_slice(&[0u8; 32]);
    let n = format_netdata_f64(value, &mut out[at..]);
    out.truncate(at + n);
}

/// Powers of ten that fit a u64, for the storage-number printer.
const POW10: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// Appends what [`write_netdata_f64_bytes`] appends for `unpack(sn)` (made absolute with
/// `absolute`), from the storage number's decimal mantissa and exponent in integer arithmetic
/// — exact, since a stored number has at most seven decimals — instead of through a double.
/// `sn` must not be the empty slot.
pub fn write_storage_number_bytes(out: &mut Vec<u8>, sn: StorageNumber, absolute: bool) {
    let mantissa = u64::from(sn & 0x00ff_ffff);
    let m = ((sn >> 27) & 7) as usize;
    let multiply = sn & SN_FLAG_MULTIPLY != 0;
    let neg = sn & SN_FLAG_NEGATIVE != 0 && mantissa != 0 && !absolute;
    let (int, frac) = if sn & SN_FLAG_MUL100 != 0 {
        // ×100^m: may not fit an exact integer; the double path prints it
        let v = unpack(sn);
        write_netdata_f64_bytes(out, if absolute { v.abs() } else { v });
        return;
    } else if multiply {
        (mantissa * POW10[m], 0)
    } else {
        // one arm per exponent: division by a constant is a multiplication
        let (int, rem) = match m {
            0 => (mantissa, 0),
            1 => (mantissa / 10, mantissa % 10),
            2 => (mantissa / 100, mantissa % 100),
            3 => (mantissa / 1_000, mantissa % 1_000),
            4 => (mantissa / 10_000, mantissa % 10_000),
            5 => (mantissa / 100_000, mantissa % 100_000),
            6 => (mantissa / 1_000_000, mantissa % 1_000_000),
            _ => (mantissa / 10_000_000, mantissa % 10_000_000),
        };
        (int, rem * POW10[7 - m])
    };
    let at = out.len();
    out.extend_from_slice(&[0u8; 32]);
    let buf = &mut out[at..];
    let sign = usize::from(neg);
    buf[0] = b'-';
    let digits = int.checked_ilog10().unwrap_or(0) as usize + 1;
    put_u64(&mut buf[sign..], int, digits);
    let point = sign + digits;
    let f = frac as u32;
    let len = if f == 0 {
        point
    } else {
        let pair = |buf: &mut [u8], at: usize, n: u32| {
            let p = n as usize * 2;
            buf[at..at + 2].copy_from_slice(&PAIRS.as_bytes()[p..p + 2]);
        };
        buf[point] = b'.';
        // each digit group straight from `f` (independent divisions by constants)
        let (p1, p2, p3) = (f / 10_000 % 100, f / 100 % 100, f % 100);
        buf[point + 1] = b'0' + (f / 1_000_000) as u8;
        pair(buf, point + 2, p1);
        pair(buf, point + 4, p2);
        pair(buf, point + 6, p3);
        point + 8 - pair_trailing_zeros(p1, p2, p3)
    };
    out.truncate(at + len);
}

/// [`write_i64`] into a byte buffer.
pub fn write_i64_bytes(out: &mut Vec<u8>, n: i64) {
    let at = out.len();
    out.extend_from_slice(&[0u8; 32]);
    let sign = usize::from(n < 0);
    out[at] = b'-';
    let v = n.unsigned_abs();
    let digits = v.checked_ilog10().unwrap_or(0) as usize + 1;
    put_u64(&mut out[at + sign..], v, digits);
    out.truncate(at + sign + digits);
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
        assert_eq!(netdata_f64(0.5), "0.5");
        assert_eq!(netdata_f64(0.00000005), "0");
        assert_eq!(netdata_f64(0.00000015), "0.0000002");
        assert_eq!(netdata_f64(-0.0), "0");
        assert_eq!(netdata_f64(1e300), format!("{}", u64::MAX));
        assert_eq!(netdata_f64(9.5e15), "9500000000000000");
    }

    /// The cast-based rounding prints what trunc/fract/round_ties_even print.
    #[test]
    fn the_fast_path_prints_as_the_libm_path() {
        fn reference(value: f64) -> String {
            let mut out = String::new();
            let mut v = value;
            if v < 0.0 {
                out.push('-');
                v = -v;
            }
            let mut frac = (v.fract() * 10_000_000.0).round_ties_even() as u64;
            let mut int = v.trunc() as u64;
            if frac >= 10_000_000 {
                int += 1;
                frac -= 10_000_000;
            }
            out.push_str(&int.to_string());
            if frac != 0 {
                let f = format!("{frac:07}");
                out.push('.');
                out.push_str(f.trim_end_matches('0'));
            }
            out
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = match i % 4 {
                0 => (x % 100_000_000) as f64 / 1000.0,
                1 => f64::from_bits(x) % 1e9,
                2 => (x % 1_000_000) as f64 / 10_000_000.0 - 0.05,
                _ => (x >> 11) as f64 * 0.5f64.powi((x % 64) as i32),
            };
            if !v.is_finite() {
                continue;
            }
            assert_eq!(netdata_f64(v), reference(v), "{v:e}");
        }
        for n in [0u64, 9, 10, 99, 100, 12345, u64::MAX] {
            let mut s = String::new();
            write_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        let mut s = String::new();
        write_i64(&mut s, i64::MIN);
        assert_eq!(s, i64::MIN.to_string());
    }

    /// A storage number prints exactly as its unpacked double does, for every bit pattern.
    #[test]
    fn storage_numbers_print_as_their_doubles() {
        use crate::storage_number::{SN_EMPTY_SLOT, pack, unpack};
        let mut x: u64 = 0xdead_beef_cafe_f00d;
        let check = |sn: u32| {
            if sn == SN_EMPTY_SLOT {
                return;
            }
            for absolute in [false, true] {
                let v = unpack(sn);
                let mut want = Vec::new();
                write_netdata_f64_bytes(&mut want, if absolute { v.abs() } else { v });
                let mut got = Vec::new();
                write_storage_number_bytes(&mut got, sn, absolute);
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want),
                    "sn {sn:#010x} ({v:e}) absolute {absolute}"
                );
            }
        };
        for _ in 0..1_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            check(x as u32);
            check(pack((x % 100_000_000) as f64 / 1000.0 - 30_000.0, 0));
        }
        for v in [0.0, 1.0, -1.0, 0.1, 2.9999999, 16_777_215.0, 1e-7, 1.5e-7] {
            check(pack(v, 0));
        }
    }

    /// The byte writers write what the `String` writers write.
    #[test]
    fn byte_writers_write_the_same() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut values = vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            1e300,
            -1e300,
            0.99999999,
            -21894.375,
            9.5e15,
        ];
        for i in 0..100_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(match i % 3 {
                0 => (x % 100_000_000) as f64 / 1000.0 - 50_000.0,
                1 => f64::from_bits(x),
                _ => (x >> 11) as f64 * 0.5f64.powi((x % 64) as i32),
            });
        }
        for v in values {
            let mut s = String::new();
            write_netdata_f64(&mut s, v);
            let mut b = b"x".to_vec();
            write_netdata_f64_bytes(&mut b, v);
            let want = if v == f64::NEG_INFINITY {
                "-null".to_string()
            } else {
                s
            };
            assert_eq!(&b[1..], want.as_bytes(), "{v:e}");
        }
        for n in [0i64, 7, -7, 10, 99, -100, 1_795_569_304, i64::MIN, i64::MAX] {
            let mut b = Vec::new();
            write_i64_bytes(&mut b, n);
            assert_eq!(b, n.to_string().into_bytes());
        }
    }
}
