//! A plugin's process: spawned in its own process group with netdata's command line, killed as
//! a group (SIGTERM, SIGKILL after [`KILL_GRACE`]) and reaped, so that neither the plugin nor a
//! helper it started outlives its run, and the plugin dies with the agent even when the agent
//! is killed; its stderr goes to our log, rate-limited.

use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use tokio::io::AsyncRead;

use super::PluginSpec;
use super::reader::{LineRead, LineReader};

/// Time a plugin has between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(3);

/// stderr lines logged per plugin per [`STDERR_WINDOW`]; the rest are counted and reported.
const STDERR_LINES_PER_WINDOW: u32 = 200;
const STDERR_WINDOW: Duration = Duration::from_secs(60);

/// Starts `PATH UPDATE_EVERY [command options]` with `env`, stdin/stdout/stderr piped.
pub fn spawn(
    spec: &PluginSpec,
    env: &[(String, String)],
) -> std::io::Result<tokio::process::Child> {
    let mut cmd = tokio::process::Command::new(&spec.path);
    cmd.arg(spec.update_every.to_string())
        .args(&spec.options)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    die_with_the_agent(&mut cmd);
    // A file just written may still be open for writing in a process that forked meanwhile.
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::TXTBSY.raw_os_error()) => {
                tries += 1;
                if tries == 20 {
                    return Err(e);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// The plugin gets SIGKILL when the thread that started it (its supervisor) ends, which
/// includes the agent being killed with SIGKILL or crashing: no plugin outlives the agent
/// (netdata's plugins do, e.g. python.d.plugin ignores a closed stdout). Linux clears this for
/// binaries with file capabilities (apps.plugin), which exit when their stdin closes instead.
fn die_with_the_agent(cmd: &mut tokio::process::Command) {
    let agent = rustix::process::getpid();
    #[allow(unsafe_code)]
    // SAFETY: the closure runs in the forked child before exec and makes only two system calls
    // that are async-signal-safe (prctl, getppid); it allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
            // The agent died between fork and prctl: do not start orphaned.
            if rustix::process::getppid() != Some(agent) {
                return Err(rustix::io::Errno::SRCH.into());
            }
            Ok(())
        });
    }
}

fn group_of(pid: u32) -> Option<Pid> {
    i32::try_from(pid).ok().and_then(Pid::from_raw)
}

fn signal_group(pid: u32, sig: Signal) -> bool {
    group_of(pid).is_some_and(|g| rustix::process::kill_process_group(g, sig).is_ok())
}

/// True when a process of group `pgid` is alive (not a zombie). Reads the real /proc.
fn group_has_live_process(pgid: u32) -> bool {
    if group_of(pgid).is_none_or(|g| rustix::process::test_kill_process_group(g).is_err()) {
        return false;
    }
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return true;
    };
    dir.flatten().any(|e| {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            return false;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut f = rest.split_whitespace();
        let state = f.next();
        let group = f.nth(1).and_then(|g| g.parse::<u32>().ok());
        group == Some(pgid) && state != Some("Z")
    })
}

/// SIGTERM to the plugin's process group, SIGKILL after [`KILL_GRACE`]; waits for the plugin
/// itself (no zombie) and then for the rest of its group.
pub async fn kill_and_reap(child: &mut tokio::process::Child, pid: u32) -> Option<ExitStatus> {
    signal_group(pid, Signal::TERM);
    let status = match tokio::time::timeout(KILL_GRACE, child.wait()).await {
        Ok(s) => s.ok(),
        Err(_) => {
            log::error!(
                "pid {pid} did not exit {KILL_GRACE:?} after SIGTERM: killing its process group"
            );
            signal_group(pid, Signal::KILL);
            child.wait().await.ok()
        }
    };
    // Processes the plugin started stay in its group after it exits (zombies reparented to
    // init do not count: they are init's to reap).
    let deadline = Instant::now() + Duration::from_secs(1);
    while group_has_live_process(pid) {
        if Instant::now() >= deadline {
            log::info!(
                "processes of the group of pid {pid} still run after it ended: killing them"
            );
            signal_group(pid, Signal::KILL);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    status
}

/// [`STDERR_WINDOW`].
pub async fn log_stderr(err: impl AsyncRead + Unpin, name: String) {
    let mut reader = LineReader::new(err, 4096);
    let mut window = Instant::now();
    let mut logged = 0u32;
    let mut dropped = 0u64;
    loop {
        match reader.next().await {
            Ok(LineRead::Eof | LineRead::Runaway) | Err(_) => break,
            Ok(LineRead::Line | LineRead::TooLong(_)) => {}
        }
        if window.elapsed() >= STDERR_WINDOW {
            if dropped > 0 {
                log::error!("{dropped} more stderr lines of plugin '{name}' were not logged");
            }
            window = Instant::now();
            logged = 0;
            dropped = 0;
        }
        if logged >= STDERR_LINES_PER_WINDOW {
            dropped += 1;
            continue;
        }
        logged += 1;
        let text = String::from_utf8_lossy(reader.line());
        log::info!("{}", text.trim_end_matches(['\n', '\r']));
    }
    if dropped > 0 {
        log::error!("{dropped} more stderr lines of plugin '{name}' were not logged");
    }
}
