//! tributary-rrd: netdata's round-robin database: hosts, charts, dimensions,
//! the collection math that turns collected integers into stored values, and
//! the ring storage behind the `none`, `ram`, `save` and `map` memory modes.
#![deny(unsafe_code)]

pub mod storage_number;
