use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::{Decision, LEAST_TOLERANCE, Limiter, Mode};

/// This node's own budget, used without Redis: the same rules as the shared one (`acquire.lua`),
/// a GCRA (the governor crate) whose tolerance is one interval or `LEAST_TOLERANCE`, and a cap of
/// `tps` admits in any second less that tolerance.
pub struct LocalLimiter {
    state: RwLock<Budget>,
}

struct Budget {
    tps: f64,
    limiter: DefaultDirectRateLimiter,
    clock: DefaultClock,
    /// The last `cap` admit times, oldest first.
    recent: Mutex<VecDeque<Instant>>,
    cap: usize,
}

impl Budget {
    fn new(tps: f64) -> Self {
        let tps = tps.max(0.001);
        let interval = Duration::from_secs_f64(1.0 / tps);
        // governor's tolerance is (burst − 1) intervals: one interval, or enough of them to
        // cover the least tolerance at high rates.
        let extra = (LEAST_TOLERANCE.as_secs_f64() * tps).floor().max(1.0) as u32;
        let burst = NonZeroU32::new(1 + extra).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let cap = (tps.floor() as usize).max(1);
        Self {
            tps,
            limiter: RateLimiter::direct(quota),
            clock: DefaultClock::default(),
            recent: Mutex::new(VecDeque::with_capacity(cap)),
            cap,
        }
    }

    fn acquire(&self) -> Decision {
        let window = Duration::from_secs(1) - LEAST_TOLERANCE;
        let now = Instant::now();
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() >= self.cap
            && let Some(wait) =
                (recent[recent.len() - self.cap] + window).checked_duration_since(now)
            && !wait.is_zero()
        {
            return Decision::Throttled { retry_after: wait };
        }
        match self.limiter.check() {
            Ok(()) => {
                recent.push_back(now);
                while recent.len() > self.cap {
                    recent.pop_front();
                }
                Decision::Admitted
            }
            Err(not_until) => Decision::Throttled {
                retry_after: not_until
                    .wait_time_from(self.clock.now())
                    .max(Duration::from_millis(1)),
            },
        }
    }
}

impl LocalLimiter {
    pub fn new(tps: f64) -> Self {
        Self {
            state: RwLock::new(Budget::new(tps)),
        }
    }

    pub fn tps(&self) -> f64 {
        self.state.read().unwrap_or_else(|p| p.into_inner()).tps
    }

    /// Changes the rate (a new budget: the old one's schedule is forgotten).
    pub fn set_tps(&self, tps: f64) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        if state.tps != tps {
            *state = Budget::new(tps);
        }
    }
}

#[async_trait]
impl Limiter for LocalLimiter {
    async fn acquire(&self) -> Decision {
        self.state
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .acquire()
    }

    fn mode(&self) -> Mode {
        Mode::Local
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted_at_once(limiter: &LocalLimiter, calls: usize) -> usize {
        let state = limiter.state.read().unwrap();
        (0..calls)
            .filter(|_| state.acquire() == Decision::Admitted)
            .count()
    }

    #[test]
    fn after_idling_one_extra_request_passes_at_low_rates() {
        // Tolerance of one interval: two back to back, then one per interval.
        assert_eq!(admitted_at_once(&LocalLimiter::new(6.0), 10), 2);
    }

    #[test]
    fn at_one_per_second_the_cap_holds_it_to_one() {
        assert_eq!(admitted_at_once(&LocalLimiter::new(1.0), 10), 1);
    }

    #[test]
    fn at_high_rates_the_least_tolerance_sets_the_burst() {
        // 300 TPS: 20 ms of tolerance is 6 intervals, so 7 back to back.
        assert_eq!(admitted_at_once(&LocalLimiter::new(300.0), 100), 7);
    }

    #[test]
    fn no_second_holds_more_than_the_rate() {
        let limiter = LocalLimiter::new(6.0);
        let start = Instant::now();
        let mut admitted = Vec::new();
        while start.elapsed() < Duration::from_millis(1500) {
            if admitted_at_once(&limiter, 1) == 1 {
                admitted.push(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let window = Duration::from_secs(1) - LEAST_TOLERANCE;
        for (i, first) in admitted.iter().enumerate() {
            let in_window = admitted[i..]
                .iter()
                .take_while(|t| **t < *first + window)
                .count();
            assert!(in_window <= 6, "{admitted:?}");
        }
        assert!(admitted.len() >= 8, "{admitted:?}");
    }
}
