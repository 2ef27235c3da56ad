//! `executeHttpRequest`: one raw Stripe request through the node's Stripe client, so the limiter,
//! retries, idempotency keys, the proxy, the exchange log's verbosity and redaction all apply.
//! Only Stripe's API (the connection's base URL, `/v1/...`) can be reached, with the
//! connection's key, account and API version.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use http::{Method, StatusCode, Uri};
use serde_json::{Value, json};

use super::admit;
use super::extract::body_object;
use crate::access::{Caller, HttpMethod, Permission};
use crate::audit::{Origin, Write};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::stripe::StripeRequest;

/// Request headers passed on; the rest are refused, naming them.
const PASSED: &[&str] = &["idempotency-key", "content-type", "accept"];
/// Headers the connection sets itself.
const OWNED: &[&str] = &["authorization", "stripe-account", "stripe-version"];

fn text<'a>(body: &'a Value, key: &str) -> ApiResult<Option<&'a str>> {
    match &body[key] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(ApiError::invalid(key, "must be a string")),
    }
}

/// The Stripe call an ExecuteHttpRequestRequest asks for.
pub fn stripe_request(base_url: &str, body: &Value) -> ApiResult<StripeRequest> {
    body_object(
        body,
        &["headers", "httpMethod", "rawBody", "url"],
        "must be an ExecuteHttpRequestRequest",
        "unknown key of an ExecuteHttpRequestRequest",
    )?;
    let method = match text(body, "httpMethod")? {
        Some("HTTP_METHOD_GET") => Method::GET,
        Some("HTTP_METHOD_POST") => Method::POST,
        Some("HTTP_METHOD_DELETE") => Method::DELETE,
        Some(other) => {
            return Err(ApiError::invalid(
                "httpMethod",
                format!(
                    "Stripe's API takes HTTP_METHOD_GET, HTTP_METHOD_POST or HTTP_METHOD_DELETE, not {other}"
                ),
            ));
        }
        None => return Err(ApiError::invalid("httpMethod", "is required")),
    };
    let url = text(body, "url")?.ok_or_else(|| ApiError::invalid("url", "is required"))?;
    let path = stripe_path(base_url, url)?;

    let mut idempotency_key = None;
    let mut form_body = false;
    for (i, header) in body["headers"].as_array().into_iter().flatten().enumerate() {
        let field = format!("headers[{i}]");
        let (Some(key), Some(value)) = (header["key"].as_str(), header["value"].as_str()) else {
            return Err(ApiError::invalid(
                field,
                "must be {\"key\": ..., \"value\": ...}",
            ));
        };
        let name = key.to_ascii_lowercase();
        if OWNED.contains(&name.as_str()) {
            return Err(ApiError::invalid(
                field,
                format!("{key} is set by the connection (its key, account and API version)"),
            ));
        }
        if !PASSED.contains(&name.as_str()) {
            return Err(ApiError::invalid(
                field,
                format!(
                    "{key} is not passed on to Stripe; passed: Idempotency-Key, Content-Type, Accept"
                ),
            ));
        }
        match name.as_str() {
            "idempotency-key" => {
                idempotency_key = Some(super::checked_idempotency_key(&field, value)?);
            }
            "content-type" => {
                if !value.starts_with("application/x-www-form-urlencoded") {
                    return Err(ApiError::invalid(
                        field,
                        "Stripe's v1 API takes application/x-www-form-urlencoded bodies",
                    ));
                }
                form_body = true;
            }
            _ => {}
        }
    }

    let raw = match text(body, "rawBody")? {
        None | Some("") => Vec::new(),
        Some(encoded) => STANDARD
            .decode(encoded)
            .or_else(|_| URL_SAFE.decode(encoded))
            .map_err(|_| ApiError::invalid("rawBody", "is not base64"))?,
    };
    let params: Vec<(String, String)> = if raw.is_empty() {
        Vec::new()
    } else if method != Method::POST {
        return Err(ApiError::invalid(
            "rawBody",
            "only a POST has a body; put GET and DELETE parameters in the url",
        ));
    } else {
        serde_urlencoded::from_bytes(&raw).map_err(|e| {
            ApiError::invalid(
                "rawBody",
                format!("is not an application/x-www-form-urlencoded body: {e}"),
            )
        })?
    };
    if !params.is_empty() && !form_body {
        return Err(ApiError::invalid(
            "headers",
            "a body needs Content-Type: application/x-www-form-urlencoded",
        ));
    }
    let mut request = StripeRequest::new(method, path);
    request.params = params;
    Ok(request.with_idempotency_key(idempotency_key.filter(|k| !k.is_empty())))
}

/// The path and query of a URL on the connection's Stripe API, or a 400 saying where calls may go.
fn stripe_path(base_url: &str, url: &str) -> ApiResult<String> {
    let refused = || {
        ApiError::invalid(
            "url",
            format!("only Stripe's API can be reached: {base_url}/v1/..."),
        )
    };
    let target: Uri = url.parse().map_err(|_| refused())?;
    let base: Uri = base_url.parse().map_err(|_| refused())?;
    let same = |a: Option<&str>, b: Option<&str>| match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    let authority = |u: &Uri| u.authority().map(|a| a.as_str().to_string());
    if !same(target.scheme_str(), base.scheme_str())
        || !same(authority(&target).as_deref(), authority(&base).as_deref())
        || target.authority().is_some_and(|a| a.as_str().contains('@'))
        || !target.path().starts_with("/v1/")
        || target.path().split('/').any(|s| s == ".." || s == ".")
    {
        return Err(refused());
    }
    Ok(target
        .path_and_query()
        .map_or_else(|| target.path().to_string(), |p| p.as_str().to_string()))
}

/// `POST {connection}:executeHttpRequest`: ExecuteHttpRequestResponse. Stripe's error answers
/// are answers too (statusCode 4xx with Stripe's error body); failures to reach Stripe are
/// errors of the call. It needs `httpRequests` of its HTTP method; a POST or DELETE is audited.
pub async fn execute(state: &AppState, caller: &Caller, body: &Value) -> ApiResult<Value> {
    let mut request = stripe_request(&state.config.stripe.base_url, body)?;
    let method = HttpMethod::of(&request.method)
        .ok_or_else(|| ApiError::internal("a raw request of an unexpected method"))?;
    let origin = Origin::new(caller, "executeHttpRequest");
    let audited = method != HttpMethod::Get;
    if let Err(denied) = caller.require(Permission::HttpRequest(method)) {
        if audited {
            raw_write(&request, None).record(origin, Err(&denied));
        }
        return Err(denied);
    }
    if request.method == Method::POST {
        request.idempotency_key = Some(super::write_key(request.idempotency_key.take()));
    }
    admit(state).await?;
    let answer = state.stripe.call(request.clone()).await;
    if audited {
        let id = answer.as_ref().ok().and_then(|o| o["id"].as_str());
        raw_write(&request, id).record(origin, answer.as_ref().map(|_| ()));
    }
    let (status, body, request_id) = match answer {
        Ok(object) => (200, object, None),
        Err(e) => match e.stripe() {
            Some(stripe) => {
                let mut error = serde_json::Map::new();
                for (key, value) in [
                    ("type", &stripe.kind),
                    ("code", &stripe.code),
                    ("decline_code", &stripe.decline_code),
                    ("param", &stripe.param),
                    ("message", &stripe.message),
                ] {
                    if let Some(v) = value {
                        error.insert(key.to_string(), v.clone().into());
                    }
                }
                (
                    stripe.http_status,
                    json!({ "error": error }),
                    stripe.request_id.clone(),
                )
            }
            None => return Err(e),
        },
    };
    let mut headers = vec![json!({"key": "Content-Type", "value": "application/json"})];
    if let Some(id) = request_id {
        headers.push(json!({"key": "Request-Id", "value": id}));
    }
    Ok(json!({
        "statusCode": status,
        "reason": StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or_default(),
        "headers": headers,
        "body": STANDARD.encode(serde_json::to_vec(&body).unwrap_or_default()),
    }))
}

/// The audit record of a raw write: its method, Stripe path and key; the id is the answered
/// object's.
fn raw_write<'a>(request: &'a StripeRequest, id: Option<&'a str>) -> Write<'a> {
    Write {
        object_id: id,
        idempotency_key: request.idempotency_key.as_deref(),
        http_method: Some(request.method.as_str()),
        path: Some(&request.path),
        ..Write::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://api.stripe.com";

    fn refused_field(body: Value) -> String {
        stripe_request(BASE, &body)
            .unwrap_err()
            .field()
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_raw_request_becomes_one_stripe_call() {
        let r = stripe_request(
            BASE,
            &json!({
                "httpMethod": "HTTP_METHOD_POST",
                "url": "https://api.stripe.com/v1/customers",
                "headers": [{"key": "Content-Type", "value": "application/x-www-form-urlencoded"},
                            {"key": "Idempotency-Key", "value": "k1"}],
                "rawBody": STANDARD.encode("email=a%40b.c&metadata[x]=1"),
            }),
        )
        .unwrap();
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.path, "/v1/customers");
        assert_eq!(
            r.params,
            [
                ("email".to_string(), "a@b.c".to_string()),
                ("metadata[x]".to_string(), "1".to_string())
            ]
        );
        assert_eq!(r.idempotency_key.as_deref(), Some("k1"));
        let get = stripe_request(
            BASE,
            &json!({"httpMethod": "HTTP_METHOD_GET", "url": "https://API.stripe.com/v1/customers?limit=3"}),
        )
        .unwrap();
        assert_eq!(get.path, "/v1/customers?limit=3");
    }

    #[test]
    fn only_stripe_s_api_with_the_connection_s_credentials_is_reachable() {
        for url in [
            "https://evil.example/v1/customers",
            "http://api.stripe.com/v1/customers",
            "https://api.stripe.com.evil.example/v1/customers",
            "https://user@api.stripe.com/v1/customers",
            "https://api.stripe.com/v1/../../etc",
            "https://api.stripe.com/",
            "/v1/customers",
        ] {
            assert_eq!(
                refused_field(json!({"httpMethod": "HTTP_METHOD_GET", "url": url})),
                "url",
                "{url}"
            );
        }
        let header = |k: &str| {
            refused_field(json!({"httpMethod": "HTTP_METHOD_GET",
                "url": "https://api.stripe.com/v1/customers", "headers": [{"key": k, "value": "x"}]}))
        };
        assert_eq!(header("Authorization"), "headers[0]");
        assert_eq!(header("Stripe-Account"), "headers[0]");
        assert_eq!(header("X-Other"), "headers[0]");
        assert_eq!(
            refused_field(
                json!({"httpMethod": "HTTP_METHOD_PUT", "url": "https://api.stripe.com/v1/customers"})
            ),
            "httpMethod"
        );
    }
}
