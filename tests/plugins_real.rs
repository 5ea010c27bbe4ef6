//! netdata's own plugins under tributary (issue 6, real plugins): Debian's apps.plugin,
//! python.d.plugin with its stock `example` module enabled in the user config directory,
//! charts.d.plugin's `example`, stock plugins that find nothing to do here, and the charts of
//! all three on a tributary parent the agent streams to.

use std::path::Path;
use std::time::Duration;

use crate::plugins::{WAIT, agent_in, charts, latest, live_in_group, plugin_pids, zombie_children};
use crate::support::agent::{Agent, AgentBuilder};
use crate::support::{TempDir, http_get_retry, wait_until};

const STOCK: &str = "/usr/lib/netdata/plugins.d";
const KEY: &str = "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5";

/// The stock plugin `NAME.plugin`, or a failure saying which package installs it.
fn require_stock(name: &str, package: &str) {
    let p = Path::new(STOCK).join(format!("{name}.plugin"));
    assert!(
        p.exists(),
        "{} is missing: apt-get install -y --no-install-recommends {package}",
        p.display()
    );
}

/// An agent in `dir` that runs only the stock plugins named in `on`.
fn stock_agent(dir: &Path, on: &[&str]) -> AgentBuilder {
    let mut b = agent_in(dir)
        .set("directories", "plugins", &format!("\"{STOCK}\""))
        .set("plugins", "enable running new plugins", "no");
    for name in on {
        b = b.set("plugins", name, "yes");
    }
    b
}

/// The user configuration that turns on the stock `example` modules of python.d and charts.d.
fn enable_examples(dir: &Path) {
    let etc = dir.join("etc");
    std::fs::create_dir_all(etc.join("charts.d")).unwrap();
    std::fs::write(etc.join("python.d.conf"), "example: yes\n").unwrap();
    std::fs::write(etc.join("charts.d.conf"), "example=force\n").unwrap();
    std::fs::write(
        etc.join("charts.d/example.conf"),
        "example_magic_number=12345\n",
    )
    .unwrap();
}

/// The latest value of `chart` on host `host` of `port` (None: no data yet).
fn latest_on(port: u16, host: &str, chart: &str) -> Option<f64> {
    let (status, body) = http_get_retry(
        port,
        &format!("/host/{host}/api/v1/data?chart={chart}&after=-10&format=json"),
    )
    .ok()?;
    if status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    v["data"]
        .as_array()?
        .iter()
        .find_map(|row| row.as_array()?.iter().skip(1).find_map(|x| x.as_f64()))
}

#[test]
fn apps_plugin_charts_appear_with_data() {
    require_stock("apps", "netdata-core");
    let tmp = TempDir::new("plugin-apps");
    let mut a = stock_agent(tmp.path(), &["apps"]).start();
    // The processes of this machine (the agent's and apps.plugin's own at least), per app,
    // user and group.
    for chart in ["apps.processes", "users.processes", "groups.mem"] {
        wait_until(WAIT, &format!("{chart} with data"), || {
            latest(a.port, chart).filter(|v| *v > 0.0)
        });
    }
    let c = charts(a.port);
    let chart = &c["charts"]["apps.cpu"];
    assert_eq!(chart["plugin"], "apps.plugin", "{chart}");
    assert_eq!(chart["units"], "percentage", "{chart}");
    let log = a.log();
    assert!(
        log.contains("PLUGINSD[apps] : ")
            && log.contains("Loaded config file '/usr/lib/netdata/conf.d/apps_groups.conf'"),
        "apps.plugin found the stock config through NETDATA_STOCK_CONFIG_DIR:\n{log}"
    );
    let pid = plugin_pids(&log, "apps")[0];
    assert!(a.stop().success());
    assert!(live_in_group(pid).is_empty());
}

#[test]
fn python_d_example_module_enabled_in_the_user_config_runs() {
    require_stock("python.d", "netdata-plugins-python");
    let tmp = TempDir::new("plugin-pythond");
    enable_examples(tmp.path());
    let a = stock_agent(tmp.path(), &["python.d"]).start();
    wait_until(
        Duration::from_secs(40),
        "example_Four_Lines.random with data",
        || latest(a.port, "example_Four_Lines.random"),
    );
    let c = charts(a.port);
    let chart = &c["charts"]["example_Four_Lines.random"];
    assert_eq!(chart["plugin"], "python.d.plugin", "{chart}");
    assert_eq!(chart["module"], "example", "{chart}");
    assert_eq!(chart["dimensions"].as_object().unwrap().len(), 4, "{chart}");
    // Its runtime chart exists only with NETDATA_INTERNALS_MONITORING=YES, which netdata (and
    // tributary) does not give.
    assert!(
        c["charts"]
            .get("netdata.runtime_example_Four_Lines")
            .is_none()
    );
    let log = a.log();
    // The job lock lives in NETDATA_LOCK_DIR, which the agent created.
    assert!(
        tmp.path()
            .join("lib/lock/example_Four_Lines.collector.lock")
            .exists(),
        "{log}"
    );
    assert!(
        log.contains("PLUGINSD[python.d] : ") && log.contains("[example] built 1 job(s) configs"),
        "{log}"
    );
}

#[test]
fn stock_plugins_with_nothing_to_do_are_disabled_and_not_restarted() {
    // Here fping has no hosts, ioping no destination, perf no chart enabled: each prints
    // DISABLE and exits 1, and netdata disables it.
    for (name, package) in [
        ("fping", "netdata-plugins-bash"),
        ("ioping", "netdata-plugins-bash"),
        ("perf", "netdata-core"),
    ] {
        require_stock(name, package);
    }
    let tmp = TempDir::new("plugin-nothing");
    let a = stock_agent(tmp.path(), &["fping", "ioping", "perf"]).start();
    let log = wait_until(WAIT, "the three plugins to be disabled", || {
        let log = a.log();
        ["fping", "ioping", "perf"]
            .iter()
            .all(|n| {
                log.lines().any(|l| {
                    l.contains(&format!("/{n}.plugin' (pid"))
                        && l.contains("called DISABLE. Disabling it.")
                })
            })
            .then_some(log)
    });
    assert!(
        log.contains("PLUGINSD[fping] : ") && log.contains("no hosts configured - nothing to do"),
        "{log}"
    );
    // Not restarted: a restart would come after 1 or 10 s (update every 1).
    std::thread::sleep(Duration::from_secs(12));
    let log = a.log();
    for name in ["fping", "ioping", "perf"] {
        let pids = plugin_pids(&log, name);
        assert_eq!(pids.len(), 1, "{name} started once: {log}");
        assert!(live_in_group(pids[0]).is_empty(), "{name} is gone");
    }
    assert_eq!(zombie_children(a.pid()), Vec::<u32>::new());
}

#[test]
fn plugin_charts_stream_to_a_tributary_parent() {
    require_stock("apps", "netdata-core");
    require_stock("python.d", "netdata-plugins-python");
    require_stock("charts.d", "netdata-plugins-bash");
    let parent = Agent::builder()
        .stream_conf(&format!(
            "[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    allow from = *\n"
        ))
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .start();
    let tmp = TempDir::new("plugin-child");
    enable_examples(tmp.path());
    let child = stock_agent(tmp.path(), &["apps", "python.d", "charts.d"])
        .set("global", "hostname", "plugin-child")
        .stream_conf(&format!(
            "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    api key = {KEY}\n    reconnect delay seconds = 1\n",
            parent.port
        ))
        .start();
    let charts_of = [
        ("apps.processes", "apps.plugin"),
        ("example_Four_Lines.random", "python.d.plugin"),
        ("example.random", "charts.d.plugin"),
    ];
    for (chart, _) in charts_of {
        wait_until(
            Duration::from_secs(60),
            &format!("{chart} of the child with data on the parent"),
            || latest_on(parent.port, "plugin-child", chart),
        );
    }
    let (_, body) = http_get_retry(parent.port, "/host/plugin-child/api/v1/charts").unwrap();
    let on_parent: serde_json::Value = serde_json::from_str(&body).unwrap();
    let on_child = charts(child.port);
    for (chart, plugin) in charts_of {
        assert_eq!(
            on_parent["charts"][chart]["plugin"], plugin,
            "{chart} on the parent"
        );
        assert_eq!(
            on_parent["charts"][chart]["dimensions"], on_child["charts"][chart]["dimensions"],
            "{chart}: the same dimensions on both"
        );
    }
}
