//! netdata's line tokenizer for plugins.d and streaming (libnetdata `quoted_strings_splitter`
//! with the pluginsd separators): words are split on space, tab, CR, LF and **`=`**; a word
//! that starts with `"` or `'` runs to the matching quote, separators included; a backslash
//! protects the next character (and is kept); at most [`MAX_WORDS`] words.

/// netdata's `PLUGINSD_MAX_WORDS`: words after the 20th are ignored.
pub const MAX_WORDS: usize = 20;

/// The words of one line, borrowed from it. No allocation.
#[derive(Debug, Clone, Copy)]
pub struct Words<'a> {
    words: [&'a str; MAX_WORDS],
    len: usize,
}

#[inline]
fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'=')
}

impl PartialEq for Words<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.words[..self.len] == other.words[..other.len]
    }
}

impl<'a> Words<'a> {
    /// Splits `line`.
    pub fn split(line: &'a str) -> Words<'a> {
        let bytes = line.as_bytes();
        let mut words = [""; MAX_WORDS];
        let mut len = 0;
        let mut i = 0;
        while len < MAX_WORDS {
            while i < bytes.len() && is_separator(bytes[i]) {
                i += 1;
            }
            if i >= bytes.len() {
                break;
            }
            let (start, end);
            if bytes[i] == b'"' || bytes[i] == b'\'' {
                let quote = bytes[i];
                i += 1;
                start = i;
                while i < bytes.len() && bytes[i] != quote {
                    if bytes[i] == b'\\' && i + 1 < bytes.len() {
                        i += 1;
                    }
                    i += 1;
                }
                end = i.min(bytes.len());
                i = (i + 1).min(bytes.len());
            } else {
                start = i;
                while i < bytes.len() && !is_separator(bytes[i]) {
                    if bytes[i] == b'\\' && i + 1 < bytes.len() {
                        i += 1;
                    }
                    i += 1;
                }
                end = i.min(bytes.len());
            }
            // Quotes and separators are ASCII, so these are char boundaries, but a backslash
            // before a multi-byte char may leave `i` inside it: fall back to the nearest boundary.
            words[len] = line.get(start..end).unwrap_or_else(|| {
                let mut e = end;
                while !line.is_char_boundary(e) {
                    e += 1;
                }
                &line[start..e]
            });
            len += 1;
        }
        Words { words, len }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty line.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Word `i`, or `""` past the end (netdata treats missing words as empty).
    #[inline]
    pub fn get(&self, i: usize) -> &'a str {
        if i < self.len { self.words[i] } else { "" }
    }

    /// Word `i` if present.
    pub fn opt(&self, i: usize) -> Option<&'a str> {
        (i < self.len).then(|| self.words[i])
    }
}

/// C's `strtoll(s, NULL, 0)`: leading spaces, sign, `0x` hex, leading-`0` octal, decimal;
/// stops at the first invalid character; clamps to the i64 range; no digits → 0.
pub fn strtoll0(s: &str) -> i64 {
    if let Some(v) = plain_decimal(s.as_bytes()) {
        return v;
    }
    strtoll0_general(s)
}

/// The common case of [`strtoll0`]: `-?[1-9][0-9]{0,17}` or `0`, which cannot overflow.
#[inline]
fn plain_decimal(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    if digits[0] == b'0' {
        return (digits.len() == 1).then_some(0);
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(if neg { -v } else { v })
}

fn strtoll0_general(s: &str) -> i64 {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let mut base = 10u32;
    if i + 1 < b.len()
        && b[i] == b'0'
        && (b[i + 1] | 0x20) == b'x'
        && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        base = 16;
        i += 2;
    } else if i < b.len() && b[i] == b'0' {
        base = 8;
    }
    let mut v: u128 = 0;
    let limit: u128 = if neg { 1u128 << 63 } else { (1u128 << 63) - 1 };
    while i < b.len() {
        let d = match (b[i] as char).to_digit(base) {
            Some(d) => d,
            None => break,
        };
        v = (v * u128::from(base) + u128::from(d)).min(limit + 1);
        i += 1;
    }
    let v = v.min(limit);
    if neg {
        (v as i128).wrapping_neg() as i64
    } else {
        v as i64
    }
}

/// C's `str2ull`-style unsigned decimal parse used for BEGIN microseconds (invalid → 0).
pub fn parse_u64(s: &str) -> u64 {
    let mut v: u64 = 0;
    for &c in s.as_bytes() {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(u64::from(c - b'0'));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(line: &str) -> Vec<&str> {
        let w = Words::split(line);
        (0..w.len()).map(|i| w.get(i)).collect()
    }

    #[test]
    fn splits_like_netdata() {
        assert_eq!(words("SET x = 5"), ["SET", "x", "5"]);
        assert_eq!(words("SET \"b\" = "), ["SET", "b"]);
        assert_eq!(words("SET \"b\" = \"\""), ["SET", "b", ""]);
        assert_eq!(
            words("CHART 'test.named_one' 'named chart' \"a=b c\""),
            ["CHART", "test.named_one", "named chart", "a=b c"]
        );
        assert_eq!(
            words("  BEGIN\tcm.abs 1000000\r\n"),
            ["BEGIN", "cm.abs", "1000000"]
        );
        assert_eq!(words(""), Vec::<&str>::new());
        assert_eq!(words("a\\ b c"), ["a\\ b", "c"]);
        assert_eq!(words("\"unterminated"), ["unterminated"]);
        let many = "w ".repeat(30);
        assert_eq!(Words::split(&many).len(), MAX_WORDS);
    }

    #[test]
    fn strtoll_matches_c() {
        for (s, v) in [
            ("0x1F", 31),
            ("017", 15),
            ("12.7", 12),
            ("1e3", 1),
            ("+42", 42),
            ("-0x10", -16),
            ("abc", 0),
            ("99999999999999999999", i64::MAX),
            ("-99999999999999999999", i64::MIN),
            ("-9223372036854775808", i64::MIN),
            ("  7", 7),
            ("0", 0),
            ("0x", 0),
            ("08", 0),
        ] {
            assert_eq!(strtoll0(s), v, "{s}");
        }
    }

    proptest! {
        #[test]
        fn tokenizer_never_panics(s in "\\PC{0,200}") {
            let w = Words::split(&s);
            prop_assert!(w.len() <= MAX_WORDS);
        }

        #[test]
        fn the_decimal_fast_path_agrees_with_the_general_parse(s in "[-+ 0-9xa]{0,22}") {
            prop_assert_eq!(strtoll0(&s), strtoll0_general(&s));
        }

        #[test]
        fn decimal_numbers_round_trip(v in any::<i64>()) {
            // a leading 0 means octal in C; decimal strings of non-zero values never start with 0
            let s = v.to_string();
            prop_assert_eq!(strtoll0(&s), v);
        }
    }
}
