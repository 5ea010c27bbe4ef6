//! The stream decoder allocates nothing per frame once its output buffer has grown (the
//! "no per-value heap allocation" rule of ARCHITECTURE.md, for the receiver's hot path).

#[path = "../../../tests/support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::heap_calls;
use tributary_protocol::frame::{FrameDecoder, FrameEncoder};

#[test]
fn counting_allocator_counts() {
    assert!(heap_calls(|| drop(std::hint::black_box(vec![1u8; 10]))) > 0);
}

#[test]
fn decoder_steady_state_does_not_allocate() {
    let mut enc = FrameEncoder::new();
    let mut wire = Vec::new();
    let mut text = 0;
    for round in 0..3000u64 {
        let msg = format!(
            "BEGIN \"system.cpu\" {round}\nSET \"user\" = {}\nEND\n",
            round * 31
        );
        text += msg.len();
        enc.encode(msg.as_bytes(), &mut wire).unwrap();
    }
    let mut dec = FrameDecoder::new();
    let mut out = Vec::with_capacity(text);
    // Warm up: the first frames of the stream.
    let (warm, rest) = wire.split_at(4096);
    dec.decode_into(warm, &mut out).unwrap();
    let calls = heap_calls(|| {
        for chunk in rest.chunks(1000) {
            dec.decode_into(chunk, &mut out).unwrap();
        }
    });
    assert_eq!(calls, 0);
    assert_eq!(out.len(), text);
    assert!(dec.frames() == 3000 && dec.is_idle());
}
