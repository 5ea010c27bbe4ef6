//! A minimal HTTP/1.1 keep-alive client: one connection, one request at a time, the response
//! read by its `Content-Length`. Light enough that the server, not the client, is measured.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One keep-alive connection to `127.0.0.1:port`.
pub struct KeepAlive {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `Content-Length` of a response head (case-insensitive name).
fn content_length(head: &[u8]) -> Option<usize> {
    let head = std::str::from_utf8(head).ok()?;
    head.split("\r\n").find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    })
}

impl KeepAlive {
    /// Connects.
    pub fn connect(port: u16) -> KeepAlive {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        KeepAlive {
            stream,
            buf: Vec::with_capacity(1 << 20),
        }
    }

    /// The request bytes of `GET path` with `Connection: keep-alive`.
    pub fn request(path: &str) -> Vec<u8> {
        format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: webbench\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n"
        )
        .into_bytes()
    }

    /// Sends `request`, reads the whole response; returns the status and the body.
    pub fn get(&mut self, request: &[u8]) -> std::io::Result<(u16, &[u8])> {
        self.stream.write_all(request)?;
        self.buf.clear();
        let mut chunk = [0u8; 64 * 1024];
        let (head_end, body_len) = loop {
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::Error::other("connection closed by the server"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(p) = find(&self.buf, b"\r\n\r\n") {
                let len = content_length(&self.buf[..p])
                    .ok_or_else(|| std::io::Error::other("no Content-Length"))?;
                break (p + 4, len);
            }
        };
        while self.buf.len() < head_end + body_len {
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::Error::other("connection closed mid-body"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let status = std::str::from_utf8(&self.buf[9..12])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok((status, &self.buf[head_end..head_end + body_len]))
    }
}

/// What one measuring window saw.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Requests per second.
    pub rps: f64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th percentile latency, µs.
    pub p99_us: f64,
    /// The server's CPU per request, µs (every thread of its process).
    pub cpu_us_per_req: f64,
}

/// Sends `request` back to back for `seconds`; `cpu_ns` reads the server's CPU time.
pub fn measure(
    client: &mut KeepAlive,
    request: &[u8],
    seconds: f64,
    cpu_ns: &dyn Fn() -> u64,
) -> Window {
    let mut lat: Vec<u32> = Vec::with_capacity(200_000);
    let cpu0 = cpu_ns();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let mut now = start;
    while now < end {
        let t = now;
        match client.get(request) {
            Ok((200, _)) => {}
            Ok((status, body)) => panic!(
                "status {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ),
            Err(e) => panic!("request failed: {e}"),
        }
        now = Instant::now();
        lat.push((now - t).as_nanos().min(u32::MAX as u128) as u32);
    }
    let elapsed = (now - start).as_secs_f64();
    let cpu = cpu_ns() - cpu0;
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)] as f64 / 1000.0;
    Window {
        rps: lat.len() as f64 / elapsed,
        p50_us: pct(0.5),
        p99_us: pct(0.99),
        cpu_us_per_req: cpu as f64 / 1000.0 / lat.len() as f64,
    }
}
