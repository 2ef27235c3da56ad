use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use serde_json::Value;

use super::exchange_log::Exchange;
use super::proxy::Proxy;
use super::tls;
use super::transport::{Transport, TransportError};
use super::{ApiKeyFile, StripeApi, StripeRequest};
use crate::config::{StripeArgs, Verbosity};
use crate::error::ApiError;

/// Longest wait the client accepts from a `Retry-After` header before giving up on a retry.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// Everything the Stripe client is built from, in one place.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub base_url: String,
    pub api_version: String,
    pub account_id: Option<String>,
    /// Retries after the first attempt.
    pub max_retries: usize,
    /// First backoff delay; it doubles per retry, with jitter, up to `max_retry_delay`.
    pub retry_base: Duration,
    pub max_retry_delay: Duration,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// The outbound proxy, if any (credentials already read from their file).
    pub proxy: Option<Arc<Proxy>>,
    /// PEM bundle trusted in addition to the system roots.
    pub extra_ca_file: Option<PathBuf>,
    /// How much of each exchange is logged.
    pub verbosity: Verbosity,
}

impl ClientOptions {
    /// The options from the Stripe flags, with the outbound proxy (if any) and the exchange log's
    /// verbosity.
    pub fn new(args: &StripeArgs, proxy: Option<Proxy>, verbosity: Verbosity) -> Self {
        Self {
            base_url: args.base_url.trim_end_matches('/').to_string(),
            api_version: args.api_version.clone(),
            account_id: args.account_id.clone().filter(|a| !a.is_empty()),
            max_retries: args.max_retries,
            retry_base: Duration::from_millis(args.retry_base_ms),
            max_retry_delay: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(args.timeout_secs),
            proxy: proxy.map(Arc::new),
            extra_ca_file: args.extra_ca_file.clone(),
            verbosity,
        }
    }

    /// The pooled HTTP transport: rustls with the system roots (+ extra CA), through the proxy.
    pub fn build_http(&self) -> anyhow::Result<Transport> {
        let tls = tls::client_config(self.extra_ca_file.as_deref())?;
        Ok(Transport::new(
            tls,
            self.proxy.clone(),
            self.connect_timeout,
            self.request_timeout,
            self.verbosity,
        ))
    }
}

/// Stripe over HTTPS (rustls, pooled connections, optional proxy), with bounded retries.
pub struct HttpStripeClient {
    http: Transport,
    options: ClientOptions,
    key: Arc<ApiKeyFile>,
}

/// One failed attempt, and whether another attempt may help.
struct Failure {
    error: ApiError,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl HttpStripeClient {
    pub fn new(options: ClientOptions, key: Arc<ApiKeyFile>) -> anyhow::Result<Self> {
        Ok(Self {
            http: options.build_http()?,
            options,
            key,
        })
    }

    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::new()
            .with_min_delay(self.options.retry_base)
            .with_max_delay(self.options.max_retry_delay)
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(self.options.max_retries)
    }

    /// The request headers; a value that is not a valid header (a caller's idempotency key,
    /// the configured account) is an error, never silently left out.
    fn headers(
        &self,
        key: &str,
        idempotency_key: Option<&str>,
        form: bool,
    ) -> Result<HeaderMap, TransportError> {
        let mut headers = HeaderMap::new();
        let mut invalid = None;
        let mut set = |name: &'static str, value: &str| match HeaderValue::from_str(value) {
            Ok(value) => {
                headers.insert(name, value);
            }
            Err(_) => invalid = Some(name),
        };
        set("authorization", &format!("Bearer {key}"));
        set("stripe-version", &self.options.api_version);
        set(
            "user-agent",
            concat!("stripe-connector-node/", env!("CARGO_PKG_VERSION")),
        );
        if let Some(account) = &self.options.account_id {
            set("stripe-account", account);
        }
        if form {
            set("content-type", "application/x-www-form-urlencoded");
        }
        if let Some(key) = idempotency_key {
            set("idempotency-key", key);
        }
        match invalid {
            // The API key is a secret: never named as the cause, nor quoted.
            Some(name) => Err(TransportError::InvalidRequest(format!(
                "{name} is not a valid header value"
            ))),
            None => Ok(headers),
        }
    }

    async fn attempt(
        &self,
        request: &StripeRequest,
        idempotency_key: Option<&str>,
        attempt: usize,
    ) -> Result<Value, Failure> {
        let key = self.key.current();
        let encoded = serde_urlencoded::to_string(&request.params).unwrap_or_default();
        let post = request.method == Method::POST;
        let mut url = format!("{}{}", self.options.base_url, request.path);
        if !post && !encoded.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&encoded);
        }
        let body = if post {
            Bytes::from(encoded)
        } else {
            Bytes::new()
        };
        let headers = self
            .headers(key.expose(), idempotency_key, post)
            .map_err(|e| Failure {
                retryable: false,
                retry_after: None,
                error: e.to_api_error(),
            })?;
        let started = Instant::now();
        let outcome = self.http.send(&request.method, &url, &headers, body).await;
        Exchange {
            verbosity: self.options.verbosity,
            request,
            url: &url,
            headers: &headers,
            attempt,
            latency: started.elapsed(),
        }
        .log(outcome.as_ref());
        // The same idempotency key makes a retried POST safe even if Stripe saw the first one.
        let response = outcome.map_err(|e| Failure {
            retryable: e.retryable(),
            retry_after: None,
            error: e.to_api_error(),
        })?;
        let status = response.status;
        let header = |name: &str| {
            response
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let should_retry = header("Stripe-Should-Retry");
        let retry_after = header("Retry-After")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(body);
        }
        Err(Failure {
            error: ApiError::from_stripe(status, &body, header("Request-Id")),
            retryable: retryable(status, should_retry.as_deref()),
            retry_after: retry_after.filter(|d| *d <= MAX_RETRY_AFTER),
        })
    }
}

#[async_trait]
impl StripeApi for HttpStripeClient {
    async fn call(&self, request: StripeRequest) -> Result<Value, ApiError> {
        // Every POST carries an idempotency key, the same one on every retry.
        let idempotency_key = (request.method == Method::POST).then(|| {
            request
                .idempotency_key
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
        });
        let attempts = AtomicUsize::new(0);
        let attempt = || {
            let n = attempts.fetch_add(1, Ordering::Relaxed) + 1;
            self.attempt(&request, idempotency_key.as_deref(), n)
        };
        attempt
            .retry(self.backoff())
            .sleep(tokio::time::sleep)
            .when(|f: &Failure| f.retryable)
            .adjust(|f: &Failure, delay| delay.map(|d| f.retry_after.map_or(d, |r| r.max(d))))
            .notify(|f: &Failure, delay| {
                if self.options.verbosity.logs_transport() {
                    tracing::info!(target: "stripe", path = %request.path, error = %f.error.message(), ?delay, "retrying Stripe call");
                }
            })
            .await
            .map_err(|f| f.error)
    }
}

/// Whether a failed call may be tried again: `Stripe-Should-Retry` decides when Stripe sends it;
/// otherwise lock conflicts (409), rate limits (429) and Stripe's own errors (5xx) are retried.
fn retryable(status: u16, should_retry: Option<&str>) -> bool {
    match should_retry {
        Some("true") => true,
        Some("false") => false,
        _ => status == 409 || status == 429 || status >= 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_should_retry_decides_before_the_status() {
        for status in [409, 429, 500, 502, 503] {
            assert!(retryable(status, None), "{status}");
            assert!(!retryable(status, Some("false")), "{status}");
        }
        for status in [400, 401, 402, 404] {
            assert!(!retryable(status, None), "{status}");
        }
        assert!(retryable(400, Some("true")));
    }
}
