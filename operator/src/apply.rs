//! Writing children: server-side apply with one field manager, but only when applying would
//! change the live object, so a steady-state reconcile sends no write.

use std::collections::BTreeSet;
use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
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

/// Applies `desired` (force, field manager [`FIELD_MANAGER`]) unless the live object is
/// [`up_to_date`]. Returns the live object after the step.
pub async fn ensure<K>(api: &Api<K>, desired: &K) -> Result<(K, Outcome), kube::Error>
where
    K: Resource<Scope = NamespaceResourceScope> + Clone + Debug + Serialize + DeserializeOwned,
{
    let name = desired.name_any();
    if let Some(observed) = api.get_opt(&name).await?
        && up_to_date(&observed, desired)?
    {
        return Ok((observed, Outcome::Unchanged));
    }
    let applied = api
        .patch(&name, &apply_params(), &Patch::Apply(desired))
        .await?;
    Ok((applied, Outcome::Applied))
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

/// Whether applying `desired` would leave `observed` as it is: `observed` holds every field of
/// `desired` ([`is_subset`]), and no field the operator applied earlier that `desired` has since
/// dropped (an apply removes those; they are found in the operator's `managedFields` entry).
pub fn up_to_date<K: Resource + Serialize>(observed: &K, desired: &K) -> Result<bool, kube::Error> {
    let to_value = |k: &K| serde_json::to_value(k).map_err(kube::Error::SerdeError);
    let desired_value = to_value(desired)?;
    if !is_subset(&desired_value, &to_value(observed)?) {
        return Ok(false);
    }
    let wanted = field_paths(&desired_value);
    Ok(observed
        .meta()
        .managed_fields
        .iter()
        .flatten()
        .filter(|m| {
            m.manager.as_deref() == Some(FIELD_MANAGER)
                && m.operation.as_deref() == Some("Apply")
                && m.subresource.is_none()
        })
        .filter_map(|m| m.fields_v1.as_ref())
        .all(|owned| owned_paths(&owned.0).is_subset(&wanted)))
}

/// A field's path, list items as `*` (enough here: a list whose length changed already fails
/// [`is_subset`]).
type FieldPath = Vec<String>;

/// Every field path `value` sets (null means unset).
fn field_paths(value: &Value) -> BTreeSet<FieldPath> {
    fn walk(value: &Value, path: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
        let mut visit = |segment: &str, child: &Value| {
            path.push(segment.to_string());
            out.insert(path.clone());
            walk(child, path, out);
            path.pop();
        };
        match value {
            Value::Object(fields) => fields
                .iter()
                .filter(|(_, v)| !v.is_null())
                .for_each(|(k, v)| visit(k, v)),
            Value::Array(items) => items.iter().for_each(|v| visit("*", v)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

/// The field paths of a `fieldsV1` set: `f:<name>` is a field, `k:`/`v:`/`i:` a list item, `.`
/// the node itself.
fn owned_paths(fields: &Value) -> BTreeSet<FieldPath> {
    fn walk(fields: &Value, path: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
        for (key, child) in fields.as_object().into_iter().flatten() {
            if key == "." {
                continue;
            }
            path.push(key.strip_prefix("f:").unwrap_or("*").to_string());
            out.insert(path.clone());
            walk(child, path, out);
            path.pop();
        }
    }
    let mut out = BTreeSet::new();
    walk(fields, &mut Vec::new(), &mut out);
    out
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

    use k8s_openapi::api::core::v1::ConfigMap;

    use super::{FIELD_MANAGER, is_subset, up_to_date};

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

    fn config_map(data: serde_json::Value, applied: serde_json::Value) -> ConfigMap {
        serde_json::from_value(json!({
            "metadata": {"name": "c", "managedFields": [
                {"manager": FIELD_MANAGER, "operation": "Apply", "fieldsType": "FieldsV1",
                 "fieldsV1": applied},
                {"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:data": {"f:OTHER": {}}}},
            ]},
            "data": data,
        }))
        .expect("config map")
    }

    #[test]
    fn a_field_the_operator_applied_and_no_longer_wants_is_a_difference() {
        let desired = config_map(json!({"A": "1"}), json!({}));
        let observed = config_map(
            json!({"A": "1", "PROXY_HOST": "p", "OTHER": "x"}),
            json!({"f:data": {".": {}, "f:A": {}, "f:PROXY_HOST": {}}}),
        );
        assert!(!up_to_date(&observed, &desired).expect("compares"));

        // Someone else's key is theirs: not a reason to apply.
        let observed = config_map(
            json!({"A": "1", "OTHER": "x"}),
            json!({"f:data": {".": {}, "f:A": {}}}),
        );
        assert!(up_to_date(&observed, &desired).expect("compares"));
    }

    #[test]
    fn list_items_in_managed_fields_match_any_item() {
        let deployment = |volumes: serde_json::Value| {
            serde_json::from_value::<k8s_openapi::api::apps::v1::Deployment>(json!({
                "metadata": {"name": "d", "managedFields": [{"manager": FIELD_MANAGER,
                    "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {
                        "f:template": {"f:spec": {"f:volumes": {
                            "k:{\"name\":\"tmp\"}": {".": {}, "f:name": {}, "f:emptyDir": {}}}}}}}}]},
                "spec": {"selector": {}, "template": {"spec": {"containers": [],
                    "volumes": volumes}}},
            }))
            .expect("deployment")
        };
        let tmp = json!([{"name": "tmp", "emptyDir": {}}]);
        assert!(up_to_date(&deployment(tmp.clone()), &deployment(tmp)).expect("compares"));
    }
}
