//! One error type for the whole API, rendered as google.rpc.Status the way Google's JSON APIs
//! send it: `{"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "...",
//! "details": [...]}}`, with typed details Google's client libraries decode
//! (`google.rpc.BadRequest`, `google.rpc.ErrorInfo`, `google.rpc.RetryInfo`).
//!
//! Every error is made by a constructor that sets its canonical code and HTTP status together,
//! so the two always agree.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

/// The ErrorInfo domain of the node's own errors (the API group of the StripeConnection).
pub const NODE_DOMAIN: &str = "connectors.integration.dev";
/// The ErrorInfo domain of errors Stripe answered.
pub const STRIPE_DOMAIN: &str = "stripe.com";

/// Google's canonical error codes used by the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    InvalidArgument,
    FailedPrecondition,
    OutOfRange,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    AlreadyExists,
    Aborted,
    ResourceExhausted,
    Cancelled,
    DeadlineExceeded,
    Unimplemented,
    Unavailable,
    Internal,
}

impl Code {
    /// The HTTP status Google's mapping gives the code.
    pub fn http_status(self) -> StatusCode {
        match self {
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
                StatusCode::BAD_REQUEST
            }
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Stripe's own error fields, carried through when an error came from Stripe.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StripeErrorDetail {
    pub kind: Option<String>,
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub param: Option<String>,
    pub message: Option<String>,
    /// Stripe's `Request-Id` response header.
    pub request_id: Option<String>,
    pub http_status: u16,
}

/// `google.rpc.ErrorInfo`: a machine-readable reason within a domain, with string metadata.
#[derive(Debug, Clone, PartialEq)]
struct ErrorInfo {
    reason: String,
    domain: &'static str,
    metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    code: Code,
    http: StatusCode,
    message: String,
    /// The request field the error is about (google.rpc.BadRequest), when there is one.
    field: Option<String>,
    info: Option<Box<ErrorInfo>>,
    retry_after: Option<Duration>,
    stripe: Option<Box<StripeErrorDetail>>,
}

impl ApiError {
    /// An error with the code's own HTTP status.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            http: code.http_status(),
            message: message.into(),
            field: None,
            info: None,
            retry_after: None,
            stripe: None,
        }
    }

    /// 400 INVALID_ARGUMENT about one request field: "field: reason".
    pub fn invalid(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        let field = field.into();
        Self::invalid_with_message(field.clone(), format!("{field}: {reason}"))
    }

    /// 400 INVALID_ARGUMENT about one request field, with a message of its own.
    pub fn invalid_with_message(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(Code::InvalidArgument, message)
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, message)
    }

    pub fn unimplemented(message: impl Into<String>) -> Self {
        Self::new(Code::Unimplemented, message)
    }

    pub fn unauthenticated(reason: &str, message: impl Into<String>) -> Self {
        Self::new(Code::Unauthenticated, message).with_info(reason, NODE_DOMAIN, [])
    }

    /// 403 for a call outside the caller's grants, naming the client and the permission.
    pub fn permission_denied(client: &str, permission: &str) -> Self {
        Self::new(
            Code::PermissionDenied,
            format!(
                "client {client} is not allowed this call: its allow does not grant {permission} (spec.clients of the StripeConnection)"
            ),
        )
        .with_info(
            "CLIENT_PERMISSION_DENIED",
            NODE_DOMAIN,
            [
                ("client", client.to_string()),
                ("permission", permission.to_string()),
            ],
        )
    }

    pub fn deadline_exceeded(message: impl Into<String>) -> Self {
        Self::new(Code::DeadlineExceeded, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Code::Internal, message)
    }

    /// 429 RESOURCE_EXHAUSTED with `Retry-After` and google.rpc.RetryInfo.
    pub fn throttled(message: impl Into<String>, retry_after: Duration, scope: &str) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(Code::ResourceExhausted, message).with_info(
                "RATE_LIMIT_EXCEEDED",
                NODE_DOMAIN,
                [("scope", scope.to_string())],
            )
        }
    }

    /// 405 for an HTTP method the path does not serve. Its code is UNIMPLEMENTED ("not supported
    /// by this service"), answered with HTTP's own status for it rather than 501, which clients
    /// and proxies read as a server failure.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self {
            http: StatusCode::METHOD_NOT_ALLOWED,
            ..Self::new(Code::Unimplemented, message)
        }
    }

    /// A request larger than a limit of the node: 413 for the body, 431 for the headers. Its
    /// code is RESOURCE_EXHAUSTED, as gRPC answers a message over its size limit: the request
    /// is well-formed but too big for this server, which no retry of the same request fixes.
    pub fn too_large(status: StatusCode, field: &str, message: impl Into<String>) -> Self {
        Self {
            http: status,
            field: Some(field.to_string()),
            ..Self::new(Code::ResourceExhausted, message)
        }
    }

    /// The error of a Stripe error response: the canonical code for Stripe's status and type,
    /// ErrorInfo with Stripe's code as the reason, and BadRequest naming Stripe's `param`.
    pub fn from_stripe(status: u16, body: &Value, request_id: Option<String>) -> Self {
        let err = &body["error"];
        let text = |k: &str| err[k].as_str().map(str::to_string);
        let detail = StripeErrorDetail {
            kind: text("type"),
            code: text("code"),
            decline_code: text("decline_code"),
            param: text("param"),
            message: text("message"),
            request_id,
            http_status: status,
        };
        let code = match (status, detail.kind.as_deref()) {
            (401, _) | (_, Some("authentication_error")) => Code::Unauthenticated,
            (402, _) | (_, Some("card_error")) => Code::FailedPrecondition,
            (403, _) => Code::PermissionDenied,
            (404, _) => Code::NotFound,
            (409, _) => Code::Aborted,
            (429, _) | (_, Some("rate_limit_error")) => Code::ResourceExhausted,
            (500..=599, _) | (_, Some("api_error")) => Code::Unavailable,
            _ => Code::InvalidArgument,
        };
        let message = detail
            .message
            .clone()
            .unwrap_or_else(|| format!("Stripe answered HTTP {status}"));
        let reason = detail
            .code
            .as_deref()
            .or(detail.kind.as_deref())
            .map_or_else(|| format!("HTTP_{status}"), |c| c.to_ascii_uppercase());
        let metadata = [
            ("stripeHttpStatus", Some(status.to_string())),
            ("stripeType", detail.kind.clone()),
            ("stripeCode", detail.code.clone()),
            ("declineCode", detail.decline_code.clone()),
            ("param", detail.param.clone()),
            ("requestId", detail.request_id.clone()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)));
        Self {
            field: detail.param.clone(),
            // Stripe's own rate limit, after the client's retries: advise a short wait.
            retry_after: (code == Code::ResourceExhausted).then_some(Duration::from_secs(1)),
            stripe: Some(Box::new(detail)),
            ..Self::new(code, message).with_info(&reason, STRIPE_DOMAIN, metadata)
        }
    }

    fn with_info<'a>(
        mut self,
        reason: &str,
        domain: &'static str,
        metadata: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Self {
        self.info = Some(Box::new(ErrorInfo {
            reason: reason.to_string(),
            domain,
            metadata: metadata
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }));
        self
    }

    /// The same error about another request field (Stripe's `param` named in the API's terms).
    pub fn about_field(self, field: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..self
        }
    }

    /// The same error with more context in its message.
    pub fn with_context(self, context: impl FnOnce(&str) -> String) -> Self {
        Self {
            message: context(&self.message),
            ..self
        }
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn http_status(&self) -> StatusCode {
        self.http
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    pub fn stripe(&self) -> Option<&StripeErrorDetail> {
        self.stripe.as_deref()
    }

    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The google.rpc.Status JSON. Control characters of the message and the field (which may
    /// quote the request) are written escaped, never as they are.
    pub fn body(&self) -> Value {
        let message = printable(&self.message);
        let mut details = Vec::new();
        if let Some(field) = &self.field {
            details.push(json!({
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": printable(field), "description": message}],
            }));
        }
        if let Some(info) = &self.info {
            details.push(json!({
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": info.reason,
                "domain": info.domain,
                "metadata": info.metadata,
            }));
        }
        if let Some(after) = self.retry_after {
            details.push(json!({
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": duration_json(after),
            }));
        }
        json!({
            "error": {
                "code": self.http.as_u16(),
                "status": self.code,
                "message": message,
                "details": details,
            }
        })
    }
}

/// `text` with each control character written as its escape (`\n`, `\u{7f}`).
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A google.protobuf.Duration in its JSON form: seconds with up to millisecond decimals.
fn duration_json(d: Duration) -> String {
    let millis = d.subsec_millis();
    if millis == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}.{millis:03}s", d.as_secs())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.http, Json(self.body())).into_response();
        if let Some(after) = self.retry_after {
            // Retry-After is in whole seconds; never advertise 0 for a throttled call.
            let secs = after.as_secs_f64().ceil().max(1.0) as u64;
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_errors_map_to_canonical_codes_with_typed_details() {
        let card = ApiError::from_stripe(
            402,
            &json!({"error": {"type": "card_error", "code": "card_declined",
                "decline_code": "generic_decline", "param": "payment_method", "message": "Your card was declined."}}),
            Some("req_1".into()),
        );
        assert_eq!(card.code(), Code::FailedPrecondition);
        assert_eq!(card.http_status(), StatusCode::BAD_REQUEST);
        let body = card.body();
        assert_eq!(body["error"]["code"], 400);
        assert_eq!(
            body["error"]["details"][0]["fieldViolations"][0]["field"],
            "payment_method"
        );
        let info = &body["error"]["details"][1];
        assert_eq!(info["@type"], "type.googleapis.com/google.rpc.ErrorInfo");
        assert_eq!(info["reason"], "CARD_DECLINED");
        assert_eq!(info["domain"], "stripe.com");
        assert_eq!(info["metadata"]["declineCode"], "generic_decline");
        assert_eq!(info["metadata"]["requestId"], "req_1");
        assert_eq!(info["metadata"]["stripeHttpStatus"], "402");
        let cases = [
            (400, "invalid_request_error", Code::InvalidArgument),
            (401, "authentication_error", Code::Unauthenticated),
            (404, "invalid_request_error", Code::NotFound),
            (429, "rate_limit_error", Code::ResourceExhausted),
            (500, "api_error", Code::Unavailable),
            (503, "api_error", Code::Unavailable),
        ];
        for (status, kind, code) in cases {
            let e = ApiError::from_stripe(
                status,
                &json!({"error": {"type": kind, "message": "m"}}),
                None,
            );
            assert_eq!(e.code(), code, "{status} {kind}");
            assert_eq!(e.http_status(), code.http_status(), "{status} {kind}");
        }
    }

    #[test]
    fn throttling_carries_retry_info_and_a_whole_second_header() {
        let e = ApiError::throttled("slow down", Duration::from_millis(1500), "connection");
        let body = e.body();
        assert_eq!(body["error"]["code"], 429);
        assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
        let retry = &body["error"]["details"][1];
        assert_eq!(retry["@type"], "type.googleapis.com/google.rpc.RetryInfo");
        assert_eq!(retry["retryDelay"], "1.500s");
        let response = e.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }

    #[test]
    fn messages_and_fields_never_carry_control_characters() {
        let e = ApiError::invalid(
            "cus\nevil\u{1b}[31m",
            "entity type cus\r\nSet-Cookie: x does not exist",
        );
        let body = e.body().to_string();
        assert!(!body.chars().any(char::is_control), "{body}");
        assert_eq!(
            e.body()["error"]["message"],
            "cus\\nevil\\u{1b}[31m: entity type cus\\r\\nSet-Cookie: x does not exist"
        );
        let info = &ApiError::permission_denied("reader", "Customer: CREATE").body()["error"]["details"]
            [0];
        assert_eq!(info["reason"], "CLIENT_PERMISSION_DENIED");
        assert_eq!(info["metadata"]["client"], "reader");
        assert_eq!(info["metadata"]["permission"], "Customer: CREATE");
    }

    #[test]
    fn a_size_limit_answers_its_own_status_with_a_code_that_is_not_invalid_argument() {
        let e = ApiError::too_large(StatusCode::PAYLOAD_TOO_LARGE, "body", "too big");
        let body = e.body();
        assert_eq!(body["error"]["code"], 413);
        assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
        assert_eq!(
            body["error"]["details"][0]["fieldViolations"][0]["field"],
            "body"
        );
    }
}
