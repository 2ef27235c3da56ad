//! The two listeners: the API (port 8080) and the admin endpoints (port 9090).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::admin::{self, Admin};
use crate::auth::ClientToken;
use crate::config::Config;
use crate::error::{ApiError, ApiResult, Code};
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::stripe::proxy::Proxy;
use crate::stripe::{ApiKeyFile, ClientOptions, HttpStripeClient, StripeApi, StripeRequest};

pub use crate::limits::MAX_BODY_BYTES;

/// The API router (entity operations and actions).
pub fn app(state: AppState) -> Router {
    // Routes that reach Stripe pass the limiter first; metadata routes do not.
    let stripe_bound = Router::new()
        .route("/v2:checkStatus", get(check_status))
        .merge(crate::api::stripe_bound_routes(&state))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::limiter::admission,
        ));
    Router::new()
        .merge(stripe_bound)
        .merge(crate::api::metadata_routes())
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        // Outermost API check: no token, no limiter budget and no Stripe call.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_token,
        ))
        .layer(CatchPanicLayer::new())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            state.config.request_timeout(),
        ))
        // Size checks before auth; bare 413/504/rejections below become JSON errors.
        .layer(axum::middleware::from_fn(crate::limits::check_request))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::limits::json_errors,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn unknown_route(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no such route: {}; see GET /v2/entityTypes and GET /v2/actions",
        uri.path()
    ))
}

async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        Code::Unimplemented,
        format!("{method} is not allowed on {}", uri.path()),
    )
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

/// `GET /v2:checkStatus`: ACTIVE, AUTH_ERROR or ERROR, from a cheap Stripe call.
async fn check_status(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let mut probe = StripeRequest::get("/v1/customers");
    probe.params.push(("limit".into(), "1".into()));
    let (status, description) = match state.stripe.call(probe).await {
        Ok(_) => ("ACTIVE", String::new()),
        Err(ApiError {
            code: Code::Unauthenticated,
            message,
            ..
        }) => ("AUTH_ERROR", message),
        Err(e) => ("ERROR", e.message),
    };
    Ok(Json(json!({"state": status, "description": description})))
}

/// Builds the shared state from the configuration.
pub fn build_state(config: Config) -> anyhow::Result<AppState> {
    let metrics = Arc::new(Metrics::new());
    let key = Arc::new(ApiKeyFile::open(&config.stripe.api_key_file)?);
    let proxy = Proxy::from_args(&config.proxy, &config.stripe.base_url)?;
    let options = ClientOptions::new(&config.stripe, proxy, config.logging.verbosity);
    let stripe: Arc<dyn StripeApi> = Arc::new(HttpStripeClient::new(options, key.clone())?);
    let client_token = match &config.listen.client_token_file {
        Some(path) => Some(Arc::new(ClientToken::from_file(path)?)),
        None => {
            tracing::warn!("no --client-token-file: the API accepts callers without a token");
            None
        }
    };
    let limiter = crate::limiter::from_args(
        &config.limiter,
        &config.connection_scope(),
        config.stripe.account_id.as_deref(),
        &key,
        &metrics,
    )?;
    Ok(AppState {
        client_token,
        limiter,
        metrics,
        stripe,
        config: Arc::new(config),
    })
}

/// Serves both listeners until SIGTERM or Ctrl-C, then drains in-flight requests.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let state = build_state(config)?;
    let api = TcpListener::bind(state.config.listen.api).await?;
    let admin_listener = TcpListener::bind(state.config.listen.admin).await?;
    tracing::info!(
        api = %api.local_addr()?,
        admin = %admin_listener.local_addr()?,
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
        admin::serve(api, app(state.clone()), stop.clone()),
        admin::serve(admin_listener, admin_app(state), stop),
    )?;
    Ok(())
}
