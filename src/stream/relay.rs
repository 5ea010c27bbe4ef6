//! Replication through a proxy without a database (beyond netdata, which cannot): the proxy
//! keeps only a short spool of a received host, so when its own parent asks to replicate
//! further back than the spool reaches, the request is passed on to the child, and the
//! child's reply is passed up unchanged.
//!
//! One [`Relay`] per received host joins the two connections of the proxy: the receiver of
//! the child (which writes passed-on requests to the child and hands the child's replies
//! up) and the sender to the parent (which decides what to pass on and takes the replies).
//!
//! The sender passes on only the part of a request older than its spool, as a request that
//! does not start streaming (`REPLAY_CHART "id" "false" after spool_first-1`): the child's
//! reply ends with `REND ... false`, the parent asks for the next step, and that one the
//! spool answers — with the proxy's own collection state, so live data continues from the
//! proxy with no gap. A child that disconnects with requests pending gets them answered from
//! the spool instead, so the parent is never left waiting.

// Its receiver's half exists only with the receiver (feature `web`).
#![cfg_attr(not(feature = "web"), allow(dead_code))]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc::UnboundedSender;

/// A request passed on to the child, as the parent asked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassedOn {
    /// The chart.
    pub chart: String,
    /// The parent's `start streaming` flag.
    pub start_streaming: bool,
    /// The parent's `after`.
    pub after: i64,
    /// The parent's `before`.
    pub before: i64,
    /// The sender's connection the request came on (replies to an older one are dropped).
    pub connection: u64,
}

/// The sender's side of a relay: where the child's replies go.
pub trait Upstream: Send + Sync + std::fmt::Debug {
    /// Appends `line` (newline-terminated) of a reply to the parent, if the parent's
    /// connection is still `connection`.
    fn forward(&self, connection: u64, line: &str);
    /// The child's reply ended with `REND ... true`: the chart streams live again.
    fn finished(&self, connection: u64, chart: &str);
    /// The child is gone: answer `request` from the spool.
    fn answer_locally(&self, request: PassedOn);
}

#[derive(Debug, Default)]
struct Inner {
    to_child: Option<UnboundedSender<String>>,
    /// Which child connection `to_child` belongs to.
    child: u64,
    upstream: Option<Arc<dyn Upstream>>,
    /// Per chart, the requests passed on, oldest first (the child answers in order).
    pending: HashMap<String, VecDeque<PassedOn>>,
}

/// The link between a received host's child connection and its upstream sender.
#[derive(Debug, Default)]
pub struct Relay {
    inner: Mutex<Inner>,
}

impl Relay {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The receiver: the child is connected (with REPLICATION); lines sent on `to_child` are
    /// written to it. Returns the connection's number for [`Relay::child_disconnected`].
    pub fn child_connected(&self, to_child: UnboundedSender<String>) -> u64 {
        let mut inner = self.lock();
        inner.child += 1;
        inner.to_child = Some(to_child);
        inner.child
    }

    /// The receiver: child connection `child` is gone; pending requests are answered from
    /// the spool. (A newer connection of the same child is left alone.)
    pub fn child_disconnected(&self, child: u64) {
        let (pending, upstream) = {
            let mut inner = self.lock();
            if inner.child != child || inner.to_child.is_none() {
                return;
            }
            inner.to_child = None;
            let pending: Vec<PassedOn> = inner.pending.drain().flat_map(|(_, p)| p).collect();
            (pending, inner.upstream.clone())
        };
        if let Some(up) = upstream {
            for p in pending {
                up.answer_locally(p);
            }
        }
    }

    /// The sender registers where replies go.
    pub fn set_upstream(&self, upstream: Arc<dyn Upstream>) {
        self.lock().upstream = Some(upstream);
    }

    /// The sender: passes `line` (a `REPLAY_CHART`) on to the child for `request`; false
    /// when no child is connected (the caller answers from the spool).
    pub fn pass_on(&self, request: PassedOn, line: String) -> bool {
        let mut inner = self.lock();
        let Some(to_child) = &inner.to_child else {
            return false;
        };
        if to_child.send(line).is_err() {
            inner.to_child = None;
            return false;
        }
        inner
            .pending
            .entry(request.chart.clone())
            .or_default()
            .push_back(request);
        true
    }

    /// The receiver: the child began a reply for `chart` (`RBEGIN "chart"`); whether it
    /// answers a passed-on request (then every line up to `REND` goes to [`Relay::forward`]).
    pub fn reply_begins(&self, chart: &str) -> Option<u64> {
        self.lock()
            .pending
            .get(chart)
            .and_then(|q| q.front())
            .map(|p| p.connection)
    }

    /// The receiver: a line of a passed-on reply, handed up unchanged.
    pub fn forward(&self, connection: u64, line: &str) {
        let upstream = self.lock().upstream.clone();
        if let Some(up) = upstream {
            up.forward(connection, line);
        }
    }

    /// The receiver: the passed-on reply for `chart` ended; `start_streaming` as its REND.
    pub fn reply_ends(&self, chart: &str, start_streaming: bool) {
        let (done, upstream) = {
            let mut inner = self.lock();
            let done = inner.pending.get_mut(chart).and_then(VecDeque::pop_front);
            if inner.pending.get(chart).is_some_and(VecDeque::is_empty) {
                inner.pending.remove(chart);
            }
            (done, inner.upstream.clone())
        };
        if let (Some(p), Some(up)) = (done, upstream)
            && start_streaming
        {
            up.finished(p.connection, chart);
        }
    }
}

/// Every received host's relay, by machine GUID.
#[derive(Debug, Default)]
pub struct Relays {
    by_guid: Mutex<HashMap<String, Arc<Relay>>>,
}

impl Relays {
    /// The relay of the host with `guid` (created on first use).
    pub fn get(&self, guid: &str) -> Arc<Relay> {
        let mut map = self.by_guid.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(guid.to_ascii_lowercase()).or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default)]
    struct Recorder {
        lines: Mutex<Vec<String>>,
    }

    impl Upstream for Recorder {
        fn forward(&self, connection: u64, line: &str) {
            self.lines
                .lock()
                .unwrap()
                .push(format!("{connection}:{line}"));
        }
        fn finished(&self, connection: u64, chart: &str) {
            self.lines
                .lock()
                .unwrap()
                .push(format!("{connection}:finished {chart}"));
        }
        fn answer_locally(&self, request: PassedOn) {
            self.lines
                .lock()
                .unwrap()
                .push(format!("local {}", request.chart));
        }
    }

    fn request(chart: &str) -> PassedOn {
        PassedOn {
            chart: chart.into(),
            start_streaming: true,
            after: 10,
            before: 20,
            connection: 3,
        }
    }

    #[test]
    fn requests_go_to_the_child_and_replies_up() {
        let relay = Relay::default();
        let up = Arc::new(Recorder::default());
        relay.set_upstream(up.clone());
        assert!(!relay.pass_on(request("a.b"), "x".into()), "no child yet");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _child = relay.child_connected(tx);
        assert!(relay.pass_on(request("a.b"), "REPLAY_CHART a.b\n".into()));
        assert_eq!(rx.try_recv().unwrap(), "REPLAY_CHART a.b\n");
        assert_eq!(relay.reply_begins("other"), None);
        let conn = relay.reply_begins("a.b").unwrap();
        relay.forward(conn, "RBEGIN \"a.b\"\n");
        relay.reply_ends("a.b", false);
        assert_eq!(relay.reply_begins("a.b"), None, "answered");
        assert_eq!(*up.lines.lock().unwrap(), ["3:RBEGIN \"a.b\"\n"]);
    }

    #[test]
    fn a_child_that_leaves_has_its_pending_requests_answered_locally() {
        let relay = Relay::default();
        let up = Arc::new(Recorder::default());
        relay.set_upstream(up.clone());
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let old = relay.child_connected(tx);
        let (tx, _rx2) = tokio::sync::mpsc::unbounded_channel();
        let child = relay.child_connected(tx);
        assert!(relay.pass_on(request("a.b"), "line\n".into()));
        relay.child_disconnected(old);
        assert!(
            up.lines.lock().unwrap().is_empty(),
            "a newer connection stays"
        );
        relay.child_disconnected(child);
        assert_eq!(*up.lines.lock().unwrap(), ["local a.b"]);
        assert!(!relay.pass_on(request("a.b"), "line\n".into()));
    }
}
