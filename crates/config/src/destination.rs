//! Stream destinations: `[PROTOCOL:]HOST[%INTERFACE][:PORT][:SSL]`, space-separated.
//!
//! Mirrors netdata 1.37's `foreach_entry_in_connection_string()` (entries are separated by
//! whitespace or commas) and `connect_to_this()` in `libnetdata/socket/socket.c`: an optional
//! `tcp:`, `udp:` or `unix:` prefix (a leading `/` is a unix socket path too), the host in
//! brackets when it is an IPv6 address, `%` before a network interface, `:` before the port.
//!
//! Two deliberate differences:
//! * `:SSL` is read per destination. netdata 1.37 cuts the whole destination string at the first
//!   `:SSL` (in `rrdpush_init()`) and then forces TLS for every destination, so there
//!   `a:SSL b` means only `a`.
//! * the port must be a number; netdata hands it to `getaddrinfo`, which also takes service
//!   names such as `http`.

use std::fmt;

use crate::values::is_c_space;

/// The transport of a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `tcp:` or no prefix.
    Tcp,
    /// `udp:`.
    Udp,
    /// `unix:PATH` or a path starting with `/`; `host` holds the path.
    Unix,
}

/// One parsed destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The transport.
    pub transport: Transport,
    /// Host name or address, without IPv6 brackets; the socket path for [`Transport::Unix`].
    pub host: String,
    /// Network interface after `%`, for IPv6 link-local addresses.
    pub interface: Option<String>,
    /// The port, or the default port when none was given (unused for unix sockets).
    pub port: u16,
    /// `:SSL` was given: connect with TLS.
    pub ssl: bool,
}

/// A destination entry that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    /// Nothing where the host should be.
    #[error("destination '{0}' does not specify a host")]
    NoHost(String),
    /// `[` without `]`.
    #[error("destination '{0}' has '[' without ']'")]
    UnclosedBracket(String),
    /// Text after `]` that is not `%INTERFACE` or `:PORT`.
    #[error("destination '{0}' has unexpected text after ']'")]
    TextAfterBracket(String),
    /// The port is not a number from 0 to 65535.
    #[error("destination '{entry}' has an invalid port '{port}'")]
    BadPort {
        /// The whole entry.
        entry: String,
        /// The port text.
        port: String,
    },
}

impl Destination {
    /// Parses one entry such as `tcp:[fe80::1]%eth0:19999:SSL`.
    pub fn parse(entry: &str, default_port: u16) -> Result<Destination, DestinationError> {
        let (rest, ssl) = match entry.strip_suffix(":SSL") {
            Some(rest) => (rest, true),
            None => (entry, false),
        };
        let (transport, rest) = if let Some(rest) = rest.strip_prefix("tcp:") {
            (Transport::Tcp, rest)
        } else if let Some(rest) = rest.strip_prefix("udp:") {
            (Transport::Udp, rest)
        } else if let Some(path) = rest.strip_prefix("unix:") {
            return unix(entry, path, default_port, ssl);
        } else if rest.starts_with('/') {
            return unix(entry, rest, default_port, ssl);
        } else {
            (Transport::Tcp, rest)
        };

        let (mut host, mut rest) = if let Some(bracketed) = rest.strip_prefix('[') {
            let (inside, after) = bracketed
                .split_once(']')
                .ok_or_else(|| DestinationError::UnclosedBracket(entry.to_owned()))?;
            if !(after.is_empty() || after.starts_with([':', '%'])) {
                return Err(DestinationError::TextAfterBracket(entry.to_owned()));
            }
            (inside, after)
        } else {
            let end = rest.find([':', '%']).unwrap_or(rest.len());
            rest.split_at(end)
        };

        let mut interface = None;
        if let Some(after) = rest.strip_prefix('%') {
            let end = after.find(':').unwrap_or(after.len());
            interface = Some(&after[..end]);
            rest = &after[end..];
        } else if let Some((address, scope)) = host.split_once('%') {
            // `[fe80::1%eth0]`: getaddrinfo reads the scope inside the brackets
            host = address;
            interface = Some(scope);
        }

        if host.is_empty() {
            return Err(DestinationError::NoHost(entry.to_owned()));
        }
        let port = match rest.strip_prefix(':') {
            Some("") | None => default_port,
            Some(port) => port.parse().map_err(|_| DestinationError::BadPort {
                entry: entry.to_owned(),
                port: port.to_owned(),
            })?,
        };
        Ok(Destination {
            transport,
            host: host.to_owned(),
            interface: interface.filter(|i| !i.is_empty()).map(str::to_owned),
            port,
            ssl,
        })
    }
}

fn unix(entry: &str, path: &str, port: u16, ssl: bool) -> Result<Destination, DestinationError> {
    if path.is_empty() {
        return Err(DestinationError::NoHost(entry.to_owned()));
    }
    let transport = Transport::Unix;
    Ok(Destination {
        transport,
        host: path.to_owned(),
        interface: None,
        port,
        ssl,
    })
}

/// Parses a destination list; entries are separated by whitespace or commas and tried in order
/// (failover).
pub fn parse_destinations(
    list: &str,
    default_port: u16,
) -> Result<Vec<Destination>, DestinationError> {
    list.split(|c: char| is_c_space(c) || c == ',')
        .filter(|entry| !entry.is_empty())
        .map(|entry| Destination::parse(entry, default_port))
        .collect()
}

impl fmt::Display for Destination {
    /// Writes the destination back in netdata's notation, always with the port.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.transport {
            Transport::Unix => return write!(f, "unix:{}{}", self.host, ssl(self.ssl)),
            Transport::Udp => f.write_str("udp:")?,
            Transport::Tcp => {}
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if let Some(interface) = &self.interface {
            write!(f, "%{interface}")?;
        }
        write!(f, ":{}{}", self.port, ssl(self.ssl))
    }
}

fn ssl(on: bool) -> &'static str {
    if on { ":SSL" } else { "" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, interface: Option<&str>, port: u16, ssl: bool) -> Destination {
        Destination {
            transport: Transport::Tcp,
            host: host.into(),
            interface: interface.map(Into::into),
            port,
            ssl,
        }
    }

    #[test]
    fn entries() {
        let cases = [
            ("10.11.12.1", tcp("10.11.12.1", None, 19999, false)),
            ("10.11.12.1:20000", tcp("10.11.12.1", None, 20000, false)),
            ("parent.lan:19999:SSL", tcp("parent.lan", None, 19999, true)),
            ("parent.lan:SSL", tcp("parent.lan", None, 19999, true)),
            ("tcp:parent.lan:1", tcp("parent.lan", None, 1, false)),
            ("[::1]:19998", tcp("::1", None, 19998, false)),
            ("[::1]", tcp("::1", None, 19999, false)),
            (
                "[fe80::1]%eth0:19999:SSL",
                tcp("fe80::1", Some("eth0"), 19999, true),
            ),
            ("[fe80::1%eth0]:1", tcp("fe80::1", Some("eth0"), 1, false)),
            ("host%eth1", tcp("host", Some("eth1"), 19999, false)),
            ("host:", tcp("host", None, 19999, false)),
        ];
        for (entry, expected) in cases {
            assert_eq!(Destination::parse(entry, 19999), Ok(expected), "{entry:?}");
        }
        let udp = Destination::parse("udp:10.0.0.1:8125", 19999).unwrap();
        assert_eq!((udp.transport, udp.port), (Transport::Udp, 8125));
        let unix = Destination::parse("unix:/run/netdata.sock", 19999).unwrap();
        assert_eq!(
            (unix.transport, unix.host.as_str()),
            (Transport::Unix, "/run/netdata.sock")
        );
        let path = Destination::parse("/run/netdata.sock", 19999).unwrap();
        assert_eq!(path.transport, Transport::Unix);
    }

    #[test]
    fn bad_entries() {
        let cases = [
            (":19999", DestinationError::NoHost(":19999".into())),
            ("tcp:", DestinationError::NoHost("tcp:".into())),
            ("[]:1", DestinationError::NoHost("[]:1".into())),
            ("unix:", DestinationError::NoHost("unix:".into())),
            ("[::1", DestinationError::UnclosedBracket("[::1".into())),
            (
                "[::1]x",
                DestinationError::TextAfterBracket("[::1]x".into()),
            ),
            ("::1", DestinationError::NoHost("::1".into())),
            (
                "h:http",
                DestinationError::BadPort {
                    entry: "h:http".into(),
                    port: "http".into(),
                },
            ),
            (
                "h:65536",
                DestinationError::BadPort {
                    entry: "h:65536".into(),
                    port: "65536".into(),
                },
            ),
        ];
        for (entry, expected) in cases {
            assert_eq!(Destination::parse(entry, 19999), Err(expected), "{entry:?}");
        }
        assert_eq!(
            Destination::parse("h:x", 1).unwrap_err().to_string(),
            "destination 'h:x' has an invalid port 'x'"
        );
    }

    #[test]
    fn lists_split_at_whitespace_and_commas() {
        let list = parse_destinations("  a:1 b:SSL,c\t[::1]:4 ,, ", 19999).unwrap();
        let shown: Vec<_> = list.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["a:1", "b:19999:SSL", "c:19999", "[::1]:4"]);
        assert!(parse_destinations("", 19999).unwrap().is_empty());
        assert!(parse_destinations("a b:x", 19999).is_err());
    }

    #[test]
    fn display_round_trips() {
        for entry in [
            "a:1",
            "udp:a:2",
            "[::1]:3:SSL",
            "[fe80::1]%eth0:4",
            "unix:/s",
            "h%if:5",
        ] {
            let d = Destination::parse(entry, 9).unwrap();
            assert_eq!(Destination::parse(&d.to_string(), 9), Ok(d), "{entry:?}");
        }
    }
}
