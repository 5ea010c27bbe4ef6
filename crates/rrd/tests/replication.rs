//! Replication into the database: a parent that replays a child's stored points, then takes
//! the child's collection state, continues live with exactly the child's values — no gap, no
//! duplicate — and refuses points that would overwrite or misplace stored data.

use tributary_rrd::{
    Algorithm, ChartDef, DimDef, Host, HostConfig, MemoryMode, ReplayRefusal, storage_number,
};

fn host(name: &str, mode: MemoryMode) -> Host {
    Host::new(HostConfig {
        hostname: name.into(),
        machine_guid: format!("00000000-0000-0000-0000-{:012}", name.len()),
        memory_mode: mode,
        history: 3600,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    })
}

fn chart_def() -> ChartDef {
    ChartDef {
        id: "test.repl".into(),
        name: "test.repl".into(),
        update_every: 1,
        ..ChartDef::default()
    }
}

fn add_dims(h: &Host) -> std::sync::Arc<tributary_rrd::Chart> {
    let c = h.chart(chart_def(), 0);
    {
        let mut st = c.lock();
        st.dimension(DimDef::new("abs")).unwrap();
        st.dimension(DimDef::new("inc").algo(Algorithm::Incremental, 1, 1))
            .unwrap();
    }
    c
}

const T0: i64 = 1_800_000_000;

/// Collection k: at T0 + k s + 300 ms (plus a little jitter), abs = k², inc grows by 10·k.
fn collect(c: &tributary_rrd::Chart, k: i64) {
    let now = (T0 + k) * 1_000_000 + 300_000 + (k % 7) * 1_000;
    let mut st = c.lock();
    let duration = if k == 0 {
        0
    } else {
        1_000_000 + ((k % 7) - ((k - 1) % 7)) * 1_000
    };
    st.begin(now, duration as u64);
    st.set(0, k * k, now);
    st.set(1, 5 * k * (k + 1), now);
    st.done(now);
}

/// Replays the child's slots in (after, before] into the parent, then its collection state,
/// as the stream protocol carries them (stored doubles, RDSTATE, RSSTATE).
fn replicate(child: &tributary_rrd::Chart, parent: &tributary_rrd::Chart, after: i64) -> usize {
    let c = child.lock();
    let mut p = parent.lock();
    let mut points = 0;
    let mut t = after.max(c.first_entry_t()) + 1;
    while t <= c.last_entry_t() {
        let empty = (0..2).all(|d| c.value_at(d, t).is_none_or(f64::is_nan));
        if !empty {
            p.replay_point(t).unwrap();
            for d in 0..2 {
                let sn = c.sample_at(d, t).unwrap();
                let v = storage_number::unpack(sn);
                p.replay_set(d, v, sn & storage_number::SN_FLAG_RESET != 0);
            }
            points += 1;
        }
        t += 1;
    }
    for (i, d) in c.dims().iter().enumerate() {
        p.replay_dim_state(
            i,
            d.last_collected_us,
            d.last_collected,
            d.last_calculated(),
        );
    }
    p.replay_chart_state(c.clock().last_collected_us);
    p.replay_done();
    points
}

#[test]
fn replicated_then_live_points_equal_the_childs_with_no_gap() {
    let child_host = host("child", MemoryMode::Ram);
    let parent_host = host("parent", MemoryMode::Ram);
    let child = add_dims(&child_host);
    for k in 0..60 {
        collect(&child, k);
    }
    let parent = add_dims(&parent_host);
    let replayed = replicate(&child, &parent, 0);
    assert!(replayed >= 57, "{replayed} points replayed");
    // Both now collect the same live values at the same times.
    for k in 60..90 {
        collect(&child, k);
        collect(&parent, k);
    }
    let (c, p) = (child.lock(), parent.lock());
    assert_eq!(c.last_entry_t(), p.last_entry_t());
    let first = c.first_entry_t() + 1;
    let mut compared = 0;
    for t in first..=c.last_entry_t() {
        for d in 0..2 {
            let (cv, pv) = (c.value_at(d, t), p.value_at(d, t));
            let same = match (cv, pv) {
                (Some(a), Some(b)) => a == b || (a.is_nan() && b.is_nan()),
                (a, b) => a == b,
            };
            assert!(same, "t={t} dim {d}: child {cv:?} parent {pv:?}");
            compared += 1;
        }
    }
    assert!(compared >= 2 * 85, "{compared}");
    // The first live point after replication is a value, not a gap.
    let joint = T0 + 61;
    assert!(p.value_at(0, joint).is_some_and(|v| !v.is_nan()));
    assert!(p.value_at(1, joint).is_some_and(|v| !v.is_nan()));
}

#[test]
fn a_gap_in_the_middle_is_filled_when_the_parent_had_older_data() {
    let child_host = host("child", MemoryMode::Ram);
    let parent_host = host("parent", MemoryMode::Ram);
    let child = add_dims(&child_host);
    let parent = add_dims(&parent_host);
    for k in 0..30 {
        collect(&child, k);
        collect(&parent, k);
    }
    // The parent is away for 40 collections.
    for k in 30..70 {
        collect(&child, k);
    }
    let after = parent.lock().last_entry_t();
    let replayed = replicate(&child, &parent, after);
    assert_eq!(replayed, 40);
    for k in 70..80 {
        collect(&child, k);
        collect(&parent, k);
    }
    let (c, p) = (child.lock(), parent.lock());
    for t in (T0 + 2)..=c.last_entry_t() {
        assert_eq!(
            c.value_at(0, t).map(f64::to_bits),
            p.value_at(0, t).map(f64::to_bits),
            "t={t}"
        );
    }
}

#[test]
fn points_that_would_overwrite_or_misplace_data_are_refused() {
    let h = host("parent", MemoryMode::Ram);
    let c = add_dims(&h);
    for k in 0..10 {
        collect(&c, k);
    }
    let mut st = c.lock();
    let last = st.last_entry_t();
    let before = st.value_at(0, last);
    assert_eq!(
        st.replay_point(last),
        Err(ReplayRefusal::NotAfterLast { end_t: last, last })
    );
    assert!(matches!(
        st.replay_point(last - 5),
        Err(ReplayRefusal::NotAfterLast { .. })
    ));
    st.replay_set(0, 12345.0, false); // no point in progress: ignored
    assert_eq!(
        st.value_at(0, last).map(f64::to_bits),
        before.map(f64::to_bits)
    );
    // A point far beyond the ring starts the ring over rather than writing a huge gap.
    st.replay_point(last + 100_000).unwrap();
    st.replay_set(0, 7.0, false);
    assert_eq!(st.value_at(0, last + 100_000), Some(7.0));
    assert_eq!(st.last_entry_t(), last + 100_000);
}

#[test]
fn a_none_host_stores_nothing_unless_it_has_a_spool() {
    let plain = host("headless", MemoryMode::None);
    let c = add_dims(&plain);
    assert_eq!(c.lock().replay_point(T0), Err(ReplayRefusal::NotStored));

    let spooled = host("spooled", MemoryMode::None);
    spooled.enable_spool(30, 1 << 20);
    let c = add_dims(&spooled);
    for k in 0..100 {
        collect(&c, k);
    }
    let st = c.lock();
    assert_eq!(st.clock().entries, 30);
    let last = st.last_entry_t();
    assert!(st.value_at(0, last).is_some());
    assert!(st.value_at(0, last - 29).is_some());
    assert!(st.value_at(0, last - 30).is_none(), "only 30 s are kept");
}

#[test]
fn the_spool_is_bounded_by_bytes() {
    let h = host("tiny", MemoryMode::None);
    h.enable_spool(100, 2 * 100 * 4); // room for one chart of two dimensions
    let a = add_dims(&h);
    let b = h.chart(
        ChartDef {
            id: "test.other".into(),
            name: "test.other".into(),
            update_every: 1,
            ..ChartDef::default()
        },
        0,
    );
    assert_eq!(a.lock().clock().entries, 100);
    assert_eq!(b.lock().clock().entries, 5);
}
