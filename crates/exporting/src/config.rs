//! Exporting instances from `exporting.conf` (netdata 1.37.1's format) and from netdata.conf's
//! legacy `[backend]` section (which 1.37.1 ignores; tributary maps it onto one instance).
//!
//! exporting.conf rules kept from netdata: sections are `TYPE:NAME` split at the last `:`;
//! every instance key cascades `[NAME]` → `[exporting:global]` → built-in default (even
//! `enabled` and `destination`); booleans are true for `yes`, `true`, `on`, `auto`,
//! `on demand`; numbers are read as C's `strtoll(s, NULL, 0)`; instances are listed in reverse
//! file order.

use tributary_config::{Config, Section};

/// A connector type (the section's `TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Connector {
    /// `graphite`, `graphite:plaintext`.
    Graphite,
    /// `graphite:http`.
    GraphiteHttp,
    /// `opentsdb`, `opentsdb:telnet`.
    OpenTsdb,
    /// `opentsdb:http`.
    OpenTsdbHttp,
    /// `json`, `json:plaintext`.
    Json,
    /// `json:http`.
    JsonHttp,
    /// `prometheus_remote_write`, `prometheus_remote_write:http`.
    RemoteWrite,
}

impl Connector {
    /// Parses a section type; `Some((connector, tls))` for the known ones. Types netdata has but
    /// tributary does not (kinesis, pubsub, mongodb) are `None` with their name in `Err`.
    pub fn parse(t: &str) -> Result<(Connector, bool), Option<&'static str>> {
        Ok(match t {
            "graphite" | "graphite:plaintext" => (Connector::Graphite, false),
            "graphite:http" => (Connector::GraphiteHttp, false),
            "graphite:https" => (Connector::GraphiteHttp, true),
            "opentsdb" | "opentsdb:telnet" => (Connector::OpenTsdb, false),
            "opentsdb:http" => (Connector::OpenTsdbHttp, false),
            "opentsdb:https" => (Connector::OpenTsdbHttp, true),
            "json" | "json:plaintext" => (Connector::Json, false),
            "json:http" => (Connector::JsonHttp, false),
            "json:https" => (Connector::JsonHttp, true),
            "prometheus_remote_write" | "prometheus_remote_write:http" => {
                (Connector::RemoteWrite, false)
            }
            "prometheus_remote_write:https" => (Connector::RemoteWrite, true),
            "kinesis" | "kinesis:plaintext" => return Err(Some("AWS Kinesis")),
            "pubsub" | "pubsub:plaintext" => return Err(Some("Google Cloud Pub/Sub")),
            "mongodb" | "mongodb:plaintext" => return Err(Some("MongoDB")),
            _ => return Err(None),
        })
    }

    /// The port used when a destination gives none.
    pub fn default_port(self) -> u16 {
        match self {
            Connector::Graphite | Connector::GraphiteHttp => 2003,
            Connector::OpenTsdb | Connector::OpenTsdbHttp => 4242,
            Connector::Json | Connector::JsonHttp => 5448,
            // netdata has none that works (spec §2.4); 9090 is Prometheus' own.
            Connector::RemoteWrite => 9090,
        }
    }

    /// Sent as an HTTP POST (else as lines on a TCP connection).
    pub fn is_http(self) -> bool {
        matches!(
            self,
            Connector::GraphiteHttp
                | Connector::OpenTsdbHttp
                | Connector::JsonHttp
                | Connector::RemoteWrite
        )
    }

    /// The body is a JSON array `[\n...\n]\n`.
    pub fn json_array(self) -> bool {
        matches!(self, Connector::OpenTsdbHttp | Connector::JsonHttp)
    }

    /// netdata's name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            Connector::Graphite => "graphite",
            Connector::GraphiteHttp => "graphite:http",
            Connector::OpenTsdb => "opentsdb",
            Connector::OpenTsdbHttp => "opentsdb:http",
            Connector::Json => "json",
            Connector::JsonHttp => "json:http",
            Connector::RemoteWrite => "prometheus_remote_write",
        }
    }
}

/// `data source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSource {
    /// The last collected raw value.
    AsCollected,
    /// The average of the stored points of the window.
    Average,
    /// Their sum.
    Sum,
}

impl DataSource {
    /// Parses netdata's names and aliases.
    pub fn parse(s: &str) -> Option<DataSource> {
        match s.trim().to_ascii_lowercase().as_str() {
            "as collected" | "raw" | "as-collected" | "as_collected" | "ascollected" => {
                Some(DataSource::AsCollected)
            }
            "average" => Some(DataSource::Average),
            "sum" | "volume" => Some(DataSource::Sum),
            _ => None,
        }
    }
}

/// Everything one instance is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceConfig {
    /// Instance name (`NAME` of `[TYPE:NAME]`; `backend` for netdata.conf's `[backend]`).
    pub name: String,
    /// The connector.
    pub connector: Connector,
    /// `:https` was asked for.
    pub tls: bool,
    /// `enabled`.
    pub enabled: bool,
    /// `destination`: entries tried in order.
    pub destination: String,
    /// `update every`, seconds.
    pub update_every: i64,
    /// `buffer on failures`: batches kept while the destination is unreachable (≥ 1).
    pub buffer_on_failures: usize,
    /// `timeout ms`.
    pub timeout_ms: u64,
    /// `send hosts matching`.
    pub send_hosts_matching: String,
    /// `send charts matching`.
    pub send_charts_matching: String,
    /// `data source`.
    pub data_source: DataSource,
    /// `send configured labels`.
    pub send_configured_labels: bool,
    /// `send automatic labels`.
    pub send_automatic_labels: bool,
    /// `send names instead of ids`.
    pub send_names_instead_of_ids: bool,
    /// `send variables` (remote write).
    pub send_variables: bool,
    /// `prefix`.
    pub prefix: String,
    /// `hostname` (localhost's exported name).
    pub hostname: String,
    /// `username`.
    pub username: String,
    /// `password`.
    pub password: String,
    /// `remote write URL path`.
    pub remote_write_path: String,
}

/// A problem found while reading the instances, for the log (netdata's wording where it has
/// one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem(pub String);

/// netdata's `appconfig_get_boolean` truth values.
pub fn netdata_bool(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "yes" | "true" | "on" | "auto" | "on demand"
    )
}

/// C's `strtoll(s, NULL, 0)`: optional sign, `0x` hex, leading-`0` octal, decimal; stops at
/// the first other character; nothing readable is 0.
pub fn strtoll(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, h)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    };
    let mut n: i64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else { break };
        n = n
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
    }
    if neg { -n } else { n }
}

/// The value of `key` for an instance: its own section, then `[exporting:global]`.
struct Lookup<'a> {
    own: &'a Section,
    global: Option<&'a Section>,
}

impl Lookup<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.own
            .get(key)
            .or_else(|| self.global.and_then(|g| g.get(key)))
            .map(|e| e.value())
    }

    fn string(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or(default).to_string()
    }

    fn boolean(&self, key: &str, default: bool) -> bool {
        self.get(key).map_or(default, netdata_bool)
    }

    fn number(&self, key: &str, default: i64) -> i64 {
        self.get(key).map_or(default, strtoll)
    }
}

/// Reads the instances of an exporting.conf, in netdata's order (reverse file order), with the
/// problems to log. `netdata_hostname` is the default of `hostname`.
pub fn from_exporting_conf(
    cfg: &Config,
    netdata_hostname: &str,
) -> (Vec<InstanceConfig>, Vec<Problem>) {
    let global = cfg.section("exporting:global");
    let global_hostname = global
        .and_then(|g| g.get("hostname"))
        .map_or(netdata_hostname, |e| e.value())
        .to_string();
    let global_update_every = global
        .and_then(|g| g.get("update every"))
        .map_or(10, |e| strtoll(e.value()));
    let mut out: Vec<InstanceConfig> = Vec::new();
    let mut problems = Vec::new();
    let mut connectors = 0;
    for section in cfg.sections() {
        let full = section.name();
        if full == "exporting:global" || full == "prometheus:exporter" {
            continue;
        }
        let valid_whole = Connector::parse(full).is_ok();
        let Some((type_part, name)) = full.rsplit_once(':').filter(|_| !valid_whole) else {
            problems.push(Problem(format!(
                "Section ({full}) does not specify a valid connector"
            )));
            continue;
        };
        let (connector, tls) = match Connector::parse(type_part) {
            Ok(c) => c,
            Err(Some(what)) => {
                problems.push(Problem(format!(
                    "{what} support isn't compiled: instance {name} ignored"
                )));
                continue;
            }
            Err(None) => {
                problems.push(Problem(format!(
                    "Section ({full}) does not specify a valid connector"
                )));
                continue;
            }
        };
        connectors += 1;
        if section.entries().is_empty() {
            continue;
        }
        let name = if name.is_empty() {
            format!("instance_{connectors}")
        } else {
            name.to_string()
        };
        if out.iter().any(|i| i.name == name) {
            problems.push(Problem(format!("Instance ({name}) already exists")));
            continue;
        }
        let l = Lookup {
            own: section,
            global,
        };
        for e in section.entries() {
            e.mark_used();
        }
        let data_source = match l.get("data source") {
            None => DataSource::Average,
            Some(s) => DataSource::parse(s).unwrap_or_else(|| {
                problems.push(Problem(format!(
                    "instance {name}: invalid data source method '{s}': using average"
                )));
                DataSource::Average
            }),
        };
        out.push(InstanceConfig {
            name: name.clone(),
            connector,
            tls,
            enabled: l.boolean("enabled", false),
            destination: l.string("destination", "localhost"),
            update_every: l.number("update every", global_update_every).max(1),
            buffer_on_failures: l.number("buffer on failures", 10).max(1) as usize,
            timeout_ms: l.number("timeout ms", 10000).max(1) as u64,
            send_hosts_matching: l.string("send hosts matching", "localhost *"),
            send_charts_matching: l.string("send charts matching", "*"),
            data_source,
            send_configured_labels: l.boolean("send configured labels", true),
            send_automatic_labels: l.boolean("send automatic labels", false),
            send_names_instead_of_ids: l.boolean("send names instead of ids", true),
            send_variables: l.boolean("send variables", true),
            prefix: l.string("prefix", "netdata"),
            hostname: l.string("hostname", &global_hostname),
            username: l.string("username", ""),
            password: l.string("password", ""),
            remote_write_path: l.string("remote write URL path", "/receive"),
        });
    }
    out.reverse();
    (out, problems)
}

/// Maps netdata.conf's legacy `[backend]` onto one instance named `backend` (labels off, as
/// the backends of netdata ≤ 1.33 sent none). `None` when the section is absent.
pub fn from_backend_section(
    netdata_conf: &Config,
    netdata_hostname: &str,
) -> Result<Option<InstanceConfig>, Problem> {
    let Some(section) = netdata_conf.section("backend") else {
        return Ok(None);
    };
    for e in section.entries() {
        e.mark_used();
    }
    let l = Lookup {
        own: section,
        global: None,
    };
    let type_name = l.string("type", "graphite");
    let (connector, tls) = match Connector::parse(&type_name) {
        Ok(c) => c,
        Err(Some(what)) => {
            return Err(Problem(format!(
                "[backend] type = {type_name}: {what} support isn't compiled"
            )));
        }
        Err(None) => {
            return Err(Problem(format!(
                "[backend] type = {type_name}: not a known backend type"
            )));
        }
    };
    let update_every = l.number("update every", 10).max(1);
    let mut timeout_ms = l.number("timeout ms", 2 * update_every * 1000);
    if timeout_ms < 1 {
        timeout_ms = 2 * update_every * 1000;
    }
    let data_source = match l.get("data source") {
        None => DataSource::Average,
        Some(s) => DataSource::parse(s).ok_or_else(|| {
            Problem(format!(
                "[backend] data source = {s}: not a known data source"
            ))
        })?,
    };
    Ok(Some(InstanceConfig {
        name: "backend".into(),
        connector,
        tls,
        enabled: l.boolean("enabled", false),
        destination: l.string("destination", "localhost"),
        update_every,
        buffer_on_failures: l.number("buffer on failures", 10).max(1) as usize,
        timeout_ms: timeout_ms as u64,
        send_hosts_matching: l.string("send hosts matching", "localhost *"),
        send_charts_matching: l.string("send charts matching", "*"),
        data_source,
        send_configured_labels: false,
        send_automatic_labels: false,
        send_names_instead_of_ids: l.boolean("send names instead of ids", true),
        send_variables: false,
        prefix: l.string("prefix", "netdata"),
        hostname: l.string("hostname", netdata_hostname),
        username: String::new(),
        password: String::new(),
        remote_write_path: l.string("remote write URL path", "/receive"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_booleans_as_netdata_reads_them() {
        assert_eq!(strtoll("010"), 8);
        assert_eq!(strtoll("0x10"), 16);
        assert_eq!(strtoll("12abc"), 12);
        assert_eq!(strtoll("garbage"), 0);
        assert_eq!(strtoll(" -5"), -5);
        assert!(netdata_bool("On Demand") && netdata_bool("auto") && !netdata_bool("1"));
    }

    #[test]
    fn the_fixture_exporting_conf_gives_netdatas_instances() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/exporting/exporting.conf"
        ))
        .unwrap();
        let cfg = Config::parse(&text, "exporting.conf").unwrap();
        let (list, problems) = from_exporting_conf(&cfg, "exporthost");
        assert!(problems.is_empty(), "{problems:?}");
        let names: Vec<&str> = list.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "prw", "gr_http", "js_http", "js_tcp", "ot_http", "ot_nolab", "ot_tel", "gr_sum",
                "gr_raw", "gr_avg"
            ]
        );
        let get = |n: &str| list.iter().find(|i| i.name == n).unwrap();
        let raw = get("gr_raw");
        assert_eq!(raw.data_source, DataSource::AsCollected);
        assert!(!raw.send_names_instead_of_ids && raw.send_automatic_labels);
        assert_eq!(
            (raw.prefix.as_str(), raw.hostname.as_str()),
            ("pfx", "my-host.example")
        );
        let avg = get("gr_avg");
        assert_eq!(avg.hostname, "exporthost");
        assert_eq!(
            (avg.update_every, avg.timeout_ms, avg.buffer_on_failures),
            (10, 10000, 10)
        );
        assert_eq!(avg.send_hosts_matching, "localhost *");
        assert_eq!(get("ot_http").connector, Connector::OpenTsdbHttp);
        assert_eq!(get("ot_http").password, "pa:ss");
        assert_eq!(get("js_tcp").update_every, 5);
        assert_eq!(get("prw").remote_write_path, "/api/v1/write");
        assert!(list.iter().all(|i| i.enabled));
    }

    #[test]
    fn global_keys_cascade_and_bad_sections_are_refused() {
        let cfg = Config::parse(
            "[exporting:global]\nenabled = yes\nprefix = g\nupdate every = 3\n\
             [graphite:a]\ndestination = h:1\n[graphite]\nx = 1\n[foo:b]\nx = 1\n\
             [json:a]\nx = 1\n[opentsdb:http:c]\nprefix = own\ndata source = bogus\n\
             [graphite:]\nx = 1\n[kinesis:k]\nx = 1\n",
            "exporting.conf",
        )
        .unwrap();
        let (list, problems) = from_exporting_conf(&cfg, "h");
        let names: Vec<&str> = list.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["instance_4", "c", "a"]);
        let a = &list[2];
        assert!(a.enabled);
        assert_eq!((a.prefix.as_str(), a.update_every), ("g", 3));
        assert_eq!(list[1].prefix, "own");
        assert_eq!(list[1].data_source, DataSource::Average);
        let text: Vec<&str> = problems.iter().map(|p| p.0.as_str()).collect();
        assert!(text.contains(&"Section (graphite) does not specify a valid connector"));
        assert!(text.contains(&"Section (foo:b) does not specify a valid connector"));
        assert!(text.contains(&"Instance (a) already exists"));
        assert!(
            text.iter()
                .any(|t| t.contains("invalid data source method 'bogus'"))
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("AWS Kinesis support isn't compiled"))
        );
    }

    #[test]
    fn the_legacy_backend_section_maps_onto_one_instance() {
        let cfg = Config::parse(
            "[backend]\nenabled = yes\ntype = opentsdb:http\ndestination = a:1 b:2\n\
             update every = 5\ndata source = sum\ntimeout ms = 0\nprefix = old\n\
             send charts matching = system.*\n",
            "netdata.conf",
        )
        .unwrap();
        let b = from_backend_section(&cfg, "me").unwrap().unwrap();
        assert_eq!(b.connector, Connector::OpenTsdbHttp);
        assert_eq!((b.update_every, b.timeout_ms), (5, 10000));
        assert_eq!(b.data_source, DataSource::Sum);
        assert!(b.enabled && !b.send_configured_labels);
        assert_eq!((b.prefix.as_str(), b.hostname.as_str()), ("old", "me"));
        assert!(
            from_backend_section(&Config::new(), "me")
                .unwrap()
                .is_none()
        );
        let bad = Config::parse("[backend]\ntype = mongodb\n", "netdata.conf").unwrap();
        assert!(from_backend_section(&bad, "me").is_err());
    }
}
