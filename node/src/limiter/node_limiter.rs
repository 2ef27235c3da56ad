//! The node's limiter: the shared budgets in Redis while Redis answers, this node's own budget
//! otherwise, with metrics and an optional bounded wait.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::json;

use super::metrics::LimiterMetrics;
use super::shared::{Liveness, Reason, SharedBudget, SharedSettings};
use super::{Decision, Limiter, LocalLimiter, Mode};

/// How often a node renews its heartbeat, which is also how often a node in local mode probes
/// Redis: a dead Redis sees one call per second per node, not one per request.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct LimiterSettings {
    pub tps_per_node: u32,
    /// How long a request over capacity may queue for a slot; zero rejects at once.
    pub max_wait: Duration,
    /// The shared budgets; `None` limits this node locally only.
    pub shared: Option<SharedSettings>,
}

pub struct NodeLimiter {
    local: LocalLimiter,
    shared: Option<SharedBudget>,
    /// Whether the last Redis call succeeded; while false, requests use the local budget and
    /// only the heartbeat touches Redis (circuit breaker).
    shared_up: AtomicBool,
    left: AtomicBool,
    live_nodes: AtomicU32,
    /// Live nodes of every connection on this Stripe account, last seen in Redis.
    account_nodes: AtomicU32,
    capacity: AtomicU32,
    tps_per_node: u32,
    max_wait: Duration,
    metrics: LimiterMetrics,
}

impl NodeLimiter {
    /// Starts the heartbeat when Redis is configured (so it needs a Tokio runtime then).
    pub fn start(settings: LimiterSettings, metrics: LimiterMetrics) -> anyhow::Result<Arc<Self>> {
        let shared = settings.shared.map(SharedBudget::new).transpose()?;
        let limiter = Arc::new(Self {
            local: LocalLimiter::new(f64::from(settings.tps_per_node)),
            shared,
            shared_up: AtomicBool::new(false),
            left: AtomicBool::new(false),
            live_nodes: AtomicU32::new(1),
            account_nodes: AtomicU32::new(1),
            capacity: AtomicU32::new(settings.tps_per_node),
            tps_per_node: settings.tps_per_node,
            max_wait: settings.max_wait,
            metrics,
        });
        limiter.metrics.set_mode(Mode::Local);
        limiter.publish_capacity();
        limiter.metrics.live_nodes.set(1);
        if limiter.shared.is_some() {
            tokio::spawn(heartbeat(Arc::downgrade(&limiter)));
        }
        Ok(limiter)
    }

    /// One decision, without waiting: `None` when admitted, else the budget that refused and
    /// when to retry.
    async fn check(&self) -> Option<(Reason, Duration)> {
        let started = Instant::now();
        let shared = match &self.shared {
            Some(shared) if self.shared_up.load(Ordering::Relaxed) => {
                match shared.acquire().await {
                    Ok(verdict) => {
                        self.observe_nodes(verdict.live_nodes, verdict.capacity_tps);
                        Some(verdict.refused_by.map(|r| (r, verdict.retry_after)))
                    }
                    Err(e) => {
                        self.mark_down(&e);
                        None
                    }
                }
            }
            _ => None,
        };
        let outcome = match shared {
            Some(outcome) => outcome,
            None => match self.local.acquire().await {
                Decision::Admitted => None,
                Decision::Throttled { retry_after } => Some((Reason::Connection, retry_after)),
            },
        };
        self.metrics
            .latency
            .observe(started.elapsed().as_secs_f64());
        outcome
    }

    fn observe_nodes(&self, live_nodes: u32, capacity: u32) {
        self.live_nodes.store(live_nodes, Ordering::Relaxed);
        self.capacity.store(capacity, Ordering::Relaxed);
        self.metrics.live_nodes.set(i64::from(live_nodes));
        self.publish_capacity();
    }

    /// The capacity that applies now: the connection's in shared mode, this node's own in local.
    fn capacity_now(&self) -> f64 {
        match self.mode() {
            Mode::Shared => f64::from(self.capacity.load(Ordering::Relaxed)),
            Mode::Local => self.local.tps(),
        }
    }

    fn publish_capacity(&self) {
        self.metrics.capacity.set(self.capacity_now());
    }

    /// After a heartbeat: also sets the local budget to this node's share of the account's.
    fn observe_liveness(&self, live: Liveness) {
        self.account_nodes.store(live.account, Ordering::Relaxed);
        self.local.set_tps(self.local_share(live.account));
        self.observe_nodes(live.connection, self.tps_per_node * live.connection.max(1));
    }

    /// The rate this node holds itself to without Redis: its `tps_per_node`, but never more than
    /// its share of the account budget among the account's nodes last seen live, so a fleet
    /// cut off from Redis still stays under Stripe's limit.
    fn local_share(&self, account_nodes: u32) -> f64 {
        let tps = f64::from(self.tps_per_node);
        match &self.shared {
            Some(shared) if shared.settings().account_tps > 0 => {
                let account = f64::from(shared.settings().account_tps);
                tps.min(account / f64::from(account_nodes.max(1)))
            }
            _ => tps,
        }
    }

    fn mark_up(&self) {
        if !self.shared_up.swap(true, Ordering::Relaxed) {
            tracing::info!("limiter: Redis answers, using the shared budget");
            self.metrics.set_mode(Mode::Shared);
            self.publish_capacity();
        }
    }

    fn mark_down(&self, error: &redis::RedisError) {
        self.metrics.redis_errors.inc();
        if self.shared_up.swap(false, Ordering::Relaxed) {
            tracing::warn!(%error, "limiter: Redis unavailable, limiting this node locally");
            self.metrics.set_mode(Mode::Local);
            self.publish_capacity();
        }
    }
}

/// A rate as JSON: a whole number stays an integer (`6`, not `6.0`).
fn tps_json(tps: f64) -> serde_json::Value {
    if tps.fract() == 0.0 && tps <= f64::from(u32::MAX) {
        json!(tps as u32)
    } else {
        json!((tps * 1000.0).round() / 1000.0)
    }
}

/// Renews this node's heartbeat every second until the node leaves or the limiter is dropped.
async fn heartbeat(limiter: Weak<NodeLimiter>) {
    let mut tick = tokio::time::interval(HEARTBEAT_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(limiter) = limiter.upgrade() else {
            return;
        };
        if limiter.left.load(Ordering::Relaxed) {
            return;
        }
        let Some(shared) = &limiter.shared else {
            return;
        };
        match shared.heartbeat().await {
            Ok(live) => {
                limiter.observe_liveness(live);
                limiter.mark_up();
            }
            Err(e) => limiter.mark_down(&e),
        }
    }
}

#[async_trait]
impl Limiter for NodeLimiter {
    async fn acquire(&self) -> Decision {
        self.acquire_explained().await.0
    }

    async fn acquire_explained(&self) -> (Decision, Option<Reason>) {
        self.metrics.offered.record();
        let deadline = Instant::now() + self.max_wait;
        loop {
            let Some((reason, retry_after)) = self.check().await else {
                self.metrics.admitted.inc();
                return (Decision::Admitted, None);
            };
            // Queue for a slot when it comes within the allowed wait; another request may
            // take it first, so ask again then.
            if Instant::now() + retry_after <= deadline {
                tokio::time::sleep(retry_after).await;
                continue;
            }
            self.metrics.throttled(reason);
            return (Decision::Throttled { retry_after }, Some(reason));
        }
    }

    fn mode(&self) -> Mode {
        if self.shared.is_some() && self.shared_up.load(Ordering::Relaxed) {
            Mode::Shared
        } else {
            Mode::Local
        }
    }

    fn details(&self) -> serde_json::Value {
        let mut details = json!({
            "mode": self.mode(),
            "tps_per_node": self.tps_per_node,
            "capacity_tps": tps_json(self.capacity_now()),
            "local_tps": tps_json(self.local.tps()),
            "redis_configured": self.shared.is_some(),
        });
        if let Some(shared) = &self.shared {
            let s = shared.settings();
            details["node_id"] = json!(s.node_id);
            details["live_nodes"] = json!(self.live_nodes.load(Ordering::Relaxed));
            details["account_live_nodes"] = json!(self.account_nodes.load(Ordering::Relaxed));
            details["account_tps"] = json!(s.account_tps);
        }
        details
    }

    async fn leave(&self) {
        if self.left.swap(true, Ordering::Relaxed) {
            return;
        }
        if let Some(shared) = &self.shared {
            match shared.leave().await {
                Ok(()) => tracing::info!("limiter: left the connection's live nodes"),
                Err(error) => {
                    tracing::warn!(%error, "limiter: could not leave; the heartbeat will expire")
                }
            }
        }
    }
}
