//! The operator's admin endpoint: `/healthz`, `/readyz` and `/metrics`, served by the admin
//! server it shares with the node (`stripe_node::admin`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::http::StatusCode;
use prometheus_client::registry::Registry;
use serde_json::json;
use stripe_node::admin::{self, Admin};
use tokio_util::sync::CancellationToken;

/// What the admin endpoint serves.
pub struct AdminState {
    pub registry: Registry,
    /// Set once the operator reached the API server and started (as leader or standby).
    pub ready: AtomicBool,
}

impl AdminState {
    pub fn new(registry: Registry) -> Arc<Self> {
        Arc::new(Self {
            registry,
            ready: AtomicBool::new(false),
        })
    }
}

impl Admin for AdminState {
    fn readiness(&self) -> (StatusCode, serde_json::Value) {
        if self.ready.load(Ordering::Relaxed) {
            (StatusCode::OK, json!({"status": "ready"}))
        } else {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"status": "starting"}),
            )
        }
    }

    fn metrics(&self) -> String {
        admin::encode(&self.registry)
    }
}

pub fn app(state: Arc<AdminState>) -> Router {
    admin::router(state)
}

/// Serves [`app`] on `addr` until `stop` is cancelled.
pub async fn serve(
    addr: SocketAddr,
    state: Arc<AdminState>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    admin::serve(listener, app(state), stop).await
}
