//! Serves HTTP/1.1 with keep-alive through hyper on connections the listener hands over.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;

use tokio::net::TcpStream;

use super::router;
use crate::daemon::AgentState;

/// Serves HTTP/1.1 (keep-alive) on one accepted connection.
pub async fn serve_http(stream: TcpStream, peer: SocketAddr, state: Arc<AgentState>) {
    let service = hyper::service::service_fn(move |req| handle(Arc::clone(&state), req));
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        log::debug!("WEB: connection from {peer}: {e}");
    }
}

async fn handle(
    state: Arc<AgentState>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = match *req.method() {
        Method::GET | Method::HEAD => {
            router::route(&state, req.uri().path(), req.uri().query().unwrap_or(""))
        }
        Method::OPTIONS => router::Reply::text(String::new()),
        _ => router::Reply::error(405, "Method not allowed."),
    };
    let mut resp = Response::new(Full::new(Bytes::from(reply.body)));
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        hyper::header::HeaderValue::from_static(reply.content_type),
    );
    h.insert(
        "access-control-allow-origin",
        hyper::header::HeaderValue::from_static("*"),
    );
    h.insert(
        "cache-control",
        hyper::header::HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    Ok(resp)
}
