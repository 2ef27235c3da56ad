//! Prometheus metrics served on the admin port.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// `entity` or `action`.
    pub kind: String,
    pub name: String,
    /// The calling client's name (never its token); `anonymous` for an open API.
    pub client: String,
    pub status: u16,
}

pub struct Metrics {
    registry: Mutex<Registry>,
    pub calls: Family<CallLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("stripe_connector");
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "calls",
            "API calls by entity or action, client and HTTP status",
            calls.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            calls,
        }
    }

    /// Registers further metrics (limiter, Stripe client) in the same registry.
    pub fn with_registry<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        let mut registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut registry)
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        crate::admin::encode(&self.registry.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
