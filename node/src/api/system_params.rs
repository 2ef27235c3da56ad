//! Google's system parameters, which every generated client may send on any method (`alt`,
//! `prettyPrint`, `fields`, `$.xgafv`, `key`, `quotaUser`, ...). They are checked and taken out
//! of the query before the method sees it; `prettyPrint` and `fields` (partial responses) are
//! applied to the JSON answer.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

/// Largest answer re-rendered for `prettyPrint`/`fields` (larger ones are sent as they are).
const MAX_RENDERED_BYTES: usize = 32 * 1024 * 1024;

/// System parameters with no meaning for this node: accepted and ignored. `access_token` and
/// `oauth_token` are not used for authentication: the client token goes in the Authorization
/// header, so it never shows in URLs and access logs.
const IGNORED: &[&str] = &[
    "key",
    "quotaUser",
    "access_token",
    "oauth_token",
    "callback",
    "uploadType",
    "upload_protocol",
];

/// How the answer is rendered.
#[derive(Debug, Clone, Default)]
struct Rendering {
    compact: bool,
    fields: Option<Selector>,
}

pub async fn apply(mut request: Request, next: Next) -> Response {
    let rendering = match take_system_params(request.uri_mut()) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let response = next.run(request).await;
    render(response, &rendering).await
}

fn take_system_params(uri: &mut Uri) -> ApiResult<Rendering> {
    let Some(query) = uri.query() else {
        return Ok(Rendering::default());
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::invalid("query", format!("is not URL-encoded: {e}")))?;
    let mut rendering = Rendering::default();
    let mut rest = Vec::new();
    for (name, value) in pairs {
        match name.as_str() {
            "alt" if value != "json" => {
                return Err(ApiError::invalid(
                    "alt",
                    format!("only json is served, not {value:?}"),
                ));
            }
            "alt" => {}
            "$.xgafv" if value != "1" && value != "2" => {
                return Err(ApiError::invalid("$.xgafv", "must be 1 or 2"));
            }
            // Both error formats carry google.rpc.Status the same way in JSON.
            "$.xgafv" => {}
            "prettyPrint" => {
                rendering.compact = match value.as_str() {
                    "true" | "1" => false,
                    "false" | "0" => true,
                    _ => return Err(ApiError::invalid("prettyPrint", "must be true or false")),
                }
            }
            "fields" => rendering.fields = Some(Selector::parse(&value)?),
            n if IGNORED.contains(&n) => {}
            _ => rest.push((name, value)),
        }
    }
    let path = uri.path();
    let rebuilt = if rest.is_empty() {
        path.to_string()
    } else {
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(&rest).unwrap_or_default()
        )
    };
    *uri = rebuilt
        .parse()
        .map_err(|_| ApiError::invalid("query", "cannot be read"))?;
    Ok(rendering)
}

async fn render(response: Response, rendering: &Rendering) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_json || (rendering.compact && rendering.fields.is_none()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_RENDERED_BYTES).await else {
        return ApiError::internal("the answer is too large to render").into_response();
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    // Partial responses select from successful answers; errors are always whole.
    if let Some(fields) = &rendering.fields
        && parts.status.is_success()
    {
        value = fields.select(&value);
    }
    let text = if rendering.compact {
        serde_json::to_vec(&value)
    } else {
        serde_json::to_vec_pretty(&value)
    }
    .unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(text))
}

/// A `fields` selector: `a,b/c,d(e,f)`, `*` for every key of a level. A key maps to the
/// selection below it (`None`: the whole value).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selector(BTreeMap<String, Option<Selector>>);

impl Selector {
    pub fn parse(text: &str) -> ApiResult<Self> {
        let chars: Vec<char> = text.chars().collect();
        let mut at = 0;
        let selector = parse_list(&chars, &mut at)?;
        if at != chars.len() {
            return Err(bad_selector(text, at));
        }
        Ok(selector)
    }

    /// The parts of `value` the selector names; arrays select in each element.
    pub fn select(&self, value: &Value) -> Value {
        match value {
            Value::Array(items) => Value::Array(items.iter().map(|v| self.select(v)).collect()),
            Value::Object(map) => {
                let mut out = Map::new();
                for (key, v) in map {
                    let sub = self.0.get(key).or_else(|| self.0.get("*"));
                    match sub {
                        Some(None) => {
                            out.insert(key.clone(), v.clone());
                        }
                        Some(Some(inner)) => {
                            out.insert(key.clone(), inner.select(v));
                        }
                        None => {}
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    fn merge(&mut self, key: String, sub: Option<Selector>) {
        match (self.0.get_mut(&key), sub) {
            // Selecting a key whole wins over a partial selection of it.
            (Some(None), _) => {}
            (Some(slot @ Some(_)), None) => *slot = None,
            (Some(Some(have)), Some(more)) => {
                for (k, v) in more.0 {
                    have.merge(k, v);
                }
            }
            (None, sub) => {
                self.0.insert(key, sub);
            }
        }
    }
}

fn bad_selector(text: &str, at: usize) -> ApiError {
    ApiError::invalid(
        "fields",
        format!("{text:?} is not a field selector (at position {})", at + 1),
    )
}

/// `item (',' item)*` where `item = path ('(' list ')')?` and `path = name ('/' name)*`.
fn parse_list(chars: &[char], at: &mut usize) -> ApiResult<Selector> {
    let text: String = chars.iter().collect();
    let mut selector = Selector::default();
    loop {
        let mut path = Vec::new();
        loop {
            let start = *at;
            while *at < chars.len() && !matches!(chars[*at], ',' | '/' | '(' | ')') {
                *at += 1;
            }
            let name: String = chars[start..*at]
                .iter()
                .collect::<String>()
                .trim()
                .to_string();
            if name.is_empty() {
                return Err(bad_selector(&text, *at));
            }
            path.push(name);
            if *at < chars.len() && chars[*at] == '/' {
                *at += 1;
                continue;
            }
            break;
        }
        let mut sub = None;
        if *at < chars.len() && chars[*at] == '(' {
            *at += 1;
            sub = Some(parse_list(chars, at)?);
            if *at >= chars.len() || chars[*at] != ')' {
                return Err(bad_selector(&text, *at));
            }
            *at += 1;
        }
        // `a/b/c(d)` is `a(b(c(d)))`.
        let mut nested = sub;
        for key in path.drain(1..).rev() {
            let mut level = Selector::default();
            level.0.insert(key, nested);
            nested = Some(level);
        }
        selector.merge(path.remove(0), nested);
        if *at < chars.len() && chars[*at] == ',' {
            *at += 1;
            continue;
        }
        return Ok(selector);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_pick_nested_fields_in_lists() {
        let answer = json!({
            "entities": [
                {"name": "n1", "fields": {"Id": "cus_1", "Email": "a@x", "Name": "A"}},
                {"name": "n2", "fields": {"Id": "cus_2", "Email": "b@x", "Name": "B"}}
            ],
            "nextPageToken": "t"
        });
        let s = Selector::parse("entities(fields/Id,fields/Email),nextPageToken").unwrap();
        assert_eq!(
            s.select(&answer),
            json!({"entities": [{"fields": {"Id": "cus_1", "Email": "a@x"}},
                                {"fields": {"Id": "cus_2", "Email": "b@x"}}],
                   "nextPageToken": "t"})
        );
        let s = Selector::parse("entities/name").unwrap();
        assert_eq!(
            s.select(&answer),
            json!({"entities": [{"name": "n1"}, {"name": "n2"}]})
        );
        let s = Selector::parse("entities(*)").unwrap();
        assert_eq!(s.select(&answer)["entities"], answer["entities"]);
        for bad in ["", "a,", "a(b", "a)b", "a//b", "(a)"] {
            let e = Selector::parse(bad).unwrap_err();
            assert_eq!(e.field(), Some("fields"), "{bad}");
        }
    }

    #[test]
    fn system_parameters_are_checked_and_taken_out_of_the_query() {
        let mut uri: Uri = "/v2/x?alt=json&prettyPrint=false&conditions=a%3D1&key=k&%24.xgafv=2"
            .parse()
            .unwrap();
        let r = take_system_params(&mut uri).unwrap();
        assert!(r.compact);
        assert_eq!(uri.to_string(), "/v2/x?conditions=a%3D1");
        for (query, field) in [
            ("alt=proto", "alt"),
            ("prettyPrint=yes", "prettyPrint"),
            ("%24.xgafv=3", "$.xgafv"),
            ("fields=a(", "fields"),
        ] {
            let mut uri: Uri = format!("/v2/x?{query}").parse().unwrap();
            let e = take_system_params(&mut uri).unwrap_err();
            assert_eq!(e.field(), Some(field), "{query}");
        }
    }
}
