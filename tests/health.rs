//! Health (issue 7): the stock alarms compared with a real netdata 1.37.1 on the same
//! machine; a deterministic plugin driving an alarm across warn and crit and back, with
//! Debian's alarm-notify.sh and its `custom` method; the health log across restarts; SIGUSR2;
//! alarms of a streamed child on the parent.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::agent::{Agent, AgentBuilder};
use crate::support::{TempDir, free_port, http_get, require_netdata, wait_until};

const STOCK: &str = "/usr/lib/netdata/conf.d/health.d";

fn json(port: u16, path: &str) -> serde_json::Value {
    let (status, body) = http_get(port, path).unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// `(name, chart)` of every alarm in `/api/v1/alarms?all`.
fn alarm_set(port: u16, prefix: &str) -> BTreeSet<(String, String)> {
    let v = json(port, &format!("{prefix}/api/v1/alarms?all"));
    v["alarms"]
        .as_object()
        .unwrap()
        .values()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["chart"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn chart_ids(port: u16) -> BTreeSet<String> {
    let v = json(port, "/api/v1/charts");
    v["charts"].as_object().unwrap().keys().cloned().collect()
}

/// A real netdata with the stock health configuration, only proc and diskspace collecting,
/// notifications going to /bin/true. Killed (by PID) on drop.
struct HealthyNetdata {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl HealthyNetdata {
    fn start() -> HealthyNetdata {
        require_netdata();
        let dir = TempDir::new("nd-health");
        let d = dir.path();
        for sub in ["etc/health.d", "log", "cache", "lib", "lock", "plugins"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let _ignored = std::fs::copy(
            "/usr/lib/netdata/plugins.d/system-info.sh",
            d.join("plugins/system-info.sh"),
        );
        let port = free_port();
        let conf = format!(
            "[global]\n    run as user = root\n    hostname = ndhealth\n    process scheduling policy = keep\n\
             [db]\n    mode = ram\n    update every = 1\n\
             [directories]\n    config = {d}/etc\n    stock config = /usr/lib/netdata/conf.d\n    log = {d}/log\n    cache = {d}/cache\n    lib = {d}/lib\n    lock = {d}/lock\n    home = {d}\n    plugins = \"{d}/plugins\"\n\
             [logs]\n    error log = {d}/log/error.log\n    access log = none\n\
             [health]\n    enabled = yes\n    script to execute on alarm = /bin/true\n[ml]\n    enabled = no\n[registry]\n    enabled = no\n[cloud]\n    enabled = no\n\
             [plugins]\n    enable running new plugins = no\n    proc = yes\n    diskspace = yes\n    idlejitter = no\n    cgroups = no\n    tc = no\n    timex = no\n    checks = no\n    statsd = no\n    netdata monitoring = no\n    apps = no\n    python.d = no\n    charts.d = no\n    go.d = no\n    ebpf = no\n\
             [web]\n    mode = static-threaded\n    bind to = 127.0.0.1:{port}\n    default port = {port}\n    allow connections from = *\n",
            d = d.display(),
        );
        std::fs::write(d.join("etc/netdata.conf"), conf).unwrap();
        let log = std::fs::File::create(d.join("log/stdout.log")).unwrap();
        let child = Command::new(crate::support::NETDATA)
            .args(["-D", "-c"])
            .arg(d.join("etc/netdata.conf"))
            .env("DO_NOT_TRACK", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start netdata");
        let nd = HealthyNetdata {
            child,
            port,
            _dir: dir,
        };
        wait_until(Duration::from_secs(30), "netdata's web server", || {
            http_get(port, "/api/v1/info")
                .ok()
                .filter(|(s, _)| *s == 200)
        });
        nd
    }
}

impl Drop for HealthyNetdata {
    fn drop(&mut self) {
        crate::support::signal(self.child.id(), "TERM");
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ignored = self.child.kill();
        let _ignored = self.child.wait();
    }
}

fn health_agent(dir: &Path) -> AgentBuilder {
    std::fs::create_dir_all(dir.join("etc/health.d")).unwrap();
    Agent::builder()
        .dir(dir)
        .set("directories", "stock health config", STOCK)
        .set("health", "script to execute on alarm", "/bin/true")
}

#[test]
fn stock_alarms_on_local_charts_are_netdatas() {
    let nd = HealthyNetdata::start();
    let dir = TempDir::new("health-stock");
    let ours = health_agent(dir.path()).start();
    // both need two collections per chart and one health iteration; netdata links at once
    std::thread::sleep(Duration::from_secs(15));
    let theirs_charts = chart_ids(nd.port);
    let theirs = wait_until(Duration::from_secs(30), "netdata's alarms", || {
        let s = alarm_set(nd.port, "");
        (s.len() > 20).then_some(s)
    });
    let ours_charts = chart_ids(ours.port);
    let mine = wait_until(Duration::from_secs(30), "our alarms", || {
        let s = alarm_set(ours.port, "");
        (s.len() > 20).then_some(s)
    });
    let common: BTreeSet<&String> = theirs_charts.intersection(&ours_charts).collect();
    let on_common = |s: &BTreeSet<(String, String)>| -> BTreeSet<(String, String)> {
        s.iter()
            .filter(|(_, c)| common.contains(c))
            .cloned()
            .collect()
    };
    let (t, m) = (on_common(&theirs), on_common(&mine));
    let only_theirs: Vec<_> = t.difference(&m).collect();
    let only_ours: Vec<_> = m.difference(&t).collect();
    assert!(
        only_theirs.is_empty() && only_ours.is_empty(),
        "alarms on the {} charts both agents have differ:\nonly netdata: {only_theirs:?}\nonly tributary: {only_ours:?}",
        common.len()
    );
    assert!(t.len() >= 25, "too few alarms compared: {t:?}");
    eprintln!(
        "compared {} alarms on {} common charts (netdata {} alarms on {} charts, tributary {} on {})",
        t.len(),
        common.len(),
        theirs.len(),
        theirs_charts.len(),
        mine.len(),
        ours_charts.len()
    );
}
