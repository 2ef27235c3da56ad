//! Writing children: server-side apply with one field manager, but only when the observed
//! object differs from the desired one, so a steady-state reconcile sends no write.

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::children::FIELD_MANAGER;

/// What an ensure step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Unchanged,
    Created,
    Applied,
}

/// Applies `desired` (force, field manager [`FIELD_MANAGER`]) unless the live object already
/// holds every field of it. Returns the live object after the step.
pub async fn ensure<K>(api: &Api<K>, desired: &K) -> Result<(K, Outcome), kube::Error>
where
    K: Resource<Scope = NamespaceResourceScope> + Clone + Debug + Serialize + DeserializeOwned,
{
    let name = desired.name_any();
    if let Some(observed) = api.get_opt(&name).await?
        && contains(&observed, desired)?
    {
        return Ok((observed, Outcome::Unchanged));
    }
    let applied = api
        .patch(&name, &apply_params(), &Patch::Apply(desired))
        .await?;
    Ok((applied, Outcome::Applied))
}

/// Like [`ensure`], but a missing Deployment is created with `initial_replicas`. Later applies
/// carry no replica count, so the HPA alone owns it: the create is an Update operation, whose
/// fields a later Apply that omits them does not remove.
pub async fn ensure_deployment(
    api: &Api<Deployment>,
    desired: &Deployment,
    initial_replicas: i32,
) -> Result<(Deployment, Outcome), kube::Error> {
    let name = desired.name_any();
    match api.get_opt(&name).await? {
        None => {
            let mut first = desired.clone();
            if let Some(spec) = first.spec.as_mut() {
                spec.replicas = Some(initial_replicas);
            }
            let created = api.create(&post_params(), &first).await?;
            Ok((created, Outcome::Created))
        }
        Some(observed) if contains(&observed, desired)? => Ok((observed, Outcome::Unchanged)),
        Some(_) => {
            let applied = api
                .patch(&name, &apply_params(), &Patch::Apply(desired))
                .await?;
            Ok((applied, Outcome::Applied))
        }
    }
}

/// Creates `secret` if no Secret of its name exists; never rewrites an existing one (reads only
/// its metadata, never its data).
pub async fn create_if_absent(
    api: &Api<Secret>,
    secret: impl FnOnce() -> Secret,
    name: &str,
) -> Result<Outcome, kube::Error> {
    if api.get_metadata_opt(name).await?.is_some() {
        return Ok(Outcome::Unchanged);
    }
    match api.create(&post_params(), &secret()).await {
        Ok(_) => Ok(Outcome::Created),
        // Another writer created it between the read and the create: keep theirs.
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(Outcome::Unchanged),
        Err(err) => Err(err),
    }
}

pub fn apply_params() -> PatchParams {
    PatchParams::apply(FIELD_MANAGER).force()
}

fn post_params() -> PostParams {
    PostParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PostParams::default()
    }
}

/// Whether `observed` already holds every field `desired` sets.
pub fn contains<K: Serialize>(observed: &K, desired: &K) -> Result<bool, kube::Error> {
    let observed = serde_json::to_value(observed).map_err(kube::Error::SerdeError)?;
    let desired = serde_json::to_value(desired).map_err(kube::Error::SerdeError)?;
    Ok(is_subset(&desired, &observed))
}

/// `desired` ⊆ `observed`: objects by key (fields only the server sets are ignored), arrays
/// element by element with equal length, scalars by equality; `null` in `desired` means unset.
pub fn is_subset(desired: &Value, observed: &Value) -> bool {
    match (desired, observed) {
        (Value::Null, _) => true,
        (Value::Object(d), Value::Object(o)) => d
            .iter()
            .all(|(key, dv)| dv.is_null() || o.get(key).is_some_and(|ov| is_subset(dv, ov))),
        (Value::Array(d), Value::Array(o)) => {
            d.len() == o.len() && d.iter().zip(o).all(|(dv, ov)| is_subset(dv, ov))
        }
        (d, o) => d == o,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::is_subset;

    #[test]
    fn server_added_fields_do_not_count_as_a_difference() {
        let desired = json!({"spec": {"ports": [{"name": "api", "port": 8080}]}, "x": null});
        let observed = json!({"spec": {"ports": [{"name": "api", "port": 8080, "protocol": "TCP"}],
                                       "clusterIP": "10.0.0.1"}});
        assert!(is_subset(&desired, &observed));
    }

    #[test]
    fn changed_values_and_list_lengths_are_differences() {
        let observed = json!({"data": {"A": "1"}, "list": [1, 2]});
        assert!(!is_subset(&json!({"data": {"A": "2"}}), &observed));
        assert!(!is_subset(&json!({"data": {"B": "1"}}), &observed));
        assert!(!is_subset(&json!({"list": [1]}), &observed));
    }
}
