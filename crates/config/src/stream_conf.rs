//! Typed view of stream.conf: the `[stream]` sender settings, and who may stream to us with
//! which receiver settings.
//!
//! Mirrors netdata 1.37's `streaming/`:
//! * `rrdpush_init()` (rrdpush.c) and `rrdpush_sender_thread()` (sender.c) read `[stream]`. The
//!   defaults are the ones in that code, which is what applies when a key is missing from the
//!   user's stream.conf. The stock stream.conf sets `timeout seconds = 60` while the code default
//!   is 600.
//! * `rrdpush_receiver_thread_spawn()` (rrdpush.c) checks the API key and machine GUID: both must
//!   be GUIDs; `[API_KEY]` must have `type = api` (the default) and `enabled = yes` (default no);
//!   `[MACHINE_GUID]` must have `type = machine` (the default) and not `enabled = no` (default
//!   yes); each `allow from` (default `*`) must match the client IP, and an empty `allow from`
//!   allows everyone.
//! * `rrdpush_receive()` (receiver.c) resolves the receiver settings. Each one starts from
//!   netdata.conf or `[stream]`, then `[API_KEY]` (`default history`, `default memory mode`,
//!   `health enabled by default`, `default postpone alarms on connect seconds`,
//!   `default proxy *`, and for compression and replication the same names as below), then
//!   `[MACHINE_GUID]` (`history`, `memory mode`, `health enabled`, ...). The more specific one
//!   wins.
//!
//! The replication step is read as `seconds per replication step`, the name netdata 1.37's code
//! reads; the stock stream.conf documents it as `replication_step`, which netdata ignores. Both
//! are accepted here, the code's name first.

use std::fmt;

use crate::destination::{Destination, parse_destinations};
use crate::ini::{Config, Entry, ValueError};
use crate::simple_pattern::SimplePattern;
use crate::values::{Boolean, ValueProblem};

/// The sender section, `[stream]`.
pub const STREAM_SECTION: &str = "stream";

/// `[stream]`: whether and where this agent sends its metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct SenderSettings {
    /// `enabled`, default no.
    pub enabled: bool,
    /// `destination` as written, default empty.
    pub destination: String,
    /// `destination` parsed, in failover order.
    pub destinations: Vec<Destination>,
    /// `api key`, default empty.
    pub api_key: String,
    /// `timeout seconds`, default 600 (the stock file says 60).
    pub timeout_secs: u64,
    /// `default port`, default 19999.
    pub default_port: u16,
    /// `send charts matching`, default `*`.
    pub send_charts_matching: SimplePattern,
    /// `buffer size bytes`, default 10 MiB.
    pub buffer_size_bytes: u64,
    /// `reconnect delay seconds`, default 5.
    pub reconnect_delay_secs: u64,
    /// tributary: `spool seconds` (default 120): with `memory mode = none`, how many seconds
    /// of collected samples are kept so that a parent can replicate an outage that short.
    pub spool_seconds: u64,
    /// tributary: `spool bytes` (default 1 MiB): the most memory the spool's samples take.
    pub spool_bytes: u64,
    /// `initial clock resync iterations`, default 60.
    pub initial_clock_resync_iterations: u64,
    /// `enable compression`, default yes. On a parent it also caps every receiver.
    pub enable_compression: bool,
    /// `ssl skip certificate verification`, default no.
    pub ssl_skip_certificate_verification: bool,
    /// `CApath`, unset by default.
    pub ca_path: Option<String>,
    /// `CAfile`, unset by default.
    pub ca_file: Option<String>,
}

impl SenderSettings {
    /// True when streaming is enabled and has a destination and an API key; netdata 1.37
    /// otherwise logs "cannot enable sending thread - information is missing" and does not send.
    pub fn can_send(&self) -> bool {
        self.enabled && !self.destination.trim().is_empty() && !self.api_key.trim().is_empty()
    }
}

/// The netdata.conf values a receiver starts from; the caller reads them from netdata.conf.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiverDefaults {
    /// `[db] retention` (alias `[global] history`).
    pub history: u64,
    /// `[db] mode` (alias `[global] memory mode`).
    pub memory_mode: String,
    /// `[health] enabled`.
    pub health_enabled: Boolean,
    /// `[db] enable replication`, default yes.
    pub enable_replication: bool,
    /// `[db] seconds to replicate`, default 86400.
    pub seconds_to_replicate: u64,
    /// `[db] seconds per replication step`, default 600.
    pub replication_step_secs: u64,
}

impl Default for ReceiverDefaults {
    /// netdata 1.37's built-in values (with `save`, its default when dbengine is not built in).
    fn default() -> Self {
        ReceiverDefaults {
            history: 3600,
            memory_mode: "save".to_owned(),
            health_enabled: Boolean::Yes,
            enable_replication: true,
            seconds_to_replicate: 86_400,
            replication_step_secs: 600,
        }
    }
}

/// The effective settings for one child, after netdata.conf < `[stream]` < `[API_KEY]` <
/// `[MACHINE_GUID]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiverSettings {
    /// `[MACHINE_GUID] update every`: overrides the child's own, when set.
    pub update_every: Option<u64>,
    /// Entries per dimension; at least 5, as netdata enforces.
    pub history: u64,
    /// Memory mode name as written. netdata turns a name it does not know into `save`.
    pub memory_mode: String,
    /// Health for this host: yes, no, or auto.
    pub health_enabled: Boolean,
    /// Seconds to hold alarms after the child connects, default 60.
    pub postpone_alarms_on_connect_secs: u64,
    /// Forward this child's metrics further (proxy); default `[stream]` can send.
    pub proxy_enabled: bool,
    /// Where to forward; default `[stream] destination`.
    pub proxy_destination: String,
    /// API key to forward with; default `[stream] api key`.
    pub proxy_api_key: String,
    /// Which charts to forward; default `[stream] send charts matching`.
    pub proxy_send_charts_matching: String,
    /// Compression for this child: its own setting and `[stream] enable compression`.
    pub enable_compression: bool,
    /// Replicate the child's past data on connect.
    pub enable_replication: bool,
    /// How far back to replicate.
    pub seconds_to_replicate: u64,
    /// How much to replicate per request.
    pub replication_step_secs: u64,
    /// tributary's bound on a child's charts (`[API_KEY] default max charts` /
    /// `[MACHINE_GUID] max charts`, default [`DEFAULT_MAX_CHARTS`]): a child that defines
    /// more is disconnected, so that a flood cannot exhaust the parent's memory.
    pub max_charts: u64,
    /// The same for dimensions, over all the child's charts (`default max dimensions` /
    /// `max dimensions`, default [`DEFAULT_MAX_DIMENSIONS`]).
    pub max_dimensions: u64,
}

/// Default [`ReceiverSettings::max_charts`]: well above the largest netdata hosts seen.
pub const DEFAULT_MAX_CHARTS: u64 = 20_000;
/// Default [`ReceiverSettings::max_dimensions`] (about 1.4 GB of `ram` rings at 3600 s).
pub const DEFAULT_MAX_DIMENSIONS: u64 = 100_000;

/// Why a child may not stream here. The receiver answers every case the same way (HTTP 401),
/// and logs [`AccessDenied::log_reason`] in its stream access log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    /// The API key is not a GUID.
    #[error("api key is not a valid guid")]
    InvalidKey,
    /// The machine GUID is not a GUID.
    #[error("machine guid is not a valid guid")]
    InvalidMachineGuid,
    /// The API key's section has a `type` other than `api`.
    #[error("api key is a {0} guid")]
    NotAnApiKey(String),
    /// The API key's section is missing or not `enabled = yes`.
    #[error("api key is not enabled")]
    KeyNotEnabled,
    /// The client IP does not match the API key's `allow from`.
    #[error("api key is not allowed from this ip")]
    KeyNotAllowedFromIp,
    /// The machine GUID's section has a `type` other than `machine`.
    #[error("machine guid is a {0} guid")]
    NotAMachineGuid(String),
    /// The machine GUID's section has `enabled = no`.
    #[error("machine guid is not enabled")]
    MachineGuidNotEnabled,
    /// The client IP does not match the machine GUID's `allow from`.
    #[error("machine guid is not allowed from this ip")]
    MachineGuidNotAllowedFromIp,
}

impl AccessDenied {
    /// The words netdata 1.37 writes in its stream access log for this case.
    pub fn log_reason(&self) -> &'static str {
        match self {
            AccessDenied::InvalidKey => "ACCESS DENIED - INVALID KEY",
            AccessDenied::InvalidMachineGuid => "ACCESS DENIED - INVALID MACHINE GUID",
            AccessDenied::NotAnApiKey(_) => "ACCESS DENIED - API KEY GIVEN IS NOT API KEY",
            AccessDenied::KeyNotEnabled => "ACCESS DENIED - KEY NOT ENABLED",
            AccessDenied::KeyNotAllowedFromIp => "ACCESS DENIED - KEY NOT ALLOWED FROM THIS IP",
            AccessDenied::NotAMachineGuid(_) => {
                "ACCESS DENIED - MACHINE GUID GIVEN IS NOT A MACHINE GUID"
            }
            AccessDenied::MachineGuidNotEnabled => "ACCESS DENIED - MACHINE GUID NOT ENABLED",
            AccessDenied::MachineGuidNotAllowedFromIp => {
                "ACCESS DENIED - MACHINE GUID NOT ALLOWED FROM THIS IP"
            }
        }
    }
}

/// True for a GUID as libuuid's `uuid_parse` accepts it: 36 characters, hex digits in any case,
/// dashes at positions 8, 13, 18 and 23.
pub fn is_valid_guid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(at, b)| match at {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A typed view over a parsed stream.conf.
#[derive(Clone, Copy)]
pub struct StreamConf<'a> {
    config: &'a Config,
}

impl fmt::Debug for StreamConf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamConf").finish_non_exhaustive()
    }
}

/// The key names of one receiver setting in `[API_KEY]` and in `[MACHINE_GUID]` sections.
struct Layered {
    api_key: &'static [&'static str],
    machine: &'static [&'static str],
}

const HISTORY: Layered = Layered {
    api_key: &["default history"],
    machine: &["history"],
};
const MEMORY_MODE: Layered = Layered {
    api_key: &["default memory mode"],
    machine: &["memory mode"],
};
const HEALTH: Layered = Layered {
    api_key: &["health enabled by default"],
    machine: &["health enabled"],
};
const POSTPONE: Layered = Layered {
    api_key: &["default postpone alarms on connect seconds"],
    machine: &["postpone alarms on connect seconds"],
};
const PROXY_ENABLED: Layered = Layered {
    api_key: &["default proxy enabled"],
    machine: &["proxy enabled"],
};
const PROXY_DESTINATION: Layered = Layered {
    api_key: &["default proxy destination"],
    machine: &["proxy destination"],
};
const PROXY_API_KEY: Layered = Layered {
    api_key: &["default proxy api key"],
    machine: &["proxy api key"],
};
const PROXY_SEND_CHARTS: Layered = Layered {
    api_key: &["default proxy send charts matching"],
    machine: &["proxy send charts matching"],
};
const COMPRESSION: Layered = Layered {
    api_key: &["enable compression"],
    machine: &["enable compression"],
};
const REPLICATION: Layered = Layered {
    api_key: &["enable replication"],
    machine: &["enable replication"],
};
const SECONDS_TO_REPLICATE: Layered = Layered {
    api_key: &["seconds to replicate"],
    machine: &["seconds to replicate"],
};
const MAX_CHARTS: Layered = Layered {
    api_key: &["default max charts"],
    machine: &["max charts"],
};
const MAX_DIMENSIONS: Layered = Layered {
    api_key: &["default max dimensions"],
    machine: &["max dimensions"],
};
const REPLICATION_STEP: Layered = Layered {
    api_key: &["seconds per replication step", "replication_step"],
    machine: &["seconds per replication step", "replication_step"],
};

impl<'a> StreamConf<'a> {
    /// Wraps a parsed stream.conf (an empty [`Config`] when there is none).
    pub fn new(config: &'a Config) -> StreamConf<'a> {
        StreamConf { config }
    }

    /// The parsed file this view reads.
    pub fn config(&self) -> &'a Config {
        self.config
    }

    fn stream(&self, key: &str) -> Option<&'a Entry> {
        self.config.entry(STREAM_SECTION, key)
    }

    fn stream_u64(&self, key: &str, default: u64) -> Result<u64, ValueError> {
        self.stream(key).map_or(Ok(default), Entry::as_u64)
    }

    fn stream_bool(&self, key: &str, default: bool) -> Result<bool, ValueError> {
        self.stream(key)
            .map_or(Ok(default), |e| e.as_bool().map(Boolean::as_bool))
    }

    fn stream_str(&self, key: &str, default: &str) -> String {
        self.stream(key).map_or(default, Entry::value).to_owned()
    }

    /// The `[stream]` settings, with netdata 1.37's defaults for missing keys.
    pub fn sender(&self) -> Result<SenderSettings, ValueError> {
        let default_port = match self.stream("default port") {
            None => 19999,
            Some(entry) => {
                let port = entry.as_u64()?;
                u16::try_from(port).map_err(|_| entry.error(ValueProblem::NotInteger))?
            }
        };
        let destinations = match self.stream("destination") {
            None => Vec::new(),
            Some(entry) => parse_destinations(entry.value(), default_port)
                .map_err(|e| entry.error(ValueProblem::BadDestination(Box::new(e))))?,
        };
        Ok(SenderSettings {
            enabled: self.stream_bool("enabled", false)?,
            destination: self.stream_str("destination", ""),
            destinations,
            api_key: self.stream_str("api key", ""),
            timeout_secs: self.stream_u64("timeout seconds", 600)?,
            default_port,
            send_charts_matching: SimplePattern::new(
                self.stream("send charts matching")
                    .map_or("*", Entry::value),
            ),
            buffer_size_bytes: self.stream_u64("buffer size bytes", 10 * 1024 * 1024)?,
            reconnect_delay_secs: self.stream_u64("reconnect delay seconds", 5)?,
            spool_seconds: self.stream_u64("spool seconds", 120)?,
            spool_bytes: self.stream_u64("spool bytes", 1024 * 1024)?,
            initial_clock_resync_iterations: self
                .stream_u64("initial clock resync iterations", 60)?,
            enable_compression: self.stream_bool("enable compression", true)?,
            ssl_skip_certificate_verification: self
                .stream_bool("ssl skip certificate verification", false)?,
            ca_path: self.stream("CApath").map(|e| e.value().to_owned()),
            ca_file: self.stream("CAfile").map(|e| e.value().to_owned()),
        })
    }

    /// Decides whether a child may stream here, as netdata 1.37 does before accepting a
    /// `STREAM` request. A value that is not a boolean in `enabled` counts as `no`, as in
    /// netdata.
    pub fn check_access(
        &self,
        api_key: &str,
        machine_guid: &str,
        client_ip: &str,
    ) -> Result<(), AccessDenied> {
        if !is_valid_guid(api_key) {
            return Err(AccessDenied::InvalidKey);
        }
        if !is_valid_guid(machine_guid) {
            return Err(AccessDenied::InvalidMachineGuid);
        }
        let kind = self.section_type(api_key, "api");
        if kind != "api" {
            return Err(AccessDenied::NotAnApiKey(kind));
        }
        if !self.enabled(api_key, false) {
            return Err(AccessDenied::KeyNotEnabled);
        }
        if !self.allowed_from(api_key, client_ip) {
            return Err(AccessDenied::KeyNotAllowedFromIp);
        }
        let kind = self.section_type(machine_guid, "machine");
        if kind != "machine" {
            return Err(AccessDenied::NotAMachineGuid(kind));
        }
        if !self.enabled(machine_guid, true) {
            return Err(AccessDenied::MachineGuidNotEnabled);
        }
        if !self.allowed_from(machine_guid, client_ip) {
            return Err(AccessDenied::MachineGuidNotAllowedFromIp);
        }
        Ok(())
    }

    fn section_type(&self, section: &str, default: &str) -> String {
        match self.config.get(section, "type") {
            None => default.to_owned(),
            Some("") => "unknown".to_owned(),
            Some(kind) => kind.to_owned(),
        }
    }

    fn enabled(&self, section: &str, default: bool) -> bool {
        match self.config.get(section, "enabled") {
            None => default,
            Some(value) => Boolean::parse(value).is_some_and(Boolean::as_bool),
        }
    }

    fn allowed_from(&self, section: &str, client_ip: &str) -> bool {
        let pattern = SimplePattern::new(self.config.get(section, "allow from").unwrap_or("*"));
        pattern.is_empty() || pattern.matches(client_ip)
    }

    /// Reads one layered setting: the `[API_KEY]` value, then the `[MACHINE_GUID]` value, the
    /// last one present winning; `None` when neither is set.
    fn layered<T>(
        &self,
        api_key: &str,
        machine_guid: &str,
        names: &Layered,
        read: impl Fn(&Entry) -> Result<T, ValueError>,
    ) -> Result<Option<T>, ValueError> {
        let find = |section: &str, keys: &[&str]| {
            keys.iter().find_map(|key| self.config.entry(section, key))
        };
        let mut value = None;
        if let Some(entry) = find(api_key, names.api_key) {
            value = Some(read(entry)?);
        }
        if let Some(entry) = find(machine_guid, names.machine) {
            value = Some(read(entry)?);
        }
        Ok(value)
    }

    /// The effective settings for the child `machine_guid` connecting with `api_key`.
    /// Call [`check_access`](Self::check_access) first.
    pub fn receiver(
        &self,
        api_key: &str,
        machine_guid: &str,
        defaults: &ReceiverDefaults,
    ) -> Result<ReceiverSettings, ValueError> {
        let sender = self.sender()?;
        let (key, guid) = (api_key, machine_guid);
        let u64_of = |names: &Layered| self.layered(key, guid, names, Entry::as_u64);
        let bool_of = |names: &Layered| {
            self.layered(key, guid, names, |e: &Entry| {
                e.as_bool().map(Boolean::as_bool)
            })
        };
        let text_of =
            |names: &Layered| self.layered(key, guid, names, |e: &Entry| Ok(e.value().to_owned()));

        let update_every = self
            .config
            .entry(machine_guid, "update every")
            .map(Entry::as_u64);
        let health_enabled = self.layered(api_key, machine_guid, &HEALTH, Entry::as_bool)?;
        let compression = bool_of(&COMPRESSION)?.unwrap_or(sender.enable_compression);
        Ok(ReceiverSettings {
            update_every: update_every.transpose()?,
            history: u64_of(&HISTORY)?.unwrap_or(defaults.history).max(5),
            memory_mode: text_of(&MEMORY_MODE)?.unwrap_or_else(|| defaults.memory_mode.clone()),
            health_enabled: health_enabled.unwrap_or(defaults.health_enabled),
            postpone_alarms_on_connect_secs: u64_of(&POSTPONE)?.unwrap_or(60),
            proxy_enabled: bool_of(&PROXY_ENABLED)?.unwrap_or(sender.can_send()),
            proxy_destination: text_of(&PROXY_DESTINATION)?.unwrap_or(sender.destination),
            proxy_api_key: text_of(&PROXY_API_KEY)?.unwrap_or(sender.api_key),
            proxy_send_charts_matching: text_of(&PROXY_SEND_CHARTS)?
                .unwrap_or_else(|| sender.send_charts_matching.as_str().to_owned()),
            enable_compression: compression && sender.enable_compression,
            enable_replication: bool_of(&REPLICATION)?.unwrap_or(defaults.enable_replication),
            seconds_to_replicate: u64_of(&SECONDS_TO_REPLICATE)?
                .unwrap_or(defaults.seconds_to_replicate),
            replication_step_secs: u64_of(&REPLICATION_STEP)?
                .unwrap_or(defaults.replication_step_secs),
            max_charts: u64_of(&MAX_CHARTS)?.unwrap_or(DEFAULT_MAX_CHARTS),
            max_dimensions: u64_of(&MAX_DIMENSIONS)?.unwrap_or(DEFAULT_MAX_DIMENSIONS),
        })
    }
}

impl ReceiverSettings {
    /// Parses [`proxy_destination`](Self::proxy_destination) with the given default port.
    pub fn proxy_destinations(
        &self,
        default_port: u16,
    ) -> Result<Vec<Destination>, crate::destination::DestinationError> {
        parse_destinations(&self.proxy_destination, default_port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "11111111-2222-3333-4444-555555555555";
    const GUID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    fn conf(text: &str) -> Config {
        Config::parse(text, "stream.conf").unwrap()
    }

    #[test]
    fn sender_defaults_match_netdata_code() {
        let cfg = Config::new();
        let s = StreamConf::new(&cfg).sender().unwrap();
        assert!(!s.enabled);
        assert!(!s.can_send());
        assert_eq!(s.destination, "");
        assert!(s.destinations.is_empty());
        assert_eq!(s.timeout_secs, 600);
        assert_eq!(s.default_port, 19999);
        assert_eq!(s.send_charts_matching.as_str(), "*");
        assert_eq!(s.buffer_size_bytes, 10_485_760);
        assert_eq!(s.reconnect_delay_secs, 5);
        assert_eq!(s.initial_clock_resync_iterations, 60);
        assert!(s.enable_compression);
        assert!(!s.ssl_skip_certificate_verification);
        assert_eq!((s.ca_path, s.ca_file), (None, None));
    }

    #[test]
    fn sender_reads_every_key() {
        let cfg = conf(
            "[stream]\n\
             enabled = yes\n\
             destination = tcp:parent1:20000 [::1]:SSL\n\
             api key = 11111111-2222-3333-4444-555555555555\n\
             timeout seconds = 60\n\
             default port = 19998\n\
             send charts matching = !apps.* *\n\
             buffer size bytes = 1024\n\
             reconnect delay seconds = 7\n\
             initial clock resync iterations = 0\n\
             enable compression = no\n\
             ssl skip certificate verification = yes\n\
             CApath = /etc/ssl/certs/\n\
             CAfile = /etc/ssl/certs/cert.pem\n",
        );
        let s = StreamConf::new(&cfg).sender().unwrap();
        assert!(s.can_send());
        let shown: Vec<_> = s.destinations.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["parent1:20000", "[::1]:19998:SSL"]);
        assert_eq!(s.timeout_secs, 60);
        assert_eq!(s.default_port, 19998);
        assert!(!s.send_charts_matching.matches("apps.cpu"));
        assert!(s.send_charts_matching.matches("system.cpu"));
        assert_eq!(s.buffer_size_bytes, 1024);
        assert_eq!(s.reconnect_delay_secs, 7);
        assert_eq!(s.initial_clock_resync_iterations, 0);
        assert!(!s.enable_compression);
        assert!(s.ssl_skip_certificate_verification);
        assert_eq!(s.ca_path.as_deref(), Some("/etc/ssl/certs/"));
        assert_eq!(s.ca_file.as_deref(), Some("/etc/ssl/certs/cert.pem"));
        assert_eq!(cfg.unused().count(), 0);
    }

    #[test]
    fn sender_errors_name_the_line() {
        let cases = [
            (
                "[stream]\ndefault port = 70000\n",
                "stream.conf:2: [stream] default port = '70000': expected an integer",
            ),
            (
                "[stream]\nenabled = sure\n",
                "stream.conf:2: [stream] enabled = 'sure': expected yes, no or auto",
            ),
            (
                "[stream]\ndestination = a b:http\n",
                "stream.conf:2: [stream] destination = 'a b:http': destination 'b:http' has an invalid port 'http'",
            ),
        ];
        for (text, message) in cases {
            let cfg = conf(text);
            assert_eq!(
                StreamConf::new(&cfg).sender().unwrap_err().to_string(),
                message
            );
        }
    }

    #[test]
    fn enabled_without_destination_or_key_cannot_send() {
        for text in [
            "[stream]\nenabled = yes\napi key = k\n",
            "[stream]\nenabled = yes\ndestination = p\n",
        ] {
            let cfg = conf(text);
            let s = StreamConf::new(&cfg).sender().unwrap();
            assert!(s.enabled && !s.can_send(), "{text:?}");
        }
    }

    #[test]
    fn guids() {
        assert!(is_valid_guid(KEY));
        assert!(is_valid_guid("AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"));
        assert!(!is_valid_guid("11111111-2222-3333-4444-55555555555"));
        assert!(!is_valid_guid("11111111-2222-3333-4444-5555555555555"));
        assert!(!is_valid_guid("11111111x2222-3333-4444-555555555555"));
        assert!(!is_valid_guid("g1111111-2222-3333-4444-555555555555"));
        assert!(!is_valid_guid(""));
    }

    #[test]
    fn access_table() {
        use AccessDenied::*;
        let key = format!("[{KEY}]\ntype = api\nenabled = yes\n");
        let cases = [
            (key.clone(), KEY, GUID, "10.0.0.1", Ok(())),
            (key.clone(), "not-a-guid", GUID, "10.0.0.1", Err(InvalidKey)),
            (key.clone(), KEY, "x", "10.0.0.1", Err(InvalidMachineGuid)),
            (String::new(), KEY, GUID, "10.0.0.1", Err(KeyNotEnabled)),
            (
                format!("[{KEY}]\ntype = api\n"),
                KEY,
                GUID,
                "1.1.1.1",
                Err(KeyNotEnabled),
            ),
            (
                format!("[{KEY}]\nenabled = 1\n"),
                KEY,
                GUID,
                "1.1.1.1",
                Ok(()),
            ),
            (
                format!("[{KEY}]\nenabled = maybe\n"),
                KEY,
                GUID,
                "1.1.1.1",
                Err(KeyNotEnabled),
            ),
            (
                format!("[{KEY}]\ntype = machine\nenabled = yes\n"),
                KEY,
                GUID,
                "1.1.1.1",
                Err(NotAnApiKey("machine".into())),
            ),
            (
                format!("[{KEY}]\ntype =\nenabled = yes\n"),
                KEY,
                GUID,
                "1.1.1.1",
                Err(NotAnApiKey("unknown".into())),
            ),
            (
                format!("{key}allow from = 10.* !*\n"),
                KEY,
                GUID,
                "10.0.0.1",
                Ok(()),
            ),
            (
                format!("{key}allow from = 10.*\n"),
                KEY,
                GUID,
                "192.168.1.1",
                Err(KeyNotAllowedFromIp),
            ),
            (
                format!("{key}allow from =\n"),
                KEY,
                GUID,
                "192.168.1.1",
                Ok(()),
            ),
            (
                format!("{key}[{GUID}]\ntype = api\n"),
                KEY,
                GUID,
                "1.1.1.1",
                Err(NotAMachineGuid("api".into())),
            ),
            (
                format!("{key}[{GUID}]\nenabled = no\n"),
                KEY,
                GUID,
                "1.1.1.1",
                Err(MachineGuidNotEnabled),
            ),
            (
                format!("{key}[{GUID}]\nallow from = !1.1.1.1 *\n"),
                KEY,
                GUID,
                "1.1.1.1",
                Err(MachineGuidNotAllowedFromIp),
            ),
            (
                format!("{key}[{GUID}]\nallow from = !1.1.1.1 *\n"),
                KEY,
                GUID,
                "1.1.1.2",
                Ok(()),
            ),
        ];
        for (text, key, guid, ip, expected) in cases {
            let cfg = conf(&text);
            assert_eq!(
                StreamConf::new(&cfg).check_access(key, guid, ip),
                expected,
                "{text}"
            );
        }
        assert_eq!(
            KeyNotEnabled.log_reason(),
            "ACCESS DENIED - KEY NOT ENABLED"
        );
        assert_eq!(
            NotAnApiKey("machine".into()).to_string(),
            "api key is a machine guid"
        );
    }

    #[test]
    fn receiver_defaults_come_from_netdata_conf_and_stream() {
        let cfg = conf(
            "[stream]\nenabled = yes\ndestination = grandparent\napi key = k\n\
             send charts matching = system.*\n",
        );
        let defaults = ReceiverDefaults {
            history: 2,
            ..ReceiverDefaults::default()
        };
        let r = StreamConf::new(&cfg)
            .receiver(KEY, GUID, &defaults)
            .unwrap();
        assert_eq!(
            r,
            ReceiverSettings {
                update_every: None,
                history: 5,
                memory_mode: "save".into(),
                health_enabled: Boolean::Yes,
                postpone_alarms_on_connect_secs: 60,
                proxy_enabled: true,
                proxy_destination: "grandparent".into(),
                proxy_api_key: "k".into(),
                proxy_send_charts_matching: "system.*".into(),
                enable_compression: true,
                enable_replication: true,
                seconds_to_replicate: 86_400,
                replication_step_secs: 600,
                max_charts: DEFAULT_MAX_CHARTS,
                max_dimensions: DEFAULT_MAX_DIMENSIONS,
            }
        );
        assert_eq!(r.proxy_destinations(19999).unwrap()[0].host, "grandparent");
    }

    #[test]
    fn machine_guid_beats_api_key_beats_defaults() {
        let cfg = conf(&format!(
            "[stream]\nenable compression = yes\n\
             [{KEY}]\n\
             type = api\nenabled = yes\n\
             default history = 7200\n\
             default memory mode = ram\n\
             health enabled by default = auto\n\
             default postpone alarms on connect seconds = 30\n\
             default proxy enabled = yes\n\
             default proxy destination = p1\n\
             default proxy api key = k1\n\
             default proxy send charts matching = a*\n\
             enable compression = no\n\
             enable replication = no\n\
             seconds to replicate = 100\n\
             replication_step = 10\n\
             [{GUID}]\n\
             type = machine\n\
             update every = 2\n\
             history = 100\n\
             health enabled = no\n\
             proxy destination = p2\n\
             enable replication = yes\n\
             seconds per replication step = 20\n"
        ));
        let r = StreamConf::new(&cfg)
            .receiver(KEY, GUID, &ReceiverDefaults::default())
            .unwrap();
        assert_eq!(r.update_every, Some(2));
        assert_eq!(r.history, 100);
        assert_eq!(r.memory_mode, "ram");
        assert_eq!(r.health_enabled, Boolean::No);
        assert_eq!(r.postpone_alarms_on_connect_secs, 30);
        assert!(r.proxy_enabled);
        assert_eq!(r.proxy_destination, "p2");
        assert_eq!(r.proxy_api_key, "k1");
        assert_eq!(r.proxy_send_charts_matching, "a*");
        assert!(!r.enable_compression);
        assert!(r.enable_replication);
        assert_eq!(r.seconds_to_replicate, 100);
        assert_eq!(r.replication_step_secs, 20);

        // the api key alone
        let other_guid = "00000000-0000-0000-0000-000000000000";
        let r = StreamConf::new(&cfg)
            .receiver(KEY, other_guid, &ReceiverDefaults::default())
            .unwrap();
        assert_eq!((r.history, r.health_enabled), (7200, Boolean::Auto));
        assert_eq!(r.replication_step_secs, 10);
    }

    #[test]
    fn stream_compression_off_caps_every_receiver() {
        let cfg = conf(&format!(
            "[stream]\nenable compression = no\n[{GUID}]\nenable compression = yes\n"
        ));
        let r = StreamConf::new(&cfg)
            .receiver(KEY, GUID, &ReceiverDefaults::default())
            .unwrap();
        assert!(!r.enable_compression);
    }

    #[test]
    fn receiver_value_errors_name_the_section() {
        let cfg = conf(&format!("[{GUID}]\nhistory = lots\n"));
        let err = StreamConf::new(&cfg)
            .receiver(KEY, GUID, &ReceiverDefaults::default())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("stream.conf:2: [{GUID}] history = 'lots': expected an integer")
        );
    }
}
