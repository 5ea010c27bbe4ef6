//! Helpers shared by the side-by-side benches (`ingest_vs_netdata`, `plugin_lines`,
//! `web_vs_netdata`, `headless_vs_netdata`): knobs from the environment, ports,
//! starting/stopping agents, the headless build, and the `FIGURE` lines that
//! `benches/all-figures` collects into issue 10's table.
#![allow(dead_code)] // each bench uses a part

/// The README's headless build (shared with `tests/footprint.rs`).
#[path = "../../tests/support/headless_build.rs"]
pub mod headless_build;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

/// `VmRSS` of one process, kB (0 when it is gone).
pub fn vm_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Minimum, median and maximum of `v` (not empty).
pub fn mmm(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    (s[0], s[s.len() / 2], s[s.len() - 1])
}

/// `-W set` arguments for tributary's directories and log under `dir`.
pub fn tributary_dirs(cmd: &mut Command, dir: &Path) {
    let d = dir.display().to_string();
    for (s, k, v) in [
        ("directories", "config", format!("{d}/etc")),
        ("directories", "cache", format!("{d}/cache")),
        ("directories", "lib", format!("{d}/lib")),
        ("directories", "log", format!("{d}/log")),
        ("directories", "plugins", format!("{d}/plugins.d")),
        ("logs", "error", format!("{d}/log/error.log")),
    ] {
        cmd.args(["-W", "set", s, k, &v]);
    }
}

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

/// Which way a figure is better, for the ratio `benches/all-figures` prints.
#[derive(Debug, Clone, Copy)]
pub enum Better {
    /// Less is better (CPU, memory, bytes): the ratio is netdata / tributary.
    Lower,
    /// More is better (requests/s, values/s): the ratio is tributary / netdata.
    Higher,
}

/// `min/median/max` of `v` (`-` when empty), for a `FIGURE` line.
pub fn min_med_max(v: &[f64]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let g = |x: f64| format!("{x:.4}");
    format!("{}/{}/{}", g(s[0]), g(s[s.len() / 2]), g(s[s.len() - 1]))
}

/// Prints one machine-readable line for `benches/all-figures`:
/// `FIGURE<TAB>name<TAB>netdata min/med/max<TAB>tributary min/med/max<TAB>unit<TAB>lower|higher`.
pub fn figure(name: &str, netdata: &[f64], tributary: &[f64], unit: &str, better: Better) {
    let better = match better {
        Better::Lower => "lower",
        Better::Higher => "higher",
    };
    println!(
        "FIGURE\t{name}\t{}\t{}\t{unit}\t{better}",
        min_med_max(netdata),
        min_med_max(tributary)
    );
}
