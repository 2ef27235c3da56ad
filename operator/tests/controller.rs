//! The whole controller (watches, owned children, the Secret watch, reconcile, shutdown) against
//! the in-memory API behind kube-rs's mock service.

mod fake_api;

use std::sync::Arc;
use std::time::Duration;

use fake_api::FakeApi;
use serde_json::{Value, json};
use stripe_operator::children::Settings;
use stripe_operator::controller::controller;
use stripe_operator::metrics::Metrics;
use stripe_operator::reconcile::{Backoff, Context};
use tokio::sync::watch;

const CONN: &str = "/apis/connectors.integration.dev/v1/namespaces/shop/stripeconnections/payments";
const API_KEY: &str = "/api/v1/namespaces/shop/secrets/stripe-api-key";
const DEPLOYMENT: &str = "/apis/apps/v1/namespaces/shop/deployments/payments";

/// Waits (bounded: at most 200 polls of 50 ms) until `done` holds.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}

fn condition_reason(api: &FakeApi, type_: &str) -> Option<String> {
    let conn = api.get(CONN)?;
    conn["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .and_then(|c| c["reason"].as_str().map(str::to_string))
}

/// The real controller running against the fake API, stopped by `stop`.
struct Running {
    ctx: Arc<Context>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    fn start(api: &FakeApi) -> Self {
        let settings = Settings {
            node_image: "stripe-connector-node:test".into(),
            redis_url: None,
            redis_password: None,
        };
        // Retries an hour apart: within a test only a watch event can trigger a reconcile.
        let ctx = Arc::new(Context {
            backoff: Backoff::new(Duration::from_secs(3600), Duration::from_secs(3600)),
            ..Context::new(api.client(), settings, Metrics::default())
        });
        let (stop, stopped) = watch::channel(false);
        let mut stopped_rx = stopped.clone();
        let task = tokio::spawn(controller(
            api.client(),
            Some("shop".into()),
            ctx.clone(),
            async move {
                let _ = stopped_rx.wait_for(|s| *s).await;
            },
        ));
        Self { ctx, stop, task }
    }

    async fn stop(self) {
        self.stop.send(true).expect("controller listening");
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("controller stops on shutdown")
            .expect("controller task");
    }
}

/// The connection `payments` in `shop` with `spec`.
/// An API holding connection `payments`, its key read from Secret `stripe-api-key`, with the
/// spec fields `more` besides.
fn api_with_connection(more: Value) -> FakeApi {
    let mut spec =
        json!({"auth": {"apiKeySecretRef": {"name": "stripe-api-key", "key": "api-key"}}});
    if let (Some(spec), Value::Object(more)) = (spec.as_object_mut(), more) {
        spec.extend(more);
    }
    let api = FakeApi::default();
    api.put(
        CONN,
        json!({
            "apiVersion": "connectors.integration.dev/v1", "kind": "StripeConnection",
            "metadata": {"name": "payments", "namespace": "shop", "uid": "conn-uid",
                         "generation": 1},
            "spec": spec,
        }),
    );
    api
}

fn api_key_secret() -> Value {
    json!({"apiVersion": "v1", "kind": "Secret",
           "metadata": {"name": "stripe-api-key", "namespace": "shop"},
           "data": {"api-key": "c2tfdGVzdA=="}})
}

/// While nothing is stored at `path` the connection is Degraded with `reason` and has no
/// Deployment; once `object` is stored there, its watch reconciles and the Deployment appears.
async fn degraded_until_it_appears(api: &FakeApi, reason: &str, path: &str, object: Value) {
    eventually(&format!("{reason} reported"), || {
        condition_reason(api, "Degraded").as_deref() == Some(reason)
    })
    .await;
    assert!(api.get(DEPLOYMENT).is_none());
    status_triggered_reconcile_read(api, path).await;

    api.put(path, object);
    eventually(&format!("Deployment created after {path} appeared"), || {
        api.get(DEPLOYMENT).is_some()
    })
    .await;
}

/// Writing a Degraded status triggers one more reconcile, which reads `path` again and writes
/// nothing; waiting for that read leaves only the watch under test to reconcile afterwards.
async fn status_triggered_reconcile_read(api: &FakeApi, path: &str) {
    eventually(
        "the status-triggered reconcile read the missing object",
        || {
            api.requests()
                .iter()
                .filter(|r| r.method == http::Method::GET && r.path == path)
                .count()
                >= 2
        },
    )
    .await;
}

#[tokio::test]
async fn a_secret_appearing_reconciles_its_connection_through_the_watch() {
    let api = api_with_connection(json!({}));
    let running = Running::start(&api);
    degraded_until_it_appears(&api, "SecretNotFound", API_KEY, api_key_secret()).await;

    // The Deployment controller reports ready nodes; the owned-Deployment watch brings it back.
    api.edit(DEPLOYMENT, |d| {
        d["status"] = json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                             "readyReplicas": 2,
                             "conditions": [{"type": "Progressing", "status": "True",
                                             "reason": "NewReplicaSetAvailable"}]});
    });
    eventually("Ready", || {
        condition_reason(&api, "Ready").as_deref() == Some("NodesReady")
    })
    .await;
    let status: Value = api.get(CONN).expect("stored")["status"].clone();
    assert_eq!(status["capacityTps"], 12);
    assert!(running.ctx.metrics.reconciles.get() >= 3);

    running.stop().await;
}

#[tokio::test]
async fn a_ca_bundle_config_map_appearing_reconciles_its_connection_through_the_watch() {
    const CA_BUNDLE: &str = "/api/v1/namespaces/shop/configmaps/corp-ca";
    let api =
        api_with_connection(json!({"tls": {"caBundleRef": {"name": "corp-ca", "key": "ca.crt"}}}));
    api.put(API_KEY, api_key_secret());
    let running = Running::start(&api);
    let ca_bundle = json!({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "corp-ca", "namespace": "shop"},
                           "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n"}});
    degraded_until_it_appears(&api, "CaBundleNotFound", CA_BUNDLE, ca_bundle).await;

    running.stop().await;
}

#[tokio::test]
async fn an_hpa_status_write_wakes_nothing_but_its_deletion_brings_it_back() {
    const HPA: &str = "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/payments";
    let api = api_with_connection(json!({}));
    api.put(API_KEY, api_key_secret());
    let running = Running::start(&api);
    eventually("HPA created", || api.get(HPA).is_some()).await;
    // Let the reconciles that creating the children set off run out: the count holds still
    // for longer than the controller's 1 s debounce.
    let mut last = running.ctx.metrics.reconciles.get();
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let now = running.ctx.metrics.reconciles.get();
        if std::mem::replace(&mut last, now) == now {
            break;
        }
    }

    // The HPA controller writes its status at every sync: no reconcile.
    for replicas in [3, 4, 5] {
        api.edit(HPA, |h| {
            h["status"] = json!({"currentReplicas": replicas, "desiredReplicas": replicas,
                                 "currentMetrics": []});
        });
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        running.ctx.metrics.reconciles.get(),
        last,
        "an HPA status write reconciled the connection"
    );

    // Deleted (generation unchanged), it is recreated at once.
    api.remove(HPA);
    eventually("HPA recreated", || api.get(HPA).is_some()).await;

    running.stop().await;
}
