//! Unit tests on recorded /proc and /sys trees (tests/fixtures/vm1 was recorded on a 2-CPU VM
//! with netdata 1.37.1 installed): chart and dimension definitions and computed values.

use std::path::{Path, PathBuf};

use tributary_collectors::{Collector, all_collectors, collect_all_once};
use tributary_rrd::{Algorithm, ChartType, Host, HostConfig, MemoryMode};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vm1")
}

fn host() -> Host {
    Host::new(HostConfig {
        hostname: "t".into(),
        machine_guid: "g".into(),
        memory_mode: MemoryMode::Ram,
        history: 10,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    })
}

/// (dimension id, name, algorithm, multiplier, divisor, hidden, last collected value)
fn dims(h: &Host, id: &str) -> Vec<(String, String, Algorithm, i64, i64, bool, i64)> {
    let c = h
        .find_chart(id)
        .unwrap_or_else(|| panic!("chart {id} missing"));
    let st = c.lock();
    st.dims()
        .iter()
        .map(|d| {
            (
                d.def.id.clone(),
                d.def.name.clone(),
                d.def.algorithm,
                d.def.multiplier,
                d.def.divisor,
                d.def.hidden,
                d.last_collected,
            )
        })
        .collect()
}

fn collected(h: &Host, chart: &str, dim: &str) -> i64 {
    dims(h, chart)
        .into_iter()
        .find(|d| d.0 == dim)
        .unwrap_or_else(|| panic!("{chart}.{dim} missing"))
        .6
}

fn meminfo(key: &str) -> i64 {
    let text = std::fs::read_to_string(fixture().join("proc/meminfo")).unwrap();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{key}:"))
                .map(|r| r.split_whitespace().next().unwrap().parse().unwrap())
        })
        .unwrap()
}

fn run(h: &Host) -> usize {
    let mut cs = all_collectors(&fixture(), 1);
    let n = cs.len();
    let t = 1_700_000_000_000_000i64;
    collect_all_once(&mut cs, h, t);
    collect_all_once(&mut cs, h, t + 1_000_000);
    assert!(cs.len() <= n);
    cs.len()
}

#[test]
fn cpu_charts() {
    let h = host();
    run(&h);
    let c = h.find_chart("system.cpu").unwrap();
    {
        let st = c.lock();
        assert_eq!(st.def.context, "system.cpu");
        assert_eq!(st.def.family, "cpu");
        assert_eq!(st.def.units, "percentage");
        assert_eq!(st.def.chart_type, ChartType::Stacked);
        assert_eq!(st.def.priority, 100);
        assert_eq!(st.def.plugin, "proc.plugin");
        assert_eq!(st.def.module, "/proc/stat");
    }
    let d = dims(&h, "system.cpu");
    let ids: Vec<_> = d.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(
        ids,
        [
            "guest_nice",
            "guest",
            "steal",
            "softirq",
            "irq",
            "user",
            "system",
            "nice",
            "iowait",
            "idle"
        ]
    );
    assert!(
        d.iter()
            .all(|x| x.2 == Algorithm::PercentageOfIncrementalRow)
    );
    assert!(
        d.iter().find(|x| x.0 == "idle").unwrap().5,
        "idle is hidden"
    );
    // cpu  16400 118 5338 209428 652 0 63 24 0 0
    assert_eq!(collected(&h, "system.cpu", "user"), 16400);
    assert_eq!(collected(&h, "system.cpu", "idle"), 209428);
    let c1 = h.find_chart("cpu.cpu1").unwrap();
    let st = c1.lock();
    assert_eq!(
        (
            st.def.context.as_str(),
            st.def.family.as_str(),
            st.def.priority
        ),
        ("cpu.cpu", "utilization", 1002)
    );
}

#[test]
fn memory_values() {
    let h = host();
    run(&h);
    let cached = meminfo("Cached") + meminfo("SReclaimable") - meminfo("Shmem");
    let used = meminfo("MemTotal") - meminfo("MemFree") - cached - meminfo("Buffers");
    assert_eq!(collected(&h, "system.ram", "used"), used);
    assert_eq!(collected(&h, "system.ram", "cached"), cached);
    let d = dims(&h, "system.ram");
    assert!(
        d.iter()
            .all(|x| x.2 == Algorithm::Absolute && x.3 == 1 && x.4 == 1024)
    );
    let avail = dims(&h, "mem.available");
    assert_eq!(
        (avail[0].0.as_str(), avail[0].1.as_str()),
        ("MemAvailable", "avail")
    );
    assert!(
        h.find_chart("system.swap").is_none(),
        "no swap on the recorded machine: on demand"
    );
}

#[test]
fn load_and_pressure() {
    let h = host();
    run(&h);
    let text = std::fs::read_to_string(fixture().join("proc/loadavg")).unwrap();
    let load1: f64 = text.split_whitespace().next().unwrap().parse().unwrap();
    assert_eq!(
        collected(&h, "system.load", "load1"),
        (load1 * 1000.0).round() as i64
    );
    assert_eq!(dims(&h, "system.load")[0].4, 1000);
    let p = dims(&h, "system.cpu_some_pressure");
    assert_eq!(
        p.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
        ["some 10", "some 60", "some 300"]
    );
    let c = h.find_chart("system.cpu_some_pressure").unwrap();
    assert_eq!(c.lock().def.priority, 140);
    assert_eq!(c.lock().def.update_every, 2);
}

#[test]
fn network_charts() {
    let h = host();
    run(&h);
    // lo is disabled by default, eth0 is physical
    assert!(h.find_chart("net.lo").is_none());
    let d = dims(&h, "net.eth0");
    assert_eq!(
        (d[0].0.as_str(), d[0].3, d[0].4, d[0].2),
        ("received", 8, 1000, Algorithm::Incremental)
    );
    assert_eq!((d[1].0.as_str(), d[1].3), ("sent", -8));
    let sys = dims(&h, "system.net");
    assert_eq!(
        (sys[0].0.as_str(), sys[0].1.as_str()),
        ("InOctets", "received")
    );
    let c = h.find_chart("net_operstate.eth0").unwrap();
    assert_eq!(c.lock().def.context, "net.operstate");
    assert_eq!(collected(&h, "net_operstate.eth0", "up"), 1);
    // netstat/snmp tables
    let tcp = dims(&h, "ipv4.tcphandshake");
    assert_eq!(tcp[3].0, "TCPSynRetrans");
    assert_eq!(tcp[3].1, "SynRetrans");
    assert!(h.find_chart("system.ip").is_some());
    // TCP: inuse 4 orphan 0 tw 32 alloc 4 mem 0
    assert_eq!(collected(&h, "ipv4.sockstat_tcp_sockets", "timewait"), 32);
    assert!(
        h.find_chart("ipv4.sockstat_tcp_mem").is_none(),
        "mem is 0: on demand"
    );
}

#[test]
fn disk_charts() {
    let h = host();
    run(&h);
    let c = h.find_chart("disk.vda").expect("vda is a physical disk");
    {
        let st = c.lock();
        assert_eq!(st.def.family, "/", "family is the mount point");
        assert_eq!(st.def.context, "disk.io");
    }
    assert!(
        h.find_chart("disk.loop0").is_none(),
        "loop devices are excluded"
    );
    assert!(
        h.find_chart("disk_await.vda").is_some(),
        "differential charts after the second run"
    );
    assert!(h.find_chart("system.io").is_some());
    assert!(h.find_chart("disk_space._").is_some());
}

#[test]
fn missing_files_disable_collectors_without_panic() {
    let h = host();
    let empty = std::env::temp_dir().join(format!("tributary-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let mut cs = all_collectors(&empty, 1);
    let ok = collect_all_once(&mut cs, &h, 1_700_000_000_000_000);
    assert_eq!(ok, 0);
    assert!(
        cs.is_empty(),
        "every collector failed and was disabled: {:?}",
        cs.iter().map(|c| c.name()).collect::<Vec<_>>()
    );
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn malformed_stat_is_an_error() {
    let dir = std::env::temp_dir().join(format!("tributary-bad-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("proc")).unwrap();
    std::fs::write(dir.join("proc/stat"), "garbage\n").unwrap();
    let mut c = tributary_collectors::proc_stat::ProcStat::new(&dir, 1);
    let e = c.collect(&host(), 1).unwrap_err();
    assert!(e.to_string().contains("proc/stat"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
