//! Which stored points one export cycle covers and the value made of them (netdata's
//! `exporting_calculate_value_from_stored_data`): for a cycle `(after, before]` and a chart
//! collected every `ue` seconds, step back two collections, align to `ue`, lose one more
//! iteration at the end (it is reported next time), clamp to what is stored; the value is the
//! average (or sum) of the non-empty points, its timestamp the window's end. Consecutive
//! cycles therefore never overlap.

use tributary_rrd::chart::ChartState;

use crate::config::DataSource;

/// The inclusive window `[a, b]` of slot times for the cycle `(after, before]` of a chart
/// collected every `ue` seconds, before clamping to the database.
pub fn aligned(after: i64, before: i64, ue: i64) -> (i64, i64) {
    let ue = ue.max(1);
    let mut a = after - 2 * ue;
    let mut b = before - 2 * ue;
    a -= a.rem_euclid(ue);
    b -= b.rem_euclid(ue);
    b -= ue;
    if a > b {
        a = b;
    }
    (a, b)
}

/// The value of dimension `dim` for the cycle `(after, before]` and its timestamp, or `None`
/// when the chart has no point there (netdata's NaN: the dimension is skipped).
pub fn stored_value(
    st: &ChartState,
    dim: usize,
    after: i64,
    before: i64,
    source: DataSource,
) -> Option<(f64, i64)> {
    let ue = st.update_every();
    let last = st.last_entry_t();
    if last == 0 {
        return None;
    }
    let first = st.first_entry_t() + ue;
    let (mut a, mut b) = aligned(after, before, ue);
    if a < first {
        a = first;
    }
    if b > last {
        b = last;
    }
    if b < first || a > last {
        return None;
    }
    let mut sum = 0.0;
    let mut count = 0u32;
    let mut t = a;
    let mut cursor = st.cursor(dim);
    while t <= b {
        if let Some(v) = cursor.value_at(t)
            && !v.is_nan()
        {
            sum += v;
            count += 1;
        }
        t += ue;
    }
    if count == 0 {
        return None;
    }
    let v = match source {
        DataSource::Sum => sum,
        _ => sum / f64::from(count),
    };
    Some((v, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_netdatas() {
        // now=…849, ue=1 → timestamp …846 (window …837..…846) [spec §3, verified]
        assert_eq!(aligned(1795573839, 1795573849, 1), (1795573837, 1795573846));
        // json_tcp (instance every 5 s, charts every 1 s): batch at …834 → timestamp …831
        assert_eq!(aligned(1795573829, 1795573834, 1).1, 1795573831);
        // ue=10 internal charts at now=…939 → …900
        assert_eq!(aligned(1795573929, 1795573939, 10).1, 1795573900);
        // consecutive cycles do not overlap
        let (_, b1) = aligned(100, 110, 1);
        let (a2, _) = aligned(110, 120, 1);
        assert_eq!(a2, b1 + 1);
    }
}
