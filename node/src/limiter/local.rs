use std::num::NonZeroU32;
use std::sync::RwLock;
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::{Decision, Limiter, Mode};

/// This node's own GCRA budget (the governor crate), used without Redis.
pub struct LocalLimiter {
    state: RwLock<Budget>,
    clock: DefaultClock,
}

struct Budget {
    tps: f64,
    limiter: DefaultDirectRateLimiter,
}

impl Budget {
    fn new(tps: f64) -> Self {
        // Burst of one: requests are spaced evenly, so no second ever holds more than `tps`.
        let period = Duration::from_secs_f64(1.0 / tps.max(0.001));
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::MIN);
        Self {
            tps,
            limiter: RateLimiter::direct(quota),
        }
    }
}

impl LocalLimiter {
    pub fn new(tps: f64) -> Self {
        Self {
            state: RwLock::new(Budget::new(tps)),
            clock: DefaultClock::default(),
        }
    }

    pub fn tps(&self) -> f64 {
        self.state.read().unwrap_or_else(|p| p.into_inner()).tps
    }

    /// Changes the rate (a new budget: the old one's spacing is forgotten).
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
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        match state.limiter.check() {
            Ok(()) => Decision::Admitted,
            Err(not_until) => Decision::Throttled {
                retry_after: not_until
                    .wait_time_from(self.clock.now())
                    .max(Duration::from_millis(1)),
            },
        }
    }

    fn mode(&self) -> Mode {
        Mode::Local
    }
}
