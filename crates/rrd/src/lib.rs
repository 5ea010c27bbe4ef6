//! tributary-rrd: netdata's round-robin database — hosts, charts, dimensions, the collection
//! math that turns collected integers into stored samples, and the ring storage behind the
//! `none`, `ram`, `save` and `map` memory modes. No networking, no runtime.
//!
//! Data flow: a collector calls [`Host::chart`] and [`ChartState::dimension`], then every
//! `update every` seconds `begin → set… → done` on the [`Chart`]; `done` runs
//! [`collection`] and writes packed [`storage_number`]s into the chart's [`chart_store`].
//! Readers lock the chart and call [`ChartState::value_at`].
#![deny(unsafe_code)]

pub mod chart;
pub mod chart_file;
pub mod chart_store;
pub mod collection;
pub mod cursor;
pub mod custom_vars;
pub mod host;
pub mod memory_mode;
pub mod model;
pub mod number_format;
pub mod page_codec;
pub mod paged_ring;
pub mod storage_number;

pub use chart::{Chart, ChartLabel, ChartState, CollectionObserver};
pub use collection::ReplayRefusal;
pub use custom_vars::{CustomVarError, CustomVars};
pub use host::{Host, HostConfig, Hosts, ReplicationStats};
pub use memory_mode::MemoryMode;
pub use model::{Algorithm, ChartDef, ChartType, DimDef};
