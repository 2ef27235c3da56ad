//! Secrets the operator writes: the client token (created once) and the Redis password copy.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use rand::distr::{Alphanumeric, SampleString};

use super::{Owner, Settings, names};

/// A fresh client token: 48 random alphanumerics (about 285 bits) from the OS-seeded CSPRNG.
pub fn generate_client_token() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 48)
}

/// The Secret callers read the connection's client token from (key `token`). The operator
/// creates it once and never rewrites it, so the token stays stable; the token itself is chosen
/// only at that creation.
#[derive(Clone, Debug)]
pub struct ClientTokenSecret {
    owner: Owner,
}

impl ClientTokenSecret {
    pub fn new(owner: &Owner) -> Self {
        Self {
            owner: owner.clone(),
        }
    }

    pub fn name(&self) -> String {
        names::client_token(&self.owner.name)
    }

    /// The Secret holding `token`.
    pub fn with_token(&self, token: &str) -> Secret {
        Secret {
            metadata: self.owner.meta(self.name()),
            type_: Some("Opaque".into()),
            data: Some(BTreeMap::from([(
                "token".into(),
                ByteString(token.as_bytes().to_vec()),
            )])),
            ..Secret::default()
        }
    }
}

/// The operator's Redis password, copied next to the nodes (key `password`), when one is set.
pub fn redis_password_secret(owner: &Owner, settings: &Settings) -> Option<Secret> {
    let password = settings.redis_password.as_ref()?;
    Some(Secret {
        metadata: owner.meta(names::redis_password(&owner.name)),
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([(
            "password".into(),
            ByteString(password.as_bytes().to_vec()),
        )])),
        ..Secret::default()
    })
}
