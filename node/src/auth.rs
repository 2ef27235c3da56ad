//! Caller authentication: the API requires `Authorization: Bearer <client token>`, where the
//! token is one client's (access.rs), mounted as a file from its Secret. A rotated Secret takes
//! effect without a restart (secret.rs: the file is re-read when it changes). The identified
//! [`Caller`] goes on as a request extension, and its name into the request's log span.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::access::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Rejects API calls without a client's bearer token before anything else runs.
pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match &state.clients {
        None => Caller::anonymous(),
        Some(clients) => {
            let presented = request
                .headers()
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                // The scheme is case-insensitive (RFC 7235), as OAuth clients may send any case.
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token);
            match presented.map(|p| clients.identify(p.trim())) {
                Some(Some(caller)) => caller,
                Some(None) => {
                    return unauthenticated(
                        "CLIENT_TOKEN_INVALID",
                        "the bearer token is not the token of a client of this connection",
                        Some("invalid_token"),
                    );
                }
                None => {
                    return unauthenticated(
                        "CLIENT_TOKEN_MISSING",
                        "missing Authorization: Bearer <client token> header",
                        None,
                    );
                }
            }
        }
    };
    tracing::Span::current().record("client", caller.name());
    request.extensions_mut().insert(caller);
    next.run(request).await
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
