//! Replays captured netdata streams into tributary's database and compares the stored values
//! with what netdata printed. Shared by the fixture test and the live test.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tributary_protocol::{Command, parse_line};
use tributary_rrd::number_format::netdata_f64;
use tributary_rrd::{Algorithm, ChartDef, ChartType, DimDef, Host, HostConfig, MemoryMode};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/collection-math")
}

pub fn host(mode: MemoryMode, cache_dir: Option<PathBuf>) -> Host {
    Host::new(HostConfig {
        hostname: "cm-child".into(),
        machine_guid: "00000000-0000-0000-0000-00000000c0de".into(),
        memory_mode: mode,
        history: 3600,
        cache_dir,
        os: "linux".into(),
        timezone: "UTC".into(),
    })
}

/// Feeds `sent.txt` into `host`, as the stream receiver would with trusted durations.
pub fn replay(sent: &str, host: &Host) {
    let mut current: Option<Arc<tributary_rrd::Chart>> = None;
    for raw in sent.lines() {
        if raw.starts_with('#') || raw.trim().is_empty() {
            continue;
        }
        let (ts, line) = raw.split_once(" | ").expect("timestamped line");
        let now_us = (ts.parse::<f64>().unwrap() * 1e6).round() as i64;
        match parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}")) {
            Command::Chart(line) => {
                let tributary_protocol::ChartLine {
                    id,
                    name,
                    title,
                    units,
                    family,
                    context,
                    chart_type,
                    priority,
                    update_every,
                    options,
                    plugin,
                    module,
                } = *line;
                let def = ChartDef {
                    id: id.into(),
                    name: if name.is_empty() {
                        id.into()
                    } else {
                        name.into()
                    },
                    title: title.into(),
                    units: units.into(),
                    family: family.into(),
                    context: context.into(),
                    chart_type: ChartType::parse(chart_type),
                    priority: priority.unwrap_or(1000),
                    update_every: update_every.unwrap_or(1),
                    plugin: plugin.into(),
                    module: module.into(),
                    store_first: options.contains("store_first"),
                    ..ChartDef::default()
                };
                current = Some(host.chart(def, now_us / 1_000_000));
            }
            Command::Dimension {
                id,
                name,
                algorithm,
                multiplier,
                divisor,
                options,
            } => {
                let mut d = DimDef::new(id).named(name).algo(
                    Algorithm::parse(algorithm),
                    multiplier,
                    divisor,
                );
                d.noreset = options.contains("noreset") || options.contains("nooverflow");
                current.as_ref().unwrap().lock().dimension(d).unwrap();
            }
            Command::Begin { id, microseconds } => {
                let c = host.find_chart(id).expect("BEGIN of a defined chart");
                c.lock().begin(now_us, microseconds);
                current = Some(c);
            }
            Command::Set { id, value } => {
                let c = current.as_ref().unwrap();
                let mut st = c.lock();
                let i = st.dim_index(id).expect("SET of a defined dimension");
                if let Some(v) = value {
                    st.set(i, v, now_us);
                }
            }
            Command::End => {
                current.as_ref().unwrap().lock().done(now_us);
            }
            other => panic!("unexpected command in fixture: {other:?}"),
        }
    }
}

/// netdata's answer for one chart: dimension labels and, per slot time, the printed values.
pub fn netdata_rows(raw: &str) -> (Vec<String>, HashMap<i64, Vec<String>>) {
    let v: serde_json::Value = serde_json::from_str(raw).unwrap();
    let labels: Vec<String> = v["result"]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    // Take the numbers as netdata printed them, not as re-printed floats.
    let data = &raw[raw.find("\"data\":").unwrap()..];
    let mut rows = HashMap::new();
    for row in data.split('[').skip(2) {
        let body = row.split(']').next().unwrap();
        let mut cells = body.split(',').map(|c| c.trim().to_string());
        let t: i64 = cells.next().unwrap().parse().unwrap();
        rows.insert(t, cells.collect());
    }
    (labels, rows)
}

pub fn approx_slots(compare: &str) -> HashSet<(String, i64, String)> {
    let mut out = HashSet::new();
    let mut chart = String::new();
    for line in compare.lines() {
        if let Some(rest) = line.strip_prefix("== ") {
            chart = rest.split_whitespace().next().unwrap().to_string();
        } else if line.contains(" approx") {
            let mut w = line.split_whitespace();
            let t = w.next().unwrap().parse().unwrap();
            out.insert((chart.clone(), t, w.next().unwrap().to_string()));
        }
    }
    out
}

/// Compares every slot of the capture in `base` (results.json, and compare.txt's `approx`
/// marks when present); returns the number of values compared.
pub fn compare(base: &Path, host: &Host, expect_first_last: bool) -> usize {
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(base.join("results.json")).unwrap()).unwrap();
    let approx =
        approx_slots(&std::fs::read_to_string(base.join("compare.txt")).unwrap_or_default());
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for (chart_id, q) in results["data"].as_object().unwrap() {
        let chart = host
            .find_chart(chart_id)
            .unwrap_or_else(|| panic!("chart {chart_id} missing"));
        let st = chart.lock();
        let (labels, rows) = netdata_rows(q["raw"].as_str().unwrap());
        if expect_first_last {
            let nd = &results["chart"][chart_id];
            assert_eq!(
                st.first_entry_t(),
                nd["first_entry"].as_i64().unwrap(),
                "{chart_id} first_entry"
            );
            assert_eq!(
                st.last_entry_t(),
                nd["last_entry"].as_i64().unwrap(),
                "{chart_id} last_entry"
            );
        }
        for (t, cells) in &rows {
            // With update every > 1, netdata answers per-second rows; those between two slots
            // are its query engine's interpolation, not stored values.
            if (st.last_entry_t() - t) % st.update_every() != 0 {
                continue;
            }
            for (label, want) in labels.iter().zip(cells) {
                let dim = st.dim_index(label).unwrap();
                let got = match st.value_at(dim, *t) {
                    None => "null".to_string(),
                    Some(v) => netdata_f64(v),
                };
                compared += 1;
                if &got == want {
                    continue;
                }
                if approx.contains(&(chart_id.clone(), *t, label.clone())) {
                    let (g, w): (f64, f64) = (got.parse().unwrap(), want.parse().unwrap());
                    if (g - w).abs() <= 2e-3 * g.abs().max(w.abs()) {
                        continue;
                    }
                }
                mismatches.push(format!(
                    "{chart_id} {label} @{t}: netdata {want}, tributary {got}"
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {compared} values differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    compared
}
