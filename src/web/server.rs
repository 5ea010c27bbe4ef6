//! Serves HTTP/1.1 with keep-alive through hyper on connections the listener hands over.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::HeaderValue;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};

use super::router;
use crate::daemon::AgentState;

/// How long a client may take to send a request head.
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The largest request head accepted.
const MAX_REQUEST_HEAD_BYTES: usize = 64 * 1024;

/// Serves HTTP/1.1 (keep-alive) on one accepted connection.
pub async fn serve_http<S>(stream: S, peer: SocketAddr, state: Arc<AgentState>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| handle(Arc::clone(&state), req));
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        // A client must send its request head within this time (slowloris), and a head may
        // not grow without bound (hyper answers 431 past its buffer).
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_REQUEST_HEAD_BYTES)
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        log::debug!("WEB: connection from {peer}: {e}");
    }
}

fn http_date(t: i64) -> String {
    let (y, mo, d, h, mi, s) = super::render::dates::civil(t);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {d:02} {} {y} {h:02}:{mi:02}:{s:02} GMT",
        DAYS[t.div_euclid(86400).rem_euclid(7) as usize],
        MONTHS[(mo - 1) as usize]
    )
}

/// `http_date(now)` and `http_date(now + 1)`, formatted once per second per thread.
fn dates(now: i64) -> (HeaderValue, HeaderValue) {
    thread_local! {
        static CACHE: std::cell::RefCell<(i64, HeaderValue, HeaderValue)> = const {
            std::cell::RefCell::new((
                i64::MIN,
                HeaderValue::from_static(""),
                HeaderValue::from_static(""),
            ))
        };
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != now {
            let value =
                |t| HeaderValue::from_str(&http_date(t)).unwrap_or(HeaderValue::from_static(""));
            *c = (now, value(now), value(now + 1));
        }
        (c.1.clone(), c.2.clone())
    })
}

async fn handle(
    state: Arc<AgentState>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let options = *req.method() == Method::OPTIONS;
    let reply = match *req.method() {
        Method::GET => router::route(
            &state,
            req.uri().path(),
            req.uri().query().unwrap_or(""),
            header("host"),
        ),
        Method::OPTIONS => router::Reply::text("OK".into()),
        _ => router::Reply::error(400, "I don't understand you..."),
    };
    let keep_alive = header("connection").is_some_and(|c| c.eq_ignore_ascii_case("keep-alive"));
    let now = super::api_v1::now_s();
    let gzip = state.gzip_level.filter(|_| {
        header("accept-encoding").is_some_and(|v| {
            v.split(',')
                .any(|e| e.trim().split(';').next() == Some("gzip"))
        })
    });
    let (body, gzipped) = match gzip {
        _ if reply.file.is_some() => (Bytes::from(reply.file.unwrap_or_default()), false),
        Some(level) if !reply.body.is_empty() => match gzip_body(reply.body.as_bytes(), level) {
            Ok(z) => (Bytes::from(z), true),
            Err(_) => (Bytes::from(reply.body), false),
        },
        _ => (Bytes::from(reply.body), false),
    };
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let origin = header("origin").and_then(|o| HeaderValue::from_str(o).ok());
    let (date, date_plus_1) = dates(now);
    let h = resp.headers_mut();
    let st = HeaderValue::from_static;
    h.append(
        "connection",
        st(if keep_alive { "keep-alive" } else { "close" }),
    );
    h.append("server", st("Netdata Embedded HTTP Server v1.37.1"));
    h.append(
        "access-control-allow-origin",
        origin.unwrap_or_else(|| st("*")),
    );
    h.append("access-control-allow-credentials", st("true"));
    h.append("content-type", st(reply.content_type));
    h.append("date", date);
    if options {
        h.append("access-control-allow-methods", st("GET, OPTIONS"));
        h.append(
            "access-control-allow-headers",
            st("accept, x-requested-with, origin, content-type, cookie, pragma, cache-control, x-auth-token"),
        );
        h.append("access-control-max-age", st("1209600"));
    } else if reply.cacheable {
        h.append("cache-control", st("public"));
        if let Ok(v) = HeaderValue::from_str(&http_date(now + 86400)) {
            h.append("expires", v);
        }
    } else {
        h.append("cache-control", st("no-cache, no-store, must-revalidate"));
        h.append("pragma", st("no-cache"));
        h.append("expires", date_plus_1);
    }
    if gzipped {
        h.append("content-encoding", st("gzip"));
    }
    for (k, v) in &reply.headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.append(*k, v);
        }
    }
    Ok(resp)
}

/// `Accept-Encoding: gzip` with `[web] enable gzip compression = yes`: the body, compressed at
/// `[web] gzip compression level`.
fn gzip_body(body: &[u8], level: u32) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::new(level),
    );
    enc.write_all(body)?;
    enc.finish()
}
