//! The README's headless build, built with the cargo that runs the caller: the `headless`
//! profile (release, optimized for size), the `headless` feature set, glibc linked
//! statically, shared by `tests/footprint.rs` and `benches/headless_vs_netdata.rs`
//! (which include this file with `#[path]`) so both measure the binary a user builds.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target triple of the static build (its output goes to `target/TRIPLE/headless/`,
/// apart from the default build).
pub const TARGET: &str = "x86_64-unknown-linux-gnu";

/// `RUSTFLAGS` of the headless build: glibc linked in, no dynamic loader, and no position
/// independence (a static-pie relocates itself at start and so copies its relocated
/// read-only data into private memory).
pub const RUSTFLAGS: &str = "-C target-feature=+crt-static -C relocation-model=static";

/// Cargo arguments after `cargo`: the headless profile and feature set (no web server, no
/// TLS, no health, no exporting).
pub const CARGO_ARGS: &[&str] = &[
    "build",
    "--profile",
    "headless",
    "--bin",
    "tributary",
    "--no-default-features",
    "--features",
    "headless",
    "--target",
    TARGET,
];

/// Builds the headless binary from the workspace at `root` and returns its path; panics
/// when cargo fails or the result is not a static executable.
pub fn build(root: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(CARGO_ARGS)
        // cargo passes its own (empty) flags to tests and benches; they would win over RUSTFLAGS.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", RUSTFLAGS)
        .current_dir(root)
        .status()
        .expect("run cargo build for the headless binary");
    assert!(status.success(), "the headless build failed");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let binary = target.join(TARGET).join("headless/tributary");
    let ldd = Command::new("ldd").arg(&binary).output().expect("ldd");
    let ldd =
        String::from_utf8_lossy(&ldd.stdout).into_owned() + &String::from_utf8_lossy(&ldd.stderr);
    assert!(
        ldd.contains("statically linked") || ldd.contains("not a dynamic executable"),
        "the headless build is not static: {ldd}"
    );
    binary
}
