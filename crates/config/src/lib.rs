//! tributary-config: netdata's INI-like configuration files and simple patterns.
//!
//! Reads netdata.conf, stream.conf and exporting.conf the way netdata 1.37 does, keeping for
//! every value the file and line it came from and whether the agent read it, so that unknown
//! keys can be listed and bad values reported with file, line, section and key.
//!
//! ```
//! use tributary_config::{Config, SimplePattern, StreamConf, netdata_conf};
//!
//! let mut cfg = Config::parse("[global]\n\thistory = 7200\n", "netdata.conf").unwrap();
//! cfg.set("web", "mode", "none"); // -W set web mode none
//! let history = netdata_conf::lookup(&cfg, "db", "retention").unwrap().as_u64().unwrap();
//! assert_eq!(history, 7200);
//!
//! let stream = Config::parse("[stream]\nenabled = yes\ndestination = parent:SSL\n", "stream.conf").unwrap();
//! let sender = StreamConf::new(&stream).sender().unwrap();
//! assert!(sender.destinations[0].ssl);
//!
//! assert!(SimplePattern::new("!veth0 veth*").matches("veth1"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod destination;
pub mod ini;
pub mod netdata_conf;
pub mod simple_pattern;
pub mod stream_conf;
pub mod values;

pub use destination::{Destination, DestinationError, Transport, parse_destinations};
pub use ini::{
    Config, Entry, LoadError, Origin, ParseError, Section, ValueError, Warning, WarningKind,
};
pub use simple_pattern::{PatternMode, SimplePattern};
pub use stream_conf::{
    AccessDenied, ReceiverDefaults, ReceiverSettings, SenderSettings, StreamConf,
};
pub use values::{Boolean, ValueProblem};
