//! The `STREAM` request a child sends to open a stream, parsed the way netdata 1.37.1's web
//! server and receiver read it (`web_client.c`, `rrdpush.c`), and built in the exact parameter
//! order a 1.37.1 child emits (spec: streaming-protocol.md §2.1).
//!
//! ```text
//! STREAM key=<k>&hostname=<h>&...&NETDATA_PROTOCOL_VERSION=1.1 HTTP/1.1\r\n
//! User-Agent: netdata/v1.37.1\r\n
//! Accept: */*\r\n
//! \r\n
//! ```
//!
//! The URL ends at the **last** ` HTTP/` of the request line (values are mostly sent raw and may
//! contain spaces). The whole URL is URL-decoded first (`%XX`, and `+` as a space; a decoded
//! character that is not printable ASCII becomes a space, as netdata guards against header
//! injection), then split on `&` and each part on its first `=`. Parameters with an empty value
//! are skipped, so their defaults apply; a later duplicate overrides an earlier one.

use crate::capabilities::Caps;
use crate::words::strtoll0;

/// The largest request (request line, headers and the blank line) accepted or built: the size
/// of a 1.37.1 child's request buffer (spec §2.1), so no real child sends more.
pub const MAX_REQUEST_BYTES: usize = 8192;

/// The system-information parameters a 1.37.1 child sends after `ver`, in its order. A sender
/// should fill [`StreamRequest::system_info`] in this order (names it lacks are simply left
/// out); the receiver keeps whatever arrives, in arrival order.
pub const SYSTEM_INFO_PARAMS: [&str; 28] = [
    "NETDATA_INSTANCE_CLOUD_TYPE",
    "NETDATA_INSTANCE_CLOUD_INSTANCE_TYPE",
    "NETDATA_INSTANCE_CLOUD_INSTANCE_REGION",
    "NETDATA_SYSTEM_OS_NAME",
    "NETDATA_SYSTEM_OS_ID",
    "NETDATA_SYSTEM_OS_ID_LIKE",
    "NETDATA_SYSTEM_OS_VERSION",
    "NETDATA_SYSTEM_OS_VERSION_ID",
    "NETDATA_SYSTEM_OS_DETECTION",
    "NETDATA_HOST_IS_K8S_NODE",
    "NETDATA_SYSTEM_KERNEL_NAME",
    "NETDATA_SYSTEM_KERNEL_VERSION",
    "NETDATA_SYSTEM_ARCHITECTURE",
    "NETDATA_SYSTEM_VIRTUALIZATION",
    "NETDATA_SYSTEM_VIRT_DETECTION",
    "NETDATA_SYSTEM_CONTAINER",
    "NETDATA_SYSTEM_CONTAINER_DETECTION",
    "NETDATA_CONTAINER_OS_NAME",
    "NETDATA_CONTAINER_OS_ID",
    "NETDATA_CONTAINER_OS_ID_LIKE",
    "NETDATA_CONTAINER_OS_VERSION",
    "NETDATA_CONTAINER_OS_VERSION_ID",
    "NETDATA_CONTAINER_OS_DETECTION",
    "NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT",
    "NETDATA_SYSTEM_CPU_FREQ",
    "NETDATA_SYSTEM_TOTAL_RAM",
    "NETDATA_SYSTEM_TOTAL_DISK_SIZE",
    "NETDATA_PROTOCOL_VERSION",
];

/// Why a `STREAM` request could not be read or built. A receiver answers the `Missing*`
/// variants with the "not permitted" text (`capabilities::REJECT_NOT_PERMITTED`), as netdata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The request does not start with `STREAM `.
    #[error("not a STREAM request")]
    NotStream,
    /// The request line has no ` HTTP/` (or no line end).
    #[error("malformed STREAM request: {0}")]
    Malformed(&'static str),
    /// The request is larger than [`MAX_REQUEST_BYTES`].
    #[error("STREAM request of {0} bytes is larger than {MAX_REQUEST_BYTES}")]
    TooBig(usize),
    /// `key` is missing or empty.
    #[error("STREAM request without an api key")]
    MissingKey,
    /// `hostname` is missing or empty.
    #[error("STREAM request without a hostname")]
    MissingHostname,
    /// `machine_guid` is missing or empty.
    #[error("STREAM request without a machine_guid")]
    MissingMachineGuid,
    /// (building) A value contains `&`, which no encoding carries through netdata's
    /// decode-then-split parsing, or a name is empty or contains `&`, `=` or a byte that is not
    /// printable ASCII, or the User-Agent name contains `/`.
    #[error("cannot send parameter '{0}' in a STREAM request")]
    Unencodable(String),
}

/// A parsed (receiver) or to-be-sent (sender) `STREAM` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRequest {
    /// `key`: the API key (a stream.conf section name; must be a UUID to be accepted).
    pub key: String,
    /// `hostname`: the streamed host's name.
    pub hostname: String,
    /// `registry_hostname`; the parser falls back to `hostname` when it is absent or empty.
    pub registry_hostname: String,
    /// `machine_guid`: identity of the streamed host (must be a UUID to be accepted).
    pub machine_guid: String,
    /// `update_every` in seconds; None when absent (the receiver applies its own default).
    /// Parsed like C's `strtoul`, negative values give 0.
    pub update_every: Option<u32>,
    /// `os` (default `unknown`).
    pub os: String,
    /// `timezone` (default `unknown`).
    pub timezone: String,
    /// `abbrev_timezone` (default `UTC`).
    pub abbrev_timezone: String,
    /// `utc_offset` in seconds (default 0).
    pub utc_offset: i32,
    /// `hops`: 1 for a child streaming itself, N+1 when a proxy re-streams a host received with
    /// N (default 1).
    pub hops: u16,
    /// `ml_capable` (default 0).
    pub ml_capable: i32,
    /// `ml_enabled` (default 0).
    pub ml_enabled: i32,
    /// `mc_version` (default 0).
    pub mc_version: i32,
    /// `tags`: free-text host tags (deprecated; default empty).
    pub tags: String,
    /// The capabilities of `ver` through [`Caps::from_version`] (not yet intersected with the
    /// receiver's own); V1 when `ver` is absent. A builder sends `ver=<caps bitmap>`.
    pub caps: Caps,
    /// Every other parameter (`NETDATA_SYSTEM_*`, `NETDATA_PROTOCOL_VERSION`, unknown ones), in
    /// request order, decoded. Build it in [`SYSTEM_INFO_PARAMS`] order.
    pub system_info: Vec<(String, String)>,
    /// Program name: the `User-Agent` value before its first `/` (`netdata`; `unknown` without
    /// a User-Agent header: tributary's choice, the spec does not say).
    pub program_name: String,
    /// Program version: the `User-Agent` value after its first `/` (`v1.37.1`; `unknown` when
    /// absent).
    pub program_version: String,
}

impl StreamRequest {
    /// A request with the required fields and every other field at the receiver's default
    /// (`registry_hostname` = `hostname`, `update_every` None, `os`/`timezone` `unknown`,
    /// `abbrev_timezone` `UTC`, hops 1), the given capabilities, no system info, and `tributary`
    /// with this crate's version as the program.
    pub fn new(key: &str, hostname: &str, machine_guid: &str, caps: Caps) -> StreamRequest {
        StreamRequest {
            key: key.to_owned(),
            hostname: hostname.to_owned(),
            registry_hostname: hostname.to_owned(),
            machine_guid: machine_guid.to_owned(),
            update_every: None,
            os: "unknown".to_owned(),
            timezone: "unknown".to_owned(),
            abbrev_timezone: "UTC".to_owned(),
            utc_offset: 0,
            hops: 1,
            ml_capable: 0,
            ml_enabled: 0,
            mc_version: 0,
            tags: String::new(),
            caps,
            system_info: Vec::new(),
            program_name: "tributary".to_owned(),
            program_version: concat!("v", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// Parses the bytes of a request as received (request line and headers; what follows the
    /// blank line, if present, is ignored). Errors: [`RequestError::TooBig`] when the header
    /// part is over [`MAX_REQUEST_BYTES`], [`RequestError::NotStream`],
    /// [`RequestError::Malformed`] without ` HTTP/`, and the `Missing*` variants when `key`,
    /// `hostname` or `machine_guid` is absent or empty. Invalid UTF-8 is replaced (U+FFFD).
    pub fn parse(raw: &[u8]) -> Result<StreamRequest, RequestError> {
        let head = &raw[..request_end(raw).unwrap_or(raw.len())];
        if head.len() > MAX_REQUEST_BYTES {
            return Err(RequestError::TooBig(head.len()));
        }
        let url_and_version = head
            .strip_prefix(b"STREAM ")
            .ok_or(RequestError::NotStream)?;
        let line_end = url_and_version
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(url_and_version.len());
        let line = &url_and_version[..line_end];
        let url_end = rfind(line, b" HTTP/").ok_or(RequestError::Malformed("no ' HTTP/'"))?;
        let url = url_decode(&line[..url_end]);

        let mut req = StreamRequest::new("", "", "", Caps::V1);
        req.registry_hostname.clear();
        req.program_name = "unknown".to_owned();
        req.program_version = "unknown".to_owned();
        for part in url.split('&') {
            let Some((name, value)) = part.split_once('=') else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            // C casts: strtoul/strtol results stored in narrower integers wrap.
            let int = || strtoll0(value);
            match name {
                "key" => req.key = value.to_owned(),
                "hostname" => req.hostname = value.to_owned(),
                "registry_hostname" => req.registry_hostname = value.to_owned(),
                "machine_guid" => req.machine_guid = value.to_owned(),
                "update_every" => {
                    req.update_every = Some(int().clamp(0, i64::from(u32::MAX)) as u32)
                }
                "os" => req.os = value.to_owned(),
                "timezone" => req.timezone = value.to_owned(),
                "abbrev_timezone" => req.abbrev_timezone = value.to_owned(),
                "utc_offset" => req.utc_offset = int() as i32,
                "hops" => req.hops = int() as u16,
                "ml_capable" => req.ml_capable = int() as i32,
                "ml_enabled" => req.ml_enabled = int() as i32,
                "mc_version" => req.mc_version = int() as i32,
                "tags" => req.tags = value.to_owned(),
                "ver" => req.caps = Caps::from_version(int() as u32),
                "" => {}
                _ => req.system_info.push((name.to_owned(), value.to_owned())),
            }
        }
        if req.key.is_empty() {
            return Err(RequestError::MissingKey);
        }
        if req.hostname.is_empty() {
            return Err(RequestError::MissingHostname);
        }
        if req.machine_guid.is_empty() {
            return Err(RequestError::MissingMachineGuid);
        }
        if req.registry_hostname.is_empty() {
            req.registry_hostname.clone_from(&req.hostname);
        }

        let headers = &url_and_version[(line_end + 1).min(url_and_version.len())..];
        for header in headers.split(|&b| b == b'\n') {
            let header = String::from_utf8_lossy(header);
            let Some((name, value)) = header.split_once(':') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("user-agent") {
                let value = value.trim();
                if value.is_empty() {
                    continue;
                }
                let (name, version) = value.split_once('/').unwrap_or((value, ""));
                req.program_name = name.to_owned();
                if !version.is_empty() {
                    req.program_version = version.to_owned();
                }
            }
        }
        Ok(req)
    }

    /// Looks up a parameter of [`StreamRequest::system_info`] (the last one of that name).
    pub fn system_info(&self, name: &str) -> Option<&str> {
        self.system_info
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The request as a sender writes it: netdata 1.37.1's parameter order (`key`, `hostname`,
    /// `registry_hostname`, `machine_guid`, `update_every`, `os`, `timezone`,
    /// `abbrev_timezone`, `utc_offset`, `hops`, `ml_capable`, `ml_enabled`, `mc_version`,
    /// `tags`, `ver`, then [`StreamRequest::system_info`] in its order), then
    /// ` HTTP/1.1\r\nUser-Agent: NAME/VERSION\r\nAccept: */*\r\n\r\n`.
    ///
    /// Values go out raw like netdata's, except the bytes netdata's decoding would change:
    /// `%`, `+` and bytes that are not printable (control characters; they arrive as spaces)
    /// are sent as `%XX`. So [`StreamRequest::parse`] gives back this request whenever all
    /// its strings are non-empty (empty values are sent empty and read back as defaults).
    /// Errors: [`RequestError::Unencodable`] for a `&` in a value (see there) or a bad name,
    /// and [`RequestError::TooBig`] over [`MAX_REQUEST_BYTES`].
    pub fn to_request_bytes(&self) -> Result<Vec<u8>, RequestError> {
        let mut out = Vec::with_capacity(1536);
        out.extend_from_slice(b"STREAM ");
        let update_every = self.update_every.map(|u| u.to_string()).unwrap_or_default();
        let fixed: [(&str, &str); 15] = [
            ("key", &self.key),
            ("hostname", &self.hostname),
            ("registry_hostname", &self.registry_hostname),
            ("machine_guid", &self.machine_guid),
            ("update_every", &update_every),
            ("os", &self.os),
            ("timezone", &self.timezone),
            ("abbrev_timezone", &self.abbrev_timezone),
            ("utc_offset", &self.utc_offset.to_string()),
            ("hops", &self.hops.to_string()),
            ("ml_capable", &self.ml_capable.to_string()),
            ("ml_enabled", &self.ml_enabled.to_string()),
            ("mc_version", &self.mc_version.to_string()),
            ("tags", &self.tags),
            ("ver", &self.caps.version_param().to_string()),
        ];
        let rest = self
            .system_info
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()));
        for (i, (name, value)) in fixed.into_iter().chain(rest).enumerate() {
            if name.is_empty()
                || name
                    .bytes()
                    .any(|b| b == b'&' || b == b'=' || b == b'%' || b == b'+' || !is_print(b))
                || value.contains('&')
            {
                return Err(RequestError::Unencodable(name.to_owned()));
            }
            if i > 0 {
                out.push(b'&');
            }
            out.extend_from_slice(name.as_bytes());
            out.push(b'=');
            for &b in value.as_bytes() {
                if b == b'%' || b == b'+' || b < 0x20 || b == 0x7f {
                    out.extend_from_slice(format!("%{b:02X}").as_bytes());
                } else {
                    out.push(b);
                }
            }
        }
        if self.program_name.contains('/')
            || self.program_name.contains(['\r', '\n'])
            || self.program_version.contains(['\r', '\n'])
        {
            return Err(RequestError::Unencodable("User-Agent".to_owned()));
        }
        out.extend_from_slice(b" HTTP/1.1\r\nUser-Agent: ");
        out.extend_from_slice(self.program_name.as_bytes());
        out.push(b'/');
        out.extend_from_slice(self.program_version.as_bytes());
        out.extend_from_slice(b"\r\nAccept: */*\r\n\r\n");
        if out.len() > MAX_REQUEST_BYTES {
            return Err(RequestError::TooBig(out.len()));
        }
        Ok(out)
    }
}

/// Where a request's header part ends: the index just past the first blank line (`\r\n\r\n`
/// or `\n\n`), or None while it has not arrived completely. A receiver reads until this is
/// Some (or [`MAX_REQUEST_BYTES`] is exceeded) before calling [`StreamRequest::parse`].
pub fn request_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(off) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + off;
        let rest = &buf[nl + 1..];
        if rest.starts_with(b"\n") {
            return Some(nl + 2);
        }
        if rest.starts_with(b"\r\n") {
            return Some(nl + 3);
        }
        i = nl + 1;
    }
    None
}

/// True when `s` is a UUID in the 36-character form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`
/// (hex digits of either case), what netdata's `uuid_parse` requires of `key` and
/// `machine_guid` before accepting a stream.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn is_print(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// netdata's URL decoding: `%XX` (a decoded byte that is not printable ASCII becomes a space),
/// `+` as a space, everything else as is. A `%` without two following bytes is dropped.
fn url_decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                if i + 2 < s.len() {
                    let b = (hex(s[i + 1]) << 4) | hex(s[i + 2]);
                    out.push(if is_print(b) { b } else { b' ' });
                    i += 2;
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Hex digit value like netdata's `from_hex` (digits, else `tolower(c) - 'a' + 10`, wrapping
/// for non-hex characters).
fn hex(c: u8) -> u8 {
    if c.is_ascii_digit() {
        c - b'0'
    } else {
        c.to_ascii_lowercase().wrapping_sub(b'a').wrapping_add(10)
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

    #[test]
    fn parses_real_child_request() {
        let raw = fixture("real-child/handshake-request.txt");
        let r = StreamRequest::parse(&raw).unwrap();
        assert_eq!(r.key, "11111111-2222-3333-4444-555555555555");
        assert!(is_uuid(&r.key) && is_uuid(&r.machine_guid));
        assert_eq!(r.hostname, "nd-child-child-uncompressed");
        assert_eq!(r.registry_hostname, "nd-child-child-uncompressed");
        assert_eq!(r.machine_guid, "c0d108c6-e86d-11f1-b695-02fc00000001");
        assert_eq!(r.update_every, Some(1));
        assert_eq!(r.os, "linux");
        assert_eq!(r.timezone, "Etc/UTC");
        assert_eq!(r.abbrev_timezone, "UTC");
        assert_eq!(r.utc_offset, 0);
        assert_eq!(r.hops, 1);
        assert_eq!((r.ml_capable, r.ml_enabled, r.mc_version), (0, 0, 1));
        assert_eq!(r.tags, "");
        assert_eq!(r.caps, Caps(15296));
        assert_eq!(r.program_name, "netdata");
        assert_eq!(r.program_version, "v1.37.1");
        // Raw spaces survive because the URL ends at the last " HTTP/".
        assert_eq!(
            r.system_info("NETDATA_CONTAINER_OS_NAME"),
            Some("Debian GNU/Linux")
        );
        assert_eq!(
            r.system_info("NETDATA_CONTAINER_OS_VERSION"),
            Some("12 (bookworm)")
        );
        // netdata's URL decoding turns the raw `+` into a space.
        assert_eq!(r.system_info("NETDATA_SYSTEM_CPU_FREQ"), Some("2.596e 09"));
        assert_eq!(r.system_info("NETDATA_PROTOCOL_VERSION"), Some("1.1"));
        // Every system-info parameter of the real child, in SYSTEM_INFO_PARAMS order.
        let names: Vec<&str> = r.system_info.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, SYSTEM_INFO_PARAMS);

        let lz4 =
            StreamRequest::parse(&fixture("real-child/handshake-request-compression.txt")).unwrap();
        assert_eq!(lz4.caps, Caps(16320));
        assert_eq!(lz4.hostname, "nd-child-child");
    }

    /// Building the parsed real request gives netdata's bytes back (parameter order, header
    /// lines), except the `+` that netdata sent raw and that decodes to a space.
    #[test]
    fn builds_real_child_request() {
        let raw = fixture("real-child/handshake-request.txt");
        let mut r = StreamRequest::parse(&raw).unwrap();
        // `ver` is sent as the bitmap: restore what the child offered.
        r.caps = Caps::NETDATA_1_37.without(Caps::COMPRESSION);
        let built = r.to_request_bytes().unwrap();
        let expected = String::from_utf8(raw)
            .unwrap()
            .replace("2.596e+09", "2.596e 09");
        assert_eq!(String::from_utf8(built).unwrap(), expected);

        for name in [
            "real-parent/ok-lz4-handshake-request.txt",
            "real-parent/ok-plain-handshake-request.txt",
        ] {
            let raw = fixture(name);
            let mut r = StreamRequest::parse(&raw).unwrap();
            r.caps = Caps::from_version(if name.contains("lz4") { 16376 } else { 15352 });
            r.caps = Caps(r.caps.0 | Caps::V1.0 | Caps::V2.0 | Caps::VN.0);
            assert_eq!(r.to_request_bytes().unwrap(), raw, "{name}");
        }
    }

    #[test]
    fn defaults_and_errors() {
        let r = StreamRequest::parse(
            b"STREAM key=k&hostname=h&machine_guid=g&registry_hostname=&hops=&os= HTTP/1.1\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.registry_hostname, "h");
        assert_eq!(r.hops, 1);
        assert_eq!(r.os, "unknown");
        assert_eq!(r.timezone, "unknown");
        assert_eq!(r.abbrev_timezone, "UTC");
        assert_eq!(r.update_every, None);
        assert_eq!(r.caps, Caps::V1);
        assert_eq!(r.program_name, "unknown");
        assert!(r.system_info.is_empty());

        let e = |s: &str| StreamRequest::parse(s.as_bytes()).unwrap_err();
        assert_eq!(e("GET / HTTP/1.1\r\n\r\n"), RequestError::NotStream);
        assert_eq!(
            e("STREAM key=a&hostname=b&machine_guid=c\r\n\r\n"),
            RequestError::Malformed("no ' HTTP/'")
        );
        assert_eq!(
            e("STREAM hostname=b&machine_guid=c HTTP/1.1\r\n\r\n"),
            RequestError::MissingKey
        );
        assert_eq!(
            e("STREAM key=a&hostname=&machine_guid=c HTTP/1.1\r\n\r\n"),
            RequestError::MissingHostname
        );
        assert_eq!(
            e("STREAM key=a&hostname=b HTTP/1.1\r\n\r\n"),
            RequestError::MissingMachineGuid
        );
        let big = format!(
            "STREAM key=a&hostname=b&machine_guid=c&x={} HTTP/1.1\r\n\r\n",
            "y".repeat(8192)
        );
        assert!(matches!(e(&big), RequestError::TooBig(_)));
    }

    #[test]
    fn decoding_rules() {
        let r = StreamRequest::parse(
            b"STREAM key=k&hostname=a%20b+c HTTP/1.0&machine_guid=g&ver=2&tags=x%3Dy=z&N=%0a%41 HTTP/1.1\nuser-agent:  fake/0.1/x \n\n",
        )
        .unwrap();
        assert_eq!(r.hostname, "a b c HTTP/1.0");
        assert_eq!(r.caps, Caps::V2 | Caps::HLABELS);
        assert_eq!(r.tags, "x=y=z");
        assert_eq!(r.system_info, [("N".to_owned(), " A".to_owned())]);
        assert_eq!(
            (r.program_name.as_str(), r.program_version.as_str()),
            ("fake", "0.1/x")
        );
        // An encoded `&` splits, as in netdata.
        let r =
            StreamRequest::parse(b"STREAM key=k&hostname=a%26b=c&machine_guid=g HTTP/1.1\r\n\r\n")
                .unwrap();
        assert_eq!(r.hostname, "a");
        assert_eq!(r.system_info("b"), Some("c"));
        // Later duplicates win.
        let r = StreamRequest::parse(
            b"STREAM key=k&hostname=a&hostname=b&machine_guid=g HTTP/1.1\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.hostname, "b");
    }

    #[test]
    fn request_end_finds_blank_line() {
        assert_eq!(request_end(b"STREAM x HTTP/1.1\r\nA: b\r\n"), None);
        assert_eq!(
            request_end(b"STREAM x HTTP/1.1\r\nA: b\r\n\r\nrest"),
            Some(27)
        );
        assert_eq!(request_end(b"a\n\nb"), Some(3));
    }

    #[test]
    fn uuid_check() {
        assert!(is_uuid("0ab26e1e-886b-4c19-8856-0482aa8b899C"));
        assert!(!is_uuid("0ab26e1e-886b-4c19-8856-0482aa8b899"));
        assert!(!is_uuid("0ab26e1e+886b-4c19-8856-0482aa8b899c"));
    }

    fn text() -> impl Strategy<Value = String> {
        // Non-empty, no `&`; spaces, `%`, `+`, `=`, `/`, UTF-8 and " HTTP/" allowed.
        proptest::string::string_regex("([a-zA-Z0-9 %+=/._:-]|é| HTTP/){1,12}").unwrap()
    }

    proptest! {
        #[test]
        fn build_parse_round_trip(
            key in text(), hostname in text(), registry in text(), guid in text(),
            update_every in proptest::option::of(any::<u32>()),
            os in text(), tz in text(), abbrev in text(),
            utc_offset in any::<i32>(), hops in any::<u16>(),
            ml in any::<(i32, i32, i32)>(), tags in text(), ver in any::<u32>(),
            info in proptest::collection::vec(("NETDATA_[A-Z_]{1,12}", text()), 0..8),
            program in "[a-z]{1,8}", version in "[a-z0-9./]{1,8}",
        ) {
            let r = StreamRequest {
                key, hostname, registry_hostname: registry, machine_guid: guid, update_every,
                os, timezone: tz, abbrev_timezone: abbrev, utc_offset, hops,
                ml_capable: ml.0, ml_enabled: ml.1, mc_version: ml.2, tags,
                caps: Caps::from_version(ver), system_info: info,
                program_name: program, program_version: version,
            };
            let bytes = r.to_request_bytes().unwrap();
            prop_assert_eq!(StreamRequest::parse(&bytes), Ok(r));
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut raw = b"STREAM ".to_vec();
            raw.extend_from_slice(&bytes);
            let _ignored = StreamRequest::parse(&raw);
            let _ignored2 = StreamRequest::parse(&bytes);
        }
    }
}
