//! The admin endpoint (`/healthz`, `/readyz`, `/metrics`) and the retry backoff.

use std::sync::atomic::Ordering;
use std::time::Duration;

use http::{Request, StatusCode};
use http_body_util::BodyExt;
use prometheus_client::registry::Registry;
use stripe_operator::admin::{AdminState, app};
use stripe_operator::metrics::Metrics;
use stripe_operator::reconcile::Backoff;
use tower::ServiceExt;

async fn get(state: &std::sync::Arc<AdminState>, path: &str) -> (StatusCode, String) {
    let response = app(state.clone())
        .oneshot(
            Request::get(path)
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let mut registry = Registry::default();
    let metrics = Metrics::register(&mut registry);
    let state = AdminState::new(registry);

    assert_eq!(get(&state, "/healthz").await.0, StatusCode::OK);
    assert_eq!(
        get(&state, "/readyz").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    state.ready.store(true, Ordering::Relaxed);
    assert_eq!(get(&state, "/readyz").await.0, StatusCode::OK);

    metrics.reconciles.inc();
    metrics.failed("kube");
    metrics.wrote("Deployment");
    metrics.duration.observe(0.02);
    let (status, body) = get(&state, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for line in [
        "stripe_operator_reconciles_total 1",
        "stripe_operator_reconcile_failures_total{error=\"kube\"} 1",
        "stripe_operator_writes_total{kind=\"Deployment\"} 1",
        "stripe_operator_reconcile_duration_seconds_count 1",
        "stripe_operator_leader 0",
    ] {
        assert!(body.contains(line), "missing {line:?} in\n{body}");
    }
}

#[test]
fn backoff_doubles_per_connection_up_to_five_minutes_and_resets() {
    let backoff = Backoff::default();
    let delays: Vec<u64> = (0..8).map(|_| backoff.next("ns/a").as_secs()).collect();
    assert_eq!(delays, [5, 10, 20, 40, 80, 160, 300, 300]);
    assert_eq!(backoff.next("ns/b"), Duration::from_secs(5));
    backoff.reset("ns/a");
    assert_eq!(backoff.next("ns/a"), Duration::from_secs(5));
}
