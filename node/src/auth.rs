//! Caller authentication: the API requires `Authorization: Bearer <client token>`, where the
//! token is the connection's generated Secret, mounted as a file. A rotated Secret takes effect
//! without a restart (secret.rs: the file is re-read when it changes).

use std::path::Path;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::secret::SecretFile;
use crate::state::AppState;

pub struct ClientToken {
    file: SecretFile,
}

impl ClientToken {
    /// Reads the token file; a missing or empty file is a start-up error.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            file: SecretFile::open("--client-token-file", path)?,
        })
    }

    /// Constant-time check of a presented token against the current one. Comparing SHA-256
    /// digests, which have one size, hides the token's length too.
    pub fn verify(&self, presented: &str) -> bool {
        let current: [u8; 32] = Sha256::digest(self.file.current().expose().as_bytes()).into();
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        current.ct_eq(&presented).into()
    }
}

/// Rejects API calls without the right bearer token before anything else runs.
pub async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = &state.client_token else {
        return next.run(request).await;
    };
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme is case-insensitive (RFC 7235), as OAuth clients may send any case.
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token);
    match presented {
        Some(p) if token.verify(p.trim()) => next.run(request).await,
        Some(_) => unauthenticated(
            "CLIENT_TOKEN_INVALID",
            "the bearer token is not this connection's client token",
            Some("invalid_token"),
        ),
        None => unauthenticated(
            "CLIENT_TOKEN_MISSING",
            "missing Authorization: Bearer <client token> header",
            None,
        ),
    }
}

/// 401 with a challenge in RFC 6750's form, which HTTP libraries (httplib2 among them) parse.
fn unauthenticated(reason: &str, message: &str, error: Option<&str>) -> Response {
    let mut response = ApiError::unauthenticated(reason, message).into_response();
    let challenge = match error {
        Some(e) => format!("Bearer realm=\"{REALM}\", error=\"{e}\""),
        None => format!("Bearer realm=\"{REALM}\""),
    };
    if let Ok(value) = axum::http::HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(axum::http::header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The protection space of every node's API.
const REALM: &str = "stripe-connector";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::MountedFile;

    #[test]
    fn verifies_and_follows_rotation() {
        let mounted = MountedFile::new("first-token\n");
        let token = ClientToken::from_file(&mounted.path).unwrap();
        assert!(token.verify("first-token"));
        assert!(!token.verify("first-token-but-longer"));
        assert!(!token.verify(""));

        mounted.rotate("second-token");
        assert!(token.verify("second-token"));
        assert!(!token.verify("first-token"));
    }

    #[test]
    fn empty_or_missing_file_is_a_startup_error() {
        assert!(ClientToken::from_file(&MountedFile::missing().path).is_err());
        let empty = MountedFile::new("  \n");
        let err = ClientToken::from_file(&empty.path)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("--client-token-file") && err.contains("empty"),
            "{err}"
        );
    }
}
