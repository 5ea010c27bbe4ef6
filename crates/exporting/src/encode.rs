//! The encoder of one batch: what every format needs to know about a host, a chart and a
//! dimension, and the dispatch to the format modules. Host-level parts (prefix, host name,
//! labels, tags) are rendered once per host; each value is then written straight into the
//! batch buffer.

use crate::config::{Connector, DataSource};
use crate::{graphite, json, opentsdb, remote_write};

/// One exported value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A value computed from the database (`average`, `sum`): printed `%0.7f`.
    Stored(f64),
    /// The last collected raw integer (`as collected`): printed `%lld`.
    Collected(i64),
}

/// What the formats need to know about a host.
#[derive(Debug, Clone, Copy)]
pub struct HostMeta<'a> {
    /// The instance's `prefix`.
    pub prefix: &'a str,
    /// The exported host name (the instance's `hostname` for localhost).
    pub hostname: &'a str,
    /// The host labels that pass the instance's label options, in order.
    pub labels: &'a [(String, String)],
    /// `send configured labels` or `send automatic labels` is on (JSON then always has
    /// `"labels"`, opentsdb telnet a trailing space).
    pub labels_enabled: bool,
    /// Host tags (streamed children's `tags=`; empty: none).
    pub tags: &'a str,
    /// The program that collected the host's data (remote write's `netdata_info`).
    pub program_name: &'a str,
    /// Its version.
    pub program_version: &'a str,
}

/// What the formats need to know about a chart.
#[derive(Debug, Clone, Copy)]
pub struct ChartMeta<'a> {
    /// `type.id`.
    pub id: &'a str,
    /// `type.name`.
    pub name: &'a str,
    /// Family.
    pub family: &'a str,
    /// Context.
    pub context: &'a str,
    /// Units.
    pub units: &'a str,
    /// All dimensions share algorithm, multiplier and divisor (remote write `as collected`).
    pub homogeneous: bool,
    /// The chart's module is `prometheus` (remote write: no `_total` suffix then).
    pub prometheus_module: bool,
}

impl ChartMeta<'_> {
    /// `chart_type`: the id before its first dot.
    pub fn type_part(&self) -> &str {
        self.id.split_once('.').map_or(self.id, |(t, _)| t)
    }
}

/// What the formats need to know about a dimension.
#[derive(Debug, Clone, Copy)]
pub struct DimMeta<'a> {
    /// Dimension id.
    pub id: &'a str,
    /// Dimension name.
    pub name: &'a str,
    /// Algorithm incremental or percentage-of-incremental-row (remote write `_total`).
    pub incremental: bool,
}

/// Formats one batch for one instance. Reused from batch to batch: after the first batches it
/// allocates nothing.
#[derive(Debug)]
pub struct Encoder {
    connector: Connector,
    source: DataSource,
    names: bool,
    body: Vec<u8>,
    host_head: Vec<u8>,
    host_tail: Vec<u8>,
    rw: remote_write::Scratch,
    compressed: Vec<u8>,
    snappy: snap::raw::Encoder,
    count: usize,
}

impl Encoder {
    /// An encoder for `connector`, values per `source`, chart and dimension names when `names`
    /// (`send names instead of ids`) else ids.
    pub fn new(connector: Connector, source: DataSource, names: bool) -> Encoder {
        Encoder {
            connector,
            source,
            names,
            body: Vec::new(),
            host_head: Vec::new(),
            host_tail: Vec::new(),
            rw: remote_write::Scratch::default(),
            compressed: Vec::new(),
            snappy: snap::raw::Encoder::new(),
            count: 0,
        }
    }

    /// Starts a new batch (the previous one is forgotten).
    pub fn begin(&mut self) {
        self.body.clear();
        self.count = 0;
        if self.connector.json_array() {
            self.body.extend_from_slice(b"[\n");
        }
    }

    /// Starts the metrics of a host. `now_ms`: wall-clock time (remote write's `netdata_info`).
    pub fn host(&mut self, h: &HostMeta<'_>, now_ms: i64) {
        self.host_head.clear();
        self.host_tail.clear();
        match self.connector {
            Connector::Graphite | Connector::GraphiteHttp => {
                graphite::host_parts(h, &mut self.host_head, &mut self.host_tail)
            }
            Connector::OpenTsdb => {
                opentsdb::telnet_host_parts(h, &mut self.host_head, &mut self.host_tail)
            }
            Connector::OpenTsdbHttp => {
                opentsdb::http_host_parts(h, &mut self.host_head, &mut self.host_tail)
            }
            Connector::Json | Connector::JsonHttp => json::host_parts(h, &mut self.host_head),
            Connector::RemoteWrite => {
                remote_write::info_series(&mut self.body, &mut self.rw, h, now_ms)
            }
        }
    }

    /// Writes one value of dimension `d` of chart `c` of host `h` (the last [`Encoder::host`]).
    /// `ts`: seconds (the window's end, or the collection time for `as collected`).
    pub fn metric(
        &mut self,
        h: &HostMeta<'_>,
        c: &ChartMeta<'_>,
        d: &DimMeta<'_>,
        v: Value,
        ts: i64,
    ) {
        let (chart, dim) = if self.names {
            (c.name, d.name)
        } else {
            (c.id, d.id)
        };
        let out = &mut self.body;
        match self.connector {
            Connector::Graphite | Connector::GraphiteHttp => {
                graphite::line(out, &self.host_head, &self.host_tail, chart, dim, v, ts)
            }
            Connector::OpenTsdb => {
                opentsdb::telnet_line(out, &self.host_head, &self.host_tail, chart, dim, v, ts)
            }
            Connector::OpenTsdbHttp => {
                if self.count > 0 {
                    out.extend_from_slice(b",\n");
                }
                opentsdb::http_object(out, &self.host_head, &self.host_tail, chart, dim, v, ts)
            }
            Connector::Json | Connector::JsonHttp => {
                if self.count > 0 && self.connector == Connector::JsonHttp {
                    out.extend_from_slice(b",\n");
                }
                json::object(out, &self.host_head, c, d, v, ts);
                if self.connector == Connector::Json {
                    out.push(b'\n');
                }
            }
            Connector::RemoteWrite => {
                remote_write::series(out, &mut self.rw, h, c, d, chart, dim, self.source, v, ts)
            }
        }
        self.count += 1;
    }

    /// Values written to this batch so far.
    pub fn metrics(&self) -> usize {
        self.count
    }

    /// Ends the batch and returns the body to send (remote write: snappy-compressed).
    pub fn finish(&mut self) -> &[u8] {
        if self.connector.json_array() {
            self.body.extend_from_slice(b"\n]\n");
        }
        if self.connector == Connector::RemoteWrite {
            self.compressed
                .resize(snap::raw::max_compress_len(self.body.len()), 0);
            match self.snappy.compress(&self.body, &mut self.compressed) {
                Ok(n) => self.compressed.truncate(n),
                Err(e) => {
                    log::error!("EXPORTING: cannot snappy-compress a remote write batch: {e}");
                    self.compressed.clear();
                }
            }
            return &self.compressed;
        }
        &self.body
    }

    /// The uncompressed body of the batch (remote write: the protobuf `WriteRequest`).
    pub fn raw_body(&self) -> &[u8] {
        &self.body
    }
}
