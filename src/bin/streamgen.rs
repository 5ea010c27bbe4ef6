//! streamgen: a load generator that speaks netdata 1.37's streaming protocol as many children
//! at once — N children (distinct hostnames and machine GUIDs) × C charts × D dimensions,
//! paced like real agents (one collection per chart per second) or as fast as the parent
//! reads, plain or LZ4-framed. It reports what it sent and its own CPU time, so a benchmark
//! can tell the parent's cost from the generator's.
//!
//! ```text
//! streamgen --parent 127.0.0.1:19999 --key KEY --children 10 --charts 100 --dims 10 --seconds 30
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tributary_protocol::capabilities::{Caps, parse_reply};
use tributary_protocol::frame::FrameEncoder;
use tributary_protocol::handshake::StreamRequest;

/// What to generate.
#[derive(Debug, Clone)]
struct Load {
    parent: String,
    key: String,
    children: usize,
    charts: usize,
    dims: usize,
    seconds: u64,
    fast: bool,
    compression: bool,
    threads: usize,
    prefix: String,
}

fn usage() -> &'static str {
    "usage: streamgen --parent HOST:PORT --key API_KEY [--children N] [--charts C] [--dims D]\n\
     \x20                [--seconds S] [--fast] [--no-compression] [--threads T] [--prefix NAME]\n\
     \n\
     Streams N children x C charts x D dimensions into a netdata-protocol parent for S seconds:\n\
     paced (one collection per chart per second, the default) or --fast (as fast as the parent\n\
     reads). Prints values sent, values/s, bytes on the wire, the generator's own CPU time and,\n\
     paced, how far behind its schedule it ended (behind_ms: near 0 while the parent keeps up).\n"
}

fn parse_args() -> Result<Load, lexopt::Error> {
    use lexopt::prelude::*;
    let mut load = Load {
        parent: String::new(),
        key: String::new(),
        children: 1,
        charts: 100,
        dims: 10,
        seconds: 30,
        fast: false,
        compression: true,
        threads: 2,
        prefix: "streamgen".into(),
    };
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("parent") => load.parent = parser.value()?.string()?,
            Long("key") => load.key = parser.value()?.string()?,
            Long("children") => load.children = parser.value()?.parse()?,
            Long("charts") => load.charts = parser.value()?.parse()?,
            Long("dims") => load.dims = parser.value()?.parse()?,
            Long("seconds") => load.seconds = parser.value()?.parse()?,
            Long("threads") => load.threads = parser.value()?.parse()?,
            Long("prefix") => load.prefix = parser.value()?.string()?,
            Long("fast") => load.fast = true,
            Long("no-compression") => load.compression = false,
            Long("help") | Short('h') => {
                print!("{}", usage());
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    if load.parent.is_empty() || load.key.is_empty() {
        return Err("--parent and --key are required".into());
    }
    load.threads = load.threads.clamp(1, load.children.max(1));
    Ok(load)
}

/// One simulated child: its connection, its encoder and its counters.
struct Child {
    index: usize,
    sock: TcpStream,
    encoder: Option<FrameEncoder>,
    plain: Vec<u8>,
    wire: Vec<u8>,
    tick: u64,
}

fn guid(index: usize) -> String {
    format!("5747e4e0-0000-4000-8000-{index:012x}")
}

impl Child {
    fn connect(load: &Load, index: usize) -> std::io::Result<Child> {
        let hostname = format!("{}-{index}", load.prefix);
        let caps = Caps::ours(load.compression).without(Caps::REPLICATION);
        let mut req = StreamRequest::new(&load.key, &hostname, &guid(index), caps);
        req.update_every = Some(1);
        req.os = "linux".into();
        req.timezone = "UTC".into();
        req.program_name = "streamgen".into();
        let bytes = req
            .to_request_bytes()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut sock = TcpStream::connect(&load.parent)?;
        sock.set_nodelay(true)?;
        sock.write_all(&bytes)?;
        sock.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut reply = [0u8; 512];
        let n = sock.read(&mut reply)?;
        let got = parse_reply(&reply[..n]).map_err(|e| {
            std::io::Error::other(format!(
                "{hostname}: refused: {e} ('{}')",
                String::from_utf8_lossy(&reply[..n])
            ))
        })?;
        let caps = got.intersect(caps);
        // The parent sends nothing we need (no replication was offered); drain it anyway.
        let mut drain = sock.try_clone()?;
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while matches!(drain.read(&mut buf), Ok(n) if n > 0) {}
        });
        let mut child = Child {
            index,
            sock,
            encoder: caps.contains(Caps::COMPRESSION).then(FrameEncoder::new),
            plain: Vec::with_capacity(64 * 1024),
            wire: Vec::with_capacity(64 * 1024),
            tick: 0,
        };
        child.define(load, caps)?;
        Ok(child)
    }

    fn define(&mut self, load: &Load, caps: Caps) -> std::io::Result<()> {
        for c in 0..load.charts {
            let _infallible = writeln!(
                self.plain,
                "CHART \"gen.c{c}\" \"\" \"streamgen chart {c}\" \"units\" \"gen\" \"gen.c{c}\" \"line\" {} 1 \"\" \"streamgen\" \"\"",
                1000 + c
            );
            if caps.contains(Caps::CLABELS) {
                // netdata 1.37.1 drops a stream whose CLABEL_COMMIT has no CLABEL before it.
                let _infallible = writeln!(self.plain, "CLABEL \"generator\" \"streamgen\" 1");
                self.plain.extend_from_slice(b"CLABEL_COMMIT\n");
            }
            for d in 0..load.dims {
                let algo = if d % 2 == 0 {
                    "absolute"
                } else {
                    "incremental"
                };
                let _infallible = writeln!(
                    self.plain,
                    "DIMENSION \"d{d}\" \"d{d}\" \"{algo}\" 1 1 \"\""
                );
            }
            self.flush_if_big()?;
        }
        self.flush()
    }

    /// One collection of every chart of this child.
    fn collect(&mut self, load: &Load) -> std::io::Result<u64> {
        self.tick += 1;
        let t = self.tick;
        let mut itoa = itoa_buf::Buf::default();
        for c in 0..load.charts {
            let _infallible = writeln!(self.plain, "BEGIN \"gen.c{c}\" 1000000");
            for d in 0..load.dims {
                let v = if d % 2 == 0 {
                    ((t + c as u64 * 7 + d as u64) % 1000) as i64
                } else {
                    (t * (d as u64 + 1) * 100 + self.index as u64) as i64
                };
                self.plain.extend_from_slice(b"SET \"d");
                self.plain.extend_from_slice(itoa.format(d as i64));
                self.plain.extend_from_slice(b"\" = ");
                self.plain.extend_from_slice(itoa.format(v));
                self.plain.push(b'\n');
            }
            self.plain.extend_from_slice(b"END\n");
            self.flush_if_big()?;
        }
        self.flush()?;
        Ok((load.charts * load.dims) as u64)
    }

    fn flush_if_big(&mut self) -> std::io::Result<()> {
        if self.plain.len() >= 15 * 1024 {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered lines: one LZ4 block per commit, as a netdata sender does.
    fn flush(&mut self) -> std::io::Result<()> {
        if self.plain.is_empty() {
            return Ok(());
        }
        match self.encoder.as_mut() {
            Some(enc) => {
                self.wire.clear();
                enc.encode(&self.plain, &mut self.wire)
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                self.sock.write_all(&self.wire)?;
                BYTES.fetch_add(self.wire.len() as u64, Ordering::Relaxed);
            }
            None => {
                self.sock.write_all(&self.plain)?;
                BYTES.fetch_add(self.plain.len() as u64, Ordering::Relaxed);
            }
        }
        self.plain.clear();
        Ok(())
    }
}

/// Integer formatting without allocation.
mod itoa_buf {
    /// A reusable buffer for one formatted integer.
    #[derive(Default)]
    pub struct Buf([u8; 24]);

    impl Buf {
        /// `v` in decimal.
        pub fn format(&mut self, v: i64) -> &[u8] {
            let mut i = self.0.len();
            let neg = v < 0;
            let mut n = v.unsigned_abs();
            loop {
                i -= 1;
                self.0[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            if neg {
                i -= 1;
                self.0[i] = b'-';
            }
            &self.0[i..]
        }
    }
}

static BYTES: AtomicU64 = AtomicU64::new(0);
static VALUES: AtomicU64 = AtomicU64::new(0);

/// Runs the children of one thread until `stop`; paced, returns how far behind its schedule
/// the thread was when it stopped (ms): near 0 while the parent keeps up, growing when not.
fn run_thread(load: Arc<Load>, indexes: Vec<usize>, stop: Arc<AtomicBool>) -> std::io::Result<u64> {
    let mut children = Vec::new();
    for i in indexes {
        children.push(Child::connect(&load, i)?);
    }
    let start = Instant::now();
    let mut second = 0u64;
    let mut behind = Duration::ZERO;
    while !stop.load(Ordering::Relaxed) {
        for c in &mut children {
            let n = c.collect(&load)?;
            VALUES.fetch_add(n, Ordering::Relaxed);
        }
        if !load.fast {
            second += 1;
            let next = start + Duration::from_secs(second);
            let now = Instant::now();
            behind = now.saturating_duration_since(next);
            if next > now {
                std::thread::sleep(next - now);
            }
        }
    }
    Ok(behind.as_millis() as u64)
}

/// CPU time of this process (every thread), seconds.
fn cpu_seconds() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

fn main() -> std::process::ExitCode {
    let load = match parse_args() {
        Ok(l) => Arc::new(l),
        Err(e) => {
            eprintln!("streamgen: {e}\n\n{}", usage());
            return std::process::ExitCode::from(2);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for t in 0..load.threads {
        let indexes: Vec<usize> = (0..load.children)
            .filter(|i| i % load.threads == t)
            .collect();
        let (load, stop) = (Arc::clone(&load), Arc::clone(&stop));
        handles.push(std::thread::spawn(move || run_thread(load, indexes, stop)));
    }
    let started = Instant::now();
    let cpu0 = cpu_seconds();
    std::thread::sleep(Duration::from_secs(load.seconds));
    stop.store(true, Ordering::Relaxed);
    let mut failed = false;
    let mut behind_ms = 0;
    for h in handles {
        match h.join() {
            Ok(Ok(ms)) => behind_ms = behind_ms.max(ms),
            Ok(Err(e)) => {
                eprintln!("streamgen: {e}");
                failed = true;
            }
            Err(_) => failed = true,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let values = VALUES.load(Ordering::Relaxed);
    let bytes = BYTES.load(Ordering::Relaxed);
    println!(
        "streamgen: children={} charts={} dims={} mode={} compression={} seconds={elapsed:.1} values={values} values_per_s={:.0} wire_bytes={bytes} bytes_per_value={:.2} generator_cpu_s={cpu:.3} behind_ms={behind_ms}",
        load.children,
        load.charts,
        load.dims,
        if load.fast { "fast" } else { "paced" },
        load.compression,
        values as f64 / elapsed,
        bytes as f64 / values.max(1) as f64,
    );
    if failed {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}
