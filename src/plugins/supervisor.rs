//! The restart loop of one plugin (netdata 1.37.1's `pluginsd_worker_thread` and the exit
//! handling of `plugins_d.c`), on the plugin's own thread with a current-thread runtime.
//!
//! After a run that ended by itself:
//! - exit code 0 (or killed by SIGTERM): restarted after `update every` seconds when it ever
//!   collected data (one `END`), else after 10 × `update every`, and disabled after more than
//!   [`SERIAL_FAILURES_THRESHOLD`] such runs in a row;
//! - a non-zero exit disables a plugin that never collected data; one that did is restarted
//!   after 10 × `update every`, and disabled after more than 10 unproductive runs in a row;
//! - killed by any other signal: disabled;
//! - `DISABLE`: disabled.
//!
//! After a run tributary ended (too many bad lines, a hang, output without newlines; see
//! `reader.rs`): restarted with back-off, `update every` × 1, 2, 4, 8, then 10 × `update
//! every` after each further run in a row that collected nothing; disabled after more than
//! [`SERIAL_FAILURES_THRESHOLD`] of them. A disabled plugin is not started again until the
//! agent restarts.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tributary_rrd::Host;

use super::error_log::ErrorLog;
use super::process::{kill_and_reap, log_stderr, spawn};
use super::reader::{Ending, ReadLimits, read_protocol};
use super::{PluginSpec, stopped};
use crate::ingest::Ingest;

/// netdata's `SERIAL_FAILURES_THRESHOLD`: more unproductive runs in a row than this disable a
/// plugin.
const SERIAL_FAILURES_THRESHOLD: u32 = 10;

/// What one run gave.
struct Run {
    pid: u32,
    ending: Ending,
    /// ENDs in this run.
    collections: u64,
    status: Option<ExitStatus>,
}

/// The body of a plugin's thread.
pub fn supervise_thread(
    spec: PluginSpec,
    host: Arc<Host>,
    env: Arc<Vec<(String, String)>>,
    stop_rx: watch::Receiver<bool>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            log::error!("cannot start a runtime for '{}': {e}", spec.path.display());
            return;
        }
    };
    runtime.block_on(supervise(&spec, &host, &env, stop_rx));
}

/// The delay before restarting a plugin tributary killed, after `failures` unproductive runs
/// in a row (0: the run collected).
fn backoff(update_every: u64, failures: u32) -> u64 {
    let factor = match failures {
        0 | 1 => 1,
        f => (1u64 << (f - 1).min(4)).min(10),
    };
    update_every * factor
}

async fn supervise(
    spec: &PluginSpec,
    host: &Arc<Host>,
    env: &[(String, String)],
    mut stop_rx: watch::Receiver<bool>,
) {
    let path = spec.path.display().to_string();
    let ue = u64::from(spec.update_every);
    let mut successful: u64 = 0;
    let mut serial_failures: u32 = 0;
    let mut errors = ErrorLog::new(&path);
    loop {
        if *stop_rx.borrow() {
            return;
        }
        let run = match run_once(spec, host, env, &mut errors, &mut stop_rx).await {
            Ok(r) => r,
            Err(e) => {
                log::error!("cannot run '{path}': {e}. Disabling it.");
                return;
            }
        };
        errors.flush();
        let pid = run.pid;
        if matches!(run.ending, Ending::Stopping) {
            log::info!("'{path}' (pid {pid}) stopped: the agent is exiting");
            return;
        }
        log::error!(
            "'{path}' (pid {pid}) disconnected after {} successful data collections (ENDs).",
            run.collections
        );
        if let Ending::ReadError(e) = &run.ending {
            log::error!("'{path}' (pid {pid}): reading its output failed: {e}");
        }
        successful += run.collections;
        if run.collections > 0 {
            serial_failures = 0;
        } else {
            serial_failures += 1;
        }
        if matches!(run.ending, Ending::Disable) {
            log::info!("'{path}' (pid {pid}) called DISABLE. Disabling it.");
            return;
        }
        let killed = match run.ending {
            Ending::TooManyErrors(n) => Some(format!("sent {n} lines that are not the protocol")),
            Ending::Hung(t) => Some(format!("wrote nothing for {} s", t.as_secs())),
            Ending::Runaway => Some("wrote too much without a newline".to_string()),
            _ => None,
        };
        let delay = if let Some(why) = killed {
            if serial_failures > SERIAL_FAILURES_THRESHOLD {
                log::error!(
                    "'{path}' (pid {pid}) was killed because it {why}; it collected nothing in its last {serial_failures} runs. Disabling it."
                );
                return;
            }
            let delay = backoff(ue, serial_failures);
            log::error!(
                "'{path}' (pid {pid}) was killed because it {why}. Restarting it in {delay} s."
            );
            delay
        } else {
            match exit_rule(&path, pid, &run, successful, serial_failures, ue) {
                Some(d) => d,
                None => return,
            }
        };
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(delay)) => {}
            () = stopped(&mut stop_rx) => return,
        }
    }
}

/// netdata's rules for a plugin that ended by itself: the restart delay in seconds, or None
/// (disabled; the reason is logged).
fn exit_rule(
    path: &str,
    pid: u32,
    run: &Run,
    successful: u64,
    serial_failures: u32,
    ue: u64,
) -> Option<u64> {
    // netdata_pclose(): exit code, 0 when killed by SIGTERM, -1 for other signals.
    let code = match run.status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => c,
            (None, Some(15)) => 0,
            _ => -1,
        },
        None => -1,
    };
    if code == 0 {
        if successful > 0 {
            return Some(ue);
        }
        if serial_failures <= SERIAL_FAILURES_THRESHOLD {
            log::info!(
                "'{path}' (pid {pid}) does not generate useful output but it reports success (exits with 0). Waiting a bit before starting it again."
            );
            return Some(ue * 10);
        }
        log::error!(
            "'{path}' (pid {pid}) does not generate useful output, although it reports success (exits with 0). We have tried to collect something {serial_failures} times - unsuccessfully. Disabling it."
        );
        return None;
    }
    if code == -1 {
        let sig = run
            .status
            .and_then(|s| s.signal())
            .map_or_else(|| "unknown".to_string(), |s| s.to_string());
        log::info!("'{path}' (pid {pid}) was killed by signal {sig}. Disabling it.");
        return None;
    }
    if successful == 0 {
        log::error!(
            "'{path}' (pid {pid}) exited with error code {code} and haven't collected any data. Disabling it."
        );
        return None;
    }
    if serial_failures <= SERIAL_FAILURES_THRESHOLD {
        log::error!(
            "'{path}' (pid {pid}) exited with error code {code}, but has given useful output in the past ({successful} times). Waiting a bit before starting it again."
        );
        return Some(ue * 10);
    }
    log::error!(
        "'{path}' (pid {pid}) exited with error code {code}, but has given useful output in the past ({successful} times). We tried to restart it {serial_failures} times, but it failed to generate data. Disabling it."
    );
    None
}

/// Starts the plugin once and reads it until it ends, is killed, or the agent stops; then
/// kills its process group and reaps it.
async fn run_once(
    spec: &PluginSpec,
    host: &Arc<Host>,
    env: &[(String, String)],
    errors: &mut ErrorLog,
    stop_rx: &mut watch::Receiver<bool>,
) -> std::io::Result<Run> {
    let path = spec.path.display().to_string();
    let mut child = spawn(spec, env)?;
    let pid = child.id().unwrap_or(0);
    log::info!("connected to '{path}' running on pid {pid}");
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr_task = child
        .stderr
        .take()
        .map(|e| tokio::spawn(log_stderr(e, spec.name.clone())));
    let mut ingest = Ingest::new(
        Arc::clone(host),
        spec.update_every,
        &format!("{}.plugin", spec.name),
    );
    let limits = ReadLimits {
        max_errors: spec.max_errors,
        hang: spec.hang_timeout,
        hang_auto: spec.hang_auto,
    };
    let ending = match stdout {
        Some(out) => read_protocol(out, &mut ingest, &path, limits, errors, stop_rx).await,
        None => Ending::Eof,
    };
    if let Ending::Hung(quiet) = ending {
        log::error!(
            "'{path}' (pid {pid}) wrote nothing for {} s (hang timeout {} s): killing it",
            quiet.as_secs(),
            limits
                .hang_timeout(ingest.max_update_every)
                .unwrap_or_default()
                .as_secs()
        );
    }
    drop(stdin);
    let status = kill_and_reap(&mut child, pid).await;
    if let Some(t) = stderr_task {
        // The group is gone; its stderr pipe is closed unless a process left the group.
        if tokio::time::timeout(Duration::from_secs(1), t)
            .await
            .is_err()
        {
            log::info!(
                "'{path}' (pid {pid}): stderr still open after the plugin ended; no longer read"
            );
        }
    }
    Ok(Run {
        pid,
        ending,
        collections: ingest.collections,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_up_to_ten_times_update_every() {
        let got: Vec<u64> = (0..8).map(|f| backoff(2, f)).collect();
        assert_eq!(got, [2, 2, 4, 8, 16, 20, 20, 20]);
    }
}
