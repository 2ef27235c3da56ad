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

/// The Secret a client reads its token from (key `token`): `default`'s, or a named client's of
/// `spec.clients`. The operator creates it once and never rewrites it, so the token stays
/// stable; the token itself is chosen only at that creation (deleting the Secret rotates it).
#[derive(Clone, Debug)]
pub struct ClientTokenSecret {
    owner: Owner,
    client: String,
}

impl ClientTokenSecret {
    /// The Secret of the client `default`.
    pub fn new(owner: &Owner) -> Self {
        Self::of_client(owner, stripe_node::access::DEFAULT_CLIENT)
    }

    pub fn of_client(owner: &Owner, client: &str) -> Self {
        Self {
            owner: owner.clone(),
            client: client.to_string(),
        }
    }

    pub fn name(&self) -> String {
        names::client_token_of(&self.owner.name, &self.client)
    }

    pub fn client(&self) -> &str {
        &self.client
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
