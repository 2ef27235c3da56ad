//! Input limits of the API, checked before anything else (auth included): URI length, header
//! count and size, declared body size and body type. A streamed body over the limit is refused by the body extractor
//! (`api::extract`), with the same error.

use axum::body::HttpBody;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::extract::body_too_large;
use crate::error::ApiError;

/// Largest request body the API accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest total size of the request headers (names and values).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most request headers.
pub const MAX_HEADERS: usize = 100;
/// Longest request URI (path and query).
pub const MAX_URI_BYTES: usize = 16 * 1024;

/// hyper's own limits (listener.rs), set above the node's so that a request over the node's
/// limits still reaches the node and gets its JSON answer. hyper answers by itself, with an
/// empty body, only a request head larger than its read buffer, more headers than this, a URI
/// over its fixed 65534 bytes, or bytes that are not HTTP at all.
pub const HYPER_MAX_BUF_BYTES: usize = 1024 * 1024;
pub const HYPER_MAX_HEADERS: usize = 1000;

pub async fn check_request(request: Request, next: Next) -> Response {
    let uri_bytes = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return ApiError::too_large(
            StatusCode::URI_TOO_LONG,
            "uri",
            format!("uri: the request URI is {uri_bytes} bytes; the limit is {MAX_URI_BYTES} bytes (put long filter clauses in executeSqlQuery's body)"),
        )
        .into_response();
    }
    let has_body = request.body().size_hint().exact() != Some(0);
    match refusal(request.headers(), has_body) {
        Some(error) => error.into_response(),
        None => next.run(request).await,
    }
}

fn refusal(headers: &HeaderMap, has_body: bool) -> Option<ApiError> {
    if headers.len() > MAX_HEADERS {
        return Some(ApiError::too_large(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers",
            format!(
                "headers: the request has {} headers; the limit is {MAX_HEADERS}",
                headers.len()
            ),
        ));
    }
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some(ApiError::too_large(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers",
            format!(
                "headers: request headers are {header_bytes} bytes; the limit is {MAX_HEADER_BYTES} bytes"
            ),
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Some(body_too_large());
    }
    let kind = headers.get(header::CONTENT_TYPE)?;
    let json = kind
        .to_str()
        .is_ok_and(|v| v.starts_with("application/json"));
    if has_body && !json {
        let kind = String::from_utf8_lossy(kind.as_bytes())
            .chars()
            .take(100)
            .collect::<String>();
        return Some(ApiError::invalid(
            "Content-Type",
            format!("is {kind:?}; request bodies must be application/json"),
        ));
    }
    None
}
