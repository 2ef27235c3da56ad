//! Typed node settings from flags and environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "stripe-node",
    version,
    about = "Stripe connector node: entity operations and actions over HTTP"
)]
pub struct Config {
    /// Address of the API (entity operations and actions).
    #[arg(long, env = "NODE_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,

    /// Address of the admin endpoints (/healthz, /readyz, /metrics), which need no token.
    #[arg(long, env = "NODE_ADMIN_LISTEN", default_value = "0.0.0.0:9090")]
    pub admin_listen: SocketAddr,

    /// Name of the StripeConnection this node serves.
    #[arg(long, env = "CONNECTION_NAME", default_value = "local")]
    pub connection_name: String,

    /// Namespace of the StripeConnection: with the name, it keeps the limiter's Redis keys apart
    /// from a same-named connection in another namespace on the same Redis.
    #[arg(long, env = "CONNECTION_NAMESPACE")]
    pub connection_namespace: Option<String>,

    /// File holding the Stripe API key (a mounted Secret).
    #[arg(long, env = "STRIPE_API_KEY_FILE")]
    pub stripe_api_key_file: PathBuf,

    /// Stripe's base URL; point it at a local Stripe peer for tests and demos.
    #[arg(
        long,
        env = "STRIPE_BASE_URL",
        default_value = "https://api.stripe.com"
    )]
    pub stripe_base_url: String,

    /// Pinned Stripe API version sent as `Stripe-Version`.
    #[arg(long, env = "STRIPE_API_VERSION", default_value = "2023-08-16")]
    pub stripe_api_version: String,

    /// Stripe account to act for (`Stripe-Account` header).
    #[arg(long, env = "STRIPE_ACCOUNT_ID")]
    pub stripe_account_id: Option<String>,

    /// Transactions per second each live node adds to the connection's capacity.
    #[arg(long, env = "TPS_PER_NODE", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..))]
    pub tps_per_node: u32,

    /// Redis URL of the shared limiter; without it each node limits itself in-process.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// File with the client token callers must send as `Authorization: Bearer` (a mounted
    /// Secret, re-read when it changes). Without it the API is open: for local runs only.
    #[arg(long, env = "CLIENT_TOKEN_FILE")]
    pub client_token_file: Option<PathBuf>,

    /// Longest time one API request may take, Stripe retries included (504 DEADLINE_EXCEEDED).
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_secs: u64,

    // --- limiter (see docs/limiter.md) ---
    /// This node's id among the connection's live nodes (the pod name); defaults to the hostname.
    #[arg(long, env = "NODE_ID")]
    pub node_id: Option<String>,

    /// File holding the Redis password (a mounted Secret).
    #[arg(long, env = "REDIS_PASSWORD_FILE")]
    pub redis_password_file: Option<PathBuf>,

    /// Transactions per second for the Stripe account, across every connection using it
    /// (default: 25 for test keys, 100 for live keys, Stripe's own limits).
    #[arg(long, env = "ACCOUNT_TPS", value_parser = clap::value_parser!(u32).range(1..))]
    pub account_tps: Option<u32>,

    /// How long a request over capacity may wait for a slot before it gets 429 (0: no wait).
    #[arg(long, env = "LIMITER_MAX_WAIT_MS", default_value_t = 0)]
    pub limiter_max_wait_ms: u64,

    /// Longest wait for Redis before a node limits itself locally, in milliseconds.
    #[arg(long, env = "REDIS_TIMEOUT_MS", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub redis_timeout_ms: u64,
    // --- end limiter ---
    /// Log filter (tracing's env-filter syntax). The operator sets the connection's level, which
    /// defaults to `error` there; `info` is needed to see the Stripe exchange log (--verbosity).
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Log format: json (for collectors) or text (for local runs).
    #[arg(long, env = "LOG_FORMAT", default_value = "json")]
    pub log_format: LogFormat,

    // --- Stripe client and API behaviour (node API) ---
    /// Retries of a failed Stripe call (429, 409, 5xx, connection errors), after the first try.
    #[arg(long, env = "STRIPE_MAX_RETRIES", default_value_t = 3)]
    pub stripe_max_retries: usize,

    /// First retry delay in milliseconds; it doubles per retry, with jitter.
    #[arg(long, env = "STRIPE_RETRY_BASE_MS", default_value_t = 500)]
    pub stripe_retry_base_ms: u64,

    /// Timeout of one Stripe request in seconds.
    #[arg(long, env = "STRIPE_TIMEOUT_SECS", default_value_t = 80)]
    pub stripe_timeout_secs: u64,

    // --- Outbound proxy, TLS, verbosity and logging switch (docs/proxy-and-logging.md) ---
    /// Outbound proxy host; the proxy is used when this is set.
    #[arg(long, env = "PROXY_HOST")]
    pub proxy_host: Option<String>,

    /// Outbound proxy port.
    #[arg(long, env = "PROXY_PORT")]
    pub proxy_port: Option<u16>,

    /// How the node authenticates to the proxy.
    #[arg(
        long,
        env = "PROXY_AUTH_SCHEME",
        value_enum,
        default_value = "NONE",
        ignore_case = true
    )]
    pub proxy_auth_scheme: ProxyAuthScheme,

    /// Proxy user name (BASIC and DIGEST).
    #[arg(long, env = "PROXY_USER")]
    pub proxy_user: Option<String>,

    /// File holding the proxy password (a mounted Secret).
    #[arg(long, env = "PROXY_PASSWORD_FILE")]
    pub proxy_password_file: Option<PathBuf>,

    /// When TLS is used on the way through the proxy (the seed's proxy SSL type).
    #[arg(
        long,
        env = "PROXY_SSL_TYPE",
        value_enum,
        default_value = "AUTO",
        ignore_case = true
    )]
    pub proxy_ssl_type: ProxySslType,

    /// PEM bundle of CA certificates trusted in addition to the system roots.
    #[arg(long, env = "EXTRA_CA_FILE")]
    pub extra_ca_file: Option<PathBuf>,

    /// How much of each Stripe exchange is logged, 1..5 (secrets are always redacted).
    #[arg(long, env = "VERBOSITY", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub verbosity: u8,

    /// `false` turns all logging off (start-up errors are still printed).
    #[arg(long, env = "LOGGING_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub logging_enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum ProxyAuthScheme {
    None,
    Basic,
    Digest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum ProxySslType {
    /// CONNECT tunnel for https targets, plain forwarding for http targets.
    Auto,
    /// TLS to the proxy itself; then as AUTO inside that TLS connection.
    Always,
    /// Plain connection to the proxy, plain forwarding; refused for https targets.
    Never,
    /// Always a CONNECT tunnel, also for http targets.
    Tunnel,
}

impl Config {
    /// `--request-timeout-secs` as a duration.
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.request_timeout_secs)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}
