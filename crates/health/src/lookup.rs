//! The `lookup:` line: `METHOD AFTER [at BEFORE] [every D] [options…] [of DIMS] [foreach DIMS]`.
//! Running it over a chart's samples is [`crate::lookup_query`].

use crate::duration;

/// How the samples of the window are reduced (the data API's `group=`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// `average` / `mean`.
    Average,
    /// `min`.
    Min,
    /// `max`.
    Max,
    /// `sum`.
    Sum,
    /// `incremental_sum` / `incremental-sum`: last − first.
    IncrementalSum,
    /// `median`.
    Median,
    /// `stddev` (sample standard deviation).
    Stddev,
    /// `cv`: coefficient of variation, %.
    Cv,
    /// `ses`: single exponential smoothing.
    Ses,
    /// `des`: double exponential smoothing.
    Des,
    /// `countif`: % of points equal to 0.
    CountIf,
    /// `percentile` / `percentileNN`.
    Percentile(u8),
    /// `trimmed-mean` / `trimmed-meanN`.
    TrimmedMean(u8),
    /// `trimmed-median` / `trimmed-medianN`.
    TrimmedMedian(u8),
}

impl Method {
    /// Parses a method name as netdata's `web_client_api_request_v1_data_group`.
    pub fn parse(s: &str) -> Option<Method> {
        Some(match s {
            "average" | "mean" => Method::Average,
            "min" => Method::Min,
            "max" => Method::Max,
            "sum" => Method::Sum,
            "incremental_sum" | "incremental-sum" => Method::IncrementalSum,
            "median" => Method::Median,
            "stddev" => Method::Stddev,
            "cv" | "rsd" => Method::Cv,
            "ses" | "ema" | "ewma" => Method::Ses,
            "des" => Method::Des,
            "countif" => Method::CountIf,
            "percentile" => Method::Percentile(95),
            "trimmed-mean" | "trimmed_mean" => Method::TrimmedMean(5),
            "trimmed-median" | "trimmed_median" => Method::TrimmedMedian(5),
            _ => {
                if let Some(n) = s.strip_prefix("percentile") {
                    let n: u8 = n.parse().ok()?;
                    return [25, 50, 75, 80, 90, 95, 97, 98, 99]
                        .contains(&n)
                        .then_some(Method::Percentile(n));
                }
                let trims = [1u8, 2, 3, 5, 10, 15, 20, 25];
                for (prefix, median) in [
                    ("trimmed-median", true),
                    ("trimmed_median", true),
                    ("trimmed-mean", false),
                    ("trimmed_mean", false),
                ] {
                    if let Some(n) = s.strip_prefix(prefix) {
                        let n: u8 = n.parse().ok()?;
                        if !trims.contains(&n) {
                            return None;
                        }
                        return Some(if median {
                            Method::TrimmedMedian(n)
                        } else {
                            Method::TrimmedMean(n)
                        });
                    }
                }
                return None;
            }
        })
    }

    /// The name netdata shows in `lookup_method`.
    pub fn name(self) -> String {
        match self {
            Method::Average => "average".into(),
            Method::Min => "min".into(),
            Method::Max => "max".into(),
            Method::Sum => "sum".into(),
            Method::IncrementalSum => "incremental_sum".into(),
            Method::Median => "median".into(),
            Method::Stddev => "stddev".into(),
            Method::Cv => "cv".into(),
            Method::Ses => "ses".into(),
            Method::Des => "des".into(),
            Method::CountIf => "countif".into(),
            Method::Percentile(n) => format!("percentile{n}"),
            Method::TrimmedMean(n) => format!("trimmed-mean{n}"),
            Method::TrimmedMedian(n) => format!("trimmed-median{n}"),
        }
    }
}

/// The options of a lookup (the data API's `options=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LookupOptions {
    /// `unaligned`: the window ends now instead of at a multiple of its length.
    pub unaligned: bool,
    /// `absolute`: absolute values are summed.
    pub absolute: bool,
    /// `min2max`: max − min across the dimensions.
    pub min2max: bool,
    /// `null2zero`.
    pub null2zero: bool,
    /// `percentage`: the selected dimensions' share of all of them.
    pub percentage: bool,
    /// `anomaly-bit`.
    pub anomaly_bit: bool,
    /// `match-ids`: `of` matches dimension ids only.
    pub match_ids: bool,
    /// `match-names`: `of` matches dimension names only.
    pub match_names: bool,
}

impl LookupOptions {
    /// The words netdata shows in `lookup_options` (its order).
    pub fn words(&self) -> String {
        let mut v = Vec::new();
        if self.null2zero {
            v.push("null2zero");
        }
        if self.absolute {
            v.push("absolute");
        }
        if self.percentage {
            v.push("percentage");
        }
        if self.unaligned {
            v.push("unaligned");
        }
        if self.min2max {
            v.push("min2max");
        }
        if self.match_ids {
            v.push("match_ids");
        }
        if self.match_names {
            v.push("match_names");
        }
        if self.anomaly_bit {
            v.push("anomaly_bit");
        }
        v.join(" ")
    }
}

/// A parsed `lookup:` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    /// The grouping method.
    pub method: Method,
    /// Start of the window relative to its end (negative seconds).
    pub after: i64,
    /// End of the window relative to now (`at`, ≤ 0).
    pub before: i64,
    /// `every` given inside the lookup.
    pub every: Option<i64>,
    /// Options.
    pub options: LookupOptions,
    /// `of` dimension filter (`None`: all dimensions).
    pub dimensions: Option<String>,
    /// `foreach` pattern (templates: one alarm per matching dimension).
    pub foreach: Option<String>,
}

/// A lookup line that could not be used, in netdata's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupError(pub String);

/// Problems that do not invalidate the lookup (unknown words).
pub type LookupWarnings = Vec<String>;

/// Parses a lookup line; unknown words are reported and ignored, a bad method or `after`
/// time makes the whole lookup invalid.
pub fn parse(text: &str) -> Result<(Lookup, LookupWarnings), LookupError> {
    let mut warnings = Vec::new();
    let (head, foreach) = split_keyword(text, "foreach");
    let (head, dims) = split_keyword(head, "of");
    let mut words = head.split_ascii_whitespace();
    let Some(method_word) = words.next() else {
        return Err(LookupError(
            "expected group method followed by the 'after' time".into(),
        ));
    };
    let Some(method) = Method::parse(method_word) else {
        return Err(LookupError(format!("invalid group method '{method_word}'")));
    };
    let Some(after_word) = words.next() else {
        return Err(LookupError(
            "expected group method followed by the 'after' time".into(),
        ));
    };
    let Some(after) = duration::parse(after_word) else {
        return Err(LookupError(format!("invalid duration '{after_word}'")));
    };
    let mut lookup = Lookup {
        method,
        after,
        before: 0,
        every: None,
        options: LookupOptions::default(),
        dimensions: None,
        foreach: None,
    };
    while let Some(w) = words.next() {
        let o = &mut lookup.options;
        match w.to_ascii_lowercase().as_str() {
            "at" | "every" => {
                let is_at = w.eq_ignore_ascii_case("at");
                match words.next().and_then(duration::parse) {
                    Some(d) if is_at => lookup.before = d,
                    Some(d) => lookup.every = Some(d),
                    None => warnings.push(format!("invalid duration after '{w}'")),
                }
            }
            "unaligned" => o.unaligned = true,
            "absolute" | "abs" | "absolute_sum" | "absolute-sum" => o.absolute = true,
            "min2max" => o.min2max = true,
            "null2zero" => o.null2zero = true,
            "percentage" => o.percentage = true,
            "anomaly-bit" | "anomaly_bit" => o.anomaly_bit = true,
            "match-ids" | "match_ids" => o.match_ids = true,
            "match-names" | "match_names" => o.match_names = true,
            _ => warnings.push(format!("unknown keyword '{w}'")),
        }
    }
    lookup.dimensions = dims
        .map(str::trim)
        .filter(|d| !d.is_empty() && *d != "all")
        .map(str::to_string);
    lookup.foreach = foreach
        .map(|f| f.trim().replace([',', '|'], " "))
        .filter(|f| !f.trim().is_empty());
    Ok((lookup, warnings))
}

/// Splits `text` at the word `kw` (case-insensitive, whitespace around it).
fn split_keyword<'t>(text: &'t str, kw: &str) -> (&'t str, Option<&'t str>) {
    let lower = text.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut from = 0;
    while let Some(i) = lower[from..].find(kw).map(|i| i + from) {
        let before_ok = i > 0 && b[i - 1].is_ascii_whitespace();
        let end = i + kw.len();
        let after_ok = end == b.len() || b[end].is_ascii_whitespace();
        if before_ok && after_ok {
            return (&text[..i], Some(&text[end..]));
        }
        from = i + 1;
    }
    (text, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_form() {
        let (l, w) = parse("average -10m unaligned of user,system,softirq,irq,guest").unwrap();
        assert!(w.is_empty());
        assert_eq!(l.method, Method::Average);
        assert_eq!(l.after, -600);
        assert!(l.options.unaligned);
        assert_eq!(
            l.dimensions.as_deref(),
            Some("user,system,softirq,irq,guest")
        );
        let (l, _) = parse("max -1m at -10s absolute of * foreach *").unwrap();
        assert_eq!((l.before, l.foreach.as_deref()), (-10, Some("*")));
        assert!(parse("bogus -1m").is_err());
        assert!(parse("average").is_err());
        let (l, w) = parse("average -5s unaligned of all").unwrap();
        assert!(w.is_empty() && l.dimensions.is_none());
    }
}
