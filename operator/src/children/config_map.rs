//! The ConfigMap of node settings, consumed by the node with `envFrom`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use sha2::{Digest, Sha256};

use super::{
    ADMIN_PORT, API_PORT, CA_BUNDLE_DIR, MOUNT_ROOT, Owner, Settings, StartupInputs, names,
};
use crate::crd::{ProxyAuthScheme, StripeConnection};

/// Pod-template annotation holding [`config_hash`], so a settings change rolls the nodes
/// (env from a ConfigMap is read only at container start).
pub const CONFIG_HASH_ANNOTATION: &str = "connectors.integration.dev/config-hash";

/// The node's environment, with the names of docs/node-settings.md. No secret values: secrets
/// are mounted files and only their paths appear here.
pub fn node_env(conn: &StripeConnection, settings: &Settings) -> BTreeMap<String, String> {
    let spec = &conn.spec;
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_string(), v);
    };
    set("NODE_LISTEN", format!("0.0.0.0:{API_PORT}"));
    set("NODE_ADMIN_LISTEN", format!("0.0.0.0:{ADMIN_PORT}"));
    set("CONNECTION_NAME", kube::ResourceExt::name_any(conn));
    if let Some(namespace) = kube::ResourceExt::namespace(conn) {
        set("CONNECTION_NAMESPACE", namespace);
    }
    set(
        "STRIPE_API_KEY_FILE",
        format!("{MOUNT_ROOT}/api-key/{}", spec.auth.api_key_secret_ref.key),
    );
    if let Some(account) = &spec.account_id {
        set("STRIPE_ACCOUNT_ID", account.clone());
    }
    set(
        "TPS_PER_NODE",
        spec.rate_limit.transactions_per_second_per_node.to_string(),
    );
    if let Some(account_tps) = spec.rate_limit.account_transactions_per_second {
        set("ACCOUNT_TPS", account_tps.to_string());
    }
    if spec.rate_limit.max_wait_milliseconds > 0 {
        set(
            "LIMITER_MAX_WAIT_MS",
            spec.rate_limit.max_wait_milliseconds.to_string(),
        );
    }
    if let Some(url) = &settings.redis_url {
        set("REDIS_URL", url.clone());
    }
    if settings.redis_password.is_some() {
        set(
            "REDIS_PASSWORD_FILE",
            format!("{MOUNT_ROOT}/redis-password/password"),
        );
    }
    set(
        "CLIENT_TOKEN_FILE",
        format!("{MOUNT_ROOT}/client-token/token"),
    );
    set("VERBOSITY", spec.verbosity.to_string());
    set("LOGGING_ENABLED", spec.logging.enabled.to_string());
    set("LOG_LEVEL", spec.logging.level.as_str().to_string());
    set("LOG_FORMAT", "json".to_string());
    if let Some(proxy) = spec.proxy.as_ref().filter(|p| p.enabled) {
        if let Some(host) = &proxy.host {
            set("PROXY_HOST", host.clone());
        }
        if let Some(port) = proxy.port {
            set("PROXY_PORT", port.to_string());
        }
        let scheme = proxy.auth_scheme.unwrap_or(ProxyAuthScheme::None);
        set("PROXY_AUTH_SCHEME", scheme.as_str().to_string());
        if scheme != ProxyAuthScheme::None {
            if let Some(user) = &proxy.user {
                set("PROXY_USER", user.clone());
            }
            if let Some(secret) = &proxy.password_secret_ref {
                set(
                    "PROXY_PASSWORD_FILE",
                    format!("{MOUNT_ROOT}/proxy-password/{}", secret.key),
                );
            }
        }
        set("PROXY_SSL_TYPE", proxy.ssl_type.as_str().to_string());
    }
    if let Some(ca) = spec.tls.as_ref().and_then(|t| t.ca_bundle_ref.as_ref()) {
        set("EXTRA_CA_FILE", format!("{CA_BUNDLE_DIR}/{}", ca.key));
    }
    env
}

pub fn config_map(owner: &Owner, conn: &StripeConnection, settings: &Settings) -> ConfigMap {
    ConfigMap {
        metadata: owner.meta(names::config_map(&owner.name)),
        data: Some(node_env(conn, settings)),
        ..ConfigMap::default()
    }
}

/// SHA-256 of the node settings and the versions of the objects read at start-up, hex
/// encoded. Without such objects it is the hash of the settings alone.
pub fn config_hash(env: &BTreeMap<String, String>, inputs: &StartupInputs) -> String {
    let mut hasher = Sha256::new();
    for (key, value) in env {
        hasher.update(key.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([0]);
    }
    for (field, version) in inputs {
        hasher.update([1]);
        hasher.update(field.as_bytes());
        hasher.update([0]);
        hasher.update(version.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
