//! External plugins that misbehave (issue 6, bad input): garbage, unknown commands, a
//! DIMENSION before its CHART, lines of megabytes, floods and hangs. Each bad line is logged
//! once, naming the plugin, within a rate limit; the offending plugin is killed and restarted
//! after enough errors (or when it hangs); the agent and the other plugins go on.

use std::time::{Duration, Instant};

use crate::plugins::{
    WAIT, agent_in, counter_plugin, has_chart, latest, live_in_group, plugin_pids, plugins_dir,
    write_plugin, zombie_children,
};
use crate::support::{TempDir, http_get, wait_until};

/// Log lines of the agent that contain every one of `needles`.
fn lines_with<'a>(log: &'a str, needles: &[&str]) -> Vec<&'a str> {
    log.lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .collect()
}

/// `good.counter` is still collected: its value grows over `secs` seconds.
fn still_collecting(port: u16, chart: &str, secs: u64) {
    let v1 = wait_until(WAIT, "the good plugin's data", || latest(port, chart));
    std::thread::sleep(Duration::from_secs(secs));
    let v2 = wait_until(WAIT, "the good plugin's data", || latest(port, chart));
    assert!(v2 > v1, "{chart} keeps growing: {v1} then {v2}");
}

#[test]
fn bad_lines_are_logged_rate_limited_and_the_plugin_is_restarted_after_enough() {
    let tmp = TempDir::new("plugin-garbage");
    let dir = plugins_dir(tmp.path());
    write_plugin(&dir, "good", &counter_plugin("good"));
    // 4 distinct mistakes, then 36 garbage lines: 40 bad lines a run, killed at the 30th.
    write_plugin(
        &dir,
        "garbage",
        "echo 'DIMENSION early'\necho 'this is not the protocol'\necho 'FOO bar baz'\necho 'SET x = 1'\n\
         i=0; while [ $i -lt 36 ]; do echo \"garbage $i\"; i=$((i+1)); done\nsleep 600\n",
    );
    let a = agent_in(tmp.path())
        .set("plugin:garbage", "protocol errors before restart", "30")
        .start();
    let log = wait_until(WAIT, "the garbage plugin's second run to be killed", || {
        let log = a.log();
        log.contains("garbage.plugin': 30 more errors suppressed")
            .then_some(log)
    });
    // One log line per bad line, naming the plugin, until the budget (10 per 60 s) is spent.
    let logged = lines_with(&log, &["garbage.plugin' sent '"]);
    assert_eq!(logged.len(), 10, "{log}");
    for l in &logged {
        assert!(l.contains("PLUGINSD[garbage]"), "{l}");
    }
    assert!(
        logged[0].contains("'DIMENSION early': DIMENSION without a chart"),
        "{log}"
    );
    assert!(
        logged[1].contains("'this is not the protocol': unknown keyword 'this'"),
        "{log}"
    );
    assert!(logged[2].contains("unknown keyword 'FOO'"), "{log}");
    assert!(logged[3].contains("SET without a chart"), "{log}");
    // The rest is summarised when each run ends: 20 of the first run, all 30 of the second.
    assert!(
        log.contains("garbage.plugin': 20 more errors suppressed"),
        "{log}"
    );
    assert!(
        log.contains("garbage.plugin': 30 more errors suppressed"),
        "{log}"
    );
    assert!(
        log.contains(
            "was killed because it sent 30 lines that are not the protocol. Restarting it in 1 s."
        ),
        "{log}"
    );
    let pids = plugin_pids(&log, "garbage");
    assert!(pids.len() >= 2, "restarted: {pids:?}");
    wait_until(WAIT, "the first run's group to be gone", || {
        live_in_group(pids[0]).is_empty().then_some(())
    });
    // Nobody else noticed.
    still_collecting(a.port, "good.counter", 2);
    assert_eq!(plugin_pids(&a.log(), "good").len(), 1);
    assert_eq!(http_get(a.port, "/api/v1/info").unwrap().0, 200);
    assert_eq!(zombie_children(a.pid()), Vec::<u32>::new());
}

#[test]
fn lines_of_megabytes_are_skipped_without_buffering_them() {
    let tmp = TempDir::new("plugin-longline");
    write_plugin(
        &plugins_dir(tmp.path()),
        "long",
        "echo \"CHART long.x '' 'long lines' u\"\necho 'DIMENSION a'\n\
         printf 'SET a = '; head -c 40000000 /dev/zero | tr '\\0' 7; echo\n\
         head -c 3000000 /dev/zero | tr '\\0' x; echo\n\
         i=0; while true; do i=$((i+1)); echo 'BEGIN long.x'; echo \"SET a = $i\"; echo END; sleep 0.3; done\n",
    );
    let a = agent_in(tmp.path()).start();
    wait_until(WAIT, "long.x with data", || {
        latest(a.port, "long.x").filter(|v| *v >= 2.0)
    });
    let log = a.log();
    let skipped = lines_with(&log, &["long.plugin' sent a line of", "longer than 65536"]);
    assert_eq!(skipped.len(), 2, "{log}");
    assert!(
        skipped[0].contains("sent a line of 40000009 bytes") && skipped[0].contains("'SET a = 777"),
        "{}",
        skipped[0]
    );
    assert!(
        skipped[1].contains("sent a line of 3000001 bytes"),
        "{}",
        skipped[1]
    );
    assert!(skipped[0].len() < 1000, "the log line holds only the head");
    assert_eq!(
        plugin_pids(&log, "long").len(),
        1,
        "not killed for two lines"
    );
    // 43 MB of lines did not end up in memory (the agent alone peaks near 9 MB).
    let status = std::fs::read_to_string(format!("/proc/{}/status", a.pid())).unwrap();
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    assert!(rss_kb < 30_000, "peak RSS {rss_kb} kB");
}

#[test]
fn floods_of_data_and_of_garbage_leave_the_agent_and_other_plugins_alone() {
    let tmp = TempDir::new("plugin-flood");
    let dir = plugins_dir(tmp.path());
    write_plugin(&dir, "good", &counter_plugin("good"));
    // As fast as a pipe goes: valid collections, and garbage.
    write_plugin(
        &dir,
        "flood",
        "echo \"CHART flood.x '' 'a flood' u\"\necho 'DIMENSION a'\n\
         exec yes \"$(printf 'BEGIN flood.x\\nSET a = 1\\nEND')\"\n",
    );
    write_plugin(&dir, "errflood", "exec yes 'garbage garbage garbage'\n");
    // And a flood on stderr.
    write_plugin(
        &dir,
        "noisy",
        "i=0; while [ $i -lt 3000 ]; do echo \"noise $i\"; i=$((i+1)); done >&2\nexit 0\n",
    );
    let a = agent_in(tmp.path()).start();
    wait_until(WAIT, "flood.x", || {
        has_chart(a.port, "flood.x").then_some(())
    });
    let t = Instant::now();
    for _ in 0..5 {
        let (status, _) = http_get(a.port, "/api/v1/info").unwrap();
        assert_eq!(status, 200);
    }
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "the API answers during the flood: {:?}",
        t.elapsed()
    );
    still_collecting(a.port, "good.counter", 3);
    let log = a.log();
    // The garbage flood: 100 bad lines a run (the default), killed, restarted with back-off,
    // at most 10 error lines in all.
    assert_eq!(
        lines_with(&log, &["errflood.plugin' sent '"]).len(),
        10,
        "{log}"
    );
    assert!(
        log.contains("errflood.plugin' (pid")
            && log.contains("was killed because it sent 100 lines that are not the protocol"),
        "{log}"
    );
    assert!(
        log.contains("errflood.plugin': 90 more errors suppressed"),
        "{log}"
    );
    assert!(plugin_pids(&log, "errflood").len() >= 2, "restarted");
    // stderr: 200 lines a minute, then a count.
    assert_eq!(
        lines_with(&log, &["PLUGINSD[noisy] : noise "]).len(),
        200,
        "{log}"
    );
    assert!(
        log.contains("2800 more stderr lines of plugin 'noisy' were not logged"),
        "{log}"
    );
    // The data flood is no error at all.
    assert_eq!(plugin_pids(&log, "flood").len(), 1, "{log}");
    assert!(
        lines_with(&log, &["/flood.plugin' sent"]).is_empty(),
        "{log}"
    );
}

#[test]
fn a_plugin_that_hangs_is_killed_and_restarted() {
    let tmp = TempDir::new("plugin-hang");
    let marker = tmp.path().join("hang.ran");
    // First run: one collection, then silence with stdout open. Later runs collect.
    write_plugin(
        &plugins_dir(tmp.path()),
        "hang",
        &format!(
            "if [ ! -e {m} ]; then touch {m}; echo \"CHART hang.x '' t u\"; echo 'DIMENSION a'; echo 'BEGIN hang.x'; echo 'SET a = 1'; echo END; exec sleep 600; fi\n{}",
            counter_plugin("hang"),
            m = marker.display()
        ),
    );
    // Never writes: not hung, only waiting (the check is armed by the first output).
    write_plugin(&plugins_dir(tmp.path()), "silent", "exec sleep 600\n");
    let a = agent_in(tmp.path())
        .set("plugin:hang", "hang timeout", "2")
        .set("plugin:silent", "hang timeout", "1")
        .start();
    let log = wait_until(WAIT, "the hung plugin to be restarted", || {
        let log = a.log();
        (plugin_pids(&log, "hang").len() >= 2).then_some(log)
    });
    let first = plugin_pids(&log, "hang")[0];
    let killed = lines_with(&log, &["hang.plugin' (pid", "wrote nothing for"]);
    assert!(
        killed[0].contains(&format!(
            "(pid {first}) wrote nothing for 2 s (hang timeout 2 s): killing it"
        )),
        "{log}"
    );
    assert!(killed[0].contains("PLUGINSD[hang]"), "{}", killed[0]);
    assert!(
        log.contains("was killed because it wrote nothing for 2 s. Restarting it in 1 s."),
        "{log}"
    );
    assert!(
        live_in_group(first).is_empty(),
        "the hung run's sleep is gone"
    );
    // The second run collects.
    wait_until(WAIT, "hang.counter", || {
        latest(a.port, "hang.counter").filter(|v| *v >= 2.0)
    });
    let log = a.log();
    assert_eq!(plugin_pids(&log, "silent").len(), 1, "{log}");
    assert!(!log.contains("silent.plugin' (pid"), "{log}");
}
