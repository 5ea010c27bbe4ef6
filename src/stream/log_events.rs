//! Every STREAM log line, worded as netdata 1.37 words them (streaming/receiver.c, sender.c),
//! in one place: `STREAM HOST [receive from [IP]:PORT]: what happened`, so that the host, the
//! peer and the reason are in every line.

// The receiver's lines exist only with it (feature `web`).
#![cfg_attr(not(feature = "web"), allow(dead_code))]

use std::net::SocketAddr;

use tributary_protocol::capabilities::Caps;
use tributary_rrd::MemoryMode;

/// A request that could not even be read or parsed.
pub fn bad_request(peer: SocketAddr, reason: &str) {
    log::error!(
        "STREAM [receive from [{}]:{}]: {reason}. Rejecting streaming request.",
        peer.ip(),
        peer.port()
    );
}

/// The log lines of one receiver connection.
#[derive(Debug)]
pub struct Receiver {
    prefix: String,
}

impl Receiver {
    /// For the child `hostname` connected from `peer`.
    pub fn new(hostname: &str, peer: SocketAddr) -> Receiver {
        Receiver {
            prefix: format!(
                "STREAM {hostname} [receive from [{}]:{}]",
                peer.ip(),
                peer.port()
            ),
        }
    }

    /// `STREAM host [receive from [ip]:port]`, for other modules' log lines.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The request was refused.
    pub fn denied(&self, reason: &str) {
        log::error!("{}: {reason}. Rejecting streaming request.", self.prefix);
    }

    /// Something failed before streaming started.
    pub fn error(&self, reason: &str) {
        log::error!("{}: {reason}", self.prefix);
    }

    /// The prompt was sent; metrics follow.
    pub fn receiving(&self, caps: Caps, mode: MemoryMode, entries: usize) {
        log::info!(
            "{}: receiving metrics... (capabilities {}{}, memory mode {mode}, {entries} entries per dimension)",
            self.prefix,
            caps.0,
            if caps.contains(Caps::COMPRESSION) {
                ", LZ4 compressed"
            } else {
                ""
            },
        );
    }

    /// This child is forwarded to our own parent.
    pub fn proxying(&self, destination: &str) {
        log::info!(
            "{}: proxy enabled: forwarding this host to '{destination}'",
            self.prefix
        );
    }

    /// The connection ended.
    pub fn disconnected(&self, reason: &str, collections: u64) {
        log::info!(
            "{}: disconnected (completed {collections} updates): {reason}.",
            self.prefix
        );
    }
}
