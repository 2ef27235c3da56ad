//! Admission control: each connection may run `tps_per_node` × live nodes transactions per second.
//!
//! - [`shared`]: the shared budgets (connection and Stripe account) in Redis, one Lua script.
//! - [`NodeLimiter`]: uses them while Redis answers, else this node's [`LocalLimiter`].
//! - [`admit`]: the admission every Stripe-bound handler passes before its Stripe call.

mod local;
pub mod metrics;
mod middleware;
mod node_limiter;
pub mod shared;

pub use local::LocalLimiter;
pub use middleware::admit;
pub use node_limiter::{HEARTBEAT_INTERVAL, LimiterSettings, NodeLimiter};
pub use shared::Reason;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use crate::config::LimiterArgs;
use crate::metrics::Metrics;
use crate::secret::SecretFile;
use crate::stripe::ApiKeyFile;

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

    /// [`Limiter::acquire`], also naming the budget that refused, when known (for the 429).
    async fn acquire_explained(&self) -> (Decision, Option<Reason>) {
        (self.acquire().await, None)
    }

    /// What /readyz shows about the limiter.
    fn details(&self) -> serde_json::Value {
        json!({ "mode": self.mode() })
    }

    /// Leaves the connection's live nodes (graceful shutdown), so capacity drops at once.
    async fn leave(&self) {}
}

/// A heartbeat counts for this long: a node that dies without leaving drops out within it.
pub const HEARTBEAT_TTL: Duration = Duration::from_secs(3);

/// The GCRA's least burst tolerance (it is at least one emission interval), which is also the
/// jitter the cap on any second allows (see `acquire.lua`). At high rates (a 300 TPS connection
/// has an interval of 3.3 ms) request arrivals jitter by more than one interval, and a gap longer
/// than the tolerance loses slots; 20 ms absorbs scheduling and network jitter for at most 2% of
/// burst in any second at 300 TPS. At 6 to 50 TPS the interval itself (20 to 167 ms) is the
/// tolerance.
pub const LEAST_TOLERANCE: Duration = Duration::from_millis(20);

/// Stripe's published per-account limits: 25 requests per second in test mode, 100 live.
pub fn default_account_tps(api_key: &str) -> u32 {
    if api_key.starts_with("sk_test_") || api_key.starts_with("rk_test_") {
        25
    } else {
        100
    }
}

/// The node's limiter from its flags, with its metrics registered in `metrics`. `scope` is the
/// connection's name in Redis keys ([`Config::connection_scope`]); the Stripe account id, or
/// without one the API key, names the account's budget.
///
/// [`Config::connection_scope`]: crate::config::Config::connection_scope
pub fn from_args(
    args: &LimiterArgs,
    scope: &str,
    account_id: Option<&str>,
    api_key: &ApiKeyFile,
    metrics: &Metrics,
) -> anyhow::Result<Arc<NodeLimiter>> {
    let shared = match &args.redis_url {
        None => None,
        Some(url) => Some(shared_settings(args, url, scope, account_id, api_key)?),
    };
    let settings = LimiterSettings {
        tps_per_node: args.tps_per_node,
        max_wait: Duration::from_millis(args.max_wait_ms),
        shared,
    };
    let limiter_metrics = metrics.with_registry(metrics::LimiterMetrics::register);
    NodeLimiter::start(settings, limiter_metrics)
}

fn shared_settings(
    args: &LimiterArgs,
    url: &str,
    scope: &str,
    account_id: Option<&str>,
    api_key: &ApiKeyFile,
) -> anyhow::Result<shared::SharedSettings> {
    // Read once: an open Redis connection stays authenticated.
    let redis_password = match &args.redis_password_file {
        None => None,
        Some(path) => Some(SecretFile::open("--redis-password-file", path)?.current()),
    };
    // The account's budget is named at start-up, after the key of that moment.
    let api_key = api_key.current();
    let node_id = match &args.node_id {
        Some(id) => id.clone(),
        None => hostname::get()
            .map_err(|e| anyhow::anyhow!("--node-id: not set and no hostname to default to: {e}"))?
            .to_string_lossy()
            .into_owned(),
    };
    Ok(shared::SharedSettings {
        redis_url: url.to_string(),
        redis_password,
        keys: shared::Keys::new(scope, account_id, api_key.expose()),
        node_id,
        tps_per_node: args.tps_per_node,
        account_tps: args
            .account_tps
            .unwrap_or_else(|| default_account_tps(api_key.expose())),
        command_timeout: Duration::from_millis(args.redis_timeout_ms),
        heartbeat_ttl: HEARTBEAT_TTL,
        least_tolerance: LEAST_TOLERANCE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::secret::MountedFile;

    #[test]
    fn account_budget_defaults_follow_stripes_limits() {
        assert_eq!(default_account_tps("sk_test_abc"), 25);
        assert_eq!(default_account_tps("rk_test_abc"), 25);
        assert_eq!(default_account_tps("sk_live_abc"), 100);
        assert_eq!(default_account_tps("rk_live_abc"), 100);
    }

    #[tokio::test]
    async fn without_redis_the_node_limits_itself_locally() {
        use clap::Parser;
        let config = Config::parse_from([
            "stripe-node",
            "--stripe-api-key-file",
            "/k",
            "--tps-per-node",
            "2",
        ]);
        let metrics = Metrics::new();
        let api_key = ApiKeyFile::open(&MountedFile::new("sk_test_local").path).unwrap();
        let limiter = from_args(&config.limiter, "local", None, &api_key, &metrics).unwrap();
        assert_eq!(limiter.mode(), Mode::Local);
        assert_eq!(
            limiter.details(),
            json!({"mode": "local", "tps_per_node": 2, "capacity_tps": 2, "local_tps": 2, "redis_configured": false})
        );
        // One interval of tolerance: two back to back, then the third waits.
        assert_eq!(limiter.acquire().await, Decision::Admitted);
        assert_eq!(limiter.acquire().await, Decision::Admitted);
        assert!(matches!(
            limiter.acquire().await,
            Decision::Throttled { .. }
        ));
        let text = metrics.encode();
        for line in [
            "stripe_connector_limiter_mode{mode=\"local\"} 1",
            "stripe_connector_limiter_mode{mode=\"shared\"} 0",
            "stripe_connector_limiter_admitted_total 2",
            "stripe_connector_limiter_throttled_total{reason=\"connection\"} 1",
            "stripe_connector_limiter_capacity_tps 2.0",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }

    #[test]
    fn same_named_connections_of_two_namespaces_get_their_own_keys() {
        use clap::Parser;
        let config = |namespace: &str| {
            Config::parse_from([
                "stripe-node",
                "--stripe-api-key-file",
                "/k",
                "--connection-name",
                "payments",
                "--connection-namespace",
                namespace,
            ])
        };
        let shop = shared::Keys::new(&config("shop").connection_scope(), None, "sk_test_x");
        let billing = shared::Keys::new(&config("billing").connection_scope(), None, "sk_test_x");
        assert_eq!(
            shop.connection,
            "stripe-connector:connection:shop/payments:gcra"
        );
        assert_ne!(shop.nodes, billing.nodes);
        assert_ne!(shop.connection_recent, billing.connection_recent);
        assert_ne!(shop.account_member("n1"), billing.account_member("n1"));
        // Same API key: the account's budget stays shared.
        assert_eq!(shop.account, billing.account);
    }

    #[test]
    fn a_zero_rate_is_refused_naming_the_flag() {
        use clap::Parser;
        let error = Config::try_parse_from([
            "stripe-node",
            "--stripe-api-key-file",
            "/k",
            "--account-tps",
            "0",
        ])
        .unwrap_err()
        .to_string();
        assert!(error.contains("--account-tps"), "{error}");
    }
}
