//! netdata 1.37.1's LZ4 stream framing of the child → parent direction (`compression.c`;
//! spec: streaming-protocol.md §8; shared/crates.md §2).
//!
//! With COMPRESSION negotiated, every sender commit (at most [`MAX_MESSAGE`] bytes of text) is
//! one raw LZ4 *block* (no LZ4 frame format) compressed with the streaming API, so it may refer
//! back into the previous 64 KiB of the connection's uncompressed data. Each block is preceded
//! by a 4-byte header: `0xFA`, `0x80 | len & 0x7F`, `0x80 | (len >> 7) & 0x7F`, `'\n'`, where
//! `len` is the compressed length (1..=16383).
//!
//! netdata's receiver reads 4 bytes at a time: when they are not a valid header it passes them
//! on as plain text ("multiplexed uncompressed data") and reads the next 4; otherwise it reads
//! `len` bytes and decompresses them with its history. [`FrameDecoder`] does the same from
//! arbitrary chunks (as they come off a socket) and keeps the last 64 KiB of its output as the
//! dictionary, which decodes anything the C streaming API produces. [`FrameEncoder`] is the
//! sender side, using the previous 64 KiB of its input as dictionary.
//!
//! Neither allocates per frame in steady state, except that lz4_flex's compressor allocates
//! its 8 KiB hash table on every encoded block (it has no dictionary API with a reusable table).

use lz4_flex::block::{
    DecompressError, compress_into_with_dict, decompress_into_with_dict, get_maximum_output_size,
};

/// First byte of a frame header (`'z' | 0x80`).
pub const SIGNATURE: u8 = 0xFA;
/// Size of a frame header.
pub const HEADER_LEN: usize = 4;
/// Largest compressed length a header can carry (14 bits).
pub const MAX_COMPRESSED: usize = 0x3FFF;
/// Largest message the encoder puts in one block: netdata's `COMPRESSION_MAX_MSG_SIZE`
/// (16384 - 128 - 1).
pub const MAX_MESSAGE: usize = 16384 - 128 - 1;
/// Largest decoded block the decoder accepts: netdata's 16 KiB block limit plus 4 KiB of slack
/// for senders that count differently; a block that decodes to more is an error.
pub const MAX_DECODED_BLOCK: usize = 16384 + 4096;
/// How much earlier data an LZ4 block may refer to.
pub const HISTORY: usize = 64 * 1024;

/// The decoder's buffer: the history, then room for new blocks. When the room runs out the
/// last [`HISTORY`] bytes move to the front; the more room, the rarer (and the cheaper per
/// decoded byte) that move is — at this size 64 KiB move once per ~190 KiB decoded.
const DECODE_BUFFER: usize = 4 * HISTORY + MAX_DECODED_BLOCK;

/// Why a stream cannot be decoded (or, for [`FrameError::Compress`], encoded). Decoding errors
/// mean the LZ4 history is lost: the receiver must close the connection. After one, the
/// decoder answers [`FrameError::Poisoned`] to every further call until [`FrameDecoder::reset`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A block decodes to more than [`MAX_DECODED_BLOCK`] bytes (a decompression bomb or a
    /// sender with another block size).
    #[error("LZ4 block of {compressed} bytes decodes to more than {MAX_DECODED_BLOCK} bytes")]
    BlockTooLarge {
        /// Compressed length from the header.
        compressed: usize,
    },
    /// A block is not valid LZ4 (truncated, bad literal length, offset outside the history).
    #[error("corrupt LZ4 block of {compressed} bytes: {reason}")]
    Corrupt {
        /// Compressed length from the header.
        compressed: usize,
        /// What lz4_flex reported.
        reason: String,
    },
    /// An earlier call failed; the stream cannot continue.
    #[error("LZ4 stream already failed")]
    Poisoned,
    /// The encoder could not compress a block within a header's 16383 bytes (cannot happen
    /// for messages of at most [`MAX_MESSAGE`] bytes; netdata would drop COMPRESSION).
    #[error("LZ4 compression failed: {0}")]
    Compress(String),
}

/// The 4-byte header for a block of `compressed_len` bytes; None when that is 0 or over
/// [`MAX_COMPRESSED`].
pub fn encode_header(compressed_len: usize) -> Option<[u8; HEADER_LEN]> {
    if compressed_len == 0 || compressed_len > MAX_COMPRESSED {
        return None;
    }
    Some([
        SIGNATURE,
        0x80 | (compressed_len & 0x7F) as u8,
        0x80 | ((compressed_len >> 7) & 0x7F) as u8,
        b'\n',
    ])
}

/// The compressed length announced by a header, or None when the 4 bytes are not one (they are
/// then plain text). netdata checks byte 0, the top bits of bytes 1 and 2, and byte 3; a length
/// of 0 also means "not compressed" to it, so it does here.
pub fn decode_header(header: &[u8; HEADER_LEN]) -> Option<usize> {
    let [sig, lo, hi, nl] = *header;
    if sig != SIGNATURE || lo & 0x80 == 0 || hi & 0x80 == 0 || nl != b'\n' {
        return None;
    }
    let len = usize::from(lo & 0x7F) | usize::from(hi & 0x7F) << 7;
    (len > 0).then_some(len)
}

/// Decodes a child's compressed stream, fed in chunks of any size.
///
/// Output is a byte stream: block boundaries mean nothing (with BINARY a block may end
/// mid-line), so the line splitter after it must join lines across chunks. Plain-text
/// (multiplexed) bytes are passed through in 4-byte groups, as netdata does, and do not enter
/// the LZ4 history. Memory: about 164 KiB, allocated once in [`FrameDecoder::new`].
#[derive(Debug)]
pub struct FrameDecoder {
    /// Decoded history (`..hist_len`, of which the last [`HISTORY`] bytes are the dictionary),
    /// then scratch space for the next output.
    buf: Box<[u8]>,
    hist_len: usize,
    /// Header bytes collected so far (when a header straddles chunks).
    hdr: [u8; HEADER_LEN],
    hdr_len: usize,
    /// Compressed length of the block being collected; 0 while reading a header.
    want: usize,
    /// The block being collected (when it straddles chunks).
    comp: Box<[u8]>,
    comp_len: usize,
    frames: u64,
    poisoned: bool,
}

enum Step {
    Out(usize, usize),
    NeedInput,
    Again,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameDecoder {
    /// A decoder for a new connection (empty history).
    pub fn new() -> FrameDecoder {
        FrameDecoder {
            buf: vec![0; DECODE_BUFFER].into_boxed_slice(),
            hist_len: 0,
            hdr: [0; HEADER_LEN],
            hdr_len: 0,
            want: 0,
            comp: vec![0; MAX_COMPRESSED].into_boxed_slice(),
            comp_len: 0,
            frames: 0,
            poisoned: false,
        }
    }

    /// Forgets everything, for a new connection, keeping the buffers.
    pub fn reset(&mut self) {
        self.hist_len = 0;
        self.hdr_len = 0;
        self.want = 0;
        self.comp_len = 0;
        self.frames = 0;
        self.poisoned = false;
    }

    /// Number of LZ4 blocks decoded so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// True when no partial header or block is buffered: at end of input, false means the
    /// peer stopped in the middle of a frame (or of a 4-byte plain group).
    pub fn is_idle(&self) -> bool {
        self.hdr_len == 0 && self.want == 0
    }

    /// Consumes bytes from the front of `input` and returns the next piece of output (a decoded
    /// block or a run of plain bytes; never empty), valid until the next call; None once
    /// `input` is used up (a partial header or block is kept for the next chunk). Call it
    /// until it returns None.
    pub fn next_chunk(&mut self, input: &mut &[u8]) -> Result<Option<&[u8]>, FrameError> {
        if self.poisoned {
            return Err(FrameError::Poisoned);
        }
        loop {
            match self.step(input) {
                Ok(Step::Out(start, end)) => return Ok(Some(&self.buf[start..end])),
                Ok(Step::NeedInput) => return Ok(None),
                Ok(Step::Again) => {}
                Err(e) => {
                    self.poisoned = true;
                    return Err(e);
                }
            }
        }
    }

    /// Decodes all of `input`, appending the output to `out` (reuse `out` across calls and
    /// nothing is allocated once it has grown).
    pub fn decode_into(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), FrameError> {
        while let Some(chunk) = self.next_chunk(&mut input)? {
            out.extend_from_slice(chunk);
        }
        Ok(())
    }

    /// Makes room for one block of output after the history; returns where it starts.
    fn scratch(&mut self) -> usize {
        if self.buf.len() - self.hist_len < MAX_DECODED_BLOCK {
            let from = self.hist_len - HISTORY;
            self.buf.copy_within(from..self.hist_len, 0);
            self.hist_len = HISTORY;
        }
        self.hist_len
    }

    fn step(&mut self, input: &mut &[u8]) -> Result<Step, FrameError> {
        if self.want > 0 {
            let want = self.want;
            if self.comp_len == 0 && input.len() >= want {
                let (block, rest) = input.split_at(want);
                *input = rest;
                return self.decode_block(Src::Input(block));
            }
            let take = (want - self.comp_len).min(input.len());
            self.comp[self.comp_len..self.comp_len + take].copy_from_slice(&input[..take]);
            self.comp_len += take;
            *input = &input[take..];
            if self.comp_len < want {
                return Ok(Step::NeedInput);
            }
            return self.decode_block(Src::Comp);
        }

        if self.hdr_len > 0 || input.len() < HEADER_LEN {
            let take = (HEADER_LEN - self.hdr_len).min(input.len());
            self.hdr[self.hdr_len..self.hdr_len + take].copy_from_slice(&input[..take]);
            self.hdr_len += take;
            *input = &input[take..];
            if self.hdr_len < HEADER_LEN {
                return Ok(Step::NeedInput);
            }
            self.hdr_len = 0;
            if let Some(len) = decode_header(&self.hdr) {
                self.want = len;
                return Ok(Step::Again);
            }
            let start = self.scratch();
            self.buf[start..start + HEADER_LEN].copy_from_slice(&self.hdr);
            return Ok(Step::Out(start, start + HEADER_LEN));
        }

        // At least one whole group in `input`: a header, or a run of plain groups.
        let mut group = [0; HEADER_LEN];
        group.copy_from_slice(&input[..HEADER_LEN]);
        if let Some(len) = decode_header(&group) {
            self.want = len;
            *input = &input[HEADER_LEN..];
            return Ok(Step::Again);
        }
        let start = self.scratch();
        let mut end = start;
        while input.len() >= HEADER_LEN && end - start + HEADER_LEN <= MAX_DECODED_BLOCK {
            group.copy_from_slice(&input[..HEADER_LEN]);
            if decode_header(&group).is_some() {
                break;
            }
            self.buf[end..end + HEADER_LEN].copy_from_slice(&group);
            end += HEADER_LEN;
            *input = &input[HEADER_LEN..];
        }
        Ok(Step::Out(start, end))
    }

    fn decode_block(&mut self, src: Src<'_>) -> Result<Step, FrameError> {
        let compressed = self.want;
        self.want = 0;
        self.comp_len = 0;
        let start = self.scratch();
        let (dict, out) = self.buf.split_at_mut(start);
        let dict = &dict[start.saturating_sub(HISTORY)..];
        let out = &mut out[..MAX_DECODED_BLOCK];
        let block = match src {
            Src::Input(b) => b,
            Src::Comp => &self.comp[..compressed],
        };
        let n = decompress_into_with_dict(block, out, dict).map_err(|e| match e {
            DecompressError::OutputTooSmall { .. } => FrameError::BlockTooLarge { compressed },
            other => FrameError::Corrupt {
                compressed,
                reason: other.to_string(),
            },
        })?;
        self.frames += 1;
        self.hist_len = start + n;
        if n == 0 {
            return Ok(Step::Again);
        }
        Ok(Step::Out(start, start + n))
    }
}

enum Src<'a> {
    Input(&'a [u8]),
    Comp,
}

/// Compresses a sender's messages into netdata's frames, each block able to refer to the
/// previous 64 KiB of input (as netdata's `LZ4_compress_fast_continue` with its ring buffer).
/// One encoder per connection: a new connection needs a new (or [`FrameEncoder::reset`])
/// encoder, because the parent's decoder starts with an empty history. Memory: about 164 KiB.
#[derive(Debug)]
pub struct FrameEncoder {
    /// Input history (`..hist_len`; its last [`HISTORY`] bytes are the dictionary), then room
    /// for the next message.
    hist: Box<[u8]>,
    hist_len: usize,
    /// Compressed output of one block.
    scratch: Box<[u8]>,
}

impl Default for FrameEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameEncoder {
    /// An encoder for a new connection.
    pub fn new() -> FrameEncoder {
        FrameEncoder {
            hist: vec![0; 2 * HISTORY + MAX_MESSAGE].into_boxed_slice(),
            hist_len: 0,
            scratch: vec![0; get_maximum_output_size(MAX_MESSAGE)].into_boxed_slice(),
        }
    }

    /// Forgets the history, for a new connection.
    pub fn reset(&mut self) {
        self.hist_len = 0;
    }

    /// Appends `message` (one sender commit: whole lines) to `out` as frames: one block when it
    /// is at most [`MAX_MESSAGE`] bytes, else several, each cut after the last newline that
    /// fits (netdata's behaviour without BINARY); a single line longer than [`MAX_MESSAGE`] is
    /// cut mid-line, which receivers join again (netdata's receiver truncates lines over 15360
    /// bytes anyway). An empty message writes nothing.
    pub fn encode(&mut self, mut message: &[u8], out: &mut Vec<u8>) -> Result<(), FrameError> {
        while !message.is_empty() {
            let mut len = message.len().min(MAX_MESSAGE);
            if len < message.len()
                && let Some(nl) = message[..len].iter().rposition(|&b| b == b'\n')
            {
                len = nl + 1;
            }
            self.encode_block(&message[..len], out)?;
            message = &message[len..];
        }
        Ok(())
    }

    fn encode_block(&mut self, block: &[u8], out: &mut Vec<u8>) -> Result<(), FrameError> {
        if self.hist.len() - self.hist_len < block.len() {
            let from = self.hist_len - HISTORY;
            self.hist.copy_within(from..self.hist_len, 0);
            self.hist_len = HISTORY;
        }
        let start = self.hist_len;
        self.hist[start..start + block.len()].copy_from_slice(block);
        let dict = &self.hist[start.saturating_sub(HISTORY)..start];
        let input = &self.hist[start..start + block.len()];
        let n = compress_into_with_dict(input, &mut self.scratch, dict)
            .map_err(|e| FrameError::Compress(e.to_string()))?;
        let header = encode_header(n).ok_or_else(|| {
            FrameError::Compress(format!("block of {n} bytes does not fit a header"))
        })?;
        self.hist_len = start + block.len();
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.scratch[..n]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/stream");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
    }

    fn decode_chunked(wire: &[u8], cuts: &[usize]) -> Result<Vec<u8>, FrameError> {
        let mut dec = FrameDecoder::new();
        let mut out = Vec::new();
        let mut at = 0;
        for &cut in cuts.iter().chain([wire.len()].iter()) {
            let cut = cut.clamp(at, wire.len());
            dec.decode_into(&wire[at..cut], &mut out)?;
            at = cut;
        }
        assert!(dec.is_idle());
        Ok(out)
    }

    #[test]
    fn header_round_trip() {
        assert_eq!(encode_header(52), Some([0xfa, 0xb4, 0x80, 0x0a]));
        assert_eq!(decode_header(&[0xfa, 0xb4, 0x80, 0x0a]), Some(52));
        for len in 1..=MAX_COMPRESSED {
            assert_eq!(decode_header(&encode_header(len).unwrap()), Some(len));
        }
        assert_eq!(encode_header(0), None);
        assert_eq!(encode_header(MAX_COMPRESSED + 1), None);
        assert_eq!(decode_header(&[0xfa, 0x80, 0x80, b'\n']), None);
        assert_eq!(decode_header(&[0xfa, 0x34, 0x80, b'\n']), None);
        assert_eq!(decode_header(&[0xfa, 0xb4, 0x00, b'\n']), None);
        assert_eq!(decode_header(&[0xfa, 0xb4, 0x80, b'\r']), None);
        assert_eq!(decode_header(b"SET "), None);
    }

    /// The real netdata 1.37.1 child's compressed stream decodes byte for byte.
    #[test]
    fn real_child_capture_decodes() {
        let wire = fixture("child-lz4.bin");
        let text = fixture("child-lz4-decoded.txt");
        assert_eq!(&wire[..4], &[0xfa, 0xb4, 0x80, 0x0a]);
        let mut dec = FrameDecoder::new();
        let mut out = Vec::new();
        dec.decode_into(&wire, &mut out).unwrap();
        assert_eq!(out, text);
        assert_eq!(dec.frames(), 122);
        for size in 1..=64 {
            let mut dec = FrameDecoder::new();
            let mut out = Vec::new();
            for chunk in wire.chunks(size) {
                dec.decode_into(chunk, &mut out).unwrap();
            }
            assert!(dec.is_idle());
            assert_eq!(out, text, "chunks of {size}");
            assert_eq!(dec.frames(), 122);
        }
    }

    /// Our test encoder's literal-only blocks, which a real netdata parent accepted, decode to
    /// what was sent.
    #[test]
    fn accepted_by_real_parent_capture_decodes() {
        let wire = fixture("real-parent/ok-lz4-sent-on-wire.bin");
        let text = fixture("real-parent/ok-lz4-sent.txt");
        assert_eq!(decode_chunked(&wire, &[]).unwrap(), text);
    }

    /// Plain text between frames passes through in 4-byte groups, as in netdata.
    #[test]
    fn multiplexed_plain_text() {
        let mut enc = FrameEncoder::new();
        let mut wire = b"FLUSH\n\n\n".to_vec(); // 8 bytes: two plain groups
        enc.encode(b"BEGIN x\nSET a = 1\nEND\n", &mut wire).unwrap();
        wire.extend_from_slice(b"abcd");
        enc.encode(b"BEGIN x\nSET a = 2\nEND\n", &mut wire).unwrap();
        let expected = b"FLUSH\n\n\nBEGIN x\nSET a = 1\nEND\nabcdBEGIN x\nSET a = 2\nEND\n";
        for size in 1..wire.len() {
            let mut dec = FrameDecoder::new();
            let mut out = Vec::new();
            for chunk in wire.chunks(size) {
                dec.decode_into(chunk, &mut out).unwrap();
            }
            assert_eq!(out, expected, "chunks of {size}");
        }
        // A zero-length header is plain text too.
        let mut out = Vec::new();
        FrameDecoder::new()
            .decode_into(&[0xfa, 0x80, 0x80, b'\n'], &mut out)
            .unwrap();
        assert_eq!(out, [0xfa, 0x80, 0x80, b'\n']);
        // A trailing partial group waits.
        let mut dec = FrameDecoder::new();
        dec.decode_into(b"abc", &mut out).unwrap();
        assert!(!dec.is_idle());
    }

    #[test]
    fn bombs_and_garbage_are_errors() {
        // 16383 bytes of a repeated match: decodes to far more than the limit.
        let big = vec![b'x'; 200_000];
        let mut block = lz4_flex::block::compress(&big);
        block.truncate(MAX_COMPRESSED.min(block.len()));
        let mut wire = encode_header(block.len()).unwrap().to_vec();
        wire.extend_from_slice(&block);
        let mut dec = FrameDecoder::new();
        let mut out = Vec::new();
        assert!(matches!(
            dec.decode_into(&wire, &mut out),
            Err(FrameError::BlockTooLarge { .. })
        ));
        assert_eq!(
            dec.decode_into(b"more", &mut out),
            Err(FrameError::Poisoned)
        );
        dec.reset();
        dec.decode_into(b"more", &mut out).unwrap();

        // A back-reference with no history.
        let mut wire = encode_header(3).unwrap().to_vec();
        wire.extend_from_slice(&[0x0f, 0x01, 0x00]);
        assert!(matches!(
            FrameDecoder::new().decode_into(&wire, &mut out),
            Err(FrameError::Corrupt { .. })
        ));
    }

    #[test]
    fn large_messages_split_at_newlines() {
        let line = b"SET \"dimension_with_a_long_name\" = 1234567890\n";
        let message: Vec<u8> = line
            .iter()
            .copied()
            .cycle()
            .take(line.len() * 1000)
            .collect();
        let mut enc = FrameEncoder::new();
        let mut wire = Vec::new();
        enc.encode(&message, &mut wire).unwrap();
        let mut dec = FrameDecoder::new();
        let mut blocks = Vec::new();
        let mut input = &wire[..];
        while let Some(chunk) = dec.next_chunk(&mut input).unwrap() {
            assert!(chunk.len() <= MAX_MESSAGE);
            assert_eq!(chunk.last(), Some(&b'\n'));
            blocks.extend_from_slice(chunk);
        }
        assert_eq!(blocks, message);
        assert_eq!(
            dec.frames(),
            message
                .len()
                .div_ceil(MAX_MESSAGE / line.len() * line.len()) as u64
        );

        // One line longer than a block is cut mid-line.
        let long = vec![b'a'; MAX_MESSAGE * 2 + 7];
        let mut wire = Vec::new();
        enc.encode(&long, &mut wire).unwrap();
        let mut out = Vec::new();
        dec.decode_into(&wire, &mut out).unwrap();
        assert_eq!(out, long);
    }

    /// Blocks refer back into earlier blocks (a repeated message compresses to a few bytes and
    /// cannot be decoded without the history), across many buffer slides on both sides.
    #[test]
    fn dictionary_references_and_slides() {
        let msg: Vec<u8> = (0..200)
            .map(|i| format!("SET \"dim{i}\" = {}\n", i * 7919 % 1000))
            .collect::<String>()
            .into_bytes();
        let mut enc = FrameEncoder::new();
        let (mut first, mut second) = (Vec::new(), Vec::new());
        enc.encode(&msg, &mut first).unwrap();
        enc.encode(&msg, &mut second).unwrap();
        assert!(
            second.len() < first.len() / 20,
            "{} vs {}",
            second.len(),
            first.len()
        );
        assert!(
            FrameDecoder::new()
                .decode_into(&second, &mut Vec::new())
                .is_err()
        );

        // About 2 MB of varying messages: both history buffers slide many times.
        let mut enc = FrameEncoder::new();
        let mut dec = FrameDecoder::new();
        let (mut wire, mut text, mut out) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..400u64 {
            let msg: Vec<u8> = (0..(round % 37) * 10 + 5)
                .map(|i| {
                    format!(
                        "BEGIN \"c{}\" {}\nSET \"d\" = {}\nEND\n",
                        i % 13,
                        round,
                        round * i
                    )
                })
                .collect::<String>()
                .into_bytes();
            wire.clear();
            enc.encode(&msg, &mut wire).unwrap();
            dec.decode_into(&wire, &mut out).unwrap();
            text.extend_from_slice(&msg);
        }
        assert!(text.len() > 1_000_000, "{}", text.len());
        assert_eq!(out, text);
    }

    fn batches() -> impl Strategy<Value = Vec<Vec<u8>>> {
        // Lines from a small vocabulary so blocks refer back into earlier ones.
        let line = prop_oneof![
            "BEGIN \"system\\.(cpu|load|ram)\" [0-9]{1,7}\n",
            "SET \"(user|system|idle|nice)\" = [0-9]{1,12}\n",
            Just("END\n".to_owned()),
            "[ -~]{0,300}\n",
        ];
        let batch = proptest::collection::vec(line, 1..40).prop_map(|l| l.concat().into_bytes());
        proptest::collection::vec(batch, 1..60)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn real_capture_any_split(mut cuts in proptest::collection::vec(0usize..4632, 0..40)) {
            cuts.sort_unstable();
            let wire = fixture("child-lz4.bin");
            prop_assert_eq!(decode_chunked(&wire, &cuts).unwrap(), fixture("child-lz4-decoded.txt"));
        }

        #[test]
        fn encode_decode_round_trip(
            batches in batches(),
            mut cuts in proptest::collection::vec(0usize..1_000_000, 0..30),
        ) {
            let mut enc = FrameEncoder::new();
            let mut wire = Vec::new();
            for b in &batches {
                enc.encode(b, &mut wire).unwrap();
            }
            cuts.sort_unstable();
            let text: Vec<u8> = batches.concat();
            prop_assert_eq!(decode_chunked(&wire, &cuts).unwrap(), text);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..3000), chunk in 1usize..100) {
            let mut dec = FrameDecoder::new();
            let mut out = Vec::new();
            for c in bytes.chunks(chunk) {
                if dec.decode_into(c, &mut out).is_err() {
                    break;
                }
            }
        }

        #[test]
        fn framed_garbage_never_panics(
            blocks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..400), 1..10),
        ) {
            let mut wire = Vec::new();
            for b in &blocks {
                wire.extend_from_slice(&encode_header(b.len()).unwrap());
                wire.extend_from_slice(b);
            }
            let _ignored = FrameDecoder::new().decode_into(&wire, &mut Vec::new());
        }

        #[test]
        fn corrupted_capture_never_panics(flips in proptest::collection::vec((0usize..4632, any::<u8>()), 1..8)) {
            let mut wire = fixture("child-lz4.bin");
            for (at, v) in flips {
                wire[at] ^= v | 1;
            }
            let _ignored = FrameDecoder::new().decode_into(&wire, &mut Vec::new());
        }
    }
}
