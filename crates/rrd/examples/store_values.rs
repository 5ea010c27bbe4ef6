//! A fixed workload for instruction counting (`tests/instruction_counts.rs`): a `ram` host
//! with 100 charts × 10 dimensions (half absolute, half incremental) collects 200 times (the part counted: `collect`), one
//! second apart (`lock; begin; set × 10; done` per chart), then reads every stored value
//! back. Prints the sum of what it read. Deterministic: same binary, same count.

use tributary_rrd::{ChartDef, DimDef, Host, HostConfig, MemoryMode};

fn main() {
    let host = Host::new(HostConfig {
        hostname: "bench".into(),
        machine_guid: "11111111-2222-3333-4444-555555555555".into(),
        memory_mode: MemoryMode::Ram,
        history: 3600,
        cache_dir: None,
        os: "linux".into(),
        timezone: "UTC".into(),
    });
    let start_us: i64 = 1_800_000_000_000_000;
    let charts: Vec<_> = (0..100)
        .map(|c| {
            let chart = host.chart(
                ChartDef {
                    id: format!("bench.chart{c}"),
                    name: format!("bench.chart{c}"),
                    update_every: 1,
                    ..ChartDef::default()
                },
                start_us / 1_000_000,
            );
            {
                let mut st = chart.lock();
                for d in 0..10 {
                    let algo = if d % 2 == 0 {
                        tributary_rrd::Algorithm::Absolute
                    } else {
                        tributary_rrd::Algorithm::Incremental
                    };
                    st.dimension(DimDef::new(&format!("dim{d}")).algo(algo, 1, 1))
                        .expect("dimension");
                }
            }
            chart
        })
        .collect();
    collect(&charts, start_us);
    let mut sum = 0.0;
    for chart in &charts {
        let st = chart.lock();
        let (first, last) = (st.first_entry_t(), st.last_entry_t());
        for d in 0..st.dims().len() {
            let mut t = first;
            while t <= last {
                sum += st.value_at(d, t).filter(|v| !v.is_nan()).unwrap_or(0.0);
                t += 1;
            }
        }
    }
    println!("{sum}");
}

/// The measured part (callgrind counts only inside it): 200 collections of every chart.
#[inline(never)]
fn collect(charts: &[std::sync::Arc<tributary_rrd::Chart>], start_us: i64) {
    for k in 0..200i64 {
        let now = start_us + k * 1_000_000;
        for (c, chart) in charts.iter().enumerate() {
            let mut st = chart.lock();
            st.begin(now, 0);
            for d in 0..10 {
                let seed = (c * 10 + d) as i64;
                let v = if d % 2 == 0 {
                    (k * 31 + seed * 17) % 1000
                } else {
                    k * (100 + seed) + (k * 7 + seed) % 13
                };
                st.set(d, v, now);
            }
            st.done(now);
        }
    }
}
