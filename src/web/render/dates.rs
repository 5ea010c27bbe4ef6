//! Calendar dates of the csv-like and datatable formats. netdata prints them in the agent's
//! local time zone; tributary prints UTC (the zone of every capture and test machine so far).

use super::out::Out;
use crate::web::json::w;

/// (year, month 1-12, day, hour, minute, second) of a unix time, UTC.
pub fn civil(t: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    // Howard Hinnant's days-from-civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        (secs % 3600 / 60) as u32,
        (secs % 60) as u32,
    )
}

/// `YYYY-MM-DD HH:MM:SS`.
pub fn write_date(out: &mut Out, t: i64) {
    let (y, mo, d, h, mi, s) = civil(t);
    w!(out, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
}

/// `Date(Y,M0,D,h,m,s)` (months from 0, as JavaScript).
pub fn write_js_date(out: &mut Out, t: i64) {
    let (y, mo, d, h, mi, s) = civil(t);
    w!(out, "Date({y},{},{d},{h},{mi},{s})", mo - 1);
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture_dates() {
        let mut s = super::Out::default();
        super::write_date(&mut s, 1_795_569_304);
        assert_eq!(s.into_string(), "2026-11-25 01:15:04");
        let mut s = super::Out::default();
        super::write_js_date(&mut s, 1_795_569_304);
        assert_eq!(s.into_string(), "Date(2026,10,25,1,15,4)");
    }
}
