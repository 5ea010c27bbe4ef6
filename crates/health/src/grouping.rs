//! The data API's grouping methods over one dimension's points of a lookup window.

use crate::lookup::Method;

/// Reduces `points` (oldest first, no NaN) with `method`; NaN when there are none. The
/// semantics are those of netdata's data API groupings (as `src/web/query.rs` implements them
/// for `/api/v1/data`): `min`/`max` pick the value of smallest/largest magnitude, `ses`/`des`
/// smooth with alpha = 2 / (min(points, 15) + 1), percentiles and trimmed means average a
/// share of the sorted points, trimmed medians cut by value range.
pub fn group(method: Method, points: &mut [f64]) -> f64 {
    let n = points.len();
    if n == 0 {
        return f64::NAN;
    }
    let nf = n as f64;
    let alpha = 2.0 / (nf.min(15.0) + 1.0);
    match method {
        Method::Average => points.iter().sum::<f64>() / nf,
        Method::Min => extreme(points, |v, e| v.abs() < e.abs()),
        Method::Max => extreme(points, |v, e| v.abs() > e.abs()),
        Method::Sum => points.iter().sum(),
        Method::IncrementalSum => {
            if n == 1 {
                0.0
            } else {
                points[n - 1] - points[0]
            }
        }
        Method::Median => median(points, 0.0),
        Method::TrimmedMedian(pct) => median(points, f64::from(pct) / 100.0),
        Method::TrimmedMean(pct) => share_average(points, 1.0 - f64::from(pct) / 100.0 * 2.0, true),
        Method::Percentile(pct) => share_average(points, f64::from(pct) / 100.0, false),
        Method::Stddev => stddev(points),
        Method::Cv => {
            let mean = points.iter().sum::<f64>() / nf;
            let v = stddev(points) / mean.abs() * 100.0;
            if v.is_finite() { v } else { f64::NAN }
        }
        Method::CountIf => points.iter().filter(|v| **v == 0.0).count() as f64 * 100.0 / nf,
        Method::Ses => {
            let mut level = points[0];
            for v in points.iter() {
                level = alpha * v + (1.0 - alpha) * level;
            }
            level
        }
        Method::Des => {
            let (mut level, mut trend) = (points[0], points[0]);
            for (i, v) in points.iter().enumerate().skip(1) {
                if i == 1 {
                    trend = v - trend;
                    level = *v;
                }
                let last = level;
                level = alpha * v + (1.0 - alpha) * (level + trend);
                trend = alpha * (level - last) + (1.0 - alpha) * trend;
            }
            level
        }
    }
}

fn extreme(points: &[f64], better: impl Fn(f64, f64) -> bool) -> f64 {
    let mut e = points[0];
    for &v in &points[1..] {
        if better(v, e) {
            e = v;
        }
    }
    e
}

fn sort(points: &mut [f64]) {
    points.sort_by(f64::total_cmp);
}

/// The median, after dropping the values within `trim` × (max − min) of either end.
fn median(points: &mut [f64], trim: f64) -> f64 {
    let n = points.len();
    if n == 1 {
        return points[0];
    }
    sort(points);
    let s = &*points;
    let (mut start, mut end) = (0, n - 1);
    if trim > 0.0 {
        let delta = (s[n - 1] - s[0]) * trim;
        let (lo, hi) = (s[0] + delta, s[n - 1] - delta);
        while start < n && s[start] < lo {
            start += 1;
        }
        while end > start && s[end] > hi {
            end -= 1;
        }
    }
    if start >= end {
        s[start.min(n - 1)]
    } else {
        median_sorted(&s[start..=end])
    }
}

/// The average of the `share` (0..1) of the sorted points: the lowest ones (percentile) or the
/// middle ones (trimmed mean), interpolating the next point for a fractional share; walked
/// from the top when any value is negative.
fn share_average(points: &mut [f64], share: f64, middle: bool) -> f64 {
    let n = points.len();
    if n == 1 {
        return points[0];
    }
    sort(points);
    let s = &*points;
    let (min, max) = (s[0], s[n - 1]);
    if min == max {
        return min;
    }
    let use_n = ((n as f64 * share) as usize).max(1);
    let pct_use = use_n as f64 / n as f64;
    let delta = share - pct_use;
    let (mut interp, mut last_w) = (0.0, 0.0);
    if delta > 0.0 {
        let one = (use_n + 1) as f64 / n as f64 - pct_use;
        interp = delta / one;
        last_w = 1.0 - interp;
    }
    let skip = if middle { (n - use_n) / 2 } else { 0 } as i64;
    let (start, step): (i64, i64) = if min >= 0.0 && max >= 0.0 {
        (skip, 1)
    } else {
        (n as i64 - 1 - skip, -1)
    };
    let stop = start + step * use_n as i64;
    let last = stop - step;
    let mut sum = 0.0;
    let mut i = start;
    while i != stop {
        sum += s[i as usize];
        i += step;
    }
    let mut counted = use_n;
    if interp > 0.0 && stop >= 0 && (stop as usize) < n {
        sum += s[stop as usize] * interp + s[last as usize] * last_w;
        counted += 1;
    }
    sum / counted as f64
}

/// netdata's `median_on_sorted_series`: for an even count above 2 it averages the elements
/// at n/2 and n/2+1 (so 0..9 gives 5.5, as the real agent answered).
fn median_sorted(s: &[f64]) -> f64 {
    match s.len() {
        0 => f64::NAN,
        1 => s[0],
        2 => (s[0] + s[1]) / 2.0,
        n if n % 2 == 0 => {
            let m = n / 2;
            (s[m] + s[(m + 1).min(n - 1)]) / 2.0
        }
        n => s[n / 2],
    }
}

fn stddev(points: &[f64]) -> f64 {
    let n = points.len();
    if n < 2 {
        return 0.0;
    }
    let mean = points.iter().sum::<f64>() / n as f64;
    let var = points.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    var.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_0_to_9(m: Method) -> f64 {
        let mut v: Vec<f64> = (0..10).map(f64::from).collect();
        group(m, &mut v)
    }

    #[test]
    fn netdata_values_on_a_0_to_9_series() {
        // lab.seq of fixtures/health/lookup-and-template-results.json
        assert_eq!(on_0_to_9(Method::Average), 4.5);
        assert_eq!(on_0_to_9(Method::Median), 5.5);
        assert_eq!(on_0_to_9(Method::Sum), 45.0);
        assert_eq!(on_0_to_9(Method::IncrementalSum), 9.0);
        assert!((on_0_to_9(Method::Stddev) - 3.0276504).abs() < 1e-6);
        assert!((on_0_to_9(Method::Cv) - 67.281119).abs() < 1e-5);
        assert_eq!(on_0_to_9(Method::CountIf), 10.0);
        assert_eq!(on_0_to_9(Method::TrimmedMedian(5)), 5.5);
        assert!((on_0_to_9(Method::Percentile(95)) - 4.45).abs() < 1e-9);
        assert_eq!(on_0_to_9(Method::TrimmedMean(5)), 4.0);
        assert_eq!(on_0_to_9(Method::Max), 9.0);
        // the lab's window of s = time % 10 was 1..9,0 in the capture
        // (fixtures/health/lookup-and-template-results.json)
        let lab = || -> Vec<f64> { (1..10).chain(0..1).map(f64::from).collect() };
        assert!((group(Method::Ses, &mut lab()) - 4.4211867).abs() < 1e-7);
        assert!((group(Method::Des, &mut lab()) - 8.0198347).abs() < 1e-7);
        assert_eq!(group(Method::IncrementalSum, &mut lab()), -1.0);
        // and the spec's figures (ses 4.2392144, des 5.5988504) are the window 6..9,0..5
        let spec = || -> Vec<f64> { (6..10).chain(0..6).map(f64::from).collect() };
        assert!((group(Method::Ses, &mut spec()) - 4.2392144).abs() < 1e-7);
        assert!((group(Method::Des, &mut spec()) - 5.5988504).abs() < 1e-7);
        let mut v = vec![-10.0, 5.0];
        assert_eq!(
            group(Method::Max, &mut v),
            -10.0,
            "netdata's max is by magnitude"
        );
    }
}
