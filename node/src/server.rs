//! The two listeners: the API (port 8080) and the admin endpoints (port 9090).

use std::sync::Arc;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::auth::ClientToken;
use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::stripe::{ApiKeyFile, ClientOptions, HttpStripeClient, StripeApi};

pub use crate::input_limits::MAX_BODY_BYTES;

/// The API router. Its layers, outermost first: tracing; `Connection: close` on answers sent
/// before the body was read; input limits (before auth: such a request is refused unread);
/// Google's system parameters; the client token; the request timeout; panics as 500s.
pub fn app(state: AppState) -> Router {
    let timeout = state.config.request_timeout();
    let layers = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
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
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    Json(json!({
        "status": "ready",
        "connection": state.config.connection_name,
        "limiter": state.limiter.details(),
    }))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

/// Builds the shared state from the configuration.
pub fn build_state(config: Config) -> anyhow::Result<AppState> {
    let key = Arc::new(ApiKeyFile::new(config.stripe_api_key_file.clone()));
    let stripe: Arc<dyn StripeApi> = Arc::new(HttpStripeClient::new(
        ClientOptions::from_config(&config)?,
        key,
    )?);
    let client_token = match &config.client_token_file {
        Some(path) => Some(Arc::new(ClientToken::from_file(path)?)),
        None => {
            tracing::warn!("no --client-token-file: the API accepts callers without a token");
            None
        }
    };
    let metrics = Arc::new(Metrics::new());
    Ok(AppState {
        client_token,
        limiter: crate::limiter::from_config(&config, &metrics)?,
        metrics,
        stripe,
        config: Arc::new(config),
    })
}

/// Serves both listeners until SIGTERM or Ctrl-C, then drains in-flight requests.
pub async fn run(config: Config) -> anyhow::Result<()> {
    validate_api_key_file(&config)?;
    let state = build_state(config)?;
    let api = TcpListener::bind(state.config.listen).await?;
    let admin = TcpListener::bind(state.config.admin_listen).await?;
    tracing::info!(
        api = %api.local_addr()?,
        admin = %admin.local_addr()?,
        connection = %state.config.connection_name,
        "node listening"
    );
    // On SIGTERM the node first leaves the limiter's live nodes (the others' capacity drops at
    // once), then both listeners drain.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let limiter = state.limiter.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        limiter.leave().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let admin_server = axum::serve(admin, admin_app(state.clone()))
        .with_graceful_shutdown(stopped(stop_rx.clone()));
    let api_server = axum::serve(api, app(state)).with_graceful_shutdown(stopped(stop_rx));
    tokio::try_join!(async { api_server.await }, async { admin_server.await })?;
    Ok(())
}

fn validate_api_key_file(config: &Config) -> anyhow::Result<()> {
    ApiKeyFile::new(config.stripe_api_key_file.clone()).validate()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}
