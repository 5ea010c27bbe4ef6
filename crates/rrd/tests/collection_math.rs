//! Golden test: replays sequences that were streamed into a real netdata 1.37.1 parent
//! (tests/fixtures/collection-math/*/sent.txt, with the time each line was sent) through
//! tributary's database, and compares every stored slot with what netdata's /api/v1/data
//! printed for it (results.json), as the exact string netdata printed.
//!
//! Seven slots depend on the parent's own receive clock (the second collection of a chart, and
//! a `BEGIN 0`); compare.txt marks them `approx`, and they are compared to 2e-3 relative.

mod common;

use common::{compare, fixtures, host, replay};
use tributary_protocol::{Command, parse_line};
use tributary_rrd::{ChartDef, DimDef, MemoryMode};

#[test]
fn ram_mode_stores_what_netdata_stores() {
    let h = host(MemoryMode::Ram, None);
    replay(
        &std::fs::read_to_string(fixtures().join("main-ram/sent.txt")).unwrap(),
        &h,
    );
    assert_eq!(h.entries(), 4096);
    let n = compare(&fixtures().join("main-ram"), &h, true);
    assert_eq!(n, 1610, "netdata's fixture has 1610 values");
}

#[test]
fn save_mode_stores_what_netdata_stores_and_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("trib-cm-save-{}", std::process::id()));
    let _ignored = std::fs::remove_dir_all(&dir);
    let h = host(MemoryMode::Save, Some(dir.clone()));
    replay(
        &std::fs::read_to_string(fixtures().join("short-save/sent.txt")).unwrap(),
        &h,
    );
    assert_eq!(h.entries(), 3996);
    let n = compare(&fixtures().join("short-save"), &h, false);
    assert_eq!(n, 630);
    assert_eq!(h.save(), 15);
    drop(h);

    // A new agent on the same cache directory sees every stored value again, as long as the
    // data is younger than its ring.
    let h2 = host(MemoryMode::Save, Some(dir.clone()));
    let sent = std::fs::read_to_string(fixtures().join("short-save/sent.txt")).unwrap();
    let last_t = sent
        .lines()
        .filter_map(|l| l.split_once(" | "))
        .next_back()
        .unwrap()
        .0;
    let now_s = last_t.parse::<f64>().unwrap() as i64 + 5;
    for line in sent.lines().filter(|l| l.contains("| CHART")) {
        if let Ok(Command::Chart(c)) = parse_line(line.split_once(" | ").unwrap().1) {
            let (id, update_every, options) = (c.id, c.update_every, c.options);
            let def = ChartDef {
                id: id.into(),
                update_every: update_every.unwrap_or(1),
                store_first: options.contains("store_first"),
                ..ChartDef::default()
            };
            h2.chart(def, now_s);
        }
    }
    for line in sent
        .lines()
        .filter(|l| l.contains("| DIMENSION") || l.contains("| CHART"))
    {
        let cmd = parse_line(line.split_once(" | ").unwrap().1).unwrap();
        thread_local!(static CUR: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) });
        match cmd {
            Command::Chart(line) => CUR.with(|c| *c.borrow_mut() = line.id.to_string()),
            Command::Dimension { id, .. } => {
                let chart = CUR.with(|c| h2.find_chart(&c.borrow()).unwrap());
                chart.lock().dimension(DimDef::new(id)).unwrap();
            }
            _ => {}
        }
    }
    let n = compare(&fixtures().join("short-save"), &h2, false);
    assert_eq!(n, 630);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tributarys_own_sequence_matches_the_capture_from_a_real_netdata() {
    // Made by netdata_live.rs with TRIBUTARY_CAPTURE_DIR: update every 2, irregular durations,
    // skipped collections, a 64-bit counter drop, zero and negative percentage rows.
    let dir = fixtures().join("tributary-ue2");
    let h = host(MemoryMode::Ram, None);
    replay(&std::fs::read_to_string(dir.join("sent.txt")).unwrap(), &h);
    let n = compare(&dir, &h, true);
    assert!(n > 300, "only {n} values compared");
}
