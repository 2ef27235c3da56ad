//! The admin server (`/healthz`, `/readyz`, `/metrics`) and the shutdown on SIGTERM, written once
//! for the node and the operator.
//!
//! The operator takes this module from the node's library: the workspace has exactly three
//! crates (operator, node, tests), a crate of its own for these few lines would be a fourth, and
//! the node's library is built for every image anyway.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What a process tells its probes and Prometheus.
pub trait Admin: Send + Sync + 'static {
    /// `/readyz`: 200 when the process serves, else 503, with details for people.
    fn readiness(&self) -> (StatusCode, serde_json::Value);

    /// `/metrics`: the OpenMetrics text (see [`encode`]).
    fn metrics(&self) -> String;
}

/// The admin router; no credentials, so keep its port in-cluster.
pub fn router(admin: Arc<dyn Admin>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(admin)
}

async fn readyz(State(admin): State<Arc<dyn Admin>>) -> impl IntoResponse {
    let (status, details) = admin.readiness();
    (status, Json(details))
}

async fn metrics(State(admin): State<Arc<dyn Admin>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        admin.metrics(),
    )
}

/// The OpenMetrics text of `registry`.
pub fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}

/// Serves `router` on `listener` until `stop` is cancelled, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    stop: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
}

/// Resolves on SIGTERM (what Kubernetes sends a pod it stops) or Ctrl-C.
pub async fn termination_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    tracing::info!("shutdown signal received: finishing in-flight work");
}
