//! Spec checks the operator makes before building anything (pure).
//!
//! They repeat the CRD's schema and CEL rules (an API server without them, or an object stored
//! before a rule existed, must still be caught) and add what CEL cannot express well, such as
//! label syntax. A problem is reported in the status as `InvalidSpec`; nothing is "fixed".

use std::fmt;

use crate::crd::{MAX_NAME_LEN, MAX_NODES, ProxyAuthScheme, ProxySslType, StripeConnectionSpec};

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
pub fn validate(name: &str, spec: &StripeConnectionSpec) -> Vec<SpecProblem> {
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
        validate(name, &spec(overrides))
            .into_iter()
            .map(|p| p.field)
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert!(validate("payments", &spec(json!({}))).is_empty());
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
        let problems = validate("c", &spec(proxy(true, "NEVER")));
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
        let problems = validate("c", &spec(json!({"verbosity": 9})));
        assert_eq!(
            problems[0].to_string(),
            "spec.verbosity: must be between 1 and 5, got 9"
        );
    }
}
