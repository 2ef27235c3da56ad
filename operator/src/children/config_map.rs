//! The ConfigMap of node settings, consumed by the node with `envFrom`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use sha2::{Digest, Sha256};

use super::{
    ADMIN_PORT, API_PORT, CA_BUNDLE_DIR, MOUNT_ROOT, Owner, SERVER_TLS_DIR, Settings,
    client_token_file, names,
};
use crate::dereference::Dereferenced;
use crate::validate::{ProxyAuth, ValidConnection};

/// Pod-template annotation holding [`config_hash`], so a settings change rolls the nodes
/// (env from a ConfigMap is read only at container start).
pub const CONFIG_HASH_ANNOTATION: &str = "connectors.integration.dev/config-hash";

/// The node's environment, with the names of docs/node-settings.md. No secret values: secrets
/// are mounted files and only their paths appear here.
pub fn node_env(conn: &ValidConnection, settings: &Settings) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_string(), v);
    };
    set("NODE_LISTEN", format!("0.0.0.0:{API_PORT}"));
    set("NODE_ADMIN_LISTEN", format!("0.0.0.0:{ADMIN_PORT}"));
    set("CONNECTION_NAME", conn.name.clone());
    set("CONNECTION_NAMESPACE", conn.namespace.clone());
    set(
        "STRIPE_API_KEY_FILE",
        format!("{MOUNT_ROOT}/api-key/{}", conn.api_key.key),
    );
    if let Some(account) = &conn.account_id {
        set("STRIPE_ACCOUNT_ID", account.clone());
    }
    set(
        "TPS_PER_NODE",
        conn.transactions_per_second_per_node.to_string(),
    );
    if let Some(account_tps) = conn.account_transactions_per_second {
        set("ACCOUNT_TPS", account_tps.to_string());
    }
    if let Some(max_wait) = conn.max_wait_milliseconds {
        set("LIMITER_MAX_WAIT_MS", max_wait.to_string());
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
    match &conn.clients {
        None => set(
            "CLIENT_TOKEN_FILE",
            format!("{MOUNT_ROOT}/client-token/token"),
        ),
        Some(clients) => {
            let clients: Vec<serde_json::Value> = clients
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "name": c.name,
                        "tokenFile": client_token_file(&c.name),
                        "allow": c.allow,
                    })
                })
                .collect();
            set("CLIENTS", serde_json::Value::Array(clients).to_string());
        }
    }
    if conn.server_cert.is_some() {
        set("TLS_CERT_FILE", format!("{SERVER_TLS_DIR}/tls.crt"));
        set("TLS_KEY_FILE", format!("{SERVER_TLS_DIR}/tls.key"));
    }
    set("VERBOSITY", conn.verbosity.to_string());
    set("LOGGING_ENABLED", conn.logging_enabled.to_string());
    set("LOG_LEVEL", conn.log_level.as_str().to_string());
    set("LOG_FORMAT", "json".to_string());
    if let Some(proxy) = &conn.proxy {
        set("PROXY_HOST", proxy.host.clone());
        set("PROXY_PORT", proxy.port.to_string());
        set(
            "PROXY_AUTH_SCHEME",
            proxy.auth.scheme().as_str().to_string(),
        );
        if let ProxyAuth::Credentials { user, password, .. } = &proxy.auth {
            set("PROXY_USER", user.clone());
            set(
                "PROXY_PASSWORD_FILE",
                format!("{MOUNT_ROOT}/proxy-password/{}", password.key),
            );
        }
        set("PROXY_SSL_TYPE", proxy.ssl_type.as_str().to_string());
    }
    if let Some(ca) = &conn.ca_bundle {
        set("EXTRA_CA_FILE", format!("{CA_BUNDLE_DIR}/{}", ca.key));
    }
    env
}

pub fn config_map(owner: &Owner, conn: &ValidConnection, settings: &Settings) -> ConfigMap {
    ConfigMap {
        metadata: owner.meta(names::config_map(&owner.name)),
        data: Some(node_env(conn, settings)),
        ..ConfigMap::default()
    }
}

/// SHA-256 of the node settings and the versions of the objects read at start-up, hex
/// encoded. Without such objects it is the hash of the settings alone.
pub fn config_hash(env: &BTreeMap<String, String>, found: &Dereferenced) -> String {
    let mut hasher = Sha256::new();
    for (key, value) in env {
        hasher.update(key.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([0]);
    }
    for (field, version) in found.startup_versions() {
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
