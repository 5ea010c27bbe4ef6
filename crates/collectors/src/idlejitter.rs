//! CPU idle jitter: mirrors netdata's collectors/idlejitter.plugin/plugin_idlejitter.c —
//! system.idlejitter. A loop sleeps 20 ms at a time and measures how late it wakes up; every
//! `update every` seconds the min, max and average lateness (µs) are stored. It runs on its
//! own thread ([`IdleJitter::spawn`]), or step by step with [`IdleJitter::measure`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tributary_rrd::{ChartType, Host};

use crate::{ChartDims, CollectError, abs, prio};

/// netdata's default `loop time in ms`.
pub const SLEEP_MS: u64 = 20;

/// Lateness of the sleeps of one period, µs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Jitter {
    /// Smallest lateness.
    pub min: i64,
    /// Largest lateness.
    pub max: i64,
    /// Average lateness.
    pub average: i64,
    /// Sleeps measured.
    pub iterations: u64,
}

/// The idle jitter collector.
#[derive(Debug)]
pub struct IdleJitter {
    update_every: u32,
    sleep: Duration,
    chart: Option<ChartDims>,
}

impl IdleJitter {
    /// A collector storing every `update_every` seconds, sleeping `sleep_ms` per loop (0 =
    /// netdata's 20 ms).
    pub fn new(update_every: u32, sleep_ms: u64) -> IdleJitter {
        let ms = if sleep_ms == 0 { SLEEP_MS } else { sleep_ms };
        IdleJitter {
            update_every: update_every.max(1),
            sleep: Duration::from_millis(ms),
            chart: None,
        }
    }

    /// Sleeps in a loop for `period` and returns the lateness statistics.
    pub fn measure(&self, period: Duration) -> Jitter {
        let sleep_us = self.sleep.as_micros() as i64;
        let mut j = Jitter::default();
        let mut total = 0i64;
        let mut elapsed = Duration::ZERO;
        while elapsed < period {
            let before = Instant::now();
            std::thread::sleep(self.sleep);
            let dt = before.elapsed();
            elapsed += dt;
            let err = dt.as_micros() as i64 - sleep_us;
            total += err;
            if j.iterations == 0 || err < j.min {
                j.min = err;
            }
            if err > j.max {
                j.max = err;
            }
            j.iterations += 1;
        }
        if j.iterations > 0 {
            j.average = total / j.iterations as i64;
        }
        j
    }

    /// Stores one period's statistics in system.idlejitter.
    pub fn store(&mut self, host: &Host, now_us: i64, j: Jitter) -> Result<(), CollectError> {
        let ue = self.update_every;
        crate::ensure(&mut self.chart, host, now_us, || {
            let mut d = crate::chart_def(
                "system.idlejitter",
                "idlejitter",
                None,
                "CPU Idle Jitter",
                "microseconds lost/s",
                "",
                prio::SYSTEM_IDLEJITTER,
                ue,
                ChartType::Area,
            );
            d.plugin = "idlejitter.plugin".to_string();
            (
                d,
                vec![abs("min", 1, 1), abs("max", 1, 1), abs("average", 1, 1)],
            )
        })?
        .update(now_us, &[j.min, j.max, j.average]);
        Ok(())
    }

    /// Runs the measuring loop on its own thread until `stop` is set.
    pub fn spawn(
        mut self,
        host: Arc<Host>,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("IDLEJITTER".into())
            .spawn(move || {
                let period = Duration::from_secs(u64::from(self.update_every));
                while !stop.load(Ordering::Relaxed) {
                    let j = self.measure(period);
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if j.iterations > 0
                        && let Err(e) = self.store(&host, crate::now_us(), j)
                    {
                        log::error!("idlejitter: {e}; stopping");
                        break;
                    }
                }
            })
    }
}
