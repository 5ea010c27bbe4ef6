//! The stream receiver: a child's `STREAM ...` request, its validation against stream.conf, and
//! the lines that follow, stored in the child's own host.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::daemon::AgentState;

/// Serves one stream connection.
pub async fn serve(mut stream: TcpStream, peer: SocketAddr, _state: Arc<AgentState>) {
    log::error!(
        "STREAM [receive from [{}]:{}]: streaming is not supported by this build yet; refused",
        peer.ip(),
        peer.port()
    );
    let _ignored = stream
        .write_all(b"You are not permitted to access this. Check the logs for more info.")
        .await;
}
