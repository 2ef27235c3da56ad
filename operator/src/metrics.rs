//! Prometheus metrics of the operator (prometheus-client).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub error: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone)]
pub struct Metrics {
    pub reconciles: Counter,
    pub failures: Family<ErrorLabels, Counter>,
    pub duration: Histogram,
    pub writes: Family<KindLabels, Counter>,
    pub leader: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            reconciles: Counter::default(),
            failures: Family::default(),
            duration: Histogram::new(exponential_buckets(0.005, 2.0, 12)),
            writes: Family::default(),
            leader: Gauge::default(),
        }
    }
}

impl Metrics {
    /// Metrics registered under the `stripe_operator` prefix.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        let registry = registry.sub_registry_with_prefix("stripe_operator");
        registry.register(
            "reconciles",
            "Reconciles started",
            metrics.reconciles.clone(),
        );
        registry.register(
            "reconcile_failures",
            "Reconciles that ended in an error, by error",
            metrics.failures.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Time one reconcile took",
            metrics.duration.clone(),
        );
        registry.register(
            "writes",
            "Objects created or applied, by kind (zero growth in steady state)",
            metrics.writes.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the leader Lease",
            metrics.leader.clone(),
        );
        metrics
    }

    pub fn failed(&self, error: &str) {
        self.failures
            .get_or_create(&ErrorLabels {
                error: error.to_string(),
            })
            .inc();
    }

    pub fn wrote(&self, kind: &str) {
        self.writes
            .get_or_create(&KindLabels {
                kind: kind.to_string(),
            })
            .inc();
    }
}
