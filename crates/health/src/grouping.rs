//! The data API's grouping methods over one dimension's points of a lookup window.

use crate::lookup::Method;

/// Reduces `points` (oldest first, no NaN) with `method`; NaN when there are none.
pub fn group(method: Method, points: &mut [f64]) -> f64 {
    let n = points.len();
    if n == 0 {
        return f64::NAN;
    }
    let nf = n as f64;
    match method {
        Method::Average => points.iter().sum::<f64>() / nf,
        Method::Min => points.iter().copied().fold(f64::INFINITY, f64::min),
        Method::Max => points.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Method::Sum => points.iter().sum(),
        Method::IncrementalSum => points[n - 1] - points[0],
        Method::Median => {
            sort(points);
            median_sorted(points)
        }
        Method::TrimmedMedian(pct) => {
            sort(points);
            let t = trim(points, pct);
            median_sorted(t)
        }
        Method::TrimmedMean(pct) => {
            sort(points);
            let t = trim(points, pct);
            t.iter().sum::<f64>() / t.len() as f64
        }
        Method::Percentile(pct) => {
            sort(points);
            // the average of the values up to the percentile
            let keep = ((nf * f64::from(pct) / 100.0).floor() as usize).clamp(1, n);
            points[..keep].iter().sum::<f64>() / keep as f64
        }
        Method::Stddev => stddev(points),
        Method::Cv => {
            let mean = points.iter().sum::<f64>() / nf;
            if mean == 0.0 {
                f64::NAN
            } else {
                (stddev(points) / mean * 100.0).abs()
            }
        }
        Method::CountIf => points.iter().filter(|v| **v == 0.0).count() as f64 * 100.0 / nf,
        Method::Ses => {
            let alpha = 2.0 / (nf + 1.0);
            let mut level = points[0];
            for v in &points[1..] {
                level = alpha * v + (1.0 - alpha) * level;
            }
            level
        }
        Method::Des => {
            let alpha = 2.0 / (nf + 1.0);
            let beta = alpha;
            let mut level = points[0];
            let mut trend = if n > 1 { points[1] - points[0] } else { 0.0 };
            for v in &points[1..] {
                let last = level;
                level = alpha * v + (1.0 - alpha) * (level + trend);
                trend = beta * (level - last) + (1.0 - beta) * trend;
            }
            level
        }
    }
}

fn sort(points: &mut [f64]) {
    points.sort_by(f64::total_cmp);
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

fn trim(s: &[f64], pct: u8) -> &[f64] {
    let n = s.len();
    let cut = (n as f64 * f64::from(pct) / 100.0) as usize;
    if 2 * cut >= n {
        return s;
    }
    &s[cut..n - cut]
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
    }
}
