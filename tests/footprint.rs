//! The headless collector's footprint, as the design promises it: `memory mode = none`, `[web]
//! mode = none`, every internal collector on, everything streamed to a parent — in a few MB of
//! RAM. Measured on the headless build the README gives — release, glibc linked statically
//! (shared libraries alone map about 1.2 MB more into a dynamic build) — which this test builds
//! with the same cargo that runs it.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::support::agent::Agent;
use crate::support::{http_get_retry, wait_until};

const KEY: &str = "0f1e2d3c-4b5a-4968-8776-655443322110";
/// The design's promise for a headless collector.
const MAX_RSS_KB: u64 = 5 * 1024;

fn release_binary() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--bin",
            "tributary",
            "--target",
            "x86_64-unknown-linux-gnu",
        ])
        // cargo passes its own (empty) flags to the tests; they would win over RUSTFLAGS.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .current_dir(&root)
        .status()
        .expect("run cargo build --release");
    assert!(status.success(), "cargo build --release (static) failed");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let binary = target.join("x86_64-unknown-linux-gnu/release/tributary");
    let ldd = Command::new("ldd").arg(&binary).output().expect("ldd");
    let ldd =
        String::from_utf8_lossy(&ldd.stdout).into_owned() + &String::from_utf8_lossy(&ldd.stderr);
    assert!(
        ldd.contains("statically linked") || ldd.contains("not a dynamic executable"),
        "the headless build is not static: {ldd}"
    );
    binary
}

/// A `/proc/PID/status` or `smaps_rollup` field in kB.
fn proc_kb(pid: u32, file: &str, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap();
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/{file}"))
}

#[test]
fn a_headless_collector_streams_everything_in_less_than_5_mb() {
    let binary = release_binary();
    let parent = Agent::builder()
        .set("global", "hostname", "fp-parent")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .stream_conf(&format!(
            "[{KEY}]\n    enabled = yes\n    default memory mode = ram\n"
        ))
        .start();
    let child = Agent::builder()
        .binary(&binary)
        .set("global", "hostname", "fp-headless")
        .set("db", "mode", "none")
        .set("web", "mode", "none")
        .stream_conf(&format!(
            "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    api key = {KEY}\n",
            parent.port
        ))
        .start();
    let charts = wait_until(
        Duration::from_secs(60),
        "the headless child's charts",
        || {
            let (s, body) = http_get_retry(parent.port, "/host/fp-headless/api/v1/charts").ok()?;
            let v: serde_json::Value = serde_json::from_str(&body).ok().filter(|_| s == 200)?;
            let n = v["charts"].as_object()?.len();
            (n > 20).then_some(n)
        },
    );
    std::thread::sleep(Duration::from_secs(60));
    let pid = child.pid();
    let rss = proc_kb(pid, "status", "VmRSS:");
    let hwm = proc_kb(pid, "status", "VmHWM:");
    let pss = proc_kb(pid, "smaps_rollup", "Pss:");
    let (_, body) = http_get_retry(parent.port, "/host/fp-headless/api/v1/charts").unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let dims: usize = v["charts"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["dimensions"].as_object().map_or(0, |d| d.len()))
        .sum();
    println!(
        "headless collector after 60 s: RSS {rss} kB (peak {hwm} kB), PSS {pss} kB, streaming {charts}+ charts, {dims} dimensions"
    );
    assert!(
        rss < MAX_RSS_KB,
        "RSS {rss} kB (PSS {pss} kB) is over {MAX_RSS_KB} kB for {dims} dimensions"
    );
}
