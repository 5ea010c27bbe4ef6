//! Any bytes a plugin or a child may send must parse or be refused: never a panic. The input
//! goes through the plugin path's two halves: `LineSplitter` (bounded lines, fed in chunks as
//! a pipe delivers them; the first two bytes choose the chunk size and the line limit) and
//! `parse_line` on every line. Also checks that the tokenizer's words are substrings of the
//! line and that the splitter accounts for every byte. `protocol_line.dict` holds the
//! keywords of plugins.d and streaming.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_protocol::{LineSplitter, Split};

fn check_line(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let line = text.trim_end_matches(['\n', '\r']);
    let _parsed = tributary_protocol::parse_line(line);
    let w = tributary_protocol::Words::split(line);
    for i in 0..w.len() {
        assert!(line.contains(w.get(i)));
    }
    let _v = tributary_protocol::strtoll0(line);
}

fuzz_target!(|data: &[u8]| {
    let (chunk, max, body) = match data {
        [c, m, rest @ ..] => (usize::from(*c % 64) + 1, usize::from(*m) + 1, rest),
        _ => (1, 1, data),
    };
    let mut split = LineSplitter::new(max);
    let mut total = 0;
    let mut account = |found: Split, line: &[u8]| {
        assert!(line.len() <= max);
        match found {
            Split::Line => {
                total += line.len();
                check_line(line);
            }
            Split::TooLong(n) => {
                assert!(n > max);
                total += n;
            }
            Split::NeedMore => {}
        }
    };
    for mut piece in body.chunks(chunk) {
        while !piece.is_empty() {
            let (n, found) = split.feed(piece);
            assert!(n > 0 && n <= piece.len());
            piece = &piece[n..];
            account(found, split.line());
        }
    }
    if let Some(found) = split.finish() {
        account(found, split.line());
    }
    assert_eq!(total, body.len());
    // Unbounded, as a stream receiver splits: every line parses or is refused.
    for line in body.split(|&b| b == b'\n') {
        check_line(line);
    }
});
