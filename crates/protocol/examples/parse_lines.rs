//! A fixed workload for instruction counting (`tests/instruction_counts.rs`): frames and
//! parses (the part counted: `measured`) a stream of 200 collections of 100 charts × 10 dimensions, as a child sends them.
//! Prints the number of SET values parsed. Deterministic: same binary, same count.

use tributary_protocol::frame::{FrameDecoder, FrameEncoder};
use tributary_protocol::{Command, parse_line};

fn main() {
    let mut text = String::new();
    for k in 0..200u64 {
        for c in 0..100 {
            text.push_str(&format!("BEGIN \"bench.chart{c}\" 1000000\n"));
            for d in 0..10 {
                text.push_str(&format!("SET \"dim{d}\" = {}\n", k * 1013 + d * 7 + c));
            }
            text.push_str("END\n");
        }
    }
    // LZ4-framed as on the wire, then decoded and parsed block by block.
    let mut enc = FrameEncoder::new();
    let mut wire = Vec::new();
    for piece in text.as_bytes().chunks(8 * 1024) {
        enc.encode(piece, &mut wire).expect("encode");
    }
    let values = measured(&wire);
    assert_eq!(values, 200 * 100 * 10);
    println!("{values}");
}

/// The measured part (callgrind counts only inside it): decode and parse `wire`.
#[inline(never)]
fn measured(wire: &[u8]) -> u64 {
    let mut dec = FrameDecoder::new();
    let mut input = wire;
    let mut pending: Vec<u8> = Vec::new();
    let mut values: u64 = 0;
    let mut count = |line: &[u8]| {
        if let Ok(Command::Set { value: Some(_), .. }) =
            parse_line(std::str::from_utf8(line).expect("utf-8"))
        {
            values += 1;
        }
    };
    while let Some(block) = dec.next_chunk(&mut input).expect("decode") {
        let mut start = 0;
        while let Some(nl) = block[start..].iter().position(|&b| b == b'\n') {
            let piece = &block[start..start + nl];
            start += nl + 1;
            if pending.is_empty() {
                count(piece);
            } else {
                pending.extend_from_slice(piece);
                count(&pending);
                pending.clear();
            }
        }
        pending.extend_from_slice(&block[start..]);
    }
    values
}
