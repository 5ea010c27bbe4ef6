//! Helpers shared by the side-by-side benches (`ingest_vs_netdata`, `plugin_lines`,
//! `web_vs_netdata`): knobs from the environment, ports, and starting/stopping agents.
#![allow(dead_code)] // each bench uses a part

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

/// A numeric knob from the environment, or `default`.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A TCP port free on 127.0.0.1 now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits up to 30 s until something accepts connections on `port`.
pub fn wait_listening(port: u16) {
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing listens on {port}");
}

/// Stops an agent: SIGTERM, up to 5 s to exit, then SIGKILL; reaps it and removes `dir`.
pub fn stop(child: &mut Child, dir: &Path) {
    let _ignored = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..50 {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ignored = child.kill();
    let _ignored = child.wait();
    let _ignored = std::fs::remove_dir_all(dir);
}
