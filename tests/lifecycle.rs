use std::time::Duration;

use crate::support::agent::Agent;
use crate::support::{TempDir, http_get, signal, wait_until};

#[test]
fn machine_guid_is_created_once_and_kept_across_restarts() {
    let dir = TempDir::new("guid");
    let mut a = Agent::builder()
        .dir(dir.path())
        .set("plugins", "proc", "no")
        .start();
    let guid_file = dir.path().join("lib/registry/netdata.public.unique.id");
    let guid = std::fs::read_to_string(&guid_file).unwrap();
    assert_eq!(guid.len(), 36, "{guid}");
    let (_, info) = http_get(a.port, "/api/v1/info").unwrap();
    assert!(info.contains(&guid), "{info}");
    assert!(a.stop().success());

    let b = Agent::builder()
        .dir(dir.path())
        .set("plugins", "proc", "no")
        .start();
    assert_eq!(std::fs::read_to_string(&guid_file).unwrap(), guid);
    let (_, info) = http_get(b.port, "/api/v1/info").unwrap();
    assert!(info.contains(&guid));
}

#[test]
fn pid_file_is_written_and_removed_and_sigterm_exits_cleanly() {
    let dir = TempDir::new("pid");
    let pid_file = dir.path().join("tributary.pid");
    let mut a = Agent::builder()
        .arg("-P")
        .arg(pid_file.to_str().unwrap())
        .set("plugins", "proc", "no")
        .start();
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pid, a.pid());
    let log_path = a.dir.join("log/error.log");
    let status = a.stop();
    assert!(status.success(), "{status:?}");
    assert!(!pid_file.exists());
    let log = std::fs::read_to_string(log_path).unwrap();
    assert!(log.contains("SIGTERM received, exiting"), "{log}");
}

#[test]
fn sighup_reopens_the_log_file_after_rotation() {
    let a = Agent::builder().set("plugins", "proc", "no").start();
    let log = a.dir.join("log/error.log");
    let rotated = a.dir.join("log/error.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    signal(a.pid(), "HUP");
    wait_until(
        Duration::from_secs(10),
        "the SIGHUP line in a new log file",
        || {
            std::fs::read_to_string(&log)
                .ok()
                .filter(|t| t.contains("SIGHUP received"))
        },
    );
    assert!(
        !std::fs::read_to_string(&rotated)
            .unwrap()
            .contains("SIGHUP received")
    );
}

fn listening_sockets_of(pid: u32) -> usize {
    let mut inodes = std::collections::HashSet::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
    {
        if let Ok(target) = std::fs::read_link(fd.path()) {
            let t = target.to_string_lossy().into_owned();
            if let Some(i) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                inodes.insert(i.to_string());
            }
        }
    }
    let mut n = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(table)
            .unwrap_or_default()
            .lines()
            .skip(1)
        {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 9 && f[3] == "0A" && inodes.contains(f[9]) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn web_mode_none_opens_no_listening_socket() {
    let a = Agent::builder()
        .set("web", "mode", "none")
        .set("plugins", "proc", "no")
        .start();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(listening_sockets_of(a.pid()), 0);
    let b = Agent::builder().set("plugins", "proc", "no").start();
    assert_eq!(listening_sockets_of(b.pid()), 1);
}
