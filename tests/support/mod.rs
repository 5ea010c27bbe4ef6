//! Shared helpers of the integration tests (see `peers.rs`) and our agent (`agent.rs`).
#![allow(dead_code)]

pub mod agent;
pub mod fault_proxy;
pub mod headless_build;
pub mod http_raw;
pub mod peers;
pub mod receivers;

pub use peers::*;
