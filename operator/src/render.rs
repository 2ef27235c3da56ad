//! `stripe-operator render`: the children a StripeConnection manifest turns into, as YAML.

use serde::Serialize;

use crate::children::{self, Children, Settings};
use crate::crd::StripeConnection;
use crate::dereference::Dereferenced;
use crate::validate::{ValidConnection, validate};

/// Placeholder uid for manifests that were never stored (ownerReferences need one).
const PLACEHOLDER_UID: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("not a StripeConnection manifest: {0}")]
    Parse(#[source] serde_yaml::Error),
    #[error("invalid StripeConnection: {0}")]
    Invalid(String),
    #[error("cannot write YAML: {0}")]
    Yaml(#[source] serde_yaml::Error),
}

/// Parses `manifest` (defaults applied as the API server would), fills in what the API server
/// would (the namespace `default` and a uid) and validates it.
pub fn parse(manifest: &str) -> Result<ValidConnection, RenderError> {
    let mut conn: StripeConnection = serde_yaml::from_str(manifest).map_err(RenderError::Parse)?;
    if conn.metadata.namespace.is_none() {
        conn.metadata.namespace = Some("default".into());
    }
    if conn.metadata.uid.is_none() {
        conn.metadata.uid = Some(PLACEHOLDER_UID.into());
    }
    validate(&conn).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        RenderError::Invalid(list.join("; "))
    })
}

/// Every object the operator writes for `conn`, in apply order, as JSON values, the client token
/// Secret with `token` (a named client's with `token` and its name).
pub fn objects(conn: &ValidConnection, settings: &Settings, token: &str) -> Vec<serde_json::Value> {
    // Offline there are no referenced objects to read: the hash covers the settings alone.
    let Children {
        service_account,
        config_map,
        redis_password,
        client_token,
        named_client_tokens,
        deployment,
        service,
        hpa,
        pdb,
    } = children::build(conn, settings, &Dereferenced::default());
    let mut out = vec![value(&service_account), value(&config_map)];
    if let Some(redis) = &redis_password {
        out.push(value(redis));
    }
    out.push(value(&client_token.with_token(token)));
    // Each named client's Secret gets a token of its own: no two clients may share one.
    out.extend(
        named_client_tokens
            .iter()
            .map(|t| value(&t.with_token(&format!("{token}-{}", t.client())))),
    );
    out.extend([
        value(&deployment),
        value(&service),
        value(&hpa),
        value(&pdb),
    ]);
    out
}
/// The objects as a multi-document YAML stream.
pub fn to_yaml(objects: &[serde_json::Value]) -> Result<String, RenderError> {
    let mut out = String::new();
    for object in objects {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(object).map_err(RenderError::Yaml)?);
    }
    Ok(out)
}

fn value<T: Serialize>(object: &T) -> serde_json::Value {
    // Serializing k8s-openapi types to JSON cannot fail (string keys, no non-finite floats).
    serde_json::to_value(object).unwrap_or_default()
}
