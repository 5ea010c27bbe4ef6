//! The engine on a simulated clock: a chart whose value crosses warn and crit and comes
//! back; statuses, transition times, delays and the notifications' arguments are checked
//! second by second.

use std::path::Path;
use std::sync::Arc;

use tributary_health::config_file;
use tributary_health::host_health::{HealthSettings, HostHealth};
use tributary_health::loader::HealthConfig;
use tributary_health::status::Status;
use tributary_rrd::{Chart, ChartDef, DimDef, Host, HostConfig, MemoryMode};

const T0: i64 = 1_800_000_000;

const CONF: &str = "
alarm: drive
   on: lab.drive
class: Latency
 calc: $v
every: 1s
 warn: $this > 10
 crit: $this > 20
delay: up 2s down 3s
units: widgets
 info: drive on $family
   to: rcpt

alarm: drive_avg
   on: lab.drive
lookup: average -5s unaligned of v
 warn: $this > 10
   to: silent

template: fam_ref
      on: lab.ctx
    calc: $drive + $lab.drive.v
   every: 1s
";

fn setup() -> (Arc<Host>, Arc<Chart>, HostHealth, HealthSettings) {
    let host = Arc::new(Host::new(HostConfig {
        hostname: "hlab".into(),
        machine_guid: "11111111-2222-3333-4444-555555555555".into(),
        memory_mode: MemoryMode::Ram,
        history: 3600,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    }));
    let chart = host.chart(
        ChartDef {
            id: "lab.drive".into(),
            name: "lab.drive".into(),
            family: "labfam".into(),
            context: "lab.ctx".into(),
            units: "things".into(),
            update_every: 1,
            ..Default::default()
        },
        T0,
    );
    chart.lock().dimension(DimDef::new("v")).expect("dimension");
    let parsed = config_file::parse(CONF, Path::new("/etc/netdata/health.d/lab.conf"));
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let config = HealthConfig {
        defs: parsed.entities.into_iter().map(Arc::new).collect(),
        ..Default::default()
    };
    let settings = HealthSettings {
        default_exec: "/bin/true".into(),
        ..Default::default()
    };
    let hh = HostHealth::new(Arc::clone(&host), &config, &settings, false, T0);
    (host, chart, hh, settings)
}

fn collect(chart: &Chart, t: i64, v: i64) {
    let mut st = chart.lock();
    st.begin(t * 1_000_000, 1_000_000);
    st.set(0, v, t * 1_000_000);
    st.done(t * 1_000_000);
}

#[test]
fn crossing_warn_and_crit_and_back() {
    let (_host, chart, mut hh, settings) = setup();
    // value per second: 0 ×6, 15 ×6, 25 ×6, 15 ×6, 0 ×8
    let timeline: Vec<i64> = [(0, 6), (15, 6), (25, 6), (15, 6), (0, 8)]
        .iter()
        .flat_map(|&(v, n)| std::iter::repeat_n(v, n))
        .collect();
    let mut statuses = Vec::new();
    let mut sent = Vec::new();
    for (k, &v) in timeline.iter().enumerate() {
        let t = T0 + k as i64;
        collect(&chart, t, v);
        let (notifications, _wake) = hh.run_once(&settings, t);
        let a = hh
            .alarms
            .iter()
            .find(|a| a.name == "drive")
            .expect("linked");
        statuses.push(a.status);
        for n in notifications {
            sent.push((t, n));
        }
    }
    use Status::*;
    // t0: one collection only (not runnable); t1 first evaluation.
    assert_eq!(statuses[0], Uninitialized);
    assert_eq!(&statuses[1..6], &[Clear; 5]);
    assert_eq!(&statuses[6..12], &[Warning; 6]);
    assert_eq!(&statuses[12..18], &[Critical; 6]);
    assert_eq!(&statuses[18..24], &[Warning; 6]);
    assert_eq!(&statuses[24..], &[Clear; 8]);

    let drive: Vec<_> = sent.iter().filter(|(_, n)| n.args[6] == "drive").collect();
    let got: Vec<(i64, &str, &str)> = drive
        .iter()
        .map(|(t, n)| (t - T0, n.args[9].as_str(), n.args[10].as_str()))
        .collect();
    // delays: up 2 s (WARNING at 6 → sent at 8, CRITICAL at 12 → 14), down 3 s.
    assert_eq!(
        got,
        [
            (8, "WARNING", "CLEAR"),
            (14, "CRITICAL", "WARNING"),
            (21, "WARNING", "CRITICAL"),
            (27, "CLEAR", "WARNING")
        ]
    );
    let (_, warn) = drive[0];
    let a = &warn.args;
    assert_eq!(a.len(), 29);
    assert_eq!(a[0], "rcpt");
    assert_eq!(a[1], "hlab");
    assert_eq!(a[5], (T0 + 6).to_string(), "when = the transition time");
    assert_eq!(a[7], "lab.drive");
    assert_eq!(a[8], "labfam");
    assert_eq!((a[11].as_str(), a[12].as_str()), ("15", "0"));
    assert_eq!(a[13], "2@/etc/netdata/health.d/lab.conf");
    assert_eq!(a[14], "5", "duration in the previous status");
    assert_eq!(a[16], "widgets");
    assert_eq!(a[17], "drive on labfam");
    assert_eq!(
        (a[18].as_str(), a[19].as_str()),
        ("15 widgets", "0 widgets")
    );
    assert_eq!(a[26], "Latency");
    assert_eq!(
        a[27],
        "sudo /etc/netdata/edit-config health.d/lab.conf=2=hlab"
    );
    assert_eq!(a[28], "", "localhost has no child GUID");
    let (_, crit) = drive[1];
    assert_eq!(crit.args[20], "$this > 20");
    assert_eq!(crit.args[21], "[ $this = 25 ] ");
    let (_, clear) = drive[3];
    assert_eq!(
        clear.args[15], "18",
        "non-clear duration: 6 s WARNING, 6 s CRITICAL, 6 s WARNING"
    );

    // the lookup alarm averaged the last 5 s: warns from the 3rd second at 15 on
    let avg = hh.alarms.iter().find(|a| a.name == "drive_avg").unwrap();
    assert_eq!(avg.value, 0.0);
    assert_eq!(avg.status, Clear);
    // the silent recipient is still notified through the script (alarm-notify.sh skips it)
    assert!(
        sent.iter()
            .any(|(_, n)| n.args[6] == "drive_avg" && n.args[0] == "silent")
    );
    // template alarm reading a chart alarm and a host-scope dimension
    let t = hh.alarms.iter().find(|a| a.name == "fam_ref").unwrap();
    assert_eq!(t.value, 0.0);
}

#[test]
fn log_has_netdata_ids_and_links() {
    let (_host, chart, mut hh, settings) = setup();
    for k in 0..4 {
        collect(&chart, T0 + k, if k >= 2 { 30 } else { 0 });
        let _n = hh.run_once(&settings, T0 + k);
    }
    let entries: Vec<_> = hh
        .log
        .entries
        .iter()
        .filter(|e| e.name == "drive")
        .map(|e| (e.alarm_event_id, e.old_status, e.new_status))
        .collect();
    use Status::*;
    assert_eq!(
        entries,
        [
            (3, Clear, Critical),
            (2, Uninitialized, Clear),
            (1, Uninitialized, Uninitialized)
        ]
    );
    let newest = &hh.log.entries[0];
    assert_eq!(newest.unique_id + 1, hh.log.next_unique_id);
}

/// An engine over one chart `lab.drive` with `conf` as its only health.d file.
fn engine_with(conf: &str) -> (Arc<Chart>, HostHealth, HealthSettings) {
    let (host, chart, _, settings) = setup();
    let parsed = config_file::parse(conf, Path::new("/etc/netdata/health.d/x.conf"));
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let config = HealthConfig {
        defs: parsed.entities.into_iter().map(Arc::new).collect(),
        ..Default::default()
    };
    let hh = HostHealth::new(host, &config, &settings, false, T0);
    (chart, hh, settings)
}

/// Runs `values` (one per second from T0) and returns (second, status, old status) of every
/// notification of alarm `name`.
fn drive(
    chart: &Chart,
    hh: &mut HostHealth,
    settings: &HealthSettings,
    values: &[i64],
    name: &str,
) -> Vec<(i64, String, String)> {
    let mut out = Vec::new();
    for (k, &v) in values.iter().enumerate() {
        let t = T0 + k as i64;
        collect(chart, t, v);
        let (notifications, _) = hh.run_once(settings, t);
        for n in notifications.into_iter().filter(|n| n.args[6] == name) {
            out.push((k as i64, n.args[9].clone(), n.args[10].clone()));
        }
    }
    out
}

#[test]
fn repeating_alarms_notify_on_their_timer_and_clear_once() {
    let (chart, mut hh, settings) = engine_with(
        "alarm: rep\n on: lab.drive\n calc: $v\n every: 1s\n warn: $this > 10\n crit: $this > 20\n repeat: warning 3s critical 2s\n",
    );
    // 0 ×2, 15 ×7, 25 ×5, 0 ×4
    let values: Vec<i64> = [(0, 2), (15, 7), (25, 5), (0, 4)]
        .iter()
        .flat_map(|&(v, n)| std::iter::repeat_n(v, n))
        .collect();
    let got = drive(&chart, &mut hh, &settings, &values, "rep");
    let s = |k: i64, a: &str, b: &str| (k, a.to_string(), b.to_string());
    assert_eq!(
        got,
        [
            s(2, "WARNING", "CLEAR"),
            s(5, "WARNING", "CLEAR"),
            s(8, "WARNING", "CLEAR"),
            s(10, "CRITICAL", "WARNING"),
            s(12, "CRITICAL", "WARNING"),
            s(14, "CLEAR", "CRITICAL"),
        ],
        "timer is last_repeat, not reset by the status change; one CLEAR"
    );
}

#[test]
fn no_clear_notification_and_superseded_delays() {
    let (chart, mut hh, settings) = engine_with(
        "alarm: nc\n on: lab.drive\n calc: $v\n every: 1s\n warn: $this > 10\n options: no-clear-notification\n\n\
         alarm: flap\n on: lab.drive\n calc: $v\n every: 1s\n warn: $this > 10\n delay: up 3s down 3s\n",
    );
    // nc: WARNING notified, CLEAR not. flap: 15 for 1 s only (superseded inside its delay).
    let values = [0, 0, 15, 0, 0, 0, 0, 0, 0, 0];
    let nc = drive(&chart, &mut hh, &settings, &values, "nc");
    assert_eq!(nc, [(2, "WARNING".to_string(), "CLEAR".to_string())]);
    let flap: Vec<_> = hh
        .log
        .entries
        .iter()
        .filter(|e| e.name == "flap" && e.has(tributary_health::log::FLAG_EXEC_RUN))
        .collect();
    assert!(
        flap.is_empty(),
        "a change undone inside its delay is never notified"
    );
}

#[test]
fn alarms_of_obsolete_charts_are_removed_after_60_seconds() {
    let (chart, mut hh, settings) =
        engine_with("alarm: ob\n on: lab.drive\n calc: $v\n every: 1s\n warn: $this > 10\n");
    let got = drive(&chart, &mut hh, &settings, &[15, 15, 15], "ob");
    assert_eq!(got.len(), 1, "{got:?}");
    chart.lock().def.obsolete = true;
    let last = T0 + 2;
    for t in [last + 30, last + 60] {
        let _n = hh.run_once(&settings, t);
        assert_eq!(hh.alarms[0].status, Status::Warning, "still at {t}");
    }
    let (notifications, _) = hh.run_once(&settings, last + 61);
    assert!(notifications.is_empty(), "REMOVED is never notified");
    let a = &hh.alarms[0];
    assert_eq!(a.status, Status::Removed);
    assert!(a.value.is_nan());
    let e = &hh.log.entries[0];
    assert_eq!(
        (e.old_status, e.new_status),
        (Status::Warning, Status::Removed)
    );
    assert_eq!(e.old_value, 15.0);
}
