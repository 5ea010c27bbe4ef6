//! Any bytes a plugin or a child may send, split into lines, must parse or be refused: never a
//! panic. Also checks that the tokenizer's words are substrings of the line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.split('\n') {
        let _parsed = tributary_protocol::parse_line(line);
        let w = tributary_protocol::Words::split(line);
        for i in 0..w.len() {
            assert!(line.contains(w.get(i)));
        }
        let _v = tributary_protocol::strtoll0(line);
    }
});
