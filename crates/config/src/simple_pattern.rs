//! netdata simple patterns: `!veth0 veth* *eth*`.
//!
//! Mirrors netdata 1.37's `libnetdata/simple_pattern/simple_pattern.c`, quirks included, so that
//! patterns written for netdata select the same things:
//! * the list is split at whitespace (space, tab, CR, LF, FF, VT) unless other separators are
//!   given; a backslash makes the next character literal (`x\ y` is one word with a space).
//! * a word starting with `!` is negative. A lone `!` followed by a separator is dropped, so
//!   `! foo` is the positive word `foo`.
//! * words are tried left to right and the first one that matches decides: positive matches,
//!   negative does not. No word matching means no match, and the empty string never matches.
//! * a word is cut at each `*` that has more text after it: `a*b*c` becomes the chain prefix `a`,
//!   then substring `b`, then suffix `c`. Each link is matched at the first place it fits, left to
//!   right, without backtracking. Only one `*` is removed from each end of a piece, so `a**b`
//!   matches `a*b` but not `axb`, and `***` matches strings containing a literal `*`.
//! * matching is case-sensitive (`strcmp`/`strstr`).
//!
//! Matching never allocates.

use std::fmt;

use crate::values::is_c_space;

/// How a piece of a pattern matches, netdata's `SIMPLE_PREFIX_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternMode {
    /// The whole string (`foo`).
    Exact,
    /// The start of the string (`foo*`).
    Prefix,
    /// The end of the string (`*foo`).
    Suffix,
    /// Anywhere in the string (`*foo*`, and `*` alone).
    Substring,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    mode: PatternMode,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    negative: bool,
    /// The chain: each piece matches after the previous one; never empty.
    pieces: Vec<Piece>,
}

/// A parsed netdata simple pattern list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimplePattern {
    source: String,
    words: Vec<Word>,
}

impl SimplePattern {
    /// Parses a whitespace-separated list where a word without `*` must match exactly, as
    /// netdata's `simple_pattern_create(list, NULL, SIMPLE_PATTERN_EXACT)`.
    pub fn new(list: &str) -> SimplePattern {
        SimplePattern::with_options(list, "", PatternMode::Exact)
    }

    /// Parses a list split at any character of `separators` (whitespace when empty), where a
    /// word without `*` at either end matches as `default_mode`.
    pub fn with_options(list: &str, separators: &str, default_mode: PatternMode) -> SimplePattern {
        let is_separator = |c: char| {
            if separators.is_empty() {
                is_c_space(c)
            } else {
                separators.contains(c)
            }
        };
        let mut words = Vec::new();
        let mut chars = list.chars().peekable();
        let mut buf = String::new();
        loop {
            while chars.next_if(|c| is_separator(*c)).is_some() {}
            let negative = chars.next_if_eq(&'!').is_some();
            if chars.peek().is_none() {
                break;
            }
            buf.clear();
            let mut escaped = false;
            for c in chars.by_ref() {
                if c == '\\' && !escaped {
                    escaped = true;
                    continue;
                }
                if is_separator(c) && !escaped {
                    break;
                }
                buf.push(c);
                escaped = false;
            }
            if !buf.is_empty() {
                words.push(Word {
                    negative,
                    pieces: split_word(&buf, default_mode),
                });
            }
        }
        SimplePattern {
            source: list.to_owned(),
            words,
        }
    }

    /// The text the pattern was parsed from.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the list has no words. netdata then has no pattern at all (a NULL pointer),
    /// which matches nothing, but callers such as the stream receiver's `allow from` treat a
    /// missing pattern as "no restriction".
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// True when `text` matches: the first word that matches decides, no match is false.
    pub fn matches(&self, text: &str) -> bool {
        self.find(text, &mut NoCapture)
    }

    /// Like [`matches`](Self::matches), and fills `wildcarded` with the parts of `text` the
    /// asterisks stood for, as netdata's `simple_pattern_matches_extract` (printed by
    /// `-W simple-pattern`). On no match it holds what the last word tried left there.
    pub fn matches_extract(&self, text: &str, wildcarded: &mut String) -> bool {
        wildcarded.clear();
        self.find(text, wildcarded)
    }

    fn find(&self, text: &str, capture: &mut impl Capture) -> bool {
        if text.is_empty() {
            return false;
        }
        for word in &self.words {
            capture.reset();
            if match_chain(&word.pieces, text, capture) {
                return !word.negative;
            }
        }
        false
    }

    /// netdata's `simple_pattern_is_potential_name`: could this list match a DNS name rather
    /// than only IP addresses? True when a word has letters (other than the exact word
    /// `localhost`) or wildcards, and no word has a `:` (which only IPv6 addresses have). The web
    /// server uses it to decide whether to resolve a client's name.
    pub fn is_potential_name(&self) -> bool {
        let (mut alpha, mut colon, mut wildcards) = (false, false, false);
        for word in &self.words {
            for piece in &word.pieces {
                if piece.mode != PatternMode::Exact {
                    wildcards = true;
                }
                if piece.mode == PatternMode::Exact && piece.text == "localhost" {
                    continue;
                }
                alpha |= piece.text.chars().any(|c| c.is_ascii_alphabetic());
                colon |= piece.text.contains(':');
            }
        }
        (alpha || wildcards) && !colon
    }
}

impl fmt::Display for SimplePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Cuts a word into its chain of pieces, as netdata's recursive `parse_pattern()`: skip the
/// leading asterisks, find the next `*`; if text follows it, this piece ends at (and includes)
/// that `*` and the rest, starting at the same `*`, is the next piece.
fn split_word(word: &str, default_mode: PatternMode) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = word;
    loop {
        let after_stars = rest.len() - rest.trim_start_matches('*').len();
        let cut = rest[after_stars..].find('*').map(|at| after_stars + at);
        match cut {
            Some(star) if star + 1 < rest.len() => {
                pieces.push(piece(&rest[..=star], default_mode));
                rest = &rest[star..];
            }
            _ => {
                pieces.push(piece(rest, default_mode));
                return pieces;
            }
        }
    }
}

/// One piece: a `*` at both ends is substring, at the start suffix, at the end prefix; only
/// one `*` is removed from each end. An empty remainder matches anything.
fn piece(text: &str, default_mode: PatternMode) -> Piece {
    let starts = text.starts_with('*');
    let ends = text.ends_with('*');
    let (mode, text) = if text.len() >= 2 && starts && ends {
        (PatternMode::Substring, &text[1..text.len() - 1])
    } else if starts {
        (PatternMode::Suffix, &text[1..])
    } else if ends {
        (PatternMode::Prefix, &text[..text.len() - 1])
    } else {
        (default_mode, text)
    };
    let mode = if text.is_empty() {
        PatternMode::Substring
    } else {
        mode
    };
    Piece {
        mode,
        text: text.to_owned(),
    }
}

/// Where the wildcard-matched parts of a string go; nowhere for plain `matches`.
trait Capture {
    fn reset(&mut self);
    fn push(&mut self, part: &str);
}

struct NoCapture;

impl Capture for NoCapture {
    fn reset(&mut self) {}
    fn push(&mut self, _: &str) {}
}

impl Capture for String {
    fn reset(&mut self) {
        self.clear();
    }
    fn push(&mut self, part: &str) {
        self.push_str(part);
    }
}

/// netdata's `match_pattern()`, as a loop over the chain.
fn match_chain(pieces: &[Piece], mut text: &str, capture: &mut impl Capture) -> bool {
    for (index, piece) in pieces.iter().enumerate() {
        let last = index + 1 == pieces.len();
        let needle = piece.text.as_str();
        if needle.len() > text.len() {
            return false;
        }
        match piece.mode {
            PatternMode::Substring => {
                if needle.is_empty() {
                    return true;
                }
                let Some(at) = text.find(needle) else {
                    return false;
                };
                capture.push(&text[..at]);
                text = &text[at + needle.len()..];
                if last {
                    capture.push(text);
                    return true;
                }
            }
            PatternMode::Prefix => {
                let Some(after) = text.strip_prefix(needle) else {
                    return false;
                };
                text = after;
                if last {
                    capture.push(text);
                    return true;
                }
            }
            PatternMode::Suffix => {
                let Some(before) = text.strip_suffix(needle) else {
                    return false;
                };
                capture.push(before);
                return last;
            }
            PatternMode::Exact => return text == needle && last,
        }
    }
    // unreachable for a non-empty chain: every arm returns on the last piece
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (pattern, string, matches, wildcarded). Every row was checked against the output of
    /// `netdata -W simple-pattern PATTERN STRING` of netdata v1.37.1 (for rows that do not
    /// match, netdata prints what the last word tried left behind; rows with "" skip that).
    const CASES: &[(&str, &str, bool, &str)] = &[
        ("*", "abc", true, ""),
        ("*", "*", true, ""),
        ("*", "", false, ""),
        ("", "abc", false, ""),
        ("   ", "abc", false, ""),
        ("foo", "foo", true, ""),
        ("foo", "Foo", false, ""),
        ("foo", "foobar", false, ""),
        ("foo*", "foobar", true, "bar"),
        ("foo*", "foo", true, ""),
        ("foo*", "fo", false, ""),
        ("*bar", "foobar", true, "foo"),
        ("*bar", "bar", true, ""),
        ("*bar", "barx", false, ""),
        ("*ob*", "foobar", true, "foar"),
        ("*ob*", "ob", true, ""),
        ("a*b*c", "abc", true, ""),
        ("a*b*c", "a-b-c", true, "--"),
        ("a*b*c", "a-c-b", false, "-c-"),
        ("a*b*c", "a-b-b-c", true, "--b-"),
        ("a*b*c", "ab", false, ""),
        ("a*b", "ab", true, ""),
        ("a*b", "aXXb", true, "XX"),
        ("a*b", "abc", false, ""),
        ("*a*b*", "xaybz", true, "xyz"),
        ("a**b", "a*b", true, ""),
        ("a**b", "axb", false, ""),
        ("***", "a*b", true, "ab"),
        ("***", "*", true, ""),
        ("***", "ab", false, ""),
        ("!veth0 veth*", "veth0", false, ""),
        ("!veth0 veth*", "veth12", true, "12"),
        ("!veth0 veth*", "eth0", false, ""),
        ("veth* !veth0", "veth0", true, "0"),
        ("! foo", "foo", true, ""),
        ("!!foo", "!foo", false, ""),
        ("!!foo", "foo", false, ""),
        ("\\!foo", "!foo", true, ""),
        ("x\\ y", "x y", true, ""),
        ("x\\ y", "x", false, ""),
        ("x\\\\y", "x\\y", true, ""),
        ("a\tb\nc", "c", true, ""),
        ("!/path/*/*.ext /path/*.ext", "/path/test.ext", true, "test"),
        (
            "!/path/*/*.ext /path/*.ext",
            "/path/sub/test.ext",
            false,
            "subtest",
        ),
        ("*.ext", "q.ext", true, "q"),
        ("10.* 192.168.*", "192.168.1.5", true, "1.5"),
        ("!10.0.0.1 10.*", "10.0.0.1", false, ""),
        ("*:*", "::1", true, ":1"),
        ("café*", "cafébabe", true, "babe"),
        ("*é", "café", true, "caf"),
    ];

    #[test]
    fn matches_like_netdata() {
        for &(pattern, text, expected, wildcarded) in CASES {
            let p = SimplePattern::new(pattern);
            assert_eq!(p.matches(text), expected, "{pattern:?} vs {text:?}");
            let mut captured = String::from("garbage");
            assert_eq!(p.matches_extract(text, &mut captured), expected);
            if expected || !wildcarded.is_empty() {
                assert_eq!(captured, wildcarded, "{pattern:?} vs {text:?}");
            }
        }
    }

    #[test]
    fn words_split_like_parse_pattern() {
        let modes = |p: &str| -> Vec<Vec<(PatternMode, String)>> {
            SimplePattern::new(p)
                .words
                .iter()
                .map(|w| w.pieces.iter().map(|x| (x.mode, x.text.clone())).collect())
                .collect()
        };
        use PatternMode::*;
        assert_eq!(
            modes("a*b*c"),
            [[
                (Prefix, "a".into()),
                (Substring, "b".into()),
                (Suffix, "c".into())
            ]]
        );
        assert_eq!(
            modes("a**b"),
            [[(Prefix, "a".into()), (Suffix, "*b".into())]]
        );
        assert_eq!(modes("***"), [[(Substring, "*".into())]]);
        assert_eq!(modes("**"), [[(Substring, String::new())]]);
        assert_eq!(
            modes("**x*y"),
            [[(Substring, "*x".into()), (Suffix, "y".into())]]
        );
        assert_eq!(
            modes("a**"),
            [[(Prefix, "a".into()), (Substring, String::new())]]
        );
    }

    #[test]
    fn custom_separators_and_default_mode() {
        let p = SimplePattern::with_options("a b|c", "|", PatternMode::Exact);
        assert!(p.matches("a b"));
        assert!(p.matches("c"));
        assert!(!p.matches("a"));
        let p = SimplePattern::with_options("net", "", PatternMode::Prefix);
        assert!(p.matches("network"));
        let p = SimplePattern::with_options("net", "", PatternMode::Substring);
        assert!(p.matches("the network"));
    }

    #[test]
    fn empty_lists() {
        for list in ["", "  ", "!", " ! "] {
            assert!(SimplePattern::new(list).is_empty(), "{list:?}");
        }
        assert!(!SimplePattern::new("*").is_empty());
        assert_eq!(SimplePattern::new("a b").as_str(), "a b");
        assert_eq!(SimplePattern::new("a b").to_string(), "a b");
    }

    #[test]
    fn potential_names() {
        let cases = [
            ("*", true),
            ("localhost", false),
            ("localhost 10.*", true),
            ("10.0.0.1", false),
            ("example.com", true),
            ("fe80::*", false),
            ("host.lan ::1", false),
            ("", false),
        ];
        for (list, expected) in cases {
            assert_eq!(
                SimplePattern::new(list).is_potential_name(),
                expected,
                "{list:?}"
            );
        }
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// A plain glob matcher with backtracking, to compare with for words that have no `**`.
    fn glob(pattern: &[u8], text: &[u8]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some((b'*', rest)) => (0..=text.len()).any(|skip| glob(rest, &text[skip..])),
            Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
        }
    }

    proptest! {
        /// Without `**` (where netdata keeps a literal `*`), a single word is an ordinary glob:
        /// netdata's first-fit matching never needs to backtrack.
        #[test]
        fn single_word_is_a_glob(word in "\\*?([ab]{1,2}\\*?){1,4}", text in "[ab*]{1,10}") {
            let p = SimplePattern::new(&word);
            prop_assert_eq!(p.matches(&text), glob(word.as_bytes(), text.as_bytes()));
        }

        /// The first matching word decides.
        #[test]
        fn first_matching_word_decides(
            words in proptest::collection::vec(("!?", "[ab*]{1,4}"), 0..5),
            text in "[ab]{1,6}",
        ) {
            let list: Vec<String> = words.iter().map(|(n, w)| format!("{n}{w}")).collect();
            let p = SimplePattern::new(&list.join(" "));
            let expected = words
                .iter()
                .find(|(_, w)| SimplePattern::new(w).matches(&text))
                .is_some_and(|(n, _)| n.is_empty());
            prop_assert_eq!(p.matches(&text), expected);
        }

        /// Arbitrary patterns and strings never panic.
        #[test]
        fn never_panics(list in "\\PC{0,30}", text in "\\PC{0,30}") {
            let p = SimplePattern::new(&list);
            let mut w = String::new();
            prop_assert_eq!(p.matches(&text), p.matches_extract(&text, &mut w));
        }
    }
}
