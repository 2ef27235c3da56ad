//! Typed node settings from flags and environment variables, in one group per concern; each part
//! of the node takes only its own group (docs/node-settings.md lists them all).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{Args, Parser};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "stripe-node",
    version,
    about = "Stripe connector node: entity operations and actions over HTTP"
)]
pub struct Config {
    /// Name of the StripeConnection this node serves.
    #[arg(long, env = "CONNECTION_NAME", default_value = "local")]
    pub connection_name: String,

    /// Namespace of the StripeConnection: with the name, it keeps the limiter's Redis keys apart
    /// from a same-named connection in another namespace on the same Redis.
    #[arg(long, env = "CONNECTION_NAMESPACE")]
    pub connection_namespace: Option<String>,

    #[command(flatten, next_help_heading = "Listening")]
    pub listen: ListenArgs,

    #[command(flatten, next_help_heading = "Stripe")]
    pub stripe: StripeArgs,

    #[command(flatten, next_help_heading = "Limiter (docs/limiter.md)")]
    pub limiter: LimiterArgs,

    #[command(
        flatten,
        next_help_heading = "Outbound proxy (docs/proxy-and-logging.md)"
    )]
    pub proxy: ProxyArgs,

    #[command(flatten, next_help_heading = "Logging")]
    pub logging: LoggingArgs,
}

impl Config {
    /// The longest time one API request may take.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.listen.request_timeout_secs)
    }

    /// The connection's name in the limiter's Redis keys: `<namespace>/<name>`, unique
    /// cluster-wide, as connections of every namespace may share one Redis.
    pub fn connection_scope(&self) -> String {
        match &self.connection_namespace {
            Some(namespace) => format!("{namespace}/{}", self.connection_name),
            None => self.connection_name.clone(),
        }
    }
}

/// What the two listeners accept.
#[derive(Debug, Clone, Args)]
pub struct ListenArgs {
    /// Address of the API (entity operations and actions).
    #[arg(
        long = "listen",
        value_name = "ADDRESS",
        env = "NODE_LISTEN",
        default_value = "0.0.0.0:8080"
    )]
    pub api: SocketAddr,

    /// Address of the admin endpoints (/healthz, /readyz, /metrics), which need no token.
    #[arg(
        long = "admin-listen",
        value_name = "ADDRESS",
        env = "NODE_ADMIN_LISTEN",
        default_value = "0.0.0.0:9090"
    )]
    pub admin: SocketAddr,

    /// File with the token of the client `default`, which may call everything, sent as
    /// `Authorization: Bearer` (a mounted Secret, re-read when it changes). Without it and
    /// without --clients the API is open: for local runs only.
    #[arg(long, env = "CLIENT_TOKEN_FILE")]
    pub client_token_file: Option<PathBuf>,

    /// Named clients with scopes, as JSON: `[{"name", "tokenFile", "allow": {"entities":
    /// {"Customer": ["LIST", "GET"]}, "actions": [...], "httpRequests": [...]}}]`
    /// (docs/reliability.md, "Who may do what").
    #[arg(long, env = "CLIENTS", value_name = "JSON")]
    pub clients: Option<String>,

    /// PEM certificate chain of the API's HTTPS (with --tls-key-file); re-read when it changes.
    /// Without it the API is plain HTTP. The admin port stays plain HTTP.
    #[arg(long, env = "TLS_CERT_FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<PathBuf>,

    /// PEM private key of --tls-cert-file.
    #[arg(long, env = "TLS_KEY_FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<PathBuf>,

    /// Longest time one API request may take, Stripe retries included (504 DEADLINE_EXCEEDED).
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_secs: u64,
}

/// How the node calls Stripe.
#[derive(Debug, Clone, Args)]
pub struct StripeArgs {
    /// File holding the Stripe API key (a mounted Secret, re-read when it changes).
    #[arg(
        long = "stripe-api-key-file",
        value_name = "FILE",
        env = "STRIPE_API_KEY_FILE"
    )]
    pub api_key_file: PathBuf,

    /// Stripe's base URL; point it at a local Stripe peer for tests and demos.
    #[arg(
        long = "stripe-base-url",
        value_name = "URL",
        env = "STRIPE_BASE_URL",
        default_value = "https://api.stripe.com"
    )]
    pub base_url: String,

    /// Pinned Stripe API version sent as `Stripe-Version`.
    #[arg(
        long = "stripe-api-version",
        value_name = "VERSION",
        env = "STRIPE_API_VERSION",
        default_value = "2023-08-16"
    )]
    pub api_version: String,

    /// Stripe account to act for (`Stripe-Account` header).
    #[arg(long = "stripe-account-id", env = "STRIPE_ACCOUNT_ID")]
    pub account_id: Option<String>,

    /// Retries of a failed Stripe call (429, 409, 5xx, connection errors), after the first try.
    #[arg(
        long = "stripe-max-retries",
        env = "STRIPE_MAX_RETRIES",
        default_value_t = 3
    )]
    pub max_retries: usize,

    /// First retry delay in milliseconds; it doubles per retry, with jitter.
    #[arg(
        long = "stripe-retry-base-ms",
        env = "STRIPE_RETRY_BASE_MS",
        default_value_t = 500
    )]
    pub retry_base_ms: u64,

    /// Timeout of one Stripe request in seconds.
    #[arg(
        long = "stripe-timeout-secs",
        env = "STRIPE_TIMEOUT_SECS",
        default_value_t = 80
    )]
    pub timeout_secs: u64,

    /// PEM bundle of CA certificates trusted in addition to the system roots (for Stripe and for
    /// a TLS proxy).
    #[arg(long, env = "EXTRA_CA_FILE")]
    pub extra_ca_file: Option<PathBuf>,
}

/// The connection's rate: the shared budget in Redis, or this node's own.
#[derive(Debug, Clone, Args)]
pub struct LimiterArgs {
    /// Transactions per second each live node adds to the connection's capacity.
    #[arg(long, env = "TPS_PER_NODE", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..))]
    pub tps_per_node: u32,

    /// Redis URL of the shared limiter; without it each node limits itself in-process.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// File holding the Redis password (a mounted Secret).
    #[arg(long, env = "REDIS_PASSWORD_FILE")]
    pub redis_password_file: Option<PathBuf>,

    /// This node's id among the connection's live nodes (the pod name); defaults to the hostname.
    #[arg(long, env = "NODE_ID")]
    pub node_id: Option<String>,

    /// Transactions per second for the Stripe account, across every connection using it
    /// (default: 25 for test keys, 100 for live keys, Stripe's own limits).
    #[arg(long, env = "ACCOUNT_TPS", value_parser = clap::value_parser!(u32).range(1..))]
    pub account_tps: Option<u32>,

    /// How long a request over capacity may wait for a slot before it gets 429 (0: no wait).
    #[arg(
        long = "limiter-max-wait-ms",
        env = "LIMITER_MAX_WAIT_MS",
        default_value_t = 0
    )]
    pub max_wait_ms: u64,

    /// Longest wait for Redis before a node limits itself locally, in milliseconds.
    #[arg(long, env = "REDIS_TIMEOUT_MS", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub redis_timeout_ms: u64,
}

/// The outbound proxy, used when a host is set.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Outbound proxy host; the proxy is used when this is set.
    #[arg(long = "proxy-host", value_name = "HOST", env = "PROXY_HOST")]
    pub host: Option<String>,

    /// Outbound proxy port.
    #[arg(long = "proxy-port", value_name = "PORT", env = "PROXY_PORT")]
    pub port: Option<u16>,

    /// How the node authenticates to the proxy.
    #[arg(
        long = "proxy-auth-scheme",
        env = "PROXY_AUTH_SCHEME",
        value_enum,
        default_value = "NONE",
        ignore_case = true
    )]
    pub auth_scheme: ProxyAuthScheme,

    /// Proxy user name (BASIC and DIGEST).
    #[arg(long = "proxy-user", value_name = "USER", env = "PROXY_USER")]
    pub user: Option<String>,

    /// File holding the proxy password (a mounted Secret).
    #[arg(
        long = "proxy-password-file",
        value_name = "FILE",
        env = "PROXY_PASSWORD_FILE"
    )]
    pub password_file: Option<PathBuf>,

    /// When TLS is used on the way through the proxy (the connection's proxy SSL type).
    #[arg(
        long = "proxy-ssl-type",
        env = "PROXY_SSL_TYPE",
        value_enum,
        default_value = "AUTO",
        ignore_case = true
    )]
    pub ssl_type: ProxySslType,
}

/// What the node logs, and how.
#[derive(Debug, Clone, Args)]
pub struct LoggingArgs {
    /// `false` turns all logging off (start-up errors are still printed).
    #[arg(long = "logging-enabled", env = "LOGGING_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub enabled: bool,

    /// Log filter (tracing's env-filter syntax). The operator sets the connection's level, which
    /// defaults to `error` there; `info` is needed to see the Stripe exchange log (--verbosity).
    #[arg(
        long = "log-level",
        value_name = "FILTER",
        env = "LOG_LEVEL",
        default_value = "info",
        value_parser = log_filter
    )]
    pub level: String,

    /// Log format: json (for collectors) or text (for local runs).
    #[arg(long = "log-format", env = "LOG_FORMAT", default_value = "json")]
    pub format: LogFormat,

    /// How much of each Stripe exchange is logged, 1..5 (secrets are always redacted).
    #[arg(long, env = "VERBOSITY", default_value = "1", value_parser = clap::value_parser!(u8).range(1..=5).map(Verbosity::new))]
    pub verbosity: Verbosity,
}

/// A log filter as tracing's env-filter reads it, refused at start-up when it does not parse.
fn log_filter(text: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(text)
        .map(|_| text.to_string())
        .map_err(|e| e.to_string())
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

/// How much of each Stripe exchange the node logs, 1..5; each level adds to the one below
/// (docs/proxy-and-logging.md has the table). Secrets are redacted at every level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verbosity(u8);

impl Verbosity {
    /// The level, held to 1..5.
    pub fn new(level: u8) -> Self {
        Self(level.clamp(1, 5))
    }

    /// Level 2: request line and headers, response headers.
    pub fn logs_headers(self) -> bool {
        self.0 >= 2
    }

    /// Level 3: request and response bodies, cut at a few KiB.
    pub fn logs_bodies(self) -> bool {
        self.0 >= 3
    }

    /// Level 4: the transport: connections opened and reused, retries, proxy challenges.
    pub fn logs_transport(self) -> bool {
        self.0 >= 4
    }

    /// Level 5: bodies whole.
    pub fn logs_whole_bodies(self) -> bool {
        self.0 >= 5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_verbosity_level_adds_to_the_one_below() {
        let levels: Vec<[bool; 4]> = (1..=5)
            .map(|level| {
                let v = Verbosity(level);
                [
                    v.logs_headers(),
                    v.logs_bodies(),
                    v.logs_transport(),
                    v.logs_whole_bodies(),
                ]
            })
            .collect();
        assert_eq!(
            levels,
            [
                [false, false, false, false],
                [true, false, false, false],
                [true, true, false, false],
                [true, true, true, false],
                [true, true, true, true],
            ]
        );
        let parse = |v: &str| {
            Config::try_parse_from([
                "stripe-node",
                "--stripe-api-key-file",
                "/k",
                "--verbosity",
                v,
            ])
        };
        assert_eq!(parse("3").unwrap().logging.verbosity, Verbosity(3));
        assert!(parse("0").is_err() && parse("6").is_err());
    }
}
