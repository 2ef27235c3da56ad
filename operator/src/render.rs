//! `stripe-operator render`: the children a StripeConnection manifest turns into, as YAML.

use kube::ResourceExt;
use serde::Serialize;

use crate::children::{self, Owner, Settings};
use crate::crd::StripeConnection;
use crate::validate::validate;

/// Placeholder uid for manifests that were never stored (ownerReferences need one).
const PLACEHOLDER_UID: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("not a StripeConnection manifest: {0}")]
    Parse(#[source] serde_yaml::Error),
    #[error("invalid StripeConnection: {0}")]
    Invalid(String),
    #[error(transparent)]
    Build(#[from] children::BuildError),
    #[error("cannot write YAML: {0}")]
    Yaml(#[source] serde_yaml::Error),
}

/// Parses `manifest` (defaults applied as the API server would) and fills in what the API
/// server would: the namespace (`default`) and a uid.
pub fn parse(manifest: &str) -> Result<StripeConnection, RenderError> {
    let mut conn: StripeConnection = serde_yaml::from_str(manifest).map_err(RenderError::Parse)?;
    if conn.metadata.namespace.is_none() {
        conn.metadata.namespace = Some("default".into());
    }
    if conn.metadata.uid.is_none() {
        conn.metadata.uid = Some(PLACEHOLDER_UID.into());
    }
    let problems = validate(&conn.name_any(), &conn.spec);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(RenderError::Invalid(list.join("; ")));
    }
    Ok(conn)
}

/// Every object the operator writes for `conn`, in apply order, as JSON values: the Deployment
/// as first created (with the initial replica count) and the client token Secret with `token`.
pub fn objects(
    conn: &StripeConnection,
    settings: &Settings,
    token: &str,
) -> Result<Vec<serde_json::Value>, RenderError> {
    // Offline there are no referenced objects to read: the hash covers the settings alone.
    let c = children::build(conn, settings, &children::StartupInputs::new())?;
    let owner = Owner::of(conn)?;
    let mut deployment = c.deployment;
    if let Some(spec) = deployment.spec.as_mut() {
        spec.replicas = Some(conn.spec.nodes.min);
    }
    let mut out = vec![value(&c.service_account), value(&c.config_map)];
    if let Some(redis) = &c.redis_password {
        out.push(value(redis));
    }
    out.push(value(&children::client_token_secret(&owner, token)));
    out.extend([
        value(&deployment),
        value(&c.service),
        value(&c.hpa),
        value(&c.pdb),
    ]);
    Ok(out)
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
