//! Streaming: the receiver of netdata 1.37 children and the sender to a parent.

pub mod log_events;
#[cfg(feature = "web")]
pub mod receiver;
pub mod relay;
pub mod replication;
pub mod sender;
