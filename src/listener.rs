//! Port 19999: accepts connections and routes each by its first bytes — `STREAM ` to the stream
//! receiver, anything else to the HTTP server — as netdata's web server does for its `STREAM`
//! method. With `[web] ssl certificate`/`ssl key` set, a connection whose first byte starts a
//! TLS handshake (0x16) is decrypted first and routed by its first decrypted bytes; with
//! `bind to ...^SSL=force` plain connections are refused (streams) or redirected (HTTP).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::daemon::AgentState;
use crate::tls::TlsMode;

/// How long a new connection may take to send its first bytes before it is dropped.
const FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(60);
/// The first byte of a TLS record carrying a handshake.
const TLS_HANDSHAKE: u8 = 0x16;

/// Accepts connections until the runtime stops.
pub async fn run(listener: TcpListener, state: Arc<AgentState>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                log::error!("WEB: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let ip = peer.ip().to_string();
        if !state.allow_connections.matches(&ip) {
            log::error!(
                "WEB: connection from [{ip}]:{} refused: not in [web] allow connections from",
                peer.port()
            );
            continue; // dropping the stream closes it, as netdata does
        }
        let _nodelay = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            match tokio::time::timeout(FIRST_BYTES_TIMEOUT, route(stream, peer, state)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => log::debug!("WEB: connection from {peer}: {e}"),
                Err(_) => log::debug!("WEB: connection from {peer} sent nothing; closed"),
            }
        });
    }
}

/// Decides what the connection is and hands it over. The timeout covers only the sniffing:
/// the handed-over connection runs in its own task.
async fn route(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    state: Arc<AgentState>,
) -> std::io::Result<()> {
    let mut first = [0u8; 1];
    let n = stream.peek(&mut first).await?;
    if n == 0 {
        return Ok(());
    }
    if let Some(t) = state.tls.as_ref().filter(|_| first[0] == TLS_HANDSHAKE) {
        let mut tls = match t.acceptor.accept(stream).await {
            Ok(t) => t,
            Err(e) => {
                log::error!("WEB: TLS handshake with {peer} failed: {e}");
                return Ok(());
            }
        };
        let prefix = read_prefix(&mut tls).await?;
        let is_stream = prefix == b"STREAM ";
        let conn = Prefixed::new(prefix, tls);
        tokio::spawn(async move {
            if is_stream {
                crate::stream::receiver::serve(conn, peer, state).await;
            } else {
                crate::web::server::serve_http(conn, peer, state).await;
            }
        });
        return Ok(());
    }
    let is_stream = is_stream_request(&stream).await?;
    let forced = state.tls.as_ref().is_some_and(|t| t.mode == TlsMode::Force);
    tokio::spawn(async move {
        match (is_stream, forced) {
            (true, false) => crate::stream::receiver::serve(stream, peer, state).await,
            (false, false) => crate::web::server::serve_http(stream, peer, state).await,
            (true, true) => {
                log::error!(
                    "STREAM [receive from [{}]:{}]: plain text stream refused: this server requires TLS ([web] bind to ...^SSL=force); please enable the SSL on child",
                    peer.ip(),
                    peer.port()
                );
            }
            (false, true) => redirect_to_https(stream).await,
        }
    });
    Ok(())
}

/// netdata answers plain HTTP on a TLS-only port with a redirect to https.
async fn redirect_to_https(mut stream: TcpStream) {
    // Read the whole request head first: closing on a client still writing it would reset
    // the connection before it reads the redirect.
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    let read_head = async {
        while buf.len() < 16 * 1024 && !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let _in_time = tokio::time::timeout(Duration::from_secs(10), read_head).await;
    let head = String::from_utf8_lossy(&buf);
    let path = head.split_whitespace().nth(1).unwrap_or("/");
    let host = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("host"))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default();
    let reply = format!(
        "HTTP/1.1 301 Moved Permanently\r\nLocation: https://{host}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ignored = stream.write_all(reply.as_bytes()).await;
    let _closed = stream.shutdown().await;
}

/// Reads the first bytes of a decrypted connection, up to the 7 that tell a `STREAM ` request
/// (fewer when they already differ, or the peer stops).
async fn read_prefix<S: AsyncRead + Unpin>(s: &mut S) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(7);
    let mut byte = [0u8; 7];
    while buf.len() < 7 && b"STREAM ".starts_with(&buf) {
        let n = s.read(&mut byte[..7 - buf.len()]).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&byte[..n]);
    }
    Ok(buf)
}

/// Peeks (without consuming) until the connection's first 7 bytes are known.
async fn is_stream_request(stream: &TcpStream) -> std::io::Result<bool> {
    let mut buf = [0u8; 7];
    loop {
        let n = stream.peek(&mut buf).await?;
        if n == 0 {
            return Ok(false);
        }
        if n == buf.len() || !b"STREAM ".starts_with(&buf[..n]) {
            return Ok(&buf[..n] == b"STREAM ");
        }
        stream.readable().await?;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A connection whose first bytes were already read: they are read again first.
#[derive(Debug)]
pub struct Prefixed<S> {
    prefix: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    /// `prefix` was read from `inner` already.
    pub fn new(prefix: Vec<u8>, inner: S) -> Prefixed<S> {
        Prefixed {
            prefix,
            at: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.at < self.prefix.len() {
            let n = (self.prefix.len() - self.at).min(buf.remaining());
            let at = self.at;
            buf.put_slice(&self.prefix[at..at + n]);
            self.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
