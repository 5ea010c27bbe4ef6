//! Splitting a plugin's byte stream into bounded lines: the I/O-free half of reading a
//! plugin's stdout (the agent's `src/plugins/reader.rs` feeds it from a pipe). A line longer
//! than the limit is not buffered: its head (up to the limit) is kept for the log and the rest
//! is counted and dropped up to its newline.
//!
//! The splitter is fed whatever bytes are at hand and says how many it took, so the caller
//! consumes exactly that from its buffer and may stop between calls at any point (a `select!`
//! dropping a read future loses nothing: all state is here).

/// What [`LineSplitter::feed`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// A complete line is in [`LineSplitter::line`] (with its `\n`).
    Line,
    /// A line of this many bytes (`\n` included) was over the limit and dropped; its head is
    /// in [`LineSplitter::line`].
    TooLong(usize),
    /// Every byte given was taken; no line ended.
    NeedMore,
}

/// Assembles lines of at most `max` bytes from chunks of input. No allocation once the line
/// buffer has grown to `max`.
#[derive(Debug)]
pub struct LineSplitter {
    line: Vec<u8>,
    max: usize,
    /// Bytes of the over-long line being dropped (0: not dropping).
    skipping: usize,
    /// The last result was a line: `line` is spent.
    delivered: bool,
}

impl LineSplitter {
    /// A splitter for lines of at most `max` bytes (`\n` included; at least 1).
    pub fn new(max: usize) -> LineSplitter {
        LineSplitter {
            line: Vec::with_capacity(max.clamp(1, 4096)),
            max: max.max(1),
            skipping: 0,
            delivered: false,
        }
    }

    /// The line (or the head of the dropped line) found by the last call.
    pub fn line(&self) -> &[u8] {
        &self.line
    }

    /// Bytes of the over-long line dropped so far (0: none is being dropped).
    pub fn skipping(&self) -> usize {
        self.skipping
    }

    fn start(&mut self) {
        if std::mem::take(&mut self.delivered) {
            self.line.clear();
        }
    }

    /// Takes bytes from the front of `input` up to the end of the next line; returns how
    /// many it took and what it found.
    pub fn feed(&mut self, input: &[u8]) -> (usize, Split) {
        self.start();
        let (take, done) = match input.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (input.len(), false),
        };
        if self.skipping == 0 && self.line.len() + take > self.max {
            let keep = self.max - self.line.len();
            self.line.extend_from_slice(&input[..keep]);
            self.skipping = self.line.len() - keep + take;
        } else if self.skipping > 0 {
            self.skipping += take;
        } else {
            self.line.extend_from_slice(&input[..take]);
            if done {
                self.delivered = true;
                return (take, Split::Line);
            }
            return (take, Split::NeedMore);
        }
        if done {
            self.delivered = true;
            return (take, Split::TooLong(std::mem::take(&mut self.skipping)));
        }
        (take, Split::NeedMore)
    }

    /// The end of the input: the last, unterminated line (as [`Split::Line`], without `\n`) or
    /// the dropped one, if any.
    pub fn finish(&mut self) -> Option<Split> {
        self.start();
        if self.skipping > 0 {
            self.delivered = true;
            return Some(Split::TooLong(std::mem::take(&mut self.skipping)));
        }
        if self.line.is_empty() {
            return None;
        }
        self.delivered = true;
        Some(Split::Line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every line of `input` fed in chunks of `chunk` bytes.
    fn split(input: &[u8], chunk: usize, max: usize) -> Vec<(Split, Vec<u8>)> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        for mut piece in input.chunks(chunk.max(1)) {
            while !piece.is_empty() {
                let (n, found) = s.feed(piece);
                piece = &piece[n..];
                if found != Split::NeedMore {
                    out.push((found, s.line().to_vec()));
                }
            }
        }
        if let Some(found) = s.finish() {
            out.push((found, s.line().to_vec()));
        }
        out
    }

    #[test]
    fn splits_bounds_and_drops() {
        assert_eq!(
            split(b"BEGIN a.b\nSET x = 1\nlast", 4, 64),
            [
                (Split::Line, b"BEGIN a.b\n".to_vec()),
                (Split::Line, b"SET x = 1\n".to_vec()),
                (Split::Line, b"last".to_vec()),
            ]
        );
        let input = [&[b'x'; 100][..], b"\nEND\n"].concat();
        assert_eq!(
            split(&input, 8, 32),
            [
                (Split::TooLong(101), vec![b'x'; 32]),
                (Split::Line, b"END\n".to_vec())
            ]
        );
        // Exactly at the limit, newline included: a line.
        let input = [&[b'y'; 31][..], b"\nEND"].concat();
        assert_eq!(split(&input, 8, 32)[0].0, Split::Line);
        // Dropped up to the end of the input.
        assert_eq!(
            split(&[b'z'; 50], 16, 32),
            [(Split::TooLong(50), vec![b'z'; 32])]
        );
        assert!(split(b"", 4, 8).is_empty());
    }

    proptest! {
        #[test]
        fn every_byte_is_accounted_for(
            input in proptest::collection::vec(
                prop_oneof![Just(b'\n'), Just(b'a'), any::<u8>()], 0..400),
            chunk in 1usize..40,
            max in 1usize..50,
        ) {
            let got = split(&input, chunk, max);
            let mut total = 0;
            for (found, line) in &got {
                prop_assert!(line.len() <= max);
                match found {
                    Split::Line => total += line.len(),
                    Split::TooLong(n) => {
                        prop_assert!(*n > max);
                        total += n;
                    }
                    Split::NeedMore => prop_assert!(false, "NeedMore is never a result here"),
                }
            }
            prop_assert_eq!(total, input.len());
            // Lines are what splitting on newlines gives, when none is over the limit.
            if got.iter().all(|(f, _)| *f == Split::Line) {
                let joined: Vec<u8> = got.iter().flat_map(|(_, l)| l.clone()).collect();
                prop_assert_eq!(joined, input);
            }
        }
    }
}
