//! Admission control: each connection may run `tps_per_node` × live nodes transactions per second.

mod local;
mod middleware;

pub use local::LocalLimiter;
pub use middleware::admission;

use std::time::Duration;

use async_trait::async_trait;

/// The outcome of asking the limiter for one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Admitted,
    Throttled { retry_after: Duration },
}

/// Where the budget is kept right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One budget shared by all nodes of the connection, in Redis.
    Shared,
    /// This node's own budget of `tps_per_node` (no Redis, or Redis unreachable).
    Local,
}

#[async_trait]
pub trait Limiter: Send + Sync {
    async fn acquire(&self) -> Decision;
    fn mode(&self) -> Mode;
}
