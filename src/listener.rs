//! Port 19999: accepts connections and routes each by its first bytes — `STREAM ` to the stream
//! receiver, anything else to the HTTP server — as netdata's web server does for its `STREAM`
//! method.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::daemon::AgentState;

/// How long a new connection may take to send its first bytes before it is dropped.
const FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(60);

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
            match tokio::time::timeout(FIRST_BYTES_TIMEOUT, is_stream_request(&stream)).await {
                Ok(Ok(true)) => crate::stream::receiver::serve(stream, peer, state).await,
                Ok(Ok(false)) => crate::web::server::serve_http(stream, peer, state).await,
                Ok(Err(e)) => log::debug!("WEB: connection from {peer}: {e}"),
                Err(_) => log::debug!("WEB: connection from {peer} sent nothing; closed"),
            }
        });
    }
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
