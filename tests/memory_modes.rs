//! Databases across restarts. The agent collects from the recorded /proc tree of the
//! collectors' fixtures (`-s`), so `system.ram` holds the same non-zero values every second.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::agent::Agent;
use crate::support::{TempDir, http_get, signal, wait_until};

fn proc_fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/collectors/tests/fixtures/vm1")
        .display()
        .to_string()
}

fn agent(dir: &Path, mode: &str) -> Agent {
    Agent::builder()
        .dir(dir)
        .arg("-s")
        .arg(&proc_fixture())
        .set("db", "mode", mode)
        .start()
}

/// (first_entry, last_entry) of a chart, once it exists.
fn entries(port: u16, chart: &str) -> (i64, i64) {
    let body = wait_until(Duration::from_secs(10), "the chart", || {
        let (status, body) = http_get(port, &format!("/api/v1/chart?chart={chart}")).unwrap();
        (status == 200).then_some(body)
    });
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    (
        v["first_entry"].as_i64().unwrap(),
        v["last_entry"].as_i64().unwrap(),
    )
}

/// Rows `time -> values` of a chart between two absolute times, as CSV printed them (None
/// while the API has nothing for that window: netdata answers 404 then).
fn try_rows(port: u16, chart: &str, after: i64, before: i64) -> Option<Vec<(i64, String)>> {
    entries(port, chart);
    let (status, body) = http_get(
        port,
        &format!(
            "/api/v1/data?chart={chart}&after={after}&before={before}&format=csv&options=flip%7Cseconds"
        ),
    )
    .unwrap();
    (status == 200).then(|| {
        body.lines()
            .skip(1)
            .filter_map(|l| l.split_once(','))
            .map(|(t, v)| (t.parse().unwrap(), v.to_string()))
            .collect()
    })
}

/// The non-empty values of rows (netdata's query engine labels the rows of a window that ends
/// at the newest slot one second earlier than the same window later on, so compare values).
fn filled(rows: &[(i64, String)]) -> Vec<String> {
    rows.iter()
        .filter(|(_, v)| !v.contains("null"))
        .map(|(_, v)| v.clone())
        .collect()
}

/// [`try_rows`] for a window that must have data.
fn rows(port: u16, chart: &str, after: i64, before: i64) -> Vec<(i64, String)> {
    try_rows(port, chart, after, before)
        .unwrap_or_else(|| panic!("no data for {chart} between {after} and {before}"))
}

/// Waits until a chart has `n` stored non-empty slots; returns its last_entry.
fn wait_for_values(a: &Agent, chart: &str, n: usize) -> i64 {
    wait_until(Duration::from_secs(30), "stored values", || {
        let (_, last) = entries(a.port, chart);
        if last == 0 {
            return None;
        }
        let stored = try_rows(a.port, chart, last - 60, last)?;
        (stored.iter().filter(|(_, v)| !v.contains("null")).count() >= n).then_some(last)
    })
}

fn db_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for guid in std::fs::read_dir(dir.join("cache"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for f in std::fs::read_dir(guid.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push(f.path());
        }
    }
    out
}

#[test]
fn save_mode_keeps_the_history_across_a_clean_restart() {
    let dir = TempDir::new("save");
    let mut a = agent(dir.path(), "save");
    let last = wait_for_values(&a, "system.ram", 3);
    let before = rows(a.port, "system.ram", last - 3, last);
    assert!(
        db_files(dir.path()).is_empty(),
        "save mode writes only at exit or on SIGUSR1"
    );
    assert!(a.stop().success());
    assert!(
        db_files(dir.path())
            .iter()
            .any(|f| f.to_string_lossy().contains("system.ram"))
    );

    let b = agent(dir.path(), "save");
    let after = rows(b.port, "system.ram", last - 3, last);
    assert!(filled(&before).len() >= 3, "{before:?}");
    assert!(
        filled(&after).len() >= filled(&before).len(),
        "the values stored before the restart are served again: {before:?} / {after:?}"
    );
    assert!(
        filled(&after).iter().all(|v| *v == filled(&before)[0]),
        "{before:?} / {after:?}"
    );
    let (first, _) = entries(b.port, "system.ram");
    assert!(
        first <= last - 3,
        "first_entry {first} reaches back before the restart ({last})"
    );
}

#[test]
fn sigusr1_saves_the_database_without_stopping() {
    let dir = TempDir::new("usr1");
    let a = agent(dir.path(), "save");
    wait_for_values(&a, "system.ram", 2);
    signal(a.pid(), "USR1");
    wait_until(Duration::from_secs(10), "the save", || {
        a.log().contains("SIGUSR1 received, saved").then_some(())
    });
    assert!(
        db_files(dir.path())
            .iter()
            .any(|f| f.to_string_lossy().contains("system.ram"))
    );
    let (status, _) = http_get(a.port, "/api/v1/info").unwrap();
    assert_eq!(status, 200, "still serving after the save");
}

#[test]
fn map_mode_loses_at_most_the_last_collection_after_kill_9() {
    let dir = TempDir::new("map");
    let a = agent(dir.path(), "map");
    let last = wait_for_values(&a, "system.ram", 3);
    let before = rows(a.port, "system.ram", last - 3, last);
    a.kill9();

    let b = agent(dir.path(), "map");
    let after = rows(b.port, "system.ram", last - 3, last);
    assert!(filled(&before).len() >= 3, "{before:?}");
    assert!(
        filled(&after).len() >= filled(&before).len(),
        "every slot written before kill -9 survives: {before:?} / {after:?}"
    );
    assert!(
        filled(&after).iter().all(|v| *v == filled(&before)[0]),
        "{before:?} / {after:?}"
    );
}

#[test]
fn a_corrupt_database_file_is_set_aside_and_the_agent_runs_on() {
    let dir = TempDir::new("corrupt");
    let mut a = agent(dir.path(), "save");
    wait_for_values(&a, "system.ram", 2);
    assert!(a.stop().success());
    let file = db_files(dir.path())
        .into_iter()
        .find(|f| f.to_string_lossy().contains("system.ram-"))
        .unwrap();
    let len = std::fs::metadata(&file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len / 2)
        .unwrap();

    let b = agent(dir.path(), "save");
    let log = wait_until(Duration::from_secs(10), "the corruption report", || {
        let log = b.log();
        log.contains("corrupt chart database file").then_some(log)
    });
    assert!(
        log.contains(&file.display().to_string()),
        "the log names the file:\n{log}"
    );
    let mut aside = file.clone().into_os_string();
    aside.push(".corrupt");
    assert!(
        PathBuf::from(aside).exists(),
        "the damaged file is kept for inspection"
    );
    wait_for_values(&b, "system.ram", 2);
    // Other charts were restored normally.
    let (first, last) = entries(b.port, "system.cpu");
    assert!(
        last - first > 2,
        "system.cpu kept its history ({first}..{last})"
    );
}

#[test]
fn none_mode_has_charts_but_stores_nothing() {
    let dir = TempDir::new("none");
    let a = agent(dir.path(), "none");
    let (_, charts) = wait_until(Duration::from_secs(10), "charts", || {
        let r = http_get(a.port, "/api/v1/charts").unwrap();
        r.1.contains("\"system.ram\"").then_some(r)
    });
    assert!(charts.contains("\"memory_mode\": \"none\""), "{charts}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(entries(a.port, "system.ram"), (0, 0));
    assert!(db_files(dir.path()).is_empty());
}
