//! Reconcile scenarios against an in-memory API behind kube-rs's mock service: create, no-op,
//! Secret missing then created, spec change, node loss, HPA scaling, invalid spec, deletion.

mod fake_api;

use std::sync::Arc;
use std::time::Duration;

use fake_api::{FakeApi, Recorded};
use http::Method;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::runtime::controller::Action;
use kube::runtime::reflector;
use kube::runtime::watcher;
use serde_json::{Value, json};
use stripe_operator::children::Settings;
use stripe_operator::controller::{connections_using, connections_using_config_map};
use stripe_operator::crd::StripeConnection;
use stripe_operator::metrics::{ErrorLabels, Metrics};
use stripe_operator::reconcile::{Context, RESYNC, error_policy, reconcile};

const NS: &str = "shop";
const CONN: &str = "/apis/connectors.integration.dev/v1/namespaces/shop/stripeconnections/payments";
const API_KEY: &str = "/api/v1/namespaces/shop/secrets/stripe-api-key";
const TOKEN: &str = "/api/v1/namespaces/shop/secrets/payments-client-token";
const CONFIG_MAP: &str = "/api/v1/namespaces/shop/configmaps/payments-settings";
const DEPLOYMENT: &str = "/apis/apps/v1/namespaces/shop/deployments/payments";
const HPA: &str = "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/payments";
const SERVICE: &str = "/api/v1/namespaces/shop/services/payments";
const PDB: &str = "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/payments";
const SERVICE_ACCOUNT: &str = "/api/v1/namespaces/shop/serviceaccounts/payments-node";
const PROXY_PASSWORD: &str = "/api/v1/namespaces/shop/secrets/egress-proxy";
const CA_BUNDLE: &str = "/api/v1/namespaces/shop/configmaps/corp-ca";
const HASH: &str = "connectors.integration.dev/config-hash";

struct Scenario {
    api: FakeApi,
    ctx: Arc<Context>,
}

impl Scenario {
    fn new() -> Self {
        let api = FakeApi::default();
        let settings = Settings {
            node_image: "stripe-connector-node:test".into(),
            redis_url: None,
            redis_password: None,
        };
        let ctx = Arc::new(Context::new(api.client(), settings, Metrics::default()));
        api.put(CONN, connection());
        Self { api, ctx }
    }

    fn add_api_key(&self) {
        self.api.put(
            API_KEY,
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "stripe-api-key", "namespace": NS},
                   "data": {"api-key": "c2tfdGVzdF94eHg="}}),
        );
    }

    /// Reconciles the connection as stored now; returns the action and the requests it made.
    async fn reconcile(&self) -> (Action, Vec<Recorded>) {
        let conn: StripeConnection =
            serde_json::from_value(self.api.get(CONN).expect("connection stored"))
                .expect("connection parses");
        self.api.take_requests();
        let action = reconcile(Arc::new(conn), self.ctx.clone())
            .await
            .expect("reconcile succeeds");
        (action, self.api.take_requests())
    }

    /// Plays the HPA and the Deployment controller: the replicas are raised to the connection's
    /// minimum (2) if below it, `ready` of them are ready and the rollout is complete.
    fn nodes_ready(&self, ready: i64) {
        self.api.edit(DEPLOYMENT, |d| {
            if d["spec"]["replicas"].as_i64().unwrap_or(0) < 2 {
                d["spec"]["replicas"] = json!(2);
            }
            let generation = d["metadata"]["generation"].clone();
            let replicas = d["spec"]["replicas"].clone();
            d["status"] = json!({
                "observedGeneration": generation, "replicas": replicas,
                "updatedReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready,
                "conditions": [{"type": "Progressing", "status": "True",
                                "reason": "NewReplicaSetAvailable"}],
            });
        });
    }

    fn status(&self) -> Value {
        self.api.get(CONN).expect("connection stored")["status"].clone()
    }

    fn condition_object(&self, type_: &str) -> Value {
        self.status()["conditions"]
            .as_array()
            .expect("conditions")
            .iter()
            .find(|c| c["type"] == type_)
            .cloned()
            .expect("condition present")
    }

    fn condition(&self, type_: &str) -> (String, String) {
        let c = self.condition_object(type_);
        (
            c["status"].as_str().unwrap_or_default().into(),
            c["reason"].as_str().unwrap_or_default().into(),
        )
    }

    /// The object stored at `path`, typed.
    fn stored<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        serde_json::from_value(self.api.get(path).expect("stored")).expect("parses")
    }

    /// A store holding the stored connection, as the controller's watch fills it.
    fn connection_store(&self) -> reflector::Store<StripeConnection> {
        let (store, mut writer) = reflector::store();
        writer.apply_watcher_event(&watcher::Event::Apply(self.stored(CONN)));
        store
    }

    #[track_caller]
    fn assert_condition(&self, type_: &str, status: &str, reason: &str) {
        assert_eq!(self.condition(type_), (status.into(), reason.into()));
    }

    /// The message of the condition `type_`, which names what is wrong.
    fn condition_message(&self, type_: &str) -> String {
        self.condition_object(type_)["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn connection() -> Value {
    json!({
        "apiVersion": "connectors.integration.dev/v1", "kind": "StripeConnection",
        "metadata": {"name": "payments", "namespace": NS, "uid": "conn-uid", "generation": 1},
        "spec": {"auth": {"apiKeySecretRef": {"name": "stripe-api-key", "key": "api-key"}},
                 "nodes": {"min": 2, "max": 10}},
    })
}

fn writes(requests: &[Recorded]) -> Vec<(Method, String)> {
    requests
        .iter()
        .filter(|r| r.is_write())
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect()
}

fn wrote(requests: &[Recorded], method: Method, path: &str) -> bool {
    requests
        .iter()
        .any(|r| r.method == method && r.path == path)
}

fn events(requests: &[Recorded]) -> Vec<Value> {
    requests
        .iter()
        .filter(|r| r.path.starts_with("/apis/events.k8s.io/") && r.is_write())
        .filter_map(|r| r.body.clone())
        .collect()
}

#[tokio::test]
async fn create_builds_every_child_with_owner_references() {
    let s = Scenario::new();
    s.add_api_key();
    let (action, requests) = s.reconcile().await;
    assert_eq!(action, Action::requeue(RESYNC));

    for path in [SERVICE_ACCOUNT, CONFIG_MAP, DEPLOYMENT, SERVICE, HPA, PDB] {
        assert!(wrote(&requests, Method::PATCH, path), "no apply of {path}");
        let owner = &s.api.get(path).expect("child stored")["metadata"]["ownerReferences"][0];
        assert_eq!(owner["uid"], "conn-uid", "{path}");
        assert_eq!(owner["controller"], true, "{path}");
    }
    // The Deployment is applied without a replica count (the HPA owns it); the client token
    // Secret is created.
    let deployment_apply = requests
        .iter()
        .find(|r| r.method == Method::PATCH && r.path == DEPLOYMENT)
        .and_then(|r| r.body.clone())
        .expect("deployment applied");
    assert!(deployment_apply["spec"].get("replicas").is_none());
    assert!(wrote(
        &requests,
        Method::POST,
        "/api/v1/namespaces/shop/secrets"
    ));
    let token = s.api.get(TOKEN).expect("client token Secret")["data"]["token"].clone();
    assert!(token.as_str().is_some_and(|t| t.len() > 40));
    // Every apply uses the one field manager, with force.
    let applies: Vec<&Recorded> = requests
        .iter()
        .filter(|r| r.method == Method::PATCH)
        .collect();
    assert!(applies.len() >= 6);

    let status = s.status();
    assert_eq!(status["observedGeneration"], 1);
    assert_eq!(status["endpoint"], "http://payments.shop.svc:8080");
    // One replica (the API server's default) until the HPA raises it to the minimum: starting.
    assert_eq!(status["nodes"], json!({"desired": 1, "ready": 0}));
    s.assert_condition("Ready", "False", "NodesStarting");
    s.assert_condition("Progressing", "True", "RollingOut");
    s.assert_condition("Degraded", "False", "AsExpected");
    let reasons: Vec<Value> = events(&requests)
        .iter()
        .map(|e| e["reason"].clone())
        .collect();
    assert!(reasons.contains(&json!("ChildrenApplied")), "{reasons:?}");

    s.nodes_ready(2);
    let (_, requests) = s.reconcile().await;
    s.assert_condition("Ready", "True", "NodesReady");
    s.assert_condition("Progressing", "False", "RolloutComplete");
    assert_eq!(s.status()["capacityTps"], 12);
    let ready_event = events(&requests);
    assert_eq!(ready_event.len(), 1, "{ready_event:?}");
    assert_eq!(ready_event[0]["reason"], "NodesReady");
    assert_eq!(ready_event[0]["type"], "Normal");
}

#[tokio::test]
async fn steady_state_reconcile_sends_no_write() {
    let s = Scenario::new();
    s.add_api_key();
    s.reconcile().await;
    s.nodes_ready(2);
    s.reconcile().await;

    let (action, requests) = s.reconcile().await;
    assert_eq!(action, Action::requeue(RESYNC));
    assert!(!requests.is_empty(), "the reconcile reads what it compares");
    assert_eq!(writes(&requests), vec![], "a no-op reconcile wrote");
}

#[tokio::test]
async fn missing_secret_degrades_with_backoff_then_recovers_when_it_appears() {
    let s = Scenario::new();
    let (first, requests) = s.reconcile().await;
    s.assert_condition("Degraded", "True", "SecretNotFound");
    s.assert_condition("Ready", "False", "SecretNotFound");
    let message = s.condition_message("Ready");
    assert!(
        message.contains("stripe-api-key") && message.contains("apiKeySecretRef"),
        "{message}"
    );
    // Only the status and a warning event are written; no children without the key.
    let written = writes(&requests);
    assert!(
        written
            .iter()
            .all(|(_, p)| p == &format!("{CONN}/status") || p.starts_with("/apis/events.k8s.io/")),
        "{written:?}"
    );
    let warning = events(&requests);
    assert_eq!(warning[0]["type"], "Warning");
    assert_eq!(warning[0]["reason"], "SecretNotFound");

    // No hot loop: the retry delay grows, and an unchanged situation writes nothing.
    let (second, requests) = s.reconcile().await;
    assert_eq!(first, Action::requeue(Duration::from_secs(5)));
    assert_eq!(second, Action::requeue(Duration::from_secs(10)));
    assert_eq!(writes(&requests), vec![]);

    // The Secret watch maps the new Secret to this connection ...
    let store = s.connection_store();
    s.add_api_key();
    let secret: Secret = s.stored(API_KEY);
    let triggered = connections_using(&store, &secret);
    assert_eq!(triggered.len(), 1);
    assert_eq!(triggered[0].name, "payments");
    let unrelated: Secret = serde_json::from_value(json!({
        "metadata": {"name": "something-else", "namespace": NS}}))
    .expect("parses");
    assert!(connections_using(&store, &unrelated).is_empty());

    // ... and that reconcile builds the fleet.
    let (action, requests) = s.reconcile().await;
    assert_eq!(action, Action::requeue(RESYNC));
    assert!(wrote(&requests, Method::PATCH, DEPLOYMENT));
    s.assert_condition("Degraded", "False", "AsExpected");
}

#[tokio::test]
async fn missing_key_in_existing_secret_is_named() {
    let s = Scenario::new();
    s.api.put(
        API_KEY,
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "stripe-api-key", "namespace": NS},
               "data": {"other": "eA=="}}),
    );
    s.reconcile().await;
    let message = s.condition_message("Ready");
    assert!(message.contains("has no key \"api-key\""), "{message}");
}

#[tokio::test]
async fn spec_change_rolls_nodes_without_touching_replicas_or_the_token() {
    let s = Scenario::new();
    s.add_api_key();
    s.reconcile().await;
    s.nodes_ready(2);
    s.reconcile().await;
    let token = s.api.get(TOKEN).expect("token")["data"].clone();
    let hash_before = s.api.get(DEPLOYMENT).expect("deployment")["spec"]["template"]["metadata"]
        ["annotations"]["connectors.integration.dev/config-hash"]
        .clone();

    s.api.edit(CONN, |c| {
        c["spec"]["rateLimit"] = json!({"transactionsPerSecondPerNode": 8});
        c["metadata"]["generation"] = json!(2);
    });
    let (_, requests) = s.reconcile().await;
    let written: Vec<String> = writes(&requests)
        .into_iter()
        .filter(|(_, p)| !p.starts_with("/apis/events.k8s.io/"))
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        written,
        vec![
            CONFIG_MAP.to_string(),
            DEPLOYMENT.into(),
            HPA.into(),
            format!("{CONN}/status")
        ]
    );
    let deployment_patch = requests
        .iter()
        .find(|r| r.method == Method::PATCH && r.path == DEPLOYMENT)
        .and_then(|r| r.body.clone())
        .expect("deployment applied");
    assert!(
        deployment_patch["spec"].get("replicas").is_none(),
        "the operator fought the HPA"
    );
    let hash_after = &deployment_patch["spec"]["template"]["metadata"]["annotations"]["connectors.integration.dev/config-hash"];
    assert_ne!(
        hash_after, &hash_before,
        "a settings change must roll the nodes"
    );
    assert_eq!(
        s.api.get(CONFIG_MAP).expect("cm")["data"]["TPS_PER_NODE"],
        "8"
    );
    assert_eq!(
        s.api.get(HPA).expect("hpa")["spec"]["metrics"][0]["pods"]["target"]["averageValue"],
        "8"
    );
    assert_eq!(
        s.api.get(TOKEN).expect("token")["data"],
        token,
        "client token rewritten"
    );
    assert!(!requests.iter().any(|r| r.path == TOKEN && r.is_write()));
    assert_eq!(s.status()["observedGeneration"], 2);
}

#[tokio::test]
async fn hpa_scaling_is_reported_and_not_reverted() {
    let s = Scenario::new();
    s.add_api_key();
    s.reconcile().await;
    s.api.edit(DEPLOYMENT, |d| d["spec"]["replicas"] = json!(5));
    s.nodes_ready(5);
    let (_, requests) = s.reconcile().await;
    assert!(
        !requests
            .iter()
            .any(|r| r.path == DEPLOYMENT && r.is_write())
    );
    assert_eq!(
        s.api.get(DEPLOYMENT).expect("deployment")["spec"]["replicas"],
        5
    );
    assert_eq!(s.status()["nodes"], json!({"desired": 5, "ready": 5}));
    assert_eq!(s.status()["capacityTps"], 30);
}

#[tokio::test]
async fn node_loss_turns_ready_false_and_degraded_true() {
    let s = Scenario::new();
    s.add_api_key();
    s.reconcile().await;
    s.nodes_ready(2);
    s.reconcile().await;
    assert_eq!(s.condition("Ready").0, "True");

    s.nodes_ready(1);
    let (_, requests) = s.reconcile().await;
    s.assert_condition("Ready", "False", "NodesUnavailable");
    s.assert_condition("Degraded", "True", "NodesUnavailable");
    assert_eq!(s.status()["nodes"], json!({"desired": 2, "ready": 1}));
    assert_eq!(s.status()["capacityTps"], 6);
    let warning = events(&requests);
    assert_eq!(warning.len(), 1);
    assert_eq!(warning[0]["type"], "Warning");
    assert_eq!(warning[0]["reason"], "NodesUnavailable");
    // Only status and the event were written.
    assert!(
        writes(&requests)
            .iter()
            .all(|(_, p)| p == &format!("{CONN}/status") || p.starts_with("/apis/events.k8s.io/"))
    );
}

#[tokio::test]
async fn invalid_spec_is_reported_not_fixed() {
    let s = Scenario::new();
    s.add_api_key();
    s.api
        .edit(CONN, |c| c["spec"]["nodes"] = json!({"min": 8, "max": 3}));
    let (action, requests) = s.reconcile().await;
    assert_eq!(action, Action::await_change());
    s.assert_condition("Degraded", "True", "InvalidSpec");
    let message = s.condition_message("Ready");
    assert!(
        message.contains("spec.nodes") && message.contains("min (8) must not exceed max (3)"),
        "{message}"
    );
    assert!(s.api.get(DEPLOYMENT).is_none());
    assert!(
        writes(&requests)
            .iter()
            .all(|(_, p)| !p.contains("/deployments"))
    );
}

#[tokio::test]
async fn deleted_connection_is_left_to_the_garbage_collector() {
    let s = Scenario::new();
    s.add_api_key();
    s.reconcile().await;
    s.api.edit(CONN, |c| {
        c["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:01:00Z")
    });
    let (action, requests) = s.reconcile().await;
    assert_eq!(action, Action::await_change());
    assert!(
        requests.is_empty(),
        "reconciling a deleted connection made requests: {requests:?}"
    );
    // The children stay for the garbage collector, which follows their ownerReferences.
    let owner = &s.api.get(DEPLOYMENT).expect("deployment")["metadata"]["ownerReferences"][0];
    assert_eq!(owner["uid"], "conn-uid");
    assert!(s.api.get(TOKEN).is_some());
}

#[tokio::test]
async fn deleted_client_token_is_recreated_once() {
    let s = Scenario::new();
    s.add_api_key();
    s.reconcile().await;
    s.api.remove(TOKEN);
    let (_, requests) = s.reconcile().await;
    assert!(wrote(
        &requests,
        Method::POST,
        "/api/v1/namespaces/shop/secrets"
    ));
    let (_, requests) = s.reconcile().await;
    assert!(
        !requests
            .iter()
            .any(|r| r.path.contains("/secrets") && r.is_write())
    );
}

#[tokio::test]
async fn a_refused_child_is_reported_and_retried_with_backoff() {
    let s = Scenario::new();
    s.add_api_key();
    s.api
        .refuse_writes("/apis/apps/v1/namespaces/shop/deployments");
    let conn: StripeConnection = s.stored(CONN);
    let error = reconcile(Arc::new(conn.clone()), s.ctx.clone())
        .await
        .expect_err("the refusal is an error");
    assert_eq!(error.metric_label(), "kube");
    s.assert_condition("Degraded", "True", "ApplyFailed");
    let message = s.condition_message("Degraded");
    assert!(message.contains("refused by policy"), "{message}");
    // error_policy counts it and backs off.
    let first = error_policy(Arc::new(conn.clone()), &error, s.ctx.clone());
    let second = error_policy(Arc::new(conn), &error, s.ctx.clone());
    assert_eq!(first, Action::requeue(Duration::from_secs(5)));
    assert_eq!(second, Action::requeue(Duration::from_secs(10)));
    let failures = s
        .ctx
        .metrics
        .failures
        .get_or_create(&ErrorLabels {
            error: "kube".into(),
        })
        .get();
    assert_eq!(failures, 2);
}

fn pod_hash(s: &Scenario) -> Value {
    s.api.get(DEPLOYMENT).expect("deployment")["spec"]["template"]["metadata"]["annotations"][HASH]
        .clone()
}

/// Stores the proxy password Secret holding `encoded` (base64, as the API returns it).
fn put_proxy_password(s: &Scenario, encoded: &str) {
    s.api.put(
        PROXY_PASSWORD,
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "egress-proxy", "namespace": NS},
               "data": {"password": encoded}}),
    );
}

#[tokio::test]
async fn rotated_proxy_password_rolls_the_nodes_and_an_unchanged_one_writes_nothing() {
    let s = Scenario::new();
    s.api.edit(CONN, |c| {
        c["spec"]["proxy"] = json!({"enabled": true, "authScheme": "BASIC", "user": "connector",
            "passwordSecretRef": {"name": "egress-proxy", "key": "password"},
            "host": "proxy.egress.svc", "port": 3128});
    });
    s.add_api_key();
    put_proxy_password(&s, "Zmlyc3QtcHJveHktcGFzc3dvcmQ="); // first-proxy-password
    s.reconcile().await;
    s.nodes_ready(2);
    s.reconcile().await;
    let before = pod_hash(&s);
    assert!(before.is_string());

    // Nothing changed: reads only.
    let (_, requests) = s.reconcile().await;
    assert_eq!(writes(&requests), vec![], "a no-op reconcile wrote");

    // The Secret is rotated (the watch maps it to the connection): the Deployment, and only
    // it, is patched with a new hash; the settings themselves are unchanged.
    put_proxy_password(&s, "c2Vjb25kLXByb3h5LXBhc3N3b3Jk"); // second-proxy-password
    let store = s.connection_store();
    let secret: Secret = s.stored(PROXY_PASSWORD);
    assert_eq!(connections_using(&store, &secret).len(), 1);
    let (_, requests) = s.reconcile().await;
    let patched: Vec<(Method, String)> = writes(&requests)
        .into_iter()
        .filter(|(_, p)| !p.starts_with("/apis/events.k8s.io/") && !p.ends_with("/status"))
        .collect();
    assert_eq!(patched, vec![(Method::PATCH, DEPLOYMENT.to_string())]);
    let patch = requests
        .iter()
        .find(|r| r.method == Method::PATCH && r.path == DEPLOYMENT)
        .and_then(|r| r.body.clone())
        .expect("deployment applied");
    let after = &patch["spec"]["template"]["metadata"]["annotations"][HASH];
    assert!(after.is_string());
    assert_ne!(
        after, &before,
        "a rotated proxy password must roll the nodes"
    );
    assert!(
        patch["spec"].get("replicas").is_none(),
        "the operator fought the HPA"
    );
    // The password goes nowhere but the mounted Secret.
    for r in &requests {
        let body = r.body.as_ref().map(Value::to_string).unwrap_or_default();
        assert!(
            !body.contains("second-proxy-password"),
            "{} {}",
            r.method,
            r.path
        );
        assert!(
            !body.contains("c2Vjb25kLXByb3h5LXBhc3N3b3Jk"),
            "{} {}",
            r.method,
            r.path
        );
    }

    // And settled again: no write.
    s.nodes_ready(2);
    s.reconcile().await;
    let (_, requests) = s.reconcile().await;
    assert_eq!(writes(&requests), vec![]);
}

#[tokio::test]
async fn missing_ca_bundle_degrades_then_is_mounted_when_it_appears() {
    let s = Scenario::new();
    s.api.edit(CONN, |c| {
        c["spec"]["tls"] = json!({"caBundleRef": {"name": "corp-ca", "key": "ca.crt"}});
    });
    s.add_api_key();
    let (first, requests) = s.reconcile().await;
    assert_eq!(first, Action::requeue(Duration::from_secs(5)));
    s.assert_condition("Degraded", "True", "CaBundleNotFound");
    let message = s.condition_message("Ready");
    assert!(
        message.contains("ConfigMap \"corp-ca\"") && message.contains("spec.tls.caBundleRef"),
        "{message}"
    );
    assert!(!wrote(&requests, Method::PATCH, DEPLOYMENT));

    // The ConfigMap watch maps the new ConfigMap to this connection ...
    let ca = json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "corp-ca", "namespace": NS},
                    "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}});
    s.api.put(CA_BUNDLE, ca.clone());
    let store = s.connection_store();
    let config_map: ConfigMap = s.stored(CA_BUNDLE);
    let triggered = connections_using_config_map(&store, &config_map);
    assert_eq!(triggered.len(), 1);
    assert_eq!(triggered[0].name, "payments");
    let unrelated: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "kube-root-ca.crt", "namespace": NS}}))
    .expect("parses");
    assert!(connections_using_config_map(&store, &unrelated).is_empty());

    // ... whose reconcile mounts it and points EXTRA_CA_FILE at it.
    s.reconcile().await;
    s.assert_condition("Degraded", "False", "AsExpected");
    assert_eq!(
        s.api.get(CONFIG_MAP).expect("cm")["data"]["EXTRA_CA_FILE"],
        "/var/run/stripe-connector/ca-bundle/ca.crt"
    );
    let pod = s.api.get(DEPLOYMENT).expect("deployment")["spec"]["template"]["spec"].clone();
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "ca-bundle")
        .cloned()
        .expect("ca-bundle volume");
    assert_eq!(volume["configMap"]["name"], "corp-ca");
    let mount = pod["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .find(|m| m["name"] == "ca-bundle")
        .cloned()
        .expect("ca-bundle mount");
    assert_eq!(mount["mountPath"], "/var/run/stripe-connector/ca-bundle");
    assert_eq!(mount["readOnly"], true);

    // A new bundle (read by the nodes at start-up) rolls them.
    s.nodes_ready(2);
    s.reconcile().await;
    let before = pod_hash(&s);
    s.api.put(CA_BUNDLE, ca);
    s.reconcile().await;
    assert_ne!(pod_hash(&s), before, "a new CA bundle must roll the nodes");
}
