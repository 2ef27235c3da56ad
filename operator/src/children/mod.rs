//! The objects a StripeConnection owns, built as pure functions of the validated connection,
//! what dereferencing found and the operator's settings. Nothing here talks to the API server,
//! and nothing can fail: validation already proved what the builders rely on.

mod autoscaling;
mod config_map;
mod deployment;
mod secrets;
mod service;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::dereference::Dereferenced;
use crate::validate::ValidConnection;

pub use autoscaling::{OFFERED_LOAD_METRIC, horizontal_pod_autoscaler, pod_disruption_budget};
pub use config_map::{CONFIG_HASH_ANNOTATION, config_hash, config_map, node_env};
pub use deployment::deployment;
pub use secrets::{ClientTokenSecret, generate_client_token, redis_password_secret};
pub use service::{service, service_account};

/// The single field manager of every server-side apply the operator makes.
pub const FIELD_MANAGER: &str = "stripe-operator";
/// Port of the node's API.
pub const API_PORT: i32 = 8080;
/// Port of the node's `/healthz`, `/readyz` and `/metrics`.
pub const ADMIN_PORT: i32 = 9090;
/// Where the node pod finds its mounted files (see docs/node-settings.md).
pub const MOUNT_ROOT: &str = "/var/run/stripe-connector";
/// Folder of the mounted CA bundle (its file is named after the referenced key).
pub const CA_BUNDLE_DIR: &str = "/var/run/stripe-connector/ca-bundle";
/// Folder of the named clients' tokens, one folder per client.
pub const CLIENTS_DIR: &str = "/var/run/stripe-connector/clients";
/// Folder of the API's certificate and key (`tls.crt`, `tls.key`).
pub const SERVER_TLS_DIR: &str = "/var/run/stripe-connector/server-tls";

/// Operator-wide settings that shape every connection's children.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// Container image of the connector node.
    pub node_image: String,
    /// Shared limiter the nodes use; without it each node limits itself.
    pub redis_url: Option<String>,
    /// Redis password, copied into each connection's Secret so nodes mount it as a file.
    pub redis_password: Option<String>,
}

/// Never prints the Redis password.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("node_image", &self.node_image)
            .field("redis_url", &self.redis_url)
            .field(
                "redis_password",
                &self.redis_password.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Every child of one connection. Applying destructures it without `..`, so a child added here
/// cannot be left out of the apply (or of `stripe-operator render`).
#[derive(Clone, Debug)]
pub struct Children {
    pub service_account: ServiceAccount,
    pub config_map: ConfigMap,
    pub redis_password: Option<Secret>,
    /// Created once, with a fresh token, and never rewritten.
    pub client_token: ClientTokenSecret,
    /// The same for each client of `spec.clients` but `default`.
    pub named_client_tokens: Vec<ClientTokenSecret>,
    /// Carries no replica count: the HPA owns it.
    pub deployment: Deployment,
    pub service: Service,
    pub hpa: HorizontalPodAutoscaler,
    pub pdb: PodDisruptionBudget,
}

/// Every child of `conn`, ready for server-side apply; `found` as dereferenced from the API
/// (default when rendering offline).
pub fn build(conn: &ValidConnection, settings: &Settings, found: &Dereferenced) -> Children {
    let owner = Owner::of(conn);
    Children {
        service_account: service_account(&owner),
        config_map: config_map(&owner, conn, settings),
        redis_password: redis_password_secret(&owner, settings),
        client_token: ClientTokenSecret::new(&owner),
        named_client_tokens: conn
            .clients
            .iter()
            .flatten()
            .filter(|c| c.name != stripe_node::access::DEFAULT_CLIENT)
            .map(|c| ClientTokenSecret::of_client(&owner, &c.name))
            .collect(),
        deployment: deployment(&owner, conn, settings, found),
        service: service(&owner),
        hpa: horizontal_pod_autoscaler(&owner, conn),
        pdb: pod_disruption_budget(&owner),
    }
}

/// What every child needs to know about its owner.
#[derive(Clone, Debug)]
pub struct Owner {
    pub name: String,
    pub namespace: String,
    owner_ref: OwnerReference,
    labels: BTreeMap<String, String>,
}

impl Owner {
    pub fn of(conn: &ValidConnection) -> Self {
        // The connection's own labels first, so the operator's cannot be overridden.
        let mut labels = conn.labels.clone();
        labels.extend(selector_labels(&conn.name));
        labels.insert("app.kubernetes.io/managed-by".into(), FIELD_MANAGER.into());
        labels.insert("app.kubernetes.io/component".into(), "node".into());
        Self {
            name: conn.name.clone(),
            namespace: conn.namespace.clone(),
            owner_ref: conn.owner_ref.clone(),
            labels,
        }
    }

    /// Metadata of a child called `name`: namespace, labels and the controller ownerReference
    /// (so deleting the connection garbage-collects the child).
    pub fn meta(&self, name: impl Into<String>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels.clone()),
            owner_references: Some(vec![self.owner_ref.clone()]),
            ..ObjectMeta::default()
        }
    }

    pub fn labels(&self) -> BTreeMap<String, String> {
        self.labels.clone()
    }

    pub fn selector(&self) -> BTreeMap<String, String> {
        selector_labels(&self.name)
    }
}

/// Labels that select a connection's node pods (never change: Deployment selectors are
/// immutable).
pub fn selector_labels(connection: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "app.kubernetes.io/name".into(),
            "stripe-connector-node".into(),
        ),
        ("app.kubernetes.io/instance".into(), connection.into()),
    ])
}

/// Child names, derived from the connection's name (at most 49 characters, so every suffix fits).
pub mod names {
    pub fn config_map(connection: &str) -> String {
        format!("{connection}-settings")
    }
    pub fn service_account(connection: &str) -> String {
        format!("{connection}-node")
    }
    pub fn client_token(connection: &str) -> String {
        format!("{connection}-client-token")
    }
    /// The token Secret of a client: `default`'s is [`client_token`].
    pub fn client_token_of(connection: &str, client: &str) -> String {
        if client == stripe_node::access::DEFAULT_CLIENT {
            client_token(connection)
        } else {
            format!("{connection}-client-token-{client}")
        }
    }
    pub fn redis_password(connection: &str) -> String {
        format!("{connection}-redis-password")
    }
    /// Deployment, Service, HPA and PDB share the connection's name.
    pub fn nodes(connection: &str) -> String {
        connection.to_string()
    }
}

/// The connection's in-cluster URL (https when the nodes serve a certificate).
pub fn endpoint(name: &str, namespace: &str, https: bool) -> String {
    let scheme = if https { "https" } else { "http" };
    format!("{scheme}://{name}.{namespace}.svc:{API_PORT}")
}

/// Where a node finds the token of client `client`.
pub fn client_token_file(client: &str) -> String {
    if client == stripe_node::access::DEFAULT_CLIENT {
        format!("{MOUNT_ROOT}/client-token/token")
    } else {
        format!("{CLIENTS_DIR}/{client}/token")
    }
}
