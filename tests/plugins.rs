//! External plugins (issue 6): shell-script plugins written by the tests into the agent's
//! plugins directory, and netdata's own charts.d.plugin.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::agent::{Agent, AgentBuilder};
use crate::support::{TempDir, http_get, wait_until};

pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// A plugin that defines `NAME.counter` and sets it to 1, 2, 3, ... once a second.
pub(crate) fn counter_plugin(name: &str) -> String {
    format!(
        r#"echo "CHART {name}.counter '' 'Counter of {name}' 'things' {name} {name}.counter line 1000 $1"
echo "DIMENSION x '' absolute 1 1"
i=0
while true; do
  i=$((i+1))
  echo "BEGIN {name}.counter"
  echo "SET x = $i"
  echo "END"
  sleep $1
done
"#
    )
}

/// Writes `DIR/NAME.plugin` (a /bin/sh script), executable, via rename so that it is never
/// executed while open for writing.
pub(crate) fn write_plugin(dir: &Path, name: &str, body: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&tmp, dir.join(format!("{name}.plugin"))).unwrap();
}

/// An agent with only the external plugins (no proc/diskspace collectors), using `dir`.
pub(crate) fn agent_in(dir: &Path) -> AgentBuilder {
    Agent::builder()
        .dir(dir)
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
}

pub(crate) fn plugins_dir(dir: &Path) -> PathBuf {
    dir.join("plugins.d")
}

pub(crate) fn charts(port: u16) -> serde_json::Value {
    let (_, body) = http_get(port, "/api/v1/charts").unwrap();
    serde_json::from_str(&body).unwrap()
}

pub(crate) fn has_chart(port: u16, id: &str) -> bool {
    charts(port)["charts"].get(id).is_some()
}

/// The latest value of the first dimension of `chart`, when there is one.
pub(crate) fn latest(port: u16, chart: &str) -> Option<f64> {
    let (status, body) = http_get(
        port,
        &format!("/api/v1/data?chart={chart}&after=-5&format=json&options=nonzero"),
    )
    .ok()?;
    if status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    v["data"]
        .as_array()?
        .iter()
        .find_map(|row| row.as_array()?.get(1)?.as_f64())
}

/// PIDs the agent logged for `NAME.plugin` ("connected to ... running on pid N").
pub(crate) fn plugin_pids(log: &str, name: &str) -> Vec<u32> {
    let needle = format!("/{name}.plugin' running on pid ");
    log.lines()
        .filter_map(|l| l.split_once(&needle))
        .filter_map(|(_, pid)| pid.trim().parse().ok())
        .collect()
}

/// (pid, ppid, pgrp, state) of every process.
pub(crate) fn processes() -> Vec<(u32, u32, u32, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        out.push((
            pid,
            f[1].parse().unwrap(),
            f[2].parse().unwrap(),
            f[0].to_string(),
        ));
    }
    out
}

/// Live (non-zombie) processes of process group `pgid`.
pub(crate) fn live_in_group(pgid: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|(_, _, g, s)| *g == pgid && s != "Z")
        .map(|p| p.0)
        .collect()
}

/// Zombie children of `pid`.
pub(crate) fn zombie_children(pid: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|(_, pp, _, s)| *pp == pid && s == "Z")
        .map(|p| p.0)
        .collect()
}

#[test]
fn a_plugins_chart_appears_with_data_and_its_environment_is_netdatas() {
    let tmp = TempDir::new("plugin-chart");
    let env_file = tmp.path().join("plugin.env");
    write_plugin(
        &plugins_dir(tmp.path()),
        "demo",
        &format!(
            "echo \"argv: $0 $*\" > {env}.tmp\nenv >> {env}.tmp\nmv {env}.tmp {env}\necho 'hello from demo' >&2\n{}",
            counter_plugin("demo"),
            env = env_file.display()
        ),
    );
    let a = agent_in(tmp.path())
        .set("plugin:demo", "command options", "opt1 \"opt 2\"")
        .start();
    wait_until(WAIT, "demo.counter with data", || {
        latest(a.port, "demo.counter").filter(|v| *v >= 1.0)
    });
    let c = charts(a.port);
    let chart = &c["charts"]["demo.counter"];
    assert_eq!(chart["units"], "things");
    assert_eq!(chart["plugin"], "demo.plugin", "{chart}");

    let env = std::fs::read_to_string(&env_file).unwrap();
    let var = |k: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} missing from the plugin's environment:\n{env}"))
            .to_string()
    };
    let argv = env.lines().next().unwrap();
    assert!(
        argv.ends_with("/demo.plugin 1 opt1 opt 2"),
        "argv: path, update every, command options: {argv}"
    );
    let (_, info) = http_get(a.port, "/api/v1/info").unwrap();
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(
        var("NETDATA_REGISTRY_UNIQUE_ID"),
        info["uid"].as_str().unwrap()
    );
    assert_eq!(var("NETDATA_UPDATE_EVERY"), "1");
    assert_eq!(var("NETDATA_HOST_PREFIX"), "");
    assert_eq!(
        var("NETDATA_USER_CONFIG_DIR"),
        tmp.path().join("etc").display().to_string()
    );
    assert_eq!(
        var("NETDATA_PLUGINS_DIR"),
        plugins_dir(tmp.path()).display().to_string()
    );
    assert_eq!(
        var("NETDATA_LOG_DIR"),
        tmp.path().join("log").display().to_string()
    );
    assert_eq!(var("NETDATA_STOCK_CONFIG_DIR"), "/usr/lib/netdata/conf.d");
    assert_eq!(var("NETDATA_VERSION"), "v1.37.1");
    assert_eq!(var("LC_ALL"), "C");
    for k in [
        "NETDATA_HOSTNAME",
        "NETDATA_CACHE_DIR",
        "NETDATA_LIB_DIR",
        "NETDATA_LISTEN_PORT",
        "HOME",
        "PATH",
    ] {
        assert!(!var(k).is_empty(), "{k}");
    }
    let log = a.log();
    assert!(
        log.lines()
            .any(|l| l.ends_with("PLUGINSD[demo] : hello from demo")),
        "stderr is logged with the plugin's name:\n{log}"
    );
}

#[test]
fn exited_plugins_restart_and_failing_ones_are_disabled() {
    let tmp = TempDir::new("plugin-restart");
    let dir = plugins_dir(tmp.path());
    // Collects twice, then exits 0: restarted after `update every`.
    write_plugin(
        &dir,
        "shortlived",
        "echo \"CHART shortlived.x '' t u\"\necho 'DIMENSION a'\nfor i in 1 2; do echo 'BEGIN shortlived.x'; echo \"SET a = $i\"; echo END; sleep 0.2; done\nexit 0\n",
    );
    // Exits 1 without collecting: disabled at once (netdata's rule).
    write_plugin(&dir, "failing", "echo 'failing on purpose' >&2\nexit 1\n");
    let a = agent_in(tmp.path()).start();
    wait_until(WAIT, "shortlived to be restarted twice", || {
        (plugin_pids(&a.log(), "shortlived").len() >= 3).then_some(())
    });
    let log = wait_until(WAIT, "failing to be disabled", || {
        let log = a.log();
        log.contains("exited with error code 1 and haven't collected any data. Disabling it.")
            .then_some(log)
    });
    assert!(
        log.contains("PLUGINSD[failing] : failing on purpose"),
        "{log}"
    );
    assert!(
        log.contains("shortlived.plugin' (pid")
            && log.contains("disconnected after 2 successful data collections (ENDs)"),
        "{log}"
    );
    assert!(has_chart(a.port, "shortlived.x"));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(plugin_pids(&a.log(), "failing").len(), 1, "not restarted");
    assert_eq!(
        zombie_children(a.pid()),
        Vec::<u32>::new(),
        "every exited plugin is reaped"
    );
}

#[test]
fn disable_stops_a_plugin_for_good() {
    let tmp = TempDir::new("plugin-disable");
    write_plugin(
        &plugins_dir(tmp.path()),
        "quitter",
        "echo \"CHART quitter.x '' t u\"\necho 'DIMENSION a'\necho 'BEGIN quitter.x'\necho 'SET a = 1'\necho END\necho DISABLE\nsleep 600\n",
    );
    let a = agent_in(tmp.path()).start();
    let log = wait_until(WAIT, "DISABLE to be honoured", || {
        let log = a.log();
        log.contains("called DISABLE. Disabling it.").then_some(log)
    });
    let pid = plugin_pids(&log, "quitter")[0];
    wait_until(WAIT, "the quitter's group to be gone", || {
        live_in_group(pid).is_empty().then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(plugin_pids(&a.log(), "quitter").len(), 1, "never restarted");
    assert!(has_chart(a.port, "quitter.x"), "its chart stays");
    assert_eq!(zombie_children(a.pid()), Vec::<u32>::new());
}

#[test]
fn plugins_switched_off_do_not_run() {
    let tmp = TempDir::new("plugin-switches");
    let dir = plugins_dir(tmp.path());
    let marker = |n: &str| tmp.path().join(format!("{n}.ran"));
    for name in ["off", "on", "newbie"] {
        write_plugin(
            &dir,
            name,
            &format!("touch {}\n{}", marker(name).display(), counter_plugin(name)),
        );
    }
    // Not executable: not a plugin.
    std::fs::write(dir.join("plain.plugin"), "#!/bin/sh\nexit 0\n").unwrap();
    let a = agent_in(tmp.path())
        .set("plugins", "off", "no")
        .set("plugins", "on", "yes")
        .set("plugins", "enable running new plugins", "no")
        .start();
    wait_until(WAIT, "on.counter", || {
        has_chart(a.port, "on.counter").then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(marker("on").exists());
    assert!(!marker("off").exists(), "[plugins] off = no");
    assert!(
        !marker("newbie").exists(),
        "[plugins] enable running new plugins = no"
    );
    let log = a.log();
    assert!(!log.contains("plain.plugin"), "{log}");
}

#[test]
fn no_plugin_process_survives_the_agent() {
    let tmp = TempDir::new("plugin-stop");
    let dir = plugins_dir(tmp.path());
    write_plugin(&dir, "polite", &counter_plugin("polite"));
    // Ignores SIGTERM (and SIGPIPE, so closing its stdout does not end it either) and leaves a
    // helper behind in its group: needs SIGKILL.
    write_plugin(
        &dir,
        "stubborn",
        &format!(
            "trap '' TERM PIPE\nsleep 600 &\n{}",
            counter_plugin("stubborn").replace("sleep $1", "sleep 1 || true")
        ),
    );
    let mut a = agent_in(tmp.path()).start();
    wait_until(WAIT, "both plugins' charts", || {
        (latest(a.port, "polite.counter").is_some() && latest(a.port, "stubborn.counter").is_some())
            .then_some(())
    });
    let log = a.log();
    let groups: Vec<u32> = ["polite", "stubborn"]
        .iter()
        .map(|n| plugin_pids(&log, n)[0])
        .collect();
    for g in &groups {
        assert!(!live_in_group(*g).is_empty(), "group {g} runs");
    }
    assert!(
        live_in_group(groups[1]).len() >= 2,
        "the stubborn plugin has a helper"
    );
    let status = a.stop();
    assert!(status.success(), "{status:?}");
    for g in groups {
        let left = live_in_group(g);
        assert!(left.is_empty(), "processes of group {g} left: {left:?}");
    }
    let log = a.log();
    assert!(
        log.contains("PLUGINSD: every external plugin stopped"),
        "{log}"
    );
    assert!(
        log.contains("after SIGTERM: killing its process group"),
        "the stubborn plugin needed SIGKILL:\n{log}"
    );
}

#[test]
fn netdatas_charts_d_plugin_runs_under_tributary() {
    let stock = Path::new("/usr/lib/netdata/plugins.d/charts.d.plugin");
    assert!(
        stock.exists(),
        "{} is missing: apt-get install -y netdata-plugins-bash",
        stock.display()
    );
    let tmp = TempDir::new("plugin-chartsd");
    let etc = tmp.path().join("etc");
    std::fs::create_dir_all(etc.join("charts.d")).unwrap();
    // The stock `example` module is off unless forced, and checks a magic number.
    std::fs::write(etc.join("charts.d.conf"), "example=force\n").unwrap();
    std::fs::write(
        etc.join("charts.d/example.conf"),
        "example_magic_number=12345\n",
    )
    .unwrap();
    let mut a = agent_in(tmp.path())
        .set("directories", "plugins", "\"/usr/lib/netdata/plugins.d\"")
        .set("plugins", "enable running new plugins", "no")
        .set("plugins", "charts.d", "yes")
        .start();
    wait_until(WAIT, "example.random with data", || {
        latest(a.port, "example.random")
    });
    let c = charts(a.port);
    assert_eq!(c["charts"]["example.random"]["plugin"], "charts.d.plugin");
    assert!(c["charts"].get("example.random2").is_some());
    let log = a.log();
    assert!(
        log.contains("PLUGINSD[charts.d] : ") && log.contains("charts.d: INFO: main: started"),
        "{log}"
    );
    let pid = plugin_pids(&log, "charts.d")[0];
    assert!(a.stop().success());
    assert!(live_in_group(pid).is_empty());
}

#[test]
fn plugins_die_with_an_agent_killed_with_sigkill() {
    let tmp = TempDir::new("plugin-sigkill");
    // Ignores every polite signal and a closed stdout (as python.d.plugin does).
    write_plugin(
        &plugins_dir(tmp.path()),
        "tough",
        &format!(
            "trap '' TERM PIPE HUP INT\n{}",
            counter_plugin("tough").replace("sleep $1", "sleep 1 || true")
        ),
    );
    let a = agent_in(tmp.path()).start();
    wait_until(WAIT, "tough.counter", || latest(a.port, "tough.counter"));
    let pid = plugin_pids(&a.log(), "tough")[0];
    assert!(live_in_group(pid).contains(&pid));
    a.kill9();
    // The plugin got SIGKILL with its agent; its last `sleep 1` ends on its own.
    wait_until(
        Duration::from_secs(5),
        "the plugin's group to be gone",
        || live_in_group(pid).is_empty().then_some(()),
    );
}
