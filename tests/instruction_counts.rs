//! No regression on the hot paths (issue 10): instruction counts, which callgrind measures the
//! same on a shared, noisy machine, of two fixed workloads built with the `profiling` profile
//! (release with symbols):
//!
//! * `parse_lines` (crates/protocol/examples): LZ4-decode and parse 240,000 stream lines;
//! * `store_values` (crates/rrd/examples): 200 collections of 100 charts × 10 dimensions;
//! * `data_queries` (the agent's own test binary, test `data_query_workload` in
//!   src/web/data_path_tests.rs): 50 `/api/v1/data` requests of 600 points × 10 dimensions,
//!   planned, read from compressed pages and rendered as JSON.
//!
//! Only the workload's own function is counted (`--toggle-collect`), not its setup. Each
//! count must stay within [`TOLERANCE`] above its baseline in `benches/instruction_counts.txt`;
//! after a deliberate change, write the printed counts there.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A count more than 10% above its baseline fails.
const TOLERANCE: f64 = 1.10;

fn baselines(root: &Path) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(root.join("benches/instruction_counts.txt"))
        .expect("benches/instruction_counts.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next().unwrap().to_string();
            let n = w.next().and_then(|n| n.parse().ok()).expect("a count");
            (name, n)
        })
        .collect()
}

fn build_examples(root: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--profile",
            "profiling",
            "-p",
            "tributary-protocol",
            "--example",
            "parse_lines",
            "-p",
            "tributary-rrd",
            "--example",
            "store_values",
        ])
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .current_dir(root)
        .status()
        .expect("run cargo build --profile profiling");
    assert!(status.success(), "building the workloads failed");
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("profiling/examples")
}

/// Builds the agent's unit-test binary with the `profiling` profile; its path.
fn build_agent_tests(root: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "test",
            "--profile",
            "profiling",
            "--bin",
            "tributary",
            "--no-run",
            "--message-format=json",
        ])
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .current_dir(root)
        .output()
        .expect("run cargo test --no-run");
    assert!(
        out.status.success(),
        "building the agent's tests failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["profile"]["test"] == true && m["target"]["name"] == "tributary")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo named no test executable for the tributary binary")
}

/// Instructions callgrind counted inside `function` of `binary` run with `args`.
fn count(binary: &Path, args: &[&str], function: &str) -> u64 {
    let out = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            &format!("--toggle-collect=*{function}*"),
        ])
        .arg(binary)
        .args(args)
        .output()
        .expect("valgrind is missing: apt-get install -y valgrind");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count in callgrind's output:\n{stderr}"))
}

#[test]
fn hot_paths_cost_no_more_instructions_than_their_baselines() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = build_examples(&root);
    let agent_tests = build_agent_tests(&root);
    let mut report = Vec::new();
    let mut failed = Vec::new();
    let data_args = [
        "web::data_path_tests::data_query_workload",
        "--exact",
        "--test-threads=1",
    ];
    for (name, baseline) in baselines(&root) {
        let (binary, args, function): (PathBuf, &[&str], &str) = match name.as_str() {
            "parse_lines" => (dir.join("parse_lines"), &[], "measured"),
            "store_values" => (dir.join("store_values"), &[], "collect"),
            "data_queries" => (agent_tests.clone(), &data_args, "measured_data_queries"),
            other => panic!("unknown workload '{other}' in benches/instruction_counts.txt"),
        };
        let n = count(&binary, args, function);
        assert!(n > 0, "{name}: nothing counted in '{function}'");
        let ratio = n as f64 / baseline as f64;
        report.push(format!("{name} {n} (baseline {baseline}, {ratio:.3}x)"));
        if ratio > TOLERANCE {
            failed.push(name);
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(
        failed.is_empty(),
        "instruction counts regressed by more than {:.0}%: {failed:?}\n{}",
        (TOLERANCE - 1.0) * 100.0,
        report.join("\n")
    );
}
