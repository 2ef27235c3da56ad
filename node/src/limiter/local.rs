use std::num::NonZeroU32;
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::{Decision, Limiter, Mode};

/// This node's own GCRA budget (the governor crate), used without Redis.
pub struct LocalLimiter {
    limiter: DefaultDirectRateLimiter,
    clock: DefaultClock,
}

impl LocalLimiter {
    pub fn new(tps: u32) -> Self {
        let tps = NonZeroU32::new(tps.max(1)).unwrap_or(NonZeroU32::MIN);
        // Burst of one: requests are spaced evenly, so no window edge lets a double burst through.
        let quota = Quota::per_second(tps).allow_burst(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::direct(quota),
            clock: DefaultClock::default(),
        }
    }
}

#[async_trait]
impl Limiter for LocalLimiter {
    async fn acquire(&self) -> Decision {
        match self.limiter.check() {
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
