//! A reusable reader of /proc and /sys files, mirroring netdata's libnetdata/procfile/procfile.c:
//! the file is opened once, re-read from offset 0 every cycle into a reused buffer and split
//! into lines and words in place. Integers are parsed by hand. After the first few cycles no
//! heap allocation happens (the buffers only grow).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// One open /proc or /sys file and the words of its last read.
#[derive(Debug)]
pub struct ProcFile {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    len: usize,
    seps: [bool; 256],
    /// Byte ranges of every word, in order.
    words: Vec<(u32, u32)>,
    /// For every line: (index of its first word, number of words).
    lines: Vec<(u32, u32)>,
}

impl ProcFile {
    /// Opens `path`; `separators` are the word separators besides newline (netdata passes
    /// `" \t:"` for most files).
    pub fn open(path: impl Into<PathBuf>, separators: &str) -> io::Result<ProcFile> {
        let path = path.into();
        let file = File::open(&path)?;
        let mut seps = [false; 256];
        for b in separators.bytes() {
            seps[b as usize] = true;
        }
        Ok(ProcFile {
            path,
            file,
            buf: vec![0; 4096],
            len: 0,
            seps,
            words: Vec::with_capacity(64),
            lines: Vec::with_capacity(16),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-reads the whole file from offset 0 and splits it.
    pub fn read(&mut self) -> io::Result<()> {
        let mut len = 0;
        loop {
            if len == self.buf.len() {
                let n = self.buf.len() * 2;
                self.buf.resize(n, 0);
            }
            let n = self.file.read_at(&mut self.buf[len..], len as u64)?;
            if n == 0 {
                break;
            }
            len += n;
        }
        self.len = len;
        self.split();
        Ok(())
    }

    fn split(&mut self) {
        self.words.clear();
        self.lines.clear();
        let data = &self.buf[..self.len];
        let mut line_first = 0u32;
        let mut i = 0usize;
        let n = data.len();
        while i < n {
            let c = data[i];
            if c == b'\n' {
                self.lines
                    .push((line_first, self.words.len() as u32 - line_first));
                line_first = self.words.len() as u32;
                i += 1;
                continue;
            }
            if self.seps[c as usize] || c == b'\r' {
                i += 1;
                continue;
            }
            let start = i;
            while i < n && data[i] != b'\n' && !self.seps[data[i] as usize] {
                i += 1;
            }
            self.words.push((start as u32, i as u32));
        }
        if self.words.len() as u32 > line_first {
            self.lines
                .push((line_first, self.words.len() as u32 - line_first));
        }
    }

    /// The raw bytes last read.
    pub fn contents(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Number of lines (a final line without newline counts).
    pub fn lines(&self) -> usize {
        self.lines.len()
    }

    /// Number of words of line `l` (0 beyond the end).
    pub fn line_words(&self, l: usize) -> usize {
        self.lines.get(l).map_or(0, |&(_, n)| n as usize)
    }

    /// Word `w` of line `l` as bytes; empty beyond the end (as netdata returns "").
    pub fn word_bytes(&self, l: usize, w: usize) -> &[u8] {
        match self.lines.get(l) {
            Some(&(first, n)) if (w as u32) < n => {
                let (s, e) = self.words[(first as usize) + w];
                &self.buf[s as usize..e as usize]
            }
            _ => &[],
        }
    }

    /// Word `w` of line `l` as text; empty beyond the end or when it is not UTF-8.
    pub fn word(&self, l: usize, w: usize) -> &str {
        std::str::from_utf8(self.word_bytes(l, w)).unwrap_or("")
    }

    /// Word `w` of line `l` as an unsigned decimal integer (netdata's `str2ull`).
    pub fn u64_at(&self, l: usize, w: usize) -> u64 {
        parse_u64(self.word_bytes(l, w))
    }
}

/// Parses leading decimal digits as netdata's `str2ull`: stops at the first non-digit,
/// saturates instead of overflowing, an empty or non-numeric word is 0.
#[inline]
pub fn parse_u64(s: &[u8]) -> u64 {
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(u64::from(c - b'0'));
    }
    v
}

/// Parses a signed decimal integer (a leading `-` is allowed).
#[inline]
pub fn parse_i64(s: &[u8]) -> i64 {
    match s.first() {
        Some(b'-') => (parse_u64(&s[1..]) as i64).wrapping_neg(),
        _ => parse_u64(s) as i64,
    }
}

/// Parses hexadecimal digits (with an optional `0x`), as `strtoull(s, NULL, 16)`.
#[inline]
pub fn parse_hex(s: &[u8]) -> u64 {
    let s = s.strip_prefix(b"0x").unwrap_or(s);
    let mut v: u64 = 0;
    for &c in s {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => break,
        };
        v = v.wrapping_mul(16).wrapping_add(u64::from(d));
    }
    v
}

/// Parses a non-negative decimal number with a fractional part as a fixed-point integer with
/// `decimals` digits after the point, truncating extra digits: `("0.68", 2)` is 68,
/// `("12.5", 3)` is 12500.
#[inline]
pub fn parse_fixed(s: &[u8], decimals: u32) -> i64 {
    let mut int: i64 = 0;
    let mut frac: i64 = 0;
    let mut frac_digits = 0u32;
    let mut in_frac = false;
    for &c in s {
        match c {
            b'0'..=b'9' => {
                let d = i64::from(c - b'0');
                if in_frac {
                    if frac_digits < decimals {
                        frac = frac * 10 + d;
                        frac_digits += 1;
                    }
                } else {
                    int = int.saturating_mul(10).saturating_add(d);
                }
            }
            b'.' if !in_frac => in_frac = true,
            _ => break,
        }
    }
    while frac_digits < decimals {
        frac *= 10;
        frac_digits += 1;
    }
    int.saturating_mul(10i64.pow(decimals)).saturating_add(frac)
}

/// Reads a small file (sysfs attribute) into `buf` from offset 0; returns the bytes with the
/// trailing whitespace trimmed. Reuses `buf`.
pub fn read_small<'a>(file: &File, buf: &'a mut [u8]) -> io::Result<&'a [u8]> {
    let n = file.read_at(buf, 0)?;
    let mut s = &buf[..n];
    while let Some((&last, rest)) = s.split_last() {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"12345"), 12345);
        assert_eq!(parse_u64(b"12a"), 12);
        assert_eq!(parse_u64(b""), 0);
        assert_eq!(parse_i64(b"-42"), -42);
        assert_eq!(parse_hex(b"0000001f"), 31);
        assert_eq!(parse_fixed(b"0.68", 2), 68);
        assert_eq!(parse_fixed(b"12.5", 3), 12500);
        assert_eq!(parse_fixed(b"3", 2), 300);
        assert_eq!(parse_fixed(b"1.239", 2), 123);
    }

    proptest! {
        #[test]
        fn u64_roundtrip(v in any::<u64>()) {
            prop_assert_eq!(parse_u64(v.to_string().as_bytes()), v);
        }

        #[test]
        fn hex_roundtrip(v in any::<u64>()) {
            prop_assert_eq!(parse_hex(format!("{v:08x}").as_bytes()), v);
        }
    }

    #[test]
    fn split_lines_and_words() {
        let dir = std::env::temp_dir().join(format!("trib-procfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        std::fs::write(&p, "a: 1 2\n\nb:\t3\nlast 4").unwrap();
        let mut f = ProcFile::open(&p, " \t:").unwrap();
        f.read().unwrap();
        assert_eq!(f.lines(), 4);
        assert_eq!(f.line_words(0), 3);
        assert_eq!(f.word(0, 0), "a");
        assert_eq!(f.u64_at(0, 2), 2);
        assert_eq!(f.line_words(1), 0);
        assert_eq!(f.word(2, 1), "3");
        assert_eq!(f.word(3, 1), "4");
        assert_eq!(f.word(9, 9), "");
        std::fs::write(&p, "x 9\n").unwrap();
        f.read().unwrap();
        assert_eq!(f.lines(), 1);
        assert_eq!(f.u64_at(0, 1), 9);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
