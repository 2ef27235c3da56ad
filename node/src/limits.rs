//! Input limits of the API and their errors: every limit answers in the API's JSON error shape
//! and names the limit, also where tower-http or axum answered first (plain text or no body).

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, Code};
use crate::state::AppState;

/// Largest request body the API accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest total size of the request headers (names and values). hyper refuses far larger
/// headers itself (its read buffer, about 400 KiB) with a bare 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Longest error text of a rejection carried into the JSON error.
const MAX_REJECTION_TEXT: usize = 512;

/// Checks header size, declared body size and body type before anything else runs (auth included:
/// such a request is refused without looking at it further).
pub async fn check_request(request: Request, next: Next) -> Response {
    let header_bytes = header_size(request.headers());
    if header_bytes > MAX_HEADER_BYTES {
        return limit_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Code::InvalidArgument,
            "headers",
            format!(
                "request headers are {header_bytes} bytes; the limit is {MAX_HEADER_BYTES} bytes"
            ),
        );
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return body_too_large();
    }
    if declared.is_some_and(|n| n > 0)
        && let Some(kind) = request.headers().get(header::CONTENT_TYPE)
        && !is_json(request.headers())
    {
        let kind = String::from_utf8_lossy(kind.as_bytes())
            .chars()
            .take(100)
            .collect::<String>();
        return limit_error(
            StatusCode::BAD_REQUEST,
            Code::InvalidArgument,
            "Content-Type",
            format!("is {kind:?}; request bodies must be application/json"),
        );
    }
    next.run(request).await
}

/// Turns the bare answers of the layers and extractors below into JSON errors naming the limit:
/// tower-http's 413 (a streamed body over the limit) and 504 (request timeout), and axum's
/// plain-text rejections (bad path or query).
pub async fn json_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if is_json(response.headers())
        || !(response.status().is_client_error()
            || response.status() == StatusCode::GATEWAY_TIMEOUT)
    {
        return response;
    }
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => body_too_large(),
        StatusCode::GATEWAY_TIMEOUT => {
            let timeout = state.config.request_timeout();
            limit_error(
                StatusCode::GATEWAY_TIMEOUT,
                Code::DeadlineExceeded,
                "request",
                format!(
                    "the request took longer than the node's request timeout of {} (--request-timeout-secs)",
                    humantime(timeout)
                ),
            )
        }
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => response,
        status => {
            let text = rejection_text(response).await;
            let code = if status == StatusCode::UNAUTHORIZED {
                Code::Unauthenticated
            } else {
                Code::InvalidArgument
            };
            limit_error(status, code, "request", text)
        }
    }
}

fn body_too_large() -> Response {
    limit_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        Code::InvalidArgument,
        "body",
        format!("request body is larger than the limit of {MAX_BODY_BYTES} bytes"),
    )
}

/// An API error with an HTTP status of its own (413, 431, ...) that no `Code` maps to.
fn limit_error(status: StatusCode, code: Code, field: &str, reason: String) -> Response {
    let mut error = ApiError::invalid(field, reason);
    error.code = code;
    let mut body = error.body();
    body["error"]["code"] = status.as_u16().into();
    (status, axum::Json(body)).into_response()
}

fn header_size(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

async fn rejection_text(response: Response) -> String {
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), MAX_REJECTION_TEXT * 4)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let text = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("bad request")
            .to_string()
    } else {
        text
    };
    text.chars().take(MAX_REJECTION_TEXT).collect()
}

fn humantime(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
