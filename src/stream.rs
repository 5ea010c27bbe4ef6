//! Streaming: the receiver of netdata 1.37 children (and, later, the sender to a parent).

pub mod log_events;
pub mod receiver;
