//! Google's Integration Connectors v2 runtime API (`connectors.v2.json`) over Stripe. Every
//! method is served at its resource name, `/v2/projects/{project}/locations/{location}/
//! connections/{connection}/...`, and at the short alias without the connection prefix
//! (`/v2/entityTypes/...`, `/v2:checkStatus`). Methods that call Stripe pass the limiter first.

mod actions;
mod conditions;
mod connection;
mod entities;
pub mod extract;
mod http_request;
mod list;
mod metadata;
pub mod openapi;
mod paging;
pub mod payload;
mod sql;
pub mod system_params;
mod tools;

use axum::RequestPartsExt;
use axum::Router;
use axum::extract::{RawPathParams, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

use crate::error::{ApiError, ApiResult};
use crate::metrics::CallLabels;
use crate::state::AppState;

pub use crate::limiter::admit;

/// The prefix of every method's resource name.
pub const CONNECTION: &str = "/v2/projects/{project}/locations/{location}/connections/{connection}";

/// The `{connection}:verb` methods, for the short aliases `/v2:verb`.
const GET_VERBS: &[&str] = &["checkStatus", "checkReadiness", "listCustomToolNames"];
const POST_VERBS: &[&str] = &[
    "executeSqlQuery",
    "executeHttpRequest",
    "exchangeAuthCode",
    "refreshAccessToken",
    "generateConnectionToolspecOverride",
];

/// Every method, at its resource name and at its short alias.
pub fn routes(state: &AppState) -> Router<AppState> {
    let counted =
        |m: MethodRouter<AppState>| m.route_layer(from_fn_with_state(state.clone(), count_calls));
    let below_connection: Vec<(&str, MethodRouter<AppState>)> = vec![
        ("/entityTypes", get(metadata::entity_types)),
        ("/entityTypes/{type}", get(metadata::entity_type)),
        (
            "/entityTypes/{type}/entities",
            counted(get(entities::list).post(entities::create)),
        ),
        (
            "/entityTypes/{type}/entities/{id}",
            counted(
                get(entities::get)
                    .patch(entities::patch)
                    .delete(entities::delete),
            ),
        ),
        (
            "/entityTypes/{type}/entities:updateEntitiesWithConditions",
            counted(post(entities::update_with_conditions)),
        ),
        (
            "/entityTypes/{type}/entities:deleteEntitiesWithConditions",
            counted(post(entities::delete_with_conditions)),
        ),
        ("/actions", get(metadata::actions)),
        // `{action}:execute` is one path segment; matchit has no suffix patterns, so the handler
        // splits the verb off.
        (
            "/actions/{action}",
            get(metadata::action).merge(counted(post(actions::execute))),
        ),
        ("/tools", get(tools::list).post(tools::list_post)),
        ("/tools/{tool}", counted(post(tools::execute))),
        ("/resources", get(connection::resources)),
        (
            "/resources/{*resource}",
            get(connection::resources).post(connection::resources),
        ),
    ];
    let mut router = Router::new();
    for (suffix, method) in below_connection {
        router = router
            .route(&format!("{CONNECTION}{suffix}"), method.clone())
            .route(&format!("/v2{suffix}"), method);
    }
    let verbs = counted(get(connection::get_verb).post(connection::post_verb));
    router = router.route(CONNECTION, verbs);
    for verb in GET_VERBS {
        router = router.route(&format!("/v2:{verb}"), counted(get(connection::get_verb)));
    }
    for verb in POST_VERBS {
        router = router.route(&format!("/v2:{verb}"), counted(post(connection::post_verb)));
    }
    router
        .route("/v2/openapi.json", get(openapi::serve))
        .route_layer(from_fn_with_state(state.clone(), served_connection))
}

/// A method under another connection's name is 404, whatever the method.
async fn served_connection(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Ok(params) = parts.extract::<RawPathParams>().await
        && let Some((_, segment)) = params.iter().find(|(k, _)| *k == "connection")
    {
        let connection = segment.split(':').next().unwrap_or_default();
        if let Err(e) = extract::check_connection(connection, &state.config.connection_name) {
            return e.into_response();
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Counts calls by entity type, action, tool or connection method and HTTP status
/// (`stripe_connector_calls_total`). Throttled calls count too, with status 429: the metric
/// tells what callers were answered, and the limiter's own metrics do not say which entity or
/// action was refused.
async fn count_calls(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let (kind, name) = match parts.extract::<RawPathParams>().await {
        Ok(params) => call_name(&params, parts.uri.path()),
        Err(_) => ("other", "unknown"),
    };
    let response = next.run(Request::from_parts(parts, body)).await;
    state
        .metrics
        .calls
        .get_or_create(&CallLabels {
            kind: kind.to_string(),
            name: name.to_string(),
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// The catalog name a call is about; unknown names collapse to `unknown` to bound label values.
fn call_name(params: &RawPathParams, path: &str) -> (&'static str, &'static str) {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.split(':').collect::<Vec<_>>())
    };
    let known = |verb: Option<&str>| {
        GET_VERBS
            .iter()
            .chain(POST_VERBS)
            .find(|v| Some(**v) == verb)
            .copied()
            .unwrap_or("unknown")
    };
    if let Some(t) = param("type") {
        return (
            "entity",
            crate::catalog::entity(t[0]).map_or("unknown", |e| e.name),
        );
    }
    if let Some(a) = param("action") {
        return (
            "action",
            crate::catalog::action(a[0]).map_or("unknown", |a| a.name),
        );
    }
    if let Some(t) = param("tool") {
        let tool = tools::all().iter().find(|tool| tool.name == t[0]);
        return ("tool", tool.map_or("unknown", |t| t.name.as_str()));
    }
    match param("connection") {
        Some(c) => ("connection", known(c.get(1).copied())),
        None => ("connection", known(path.strip_prefix("/v2:"))),
    }
}

/// The caller's own `Idempotency-Key`, passed on to Stripe.
fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_string()))
}
