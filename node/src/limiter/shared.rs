//! The shared budgets in Redis: one per connection (rate = tps per node × live nodes) and one per
//! Stripe account, checked together by one Lua script (one EVALSHA round trip).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, RedisError, Script};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

static ACQUIRE: &str = include_str!("acquire.lua");
static HEARTBEAT: &str = include_str!("heartbeat.lua");

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The connection's budget (tps per node × live nodes) is spent.
    Connection,
    /// The Stripe account's budget, shared by every connection using the account, is spent.
    Account,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Connection => "connection",
            Reason::Account => "account",
        }
    }
}

/// The answer of the shared budgets to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// `None` when admitted.
    pub refused_by: Option<Reason>,
    pub retry_after: Duration,
    pub live_nodes: u32,
    pub capacity_tps: u32,
    /// When Redis decided, by its clock (microseconds since the Unix epoch).
    pub decided_at_us: u64,
}

/// Live nodes counted by a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    /// Nodes of this connection.
    pub connection: u32,
    /// Nodes of every connection that uses this Stripe account.
    pub account: u32,
}

/// Redis key names of one connection and its account. Connections never share keys, so any
/// number of them can use one Redis; connections of one account share the account key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub connection_name: String,
    pub connection: String,
    pub connection_recent: String,
    pub nodes: String,
    pub account: String,
    pub account_recent: String,
    pub account_nodes: String,
}

impl Keys {
    /// `account` is the Stripe account id; without one, the account is named by a SHA-256 of the
    /// API key (never the key itself), so connections using the same key share its budget.
    pub fn new(connection: &str, account_id: Option<&str>, api_key: &str) -> Self {
        let account = match account_id {
            Some(id) => id.to_string(),
            None => {
                let digest = Sha256::digest(api_key.as_bytes());
                let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
                format!("key-sha256-{hex}")
            }
        };
        let connection_key =
            |suffix: &str| format!("stripe-connector:connection:{connection}:{suffix}");
        let account_key = |suffix: &str| format!("stripe-connector:account:{account}:{suffix}");
        Self {
            connection_name: connection.to_string(),
            connection: connection_key("gcra"),
            connection_recent: connection_key("recent"),
            nodes: connection_key("nodes"),
            account: account_key("gcra"),
            account_recent: account_key("recent"),
            account_nodes: account_key("nodes"),
        }
    }

    /// A node's member in its account's live-node set: node ids are unique per connection only.
    pub fn account_member(&self, node_id: &str) -> String {
        format!("{}/{node_id}", self.connection_name)
    }
}

/// How to reach Redis and what to ask of it.
#[derive(Debug, Clone)]
pub struct SharedSettings {
    pub redis_url: String,
    pub redis_password: Option<Secret>,
    pub keys: Keys,
    pub node_id: String,
    pub tps_per_node: u32,
    /// 0 turns the account budget off.
    pub account_tps: u32,
    /// Least burst tolerance of the GCRA (it is at least one emission interval), and the jitter
    /// the cap on any second allows: absorbs the jitter of request arrivals at high rates.
    pub least_tolerance: Duration,
    /// Longest wait for one Redis command before the node falls back to its local budget.
    pub command_timeout: Duration,
    /// A node counts as live for this long after its last heartbeat.
    pub heartbeat_ttl: Duration,
}

/// A connection to the shared budgets. Cheap to clone.
#[derive(Clone)]
pub struct SharedBudget {
    connection: ConnectionManager,
    acquire: Script,
    heartbeat: Script,
    settings: SharedSettings,
}

impl SharedBudget {
    /// Connects lazily: a Redis that is down now is not an error (the node runs locally until it
    /// answers). Must be called inside a Tokio runtime.
    pub fn new(settings: SharedSettings) -> anyhow::Result<Self> {
        let mut info = settings
            .redis_url
            .as_str()
            .into_connection_info()
            .map_err(|e| anyhow::anyhow!("--redis-url: not a valid Redis URL ({:?})", e.kind()))?;
        if let Some(password) = &settings.redis_password {
            let redis = info
                .redis_settings()
                .clone()
                .set_password(password.expose());
            info = info.set_redis_settings(redis);
        }
        let client = redis::Client::open(info)
            .map_err(|e| anyhow::anyhow!("--redis-url: cannot use it ({:?})", e.kind()))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(settings.command_timeout))
            .set_connection_timeout(Some(
                settings.command_timeout.max(Duration::from_millis(250)),
            ))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(Duration::from_secs(1));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| anyhow::anyhow!("--redis-url: cannot use it ({:?})", e.kind()))?;
        Ok(Self {
            connection,
            acquire: Script::new(ACQUIRE),
            heartbeat: Script::new(HEARTBEAT),
            settings,
        })
    }

    pub fn settings(&self) -> &SharedSettings {
        &self.settings
    }

    /// Asks for one transaction: one EVALSHA (the script is loaded again after NOSCRIPT, as
    /// after a Redis restart).
    pub async fn acquire(&self) -> Result<Verdict, RedisError> {
        let s = &self.settings;
        let mut connection = self.connection.clone();
        let mut invocation = self.acquire.prepare_invoke();
        invocation
            .key(&s.keys.connection)
            .key(&s.keys.connection_recent)
            .key(&s.keys.nodes)
            .key(&s.keys.account)
            .key(&s.keys.account_recent)
            .arg(s.tps_per_node)
            .arg(s.account_tps)
            .arg(s.least_tolerance.as_micros() as u64);
        let call = invocation.invoke_async::<(i64, i64, i64, i64, i64, i64)>(&mut connection);
        let (admitted, retry_after_us, refused_by, live_nodes, capacity, now_us) =
            self.bounded(call).await?;
        let refused_by = match (admitted, refused_by) {
            (1, _) => None,
            (_, 2) => Some(Reason::Account),
            _ => Some(Reason::Connection),
        };
        Ok(Verdict {
            refused_by,
            retry_after: Duration::from_micros(retry_after_us.max(0) as u64),
            live_nodes: live_nodes.max(0) as u32,
            capacity_tps: capacity.max(0) as u32,
            decided_at_us: now_us.max(0) as u64,
        })
    }

    /// Marks this node live for the heartbeat TTL, in its connection's and its account's
    /// live-node sets, and counts both.
    pub async fn heartbeat(&self) -> Result<Liveness, RedisError> {
        let s = &self.settings;
        let mut connection = self.connection.clone();
        let ttl_ms = s.heartbeat_ttl.as_millis() as u64;
        let mut invocation = self.heartbeat.prepare_invoke();
        invocation
            .key(&s.keys.nodes)
            .key(&s.keys.account_nodes)
            .arg(&s.node_id)
            .arg(ttl_ms)
            .arg(s.keys.account_member(&s.node_id));
        let call = invocation.invoke_async::<(u32, u32)>(&mut connection);
        let (connection_nodes, account_nodes) = self.bounded(call).await?;
        Ok(Liveness {
            connection: connection_nodes,
            account: account_nodes,
        })
    }

    /// Leaves the live nodes at once (graceful shutdown), so the others' capacity drops now
    /// rather than when the heartbeat expires.
    pub async fn leave(&self) -> Result<(), RedisError> {
        let s = &self.settings;
        let mut connection = self.connection.clone();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("ZREM")
            .arg(&s.keys.nodes)
            .arg(&s.node_id)
            .ignore()
            .cmd("ZREM")
            .arg(&s.keys.account_nodes)
            .arg(s.keys.account_member(&s.node_id))
            .ignore();
        let call = pipe.query_async::<()>(&mut connection);
        self.bounded(call).await
    }

    async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, RedisError> {
        match tokio::time::timeout(self.settings.command_timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "Redis did not answer in time",
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_namespaced_per_connection_and_account() {
        let keys = Keys::new("shop", Some("acct_1"), "sk_test_secret");
        assert_eq!(keys.connection, "stripe-connector:connection:shop:gcra");
        assert_eq!(
            keys.connection_recent,
            "stripe-connector:connection:shop:recent"
        );
        assert_eq!(keys.nodes, "stripe-connector:connection:shop:nodes");
        assert_eq!(keys.account, "stripe-connector:account:acct_1:gcra");
        assert_eq!(
            keys.account_recent,
            "stripe-connector:account:acct_1:recent"
        );
        assert_eq!(keys.account_nodes, "stripe-connector:account:acct_1:nodes");
        assert_eq!(keys.account_member("n1"), "shop/n1");
    }

    #[test]
    fn settings_never_print_the_redis_password() {
        let settings = SharedSettings {
            redis_url: "redis://127.0.0.1:6379/".into(),
            redis_password: Some(Secret::new("redis-pass-in-debug")),
            keys: Keys::new("shop", None, "sk_test_secret"),
            node_id: "n1".into(),
            tps_per_node: 6,
            account_tps: 25,
            least_tolerance: Duration::from_millis(20),
            command_timeout: Duration::from_millis(50),
            heartbeat_ttl: Duration::from_secs(3),
        };
        let printed = format!("{settings:?}");
        assert!(
            printed.contains("redis_password: Some(Secret([REDACTED]))"),
            "{printed}"
        );
        assert!(!printed.contains("redis-pass-in-debug"), "{printed}");
    }

    #[test]
    fn account_key_without_id_hashes_the_api_key_and_never_contains_it() {
        let a = Keys::new("a", None, "sk_test_secret");
        let b = Keys::new("b", None, "sk_test_secret");
        let c = Keys::new("c", None, "sk_test_other");
        assert_eq!(a.account, b.account);
        assert_ne!(a.account, c.account);
        assert!(!a.account.contains("secret"), "{}", a.account);
        assert!(
            a.account
                .starts_with("stripe-connector:account:key-sha256-")
        );
    }
}
