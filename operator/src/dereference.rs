//! Reading the objects a valid connection references (the API key Secret, the API's certificate
//! Secret, the proxy password Secret, the CA bundle ConfigMap or Secret), the one step before the builders that talks to the
//! API server. The result says what the builders need to know about them, never their contents.

use std::collections::BTreeMap;
use std::fmt::Debug;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;

use crate::crd::CaBundleKind;
use crate::validate::ValidConnection;

/// Every referenced object exists and holds its key. The versions are those of the objects the
/// nodes read only at start-up; the builders mix them into the pod template's config hash, so a
/// change to such an object rolls the nodes. The API key's version is not here: the nodes
/// re-read the key without restarting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dereferenced {
    /// resourceVersion of the proxy password Secret, when the proxy authenticates.
    pub proxy_password_version: Option<String>,
    /// resourceVersion of the CA bundle ConfigMap or Secret, when there is one.
    pub ca_bundle_version: Option<String>,
}

impl Dereferenced {
    /// The start-up versions keyed by the spec field that references them, in field order.
    pub fn startup_versions(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("spec.proxy.passwordSecretRef", &self.proxy_password_version),
            ("spec.tls.caBundleRef", &self.ca_bundle_version),
        ]
        .into_iter()
        .filter_map(|(field, version)| Some((field, version.as_deref()?)))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Secret (or its key) is missing; the message names it and the spec field, never a value.
    #[error("{0}")]
    SecretNotFound(String),
    /// The CA bundle ConfigMap or Secret (or its key) is missing; the message names it.
    #[error("{0}")]
    CaBundleNotFound(String),
    #[error("Kubernetes API request failed: {0}")]
    Kube(#[source] kube::Error),
}

impl From<kube::Error> for Error {
    fn from(err: kube::Error) -> Self {
        Self::Kube(err)
    }
}

/// Reads every object `conn` references; the first missing one (or missing key) is the error.
pub async fn dereference(client: &Client, conn: &ValidConnection) -> Result<Dereferenced, Error> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &conn.namespace);
    let api_key = &conn.api_key;
    let field = "spec.auth.apiKeySecretRef";
    version_of(&secrets, field, &api_key.name, &api_key.key)
        .await?
        .map_err(Error::SecretNotFound)?;

    if let Some(cert) = &conn.server_cert {
        // The nodes re-read a renewed certificate themselves: its version rolls nothing.
        let field = "spec.tls.serverCertSecretRef";
        for key in ["tls.crt", "tls.key"] {
            version_of(&secrets, field, cert, key)
                .await?
                .map_err(Error::SecretNotFound)?;
        }
    }

    let mut found = Dereferenced::default();
    if let Some(password) = conn.proxy_password() {
        let field = "spec.proxy.passwordSecretRef";
        let version = version_of(&secrets, field, &password.name, &password.key).await?;
        found.proxy_password_version = Some(version.map_err(Error::SecretNotFound)?);
    }
    if let Some(ca) = &conn.ca_bundle {
        let field = "spec.tls.caBundleRef";
        let version = match ca.kind {
            CaBundleKind::Secret => version_of(&secrets, field, &ca.name, &ca.key).await?,
            CaBundleKind::ConfigMap => {
                let config_maps = Api::<ConfigMap>::namespaced(client.clone(), &conn.namespace);
                version_of(&config_maps, field, &ca.name, &ca.key).await?
            }
        };
        found.ca_bundle_version = Some(version.map_err(Error::CaBundleNotFound)?);
    }
    Ok(found)
}

/// Reads `name` (referenced by `field`) from `api`: its resourceVersion if it holds `key`, else
/// the message saying what is missing.
async fn version_of<K>(
    api: &Api<K>,
    field: &str,
    name: &str,
    key: &str,
) -> Result<Result<String, String>, kube::Error>
where
    K: DataKeys<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let object = api.get_opt(name).await?;
    Ok(has_key(&K::kind(&()), name, field, key, object.as_ref()))
}

/// Objects whose data keys can be listed.
trait DataKeys: Resource {
    fn has_data_key(&self, key: &str) -> bool;
}

impl DataKeys for Secret {
    fn has_data_key(&self, key: &str) -> bool {
        holds(&self.data, key) || holds(&self.string_data, key)
    }
}

impl DataKeys for ConfigMap {
    fn has_data_key(&self, key: &str) -> bool {
        holds(&self.data, key) || holds(&self.binary_data, key)
    }
}

fn holds<V>(map: &Option<BTreeMap<String, V>>, key: &str) -> bool {
    map.as_ref().is_some_and(|d| d.contains_key(key))
}

/// The object's resourceVersion when it exists and holds `key`; otherwise a message naming the
/// object, the spec field and the key.
fn has_key<K: DataKeys>(
    kind: &str,
    name: &str,
    field: &str,
    key: &str,
    object: Option<&K>,
) -> Result<String, String> {
    let Some(object) = object else {
        return Err(format!(
            "{kind} {name:?} ({field}) not found in the connection's namespace"
        ));
    };
    if !object.has_data_key(key) {
        return Err(format!("{kind} {name:?} ({field}) has no key {key:?}"));
    }
    Ok(object.meta().resource_version.clone().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_versions_are_listed_in_field_order() {
        let found = Dereferenced {
            proxy_password_version: Some("7".into()),
            ca_bundle_version: Some("9".into()),
        };
        assert_eq!(
            found.startup_versions().collect::<Vec<_>>(),
            [
                ("spec.proxy.passwordSecretRef", "7"),
                ("spec.tls.caBundleRef", "9")
            ]
        );
        assert_eq!(Dereferenced::default().startup_versions().count(), 0);
    }

    #[test]
    fn a_missing_object_or_key_is_named_without_its_data() {
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "k", "resourceVersion": "5"}, "data": {"other": "c2VjcmV0"}}))
        .expect("parses");
        let field = "spec.auth.apiKeySecretRef";
        assert_eq!(
            has_key("Secret", "k", field, "api-key", Some(&secret)),
            Err("Secret \"k\" (spec.auth.apiKeySecretRef) has no key \"api-key\"".into())
        );
        assert_eq!(
            has_key("Secret", "k", field, "other", Some(&secret)),
            Ok("5".into())
        );
        assert_eq!(
            has_key::<Secret>("Secret", "k", field, "api-key", None),
            Err(
                "Secret \"k\" (spec.auth.apiKeySecretRef) not found in the connection's namespace"
                    .into()
            )
        );
    }
}
