//! The collectors' clock: ticks on wall-clock multiples of `update every` (netdata's
//! heartbeat), and a stop signal that wakes a sleeping collector at once. A collector thread
//! sleeps exactly once per tick: no polling while it waits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Tells collector threads to stop; shared by every thread of the agent.
#[derive(Debug, Default)]
pub struct Stop {
    flag: Arc<AtomicBool>,
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    /// A signal not yet given.
    pub fn new() -> Arc<Stop> {
        Arc::new(Stop::default())
    }

    /// Gives the signal and wakes every sleeper.
    pub fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
        *self.stopped.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.wake.notify_all();
    }

    /// True once [`Stop::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// The plain flag, for loops that poll on their own schedule (idlejitter).
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }

    /// Sleeps until the next wall-clock multiple of `every` seconds. Returns false when the
    /// stop signal came first.
    pub fn wait_for_next_tick(&self, every: u32) -> bool {
        let step = i64::from(every.max(1)) * 1_000_000;
        let now = crate::now_us();
        let next = (now / step + 1) * step;
        let mut stopped = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if *stopped {
                return false;
            }
            let left = next - crate::now_us();
            if left <= 0 {
                return true;
            }
            stopped = self
                .wake
                .wait_timeout(stopped, Duration::from_micros(left as u64))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn ticks_on_whole_seconds() {
        let stop = Stop::new();
        assert!(stop.wait_for_next_tick(1));
        let us = crate::now_us() % 1_000_000;
        assert!(us < 200_000, "woke {us} µs after the second");
    }

    #[test]
    fn stop_wakes_a_sleeper_at_once() {
        let stop = Stop::new();
        let s2 = Arc::clone(&stop);
        let t = std::thread::spawn(move || s2.wait_for_next_tick(60));
        std::thread::sleep(Duration::from_millis(50));
        let asked = Instant::now();
        stop.stop();
        assert!(!t.join().unwrap());
        assert!(asked.elapsed() < Duration::from_millis(500));
        assert!(stop.is_stopped());
        assert!(!stop.wait_for_next_tick(1));
    }
}
