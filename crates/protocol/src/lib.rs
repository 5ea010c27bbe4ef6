//! tributary-protocol: the line protocol netdata 1.37 speaks on plugins' stdout and on streams
//! (one parser, two uses). Pure functions over borrowed lines; no I/O, no allocation per line.
#![forbid(unsafe_code)]

pub mod capabilities;
pub mod command;
pub mod frame;
pub mod handshake;
pub mod lines;
pub mod words;

pub use command::{ChartLine, Command, ParseError, parse_line};
pub use lines::{LineSplitter, Split};
pub use words::{Words, strtoll0};
