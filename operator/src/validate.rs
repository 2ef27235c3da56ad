//! Spec checks the operator makes before building anything (pure).
//!
//! They repeat the CRD's schema and CEL rules (an API server without them, or an object stored
//! before a rule existed, must still be caught) and add what CEL cannot express well, such as
//! label syntax. A problem is reported in the status as `InvalidSpec`; nothing is "fixed".

use std::fmt;

use crate::crd::{MAX_NAME_LEN, MAX_NODES, ProxyAuthScheme, StripeConnectionSpec};

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

/// The seed's connection-name rule (the CRD's root CEL rules say the same).
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
