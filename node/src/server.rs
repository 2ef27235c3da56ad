//! The two listeners: the API (port 8080) and the admin endpoints (port 9090).

use std::sync::Arc;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::access::Clients;
use crate::admin::{self, Admin};
use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::stripe::proxy::Proxy;
use crate::stripe::{ApiKeyFile, ClientOptions, HttpStripeClient, StripeApi};

pub use crate::input_limits::MAX_BODY_BYTES;

/// The API router. Its layers, outermost first: tracing; `Connection: close` on answers sent
/// before the body was read; input limits (before auth: such a request is refused unread);
/// Google's system parameters; the client token; the request timeout; panics as 500s.
pub fn app(state: AppState) -> Router {
    let timeout = state.config.request_timeout();
    let layers = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(middleware::from_fn(crate::keep_alive::close_if_body_unread))
        .layer(middleware::from_fn(crate::input_limits::check_request))
        .layer(middleware::from_fn(crate::api::system_params::apply))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_token,
        ))
        .layer(middleware::from_fn(move |request, next| {
            within(timeout, request, next)
        }))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("the node failed while handling the request").into_response()
        }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    crate::api::routes(&state)
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(layers)
        .with_state(state)
}

/// The span of a request: every line logged while serving it carries the method, the path and
/// the calling client's name (recorded by the auth layer), never a token.
fn request_span(request: &Request) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        client = tracing::field::Empty,
    )
}

/// 504 DEADLINE_EXCEEDED when a request outlives `--request-timeout-secs`.
async fn within(timeout: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::deadline_exceeded(format!(
            "the request took longer than the node's request timeout of {} (--request-timeout-secs)",
            humantime(timeout)
        ))
        .into_response(),
    }
}

fn humantime(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

async fn unknown_route(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no such method: {}; see GET /v2/projects/-/locations/-/connections/{{connection}}/entityTypes, .../actions and .../tools",
        uri.path()
    ))
}

async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::method_not_allowed(format!("{method} is not allowed on {}", uri.path()))
}

/// The admin router: probes and metrics, no token needed.
pub fn admin_app(state: AppState) -> Router {
    admin::router(Arc::new(state))
}

impl Admin for AppState {
    fn readiness(&self) -> (StatusCode, serde_json::Value) {
        let details = json!({
            "status": "ready",
            "connection": self.config.connection_name,
            "limiter": self.limiter.details(),
        });
        (StatusCode::OK, details)
    }

    fn metrics(&self) -> String {
        self.metrics.encode()
    }
}

/// Builds the shared state from the configuration, with the HTTP client to Stripe.
pub fn build_state(config: Config) -> anyhow::Result<AppState> {
    let key = Arc::new(ApiKeyFile::open(&config.stripe.api_key_file)?);
    let proxy = Proxy::from_args(&config.proxy, &config.stripe.base_url)?;
    let options = ClientOptions::new(&config.stripe, proxy, config.logging.verbosity);
    let stripe = Arc::new(HttpStripeClient::new(options, key.clone())?);
    build_state_with(config, &key, stripe)
}

/// The shared state around a Stripe client: the API's clients, the limiter and the metrics.
pub fn build_state_with(
    config: Config,
    key: &ApiKeyFile,
    stripe: Arc<dyn StripeApi>,
) -> anyhow::Result<AppState> {
    let metrics = Arc::new(Metrics::new());
    let clients = Clients::from_args(
        config.listen.client_token_file.as_deref(),
        config.listen.clients.as_deref(),
    )?
    .map(Arc::new);
    match &clients {
        Some(clients) => tracing::info!(clients = ?clients.names(), "API clients"),
        None => tracing::warn!(
            "no --client-token-file nor --clients: the API accepts callers without a token"
        ),
    }
    let limiter = crate::limiter::from_args(
        &config.limiter,
        &config.connection_scope(),
        config.stripe.account_id.as_deref(),
        key,
        &metrics,
    )?;
    Ok(AppState {
        clients,
        limiter,
        metrics,
        stripe,
        config: Arc::new(config),
    })
}

/// Serves both listeners until SIGTERM or Ctrl-C, then drains in-flight requests.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let state = build_state(config)?;
    let tls = match (
        &state.config.listen.tls_cert_file,
        &state.config.listen.tls_key_file,
    ) {
        (Some(cert), Some(key)) => Some(crate::server_tls::server_config(cert, key)?),
        _ => None,
    };
    let api = TcpListener::bind(state.config.listen.api).await?;
    let admin_listener = TcpListener::bind(state.config.listen.admin).await?;
    tracing::info!(
        api = %api.local_addr()?,
        admin = %admin_listener.local_addr()?,
        https = tls.is_some(),
        connection = %state.config.connection_name,
        "node listening"
    );
    // On SIGTERM the node first leaves the limiter's live nodes (the others' capacity drops at
    // once), then both listeners drain.
    let stop = CancellationToken::new();
    tokio::spawn({
        let (stop, limiter) = (stop.clone(), state.limiter.clone());
        async move {
            admin::termination_signal().await;
            limiter.leave().await;
            stop.cancel();
        }
    });
    tokio::try_join!(
        crate::listener::serve(api, tls, app(state.clone()), stop.clone()),
        admin::serve(admin_listener, admin_app(state), stop),
    )?;
    Ok(())
}
