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
    // Charts appear at different moments on the two agents and health links new charts on
    // its next iteration: compare until both agree (or the time is up).
    let deadline = std::time::Instant::now() + Duration::from_secs(45);
    let (theirs_charts, theirs, ours_charts, mine, common_len, t) = loop {
        let theirs_charts = chart_ids(nd.port);
        let theirs = alarm_set(nd.port, "");
        let ours_charts = chart_ids(ours.port);
        let mine = alarm_set(ours.port, "");
        let common: BTreeSet<&String> = theirs_charts.intersection(&ours_charts).collect();
        let on_common = |s: &BTreeSet<(String, String)>| -> BTreeSet<(String, String)> {
            s.iter()
                .filter(|(_, c)| common.contains(c))
                .cloned()
                .collect()
        };
        let (t, m) = (on_common(&theirs), on_common(&mine));
        let only_theirs: Vec<_> = t.difference(&m).cloned().collect();
        let only_ours: Vec<_> = m.difference(&t).cloned().collect();
        let agree = only_theirs.is_empty() && only_ours.is_empty() && theirs.len() > 20;
        if agree || std::time::Instant::now() > deadline {
            assert!(
                agree,
                "alarms on the {} charts both agents have differ:\nonly netdata: {only_theirs:?}\nonly tributary: {only_ours:?}",
                common.len()
            );
            let n = common.len();
            break (theirs_charts, theirs, ours_charts, mine, n, t);
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    assert!(t.len() >= 25, "too few alarms compared: {t:?}");
    eprintln!(
        "compared {} alarms on {} common charts (netdata {} alarms on {} charts, tributary {} on {})",
        t.len(),
        common_len,
        theirs.len(),
        theirs_charts.len(),
        mine.len(),
        ours_charts.len()
    );
}

/// A plugin defining `lab.drive` (family `labfam`, one dimension `v`) and setting `v` once
/// a second to the number in `CTL` (0 when missing).
fn write_drive_plugin(plugins: &Path, ctl: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(plugins).unwrap();
    let body = format!(
        "#!/bin/sh\n\
         echo \"CHART lab.drive '' 'Lab drive' 'widgets' labfam lab.drive line 1000 1 '' 'lab' 'drive'\"\n\
         echo \"DIMENSION v v absolute 1 1\"\n\
         while true; do\n\
           v=$(cat '{ctl}' 2>/dev/null || echo 0)\n\
           echo \"BEGIN lab.drive\"\n\
           echo \"SET v = $v\"\n\
           echo \"END\"\n\
           sleep 1\n\
         done\n",
        ctl = ctl.display()
    );
    let tmp = plugins.join(".lab.tmp");
    std::fs::write(&tmp, body).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&tmp, plugins.join("lab.plugin")).unwrap();
}

fn set_drive(ctl: &Path, v: i64) {
    let tmp = ctl.with_extension("tmp");
    std::fs::write(&tmp, v.to_string()).unwrap();
    std::fs::rename(&tmp, ctl).unwrap();
}

const LAB_CONF: &str = "
alarm: lab_drive
   on: lab.drive
 calc: $v
every: 1s
 warn: $this > 10
 crit: $this > 20
units: widgets
 info: lab drive on $family
   to: sysadmin
";

/// An agent with only the drive plugin, the lab alarm, no stock health.
fn lab_agent(dir: &Path) -> AgentBuilder {
    let etc = dir.join("etc");
    std::fs::create_dir_all(etc.join("health.d")).unwrap();
    std::fs::write(etc.join("health.d/lab.conf"), LAB_CONF).unwrap();
    write_drive_plugin(&dir.join("plugins.d"), &dir.join("ctl"));
    Agent::builder()
        .dir(dir)
        .set("global", "hostname", "hlab")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
}

fn alarm(port: u16, prefix: &str, key: &str) -> Option<serde_json::Value> {
    let v = json(port, &format!("{prefix}/api/v1/alarms?all"));
    v["alarms"].get(key).cloned()
}

fn wait_status(port: u16, prefix: &str, key: &str, status: &str) -> serde_json::Value {
    wait_until(Duration::from_secs(20), &format!("{key} {status}"), || {
        alarm(port, prefix, key).filter(|a| a["status"] == status)
    })
}

#[test]
fn debians_alarm_notify_sh_sends_through_its_custom_method() {
    let script = Path::new(tributary_default_script());
    assert!(
        script.exists(),
        "{} is missing: install netdata 1.37.1 (apt-get install -y netdata-core)",
        script.display()
    );
    let dir = TempDir::new("health-notify");
    let d = dir.path();
    let out = d.join("custom.txt");
    std::fs::create_dir_all(d.join("etc")).unwrap();
    std::fs::write(
        d.join("etc/health_alarm_notify.conf"),
        format!(
            "SEND_EMAIL=\"NO\"\nSEND_CUSTOM=\"YES\"\nDEFAULT_RECIPIENT_CUSTOM=\"labcustom\"\n\
             custom_sender() {{\n  echo \"recipients=${{1}} status=${{status}} old_status=${{old_status}} name=${{name}} chart=${{chart}} value_string=${{value_string}} host=${{host}}\" >> '{}'\n  sent=$((sent + 1))\n}}\n",
            out.display()
        ),
    )
    .unwrap();
    set_drive(&d.join("ctl"), 0);
    // no `script to execute on alarm`: the default is netdata's alarm-notify.sh
    let agent = lab_agent(d)
        .set("directories", "stock health config", STOCK)
        .set("plugins", "proc", "no")
        .start();
    let key = "lab.drive.lab_drive";
    let a = wait_status(agent.port, "", key, "CLEAR");
    assert_eq!(a["exec"], tributary_default_script());
    assert_eq!(a["info"], "lab drive on labfam");
    let lines = |n: usize| {
        wait_until(
            Duration::from_secs(30),
            &format!("{n} notifications"),
            || {
                let text = std::fs::read_to_string(&out).unwrap_or_default();
                let v: Vec<String> = text.lines().map(str::to_string).collect();
                (v.len() >= n).then_some(v)
            },
        )
    };
    set_drive(&d.join("ctl"), 15);
    let l = lines(1);
    assert_eq!(
        l[0],
        "recipients=labcustom status=WARNING old_status=CLEAR name=lab_drive chart=lab.drive value_string=15 widgets host=hlab"
    );
    // the badge shows the alarm's value and status color, /api/v1/chart lists the alarm
    let (status, svg) = http_get(
        agent.port,
        "/api/v1/badge.svg?chart=lab.drive&alarm=lab_drive",
    )
    .unwrap();
    assert_eq!(status, 200);
    assert!(
        svg.contains(">15 widgets<") && svg.contains("#fe7d37"),
        "{svg}"
    );
    let chart = json(agent.port, "/api/v1/chart?chart=lab.drive");
    assert_eq!(chart["alarms"]["lab_drive"]["status"], "WARNING");
    assert_eq!(json(agent.port, "/api/v1/info")["alarms"]["warning"], 1);
    assert_eq!(
        http_get(agent.port, "/api/v1/alarm_count").unwrap().1,
        "[1]\n"
    );
    set_drive(&d.join("ctl"), 25);
    let l = lines(2);
    assert_eq!(
        l[1],
        "recipients=labcustom status=CRITICAL old_status=WARNING name=lab_drive chart=lab.drive value_string=25 widgets host=hlab"
    );
    set_drive(&d.join("ctl"), 0);
    let l = lines(3);
    assert_eq!(
        l[2],
        "recipients=labcustom status=CLEAR old_status=CRITICAL name=lab_drive chart=lab.drive value_string=0 widgets host=hlab"
    );
    // the log shows the executed notifications with their exit code
    let log = json(agent.port, "/api/v1/alarm_log");
    let executed: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "lab_drive" && e["exec_run"].as_i64().unwrap() > 0)
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(executed, ["CLEAR", "CRITICAL", "WARNING"], "{log:#}");
    assert!(log.as_array().unwrap().iter().all(|e| e["exec_code"] == 0));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(lines(3).len(), 3, "no further notifications");
}

fn tributary_default_script() -> &'static str {
    "/usr/lib/netdata/plugins.d/alarm-notify.sh"
}

/// A capture script for `exec:`: appends its arguments, one per line after a `---`, to `out`.
fn write_capture(path: &Path, out: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(
        path,
        format!(
            "#!/bin/sh\n{{ echo \"--- $(date +%s)\"; for a in \"$@\"; do printf '%s\\n' \"$a\"; done; }} >> '{}'\n",
            out.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The captured notifications: `(capture time, args 1..)`.
fn captures(out: &Path) -> Vec<(i64, Vec<String>)> {
    let text = std::fs::read_to_string(out).unwrap_or_default();
    let mut v: Vec<(i64, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(t) = line.strip_prefix("--- ") {
            v.push((t.parse().unwrap(), Vec::new()));
        } else if let Some(last) = v.last_mut() {
            last.1.push(line.to_string());
        }
    }
    v
}

#[test]
fn the_health_log_survives_restarts_and_usr2_reloads_health_d() {
    let dir = TempDir::new("health-restart");
    let d = dir.path();
    set_drive(&d.join("ctl"), 15);
    let capture = d.join("capture.sh");
    let out0 = d.join("captured-first.txt");
    write_capture(&capture, &out0);
    let script = capture.display().to_string();
    let mut agent = lab_agent(d)
        .set("health", "script to execute on alarm", &script)
        .start();
    let key = "lab.drive.lab_drive";
    let first = wait_status(agent.port, "", key, "WARNING");
    wait_until(
        Duration::from_secs(10),
        "the first WARNING notification",
        || (captures(&out0).len() == 1).then_some(()),
    );
    let id = first["id"].as_u64().unwrap();
    let log1 = json(agent.port, "/api/v1/alarm_log");
    let latest1 = log1[0]["unique_id"].as_u64().unwrap();
    assert_eq!(log1[0]["status"], "WARNING");
    assert_eq!(agent.stop().code(), Some(0));
    assert!(
        d.join("lib/health").read_dir().unwrap().count() > 0,
        "health log persisted under the lib directory"
    );

    // restart on the same directory: the log is back, the alarm keeps its id, ids continue,
    // and the still-WARNING alarm is not notified again (netdata's "not sending again")
    let out = d.join("captured.txt");
    write_capture(&capture, &out);
    let mut agent = lab_agent(d)
        .set("health", "script to execute on alarm", &script)
        .start();
    let again = wait_status(agent.port, "", key, "WARNING");
    assert_eq!(
        again["id"].as_u64().unwrap(),
        id,
        "alarm id reused from the log"
    );
    let log2 = json(agent.port, "/api/v1/alarm_log");
    let ids: Vec<u64> = log2
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["unique_id"].as_u64().unwrap())
        .collect();
    assert!(ids.contains(&latest1), "old entries are back: {ids:?}");
    assert!(ids[0] > latest1, "unique ids continue: {ids:?}");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        captures(&out).is_empty(),
        "WARNING after WARNING is not notified again: {:?}",
        captures(&out)
    );

    // SIGUSR2: a new file in health.d is read, the existing alarm is relinked
    std::fs::write(
        d.join("etc/health.d/more.conf"),
        "alarm: lab_double\n on: lab.drive\n calc: $v * 2\n every: 1s\n crit: $this > 100\n",
    )
    .unwrap();
    crate::support::signal(agent.pid(), "USR2");
    let doubled = wait_until(Duration::from_secs(20), "the reloaded alarm", || {
        alarm(agent.port, "", "lab.drive.lab_double").filter(|a| a["value"] == 30)
    });
    assert_eq!(doubled["status"], "CLEAR");
    assert!(alarm(agent.port, "", key).is_some());
    assert!(agent.log().contains("SIGUSR2 received"));
    assert_eq!(agent.stop().code(), Some(0));
}

const KEY: &str = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

const DELAYED_CONF: &str = "
alarm: lab_delayed
   on: lab.drive
 calc: $v
every: 1s
 warn: $this > 10
 crit: $this > 20
delay: up 2s down 3s
   to: ops
";

fn lab_delayed(port: u16, prefix: &str) -> Option<serde_json::Value> {
    alarm(port, prefix, "lab.drive.lab_delayed")
}

/// The lab_delayed notifications captured so far: (capture time, args).
fn delayed_captures(out: &Path) -> Vec<(i64, Vec<String>)> {
    captures(out)
        .into_iter()
        .filter(|(_, a)| a.get(6).is_some_and(|n| n == "lab_delayed"))
        .collect()
}

#[test]
fn a_child_and_its_parent_both_run_the_alarm_and_the_parent_sees_the_child_stop() {
    let pdir = TempDir::new("health-parent");
    let cdir = TempDir::new("health-child");
    let (p, c) = (pdir.path(), cdir.path());
    for d in [p, c] {
        std::fs::create_dir_all(d.join("etc/health.d")).unwrap();
        std::fs::write(d.join("etc/health.d/e2e.conf"), DELAYED_CONF).unwrap();
        write_capture(&d.join("capture.sh"), &d.join("captured.txt"));
    }
    let script = |d: &Path| d.join("capture.sh").display().to_string();
    let parent = Agent::builder()
        .dir(p)
        .set("global", "hostname", "hparent")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .set("health", "script to execute on alarm", &script(p))
        .set("health", "child stopped streaming after seconds", "3")
        .stream_conf(&format!(
            "[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    allow from = *\n    health enabled by default = auto\n    default postpone alarms on connect seconds = 3\n"
        ))
        .start();
    set_drive(&c.join("ctl"), 0);
    let mut child = lab_agent(c)
        .set("health", "script to execute on alarm", &script(c))
        .stream_conf(&format!(
            "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    api key = {KEY}\n    reconnect delay seconds = 1\n",
            parent.port
        ))
        .start();
    let guid = std::fs::read_to_string(c.join("lib/registry/netdata.public.unique.id"))
        .unwrap()
        .trim()
        .to_string();
    let on_parent = "/host/hlab";
    for (port, prefix) in [(child.port, ""), (parent.port, on_parent)] {
        wait_until(Duration::from_secs(30), "lab_delayed CLEAR", || {
            lab_delayed(port, prefix).filter(|a| a["status"] == "CLEAR")
        });
    }
    assert!(
        parent.log().contains(
            "[hlab]: Postponing health checks for 3 seconds, because it was just connected."
        ),
        "{}",
        parent.log()
    );

    let steps = [
        (15, "WARNING", "CLEAR", 2),
        (25, "CRITICAL", "WARNING", 2),
        (15, "WARNING", "CRITICAL", 3),
        (0, "CLEAR", "WARNING", 3),
    ];
    for (n, (v, status, _, _)) in steps.iter().enumerate() {
        set_drive(&c.join("ctl"), *v);
        for d in [c, p] {
            wait_until(
                Duration::from_secs(20),
                &format!("{status} notified"),
                || (delayed_captures(&d.join("captured.txt")).len() > n).then_some(()),
            );
        }
    }
    for (d, where_, child_guid) in [(c, "child", ""), (p, "parent", guid.as_str())] {
        let caps = delayed_captures(&d.join("captured.txt"));
        assert_eq!(caps.len(), 4, "{where_}: {caps:?}");
        let mut previous_when: Option<i64> = None;
        for ((at, a), (v, status, old, delay)) in caps.iter().zip(steps) {
            assert_eq!(a.len(), 29, "{where_}: {a:?}");
            assert_eq!((a[9].as_str(), a[10].as_str()), (status, old), "{where_}");
            assert_eq!(a[0], "ops");
            assert_eq!(a[1], "hlab", "{where_}: the alarm's host is the child");
            assert_eq!(a[7], "lab.drive");
            assert_eq!(a[8], "labfam");
            assert_eq!(a[11], v.to_string(), "{where_}: value");
            assert_eq!(a[28], child_guid, "{where_}: child machine GUID");
            let when: i64 = a[5].parse().unwrap();
            let late = at - when;
            assert!(
                (delay..=delay + 2).contains(&late),
                "{where_}: {status} notified {late} s after the event, delay is {delay} s"
            );
            if let Some(p) = previous_when {
                assert_eq!(a[14], (when - p).to_string(), "{where_}: duration");
            }
            previous_when = Some(when);
        }
    }

    // the child stops: its alarms on the parent freeze (auto), the parent raises the
    // per-child "stopped streaming" alarm
    let before = lab_delayed(parent.port, on_parent).unwrap();
    assert_eq!(child.stop().code(), Some(0));
    let stopped = wait_until(Duration::from_secs(30), "stopped_streaming_hlab", || {
        alarm(
            parent.port,
            "",
            "netdata.streaming_children.stopped_streaming_hlab",
        )
        .filter(|a| a["status"] == "CRITICAL")
    });
    assert_eq!(stopped["units"], "seconds");
    let frozen = lab_delayed(parent.port, on_parent).expect("frozen alarm still listed");
    assert_eq!(frozen["status"], "CLEAR");
    assert!(frozen["last_updated"].as_i64() <= before["last_updated"].as_i64().map(|t| t + 1));
    // The notification runs after the status changed: wait for the script to have written it.
    wait_until(
        Duration::from_secs(20),
        "the stopped_streaming_hlab CRITICAL notification",
        || {
            captures(&p.join("captured.txt"))
                .iter()
                .any(|(_, a)| {
                    a[6] == "stopped_streaming_hlab" && a[9] == "CRITICAL" && a[1] == "hparent"
                })
                .then_some(())
        },
    );
}

#[test]
fn health_can_be_disabled_for_localhost_and_for_children() {
    let pdir = TempDir::new("health-off-parent");
    let cdir = TempDir::new("health-off-child");
    let (p, c) = (pdir.path(), cdir.path());
    std::fs::create_dir_all(p.join("etc/health.d")).unwrap();
    std::fs::write(p.join("etc/health.d/e2e.conf"), DELAYED_CONF).unwrap();
    // the parent runs health for itself, but `health enabled by default = no` for the child
    let parent = Agent::builder()
        .dir(p)
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .set("health", "script to execute on alarm", "/bin/true")
        .stream_conf(&format!(
            "[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    allow from = *\n    health enabled by default = no\n"
        ))
        .start();
    set_drive(&c.join("ctl"), 30);
    // the child has `[health] enabled = no`
    let child = lab_agent(c)
        .set("health", "enabled", "no")
        .stream_conf(&format!(
            "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    api key = {KEY}\n    reconnect delay seconds = 1\n",
            parent.port
        ))
        .start();
    wait_until(
        Duration::from_secs(20),
        "the child's chart on the parent",
        || {
            http_get(parent.port, "/host/hlab/api/v1/chart?chart=lab.drive")
                .ok()
                .filter(|(s, _)| *s == 200)
        },
    );
    std::thread::sleep(Duration::from_secs(5));
    for (port, prefix) in [(child.port, ""), (parent.port, "/host/hlab")] {
        let v = json(port, &format!("{prefix}/api/v1/alarms?all"));
        assert_eq!(v["alarms"].as_object().unwrap().len(), 0, "{prefix}: {v}");
        assert_eq!(
            json(port, &format!("{prefix}/api/v1/alarm_log")),
            serde_json::json!([])
        );
    }
    assert!(child.log().contains("health is disabled for localhost"));
    // the parent's own health runs: it watches the child's streaming
    wait_until(Duration::from_secs(20), "the parent's own alarm", || {
        alarm(
            parent.port,
            "",
            "netdata.streaming_children.stopped_streaming_hlab",
        )
        .filter(|a| a["status"] == "CLEAR")
    });
}

const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/health");

/// Values that depend on when the capture ran or on netdata's float rounding of the window
/// (`$after`/`$before`, spec §5.4), on where the 10-second window of `s = time % 10` starts
/// (order-dependent methods), on the captured `$now`, and the five expressions netdata's
/// precedence evaluates differently (checked by the crate's expression table).
const NOT_COMPARED: &[&str] = &[
    "lab.multi.l_after",
    "lab.multi.l_before_minus_now",
    "lab.multi.l_window",
    "lab.multi.l_window_aligned",
    "lab.seq.l_at",
    "lab.seq.m_ses",
    "lab.seq.m_des",
    "lab.seq.m_incremental_sum",
    "lab.expr.e05",
    "lab.expr.e06",
    "lab.expr.e07",
    "lab.expr.e09",
    "lab.expr.e10",
    "lab.expr.e57",
    "lab.expr.e59",
    "lab.expr.e60",
];

#[test]
fn netdatas_lab_configuration_gives_netdatas_alarms_and_values() {
    let lab = Path::new(LAB);
    let dir = TempDir::new("health-lab");
    let d = dir.path();
    std::fs::create_dir_all(d.join("etc/health.d")).unwrap();
    std::fs::create_dir_all(d.join("plugins.d")).unwrap();
    for f in [
        "expr.conf",
        "lookup.conf",
        "methods.conf",
        "tmpl.conf",
        "sm.conf",
        "invalid.conf",
    ] {
        let text = std::fs::read_to_string(lab.join("lab/health.d").join(f)).unwrap();
        std::fs::write(
            d.join("etc/health.d").join(f),
            text.replace("CAPTURE_EXEC", "/bin/true"),
        )
        .unwrap();
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let p = d.join("plugins.d/hlab.plugin");
        std::fs::copy(lab.join("lab/hlab.plugin"), &p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let agent = Agent::builder()
        .dir(d)
        .set("global", "hostname", "hlab")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .set("health", "script to execute on alarm", "/bin/true")
        .start();
    // the methods need 10 s of lab.seq
    wait_until(
        Duration::from_secs(40),
        "the lab alarms with values",
        || {
            let v = json(agent.port, "/api/v1/alarms?all");
            let ok = v["alarms"]
                .get("lab.seq.m_sum")
                .is_some_and(|a| a["value"] == 45);
            ok.then_some(())
        },
    );
    std::thread::sleep(Duration::from_secs(2));
    let ours = json(agent.port, "/api/v1/alarms?all");
    let ours = ours["alarms"].as_object().unwrap();
    let theirs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(lab.join("lab-run/alarms-final.json")).unwrap(),
    )
    .unwrap();
    let theirs = theirs["alarms"].as_object().unwrap();
    let charts = ["lab.expr", "lab.multi", "lab.seq", "lab.fe1", "lab.fe2"];
    let keys = |m: &serde_json::Map<String, serde_json::Value>| -> BTreeSet<String> {
        m.iter()
            .filter(|(_, a)| charts.contains(&a["chart"].as_str().unwrap()))
            .map(|(k, _)| k.clone())
            .collect()
    };
    assert_eq!(
        keys(ours),
        keys(theirs),
        "the same alarms on the lab charts"
    );
    let mut differ = Vec::new();
    let mut compared = 0;
    for k in keys(theirs) {
        if NOT_COMPARED.contains(&k.as_str()) {
            continue;
        }
        let (t, o) = (&theirs[&k], &ours[&k]);
        let same = match (t["value"].as_f64(), o["value"].as_f64()) {
            (None, None) => true,
            (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * a.abs().max(1.0),
            _ => false,
        };
        let same_expr = ["calc", "warn", "crit"]
            .iter()
            .all(|e| t.get(*e).is_some() == o.get(*e).is_some());
        if !same || !same_expr || t["status"] != o["status"] {
            differ.push(format!(
                "{k}: netdata {} {} / tributary {} {}",
                t["value"], t["status"], o["value"], o["status"]
            ));
        }
        compared += 1;
    }
    assert!(
        differ.is_empty(),
        "{} of {compared} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
    assert!(compared > 100, "{compared}");
}

#[test]
fn a_child_kept_without_a_database_gets_no_health() {
    let pdir = TempDir::new("health-nodb-parent");
    let cdir = TempDir::new("health-nodb-child");
    let (p, c) = (pdir.path(), cdir.path());
    std::fs::create_dir_all(p.join("etc/health.d")).unwrap();
    std::fs::write(p.join("etc/health.d/e2e.conf"), DELAYED_CONF).unwrap();
    let parent = Agent::builder()
        .dir(p)
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .set("health", "script to execute on alarm", "/bin/true")
        .stream_conf(&format!(
            "[{KEY}]\n    enabled = yes\n    default memory mode = none\n    allow from = *\n    health enabled by default = yes\n"
        ))
        .start();
    set_drive(&c.join("ctl"), 30);
    let child = lab_agent(c)
        .set("health", "script to execute on alarm", "/bin/true")
        .stream_conf(&format!(
            "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    api key = {KEY}\n    reconnect delay seconds = 1\n",
            parent.port
        ))
        .start();
    // the child (with its own database) runs the alarm itself
    wait_until(Duration::from_secs(30), "the child's own alarm", || {
        alarm(child.port, "", "lab.drive.lab_drive").filter(|a| a["status"] == "CRITICAL")
    });
    wait_until(Duration::from_secs(20), "the parent's refusal", || {
        parent
            .log()
            .contains("[hlab]: no health for a host without a database")
            .then_some(())
    });
    let v = json(parent.port, "/host/hlab/api/v1/alarms?all");
    assert_eq!(v["alarms"].as_object().unwrap().len(), 0, "{v}");
}
