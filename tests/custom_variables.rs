//! Custom variables (`VARIABLE HOST` / `VARIABLE CHART`): a plugin sets them on a tributary
//! child; the child's own alarms read them, and the child streams them to a tributary parent
//! and to a real netdata 1.37.1 parent, where `alarm_variables` shows them with their latest
//! values and (on tributary) an alarm computes with them.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::support::agent::{Agent, AgentBuilder};
use crate::support::{Netdata, TempDir, http_get_retry, wait_until};

const KEY: &str = "7c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f";

/// Defines `vars.demo`, sets `myvar` once with the definition and then every collection
/// inside BEGIN/END to `i + 0.5`; sets the host variable `hostvar` to `i` between
/// collections. `i` counts collections from 1.
const PLUGIN: &str = r#"#!/bin/sh
echo "CHART vars.demo '' 'Custom variables' 'things' vars vars.demo line 1000 1"
echo "DIMENSION x '' absolute 1 1"
echo "VARIABLE CHART myvar = 0.5"
echo "VARIABLE HOST hostvar = 0"
echo "VARIABLE CHART not-a-number = abc"
i=0
while true; do
  i=$((i+1))
  echo "BEGIN vars.demo"
  echo "SET x = $i"
  echo "VARIABLE myvar = $i.5"
  echo "END"
  echo "VARIABLE HOST hostvar = $i"
  sleep 1
done
"#;

/// An alarm on the chart that adds both variables: `myvar + hostvar` = `2i + 0.5`.
const HEALTH: &str = "
 alarm: vars_sum
    on: vars.demo
  calc: $myvar + $hostvar
 every: 1s
  warn: $this < 0
";

fn write_plugin(dir: &Path) {
    let plugins = dir.join("plugins.d");
    std::fs::create_dir_all(&plugins).unwrap();
    let tmp = plugins.join(".vars.tmp");
    std::fs::write(&tmp, PLUGIN).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&tmp, plugins.join("vars.plugin")).unwrap();
}

fn with_alarm(b: AgentBuilder, dir: &Path) -> AgentBuilder {
    std::fs::create_dir_all(dir.join("etc/health.d")).unwrap();
    std::fs::write(dir.join("etc/health.d/vars.conf"), HEALTH).unwrap();
    b
}

fn child(dir: &Path, name: &str, parent_port: u16) -> Agent {
    write_plugin(dir);
    with_alarm(Agent::builder(), dir)
        .dir(dir)
        .set("global", "hostname", name)
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .stream_conf(&format!(
            "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{parent_port}\n    api key = {KEY}\n    reconnect delay seconds = 1\n"
        ))
        .start()
}

fn receiver_conf() -> String {
    format!(
        "[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    default history = 600\n    allow from = *\n    health enabled by default = yes\n    default postpone alarms on connect seconds = 0\n"
    )
}

fn json(port: u16, path: &str) -> Option<serde_json::Value> {
    let (status, body) = http_get_retry(port, path).ok()?;
    (status == 200).then(|| serde_json::from_str(&body).ok())?
}

/// Waits until `alarm_variables` of `vars.demo` at `prefix` shows `myvar` = `hostvar` + 0.5
/// with `hostvar` ≥ 3 (both updated after the definition), and returns `hostvar`.
fn wait_variables(port: u16, prefix: &str, who: &str) -> f64 {
    wait_until(
        Duration::from_secs(60),
        &format!("custom variables on {who}"),
        || {
            let v = json(
                port,
                &format!("{prefix}/api/v1/alarm_variables?chart=vars.demo"),
            )?;
            let my = v["chart_variables"]["myvar"].as_f64()?;
            let host = v["host_variables"]["hostvar"].as_f64()?;
            // Sent at different moments: the chart's one lags the host's by at most one.
            ((host - (my - 0.5)).abs() <= 1.0 && host >= 3.0).then_some(host)
        },
    )
}

#[test]
fn custom_variables_reach_alarms_and_both_kinds_of_parent() {
    crate::support::require_netdata();
    let dir_parent = TempDir::new("vars-parent");
    let parent = with_alarm(Agent::builder(), dir_parent.path())
        .dir(dir_parent.path())
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .stream_conf(&receiver_conf())
        .start();
    let netdata = Netdata::start("nd-vars-parent", "ram", &[], &receiver_conf());
    let dir_a = TempDir::new("vars-child-a");
    let dir_b = TempDir::new("vars-child-b");
    let a = child(dir_a.path(), "vars-child-a", parent.port);
    let b = child(dir_b.path(), "vars-child-b", netdata.port);

    // The child itself: the alarm computes with both variables, the bad one is logged.
    let h = wait_variables(a.port, "", "the child");
    let alarm = wait_until(Duration::from_secs(30), "vars_sum on the child", || {
        let v = json(a.port, "/api/v1/alarms?all")?;
        let al = v["alarms"].get("vars.demo.vars_sum")?.clone();
        (al["value"].as_f64()? >= 2.0 * h).then_some(al)
    });
    let value = alarm["value"].as_f64().unwrap();
    assert_eq!(
        value.fract(),
        0.5,
        "myvar + hostvar = 2i + 0.5 (or 2i - 0.5): {alarm}"
    );
    let log = a.log();
    assert!(
        log.lines()
            .any(|l| l.contains("not-a-number") && l.contains("is not a number")),
        "the bad VARIABLE is logged: {log}"
    );

    // A tributary parent: streamed variables, and the parent's own alarm on the child.
    wait_variables(parent.port, "/host/vars-child-a", "the tributary parent");
    wait_until(
        Duration::from_secs(30),
        "vars_sum of the child on the tributary parent",
        || {
            let v = json(parent.port, "/host/vars-child-a/api/v1/alarms?all")?;
            let al = &v["alarms"]["vars.demo.vars_sum"];
            (al["value"].as_f64()?.fract() == 0.5).then_some(())
        },
    );

    // A real netdata parent keeps the child's custom variables too.
    wait_variables(netdata.port, "/host/vars-child-b", "the netdata parent");
    drop(b);
}
