//! Caller authentication: the API requires `Authorization: Bearer <client token>`, where the
//! token is the connection's generated Secret, mounted as a file. A rotated Secret takes effect
//! without a restart: the file is looked at again at most once per second.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

const RECHECK_EVERY: Duration = Duration::from_secs(1);

pub struct ClientToken {
    path: PathBuf,
    cached: Mutex<Cached>,
}

struct Cached {
    /// SHA-256 of the token: comparing fixed-size digests hides the token's length too.
    digest: [u8; 32],
    modified: Option<SystemTime>,
    checked: Instant,
}

impl ClientToken {
    /// Reads the token file; a missing or empty file is a start-up error.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let digest = read_digest(path)
            .map_err(|e| anyhow::anyhow!("--client-token-file {}: {e}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            cached: Mutex::new(Cached {
                digest,
                modified: modified(path),
                checked: Instant::now(),
            }),
        })
    }

    /// Constant-time check of a presented token against the current one.
    pub fn verify(&self, presented: &str) -> bool {
        let current = self.current();
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        current.ct_eq(&presented).into()
    }

    fn current(&self) -> [u8; 32] {
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if cached.checked.elapsed() >= RECHECK_EVERY {
            cached.checked = Instant::now();
            let now_modified = modified(&self.path);
            if now_modified != cached.modified {
                // Keep the old token while the new file is unreadable or empty (mid-rotation).
                if let Ok(digest) = read_digest(&self.path) {
                    cached.digest = digest;
                    cached.modified = now_modified;
                    tracing::info!("client token changed; the new token is in effect");
                }
            }
        }
        cached.digest
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn read_digest(path: &Path) -> std::io::Result<[u8; 32]> {
    let token = std::fs::read_to_string(path)?;
    let token = token.trim();
    if token.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the token file is empty",
        ));
    }
    // No log line may show it (see redact.rs).
    crate::redact::register_secret(token);
    Ok(Sha256::digest(token.as_bytes()).into())
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

    #[test]
    fn verifies_and_follows_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "first-token\n").unwrap();
        let token = ClientToken::from_file(&path).unwrap();
        assert!(token.verify("first-token"));
        assert!(!token.verify("first-token-but-longer"));
        assert!(!token.verify(""));

        std::fs::write(&path, "second-token").unwrap();
        // Force the next check to look at the file again, and make sure its mtime differs.
        let later = SystemTime::now() + Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
        token.cached.lock().unwrap().checked = Instant::now() - RECHECK_EVERY;
        assert!(token.verify("second-token"));
        assert!(!token.verify("first-token"));
    }

    #[test]
    fn empty_or_missing_file_is_a_startup_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        assert!(ClientToken::from_file(&path).is_err());
        std::fs::write(&path, "  \n").unwrap();
        let err = ClientToken::from_file(&path).err().unwrap().to_string();
        assert!(
            err.contains("--client-token-file") && err.contains("empty"),
            "{err}"
        );
    }
}
