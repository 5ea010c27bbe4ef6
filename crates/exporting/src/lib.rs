//! tributary-exporting: archiving every host's metrics to time-series databases, as netdata
//! 1.37.1's exporting engine does (`exporting/` in netdata's source; our notes in
//! `shared/spec/exporting.md`).
//!
//! The crate is split along the data flow:
//! * [`config`]: `exporting.conf` instances and netdata.conf's legacy `[backend]`;
//! * [`window`]: which stored points one cycle exports and the value it makes of them;
//! * [`encode`] with one module per wire format ([`graphite`], [`opentsdb`], [`json`],
//!   [`remote_write`]): pure functions from metrics to bytes, checked against netdata's captures;
//! * [`batch`]: one cycle over every host, chart and dimension into an encoder;
//! * [`delivery`]: connections, failover, HTTP framing, buffering and backfill — one worker per
//!   instance.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod batch;
pub mod config;
pub mod delivery;
pub mod encode;
pub mod graphite;
pub mod json;
pub mod names;
pub mod opentsdb;
pub mod protobuf;
pub mod remote_write;
pub mod telemetry;
pub mod window;

pub use config::{Connector, DataSource, InstanceConfig};
pub use encode::{ChartMeta, Encoder, HostMeta, Value};
