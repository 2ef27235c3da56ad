//! Validation, the first step of a reconcile (pure): a spec with problems is reported, a good
//! one becomes a [`ValidConnection`], the only input the child builders take ("parse, don't
//! validate"), so no builder re-checks what was proved here.
//!
//! The checks repeat the CRD's schema and CEL rules (an API server without them, or an object
//! stored before a rule existed, must still be caught) and add what CEL cannot express well, such
//! as label syntax. A problem is reported in the status as `InvalidSpec`; nothing is "fixed".

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::{Resource, ResourceExt};
use stripe_node::access;

use crate::crd::{
    CaBundleRef, LogLevel, MAX_NAME_LEN, MAX_NODES, ProxyAuthScheme, ProxySslType, SecretKeyRef,
    StripeConnection, StripeConnectionSpec,
};

/// Where the nodes call Stripe: the operator sets no STRIPE_BASE_URL, so always the node's
/// default, which is https.
pub const STRIPE_BASE_URL: &str = "https://api.stripe.com";

/// Labels the operator sets itself; `spec.labels` may not override them.
pub const RESERVED_LABELS: [&str; 4] = [
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/component",
];

/// A stored connection whose spec passed every check, in the shape the builders need: options
/// that only matter together (an enabled proxy, its credentials) are present exactly when used.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidConnection {
    pub name: String,
    pub namespace: String,
    /// The controller ownerReference every child carries.
    pub owner_ref: OwnerReference,
    pub api_key: SecretKeyRef,
    pub account_id: Option<String>,
    pub min_nodes: i32,
    pub max_nodes: i32,
    pub scale_down_stabilization_seconds: i32,
    pub transactions_per_second_per_node: i32,
    pub account_transactions_per_second: Option<i32>,
    /// How long a request over capacity may wait for a slot; `None` rejects at once.
    pub max_wait_milliseconds: Option<i32>,
    pub verbosity: i32,
    pub logging_enabled: bool,
    pub log_level: LogLevel,
    /// Only when the proxy is enabled.
    pub proxy: Option<Proxy>,
    pub ca_bundle: Option<CaBundleRef>,
    /// The named clients of `spec.clients`; `None` without it (the one client `default`).
    pub clients: Option<Vec<ValidClient>>,
    /// The kubernetes.io/tls Secret the nodes serve HTTPS with.
    pub server_cert: Option<String>,
    /// The user's labels (none of them reserved), copied to every child.
    pub labels: BTreeMap<String, String>,
}

/// A client of `spec.clients` whose name and grants the node accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidClient {
    pub name: String,
    pub allow: stripe_node::access::Allow,
}

/// An enabled outbound proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    pub host: String,
    pub port: i32,
    pub auth: ProxyAuth,
    /// Never `NEVER` (refused, see [`validate`]).
    pub ssl_type: ProxySslType,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyAuth {
    None,
    /// BASIC or DIGEST, with the user and the Secret key holding the password.
    Credentials {
        scheme: ProxyAuthScheme,
        user: String,
        password: SecretKeyRef,
    },
}

impl ProxyAuth {
    pub fn scheme(&self) -> ProxyAuthScheme {
        match self {
            Self::None => ProxyAuthScheme::None,
            Self::Credentials { scheme, .. } => *scheme,
        }
    }
}

impl ValidConnection {
    /// The proxy's password Secret, when the proxy authenticates.
    pub fn proxy_password(&self) -> Option<&SecretKeyRef> {
        match &self.proxy.as_ref()?.auth {
            ProxyAuth::Credentials { password, .. } => Some(password),
            ProxyAuth::None => None,
        }
    }
}

/// `conn` as a [`ValidConnection`], or all its problems, in field order.
pub fn validate(conn: &StripeConnection) -> Result<ValidConnection, Vec<SpecProblem>> {
    let name = conn.name_any();
    let mut problems = spec_problems(&name, &conn.spec);
    // A stored object always has both; only an offline manifest can lack them.
    let namespace = conn.namespace();
    if namespace.is_none() {
        problems.push(missing_metadata("metadata.namespace"));
    }
    let owner_ref = conn.controller_owner_ref(&());
    if owner_ref.is_none() {
        problems.push(missing_metadata("metadata.uid"));
    }
    let (Some(namespace), Some(owner_ref), true) = (namespace, owner_ref, problems.is_empty())
    else {
        return Err(problems);
    };
    let spec = &conn.spec;
    let rate = &spec.rate_limit;
    Ok(ValidConnection {
        name,
        namespace,
        owner_ref,
        api_key: spec.auth.api_key_secret_ref.clone(),
        account_id: spec.account_id.clone(),
        min_nodes: spec.nodes.min,
        max_nodes: spec.nodes.max,
        scale_down_stabilization_seconds: spec.nodes.scale_down_stabilization_seconds,
        transactions_per_second_per_node: rate.transactions_per_second_per_node,
        account_transactions_per_second: rate.account_transactions_per_second,
        max_wait_milliseconds: (rate.max_wait_milliseconds > 0)
            .then_some(rate.max_wait_milliseconds),
        verbosity: spec.verbosity,
        logging_enabled: spec.logging.enabled,
        log_level: spec.logging.level,
        proxy: spec
            .proxy
            .as_ref()
            .filter(|p| p.enabled)
            .and_then(valid_proxy),
        ca_bundle: spec.tls.as_ref().and_then(|t| t.ca_bundle_ref.clone()),
        clients: (!spec.clients.is_empty()).then(|| {
            spec.clients
                .iter()
                .map(|c| ValidClient {
                    name: c.name.clone(),
                    allow: c.allow.to_node(),
                })
                .collect()
        }),
        server_cert: spec
            .tls
            .as_ref()
            .and_then(|t| t.server_cert_secret_ref.as_ref())
            .map(|r| r.name.clone()),
        labels: spec.labels.clone(),
    })
}

/// The enabled proxy `spec_problems` found nothing wrong with (so every `?` holds).
fn valid_proxy(proxy: &crate::crd::ProxySpec) -> Option<Proxy> {
    let auth = match proxy.auth_scheme? {
        ProxyAuthScheme::None => ProxyAuth::None,
        scheme => ProxyAuth::Credentials {
            scheme,
            user: proxy.user.clone()?,
            password: proxy.password_secret_ref.clone()?,
        },
    };
    Some(Proxy {
        host: proxy.host.clone()?,
        port: proxy.port?,
        auth,
        ssl_type: proxy.ssl_type,
    })
}

fn missing_metadata(field: &str) -> SpecProblem {
    SpecProblem {
        field: field.into(),
        reason: "is not set (the object was never stored)".into(),
    }
}

/// One thing wrong with a spec: the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecProblem {
    pub field: String,
    pub reason: String,
}

impl fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// All problems of a connection named `name` with `spec`, in field order; empty when valid.
fn spec_problems(name: &str, spec: &StripeConnectionSpec) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, reason: String| {
        problems.push(SpecProblem {
            field: field.to_string(),
            reason,
        })
    };

    if let Err(reason) = check_connection_name(name) {
        problem("metadata.name", reason);
    }
    if spec.auth.api_key_secret_ref.name.is_empty() {
        problem("spec.auth.apiKeySecretRef.name", "must not be empty".into());
    }
    if spec.auth.api_key_secret_ref.key.is_empty() {
        problem("spec.auth.apiKeySecretRef.key", "must not be empty".into());
    }
    let nodes = &spec.nodes;
    if !(1..=MAX_NODES).contains(&nodes.min) {
        problem(
            "spec.nodes.min",
            format!("must be between 1 and {MAX_NODES}, got {}", nodes.min),
        );
    }
    if !(1..=MAX_NODES).contains(&nodes.max) {
        problem(
            "spec.nodes.max",
            format!("must be between 1 and {MAX_NODES}, got {}", nodes.max),
        );
    }
    if nodes.min > nodes.max {
        problem(
            "spec.nodes",
            format!("min ({}) must not exceed max ({})", nodes.min, nodes.max),
        );
    }
    let tps = spec.rate_limit.transactions_per_second_per_node;
    if !(1..=1000).contains(&tps) {
        problem(
            "spec.rateLimit.transactionsPerSecondPerNode",
            format!("must be between 1 and 1000, got {tps}"),
        );
    }
    if let Some(account_tps) = spec.rate_limit.account_transactions_per_second
        && !(1..=10000).contains(&account_tps)
    {
        problem(
            "spec.rateLimit.accountTransactionsPerSecond",
            format!("must be between 1 and 10000, got {account_tps}"),
        );
    }
    let max_wait = spec.rate_limit.max_wait_milliseconds;
    if !(0..=10000).contains(&max_wait) {
        problem(
            "spec.rateLimit.maxWaitMilliseconds",
            format!("must be between 0 and 10000, got {max_wait}"),
        );
    }
    if !(1..=5).contains(&spec.verbosity) {
        problem(
            "spec.verbosity",
            format!("must be between 1 and 5, got {}", spec.verbosity),
        );
    }
    if let Some(proxy) = spec.proxy.as_ref().filter(|p| p.enabled) {
        if proxy.host.as_deref().is_none_or(str::is_empty) {
            problem(
                "spec.proxy.host",
                "is required when the proxy is enabled".into(),
            );
        }
        match proxy.port {
            None => problem(
                "spec.proxy.port",
                "is required when the proxy is enabled".into(),
            ),
            Some(port) if !(1..=65535).contains(&port) => problem(
                "spec.proxy.port",
                format!("must be between 1 and 65535, got {port}"),
            ),
            Some(_) => {}
        }
        match proxy.auth_scheme {
            None => problem(
                "spec.proxy.authScheme",
                "is required when the proxy is enabled".into(),
            ),
            Some(ProxyAuthScheme::Basic | ProxyAuthScheme::Digest) => {
                if proxy.user.as_deref().is_none_or(str::is_empty) {
                    problem(
                        "spec.proxy.user",
                        "is required when authScheme is BASIC or DIGEST".into(),
                    );
                }
                if proxy.password_secret_ref.is_none() {
                    problem(
                        "spec.proxy.passwordSecretRef",
                        "is required when authScheme is BASIC or DIGEST".into(),
                    );
                }
            }
            Some(ProxyAuthScheme::None) => {}
        }
        if proxy.ssl_type == ProxySslType::Never {
            problem(
                "spec.proxy.sslType",
                format!(
                    "NEVER is not allowed: the nodes call {STRIPE_BASE_URL}, and NEVER would hand each request, API key included, to the proxy in clear text; use AUTO, TUNNEL or ALWAYS"
                ),
            );
        }
    }
    if let Some(ca) = spec.tls.as_ref().and_then(|t| t.ca_bundle_ref.as_ref()) {
        if ca.name.is_empty() {
            problem("spec.tls.caBundleRef.name", "must not be empty".into());
        }
        if let Err(reason) = check_object_key(&ca.key) {
            problem("spec.tls.caBundleRef.key", reason);
        }
    }
    if let Some(cert) = spec
        .tls
        .as_ref()
        .and_then(|t| t.server_cert_secret_ref.as_ref())
        && cert.name.is_empty()
    {
        problem(
            "spec.tls.serverCertSecretRef.name",
            "must not be empty".into(),
        );
    }
    if spec.clients.len() > access::MAX_CLIENTS {
        problem(
            "spec.clients",
            format!(
                "at most {} clients, got {}",
                access::MAX_CLIENTS,
                spec.clients.len()
            ),
        );
    }
    for (i, client) in spec.clients.iter().enumerate() {
        if !access::valid_client_name(&client.name) {
            problem(
                &format!("spec.clients[{i}].name"),
                format!(
                    "must be lowercase letters, digits and hyphens, start with a letter, end with a letter or digit, at most {} characters",
                    access::MAX_CLIENT_NAME
                ),
            );
        }
        if spec.clients[..i].iter().any(|c| c.name == client.name) {
            problem(
                &format!("spec.clients[{i}].name"),
                format!(
                    "{} is listed twice: each client name may be listed once",
                    client.name
                ),
            );
        }
        if let Err(p) = access::Grants::from_allow(&client.allow.to_node()) {
            problem(&format!("spec.clients[{i}].allow.{}", p.field), p.reason);
        }
    }
    for (key, value) in &spec.labels {
        if RESERVED_LABELS.contains(&key.as_str()) {
            problem(
                &format!("spec.labels[{key}]"),
                "is set by the operator and must not be overridden".into(),
            );
        } else if let Err(reason) = check_label_key(key) {
            problem(&format!("spec.labels[{key}]"), reason);
        } else if let Err(reason) = check_label_value(value) {
            problem(&format!("spec.labels[{key}]"), reason);
        }
    }
    problems
}

/// Integration Connectors' connection-name rule (the CRD's root CEL rules say the same).
pub fn check_connection_name(name: &str) -> Result<(), String> {
    let bytes = name.as_bytes();
    if bytes.len() > MAX_NAME_LEN {
        return Err(format!(
            "must be at most {MAX_NAME_LEN} characters, got {}",
            bytes.len()
        ));
    }
    let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last))
            if first.is_ascii_lowercase()
                && (last.is_ascii_lowercase() || last.is_ascii_digit())
                && bytes.iter().all(allowed) =>
        {
            Ok(())
        }
        _ => Err("must consist of lowercase letters, digits and hyphens, start with a letter and end with a letter or digit".into()),
    }
}

/// A ConfigMap or Secret key, which also becomes a file name in the pod.
fn check_object_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("must not be empty".into());
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if key == "." || key == ".." || !key.bytes().all(allowed) {
        return Err(
            "must consist of letters, digits, '-', '_' or '.' (a ConfigMap/Secret key)".into(),
        );
    }
    Ok(())
}

/// Kubernetes label key: optional DNS-subdomain prefix and `/`, then a name of at most 63
/// characters.
fn check_label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if prefix.len() > 253 || !prefix.split('.').all(label_ok) {
            return Err("label key prefix must be a DNS subdomain".into());
        }
    }
    if name.is_empty() {
        return Err("label key name must not be empty".into());
    }
    check_label_value(name).map_err(|_| {
        "label key name must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric".into()
    })
}

/// Kubernetes label value: empty, or at most 63 alphanumerics, `-`, `_`, `.`, starting and ending
/// with an alphanumeric.
fn check_label_value(value: &str) -> Result<(), String> {
    let bytes = value.as_bytes();
    let ok = value.is_empty()
        || (bytes.len() <= 63
            && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')));
    if ok {
        Ok(())
    } else {
        Err("label value must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric".into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(overrides: serde_json::Value) -> StripeConnectionSpec {
        let mut base = json!({"auth": {"apiKeySecretRef": {"name": "k", "key": "api-key"}}});
        if let (Some(base), Some(extra)) = (base.as_object_mut(), overrides.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::from_value(base).expect("spec parses")
    }

    fn fields(name: &str, overrides: serde_json::Value) -> Vec<String> {
        spec_problems(name, &spec(overrides))
            .into_iter()
            .map(|p| p.field)
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert!(spec_problems("payments", &spec(json!({}))).is_empty());
        let s = spec(json!({}));
        assert_eq!((s.nodes.min, s.nodes.max), (2, 50));
        assert_eq!(s.rate_limit.transactions_per_second_per_node, 6);
        assert_eq!(s.logging.level.as_str(), "error");
    }

    #[test]
    fn connection_names_follow_integration_connectors_rule() {
        for good in ["a", "payments", "eu-billing-2", &"a".repeat(49)] {
            assert!(check_connection_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Payments",
            "1abc",
            "abc-",
            "a_b",
            "a.b",
            &"a".repeat(50),
        ] {
            assert!(check_connection_name(bad).is_err(), "{bad}");
        }
        assert_eq!(fields("Bad", json!({})), ["metadata.name"]);
    }

    #[test]
    fn node_bounds() {
        assert_eq!(
            fields("c", json!({"nodes": {"min": 5, "max": 4}})),
            ["spec.nodes"]
        );
        assert_eq!(
            fields("c", json!({"nodes": {"min": 0, "max": 4}})),
            ["spec.nodes.min"]
        );
        assert_eq!(
            fields("c", json!({"nodes": {"min": 2, "max": 51}})),
            ["spec.nodes.max"]
        );
        assert!(fields("c", json!({"nodes": {"min": 50, "max": 50}})).is_empty());
    }

    #[test]
    fn rate_limits_are_bounded() {
        let rate = |r: serde_json::Value| fields("c", json!({ "rateLimit": r }));
        assert_eq!(
            rate(json!({"transactionsPerSecondPerNode": 0})),
            ["spec.rateLimit.transactionsPerSecondPerNode"]
        );
        assert_eq!(
            rate(json!({"accountTransactionsPerSecond": 0})),
            ["spec.rateLimit.accountTransactionsPerSecond"]
        );
        assert_eq!(
            rate(json!({"maxWaitMilliseconds": -1})),
            ["spec.rateLimit.maxWaitMilliseconds"]
        );
        assert!(
            rate(json!({"accountTransactionsPerSecond": 100, "maxWaitMilliseconds": 500}))
                .is_empty()
        );
    }

    #[test]
    fn proxy_rules_apply_only_when_enabled() {
        assert!(fields("c", json!({"proxy": {"enabled": false}})).is_empty());
        assert_eq!(
            fields("c", json!({"proxy": {"enabled": true}})),
            [
                "spec.proxy.host",
                "spec.proxy.port",
                "spec.proxy.authScheme"
            ]
        );
        assert_eq!(
            fields(
                "c",
                json!({"proxy": {"enabled": true, "host": "p", "port": 1, "authScheme": "DIGEST"}})
            ),
            ["spec.proxy.user", "spec.proxy.passwordSecretRef"]
        );
        assert!(
            fields(
                "c",
                json!({"proxy": {"enabled": true, "host": "p", "port": 3128, "authScheme": "BASIC",
                                 "user": "u", "passwordSecretRef": {"name": "s", "key": "k"}}})
            )
            .is_empty()
        );
    }

    #[test]
    fn ssl_type_never_is_refused_only_when_the_proxy_is_used() {
        let proxy = |enabled: bool, ssl: &str| {
            json!({"proxy": {"enabled": enabled, "host": "p", "port": 3128, "authScheme": "NONE",
                             "sslType": ssl}})
        };
        assert_eq!(fields("c", proxy(true, "NEVER")), ["spec.proxy.sslType"]);
        let problems = spec_problems("c", &spec(proxy(true, "NEVER")));
        assert!(
            problems[0].reason.contains("https://api.stripe.com")
                && problems[0].reason.contains("clear text"),
            "{}",
            problems[0]
        );
        assert!(fields("c", proxy(false, "NEVER")).is_empty());
        for ok in ["AUTO", "ALWAYS", "TUNNEL"] {
            assert!(fields("c", proxy(true, ok)).is_empty(), "{ok}");
        }
    }

    #[test]
    fn ca_bundle_needs_a_name_and_a_file_name_key() {
        let ca =
            |name: &str, key: &str| json!({"tls": {"caBundleRef": {"name": name, "key": key}}});
        assert!(fields("c", ca("corp-ca", "ca.crt")).is_empty());
        assert_eq!(
            spec(ca("corp-ca", "ca.crt"))
                .tls
                .unwrap()
                .ca_bundle_ref
                .unwrap()
                .kind,
            crate::crd::CaBundleKind::ConfigMap
        );
        assert_eq!(fields("c", ca("", "ca.crt")), ["spec.tls.caBundleRef.name"]);
        for bad in ["", "..", "a/b", "ca crt"] {
            assert_eq!(
                fields("c", ca("x", bad)),
                ["spec.tls.caBundleRef.key"],
                "{bad}"
            );
        }
        assert!(fields("c", json!({"tls": {}})).is_empty());
    }

    #[test]
    fn labels_must_be_valid_and_not_reserved() {
        assert!(
            fields(
                "c",
                json!({"labels": {"team": "a", "example.com/tier": "gold"}})
            )
            .is_empty()
        );
        assert_eq!(
            fields("c", json!({"labels": {"app.kubernetes.io/name": "x"}})),
            ["spec.labels[app.kubernetes.io/name]"]
        );
        assert_eq!(
            fields("c", json!({"labels": {"team": "has space"}})),
            ["spec.labels[team]"]
        );
        assert_eq!(
            fields("c", json!({"labels": {"-bad": "x"}})),
            ["spec.labels[-bad]"]
        );
    }

    #[test]
    fn problems_name_field_and_reason() {
        let problems = spec_problems("c", &spec(json!({"verbosity": 9})));
        assert_eq!(
            problems[0].to_string(),
            "spec.verbosity: must be between 1 and 5, got 9"
        );
    }

    fn stored(spec: serde_json::Value) -> StripeConnection {
        let mut base = json!({"auth": {"apiKeySecretRef": {"name": "k", "key": "api-key"}}});
        if let (Some(base), Some(extra)) = (base.as_object_mut(), spec.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::from_value(json!({
            "apiVersion": "connectors.integration.dev/v1", "kind": "StripeConnection",
            "metadata": {"name": "c", "namespace": "ns", "uid": "u-1"},
            "spec": base,
        }))
        .expect("connection parses")
    }

    #[test]
    fn a_valid_connection_holds_only_the_options_in_use() {
        let valid = validate(&stored(json!({}))).expect("valid");
        assert_eq!(
            (valid.namespace.as_str(), valid.owner_ref.uid.as_str()),
            ("ns", "u-1")
        );
        assert_eq!((valid.min_nodes, valid.max_nodes), (2, 50));
        assert_eq!(valid.max_wait_milliseconds, None);
        assert_eq!(valid.proxy, None);

        let disabled = json!({"proxy": {"enabled": false, "host": "p", "port": 1}});
        assert_eq!(validate(&stored(disabled)).expect("valid").proxy, None);

        let basic = json!({"proxy": {"enabled": true, "host": "p", "port": 3128,
            "authScheme": "BASIC", "user": "u", "passwordSecretRef": {"name": "s", "key": "pw"}},
            "rateLimit": {"maxWaitMilliseconds": 200}});
        let valid = validate(&stored(basic)).expect("valid");
        assert_eq!(valid.max_wait_milliseconds, Some(200));
        assert_eq!(valid.proxy_password().map(|r| r.key.as_str()), Some("pw"));
        let proxy = valid.proxy.expect("proxy");
        assert_eq!((proxy.host.as_str(), proxy.port), ("p", 3128));
        assert_eq!(proxy.auth.scheme(), ProxyAuthScheme::Basic);

        let none = json!({"proxy": {"enabled": true, "host": "p", "port": 3128,
            "authScheme": "NONE", "passwordSecretRef": {"name": "s", "key": "pw"}}});
        let valid = validate(&stored(none)).expect("valid");
        assert_eq!(
            valid.proxy_password(),
            None,
            "an unused password is not mounted"
        );
    }

    #[test]
    fn problems_prevent_a_valid_connection_and_name_missing_metadata() {
        let problems = validate(&stored(json!({"verbosity": 0}))).expect_err("invalid");
        assert_eq!(problems[0].field, "spec.verbosity");

        let mut manifest = stored(json!({}));
        manifest.metadata.uid = None;
        manifest.metadata.namespace = None;
        let fields: Vec<String> = validate(&manifest)
            .expect_err("never stored")
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["metadata.namespace", "metadata.uid"]);
    }
}
