//! Compression of one sealed page of samples: netdata's 32-bit `storage_number`s coded as
//! delta-of-delta in a bit stream, in the style of Facebook's Gorilla time-series encoding.
//!
//! Stored samples change slowly or not at all: a constant (often 0) or a counter growing at a
//! steady rate repeats the same delta, which costs one bit per sample here. The page format:
//!
//! * byte 0 is the kind: [`KIND_RAW`] (the samples follow as little-endian `u32`s: a page that
//!   would not get smaller) or [`KIND_DOD`];
//! * `KIND_DOD`: the first sample in 32 bits, then for each next sample, with
//!   `delta = sample − previous` (wrapping, as `i32`) and `dod = delta − previous delta`
//!   (the previous delta is 0 before the second sample):
//!
//! | prefix | payload | meaning |
//! |---|---|---|
//! | `0` | – | `dod == 0` |
//! | `10` | 7 bits | `dod` in −64..=63 |
//! | `110` | 12 bits | `dod` in −2048..=2047 |
//! | `1110` | 20 bits | `dod` in −524288..=524287 |
//! | `11110` | 25 bits | `dod` in −16777216..=16777215 (a 24-bit mantissa's jumps) |
//! | `11111` | 32 bits | the sample itself |
//!
//! Bits are written most significant first; the last byte is padded with zeros. Encoding writes
//! into a caller's fixed buffer and decoding into a caller's slice: no allocation.

/// Samples per page.
pub const PAGE_SLOTS: usize = 128;

/// The largest encoded page: the raw form of a full page plus its kind byte.
pub const MAX_PAGE_BYTES: usize = 1 + PAGE_SLOTS * 4;

/// Page kind: samples stored as they are.
pub const KIND_RAW: u8 = 0;
/// Page kind: delta-of-delta bit stream.
pub const KIND_DOD: u8 = 1;

/// Writes bits most significant first into a fixed buffer; `None` once it would overflow.
struct BitWriter<'a> {
    out: &'a mut [u8],
    len: usize,
    acc: u64,
    fill: u32,
}

impl BitWriter<'_> {
    /// Appends the low `n` bits of `v` (`n <= 32`); false when the buffer is full.
    #[inline]
    fn push(&mut self, v: u64, n: u32) -> bool {
        self.acc = (self.acc << n) | (v & ((1u64 << n) - 1));
        self.fill += n;
        while self.fill >= 8 {
            let Some(b) = self.out.get_mut(self.len) else {
                return false;
            };
            self.fill -= 8;
            *b = (self.acc >> self.fill) as u8;
            self.len += 1;
        }
        true
    }

    /// Pads the last byte; the encoded length, or `None` when it did not fit.
    fn finish(mut self) -> Option<usize> {
        if self.fill > 0 {
            let pad = 8 - self.fill;
            if !self.push(0, pad) {
                return None;
            }
        }
        Some(self.len)
    }
}

/// Reads bits most significant first; past the end it reads zeros (a truncated page decodes
/// to a run of repeated deltas instead of panicking).
struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    acc: u64,
    have: u32,
}

impl BitReader<'_> {
    #[inline]
    fn refill(&mut self) {
        while self.have <= 56 {
            let b = self.bytes.get(self.pos).copied().unwrap_or(0);
            self.pos += 1;
            self.acc = (self.acc << 8) | u64::from(b);
            self.have += 8;
        }
    }

    /// The next `n` bits (`n <= 32`).
    #[inline]
    fn bits(&mut self, n: u32) -> u64 {
        if self.have < n {
            self.refill();
        }
        self.have -= n;
        (self.acc >> self.have) & ((1u64 << n) - 1)
    }

    /// Counts leading one bits, at most 5 (the prefix of a sample).
    #[inline]
    fn prefix(&mut self) -> u32 {
        if self.have < 5 {
            self.refill();
        }
        let top = ((self.acc >> (self.have - 5)) & 0x1f) as u32;
        let ones = (top << 27).leading_ones().min(5);
        // The prefix is `ones` one bits plus a terminating zero (none after five ones).
        self.have -= (ones + 1).min(5);
        ones
    }
}

#[inline]
fn sign_extend(v: u64, n: u32) -> i64 {
    ((v << (64 - n)) as i64) >> (64 - n)
}

/// Encodes `samples` (at most [`PAGE_SLOTS`]) into `out`; returns the encoded length.
pub fn encode(samples: &[u32], out: &mut [u8; MAX_PAGE_BYTES]) -> usize {
    debug_assert!(samples.len() <= PAGE_SLOTS);
    let raw_len = 1 + samples.len() * 4;
    if let Some(n) = encode_dod(samples, &mut out[..]).filter(|&n| n < raw_len) {
        return n;
    }
    out[0] = KIND_RAW;
    for (chunk, s) in out[1..raw_len].chunks_exact_mut(4).zip(samples) {
        chunk.copy_from_slice(&s.to_le_bytes());
    }
    raw_len
}

fn encode_dod(samples: &[u32], out: &mut [u8]) -> Option<usize> {
    let (&first, rest) = samples.split_first()?;
    out[0] = KIND_DOD;
    let mut w = BitWriter {
        out: &mut out[1..],
        len: 0,
        acc: 0,
        fill: 0,
    };
    let mut ok = w.push(u64::from(first), 32);
    let mut prev = first;
    let mut prev_delta: i64 = 0;
    for &s in rest {
        let delta = i64::from(s.wrapping_sub(prev) as i32);
        let dod = delta - prev_delta;
        ok &= match dod {
            0 => w.push(0, 1),
            -64..=63 => w.push(0b10, 2) && w.push(dod as u64, 7),
            -2048..=2047 => w.push(0b110, 3) && w.push(dod as u64, 12),
            -524_288..=524_287 => w.push(0b1110, 4) && w.push(dod as u64, 20),
            -16_777_216..=16_777_215 => w.push(0b11110, 5) && w.push(dod as u64, 25),
            _ => w.push(0b11111, 5) && w.push(u64::from(s), 32),
        };
        if !ok {
            return None;
        }
        prev = s;
        prev_delta = delta;
    }
    w.finish().map(|n| n + 1)
}

/// Decodes the first `out.len()` samples of an encoded page into `out`.
pub fn decode(page: &[u8], out: &mut [u32]) {
    match page.split_first() {
        Some((&KIND_RAW, body)) => {
            for (o, chunk) in out.iter_mut().zip(body.chunks_exact(4)) {
                *o = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            }
        }
        Some((_, body)) => decode_dod(body, out),
        None => out.fill(0),
    }
}

/// The sample at `index` of an encoded page (decodes the samples before it).
pub fn decode_at(page: &[u8], index: usize) -> u32 {
    match page.split_first() {
        Some((&KIND_RAW, body)) => body
            .get(index * 4..index * 4 + 4)
            .map_or(0, |c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        Some((_, body)) => {
            let mut buf = [0u32; PAGE_SLOTS];
            let n = (index + 1).min(PAGE_SLOTS);
            decode_dod(body, &mut buf[..n]);
            buf[n - 1]
        }
        None => 0,
    }
}

fn decode_dod(body: &[u8], out: &mut [u32]) {
    let Some((first, rest)) = out.split_first_mut() else {
        return;
    };
    let mut r = BitReader {
        bytes: body,
        pos: 0,
        acc: 0,
        have: 0,
    };
    let mut prev = r.bits(32) as u32;
    *first = prev;
    let mut delta: i64 = 0;
    for o in rest {
        let s = match r.prefix() {
            0 => prev.wrapping_add(delta as u32),
            1 => {
                delta += sign_extend(r.bits(7), 7);
                prev.wrapping_add(delta as u32)
            }
            2 => {
                delta += sign_extend(r.bits(12), 12);
                prev.wrapping_add(delta as u32)
            }
            3 => {
                delta += sign_extend(r.bits(20), 20);
                prev.wrapping_add(delta as u32)
            }
            4 => {
                delta += sign_extend(r.bits(25), 25);
                prev.wrapping_add(delta as u32)
            }
            _ => r.bits(32) as u32,
        };
        // `delta` becomes the wrapped 32-bit difference the encoder computed.
        delta = i64::from(s.wrapping_sub(prev) as i32);
        *o = s;
        prev = s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(samples: &[u32]) -> usize {
        let mut buf = [0u8; MAX_PAGE_BYTES];
        let n = encode(samples, &mut buf);
        let mut out = vec![0u32; samples.len()];
        decode(&buf[..n], &mut out);
        assert_eq!(out, samples);
        for (i, &s) in samples.iter().enumerate() {
            assert_eq!(decode_at(&buf[..n], i), s, "sample {i}");
        }
        n
    }

    #[test]
    fn constants_and_steady_counters_cost_a_bit_per_sample() {
        let zeros = [0u32; PAGE_SLOTS];
        assert!(round_trip(&zeros) <= 1 + 4 + PAGE_SLOTS / 8 + 1);
        let ramp: Vec<u32> = (0..PAGE_SLOTS as u32).map(|i| 1000 + 7 * i).collect();
        assert!(round_trip(&ramp) <= 1 + 4 + 2 + PAGE_SLOTS / 8 + 1);
    }

    #[test]
    fn noise_falls_back_to_raw_samples() {
        let mut x = 0x1234_5678u32;
        let noise: Vec<u32> = (0..PAGE_SLOTS)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x
            })
            .collect();
        assert_eq!(round_trip(&noise), 1 + PAGE_SLOTS * 4);
    }

    #[test]
    fn short_and_empty_pages() {
        round_trip(&[]);
        round_trip(&[7]);
        round_trip(&[u32::MAX, 0, u32::MAX, 0x0400_0000]);
    }

    proptest! {
        #[test]
        fn any_page_decodes_to_what_was_encoded(
            samples in proptest::collection::vec(any::<u32>(), 0..=PAGE_SLOTS)
        ) {
            round_trip(&samples);
        }

        #[test]
        fn pages_of_small_steps_decode(
            start in any::<u32>(),
            steps in proptest::collection::vec(-3000i32..3000, 0..PAGE_SLOTS),
        ) {
            let mut v = start;
            let mut samples = vec![v];
            for s in steps {
                v = v.wrapping_add(s as u32);
                samples.push(v);
            }
            round_trip(&samples);
        }

        #[test]
        fn garbage_pages_decode_without_panicking(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            index in 0..PAGE_SLOTS,
        ) {
            let mut out = [0u32; PAGE_SLOTS];
            decode(&bytes, &mut out);
            let _v = decode_at(&bytes, index);
        }
    }
}
