//! The StripeConnection custom resource: spec, status and the generated CRD.

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, CustomResourceExt, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Most nodes a connection can have (Integration Connectors' limit).
pub const MAX_NODES: i32 = 50;
/// Longest connection name (Integration Connectors' limit).
pub const MAX_NAME_LEN: usize = 49;

/// Desired state of a StripeConnection: which Stripe account, how many nodes, how throttled.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "connectors.integration.dev",
    version = "v1",
    kind = "StripeConnection",
    namespaced,
    doc = "A connection to one Stripe account, served by an autoscaled fleet of connector nodes.",
    shortname = "stripeconn",
    status = "StripeConnectionStatus",
    printcolumn = r#"{"name":"Ready","type":"string","description":"Whether the connection serves requests","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Nodes","type":"integer","description":"Ready connector nodes","jsonPath":".status.nodes.ready"}"#,
    printcolumn = r#"{"name":"Capacity","type":"integer","description":"Transactions per second the ready nodes admit","jsonPath":".status.capacityTps"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"Endpoint","type":"string","priority":1,"description":"In-cluster URL of the connection","jsonPath":".status.endpoint"}"#,
    validation = Rule::new("size(self.metadata.name) <= 49").message("connection name must be at most 49 characters").field_path(".metadata.name"),
    validation = Rule::new("self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')").message("connection name must consist of lowercase letters, digits and hyphens, start with a letter and end with a letter or digit").field_path(".metadata.name"),
)]
#[serde(rename_all = "camelCase")]
pub struct StripeConnectionSpec {
    /// Free text describing the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub description: Option<String>,

    /// Stripe account the nodes act for (sent as the `Stripe-Account` header), e.g. a Connect
    /// sub-account `acct_...`. Omit to act for the API key's own account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub account_id: Option<String>,

    /// How the nodes authenticate to Stripe.
    pub auth: AuthSpec,

    /// Bounds of the node fleet; the HorizontalPodAutoscaler moves between them.
    #[serde(default)]
    pub nodes: NodeRange,

    /// Throttling of calls through this connection.
    #[serde(default)]
    pub rate_limit: RateLimit,

    /// How much of each Stripe exchange the nodes log: 1 (least) to 5 (everything except
    /// secrets).
    #[serde(default = "default_verbosity")]
    #[schemars(range(min = 1, max = 5))]
    pub verbosity: i32,

    /// Node logging.
    #[serde(default)]
    pub logging: Logging,

    /// Outbound HTTP proxy the nodes reach Stripe through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxySpec>,

    /// TLS: of the nodes' connections to Stripe (and to a TLS proxy), and of their own API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSpec>,

    /// Callers of the connection's API, each with its own token Secret and scope (at most 20).
    /// Without it, one client `default` may call everything, with the token of Secret
    /// `<connection>-client-token`. With it, only the listed clients may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    #[x_kube(validation = Rule::new("self.all(c, self.exists_one(d, d.name == c.name))").message("clients: each client name may be listed once"))]
    pub clients: Vec<ClientSpec>,

    /// Labels copied to every object the operator creates for this connection (at most 64).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 64))]
    #[x_kube(validation = Rule::new("self.all(k, !(k in ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/component']))").message("labels must not set the operator's own app.kubernetes.io/name, instance, managed-by or component labels"))]
    pub labels: BTreeMap<String, String>,

    /// Version of the connector's entity and action catalog. Only "1" exists.
    #[serde(default)]
    pub connector_version: ConnectorVersion,
}

/// Where the Stripe API key comes from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthSpec {
    /// Secret (in the connection's namespace) and key holding the Stripe secret or restricted
    /// API key. The nodes read it from a mounted file and pick up rotations without restarting.
    pub api_key_secret_ref: SecretKeyRef,
}

/// A key in a Secret of the connection's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
pub struct SecretKeyRef {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key within the Secret's data.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// TLS settings of the nodes.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsSpec {
    /// Key of a ConfigMap (default) or Secret in the connection's namespace holding a PEM
    /// bundle of CA certificates the nodes trust in addition to the system roots, e.g. the CA of
    /// a TLS-intercepting egress proxy or of a proxy reached with sslType ALWAYS. Mounted
    /// read-only at /var/run/stripe-connector/ca-bundle/<key> (EXTRA_CA_FILE); read by the nodes
    /// at start-up, so a change of the referenced object rolls the nodes. While it is missing,
    /// the connection is Degraded with reason CaBundleNotFound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle_ref: Option<CaBundleRef>,
    /// Secret of type kubernetes.io/tls (keys `tls.crt` and `tls.key`) in the connection's
    /// namespace: the nodes serve their API (port 8080) over HTTPS with it and load a renewed
    /// certificate without a restart (cert-manager's Certificate can write it; see the chart's
    /// `apiCertificate`). The admin port (9090: probes and metrics) stays plain HTTP. While it
    /// is missing, the connection waits with reason SecretNotFound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cert_secret_ref: Option<SecretNameRef>,
}

/// A Secret of the connection's namespace, by name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
pub struct SecretNameRef {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// A caller of the connection's API and what it may call.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
pub struct ClientSpec {
    /// Name of the client (lowercase letters, digits and hyphens, at most 32), as logs,
    /// metrics and audit lines name it. Its token is key `token` of the Secret
    /// `<connection>-client-token-<name>` (`<connection>-client-token` for `default`), which
    /// the operator creates with a random token; delete the Secret to rotate that token alone.
    #[schemars(
        length(min = 1, max = 32),
        regex(pattern = r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub name: String,
    /// What the client may call. Metadata reads (entity types, actions, tools, connection
    /// status) are every client's; everything else must be granted here.
    #[serde(default)]
    pub allow: ClientAllow,
}

/// The permissions of a client (docs/reliability.md, "Who may do what"). `*` is the wildcard of
/// each list: every entity type, every operation, every action, every HTTP method.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = allow_schema)]
pub struct ClientAllow {
    /// Operations by entity type, e.g. `Customer: [LIST, GET]`: LIST (also executeSqlQuery),
    /// GET, CREATE, UPDATE, DELETE, or `*`; the entity type `*` grants them on every entity
    /// type. With-conditions updates and deletes need LIST too.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entities: BTreeMap<String, Vec<String>>,
    /// Actions the client may execute, by name (e.g. FinalizeInvoice), or `*` for all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// HTTP methods of raw Stripe requests (executeHttpRequest) the client may send: GET,
    /// POST, DELETE, or `*`. No entity or action grant implies these: a raw request reaches
    /// every object of the account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_requests: Vec<String>,
}

impl ClientAllow {
    /// The same grants in the node's terms.
    pub fn to_node(&self) -> stripe_node::access::Allow {
        stripe_node::access::Allow {
            entities: self.entities.clone(),
            actions: self.actions.clone(),
            http_requests: self.http_requests.clone(),
        }
    }
}

/// Bounds and CEL rules of `allow`, from the node's own catalog: an unknown entity type,
/// operation, action or HTTP method is refused by the API server.
fn allow_schema(schema: &mut schemars::Schema) {
    use serde_json::json;
    use stripe_node::access::{WILDCARD, action_names, entity_names, operation_names};
    let quoted = |names: &[&str]| {
        std::iter::once(WILDCARD)
            .chain(names.iter().copied())
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let listed = |names: &[&str]| format!("{}, or {WILDCARD}", names.join(", "));
    let names_list = |max_items: usize, max_len: usize, names: &[&str], what: &str, field: &str| {
        json!({
            "type": "array",
            "maxItems": max_items,
            "items": {"type": "string", "maxLength": max_len},
            "x-kubernetes-validations": [{
                "rule": format!("self.all(n, n in [{}])", quoted(names)),
                "message": format!("clients[].allow.{field}: unknown {what}; {what}s: {}", listed(names)),
            }],
        })
    };
    let (entities, operations, actions) = (entity_names(), operation_names(), action_names());
    let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let description = |properties: &serde_json::Map<String, serde_json::Value>, key: &str| {
        properties[key]["description"].clone()
    };
    let mut entity_map = json!({
        "type": "object",
        "maxProperties": entities.len() + 1,
        "additionalProperties": names_list(6, 16, &operations, "operation", "entities"),
        "x-kubernetes-validations": [{
            "rule": format!("self.all(k, k in [{}])", quoted(&entities)),
            "message": format!("clients[].allow.entities: unknown entity type; entity types: {}", listed(&entities)),
        }],
    });
    entity_map["description"] = description(properties, "entities");
    let mut action_list = names_list(actions.len() + 1, 64, &actions, "action", "actions");
    action_list["description"] = description(properties, "actions");
    let mut http_list = names_list(
        4,
        8,
        &["GET", "POST", "DELETE"],
        "HTTP method",
        "httpRequests",
    );
    http_list["description"] = description(properties, "httpRequests");
    properties.insert("entities".into(), entity_map);
    properties.insert("actions".into(), action_list);
    properties.insert("httpRequests".into(), http_list);
}

/// A key holding a PEM CA bundle in a ConfigMap or Secret of the connection's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
#[x_kube(validation = Rule::new("self.key.matches('^[-._a-zA-Z0-9]+$') && self.key != '.' && self.key != '..'").message("tls.caBundleRef.key must consist of letters, digits, '-', '_' or '.' (a ConfigMap/Secret key)"))]
pub struct CaBundleRef {
    /// Kind of the object holding the bundle: ConfigMap (default) or Secret.
    #[serde(default)]
    pub kind: CaBundleKind,
    /// Name of the ConfigMap or Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key holding the PEM bundle; also the file name under
    /// /var/run/stripe-connector/ca-bundle/ in the node pods.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// Kind of object a CA bundle is read from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum CaBundleKind {
    #[default]
    ConfigMap,
    Secret,
}

impl CaBundleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigMap => "ConfigMap",
            Self::Secret => "Secret",
        }
    }
}

/// Minimum and maximum number of connector nodes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
#[x_kube(validation = Rule::new("self.min <= self.max").message("nodes.min must not exceed nodes.max"))]
#[serde(rename_all = "camelCase")]
pub struct NodeRange {
    /// Fewest nodes kept running (1 to 50).
    #[serde(default = "default_min_nodes")]
    #[schemars(range(min = 1, max = 50))]
    pub min: i32,
    /// Most nodes the autoscaler may run (1 to 50).
    #[serde(default = "default_max_nodes")]
    #[schemars(range(min = 1, max = 50))]
    pub max: i32,
    /// Seconds of lower load the autoscaler waits before it removes nodes (0 to 3600, as the
    /// HPA allows; default 300), so bursty callers do not make the fleet flap.
    #[serde(default = "default_scale_down_stabilization_seconds")]
    #[schemars(range(min = 0, max = 3600))]
    pub scale_down_stabilization_seconds: i32,
}

impl Default for NodeRange {
    fn default() -> Self {
        Self {
            min: default_min_nodes(),
            max: default_max_nodes(),
            scale_down_stabilization_seconds: default_scale_down_stabilization_seconds(),
        }
    }
}

/// Throttling contract of the connection.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Transactions per second each live node adds to the connection's capacity; the whole
    /// connection admits this times the number of live nodes, cluster-wide.
    #[serde(default = "default_tps")]
    #[schemars(range(min = 1, max = 1000))]
    pub transactions_per_second_per_node: i32,
    /// Transactions per second for the whole Stripe account, shared by every connection that
    /// uses it (set the same value on each). Unset: Stripe's published limits, 25 for test keys
    /// and 100 for live keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub account_transactions_per_second: Option<i32>,
    /// How long a request over capacity may wait for a free slot before it is refused with 429;
    /// 0 (the default) refuses at once.
    #[serde(default)]
    #[schemars(range(min = 0, max = 10000))]
    pub max_wait_milliseconds: i32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            transactions_per_second_per_node: default_tps(),
            account_transactions_per_second: None,
            max_wait_milliseconds: 0,
        }
    }
}

/// Node logging switches.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
pub struct Logging {
    /// Whether the nodes write logs at all.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Lowest level logged.
    #[serde(default)]
    pub level: LogLevel,
}

impl Default for Logging {
    fn default() -> Self {
        Self {
            enabled: true,
            level: LogLevel::default(),
        }
    }
}

/// Log level of the nodes.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    #[default]
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }
}

/// Outbound proxy settings. When `enabled`, `host`, `port` and `authScheme` are required; with
/// authScheme BASIC or DIGEST, `user` and `passwordSecretRef` are required too.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!self.enabled || (has(self.host) && size(self.host) > 0)").message("proxy.host is required when the proxy is enabled"))]
#[x_kube(validation = Rule::new("!self.enabled || has(self.port)").message("proxy.port is required when the proxy is enabled"))]
#[x_kube(validation = Rule::new("!self.enabled || has(self.authScheme)").message("proxy.authScheme is required when the proxy is enabled"))]
#[x_kube(validation = Rule::new("!self.enabled || !has(self.authScheme) || self.authScheme == 'NONE' || (has(self.user) && size(self.user) > 0 && has(self.passwordSecretRef))").message("proxy.user and proxy.passwordSecretRef are required when authScheme is BASIC or DIGEST"))]
#[x_kube(validation = Rule::new("!self.enabled || !has(self.sslType) || self.sslType != 'NEVER'").message("proxy.sslType NEVER is not allowed: the nodes call https://api.stripe.com, and NEVER would hand each request, API key included, to the proxy in clear text; use AUTO, TUNNEL or ALWAYS"))]
pub struct ProxySpec {
    /// Whether the nodes use the proxy.
    #[serde(default)]
    pub enabled: bool,
    /// How the nodes authenticate to the proxy: BASIC, DIGEST or NONE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = drop_null_from_enum)]
    pub auth_scheme: Option<ProxyAuthScheme>,
    /// Proxy user name (BASIC and DIGEST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub user: Option<String>,
    /// Secret key holding the proxy password (BASIC and DIGEST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret_ref: Option<SecretKeyRef>,
    /// When TLS is used towards the proxy: AUTO, ALWAYS (TLS to the proxy), or TUNNEL
    /// (CONNECT). NEVER is refused while the proxy is enabled: the nodes call Stripe over https,
    /// and NEVER would send each request, API key included, to the proxy in clear text.
    #[serde(default)]
    pub ssl_type: ProxySslType,
    /// Proxy host name or IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub host: Option<String>,
    /// Proxy port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
}

/// Proxy authentication scheme.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProxyAuthScheme {
    Basic,
    Digest,
    None,
}

impl ProxyAuthScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "BASIC",
            Self::Digest => "DIGEST",
            Self::None => "NONE",
        }
    }
}

/// When TLS is used towards the proxy.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProxySslType {
    #[default]
    Auto,
    Always,
    Never,
    Tunnel,
}

impl ProxySslType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "AUTO",
            Self::Always => "ALWAYS",
            Self::Never => "NEVER",
            Self::Tunnel => "TUNNEL",
        }
    }
}

/// Version of the connector catalog.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ConnectorVersion {
    #[default]
    #[serde(rename = "1")]
    V1,
}

/// Observed state of a StripeConnection.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct StripeConnectionStatus {
    /// The spec generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Progressing and Degraded, each with a reason such as SecretNotFound, CaBundleNotFound,
    /// InvalidSpec or NodesUnavailable.
    #[serde(default)]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// Node counts.
    #[serde(default)]
    pub nodes: NodeCounts,
    /// In-cluster URL of the connection's API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Transactions per second the connection admits now: the per-node rate times ready nodes.
    #[serde(default)]
    pub capacity_tps: i64,
}

/// How many nodes the autoscaler wants and how many are ready.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
pub struct NodeCounts {
    /// Nodes the Deployment is asked to run (set by the autoscaler).
    #[serde(default)]
    pub desired: i32,
    /// Nodes passing their readiness probe.
    #[serde(default)]
    pub ready: i32,
}

fn default_min_nodes() -> i32 {
    2
}
fn default_scale_down_stabilization_seconds() -> i32 {
    300
}

fn default_max_nodes() -> i32 {
    MAX_NODES
}
fn default_tps() -> i32 {
    6
}
fn default_verbosity() -> i32 {
    1
}
fn default_true() -> bool {
    true
}

/// An optional enum's schema lists `null` among its values; the field is optional already,
/// and Kubernetes expects the enum to hold only the type's values.
fn drop_null_from_enum(schema: &mut schemars::Schema) {
    if let Some(serde_json::Value::Array(values)) = schema.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
}

/// The CRD: kube-derive's, with `metadata.name` declared in the schema, so the name rules'
/// `fieldPath` can point their errors at it (the API server only accepts paths the schema has;
/// without one it reports the field as `<nil>`).
pub fn crd() -> CustomResourceDefinition {
    let mut crd = StripeConnection::crd();
    let metadata = JSONSchemaProps {
        type_: Some("object".into()),
        properties: Some(BTreeMap::from([(
            "name".to_string(),
            JSONSchemaProps {
                type_: Some("string".into()),
                ..JSONSchemaProps::default()
            },
        )])),
        ..JSONSchemaProps::default()
    };
    for version in &mut crd.spec.versions {
        if let Some(root) = version
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
        {
            root.properties
                .get_or_insert_with(BTreeMap::new)
                .insert("metadata".into(), metadata.clone());
        }
    }
    crd
}

/// The CRD as YAML, as committed in `crds/`.
pub fn crd_yaml() -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(&crd())
}
