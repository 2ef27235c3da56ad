//! The pure child builders on the example manifests: golden JSON (regenerate with
//! `UPDATE_GOLDEN=1 cargo nextest run -p stripe-operator --test builders`) plus targeted
//! asserts on what the design requires.

mod golden_file;

use std::path::Path;

use serde_json::{Value, json};
use stripe_operator::children::{self, Settings};
use stripe_operator::dereference::Dereferenced;
use stripe_operator::render;
use stripe_operator::validate::ValidConnection;

use golden_file::assert_matches_file;

const TOKEN: &str = "golden-client-token";

fn fixture(name: &str) -> ValidConnection {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    render::parse(&std::fs::read_to_string(&path).expect("fixture readable")).expect("valid")
}

fn settings_for(fixture: &str) -> Settings {
    Settings {
        node_image: "registry.example/stripe-connector-node:1.0.0".into(),
        // The full example also shows the shared limiter and the Redis password copy.
        redis_url: (fixture == "full.yaml").then(|| "redis://redis.stripe-system.svc:6379".into()),
        redis_password: (fixture == "full.yaml").then(|| "golden-redis-password".into()),
    }
}

fn objects(name: &str) -> Vec<Value> {
    render::objects(&fixture(name), &settings_for(name), TOKEN)
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn golden_children() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for name in ["minimal.yaml", "full.yaml", "proxy-without-auth.yaml"] {
        let actual = serde_json::to_string_pretty(&objects(name)).expect("json") + "\n";
        let golden = dir.join(name.replace(".yaml", ".json"));
        assert_matches_file(&golden, &actual, "UPDATE_GOLDEN");
    }
}

#[test]
fn config_map_uses_the_node_settings_contract() {
    let full = objects("full.yaml");
    assert_eq!(
        find(&full, "ConfigMap")["data"],
        json!({
            "ACCOUNT_TPS": "80",
            "CLIENT_TOKEN_FILE": "/var/run/stripe-connector/client-token/token",
            "CONNECTION_NAME": "billing-eu-1",
            "CONNECTION_NAMESPACE": "finance",
            "EXTRA_CA_FILE": "/var/run/stripe-connector/ca-bundle/ca.crt",
            "LIMITER_MAX_WAIT_MS": "250",
            "LOGGING_ENABLED": "true",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "info",
            "NODE_ADMIN_LISTEN": "0.0.0.0:9090",
            "NODE_LISTEN": "0.0.0.0:8080",
            "PROXY_AUTH_SCHEME": "BASIC",
            "PROXY_HOST": "proxy.egress.svc",
            "PROXY_PASSWORD_FILE": "/var/run/stripe-connector/proxy-password/password",
            "PROXY_PORT": "3128",
            "PROXY_SSL_TYPE": "TUNNEL",
            "PROXY_USER": "connector",
            "REDIS_PASSWORD_FILE": "/var/run/stripe-connector/redis-password/password",
            "REDIS_URL": "redis://redis.stripe-system.svc:6379",
            "STRIPE_ACCOUNT_ID": "acct_1Nv0FGQ9RKHgCVdK",
            "STRIPE_API_KEY_FILE": "/var/run/stripe-connector/api-key/secret-key",
            "TPS_PER_NODE": "8",
            "VERBOSITY": "3",
        })
    );
    // Defaults: error level, no proxy, no Redis.
    let minimal = objects("minimal.yaml");
    let data = &find(&minimal, "ConfigMap")["data"];
    assert_eq!(data["LOG_LEVEL"], "error");
    assert_eq!(data["TPS_PER_NODE"], "6");
    assert!(data.get("PROXY_HOST").is_none() && data.get("REDIS_URL").is_none());
    assert!(data.get("EXTRA_CA_FILE").is_none());
}

#[test]
fn deployment_is_hardened_probed_and_leaves_replicas_to_the_hpa() {
    let conn = fixture("full.yaml");
    let built = children::build(&conn, &settings_for("full.yaml"), &Dereferenced::default());
    let deployment = serde_json::to_value(&built.deployment).expect("json");
    assert!(deployment["spec"].get("replicas").is_none());

    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["serviceAccountName"], "billing-eu-1-node");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(
        pod["topologySpreadConstraints"].as_array().map(Vec::len),
        Some(2)
    );
    let node = &pod["containers"][0];
    assert_eq!(
        node["securityContext"],
        json!({"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
               "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]},
               "seccompProfile": {"type": "RuntimeDefault"}})
    );
    assert_eq!(
        node["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "admin"})
    );
    assert_eq!(
        node["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "admin"})
    );
    assert_eq!(node["resources"]["requests"]["cpu"], "100m");
    assert_eq!(
        node["env"][0],
        json!({"name": "NODE_ID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
    );
    let mounts: Vec<&str> = node["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .filter_map(|m| m["mountPath"].as_str())
        .collect();
    assert_eq!(
        mounts,
        [
            "/var/run/stripe-connector/api-key",
            "/var/run/stripe-connector/client-token",
            "/var/run/stripe-connector/proxy-password",
            "/var/run/stripe-connector/redis-password",
            "/var/run/stripe-connector/ca-bundle",
            "/tmp"
        ]
    );
    assert!(
        node["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .filter(|m| m["mountPath"] != "/tmp")
            .all(|m| m["readOnly"] == true)
    );
    assert_eq!(
        pod["volumes"][0]["secret"],
        json!({"secretName": "stripe-eu", "items": [{"key": "secret-key", "path": "secret-key"}],
               "defaultMode": 0o440})
    );
}

#[test]
fn config_hash_changes_with_settings_only() {
    let settings = settings_for("minimal.yaml");
    let hash = |conn: &ValidConnection| {
        let d = children::build(conn, &settings, &Dereferenced::default()).deployment;
        d.spec
            .and_then(|s| s.template.metadata)
            .and_then(|m| m.annotations)
            .expect("annotations")[children::CONFIG_HASH_ANNOTATION]
            .clone()
    };
    let base = fixture("minimal.yaml");
    let mut faster = base.clone();
    faster.transactions_per_second_per_node = 7;
    let mut wider = base.clone();
    wider.max_nodes = 30;
    assert_ne!(hash(&base), hash(&faster));
    assert_eq!(
        hash(&base),
        hash(&wider),
        "fleet bounds are the HPA's, not the pods'"
    );
}

#[test]
fn hpa_scales_on_offered_load_with_cpu_as_fallback() {
    let objects = objects("full.yaml");
    let hpa = &find(&objects, "HorizontalPodAutoscaler")["spec"];
    assert_eq!(hpa["minReplicas"], 3);
    assert_eq!(hpa["maxReplicas"], 20);
    assert_eq!(
        hpa["scaleTargetRef"],
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "billing-eu-1"})
    );
    assert_eq!(
        hpa["metrics"][0],
        json!({"type": "Pods", "pods": {
            "metric": {"name": "stripe_connector_offered_requests_per_second"},
            "target": {"type": "AverageValue", "averageValue": "8"}}})
    );
    assert_eq!(hpa["metrics"][1]["resource"]["name"], "cpu");
    assert_eq!(
        hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"], 120,
        "spec.nodes.scaleDownStabilizationSeconds"
    );
    assert_eq!(hpa["behavior"]["scaleUp"]["stabilizationWindowSeconds"], 30);
}

#[test]
fn service_pdb_account_and_labels() {
    let objects = objects("full.yaml");
    let service = &find(&objects, "Service")["spec"];
    let ports: Vec<(Value, Value)> = service["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| (p["name"].clone(), p["port"].clone()))
        .collect();
    assert_eq!(
        ports,
        [(json!("api"), json!(8080)), (json!("metrics"), json!(9090))]
    );
    assert_eq!(
        find(&objects, "PodDisruptionBudget")["spec"]["maxUnavailable"],
        1
    );
    assert_eq!(
        find(&objects, "ServiceAccount")["automountServiceAccountToken"],
        false
    );
    for object in &objects {
        let labels = &object["metadata"]["labels"];
        assert_eq!(labels["team"], "billing", "{}", object["kind"]);
        assert_eq!(labels["app.kubernetes.io/instance"], "billing-eu-1");
        assert_eq!(
            object["metadata"]["ownerReferences"][0]["kind"],
            "StripeConnection"
        );
    }
}

#[test]
fn secrets_never_land_in_the_config_map() {
    let objects = objects("full.yaml");
    let config = serde_json::to_string(find(&objects, "ConfigMap")).expect("json");
    assert!(!config.contains("golden-redis-password") && !config.contains(TOKEN));
}

#[test]
fn ca_bundle_is_mounted_read_only_from_a_config_map_or_a_secret() {
    let volume = |objects: &[Value]| {
        find(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["name"] == "ca-bundle")
            .cloned()
            .expect("ca-bundle volume")
    };
    assert_eq!(
        volume(&objects("full.yaml"))["configMap"],
        json!({"name": "corp-egress-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}],
               "defaultMode": 0o444})
    );
    let from_secret = objects("proxy-without-auth.yaml");
    assert_eq!(
        volume(&from_secret)["secret"],
        json!({"secretName": "proxy-ca", "items": [{"key": "ca.pem", "path": "ca.pem"}],
               "defaultMode": 0o440})
    );
    assert_eq!(
        find(&from_secret, "ConfigMap")["data"]["EXTRA_CA_FILE"],
        "/var/run/stripe-connector/ca-bundle/ca.pem"
    );
    let minimal = objects("minimal.yaml");
    let volumes = &find(&minimal, "Deployment")["spec"]["template"]["spec"]["volumes"];
    assert!(
        !volumes
            .as_array()
            .expect("volumes")
            .iter()
            .any(|v| v["name"] == "ca-bundle")
    );
}

#[test]
fn config_hash_follows_the_versions_of_objects_read_at_start_up() {
    let conn = fixture("full.yaml");
    let settings = settings_for("full.yaml");
    let hash = |proxy_password: Option<&str>, ca_bundle: Option<&str>| {
        let found = Dereferenced {
            proxy_password_version: proxy_password.map(Into::into),
            ca_bundle_version: ca_bundle.map(Into::into),
        };
        let d = children::build(&conn, &settings, &found).deployment;
        d.spec
            .and_then(|s| s.template.metadata)
            .and_then(|m| m.annotations)
            .expect("annotations")[children::CONFIG_HASH_ANNOTATION]
            .clone()
    };
    let none = hash(None, None);
    let v1 = hash(Some("41"), None);
    assert_ne!(none, v1);
    assert_ne!(v1, hash(Some("42"), None));
    assert_ne!(v1, hash(None, Some("41")));
    assert_eq!(v1, hash(Some("41"), None));
}

#[test]
fn named_clients_get_their_own_token_secret_volume_and_scope() {
    let objects = objects("clients-and-tls.yaml");
    let secrets: Vec<&str> = objects
        .iter()
        .filter(|o| o["kind"] == "Secret")
        .filter_map(|o| o["metadata"]["name"].as_str())
        .collect();
    assert_eq!(
        secrets,
        [
            "payments-client-token",
            "payments-client-token-billing-reader",
            "payments-client-token-checkout"
        ]
    );
    let env = &find(&objects, "ConfigMap")["data"];
    assert!(env.get("CLIENT_TOKEN_FILE").is_none(), "{env}");
    let clients: Value = serde_json::from_str(env["CLIENTS"].as_str().expect("CLIENTS")).unwrap();
    assert_eq!(
        clients[1],
        json!({"name": "billing-reader",
               "tokenFile": "/var/run/stripe-connector/clients/billing-reader/token",
               "allow": {"entities": {"Customer": ["LIST", "GET"], "Invoice": ["LIST", "GET"]}}})
    );
    assert_eq!(
        clients[0]["tokenFile"],
        "/var/run/stripe-connector/client-token/token"
    );
    assert_eq!(
        env["TLS_CERT_FILE"],
        "/var/run/stripe-connector/server-tls/tls.crt"
    );
    assert_eq!(
        env["TLS_KEY_FILE"],
        "/var/run/stripe-connector/server-tls/tls.key"
    );
    let pod = &find(&objects, "Deployment")["spec"]["template"]["spec"];
    let volume = |name: &str| {
        pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no volume {name}"))
    };
    assert_eq!(
        volume("client-checkout")["secret"]["secretName"],
        "payments-client-token-checkout"
    );
    assert_eq!(
        volume("server-tls")["secret"]["items"],
        json!([{"key": "tls.crt", "path": "tls.crt"}, {"key": "tls.key", "path": "tls.key"}])
    );
    let mounts = &pod["containers"][0]["volumeMounts"];
    assert!(
        mounts
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["mountPath"] == "/var/run/stripe-connector/clients/checkout")
    );
    // The probes stay on the plain admin port.
    let container = &pod["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["port"], "admin");
    assert_eq!(container["livenessProbe"]["httpGet"]["port"], "admin");
    // Each rendered token Secret has a token of its own.
    let tokens: std::collections::BTreeSet<String> = objects
        .iter()
        .filter(|o| o["kind"] == "Secret")
        .map(|o| o["data"]["token"].to_string())
        .collect();
    assert_eq!(tokens.len(), 3);
}
