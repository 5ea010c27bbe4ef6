//! Bytes from a child: the LZ4 frame decoder, the STREAM request parser and the child's reply
//! parser return errors, never panic; whatever the encoder writes decodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_protocol::capabilities::parse_reply;
use tributary_protocol::frame::{FrameDecoder, FrameEncoder};
use tributary_protocol::handshake::StreamRequest;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else { return };
    let mut dec = FrameDecoder::new();
    let mut out = Vec::new();
    for c in rest.chunks(usize::from(n).max(1)) {
        if dec.decode_into(c, &mut out).is_err() {
            break;
        }
    }
    let _request = StreamRequest::parse(rest);
    let _reply = parse_reply(rest);
    let mut wire = Vec::new();
    FrameEncoder::new().encode(rest, &mut wire).expect("encoding never fails");
    let mut back = Vec::new();
    FrameDecoder::new().decode_into(&wire, &mut back).expect("our own frames decode");
    assert_eq!(back, rest);
});
