//! The local collectors as a user runs them: `-s PREFIX`, `[plugins]` switches, bad /proc files.

use std::path::Path;
use std::time::Duration;

use crate::support::agent::Agent;
use crate::support::{TempDir, http_get, wait_until};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dst = to.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            copy_tree(&e.path(), &dst);
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &dst).unwrap();
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

fn charts(port: u16) -> serde_json::Value {
    let (_, body) = http_get(port, "/api/v1/charts").unwrap();
    serde_json::from_str(&body).unwrap()
}

#[test]
fn a_malformed_proc_file_disables_only_its_collector() {
    let tree = TempDir::new("proc-tree");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/collectors/tests/fixtures/vm1"),
        tree.path(),
    );
    std::fs::write(
        tree.path().join("proc/stat"),
        "garbage without any cpu line\n",
    )
    .unwrap();
    std::fs::remove_file(tree.path().join("proc/loadavg")).unwrap();
    let a = Agent::builder()
        .arg("-s")
        .arg(tree.path().to_str().unwrap())
        .start();
    let c = wait_until(Duration::from_secs(10), "system.ram", || {
        let c = charts(a.port);
        c["charts"].get("system.ram").is_some().then_some(c)
    });
    assert!(c["charts"].get("system.cpu").is_none());
    let log = a.log();
    let stat = tree.path().join("proc/stat").display().to_string();
    assert_eq!(
        log.lines().filter(|l| l.contains(&stat)).count(),
        1,
        "one line naming the file:\n{log}"
    );
    assert!(log.contains("/proc/loadavg"), "{log}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        http_get(a.port, "/api/v1/info").unwrap().0,
        200,
        "the agent keeps running"
    );
}

#[test]
fn plugins_switches_disable_collectors() {
    let a = Agent::builder()
        .set("plugins", "diskspace", "no")
        .set("plugin:proc", "/proc/meminfo", "no")
        .set("plugins", "idlejitter", "no")
        .start();
    let c = wait_until(Duration::from_secs(10), "system.cpu", || {
        let c = charts(a.port);
        c["charts"].get("system.cpu").is_some().then_some(c)
    });
    std::thread::sleep(Duration::from_secs(2));
    let c2 = charts(a.port);
    for c in [&c, &c2] {
        let ids: Vec<&String> = c["charts"].as_object().unwrap().keys().collect();
        assert!(!ids.iter().any(|i| i.starts_with("disk_space.")), "{ids:?}");
        assert!(
            !ids.iter()
                .any(|i| *i == "system.ram" || *i == "system.idlejitter"),
            "{ids:?}"
        );
    }
}

#[test]
fn update_every_flag_sets_the_collection_interval() {
    let a = Agent::builder()
        .arg("-t")
        .arg("2")
        .set("plugins", "diskspace", "no")
        .start();
    let c = wait_until(Duration::from_secs(10), "system.cpu", || {
        let c = charts(a.port);
        c["charts"].get("system.cpu").is_some().then_some(c)
    });
    assert_eq!(c["charts"]["system.cpu"]["update_every"], 2);
}
