//! The API's own extractors: each turns axum's rejection into an [`ApiError`] naming what was
//! wrong, so every answer is a google.rpc.Status.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::access::Caller;
use crate::error::{ApiError, ApiResult};
use crate::input_limits::MAX_BODY_BYTES;
use crate::state::AppState;

/// The connection a request is about, as named in its path: `projects/{p}/locations/{l}/
/// connections/{c}`. The short paths (`/v2/entityTypes/...`) name no project or location:
/// their names use `-` there.
#[derive(Debug, Clone)]
pub struct Scope {
    pub project: String,
    pub location: String,
    pub connection: String,
}

impl Scope {
    /// `projects/{p}/locations/{l}/connections/{c}`.
    pub fn name(&self) -> String {
        format!(
            "projects/{}/locations/{}/connections/{}",
            self.project, self.location, self.connection
        )
    }
}

/// The path parameters of a request: its [`Scope`], the named parameters of the route and, for
/// `{connection}:verb` and `{name}:verb` segments, the verb.
#[derive(Debug, Clone)]
pub struct Target {
    pub scope: Scope,
    params: HashMap<String, String>,
    /// The verb of a method on the connection: `{connection}:verb`, or `/v2:verb`.
    pub connection_verb: Option<String>,
}

impl Target {
    /// A path parameter of the route (`type`, `id`, `action`, ...).
    pub fn param(&self, name: &str) -> &str {
        self.params
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The name of a `POST .../{collection}/{name}:execute` segment; any other verb is a 404
    /// naming the route the document has.
    pub fn executed(&self, param: &str, collection: &str) -> ApiResult<&str> {
        match self.param(param).split_once(':') {
            Some((name, "execute")) => Ok(name),
            _ => Err(ApiError::not_found(format!(
                "POST .../{collection}/{}: use POST .../{collection}/{{{param}}}:execute",
                self.param(param)
            ))),
        }
    }
}

impl FromRequestParts<AppState> for Target {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(path_error)?;
        let served = &state.config.connection_name;
        let scope = match params.get("connection") {
            None => Scope {
                project: "-".into(),
                location: "-".into(),
                connection: served.clone(),
            },
            Some(segment) => {
                let connection = segment.split(':').next().unwrap_or_default();
                check_connection(connection, served)?;
                Scope {
                    project: params.get("project").cloned().unwrap_or_default(),
                    location: params.get("location").cloned().unwrap_or_default(),
                    connection: connection.to_string(),
                }
            }
        };
        let connection_verb = match params.get("connection") {
            Some(segment) => segment.split_once(':').map(|(_, v)| v.to_string()),
            None => parts.uri.path().strip_prefix("/v2:").map(str::to_string),
        };
        Ok(Self {
            scope,
            params,
            connection_verb,
        })
    }
}

/// The caller the auth layer identified.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::internal("the request has no identified caller"))
    }
}

/// `{connection}` must be the node's own connection.
pub fn check_connection(connection: &str, served: &str) -> ApiResult<()> {
    if connection == served {
        return Ok(());
    }
    Err(ApiError::not_found(format!(
        "connection {connection} is not served here: this node serves connection {served}"
    )))
}

fn path_error(e: PathRejection) -> ApiError {
    ApiError::invalid("path", e.body_text())
}

/// The method's query parameters (Google's system parameters were taken out before, see
/// `system_params`). Unknown names are refused, naming the parameter.
#[derive(Debug, Clone, Default)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        let pairs = serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map_err(|e| ApiError::invalid("query", format!("is not URL-encoded: {e}")))?;
        Ok(Self { pairs })
    }
}

/// Query parameters every method of the document accepts besides its own.
const EXECUTION_CONFIG_HEADERS: &str = "executionConfig.headers";

impl QueryParams {
    /// Refuses any parameter not in `known` (nor `executionConfig.headers`), and checks
    /// `executionConfig.headers` is a JSON object of strings.
    pub fn allow(&self, known: &[&str]) -> ApiResult<&Self> {
        for (name, value) in &self.pairs {
            if name == EXECUTION_CONFIG_HEADERS {
                check_execution_headers(name, value)?;
            } else if !known.contains(&name.as_str()) {
                let mut listed = known.to_vec();
                listed.push(EXECUTION_CONFIG_HEADERS);
                return Err(ApiError::invalid(
                    name.clone(),
                    format!("unknown query parameter; known: {}", listed.join(", ")),
                ));
            }
        }
        Ok(self)
    }

    /// A parameter given at most once.
    pub fn one(&self, name: &str) -> ApiResult<Option<&str>> {
        let mut values = self.all(name).into_iter();
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::invalid(name, "is given more than once"));
        }
        Ok(first)
    }

    /// Every value of a repeated parameter, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// `executionConfig.headers`: a JSON object of header names to string values. The node has no
/// use for Integration Connectors' runtime headers; they are checked and otherwise ignored.
pub fn check_execution_headers(field: &str, text: &str) -> ApiResult<()> {
    let ok =
        text.trim().is_empty() || serde_json::from_str::<HashMap<String, String>>(text).is_ok();
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            "must be a JSON object of header names to string values",
        ))
    }
}

/// A JSON request body of the document's schema `T`. An empty body is `{}`; errors name the
/// field of the body that is wrong.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> ApiResult<Self> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_error)?;
        parse_json(&bytes).map(JsonBody)
    }
}

fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        body_too_large()
    } else {
        ApiError::invalid("body", e.body_text())
    }
}

/// 413: the body is over [`MAX_BODY_BYTES`].
pub fn body_too_large() -> ApiError {
    ApiError::too_large(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body",
        format!("request body is larger than the limit of {MAX_BODY_BYTES} bytes"),
    )
}

/// A request body that must be a JSON object with no key but the `known` ones; the error names
/// the body, or the unknown key, with the reason given.
pub fn body_object<'a>(
    body: &'a Value,
    known: &[&str],
    not_an_object: &str,
    unknown_key: &str,
) -> ApiResult<&'a Map<String, Value>> {
    let object = body
        .as_object()
        .ok_or_else(|| ApiError::invalid("body", not_an_object))?;
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(other) => Err(ApiError::invalid(other.clone(), unknown_key)),
        None => Ok(object),
    }
}

/// Parses JSON into the schema type; errors name the JSON path of the wrong field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let mut de = serde_json::Deserializer::from_slice(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::invalid("body", format!("not JSON: {inner}"));
        }
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        ApiError::invalid(field, inner)
    })
}
