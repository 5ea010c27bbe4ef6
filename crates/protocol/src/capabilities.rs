//! Stream capabilities and the handshake reply texts, as netdata 1.37.1 negotiates them
//! (spec: streaming-protocol.md §2.2-2.4, §3).
//!
//! A child sends `ver=<n>` in its `STREAM` request, where `n` is either a legacy protocol version
//! (1..=5) or, since 1.37, the bitmap of everything it speaks. Both sides turn such a number into a
//! [`Caps`] bitmap with the same function ([`Caps::from_version`]: netdata's
//! `convert_stream_version_to_stream_capabilities` without its final AND), intersect it with
//! their own ([`Caps::ours`]), and the parent answers with a prompt built from the result
//! ([`Caps::accept_prompt`]). The child reads that prompt back with [`parse_reply`], which also
//! recognises every rejection text and the back-off netdata applies for it.

use std::fmt;

/// A set of stream capabilities: netdata's `STREAM_CAPABILITIES` bitmap (1.37.1 bit values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Caps(pub u32);

impl Caps {
    /// No capability at all.
    pub const NONE: Caps = Caps(0);
    /// The oldest protocol (CHART/DIMENSION/BEGIN/SET/END/VARIABLE).
    pub const V1: Caps = Caps(1 << 3);
    /// Legacy version 2: host labels.
    pub const V2: Caps = Caps(1 << 4);
    /// Legacy version negotiation with versions 3, 4 and 5.
    pub const VN: Caps = Caps(1 << 5);
    /// Capability-bitmap negotiation (netdata 1.37).
    pub const VCAPS: Caps = Caps(1 << 6);
    /// `LABEL` / `OVERWRITE labels` host labels.
    pub const HLABELS: Caps = Caps(1 << 7);
    /// `CLAIMED_ID`.
    pub const CLAIM: Caps = Caps(1 << 8);
    /// `CLABEL` / `CLABEL_COMMIT` chart labels.
    pub const CLABELS: Caps = Caps(1 << 9);
    /// LZ4 compression of the child → parent direction (§8).
    pub const COMPRESSION: Caps = Caps(1 << 10);
    /// `FUNCTION` definitions and remote function calls.
    pub const FUNCTIONS: Caps = Caps(1 << 11);
    /// Replication (`CHART_DEFINITION_END`, `REPLAY_CHART`, `RBEGIN`...).
    pub const REPLICATION: Caps = Caps(1 << 12);
    /// Compressed blocks may split a line.
    pub const BINARY: Caps = Caps(1 << 13);

    /// Everything netdata 1.37.1 speaks (with compression): `ver=16376`.
    pub const NETDATA_1_37: Caps = Caps(
        Self::V1.0
            | Self::V2.0
            | Self::VN.0
            | Self::VCAPS.0
            | Self::HLABELS.0
            | Self::CLAIM.0
            | Self::CLABELS.0
            | Self::COMPRESSION.0
            | Self::FUNCTIONS.0
            | Self::REPLICATION.0
            | Self::BINARY.0,
    );

    /// What tributary speaks: netdata 1.37.1's set without `FUNCTIONS`, and without
    /// `COMPRESSION` unless `compression` is true (`enable compression`).
    ///
    /// `FUNCTIONS` is left out because tributary has no functions: offering it makes a netdata
    /// child send `FUNCTION` lines in its chart definitions (which the parser would have to accept,
    /// since an unknown keyword drops the stream) and lets a netdata parent send us calls we could
    /// only let time out. In 1.37.1 functions are reachable through the cloud only, so nothing is
    /// lost.
    ///
    /// `BINARY` is kept: it only allows the peer's compressed blocks to end mid-line, and
    /// [`crate::frame::FrameDecoder`] yields a byte stream whose block boundaries carry no
    /// meaning (the line splitter after it must, and does, join lines across blocks). Our own
    /// [`crate::frame::FrameEncoder`] splits at newlines either way, which every peer accepts.
    pub fn ours(compression: bool) -> Caps {
        let all = Caps(Self::NETDATA_1_37.0 & !Self::FUNCTIONS.0);
        if compression {
            all
        } else {
            all.without(Self::COMPRESSION)
        }
    }

    /// Converts a `ver=` value (from a request, or from the parent's `version=` prompt) into
    /// capabilities: the legacy versions map as ≤1 → V1; 2 → V2|HLABELS; 3 → VN|HLABELS|CLAIM;
    /// 4 → +CLABELS; 5 → +COMPRESSION; anything larger is the bitmap itself. The result is
    /// normalised (VCAPS drops V1|V2|VN, VN drops V1|V2, V2 drops V1), not yet intersected with
    /// our own set: use [`Caps::negotiate`] for that.
    ///
    /// netdata takes the version as a C `int`, so values with the top bit set count as negative
    /// and map to V1, like 0 and 1.
    pub fn from_version(ver: u32) -> Caps {
        let legacy_vn = Self::VN.0 | Self::HLABELS.0 | Self::CLAIM.0;
        let mut bits = match ver as i32 {
            i32::MIN..=1 => Self::V1.0,
            2 => Self::V2.0 | Self::HLABELS.0,
            3 => legacy_vn,
            4 => legacy_vn | Self::CLABELS.0,
            5 => legacy_vn | Self::CLABELS.0 | Self::COMPRESSION.0,
            _ => ver,
        };
        if bits & Self::VCAPS.0 != 0 {
            bits &= !(Self::V1.0 | Self::V2.0 | Self::VN.0);
        }
        if bits & Self::VN.0 != 0 {
            bits &= !(Self::V1.0 | Self::V2.0);
        }
        if bits & Self::V2.0 != 0 {
            bits &= !Self::V1.0;
        }
        Caps(bits)
    }

    /// What both sides use: `from_version(ver)` intersected with `ours`. A parent answers with
    /// the prompt of this set; a child intersects the parent's answer with what it offered.
    /// `negotiate(16376, Caps::NETDATA_1_37)` is 16320, the prompt a netdata parent sends.
    pub fn negotiate(ver: u32, ours: Caps) -> Caps {
        Self::from_version(ver).intersect(ours)
    }

    /// The bits present in both sets.
    pub fn intersect(self, other: Caps) -> Caps {
        Caps(self.0 & other.0)
    }

    /// This set without the bits of `other`.
    pub fn without(self, other: Caps) -> Caps {
        Caps(self.0 & !other.0)
    }

    /// True when every bit of `other` is in this set.
    pub fn contains(self, other: Caps) -> bool {
        self.0 & other.0 == other.0
    }

    /// The `ver=` value a sender puts in its request: the bitmap itself (16376 for everything
    /// netdata 1.37.1 speaks, 15352 without compression).
    pub fn version_param(self) -> u32 {
        self.0
    }

    /// The parent's accept reply for these negotiated capabilities (§2.3): the bitmap after
    /// `version=` with VCAPS; `version=5|4|3` with VN (5 with COMPRESSION, 4 with CLABELS); the
    /// V2 text with V2; the V1 text otherwise. Sent as is, with no newline.
    pub fn accept_prompt(self) -> String {
        if self.contains(Self::VCAPS) {
            format!("{PROMPT_VERSION}{}", self.0)
        } else if self.contains(Self::VN) {
            let v = if self.contains(Self::COMPRESSION) {
                5
            } else if self.contains(Self::CLABELS) {
                4
            } else {
                3
            };
            format!("{PROMPT_VERSION}{v}")
        } else if self.contains(Self::V2) {
            PROMPT_V2.to_owned()
        } else {
            PROMPT_V1.to_owned()
        }
    }
}

impl std::ops::BitAnd for Caps {
    type Output = Caps;
    fn bitand(self, rhs: Caps) -> Caps {
        self.intersect(rhs)
    }
}

impl std::ops::BitOr for Caps {
    type Output = Caps;
    fn bitor(self, rhs: Caps) -> Caps {
        Caps(self.0 | rhs.0)
    }
}

const NAMES: [(Caps, &str); 11] = [
    (Caps::V1, "V1"),
    (Caps::V2, "V2"),
    (Caps::VN, "VN"),
    (Caps::VCAPS, "VCAPS"),
    (Caps::HLABELS, "HLABELS"),
    (Caps::CLAIM, "CLAIM"),
    (Caps::CLABELS, "CLABELS"),
    (Caps::COMPRESSION, "COMPRESSION"),
    (Caps::FUNCTIONS, "FUNCTIONS"),
    (Caps::REPLICATION, "REPLICATION"),
    (Caps::BINARY, "BINARY"),
];

/// Names the bits, space separated (`VCAPS HLABELS ...`), for logs; unknown bits as a hex rest.
impl fmt::Display for Caps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        let mut first = true;
        for (cap, name) in NAMES {
            if self.contains(cap) {
                if !first {
                    f.write_str(" ")?;
                }
                f.write_str(name)?;
                first = false;
                rest &= !cap.0;
            }
        }
        if rest != 0 {
            if !first {
                f.write_str(" ")?;
            }
            write!(f, "0x{rest:x}")?;
        } else if first {
            f.write_str("NONE")?;
        }
        Ok(())
    }
}

/// Accept prompt for capability negotiation; the decimal version/bitmap follows it.
pub const PROMPT_VERSION: &str = "Hit me baby, push them over with the version=";
/// Accept prompt for legacy version 2 (host labels).
pub const PROMPT_V2: &str = "Hit me baby, push them over and bring the host labels...";
/// Accept prompt for version 1 (and for requests without `ver`).
pub const PROMPT_V1: &str = "Hit me baby, push them over...";
/// Rejection: the streamed machine GUID is the parent's own.
pub const REJECT_LOCALHOST: &str = "Don't hit me baby, you are trying to stream my localhost back";
/// Rejection: another receiver for this GUID saw traffic in the last 30 seconds.
pub const REJECT_ALREADY_STREAMING: &str = "This GUID is already streaming to this server";
/// Rejection: key or GUID missing, invalid, unknown, disabled or not allowed from this IP.
pub const REJECT_NOT_PERMITTED: &str =
    "You are not permitted to access this. Check the logs for more info.";
/// Rejection: `[web] allow streaming from` does not match the child's IP.
pub const REJECT_ACL: &str = "You are not allowed to access this resource.";
/// Rejection: `[web] accept a streaming request every seconds` rate limit.
pub const REJECT_BUSY: &str = "The server is too busy now to accept this request. Try later.";

/// Why a parent's reply to our `STREAM` request is not an acceptance (§2.2, §2.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// [`REJECT_NOT_PERMITTED`] (bad/unknown/disabled key or GUID, IP not allowed) or
    /// [`REJECT_ACL`] (`[web] allow streaming from`).
    #[error("the parent denied access (check the api key and the parent's stream.conf)")]
    Denied,
    /// [`REJECT_ALREADY_STREAMING`].
    #[error("this GUID is already streaming to the parent")]
    AlreadyStreaming,
    /// [`REJECT_LOCALHOST`]: the parent is ourselves (or has our machine GUID).
    #[error("the parent has our machine GUID: we are trying to stream to ourselves")]
    LocalhostLoop,
    /// [`REJECT_BUSY`].
    #[error("the parent is too busy to accept a stream now")]
    Busy,
    /// Anything else.
    #[error("remote node response is not understood, is it Netdata?")]
    NotUnderstood,
}

impl ReplyError {
    /// Seconds a child waits before trying this destination again (netdata 1.37.1's
    /// `postpone reconnect`): localhost loop 3600, already streaming 120, denied 60, not
    /// understood 60. The spec gives none for [`ReplyError::Busy`]; a 1.37.1 child does not
    /// know that text and treats it as not understood, hence 60.
    pub fn backoff_seconds(&self) -> u32 {
        match self {
            ReplyError::LocalhostLoop => 3600,
            ReplyError::AlreadyStreaming => 120,
            ReplyError::Denied | ReplyError::Busy | ReplyError::NotUnderstood => 60,
        }
    }
}

/// The child's reading of the parent's reply (§2.4), given the bytes of its one `recv()`.
///
/// A reply that starts with [`PROMPT_VERSION`] and is longer than it by 1 to 29 bytes is an
/// acceptance: the text after the prompt is read like C's `str2i` (optional `-`, then digits,
/// garbage ends the number, none gives 0) and converted with [`Caps::from_version`]. Otherwise the
/// reply must equal one of the fixed texts exactly (no trailing newline or space): the V2 and V1
/// prompts accept with `from_version(2)` / `from_version(1)`; the rejection texts give their
/// [`ReplyError`]; anything else is [`ReplyError::NotUnderstood`].
///
/// The result is not intersected with what we offered; the caller does that.
pub fn parse_reply(reply: &[u8]) -> Result<Caps, ReplyError> {
    let prompt = PROMPT_VERSION.as_bytes();
    if reply.starts_with(prompt) && reply.len() > prompt.len() && reply.len() < prompt.len() + 30 {
        return Ok(Caps::from_version(str2i(&reply[prompt.len()..]) as u32));
    }
    let fixed: [(&str, Result<Caps, ReplyError>); 8] = [
        (PROMPT_V2, Ok(Caps::from_version(2))),
        (PROMPT_V1, Ok(Caps::from_version(1))),
        (REJECT_LOCALHOST, Err(ReplyError::LocalhostLoop)),
        (REJECT_ALREADY_STREAMING, Err(ReplyError::AlreadyStreaming)),
        (REJECT_NOT_PERMITTED, Err(ReplyError::Denied)),
        (REJECT_ACL, Err(ReplyError::Denied)),
        (REJECT_BUSY, Err(ReplyError::Busy)),
        (PROMPT_VERSION, Err(ReplyError::NotUnderstood)),
    ];
    fixed
        .into_iter()
        .find(|(text, _)| text.as_bytes() == reply)
        .map_or(Err(ReplyError::NotUnderstood), |(_, result)| result)
}

/// netdata's `str2i`: optional leading `-`, then decimal digits (at most 30 characters looked at)
/// with C `int` wrap-around; stops at the first non-digit.
fn str2i(s: &[u8]) -> i32 {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let mut n: i32 = 0;
    for &c in digits.iter().take(30).take_while(|c| c.is_ascii_digit()) {
        n = n.wrapping_mul(10).wrapping_add(i32::from(c - b'0'));
    }
    if neg { n.wrapping_neg() } else { n }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/stream");

    #[test]
    fn bit_values_and_netdata_totals() {
        assert_eq!(Caps::NETDATA_1_37.version_param(), 16376);
        assert_eq!(
            Caps::NETDATA_1_37
                .without(Caps::COMPRESSION)
                .version_param(),
            15352
        );
        assert_eq!(Caps::from_version(16376), Caps(16320));
        assert_eq!(Caps::from_version(15352), Caps(15296));
        assert_eq!(Caps::negotiate(16376, Caps::NETDATA_1_37), Caps(16320));
        assert_eq!(
            Caps::negotiate(16376, Caps::NETDATA_1_37.without(Caps::COMPRESSION)),
            Caps(15296)
        );
        assert_eq!(Caps::ours(true).0, 16376 - 2048);
        assert_eq!(Caps::ours(false).0, 16376 - 2048 - 1024);
    }

    #[test]
    fn legacy_versions() {
        let v1 = Caps::V1;
        let v2 = Caps::V2 | Caps::HLABELS;
        let v3 = Caps::VN | Caps::HLABELS | Caps::CLAIM;
        let v4 = v3 | Caps::CLABELS;
        let v5 = v4 | Caps::COMPRESSION;
        for (ver, caps) in [
            (0, v1),
            (1, v1),
            (u32::MAX, v1),
            (2, v2),
            (3, v3),
            (4, v4),
            (5, v5),
        ] {
            assert_eq!(Caps::from_version(ver), caps, "ver={ver}");
        }
        // A bitmap with legacy bits is normalised.
        assert_eq!(
            Caps::from_version((Caps::V1 | Caps::V2 | Caps::HLABELS).0),
            Caps::V2 | Caps::HLABELS
        );
        assert_eq!(
            Caps::from_version((Caps::V1 | Caps::VN | Caps::CLAIM).0),
            Caps::VN | Caps::CLAIM
        );
    }

    /// Every accept reply of a real netdata 1.37.1 parent (`handshake-replies.txt`) is what
    /// `negotiate(ver, netdata's caps).accept_prompt()` gives, and a child reads it back.
    #[test]
    fn prompts_match_real_parent() {
        let text = std::fs::read_to_string(format!("{FIXTURES}/handshake-replies.txt")).unwrap();
        let mut checked = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (lhs, reply) = line.split_once(" -> ").unwrap();
            let reply = reply
                .strip_prefix("b'")
                .or_else(|| reply.strip_prefix("b\""))
                .unwrap();
            let reply = &reply[..reply.len() - 1];
            let parsed = parse_reply(reply.as_bytes());
            if let Some((_, ver)) = lhs.split_once("&ver=") {
                let ver: u32 = ver.parse().unwrap();
                // The real parent allowed compression: its own caps are all of 1.37.1's.
                let theirs = Caps::NETDATA_1_37;
                if reply.starts_with("Hit me") {
                    let negotiated = Caps::negotiate(ver, theirs);
                    assert_eq!(negotiated.accept_prompt(), reply, "{line}");
                    assert_eq!(parsed, Ok(negotiated), "{line}");
                    checked += 1;
                } else {
                    assert!(parsed.is_err(), "{line}");
                }
            } else {
                // No `ver`: V1.
                assert_eq!(Caps::V1.accept_prompt(), reply);
                assert_eq!(parsed, Ok(Caps::V1));
                checked += 1;
            }
        }
        assert_eq!(checked, 9);
    }

    #[test]
    fn real_child_prompts() {
        for (file, bits) in [
            ("handshake-response-lz4.txt", 16320),
            ("handshake-response-uncompressed.txt", 15296),
            ("handshake-response-no-replication.txt", 11200),
        ] {
            let bytes = std::fs::read(format!("{FIXTURES}/real-child/{file}")).unwrap();
            assert_eq!(parse_reply(&bytes), Ok(Caps(bits)), "{file}");
            assert_eq!(Caps(bits).accept_prompt().as_bytes(), &bytes[..]);
        }
        // The fake parent of the no-replication capture took REPLICATION out of 15296.
        assert_eq!(Caps(15296).without(Caps::REPLICATION), Caps(11200));
    }

    #[test]
    fn rejections_and_backoff() {
        let cases = [
            (REJECT_NOT_PERMITTED, ReplyError::Denied, 60),
            (REJECT_ACL, ReplyError::Denied, 60),
            (REJECT_ALREADY_STREAMING, ReplyError::AlreadyStreaming, 120),
            (REJECT_LOCALHOST, ReplyError::LocalhostLoop, 3600),
            (REJECT_BUSY, ReplyError::Busy, 60),
            ("HTTP/1.1 200 OK\r\n\r\n", ReplyError::NotUnderstood, 60),
        ];
        for (text, err, secs) in cases {
            assert_eq!(parse_reply(text.as_bytes()), Err(err.clone()), "{text}");
            assert_eq!(err.backoff_seconds(), secs);
            // Exact length: a trailing newline makes it not understood.
            let mut longer = text.as_bytes().to_vec();
            longer.push(b'\n');
            assert_eq!(parse_reply(&longer), Err(ReplyError::NotUnderstood));
        }
    }

    #[test]
    fn version_prompt_length_rules() {
        let p = PROMPT_VERSION;
        assert_eq!(parse_reply(p.as_bytes()), Err(ReplyError::NotUnderstood));
        assert_eq!(
            parse_reply(format!("{p}5").as_bytes()),
            Ok(Caps::from_version(5))
        );
        // str2i: garbage gives 0 → V1, as netdata.
        assert_eq!(parse_reply(format!("{p}x").as_bytes()), Ok(Caps::V1));
        assert_eq!(parse_reply(format!("{p}-7").as_bytes()), Ok(Caps::V1));
        let ok29 = format!("{p}16320{}", " ".repeat(24));
        assert_eq!(ok29.len(), p.len() + 29);
        assert_eq!(parse_reply(ok29.as_bytes()), Ok(Caps(16320)));
        let too_long = format!("{p}16320{}", " ".repeat(25));
        assert_eq!(
            parse_reply(too_long.as_bytes()),
            Err(ReplyError::NotUnderstood)
        );
        // V1 / V2 prompts with a trailing byte are not understood.
        assert_eq!(
            parse_reply(format!("{PROMPT_V1} ").as_bytes()),
            Err(ReplyError::NotUnderstood)
        );
        assert_eq!(
            parse_reply(PROMPT_V2.as_bytes()),
            Ok(Caps::V2 | Caps::HLABELS)
        );
    }

    #[test]
    fn legacy_prompt_round_trip() {
        for compression in [false, true] {
            for ver in 0..=5 {
                let negotiated = Caps::negotiate(ver, Caps::ours(compression));
                let back = parse_reply(negotiated.accept_prompt().as_bytes());
                assert_eq!(back, Ok(negotiated), "ver={ver}");
            }
        }
    }

    #[test]
    fn display_names_bits() {
        assert_eq!(
            Caps(16320).to_string(),
            "VCAPS HLABELS CLAIM CLABELS COMPRESSION FUNCTIONS REPLICATION BINARY"
        );
        assert_eq!(Caps(0).to_string(), "NONE");
        assert_eq!(Caps(1 << 20 | 8).to_string(), "V1 0x100000");
    }

    proptest! {
        /// A capability bitmap negotiated by a parent reads back (child side) as the same set.
        #[test]
        fn prompt_round_trip(ver in any::<u32>(), compression in any::<bool>()) {
            let negotiated = Caps::negotiate(ver | Caps::VCAPS.0, Caps::ours(compression));
            prop_assert_eq!(parse_reply(negotiated.accept_prompt().as_bytes()), Ok(negotiated));
        }

        #[test]
        fn parse_reply_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ignored = parse_reply(&bytes);
        }
    }
}
