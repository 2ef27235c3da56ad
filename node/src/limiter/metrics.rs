//! The limiter's Prometheus metrics, including the offered load the HPA scales on.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::Mode;
use super::shared::Reason;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// `connection` or `account`.
    pub reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModeLabels {
    /// `shared` or `local`.
    pub mode: &'static str,
}

#[derive(Clone)]
pub struct LimiterMetrics {
    pub admitted: Counter,
    pub throttled: Family<ReasonLabels, Counter>,
    pub capacity: Gauge<f64, AtomicU64>,
    pub live_nodes: Gauge,
    pub latency: Histogram,
    pub mode: Family<ModeLabels, Gauge>,
    pub redis_errors: Counter,
    pub offered: Arc<OfferedRate>,
}

impl LimiterMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            admitted: Counter::default(),
            throttled: Family::default(),
            capacity: Gauge::default(),
            live_nodes: Gauge::default(),
            // 10 µs .. ~80 ms: Redis on loopback answers in well under a millisecond.
            latency: Histogram::new(exponential_buckets(0.000_01, 2.0, 14)),
            mode: Family::default(),
            redis_errors: Counter::default(),
            offered: Arc::new(OfferedRate::new()),
        };
        let m = metrics.clone();
        registry.register(
            "limiter_admitted",
            "Requests admitted by the limiter",
            m.admitted,
        );
        registry.register(
            "limiter_throttled",
            "Requests refused with 429, by the budget that refused them",
            m.throttled,
        );
        registry.register(
            "limiter_capacity_tps",
            "Transactions per second the connection may run now (this node's own in local mode)",
            m.capacity,
        );
        registry.register(
            "limiter_live_nodes",
            "Live nodes of the connection, last seen in Redis",
            m.live_nodes,
        );
        registry.register(
            "limiter_latency_seconds",
            "Time to decide one request (one Redis round trip in shared mode)",
            m.latency,
        );
        registry.register(
            "limiter_mode",
            "1 for the limiter's current mode: shared (Redis) or local (in-process fallback)",
            m.mode,
        );
        registry.register(
            "limiter_redis_errors",
            "Redis calls that failed or timed out (each switches the node to local mode)",
            m.redis_errors,
        );
        registry.register(
            "offered_requests_per_second",
            "Requests offered to this node (admitted plus throttled) per second, over the last complete seconds",
            OfferedGauge(m.offered),
        );
        metrics
    }

    pub fn set_mode(&self, mode: Mode) {
        let shared = i64::from(mode == Mode::Shared);
        self.mode
            .get_or_create(&ModeLabels { mode: "shared" })
            .set(shared);
        self.mode
            .get_or_create(&ModeLabels { mode: "local" })
            .set(1 - shared);
    }

    pub fn throttled(&self, reason: Reason) {
        self.throttled
            .get_or_create(&ReasonLabels {
                reason: reason.as_str(),
            })
            .inc();
    }
}

/// Offered requests per second over a sliding window of complete seconds: a ring of per-second
/// counters, each one atomic word (second << 24 | count), so recording is one CAS and a scrape
/// is exact. Hand-written because no crate offers a lock-free per-second ring.
#[derive(Debug)]
pub struct OfferedRate {
    start: Instant,
    slots: [AtomicU64; SLOTS],
}

/// Seconds averaged by the gauge.
pub const OFFERED_WINDOW_SECS: u64 = 5;
const SLOTS: usize = OFFERED_WINDOW_SECS as usize + 2;
const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

impl Default for OfferedRate {
    fn default() -> Self {
        Self::new()
    }
}

impl OfferedRate {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            slots: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    fn second(&self) -> u64 {
        // Second 0 is never stored, so an empty slot (0) never matches a real second.
        self.start.elapsed().as_secs() + 1
    }

    pub fn record(&self) {
        self.record_at(self.second());
    }

    /// Requests per second over the last complete seconds (up to the window).
    pub fn rate(&self) -> f64 {
        self.rate_at(self.second())
    }

    fn record_at(&self, second: u64) {
        let slot = &self.slots[second as usize % SLOTS];
        let mut current = slot.load(Ordering::Relaxed);
        loop {
            let next = if current >> COUNT_BITS == second {
                current + u64::from(current & COUNT_MASK < COUNT_MASK)
            } else {
                (second << COUNT_BITS) | 1
            };
            match slot.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }

    fn rate_at(&self, second: u64) -> f64 {
        // Complete seconds only: second - 1 back to second - window (not before the start).
        let seconds = OFFERED_WINDOW_SECS.min(second - 1);
        if seconds == 0 {
            return 0.0;
        }
        let total: u64 = (second - seconds..second)
            .map(|s| {
                let word = self.slots[s as usize % SLOTS].load(Ordering::Relaxed);
                if word >> COUNT_BITS == s {
                    word & COUNT_MASK
                } else {
                    0
                }
            })
            .sum();
        total as f64 / seconds as f64
    }
}

/// Encodes [`OfferedRate`] as a gauge computed at scrape time.
#[derive(Debug)]
struct OfferedGauge(Arc<OfferedRate>);

impl EncodeMetric for OfferedGauge {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_gauge(&self.0.rate())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_rate_averages_complete_seconds_exactly() {
        let rate = OfferedRate::new();
        for _ in 0..12 {
            rate.record_at(1);
        }
        for _ in 0..6 {
            rate.record_at(2);
        }
        // During second 2, only second 1 is complete.
        assert_eq!(rate.rate_at(2), 12.0);
        // During second 3: (12 + 6) / 2.
        assert_eq!(rate.rate_at(3), 9.0);
        // Idle seconds count as zero; seconds older than the window drop out.
        assert_eq!(rate.rate_at(6), 18.0 / 5.0);
        assert_eq!(rate.rate_at(7), 6.0 / 5.0);
        assert_eq!(rate.rate_at(8), 0.0);
    }

    #[test]
    fn offered_rate_reuses_slots_of_old_seconds() {
        let rate = OfferedRate::new();
        rate.record_at(3);
        rate.record_at(3 + SLOTS as u64);
        rate.record_at(3 + SLOTS as u64);
        assert_eq!(rate.rate_at(4 + SLOTS as u64), 2.0 / 5.0);
    }

    #[test]
    fn offered_rate_counts_concurrent_records() {
        let rate = Arc::new(OfferedRate::new());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let rate = rate.clone();
                std::thread::spawn(move || (0..10_000).for_each(|_| rate.record_at(5)))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(rate.rate_at(6), 40_000.0 / 5.0);
    }
}
